"""Standardization of Chinese diagnosis / procedure terms to the standard names of an edition:
split a list, fold shorthand to book wording, retrieve by character n-gram BM25, rerank by
fuzzy similarity."""

from __future__ import annotations

import re
from functools import cache

import ahocorasick
from rapidfuzz import fuzz

from chartcoder.codesystems import CodeSystem, get_system
from chartcoder.codesystems.store import data_path
from chartcoder.codesystems.text import to_halfwidth
from chartcoder.codesystems.tsv import read_tsv
from chartcoder.rules import load_rules

SPLIT = re.compile(r"(?<![\d.])\d{1,2}\s*[.、．)）](?!\d(?![型级期]))\s*|[;；,，、。\n]+|\s{2,}")
MIN_SCORE = 55.0


def split_terms(text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of each item of a diagnosis list such as '1.冠心病2.高血压病（3级，很高危）';
    separators inside parentheses belong to the item."""
    depth, inside = 0, set()
    for i, ch in enumerate(text):
        depth += ch in "（(["
        if depth > 0:
            inside.add(i)
        depth = max(0, depth - (ch in "）)]"))
    out = []
    pos = 0
    for m in SPLIT.finditer(text + "\n"):
        if m.start() in inside:
            continue
        if m.start() > pos:
            term = text[pos : m.start()].strip()
            if term and not re.fullmatch(r"[\d\s.、]+", term):
                start = text.index(term, pos)
                out.append((start, start + len(term), term))
        pos = max(pos, m.end())
    return out


def fold(term: str, learned: bool = False) -> str:
    """Half-width, shorthand replaced by book wording (curated; plus the table learned from CHIP-CDN,
    whose targets are Beijing v601 names, when ``learned``)."""
    t = to_halfwidth(term)
    table = dict(load_rules("zh", "learned_synonyms")) if learned else {}
    table.update(load_rules("zh", "synonyms"))
    for short, long in sorted(table.items(), key=lambda kv: -len(kv[0])):
        if not short.startswith("_") and short in t and long not in t:
            t = t.replace(short, long)
    return t


_GRADE = {"1": "1", "2": "2", "3": "3", "一": "1", "二": "2", "三": "3", "I": "1", "II": "2", "III": "3",
          "Ⅰ": "1", "Ⅱ": "2", "Ⅲ": "3"}
HYPERTENSION = re.compile(
    r"高血压病?\s*\(?\s*(III|II|I|[123一二三ⅠⅡⅢ])\s*级\s*[,、]?\s*\(?\s*(很高危|极高危|高危|中危|低危)?\s*\)?")


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """``fold`` that also says, for each folded character, which character of ``text`` it came from."""
    t = to_halfwidth(text)
    pairs = sorted(load_rules("zh", "synonyms").items(), key=lambda kv: -len(kv[0]))
    pairs = [(a, b) for a, b in pairs if not a.startswith("_")]
    inside_long: dict[str, set[int]] = {}
    for short, long in pairs:
        if short in t:  # a short form inside its own long form ('房颤' in '心房颤动') is not shorthand
            inside_long[short] = {j for m in re.finditer(re.escape(long), t) for j in range(m.start(), m.end())}
    out, where, i = [], [], 0
    while i < len(t):
        for short, long in pairs:
            if t.startswith(short, i) and i not in inside_long.get(short, ()):
                out.append(long)
                where += [i + min(j * len(short) // len(long), len(short) - 1) for j in range(len(long))]
                i += len(short)
                break
        else:
            out.append(t[i])
            where.append(i)
            i += 1
    return "".join(out), where


@cache
def standard_names(system_id: str) -> tuple[ahocorasick.Automaton, dict[str, str]]:
    """Every standard name (two characters or more) of an edition, for literal segmentation."""
    auto = ahocorasick.Automaton()
    by_name: dict[str, str] = {}
    for code, title in get_system(system_id).iter_codes():
        t = to_halfwidth(title)
        if len(t) >= 2 and (t not in by_name or len(code) < len(by_name[t])):
            by_name[t] = code
    for t, code in by_name.items():
        auto.add_word(t, (code, t))
    auto.make_automaton()
    return auto, by_name


def segment(term: str, cs: CodeSystem) -> tuple[list[tuple[int, int, str, str]], float]:
    """Standard names written literally in a list item ('冠状动脉粥样硬化性心脏病不稳定型心绞痛' holds two),
    hypertension grade and risk read into the extension that says so; and the share of the item covered.
    Offsets index ``term``."""
    folded, where = fold_with_map(term)
    auto, by_name = standard_names(cs.id)
    pieces: list[tuple[int, int, str, str]] = []
    for m in HYPERTENSION.finditer(folded):
        grade, risk = _GRADE[m.group(1)], (m.group(2) or "").replace("很高危", "极高危")
        for name in ([f"高血压病{grade}级({risk})"] if risk else []) + [f"高血压{grade}级"]:
            if name in by_name:
                pieces.append((m.start(), m.end(), by_name[name], name))
                break
    for entry in load_rules("zh", "findings")["findings"]:
        code = by_name.get(entry["name"])
        for m in re.finditer(entry["pattern"], folded) if code else ():
            if all(m.end() <= ps or m.start() >= pe for ps, pe, _, _ in pieces):
                pieces.append((m.start(), m.end(), code, entry["name"]))
    found = sorted(((end - len(name) + 1, end + 1, code, name) for end, (code, name) in auto.iter(folded)),
                   key=lambda x: (-(x[1] - x[0]), x[0]))
    for s, e, code, name in found:
        if all(e <= ps or s >= pe for ps, pe, _, _ in pieces):
            pieces.append((s, e, code, name))
    pieces.sort()
    cjk = sum(1 for ch in folded if "\u4e00" <= ch <= "\u9fff") or 1
    covered = sum(sum(1 for ch in folded[s:e] if "\u4e00" <= ch <= "\u9fff") for s, e, _, _ in pieces)
    mapped = [(where[s], where[e - 1] + 1, code, cs.title(code) or name) for s, e, code, name in pieces]
    return mapped, covered / cjk


def standardize(term: str, cs: CodeSystem, k: int = 20) -> list[tuple[str, str, float]]:
    """Ranked (code, standard name, score 0-100) for one term."""
    q = fold(term, learned=cs.id == "cn-beijing-v601")
    q_plain = re.sub(r"[（(].*?[)）]", "", q)
    try:
        hits = cs.search(q, k, billable_only=True)
    except Exception:  # noqa: BLE001 - an unsearchable term has no candidates
        return []
    ranked = []
    for h in hits:
        title = to_halfwidth(h.title)
        # a name inside the term counts ('高血压' in '高血压病史'); the term inside a longer name does not
        # ('乙肝病毒携带' is not '乙型肝炎病毒携带者的急性δ因子感染')
        inside = fuzz.partial_ratio(title, q) * 0.9 if 4 <= len(title) <= len(q) else 0
        s = max(fuzz.ratio(q, title), fuzz.ratio(q_plain, title) * 0.98, inside)
        ranked.append((h.code, h.title, round(s, 1)))
    ranked.sort(key=lambda x: -x[2])
    return ranked


@cache
def _chip2019_names() -> dict[str, str]:
    return {r["code"].upper(): r["name"] for r in read_tsv(data_path("cn_icd9cm3_chip2019.tsv.gz"))}


VARIANT_MIN_SIMILARITY = 90


@cache
def _variants() -> tuple[list[str], list[list[str]]]:
    """Raw procedure names and their standard names from the CHIP2019 train split (rules/zh/README)."""
    import gzip
    from importlib import resources

    raw, std = [], []
    with resources.files("chartcoder.rules").joinpath("zh", "chip2019_train_variants.tsv.gz").open("rb") as fh:
        for line in gzip.decompress(fh.read()).decode("utf-8").splitlines()[1:]:
            a, _, b = line.partition("\t")
            raw.append(to_halfwidth(a))
            std.append([n for n in b.split("##") if n])
    return raw, std


def _known_variant(text: str) -> list[str]:
    """The standard names of the most similar raw name seen in training, when it is nearly the same text."""
    from rapidfuzz import process

    raw, std = _variants()
    hit = process.extractOne(to_halfwidth(text), raw, scorer=fuzz.ratio, score_cutoff=VARIANT_MIN_SIMILARITY)
    return std[hit[2]] if hit else []


def normalize_names(text: str, system: str) -> list[str]:
    """Standard names for a raw string (CHIP-CDN: Beijing v601; CHIP2019: the ICD-9-CM-3 list)."""
    names: list[str] = []
    if system == "chip2019":
        known = _known_variant(text)
        if known:
            return known
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
