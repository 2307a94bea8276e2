"""Two-fold cross-validation on the CodiEsp *train* split: how rule and threshold changes are chosen
without looking at dev.

Everything learned from train is learned on one half and the coder is scored on the other half, then
the halves swap; the micro P/R/F1 of both halves together is printed: the phrase dictionary
(``learn_terms.py``, the lexicons are rebuilt per half) and the path, reading and code statistics
(``learn_term_stats.py``). ``--shipped-terms`` keeps the shipped phrase dictionary, learned from all of
train (faster, but optimistic by the dictionary's share).

    python scripts/cv_codiesp_train.py ../shared/data/codiesp/train [--shipped-terms] [--dump FILE]

``--dump FILE`` writes each held-out note's gold and predicted codes as JSON lines, for counting which
codes the coder misses or invents most without looking at dev, with each diagnosis's evidence
offsets and the rejected diagnosis candidates with their reasons.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from learn_term_stats import code_all, learn
from learn_terms import learn_terms, originals

from chartcoder.codesystems import get_system
from chartcoder.eval import metrics as M
from chartcoder.eval.datasets import read_codiesp
from chartcoder.eval.run import align_to_gold, as_annotated
from chartcoder.stages import learned, lexicon


def offsets(evidence: list) -> list[list[int]]:
    """[start, end] of each evidence span, as the dump writes them."""
    return [[e.start, e.end] for e in evidence]


def features(state, assignment) -> dict:
    """What the coder knew of a code it assigned, for sorting its errors: confidence, source, the
    sections and assertions of its mentions."""
    mentions = {m.id: m for m in state.mentions}
    group = state.scratch["groups"].get((assignment.type, assignment.code), [])
    found = [mentions[c.mention_id] for c in group if c.mention_id in mentions]
    return {"confidence": assignment.confidence, "source": assignment.source, "mentions": len(found),
            "sections": sorted({m.section for m in found}),
            "uncertain": any(m.assertion.uncertain for m in found),
            "historical": any(m.assertion.historical for m in found)}


def use(paths: dict, readings: dict, codes: dict) -> None:
    learned.term_stats = lambda: paths
    learned.reading_stats = lambda: readings
    learned.code_stats = lambda: codes


def use_learned_terms(entries: list[dict] | None) -> None:
    """Build the lexicons with these learned phrase entries (None: the shipped file)."""
    if not hasattr(lexicon, "_shipped_entries"):
        lexicon._shipped_entries = lexicon.learned_entries
    lexicon.learned_entries = lexicon._shipped_entries if entries is None else (lambda: entries)
    lexicon._rules_digest.cache_clear()


def main() -> None:
    split = Path(sys.argv[1])
    if split.name != "train":
        raise SystemExit("cross-validate on the train split only")
    per_fold_terms = "--shipped-terms" not in sys.argv
    valid = get_system("icd10cm").is_valid
    docs = read_codiesp(split).documents
    dump = Path(sys.argv[sys.argv.index("--dump") + 1]) if "--dump" in sys.argv else None
    dumped: list[str] = []
    counts: Counter[str] = Counter()
    states = None
    spanish = originals(split) if per_fold_terms else {}  # the Spanish originals only teach the phrases
    for fold in (0, 1):
        train_half = [d for i, d in enumerate(docs) if i % 2 != fold]
        use({}, {}, {})
        if per_fold_terms:
            use_learned_terms(learn_terms(train_half, spanish))
            states = code_all(train_half)
        elif states is None:
            states = code_all(docs)
        use(*learn(states if per_fold_terms else [s for i, s in enumerate(states) if i % 2 != fold], valid))
        for doc, state in code_all(docs[fold::2]):
            dx = [a.code for a in state.assignments if a.type == "diagnosis"]
            px = [(a.code, a.determined) for a in state.assignments if a.type == "procedure"]
            pred_dx = align_to_gold(doc.gold.diagnoses, dx, valid)
            pred_px = as_annotated(doc.gold.procedures, px)
            if dump:  # each diagnosis as scored (edition-aligned), with its path and its evidence
                scored = [(align_to_gold(doc.gold.diagnoses, [a.code], valid)[0], a)
                          for a in state.assignments if a.type == "diagnosis"]
                dumped.append(json.dumps({"doc": doc.doc_id, "gold_dx": doc.gold.diagnoses, "pred_dx": pred_dx,
                                          "gold_px": doc.gold.procedures, "pred_px": pred_px,
                                          "dx_paths": [[c, a.path[0]] for c, a in scored],
                                          "dx_spans": [[c, offsets(a.evidence)] for c, a in scored],
                                          "dx_feats": [[c, features(state, a)] for c, a in scored],
                                          "rejected_dx": [[r.code, r.reason, offsets(r.evidence)]
                                                          for r in state.rejected if r.system == "icd10cm"],
                                          "px_spans": [[as_annotated(doc.gold.procedures, [(a.code, a.determined)])[0],
                                                        a.path[0], offsets(a.evidence)]
                                                       for a in state.assignments if a.type == "procedure"],
                                          "rejected_px": [[r.code, r.reason, offsets(r.evidence)]
                                                          for r in state.rejected if r.system != "icd10cm"]}))
            for kind, gold, pred in (("diagnoses", doc.gold.diagnoses, pred_dx),
                                     ("procedures as annotated", doc.gold.procedures, pred_px)):
                tp, n_pred, n_gold = M.match_counts(gold, list(dict.fromkeys(pred)), M.exact)
                counts[kind + " tp"] += tp
                counts[kind + " pred"] += n_pred
                counts[kind + " gold"] += n_gold
    use_learned_terms(None)
    if dump:
        dump.write_text("".join(line + "\n" for line in dumped))
    for kind in ("diagnoses", "procedures as annotated"):
        s = M.prf(counts[kind + " tp"], counts[kind + " pred"], counts[kind + " gold"])
        print(f"{kind}: P {s['precision']:.4f} R {s['recall']:.4f} F1 {s['f1']:.4f}")


if __name__ == "__main__":
    main()
