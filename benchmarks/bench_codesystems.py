"""Code-system store: first build time per edition, then cold process start + first lookup.

    python benchmarks/bench_codesystems.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

SYSTEMS = ["icd10cm", "icd10pcs", "icd9cm3", "cn-clinical-dx", "cn-clinical-px", "cn-beijing-v601"]
PROBE = {"icd10cm": "E11.9", "icd10pcs": "0DTJ4ZZ", "icd9cm3": "36.06", "cn-clinical-dx": "I25.103",
         "cn-clinical-px": "36.0700", "cn-beijing-v601": "I25.1"}


def main() -> None:
    cache = tempfile.mkdtemp(prefix="chartcoder-bench-")
    env = {**os.environ, "CHARTCODER_CACHE_DIR": cache}
    os.environ["CHARTCODER_CACHE_DIR"] = cache
    from chartcoder.codesystems import get_system

    print(f"{'system':16} {'first build':>12} {'cold start+lookup':>18} {'search':>9}")
    total = 0.0
    for sid in SYSTEMS:
        t = time.perf_counter()
        cs = get_system(sid)
        build = time.perf_counter() - t
        total += build
        code = (
            "import time;t=time.perf_counter();from chartcoder.codesystems import get_system;"
            f"cs=get_system('{sid}');cs.get('{PROBE[sid]}');print(time.perf_counter()-t)"
        )
        t = time.perf_counter()
        inner = float(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                     check=True).stdout)
        wall = time.perf_counter() - t
        t = time.perf_counter()
        for q in ["heart failure", "冠状动脉粥样硬化", "fracture of femur", "支架置入"]:
            cs.search(q, 10)
        search = (time.perf_counter() - t) / 4
        print(f"{sid:16} {build:10.2f} s {wall:10.2f} s ({inner:.2f} in-proc) {search * 1000:6.1f} ms")
    print(f"{'all':16} {total:10.2f} s")


if __name__ == "__main__":
    main()
