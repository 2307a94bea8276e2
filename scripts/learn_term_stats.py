"""Learn how often each lexicon path leads to a gold code, on the CodiEsp *train* split only.

Writes ``src/chartcoder/rules/en/term_stats.json``: path -> [times assigned, times correct].
The coder drops paths that are usually wrong and uses the rate as confidence. Never run this on
dev or test data.

    python scripts/learn_term_stats.py ../shared/data/codiesp/train
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from chartcoder.codesystems import get_system
from chartcoder.eval.datasets import read_codiesp
from chartcoder.eval.run import align_to_gold, run_documents

OUT = Path(__file__).resolve().parents[1] / "src" / "chartcoder" / "rules" / "en" / "term_stats.json"


def main() -> None:
    split = Path(sys.argv[1])
    if split.name != "train":
        raise SystemExit("learn only from the train split")
    OUT.write_text(json.dumps({"_about": "empty while learning"}), "utf-8")
    from chartcoder.stages import learned

    learned.term_stats.cache_clear()
    dataset = read_codiesp(split)
    valid = get_system("icd10cm").is_valid
    stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for o in run_documents(dataset):
        if o.result is None:
            continue
        gold = set(o.doc.gold.diagnoses) | set(o.doc.gold.procedures)
        for a in o.result.codes:
            key = a.path[0]
            stats[key][0] += 1
            # the same matching as the evaluation: partial PCS gold, and 2018 codes split since then
            # (R51 -> R51.9) or written without their 7th character
            aligned = align_to_gold(sorted(gold), [a.code], valid)[0] if a.type == "diagnosis" else a.code
            stats[key][1] += aligned in gold or (a.type == "procedure" and any(a.code.startswith(g) for g in gold))
    data = {"_about": "Learned on the CodiEsp train split by scripts/learn_term_stats.py: path -> [assigned, correct]."}
    data |= {k: v for k, v in sorted(stats.items())}
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=0), "utf-8")
    print(f"{len(stats)} paths written to {OUT}")


if __name__ == "__main__":
    main()
