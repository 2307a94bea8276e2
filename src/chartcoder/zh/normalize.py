"""Standardization of Chinese diagnosis / procedure terms to the standard names of an edition:
split a list, fold shorthand to book wording, retrieve by character n-gram BM25, rerank by
fuzzy similarity."""

from __future__ import annotations

import re
from functools import cache

from rapidfuzz import fuzz

from chartcoder.codesystems import CodeSystem, get_system
from chartcoder.codesystems.store import data_path
from chartcoder.codesystems.text import to_halfwidth
from chartcoder.codesystems.tsv import read_tsv
from chartcoder.rules import load_rules

SPLIT = re.compile(r"(?<![\d.])\d{1,2}\s*[.、．)）](?!\d)\s*|[;；,，、。\n]+|\s{2,}")
MIN_SCORE = 55.0


def split_terms(text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of each item of a diagnosis list such as '1.冠心病2.高血压病（3级很高危）'."""
    out = []
    pos = 0
    for m in SPLIT.finditer(text + "\n"):
        if m.start() > pos:
            term = text[pos : m.start()].strip()
            if term and not re.fullmatch(r"[\d\s.、]+", term):
                start = text.index(term, pos)
                out.append((start, start + len(term), term))
        pos = max(pos, m.end())
    return out


def fold(term: str) -> str:
    """Half-width, shorthand replaced by book wording."""
    t = to_halfwidth(term)
    for short, long in sorted(load_rules("zh", "synonyms").items(), key=lambda kv: -len(kv[0])):
        if short in t and long not in t:
            t = t.replace(short, long)
    return t


def standardize(term: str, cs: CodeSystem, k: int = 20) -> list[tuple[str, str, float]]:
    """Ranked (code, standard name, score 0-100) for one term."""
    q = fold(term)
    q_plain = re.sub(r"[（(].*?[)）]", "", q)
    try:
        hits = cs.search(q, k, billable_only=True)
    except Exception:  # noqa: BLE001 - an unsearchable term has no candidates
        return []
    ranked = []
    for h in hits:
        title = to_halfwidth(h.title)
        s = max(fuzz.ratio(q, title), fuzz.ratio(q_plain, title) * 0.98, fuzz.partial_ratio(title, q) * 0.9
                if len(title) >= 4 else 0)
        ranked.append((h.code, h.title, round(s, 1)))
    ranked.sort(key=lambda x: -x[2])
    return ranked


@cache
def _chip2019_names() -> dict[str, str]:
    return {r["code"].upper(): r["name"] for r in read_tsv(data_path("cn_icd9cm3_chip2019.tsv.gz"))}


def normalize_names(text: str, system: str) -> list[str]:
    """Standard names for a raw string (CHIP-CDN: Beijing v601; CHIP2019: the ICD-9-CM-3 list)."""
    names: list[str] = []
    if system == "chip2019":
        cs = get_system("cn-clinical-px")
        chip = _chip2019_names()
        for _, _, term in split_terms(text) or [(0, len(text), text)]:
            for code, _title, score in standardize(term, cs):
                name = chip.get(code) or chip.get(code[:7]) or chip.get(code[:5])
                if score >= MIN_SCORE and name:
                    names.append(name)
                    break
        return list(dict.fromkeys(names))
    cs = get_system(system)
    for _, _, term in split_terms(text) or [(0, len(text), text)]:
        best = standardize(term, cs)
        if best and best[0][2] >= MIN_SCORE:
            names.append(best[0][1])
    return list(dict.fromkeys(names))
