"""Two-fold cross-validation on the CodiEsp *train* split: how rule and threshold changes are chosen
without looking at dev.

The path, reading and code statistics (``learn_term_stats.py``) are learned on one half of train and
the coder is scored on the other half, then the halves swap; the micro P/R/F1 of both halves together
is printed. (The learned phrase -> code entries, ``learned_terms.json``, come from all of train, so
they are seen by both halves: the figure is optimistic by their share.)

    python scripts/cv_codiesp_train.py ../shared/data/codiesp/train
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from learn_term_stats import code_all, learn

from chartcoder.codesystems import get_system
from chartcoder.eval import metrics as M
from chartcoder.eval.datasets import read_codiesp
from chartcoder.eval.run import align_procedures_to_gold, align_to_gold
from chartcoder.stages import learned


def use(paths: dict, readings: dict, codes: dict) -> None:
    learned.term_stats = lambda: paths
    learned.reading_stats = lambda: readings
    learned.code_stats = lambda: codes


def main() -> None:
    split = Path(sys.argv[1])
    if split.name != "train":
        raise SystemExit("cross-validate on the train split only")
    valid = get_system("icd10cm").is_valid
    docs = read_codiesp(split).documents
    use({}, {}, {})
    states = code_all(docs)
    counts: Counter[str] = Counter()
    for fold in (0, 1):
        use(*learn([s for i, s in enumerate(states) if i % 2 != fold], valid))
        for doc, state in code_all(docs[fold::2]):
            dx = [a.code for a in state.assignments if a.type == "diagnosis"]
            px = [a.determined or a.code for a in state.assignments if a.type == "procedure"]
            for kind, gold, pred in (("diagnoses", doc.gold.diagnoses, align_to_gold(doc.gold.diagnoses, dx, valid)),
                                     ("procedures as annotated", doc.gold.procedures,
                                      align_procedures_to_gold(doc.gold.procedures, px))):
                tp, n_pred, n_gold = M.match_counts(gold, list(dict.fromkeys(pred)), M.exact)
                counts[kind + " tp"] += tp
                counts[kind + " pred"] += n_pred
                counts[kind + " gold"] += n_gold
    for kind in ("diagnoses", "procedures as annotated"):
        s = M.prf(counts[kind + " tp"], counts[kind + " pred"], counts[kind + " gold"])
        print(f"{kind}: P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f}")


if __name__ == "__main__":
    main()
