"""Error analysis on a CodiEsp split: each missed gold code with the place in the English note where its
Spanish gold span went (``chartcoder.eval.parallel`` aligns the two texts sentence by sentence), and
each false code with its evidence, so one sees what the coder read and what it missed. Read-only: it
learns nothing and is meant for the train split (tuning on dev would leak it).

    python scripts/codiesp_errors.py ../shared/data/codiesp/train [--kind diagnoses|procedures] [--sample 40] [--seed 0]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from chartcoder.coder import code
from chartcoder.codesystems import get_system
from chartcoder.eval.datasets import read_codiesp
from chartcoder.eval.parallel import align, translated_span
from chartcoder.eval.run import align_to_gold, as_annotated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("split", type=Path)
    ap.add_argument("--kind", choices=("diagnoses", "procedures"), default="diagnoses")
    ap.add_argument("--sample", type=int, default=40, help="documents to look at")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    docs = read_codiesp(args.split).documents
    random.Random(args.seed).shuffle(docs)
    valid = get_system("icd10cm").is_valid
    for doc in docs[: args.sample]:
        result = code(doc.case().text, scope=doc.case().scope)
        if args.kind == "diagnoses":
            gold = doc.gold.diagnoses
            pred = set(align_to_gold(gold, result.diagnoses(), valid))
            assigned = [a for a in result.codes if a.type == "diagnosis"]
        else:
            gold = doc.gold.procedures
            pred = set(as_annotated(gold, [(a.code, a.determined) for a in result.codes if a.type == "procedure"]))
            assigned = [a for a in result.codes if a.type == "procedure"]
        original = args.split / "text_files" / f"{doc.doc_id}.txt"
        beads = align(original.read_text("utf-8"), doc.text) if original.exists() else []
        rejected = {r.code: r.reason for r in result.rejected}
        for missed in sorted(set(gold) - pred):
            for start, end in doc.gold.spans.get(missed, [])[:1]:
                where = translated_span(beads, start, end)
                context = doc.text[where[0] : where[1]].replace("\n", " ") if where else "?"
                print(f"MISSED {doc.doc_id} {missed} [{rejected.get(missed, 'not found')}]: ...{context}...")
        for a in assigned:
            shown = align_to_gold(gold, [a.code], valid)[0] if args.kind == "diagnoses" \
                else as_annotated(gold, [(a.code, a.determined)])[0]
            if shown in gold:
                continue
            ev = a.evidence[0]
            context = doc.text[max(0, ev.start - 60) : ev.end + 30].replace("\n", " ")
            print(f"FALSE  {doc.doc_id} {shown} ({a.path[0][:60]}): ...{context}...")


if __name__ == "__main__":
    main()
