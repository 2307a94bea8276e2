"""Deterministic English coder speed on real notes: notes per second on one core, after start-up.

    python benchmarks/bench_coder.py ../shared/data/codiesp/dev/text_files_en [N]
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path


def main() -> None:
    folder = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    notes = [p.read_text("utf-8") for p in sorted(folder.glob("*.txt"))[:n]]
    t = time.perf_counter()
    from chartcoder.coder import code

    code(notes[0])
    print(f"start-up (imports, stores, lexicons, first note): {time.perf_counter() - t:.2f} s")
    times = []
    t = time.perf_counter()
    for note in notes:
        s = time.perf_counter()
        code(note)
        times.append(time.perf_counter() - s)
    wall = time.perf_counter() - t
    chars = sum(map(len, notes)) / len(notes)
    print(f"{len(notes)} notes (mean {chars:,.0f} chars): {len(notes) / wall:.1f} notes/s on one process; "
          f"median {statistics.median(times) * 1000:.1f} ms, p95 {sorted(times)[int(0.95 * len(times)) - 1] * 1000:.1f} ms")


if __name__ == "__main__":
    main()
