"""Learn how often each lexicon path leads to a gold code, on the CodiEsp *train* split only.

Writes three files under ``src/chartcoder/rules/en/``:

- ``term_stats.json``: path -> [times assigned, times correct], for the codes the coder assigned.
  The coder sets aside paths that are usually wrong and uses the rate as confidence.
- ``code_stats.json``: code -> [times assigned, times correct], whichever path led to it; a path
  seen too rarely to judge is set aside when its code was usually wrong.
- ``reading_stats.json``: path -> [times matched, times right, times hidden, times right when hidden],
  for every reading of an affirmed mention, chosen or not, and apart for when a longer reading of the
  mention covered its words. Locate prefers a reading of fewer words when it was clearly more often
  right than the one chosen ("Pain" over "Pain, scrotum" where the annotators kept to the first).

All are learned with the stats files emptied, so no earlier learning shapes what is counted.
Never run this on dev or test data.

    python scripts/learn_term_stats.py ../shared/data/codiesp/train
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from chartcoder.coder import english_pipeline
from chartcoder.codesystems import get_system
from chartcoder.eval.datasets import Document, read_codiesp
from chartcoder.eval.run import align_procedures_to_gold, align_to_gold
from chartcoder.pipeline import CaseState

RULES = Path(__file__).resolve().parents[1] / "src" / "chartcoder" / "rules" / "en"
OUT = RULES / "term_stats.json"
CODES = RULES / "code_stats.json"
READINGS = RULES / "reading_stats.json"

Stats = dict[str, list[int]]


def code_all(docs: list[Document]) -> list[tuple[Document, CaseState]]:
    """Run the English pipeline and keep each document's final state (assignments and readings)."""
    pipeline = english_pipeline(True)
    out = []
    for doc in docs:
        case = doc.case()
        out.append((doc, pipeline.run(CaseState(case=case, text=case.text, scratch={"readings": []}))))
    return out


def learn(states: list[tuple[Document, CaseState]], valid: Callable[[str], bool]) -> tuple[Stats, Stats, Stats]:
    """(path stats, reading stats, code stats) from coded documents and their gold."""
    paths: Stats = defaultdict(lambda: [0, 0])
    codes: Stats = defaultdict(lambda: [0, 0])
    readings: Stats = defaultdict(lambda: [0, 0, 0, 0])
    for doc, state in states:
        gold = set(doc.gold.diagnoses) | set(doc.gold.procedures)
        for a in state.assignments:
            # the same matching as the evaluation: partial PCS gold, and 2018 codes split since then
            # (R51 -> R51.9) or written without their 7th character
            aligned = align_to_gold(sorted(gold), [a.code], valid)[0] if a.type == "diagnosis" \
                else align_procedures_to_gold(sorted(gold), [a.code])[0]
            right = aligned in gold or (a.type == "procedure" and any(aligned.startswith(g) for g in gold))
            for table, key in ((paths, a.path[0]), (codes, a.code)):
                table[key][0] += 1
                table[key][1] += right
        mentions = {m.id: m for m in state.mentions}
        seen: set[tuple[int, str]] = set()
        for mention_id, path, code, hidden in state.scratch.get("readings", []):
            mention = mentions[mention_id]
            if mention.assertion.blocking(state.case.setting, mention.type, state.case.scope) or (mention_id, path) in seen:
                continue
            seen.add((mention_id, path))
            right = _right(code, gold, mention.type, valid)
            readings[path][0] += 1
            readings[path][1] += right
            if hidden:  # a longer reading of the mention covered its words
                readings[path][2] += 1
                readings[path][3] += right
    return dict(paths), dict(readings), dict(codes)


def _right(code: str, gold: set[str], kind: str, valid: Callable[[str], bool]) -> bool:
    """A reading's code (maybe still incomplete) is right when a gold code is it, refines it, or is the
    older-edition code it refines."""
    if kind == "diagnosis" and align_to_gold(sorted(gold), [code], valid)[0] in gold:
        return True
    if kind == "procedure":
        code = align_procedures_to_gold(sorted(gold), [code])[0]
    return code in gold or any(g.startswith(code) or code.startswith(g) for g in gold)


def main() -> None:
    split = Path(sys.argv[1])
    if split.name != "train":
        raise SystemExit("learn only from the train split")
    for path in (OUT, READINGS, CODES):
        path.write_text(json.dumps({"_about": "empty while learning"}), "utf-8")
    from chartcoder.stages import learned

    for table in (learned.term_stats, learned.reading_stats, learned.code_stats):
        table.cache_clear()
    valid = get_system("icd10cm").is_valid
    paths, readings, codes = learn(code_all(read_codiesp(split).documents), valid)
    about = "Learned on the CodiEsp train split by scripts/learn_term_stats.py: "
    for out, what, table in ((OUT, "path -> [assigned, correct].", paths),
                             (CODES, "code -> [assigned, correct].", codes),
                             (READINGS, "reading path -> [matched in an affirmed mention, right, hidden by a longer reading, right then].",
                              {k: v for k, v in readings.items() if v[0] >= 3})):
        out.write_text(json.dumps({"_about": about + what} | dict(sorted(table.items())), ensure_ascii=False, indent=0),
                       "utf-8")
    print(f"{len(paths)} paths, {len(codes)} codes, {len(readings)} readings written to {RULES}")


if __name__ == "__main__":
    main()
