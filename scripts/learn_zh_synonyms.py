"""Learn Chinese shorthand -> standard wording from CHIP-CDN train pairs (raw diagnosis -> normalized
names): where a raw term and its name differ only in a middle part ('慢支' vs '慢性支气管炎' around a
shared prefix/suffix), or a short raw term is wholly renamed, the pair is counted; pairs seen at least
MIN_COUNT times that their short form maps to consistently become entries of
``src/chartcoder/rules/zh/learned_synonyms.json`` (the hand-curated ``synonyms.json`` wins on conflict).

Only the first 5,000 examples are used, so the last 1,000 stay held out for `chartcoder eval chip-cdn`.

    python scripts/learn_zh_synonyms.py ../shared/data/chip-cdn/CHIP-CDN_train.json
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from rapidfuzz import fuzz

from chartcoder.codesystems.text import to_halfwidth
from chartcoder.zh.normalize import split_terms

OUT = Path(__file__).resolve().parents[1] / "src" / "chartcoder" / "rules" / "zh" / "learned_synonyms.json"
TRAIN_EXAMPLES = 5000
MIN_COUNT = 3
MIN_CONSISTENCY = 0.7


def substitution(raw: str, name: str) -> tuple[str, str] | None:
    """(short, long) when raw and name differ only in a middle part, or a short raw is wholly renamed."""
    if raw == name:
        return None
    p = 0
    while p < min(len(raw), len(name)) and raw[p] == name[p]:
        p += 1
    s = 0
    while s < min(len(raw), len(name)) - p and raw[-1 - s] == name[-1 - s]:
        s += 1
    a, b = raw[p : len(raw) - s], name[p : len(name) - s]
    if not a or not b or len(a) > 4 or len(b) > 8 or any(ch.isdigit() for ch in a + b):
        return None
    if p + s == 0 and len(raw) > 6:
        return None
    return a, b


def main() -> None:
    data = json.loads(Path(sys.argv[1]).read_text("utf-8"))[:TRAIN_EXAMPLES]
    pairs: Counter[tuple[str, str]] = Counter()
    for example in data:
        names = [to_halfwidth(n) for n in example["normalized_result"].split("##") if n]
        for _, _, term in split_terms(to_halfwidth(example["text"])):
            best = max(names, key=lambda n: fuzz.ratio(term, n), default=None)
            if best and fuzz.ratio(term, best) >= 50:
                sub = substitution(term, best)
                if sub:
                    pairs[sub] += 1
    by_short: dict[str, Counter[str]] = defaultdict(Counter)
    for (a, b), n in pairs.items():
        by_short[a][b] += n
    learned = {}
    for a, longs in by_short.items():
        b, n = longs.most_common(1)[0]
        if n >= MIN_COUNT and n / sum(longs.values()) >= MIN_CONSISTENCY and a not in b:
            learned[a] = b
    OUT.write_text(json.dumps({"_about": f"Learned from the first {TRAIN_EXAMPLES} CHIP-CDN train pairs by "
                                         "scripts/learn_zh_synonyms.py (min count 3, consistency 0.7).", **learned},
                              ensure_ascii=False, indent=0), "utf-8")
    print(f"{len(learned)} learned synonyms written to {OUT}")


if __name__ == "__main__":
    main()
