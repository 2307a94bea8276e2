"""Verify: check candidates against the Tabular List and the table rows.

* a category or subcategory is carried down to the billable code the text supports (laterality
  and other words of the sentence choose the child; unspecified only when nothing else fits);
* a code that needs a 7th character gets it (placeholder X; initial encounter unless the text
  says subsequent or sequela);
* a partial ICD-10-PCS code is completed to a row of its table from the words of the sentence;
* Excludes1 pairs keep the better supported code; hypertension with heart disease / CKD becomes
  the I11/I12/I13 combination (guideline I.C.9.a); "use additional code" notes add the paired
  code when the text supports it; every note checked is recorded on the candidate.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from typing import ClassVar

from chartcoder.codesystems import CodeSystem, Note
from chartcoder.llm.agents import options_for
from chartcoder.pipeline import CaseState
from chartcoder.rules import load_rules
from chartcoder.stages.analyze import near_stems, near_tokens, operation_stems, operation_tokens, sentence_span
from chartcoder.stages.en_text import Token, abbreviation_words, absent_words, expansion, note_tokens, phrase_stems, stem
from chartcoder.stages.learned import train_precision, usually_wrong
from chartcoder.stages.lexicon import (
    BODY_PART_SIDES,
    body_part_key_words,
    body_part_words,
    drug_intent,
    lexicon,
    procedure_term_path,
    strip_code,
    table_row_words,
    table_rows,
)
from chartcoder.types import Candidate, Span

SEVENTH_WORDS = (("sequela", "S"), ("subsequent", "D"))
SIDES = set(BODY_PART_SIDES)  # stems of the laterality words in row titles
# Incisions that open a body cavity: an operation done through one has the Open approach (5th character 0).
OPEN_INCISIONS = {"laparotomi", "thoracotomi", "sternotomi", "craniotomi", "lumbotomi"}
_SIDE_WORD = re.compile(r"\b(right|left)\b", re.I)
_METASTASIS_WORD = re.compile(r"metasta\w*|secondar\w*|spread")
_MORPHOLOGY = r"(?:adeno)?(?:carcinoma|cancer|sarcoma|melanoma|neoplasm|lymphoma|blastoma|seminoma)s?"
_MORPHOLOGY_WORD = re.compile(_MORPHOLOGY, re.I)
# a site word qualifying a malignant morphology word ('renal cell carcinoma', 'prostatic adenocarcinoma')
_PRIMARY_MORPHOLOGY_AFTER = re.compile(r"(?:[\s-]+[a-z]+){0,2}?[\s-]+" + _MORPHOLOGY + r"\b", re.I)
_METASTASIS_IN_BEFORE = re.compile(r"\bmetasta\w*\b[^.;]{0,70}?\b(?:in|to|at|into)\s+(?:the\s+)?"
                                   r"(?:(?:left|right|bilateral)\s+)?$", re.I)
_METASTASIS_AFTER = re.compile(r"[\s-]+metasta", re.I)
_MORPHOLOGY_OF_BEFORE = re.compile(r"\b" + _MORPHOLOGY + r"\s+of\s+(?:the\s+)?(?:(?:left|right|bilateral)\s+)?$", re.I)
_FROM_BEFORE = re.compile(r"\bfrom\s+(?:an?\s+|the\s+|a\s+primary\s+)?$", re.I)


LYMPH_REGIONS = {"axillari", "cervic", "inguin", "mediastin", "retroperiton", "hilar", "mesenter", "supraclavicular",
                 "paraaort", "para-aort", "iliac", "submandibular", "laterocerv", "paratrach", "pelvic", "celiac",
                 "portal", "parotid", "occipit", "neck", "groin", "axilla", "retroperitoneum", "interaortocav"}


BMI_VALUE = re.compile(r"(BMI|body mass index)\D{0,25}?(\d{2}(?:[.,]\d)?)", re.I)
BMI_DIAGNOSES = ("E66", "R63.6", "E40", "E41", "E42", "E43", "E44", "E45", "E46", "R63.4")
FAMILY_HISTORY_CATEGORIES = ("Z80", "Z81", "Z82", "Z83", "Z84")
# Family history is of blood relatives: a spouse's smoking is an exposure, not a family history.
BLOOD_RELATIVE = re.compile(r"\b(family|familial|hereditary|mother|father|parents?|brothers?|sisters?|siblings?|sons?|"
                            r"daughters?|child|children|uncles?|aunts?|cousins?|grand(?:mother|father|parents?)|great-grand\w+|"
                            r"maternal|paternal)\b", re.I)
ADOLESCENT = re.compile(r"\b(1[0-9]|[1-9])[- ]year[- ]old\b|\b(child|infant|boy|girl|adolescent)\b", re.I)


def _values_near(state: CaseState, cand: Candidate, sentence: int) -> tuple[int, ...]:
    """The numbers of a candidate's sentence (up to three digits), the nearest its evidence first: the value
    a scale subcode needs is the one said with the mention ('38 weeks gestation'), not another ('32 years')."""
    tokens = state.scratch["tokens"]
    a, b = state.scratch["sentence_tokens"][sentence]
    spans = [(e.start, e.end) for e in cand.evidence]

    def distance(t: Token) -> int:
        return min((max(s - t.end, t.start - e, 0) for s, e in spans), default=0)

    found = [(distance(t), int(st)) for t in tokens[a:b] for st in t.stems if st.isdigit() and len(st) <= 3]
    return tuple(dict.fromkeys(n for _, n in sorted(found, key=lambda dn: dn[0])))


def _sentence_stems(state: CaseState, sentence: int) -> set[str]:
    tokens = state.scratch["tokens"]
    a, b = state.scratch["sentence_tokens"][sentence]
    return {s for t in tokens[a:b] for s in t.stems}


@cache
def _with_subterms(cs: CodeSystem, path: str) -> tuple[tuple[str, str], ...]:
    """(words, code) for the 'with ...' subterms of an index path: 'Nausea' -> ('vomiting', 'R11.2')."""
    entries = [e for e in cs.index_lookup(path) if e.matched_fully]
    if not entries:
        return ()
    entry = entries[0]
    out = [(k[5:], v) for k, v in entry.subterm_codes.items() if k.lower().startswith("with ") and v]
    if "with" in entry.subterms:
        below = [e for e in cs.index_lookup(f"{path}, with") if e.matched_fully]
        if below:
            out += [(k, v or _see_code(cs, f"{path}, with, {k}")) for k, v in below[0].subterm_codes.items()]
            for k in below[0].subterms:
                if k in below[0].subterm_codes:
                    continue
                see = _see_code(cs, f"{path}, with, {k}")
                if see is not None:
                    out.append((k, see))
                    continue
                # a subterm that only groups sites: 'with, calculus, stones in, gallbladder - see Calculus,
                # gallbladder, with cholecystitis, acute'
                deeper = next((e for e in cs.index_lookup(f"{path}, with, {k}") if e.matched_fully), None)
                out += [(f"{k} {site}", _see_code(cs, f"{path}, with, {k}, {site}"))
                        for site in (deeper.subterms if deeper is not None else ())]
    return tuple((k, strip_code(v)) for k, v in out if v)


@cache
def _with_classes() -> dict[str, tuple[str, ...]]:
    """'with' subterm words -> the code prefixes of the conditions the class names (rules/en/with_classes.json)."""
    return {words: tuple(rule["codes"]) for words, rule in load_rules("en", "with_classes")["classes"].items()}


def _overlap(a: Candidate, b: Candidate) -> bool:
    return any(x.start < y.end and y.start < x.end for x in a.evidence for y in b.evidence)


def _see_code(cs: CodeSystem, path: str) -> str | None:
    """The code a subterm that only says 'see' leads to: "Cholecystitis, acute, with, cholelithiasis -> see
    Calculus, gallbladder, with cholecystitis, acute" is K80.00."""
    entry = next((e for e in cs.index_lookup(path) if e.matched_fully), None)
    if entry is None or not entry.see or not re.search(r"\bwith\b", entry.see):
        return None  # a 'see' to a bare entry ("Failure, heart, with, hypertension - see Hypertension, heart")
        # names where to look, not the combination: I11.9 there is the disease without heart failure
    for target in (entry.see, re.sub(r"\bwith (?=\w)", "with, ", entry.see)):
        found = next((e for e in cs.index_lookup(target) if e.matched_fully and e.code), None)
        if found is not None:
            return found.code
    return None


def _evidence_stems(cand: Candidate) -> set[str]:
    """The stems of a candidate's evidence words, as written ('stones' is calculus too)."""
    return {st for e in cand.evidence for w in _word_stems(e.text) for st in w}


def _names_exactly(state: CaseState, cand: Candidate, need: set[str]) -> bool:
    """Whether a candidate's evidence says a 'with' subterm's words and no other: each of its words reads one
    of them, as written or as its synonym ('bleeding' for hemorrhage), and each of them is read."""
    words = [t for e in cand.evidence for t in near_tokens(state, e, 0)]
    return bool(words) and all(set(t.stems) & need for t in words) and need <= {s for t in words for s in t.stems}


INFECTION_PATH = "index: Infection, infected, infective, "


@cache
def _cause_elsewhere(cs: CodeSystem, path: str) -> str | None:
    """The code of an index entry's 'as cause of disease classified elsewhere' subterm (B95-B97), if any."""
    entries = [e for e in cs.index_lookup(path) if e.matched_fully]
    found = [code for title, code in (entries[0].subterm_codes.items() if entries else ())
             if title.lower().startswith("as cause of disease") and code]
    return found[0].rstrip("-").rstrip(".") if found else None


# index words that say how an organism causes, not which organism it is
_NOT_AN_ORGANISM = frozenset(phrase_stems("infection infected infective as the cause causes of disease diseases "
                                          "classified elsewhere bacterial bacterium bacteria agent NOS NEC "
                                          "unspecified site specified virus viral organism type"))
_OTHER_AGENT = frozenset(phrase_stems("other specified agents"))


@cache
def _cause_organisms(cs: CodeSystem) -> tuple[tuple[frozenset[str], str, str], ...]:
    """(organism words, code, index path) of every index entry coding an organism 'as cause of disease
    classified elsewhere' (B95-B97): 'Infection, Helicobacter pylori, as cause ...' is {helicobact, pylori}
    -> B96.81; 'MRSA, infection, as the cause ...' is {mrsa} -> B95.62. A node titled with alternatives
    ('Staphylococcus, staphylococcal') is read by its first."""
    rows = cs.conn.execute(
        "WITH RECURSIVE up(id, parent_id, code, path) AS ("
        " SELECT id, parent_id, code, title FROM index_terms"
        " WHERE source = 'index' AND code >= 'B95' AND code < 'B98'"
        " UNION ALL SELECT i.id, i.parent_id, up.code, i.title || ' | ' || up.path"
        " FROM index_terms i JOIN up ON i.id = up.parent_id)"
        " SELECT code, path FROM up WHERE parent_id IS NULL")
    found = {}
    for code, path in rows:
        if "cause of disease" not in path or not cs.is_valid(code):
            continue
        words = frozenset(w for node in path.split(" | ") for w in phrase_stems(node.split(", ")[0])) - _NOT_AN_ORGANISM
        # the code's title names its organism, when it names one: 'ECHO' is no B97.12 Echovirus of the title
        named = set(phrase_stems(cs.title(code) or "")) - _NOT_AN_ORGANISM - _OTHER_AGENT
        if words and (not named or named & words):
            found.setdefault(words, (code, path.replace(" | ", ", ")))
    return tuple((words, code, path) for words, (code, path) in found.items())


@cache
def _code_contexts() -> dict[str, tuple[re.Pattern[str], str]]:
    """Code -> (the circumstance its sentence must say, in words) (rules/en/code_context.json)."""
    return {code: (re.compile(rf"\b(?:{r['pattern']})\b", re.I), r["says"])
            for code, r in load_rules("en", "code_context")["codes"].items()}


@cache
def _underdosing_reasons() -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, noncompliance code) in the order they are tried (rules/en/underdosing_reasons.json)."""
    return tuple((re.compile(rf"\b(?:{r['pattern']})\b", re.I), r["code"])
                 for r in load_rules("en", "underdosing_reasons")["reasons"])


def _asks_for(cs: CodeSystem, code: str, other: str, inherited: bool = True) -> bool:
    """True when a 'use additional code' note of ``code`` (or, unless ``inherited`` is False, of a code above
    it) names ``other``'s category."""
    return any(other.startswith(ref) for n in cs.notes(code, inherited=inherited) if n.kind == "use_additional_code"
               for ref in n.referenced_codes())


@cache
def _asking_for_effect(cs: CodeSystem, category: str, effect: str) -> tuple[str, ...]:
    """The billable codes of a category whose 'use additional code' note names this adverse effect: those
    naming its code first, else the one naming a range that holds it (D70.1 names T45.1X5; E03.2 T36-T50)."""
    exact, ranged = [], []
    rows = cs.conn.execute("SELECT code FROM codes WHERE code >= ? AND code < ?", (category, category + "\uffff"))
    for (code,) in rows:  # the category's codes (a key range), not the whole edition
        for n in cs.notes(code):
            if n.kind != "use_additional_code" or "adverse effect" not in n.text:
                continue
            refs = n.referenced_codes()
            if any(effect.startswith(r) for r in refs):
                exact.append(code)
            elif len(refs) == 2 and refs[0][:3] <= effect[:3] <= refs[1][:3]:
                ranged.append(code)
    return tuple(dict.fromkeys(exact)) or (tuple(ranged) if len(set(ranged)) == 1 else ())


CULTURE = stem("culture")


@cache
def _usual_approaches() -> dict[str, str]:
    """Procedure term path -> the approach its code takes when the text names none (procedure_terms.json)."""
    return {procedure_term_path(t["phrase"]): t["approach"] for t in load_rules("en", "procedure_terms")["terms"]
            if t.get("approach")}


@cache
def _entry_code(cs: CodeSystem, main: str) -> str | None:
    """The code of an index main term itself ('Sepsis' A41.9: no organism named)."""
    entry = next((e for e in cs.index_lookup(main) if e.matched_fully), None)
    return entry.code if entry is not None else None


OSMOLAR = stem("osmolar")
CONTRAST_WORDS = frozenset(phrase_stems("low high osmolar"))
ORGANISM_DENIED = re.compile(r"\b(?:negative|no|not|without|ruled out|r/o|rule out)\b[^.;]*$", re.I)
CULTURE_DENIED = re.compile(r"\b(?:negative|no growth|not|without|sterile)\b", re.I)


@cache
def _culture_specimens() -> dict[str, tuple[str, ...]]:
    """Specimen stem -> the index main terms whose organism a culture of it names."""
    return {stem(w): tuple(mains) for w, mains in load_rules("en", "culture_sites")["specimens"].items()}


@cache
def _organism_subterms(cs: CodeSystem, main: str) -> tuple[tuple[frozenset[str], str, str], ...]:
    """(words beyond the main term, code, path) of the index entries under a main term, as the lexicon reads
    them: 'Sepsis, Staphylococcus, staphylococcal, aureus' is {staphylococcu, aureu} -> A41.01."""
    own = set(phrase_stems(main))
    return tuple((frozenset(t.stems) - own, t.code, t.path) for t in lexicon(cs).terms
                 if t.source == "index" and t.path.startswith(main + ", ") and "→" not in t.path
                 and frozenset(t.stems) - own)


TYPE_2 = re.compile(r"\btype (?:2|ii|two)\b", re.I)
STENT_STEMS = frozenset(phrase_stems("stent stents intraluminal"))


STENT_COUNT = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "double": 2, "triple": 3}
# a stent that is the site of a finding, not a device put in: 'in-stent restenosis', 'stent thrombosis'
STENT_FINDING = frozenset(phrase_stems("restenosis stenosis thrombosis occlusion migration fracture"))
DEVICE_COUNT_VALUES = {2: "Two", 3: "Three"}
VESSEL_DILATIONS = ("27", "37", "47", "57", "67")  # Dilation tables of the heart and great vessels, arteries, veins
# 'open' is a stop word: _said_open marks an open approach said with this pseudo-stem, which no row title has
# (a stem 'open' would read the '... Opening' rows)
SAID_OPEN = "__open__"
STATED_APPROACHES = frozenset(phrase_stems("percutaneous endoscopic external")) | OPEN_INCISIONS | {SAID_OPEN}
INTRALUMINAL_DEVICE = frozenset(phrase_stems("intraluminal device"))
SUBCUTANEOUS_TISSUE = frozenset(phrase_stems("subcutaneous tissue and fascia"))
ABSCESS = stem("abscess")
FALL = stem("fall")
AT_HOME_AFTER = re.compile(r"[^\S\n]*(?:[A-Za-z]+[^\S\n]+){0,2}at home\b", re.I)
HOME_BEFORE = re.compile(r"\bhome[^\S\n]+$", re.I)
URINARY_INFECTION_SITES = ("N39.0", "N30", "N10", "N11", "N12", "N13.6", "N15.1", "N34", "N41", "N45", "N70")
GENERIC_TITLE_WORDS = frozenset(phrase_stems("other unspecified specified NOS NEC"))
SUBSTANCE_CODE = re.compile(r"F1[0-689]\.[129]\d{1,2}")  # alcohol and drugs by use, abuse, dependence; not nicotine
# the anatomical regions of 0W9 whose skin abscess is subcutaneous: head, face, neck, back, perineum (not a wall
# or a cavity: an abdominal wall abscess drained is 0W9F)
SKIN_REGIONS = frozenset({"0W90", "0W92", "0W96", "0W9K", "0W9L", "0W9M", "0W9N"})


@lru_cache(maxsize=256)
def _holds_stents(cs: CodeSystem, table: str) -> bool:
    """Whether a Dilation table has an Intraluminal Device value (its device can be a stent)."""
    return any("Intraluminal Device" in title for _, title in table_rows(cs, table))


def _a_stent_put_in(text: str, tokens: list[Token], i: int, last: int) -> bool:
    """Whether token ``i`` names a stent the sentence puts in: not one denied ('without stenting') nor the
    site of a finding ('in-stent restenosis')."""
    t = tokens[i]
    if "stent" not in t.stems:
        return False
    if re.search(r"\bin-?\s*$", text[max(0, t.start - 4):t.start], re.I):
        return False
    after = {st for j in range(i + 1, min(last, i + 3)) for st in tokens[j].stems}
    return not after & STENT_FINDING and not re.search(r"\b(?:without|no|not)\b[^.;,]{0,25}$",
                                                         text[max(0, t.start - 40):t.start], re.I)


def _number_before(tokens: list[Token], i: int, first: int) -> tuple[int, frozenset[str]] | None:
    """The number said in the few words before a device word ('two drug-eluting stents', '3 stents') and
    its stems, which then count devices, not arteries."""
    for j in range(i - 1, max(first, i - 4) - 1, -1):
        word = tokens[j].word.lower()
        if word in STENT_COUNT or word.isdigit() and 0 < int(word) < 10:
            n = STENT_COUNT.get(word) or int(word)
            return n, frozenset(tokens[j].stems)
    return None


def counted_device(cs: CodeSystem, code: str, count: int, notes: list[str]) -> str:
    """The row of a completed code whose device is the same kind, counted ('Intraluminal Device,
    Drug-eluting' said of two stents is 'Intraluminal Device, Drug-eluting, Two'; four or more its own)."""
    rows = getattr(cs, "table_rows", None)
    if rows is None or len(code) != 7:
        return code
    word = DEVICE_COUNT_VALUES.get(count, "Four or More")
    table = [r for r in rows(code[:3]) if code[3] in r.get("4", {}) and code[4] in r.get("5", {})]
    device = next((r["6"][code[5]] for r in table if code[5] in r.get("6", {})), None)
    for row in table:  # the counted values sit in rows of their own
        for value, meaning in row.get("6", {}).items():
            if meaning == f"{device}, {word}" and cs.is_valid(code[:5] + value + code[6]):
                notes.append(f"{count} devices said: {meaning}")
                return code[:5] + value + code[6]
    return code


PLACE_PREPOSITION = r"\b(?:at|in|on|into|from)"  # 'fell at home', 'in the kitchen'
PLACE_BEFORE = re.compile(PLACE_PREPOSITION + r"\b", re.I)


@cache
def _places_of_occurrence(cs: CodeSystem) -> tuple[tuple[str, str], ...]:
    """(place, Y92 code) from the External Cause Index, longest first: a residence's rooms, then the places of
    'Place of occurrence' (no NEC, NOS or 'specified' residual)."""
    found: dict[str, str] = {}
    for path in ("Place of occurrence, residence", "Place of occurrence"):
        for entry in cs.index_lookup(path, source="eindex")[:1]:
            for place, code in entry.subterm_codes.items():
                if code and not re.search(r"\b(?:NEC|NOS|specified)\b|[,(]", place):
                    found.setdefault(place.lower(), code)
    return tuple(sorted(found.items(), key=lambda pc: -len(pc[0])))


def _place_said(text: str, start: int, end: int, places: tuple[tuple[str, str], ...]) -> tuple[str, str, tuple[int, int]] | None:
    """The place a sentence says the event happened in ('at home', 'in the kitchen', 'on the street')."""
    for place, code in places:
        m = re.search(rf"{PLACE_PREPOSITION}\s+(?:(?:the|a|an|his|her|their|its|our)\s+)?{re.escape(place)}\b",
                      text[start:end], re.I)
        if m:
            return place, code, (start + m.start(), start + m.end())
    return None


@cache
def _column_codes(cs: CodeSystem, column: str) -> dict[str, str]:
    """Neoplasm Table paths of one column ('Malignant Primary') -> code (the lexicon holds the table's rows)."""
    return {t.key: strip_code(t.code) for t in lexicon(cs).terms if t.key.endswith(f"[{column}]")}


@cache
def _secondary_sites(cs: CodeSystem) -> dict[str, tuple[str, str]]:
    """One-word Neoplasm Table sites -> (their secondary malignant code, path): 'bone' C79.51, 'liver' C78.7."""
    out: dict[str, tuple[str, str]] = {}
    for t in lexicon(cs).terms:
        if t.key.startswith("neoplasm: Neoplasm, neoplastic, ") and t.key.endswith("[Malignant Secondary]"):
            words = [w for w in t.stems if not w.startswith("__")]
            if len(words) == 1 and "," not in t.key.removeprefix("neoplasm: Neoplasm, neoplastic, "):
                out.setdefault(words[0], (strip_code(t.code), t.key))
    return out


def _primary_of(cs: CodeSystem, path: str) -> str | None:
    """The Neoplasm Table's primary malignant code of the site a secondary reading's path names."""
    return _column_codes(cs, "Malignant Primary").get(path.replace("[Malignant Secondary]", "[Malignant Primary]"))


def _secondary_of(cs: CodeSystem, path: str) -> str | None:
    """The Neoplasm Table's secondary malignant code of the site a primary reading's path names."""
    return _column_codes(cs, "Malignant Secondary").get(path.replace("[Malignant Primary]", "[Malignant Secondary]"))


def _singular(text: str) -> str:
    return re.sub(r"(arter)(?:y|ies)\b", r"\1y", text.lower())


@cache
def _infarction_titles(cs: CodeSystem) -> dict[str, str]:
    """'embolism of left middle cerebral artery' -> I63.412: the cerebral infarctions due to an artery's occlusion."""
    rows = cs.conn.execute("SELECT code, title FROM codes WHERE billable = 1 AND code >= 'I63.0' AND code < 'I63.6'")
    return {_singular(title.removeprefix("Cerebral infarction due to ")): code for code, title in rows}


def merged_spans(spans: list[Span]) -> list[Span]:
    """Evidence spans in text order, each once."""
    return sorted({(s.start, s.end): s for s in spans}.values(), key=lambda s: s.start)


def _unspecified_rank(code: str, title: str, shared: str = "") -> int:
    """3: the title says the detail is unknown (LOC 'status unknown') or that there is none to tell
    ('uncomplicated'); 2: it says unspecified, beyond 'unspecified behavior' and beyond the words all
    its siblings share; 1: a .9/.0 residual; 0: specific."""
    t = title.lower().removeprefix(shared.lower()).replace("unspecified behavior", "")
    if re.search(r"\bstatus unknown\b|\buncomplicated\b|without complications?\b", t):
        return 3
    return 2 if "unspecified" in t else 1 if code.endswith("9") or code.endswith("0") else 0


_SCALE_WORD = re.compile(r"\b(?:score|weeks?)\b", re.I)
_RANGE = re.compile(r"(?:less than (\d+))|(\d+)\s*(?:-\s*(\d+)|(or greater|or more))?", re.I)


def _numbered_children(cs: CodeSystem, kids: list[str]) -> list[tuple[str, int, int]]:
    """Subcodes told apart by a stated value on a scale ('NIHSS score 20-29', 'Glasgow coma scale score 3-8',
    '33 weeks gestation'): (code, low, high) for those that carry one; [] when the subcodes are no scale."""
    out = []
    for k in kids:
        title = cs.title(k) or ""
        if not _SCALE_WORD.search(title):
            continue
        m = _RANGE.search(title)
        if m is not None:
            less, low, high, more = m.groups()
            out.append((k, 0, int(less) - 1) if less else (k, int(low), 999 if more else int(high or low)))
    return out if len({(lo, hi) for _, lo, hi in out}) >= 2 else []  # one shared range is no scale


def _instructed(cs: CodeSystem, code: str, mention_id: int, evidence: list[Span], path: str, note: str,
                score: float) -> Candidate:
    """A diagnosis code a coding instruction adds (family history, BMI, 'use additional code'), with the
    instruction as its path and the note that was followed."""
    return Candidate(code=code, system=cs.id, type="diagnosis", mention_id=mention_id, evidence=list(evidence),
                     path=[path], source="instruction", score=score, title=cs.title(code) or "", notes_checked=[note])


def _side_stated(state: CaseState, cs: CodeSystem, cand: Candidate, code: str | None, notes: list[str]) -> str | None:
    """A code of an unspecified side ("... of unspecified ovary", "..., unspecified eye") yields to its
    sibling for the one side the mention names ("dermoid cyst of the left ovary": D27.1, not D27.9);
    the side word must stand with the mention's own words (guideline I.B.13: code the side documented).
    A side said elsewhere in the note is not carried over: on CodiEsp train that cost 0.0018 F1 (the
    annotators keep C64.9 for "the kidney" of a note that spoke of the left kidney)."""
    title = (cs.title(code) or "") if code else ""
    if "unspecified" not in title:
        return code
    near = {s for span in cand.evidence for s in near_stems(state, span, 2)}
    sides = SIDES & near
    if len(sides) != 1:
        return code
    side = sides.pop()
    sibling = next((k for k in _sided_siblings(cs, code, side) if cs.is_valid(k)), None)
    parents = cs.parents(code)
    if sibling is None and parents and len(code.replace(".", "")) == 7:
        sibling = _sided_with_seventh(cs, code, parents[0][0], side)  # 'left ankle fracture': S82.892A
    if sibling is None:
        return code
    notes.append(f"{code} -> {sibling} (the side the mention names)")
    return sibling


def _detail_stated(cs: CodeSystem, code: str | None, stems: set[str], notes: list[str]) -> str | None:
    """A code the index gave as unspecified ('... with unspecified severity') yields to the sibling whose
    own words the sentence says, every one of them ('diabetic ulcer of the left heel limited to breakdown of
    skin': L97.421, not L97.429): the index leads to the unspecified code when its subterm is worded
    otherwise ('with skin breakdown only'), and a coder reads the tabular title."""
    found = [(len(words), sibling) for sibling, words, absent in _detailed_siblings(cs, code)
             if words <= stems and not absent & stems] if code else []
    if not found:
        return code
    best = max(found)[1]
    notes.append(f"{code} -> {best} (the detail the text states)")
    return best


@lru_cache(maxsize=8192)
def _detailed_siblings(cs: CodeSystem, code: str) -> tuple[tuple[str, frozenset[str], frozenset[str]], ...]:
    """(sibling, the words its title adds, the words it says are absent) of an unspecified code's billable
    siblings that state a detail in two words or more; () for a code that is not unspecified."""
    title = cs.title(code) or ""
    parents = cs.parents(code)
    if "unspecified" not in title.lower() or not parents:
        return ()
    own = set(phrase_stems(title))
    out = []
    for sibling in cs.children(parents[0][0]):
        sibling_title = cs.title(sibling) or ""
        words = frozenset(phrase_stems(sibling_title)) - own
        if sibling != code and len(words) >= 2 and not UNSPECIFIED_WORDS & words and cs.is_valid(sibling):
            out.append((sibling, words, frozenset(absent_words(sibling_title))))
    return tuple(out)


def _sided_siblings(cs: CodeSystem, code: str, side: str) -> list[str]:
    """The siblings of a code of unspecified side whose title names the side instead ('..., unspecified
    ovary' -> '..., left ovary')."""
    title = cs.title(code) or ""
    wanted = re.sub(r"\bunspecified\b", "bilateral" if side == "bilater" else side, title, count=1)
    parents = cs.parents(code)
    if wanted == title or not parents:
        return []
    return [k for k in cs.children(parents[0][0]) if (cs.title(k) or "") == wanted]


def _sided_with_seventh(cs: CodeSystem, code: str, base: str, side: str) -> str | None:
    """The sided sibling of a code with a 7th character: the side is a sibling of the 6-character code
    (S82.899 'Other fracture of unspecified lower leg' -> S82.892), which takes the same 7th character."""
    found = _sided_siblings(cs, base, side)
    if not found:
        return None
    chars = found[0].replace(".", "").ljust(6, "X") + code[-1]
    full = f"{chars[:3]}.{chars[3:]}"
    return full if cs.is_valid(full) else None


DOMINANCE = frozenset(phrase_stems("dominant nondominant ambidextrous"))
_DOMINANT, _NONDOMINANT = stem("dominant"), stem("nondominant")


def _default_dominance(title_words: set[str], stems: set[str]) -> set[str]:
    """The dominance a side has when the record does not document it (guideline I.C.6.a, hemiplegia and
    monoplegia): the right side is dominant, the left nondominant ('right hemiparesis' is G81.91)."""
    if stems & DOMINANCE or not title_words & {_DOMINANT, _NONDOMINANT}:
        return set()
    return {_DOMINANT} if "right" in title_words else {_NONDOMINANT} if "left" in title_words else set()


_DISPLACED, _NONDISPLACED = stem("displaced"), stem("nondisplaced")


def _default_displacement(code: str, stems: set[str]) -> set[str]:
    """A fracture not documented as displaced or nondisplaced is coded displaced (guideline I.C.19.c.1);
    'undisplaced' is nondisplaced."""
    if not code.startswith(("S", "M84")) or stems & {_DISPLACED, _NONDISPLACED}:
        return set()
    return {_NONDISPLACED} if stem("undisplaced") in stems else {_DISPLACED}


DOMINANT_SIDE = re.compile(r"\b(right|left)[- ]?(?:hand(?:ed)?[- ]?)?dominant\b|\b(right|left)[- ]handed\b", re.I)
SIDE_WORD = re.compile(r"\b(right|left)\b", re.I)
PARALYSIS_SIDED = ("G81", "G83.1", "G83.2", "G83.3", "I69")


def _dominance_stated(state: CaseState, cand: Candidate, sentence: int, stems: set[str]) -> set[str]:
    """A paralysis whose sentence states the patient's dominant side ("right hemiparesis, left hand dominant"):
    the side of the paralysis is the side word nearest it outside that statement, and it is dominant when it
    is that side (G81.93, right nondominant, not the G81.92 'left dominant' the words alone would pick)."""
    if not cand.code.startswith(PARALYSIS_SIDED) or not cand.evidence:
        return stems
    a, b = sentence_span(state, sentence)
    text = state.text[a:b]
    stated = DOMINANT_SIDE.search(text)
    if stated is None:
        return stems
    dominant = (stated.group(1) or stated.group(2)).lower()
    at = cand.evidence[0].start - a
    sides = [(abs(m.start() - at), m.group(1).lower()) for m in SIDE_WORD.finditer(text)
             if not stated.start() <= m.start() < stated.end()]
    if not sides:
        return stems
    side = min(sides)[1]
    return stems - {"right", "left", _DOMINANT, _NONDOMINANT} | {side, _DOMINANT if side == dominant else _NONDOMINANT}


def complete_cm(cs: CodeSystem, code: str, stems: set[str], notes: list[str],
                values: Callable[[], tuple[int, ...]] | None = None) -> str | None:
    """Carry an ICD-10-CM code down to a billable code the sentence supports. ``values`` gives the numbers
    of the sentence, nearest the mention first ('32 years old, 38 weeks gestation' is 38 weeks, not 32),
    asked only for a scale; without it any number of ``stems`` may pick a subcode on a scale."""
    info = cs.get(code, with_notes=False)
    if info is None and code.endswith("X"):
        # an index code written with its placeholders ("T81.4XX") for a category since subdivided
        # (FY2026 T81.40-T81.49): complete it from the category
        info = cs.get(code.rstrip("X").rstrip("."), with_notes=False)
    if info is None:
        return None
    current = info.code
    for _ in range(6):
        if cs.is_valid(current):
            return current
        kids = [k for k in cs.children(current) if ":" not in k]
        if not kids:
            return None
        own = set(phrase_stems(cs.title(current) or ""))
        seventh = {k for k in kids if len(k.replace(".", "")) == 7 and k[-1].isalpha()}
        if seventh and len(seventh) == len(kids):
            char = next((c for w, c in SEVENTH_WORDS if w[:6] in {s[:6] for s in stems}), "A")
            pick = next((k for k in kids if k.endswith(char)), kids[0])
            notes.append(f"7th character {pick[-1]} ({'from the text' if char != 'A' else 'initial encounter'})")
            current = pick
            continue
        numbered = _numbered_children(cs, kids)
        if numbered:
            numbers = values() if values else tuple(sorted(int(s) for s in stems if s.isdigit() and len(s) <= 3))
            pick = next((k for n in numbers for k, lo, hi in numbered if lo <= n <= hi), None)
            if pick is not None:
                notes.append(f"{current} -> {pick} (the value stated in the text)")
                current = pick
                continue
            kids = [k for k in kids if k not in {n for n, _, _ in numbered}]  # no value: never guess one
            if not kids:
                notes.append(f"{current}: the text states no value on its scale")
                return None
        scored = []
        for k in kids:
            title = cs.title(k) or ""
            absent = absent_words(title) - own  # "Vomiting without nausea": nausea must be absent
            extra = set(phrase_stems(title)) - own - absent
            said = stems | _default_dominance(extra, stems) | _default_displacement(k, stems)
            support = len(extra & said)
            conflict = len(extra - said) + len(absent & stems)
            scored.append((support, -conflict if support else 0, _unspecified_rank(k, title), k))
        scored.sort(reverse=True)
        best = scored[0]
        if best[0] == 0:
            shared = os.path.commonprefix([cs.title(k) or "" for k in kids])
            unspecified = sorted(kids, key=lambda k: -_unspecified_rank(k, cs.title(k) or "", shared))[0]
            notes.append(f"{current} -> {unspecified} (unspecified: the text names no subtype)")
            current = unspecified
        else:
            notes.append(f"{current} -> {best[3]} (specificity from the text)")
            current = best[3]
    return current if cs.is_valid(current) else None


CONSECUTIVE_HOURS = re.compile(r"(?:Less than (\d+)|(\d+)-(\d+)|Greater than (\d+)) Consecutive Hours")
DURATION = re.compile(r"\b(?:for|during)\s+(\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten)\s*"
                      r"(hours?|h|days?|weeks?)\b", re.I)
NUMBER_WORDS = {w: n for n, w in enumerate(["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"], 1)}
HOURS_IN = {"h": 1, "hour": 1, "day": 24, "week": 168}


def _hours_near(state: CaseState, cand: Candidate, sentence: int) -> int | None:
    """The duration a procedure's sentence gives it, the nearest its evidence ('ventilated for 9 days': 216
    hours); a day or time said otherwise ('on day +2', '5 days after the event') is no duration."""
    start, _ = sentence_span(state, sentence)  # the span of its words: a closing 'days' is a stop word
    bounds = state.sentences[bisect_right(state.sentences, (start, len(state.text) + 1)) - 1]
    at = cand.evidence[0].start if cand.evidence else start
    found = [(abs(m.start() - at), m) for m in DURATION.finditer(state.text, *bounds)]
    if not found:
        return None
    _, m = min(found, key=lambda dm: dm[0])
    number = m.group(1).lower()
    return (int(number) if number.isdigit() else NUMBER_WORDS[number]) * HOURS_IN[m.group(2).lower().rstrip("s")]


def _lasts(title: str, hours: int) -> bool:
    """Whether a row's duration value ('24-96 Consecutive Hours') holds the hours said; a row without one does."""
    found = CONSECUTIVE_HOURS.search(title)
    if found is None:
        return True
    below, low, high, above = found.groups()
    return hours < int(below) if below else hours > int(above) if above else int(low) <= hours <= int(high)


def _rows_the_text_allows(rows: tuple[tuple[str, str], ...], row_words: list[tuple[str, set[str]]],
                          stems: set[str], duration: Callable[[], int | None] | None) -> list[tuple[str, set[str]]]:
    """The rows the text does not contradict: a value that denies a word said ('Nonmechanical' for a
    'mechanical ventilation'), or a duration other than the one said ('for 9 days' is Greater than 96
    Consecutive Hours; ``duration`` is asked only for a table with durations). All rows when every one is
    contradicted."""
    titles = dict(rows)
    timed = duration is not None and any("Consecutive Hours" in title for _, title in rows)
    hours = duration() if timed else None
    kept = [(code, words) for code, words in row_words
            if not any(w.startswith("non") and w[3:] in stems for w in words)
            and (hours is None or _lasts(titles[code], hours))]
    return kept or row_words


def complete_pcs(cs: CodeSystem, prefix: str, stems: set[str], notes: list[str],
                 determined: list[str] | None = None, duration: Callable[[], int | None] | None = None,
                 usual_approach: str | None = None) -> str | None:
    """Complete a partial PCS code to a valid row value chosen by the sentence's words.

    When the rows that fit best still differ in the fifth character (the approach, or the contrast
    of an imaging code) because the text does not say, the code is completed with the defaults and
    ``determined`` receives the 4-character prefix the text does determine (CodiEsp annotators
    stop there).
    """
    if cs.is_valid(prefix):
        return prefix
    rows = table_rows(cs, prefix)
    if not rows:
        return None
    row_words = [(code, set(words)) for code, words in table_row_words(cs, prefix)]
    row_words = _rows_the_text_allows(rows, row_words, stems, duration)
    shared = set.intersection(*(w for _, w in row_words))  # words every row has say nothing about the choice
    scored = []
    for code, all_words in row_words:
        words = all_words - shared
        if "osmolar" in words and "osmolar" not in stems:
            words = words - {"low", "high"}  # a contrast is low or high osmolar, not a 'lumbar' read as low back
        if "coat" in words and "coat" not in stems:
            words = words - {"balloon", "drug"}  # a balloon angioplasty's balloon is drug-coated only if said
        support = len(words & stems)
        conflict = len(words - stems)
        scored.append((support, conflict, code))
    top = max(support for support, _, _ in scored)
    tied = [(conflict, code) for support, conflict, code in scored if support == top]
    words_of = dict(row_words)
    titles = dict(rows)
    if top:  # with no word of the text in any row, no body part can have all its words there
        first_words = {code: set(phrase_stems(titles[code].split(",")[0])) - shared for _, code in tied}
        whole = {code[3] for _, code in tied if first_words[code] and first_words[code] <= stems}
        if len(whole) == 1 and len({code[3] for _, code in tied}) > 1:
            # one body part has every word in the text ("right nephrectomy": Right Kidney, not its pelvis)
            tied = [(conflict, code) for conflict, code in tied if code[3] in whole]
    # the incision named is the approach: open; a testis or cord is taken out through an inguinal incision
    # ("right inguinal orchiectomy", "orchiectomy via inguinal approach")
    if prefix[0] == "0" and (stems & OPEN_INCISIONS or prefix[:2] == "0V" and "inguin" in stems):
        tied = [(conflict, code) for conflict, code in tied if code[4] == "0"] or tied
    # a closed reduction puts the bone back without an incision: Reposition, External
    if prefix[0] == "0" and prefix[2:3] == "S" and "close" in stems and not stems & {SAID_OPEN, "percutan"}:
        tied = [(conflict, code) for conflict, code in tied if code[4] == "X"] or tied
    both = [(conflict, code) for conflict, code in tied if "bilater" in words_of[code]]
    if prefix[0] in "BC" and both and not stems & SIDES:
        tied = both  # imaging of a paired organ that names no side ("mammography") images both
    # Ties: fewest unsupported words, the table defaults (Z = no device / no qualifier), then the usual
    # approach of the section (open for medical-surgical, external for measurement, imaging and the rest).
    fewest = min(conflict for conflict, _ in tied)
    if len({code[3] for conflict, code in tied if conflict == fewest}) > 1:
        return None  # body parts the text fits equally well ("colectomy": which colon?): no guess
    order = "0X3478" if prefix[0] == "0" else "X03478"
    # a Replacement whose device the text does not name puts in the usual one, a synthetic substitute
    # an angioplasty is transluminal, through a catheter put in through the skin, unless the note says open
    transluminal = prefix[:1] == "0" and prefix[1:3] in VESSEL_DILATIONS and not stems & STATED_APPROACHES
    usual = usual_approach if usual_approach and not stems & STATED_APPROACHES else None
    _, pick = min(tied, key=lambda cc: (transluminal and cc[1][4] != "3", usual is not None and cc[1][4] != usual,
                                        cc[0], -cc[1][4:].count("Z"),
                                        order.find(cc[1][4]) % 10,
                                        cc[1][0] == "0" and cc[1][2] == "R" and cc[1][5] != "J", cc[1]))
    best = ((top,), pick)
    one_body_part = len({code[3] for code, _ in row_words}) == 1  # the table's only body part is not in question
    parts = body_part_words(row_words, shared)
    own = parts.get(pick[3], frozenset())
    # a body part named with all its words, of which no row is a side ("coronary artery" beside Pulmonary
    # Artery, Left; not "colectomy" read as large intestine, which has a right and a left)
    named_whole = bool(own) and own <= stems and not own & SIDES \
        and not any(own < parts[code[3]] and parts[code[3]] & SIDES for _, code in tied)
    # or a body part the text names by a word of its own and by its side ("total knee arthroplasty, right":
    # Knee Joint, Right), not by its side alone (a 'right' blepharoplasty is no Choroid, Right)
    named_with_side = bool(own & SIDES) and own & SIDES <= stems and bool((own - SIDES) & stems)
    if len(prefix) <= 3 and (best[0][0] == 0 or not one_body_part and not own & stems
                             or (len({code[3] for _, code in tied}) > 1 and not named_whole and not named_with_side
                                 and any(words_of[code] & SIDES for _, code in tied))):
        return None  # a table alone is not enough: the body part (and its side) must come from the text
    # Contrast is routine in fluoroscopy, CT and MRI, so a record silent about it leaves the 5th character
    # open; plain radiography and ultrasonography rarely use it, so silence means none (the default row).
    contrast_exceptional = prefix[0] == "B" and len(prefix) > 2 and prefix[2] in "04"
    if determined is not None and len({code[4] for _, code in tied}) > 1 and len({code[3] for _, code in tied}) == 1 \
            and not contrast_exceptional and not _approach_stated(titles[pick], stems):
        determined.append(best[1][:4])
        notes.append(f"{prefix} completed to {best[1]} with table defaults: the text does not say which row")
    elif determined is not None and pick[0] == "B" and pick[4] == "Y" and "osmolar" not in stems:
        determined.append(best[1][:4])  # 'with contrast' names no agent: high or low osmolar or other is open
        notes.append(f"{prefix} completed to {best[1]}: the text says contrast but not which (osmolar or other)")
    else:
        notes.append(f"{prefix} completed to {best[1]} from the text")
    return best[1]


_APPROACH = re.compile(r"(?:^|,)\s*([^,]*\bApproach)\b")
_APPROACH_STEM = stem("approach")


OPEN_APPROACH = re.compile(r"\bopen(?:ly)?\s+(?:approach|technique|surgery|procedure|access|operation)\b", re.I)
OPEN_BEFORE = re.compile(r"\bopen(?:\s+[\w-]+){0,3}\s*$", re.I)


def _said_open(state: CaseState, cand: Candidate) -> bool:
    """Whether the text says an operation was open: 'open' a few words before its first ('open angioplasty',
    'open reduction and internal fixation'), in its abbreviation ('ORIF') or an open approach said with it.
    'Open' is a stop word, no token, so it is read from the text; the open area a flap closes says nothing
    of the approach."""
    first = cand.evidence[0]
    if OPEN_BEFORE.search(state.text, max(0, first.start - 50), first.start) \
            or any("open" in expansion(word) for word in first.text.split()):  # 'ORIF'
        return True
    words = operation_tokens(state, cand.evidence)
    return bool(words) and OPEN_APPROACH.search(state.text, words[0].start, words[-1].end + 40) is not None


def _approach_stated(title: str, stems: set[str]) -> bool:
    """The text names the approach of this row: a 'percutaneous liver biopsy' is 0FB03ZX in full, as a
    gastroscopy's biopsy is Via Natural or Artificial Opening Endoscopic, while a 'liver biopsy' leaves
    the approach open (CodiEsp annotators then stop at 0FB0)."""
    found = _APPROACH.search(title)
    words = set(phrase_stems(found.group(1))) - {_APPROACH_STEM} if found else set()
    if found and found.group(1).strip() == "Open Approach":
        words = {SAID_OPEN}  # a stop word, which _said_open marks in the stems when the text says it
    return bool(words) and words <= stems


LESION_STEMS = frozenset(phrase_stems("tumor tumour lesion mass polyp nodule neoformation neoplasm transurethral"))


def _resection_of_a_lesion(cand: Candidate, stems: set[str], notes: list[str]) -> str:
    """'Resection' of a tumor, and a transurethral resection, cut out part of the organ: ICD-10-PCS
    Excision (0_B_), not Resection (0_T_), which removes all of it (guideline B3.8: a partial removal)."""
    code = cand.code
    said = any("resect" in e.text.lower() or any(w.lower() in abbreviation_words() and "resection" in expansion(w)
                                                 for w in e.text.split())
               for e in cand.evidence)  # the word ("prostate TUR" says it too), not an '-ectomy' read as one
    if code[:1] == "0" and code[2:3] == "T" and said and stems & LESION_STEMS:
        notes.append(f"{code}: the resection removes a lesion, not the whole body part -> Excision")
        return code[:2] + "B" + code[3:4]
    return code


REINFORCEMENT_STEMS = frozenset(phrase_stems("mesh meshes patch"))


def _repair_with_a_reinforcement(cs: CodeSystem, code: str, stems: set[str], notes: list[str]) -> str:
    """A repair that puts in a mesh or patch ('inguinal hernia repair with mesh') reinforces the body part
    with a device: ICD-10-PCS Supplement (0_U_), not Repair (0_Q_), whose rows take no such device."""
    if code[:1] != "0" or code[2:3] != "Q" or not stems & REINFORCEMENT_STEMS:
        return code
    supplement = code[:2] + "U" + code[3:]
    if not table_rows(cs, supplement):
        return code
    notes.append(f"{code}: the repair puts in a mesh or patch -> Supplement")
    return supplement


@cache
def _site_categories(cs: CodeSystem, path: str) -> frozenset[str]:
    """The categories of a Neoplasm Table row's stated behaviours (C64, C79, D09, D30, D41 for 'renal'),
    from a candidate path 'neoplasm: Neoplasm, neoplastic, renal [Unspecified Behavior]'."""
    if not path.startswith("neoplasm: "):
        return frozenset()
    site = path[len("neoplasm: "):].rsplit(" [", 1)[0]
    cats: set[str] = set()
    for entry in cs.index_lookup(site, source="neoplasm"):
        cats.update(code[:3] for column, code in entry.cells.items() if code and column != "Unspecified Behavior")
    return frozenset(cats)


UNSPECIFIED_WORDS = frozenset(phrase_stems("unspecified"))


_UNSAID_SITE = re.compile(r"\bof unspecified\b|\bunspecified (?:site|side|part|region)\b", re.I)


def _unsaid_sites(title: str) -> int:
    """How many of a code's site and side its title leaves unspecified ('... of unspecified part of right lower
    leg': 1), not its other details ('with unspecified severity', 'Unspecified abdominal pain')."""
    return len(_UNSAID_SITE.findall(title))


def _restates(vague: Candidate, specific: Candidate) -> bool:
    """Each of the first candidate's words is among the second's, an abbreviation by what it stands for: the
    same condition said again with more words ('hematuria' ... 'gross hematuria'; 'COPD' ... 'chronic
    obstructive pulmonary disease with acute exacerbation')."""
    said = {st for e in specific.evidence for stems in _word_stems(e.text) for st in stems}
    words = [stems for e in vague.evidence for stems in _word_stems(e.text)]
    return bool(words) and all(said & stems for stems in words)


@lru_cache(maxsize=4096)
def _word_stems(text: str) -> tuple[frozenset[str], ...]:
    """The stems each word of an evidence span stands for (asked again for every pair of candidates)."""
    return tuple(frozenset(t.stems) for t in note_tokens(text))


def _category_number(code: str) -> int:
    """C18 -> 318: categories in Tabular order (a letter in the second digit place, as in C4A, counts 0)."""
    digits = "".join(ch if ch.isdigit() else "0" for ch in code[1:3])
    return (ord(code[0]) - ord("A")) * 100 + int(digits)


@cache
def _family_history_table() -> list[tuple[tuple[int, int], str | tuple[int, int], str]]:
    """(specificity, code prefix or category range, family-history code) from rules/en/family_history.json,
    most specific first: a code prefix ("E78.01") before a range, a narrow range before a wide one."""
    out: list[tuple[tuple[int, int], str | tuple[int, int], str]] = []
    for key, target in load_rules("en", "family_history")["ranges"].items():
        if "-" in key:
            lo, hi = (_category_number(k) for k in key.split("-"))
            out.append(((0, lo - hi), (lo, hi), target))
        else:
            out.append(((1, len(key)), key, target))
    return sorted(out, key=lambda row: row[0], reverse=True)


def family_history_code(code: str) -> str | None:
    """The Z80-Z84 code for a relative who has (had) the condition coded ``code``."""
    n = _category_number(code)
    for _, key, target in _family_history_table():
        if key[0] <= n <= key[1] if isinstance(key, tuple) else code.startswith(key):
            return target
    return None


@dataclass(frozen=True)
class IntegralSymptoms:
    """A disease and the codes of the symptoms routinely associated with it (guideline I.B.5)."""

    disease: str
    symptom_codes: tuple[str, ...]


@cache
def _integral_symptom_table() -> tuple[tuple[tuple[str, ...], IntegralSymptoms], ...]:
    data = load_rules("en", "integral_symptoms")
    return tuple((tuple(r["codes"]), IntegralSymptoms(r["disease"], tuple(c for name in r["integral"]
                                                                          for c in data["symptoms"][name])))
                 for r in data["rules"])


@lru_cache(maxsize=4096)
def integral_symptom_rules(code: str) -> tuple[IntegralSymptoms, ...]:
    """The integral-symptom rules whose disease codes cover this code."""
    return tuple(rule for prefixes, rule in _integral_symptom_table() if code.startswith(prefixes))


CODE_RANGE = re.compile(r"\b([A-Z]\d[0-9A-Z]?(?:\.[0-9A-Z]{1,4})?)-([A-Z]\d[0-9A-Z]?(?:\.[0-9A-Z]{1,4})?)\b")


def _within(code: str, low: str, high: str) -> bool:
    """Whether a code falls in a Tabular range ('N18.31' in N18.1-N18.6), read at the range's precision."""
    return low <= code[: len(low)] and code[: len(high)] <= high


def _said_together(tokens: list[Token], words: frozenset[str]) -> tuple[Token, Token] | None:
    """The first and last token of the shortest run of tokens that says all the words, if it is no longer than
    the words and one more ('chronic kidney disease, stage 3a'; not '2' of 'type 2' with 'stage')."""
    best: tuple[int, int] | None = None
    for i in range(len(tokens)):
        missing = set(words)
        for j in range(i, min(len(tokens), i + len(words) + 1)):
            missing -= set(tokens[j].stems)
            if not missing:
                if best is None or j - i < best[1] - best[0]:
                    best = (i, j)
                break
    return (tokens[best[0]], tokens[best[1]]) if best else None


# ICD-10-PCS body part values an inspection of an intestinal tract reaches (the Body Part Key's tracts)
INSPECTED_TRACTS = {"0DJ0": "123456789", "0DJD": "ABCEFGHKLMNPQ"}
IDENTIFY_CATEGORY = re.compile(r"code to identify .*\(([A-Z]\d[0-9A-Z]?)\.-\)()$", re.I)
# a 'use additional code' note that names one status code: its words less 'status' are what the text must say
IDENTIFY_ONE = re.compile(r"code to identify (?:the )?([a-z ]+?)(?: status)? \([A-Z]\d[0-9A-Z.]*\)$", re.I)
# Excludes1 pairs whose winner a guideline names: a CKD stage and ESRD are N18.6 only (I.C.14.a.1)
PREVAILS = {"N18.6": "N18"}
SAME_AS_BEFORE = re.compile(r"[\s:]*(?:same|unchanged|as above|identical)\b", re.I)
UNDERLYING = frozenset(phrase_stems("underlying any associated"))
STATUS = frozenset(phrase_stems("status"))  # 'estrogen receptor positive status' is said without it
MAX_RANGE_CODES = 400  # a 'use additional code' range wider than this names a chapter, not a code to look for


@cache
def _range_titles(cs: CodeSystem, low: str, high: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Billable codes of a Tabular range with the stems of their titles, for those that name no more than
    words ('unspecified' and 'other' codes are a coder's fallback, not what the text says)."""
    rows = cs.conn.execute("SELECT code, title FROM codes WHERE billable = 1 AND code >= ? AND code <= ?",
                           (low, high + "~")).fetchall()
    if len(rows) > MAX_RANGE_CODES:
        return ()
    return tuple((code, frozenset(phrase_stems(title)) - STATUS) for code, title in rows
                 if _within(code, low, high) and not re.search(r"\b(?:unspecified|other|NEC)\b", title, re.I))


def _affirmed(state: CaseState) -> set[int]:
    """Ids of the mentions whose context lets them be coded (not negated, a relative's, past in the encounter...)."""
    return {m.id for m in state.mentions if not m.assertion.blocking(state.case.setting, m.type, state.case.scope)}


EXTERNAL_CAUSE_REACH = 2  # sentences between an external cause and the injury it explains


class Verify:
    """Make every candidate a valid, specific code and apply the Tabular instructions."""

    name: ClassVar[str] = "verify"
    requires: ClassVar[tuple[str, ...]] = ("candidates",)
    assigns: ClassVar[tuple[str, ...]] = ("verified",)

    def __init__(self, diagnoses: CodeSystem, procedures: CodeSystem | None) -> None:
        self.systems = {"diagnosis": diagnoses, "procedure": procedures}

    def __call__(self, state: CaseState) -> CaseState:
        sentence_of = {m.id: m.sentence for m in state.mentions}
        verified: list[Candidate] = []
        both_sides: list[Candidate] = []
        self._stent_of_a_dilation(state, sentence_of)
        for cand in state.candidates:
            cs = self.systems[cand.type]
            learned = train_precision(cand.path[0])
            if learned is not None:
                cand.score = round(0.5 * cand.score + 0.5 * learned, 3)
            if cand.rejected:  # set aside at locate (a usually wrong path, or by the selection agent)
                verified.append(cand)
                continue
            stems = _sentence_stems(state, sentence_of[cand.mention_id])
            notes: list[str] = []
            determined: list[str] = []
            try:
                if cand.type == "diagnosis":
                    # the words that led to the code are spent: 'brain injury' found S06.9 and does not
                    # also pick S06.9X7 '... with death due to brain injury'
                    # also digits are values, never spent: 'stage 3' in the path still picks '... stage 3'
                    # and so is displacement, which index paths name before the code does ('bimalleolar, nondisplaced')
                    spent = {w for w in phrase_stems(cand.path[0].split(": ", 1)[-1])
                             if not w.isdigit() and w not in (_DISPLACED, _NONDISPLACED)} \
                        if cand.path else set()
                    values = partial(_values_near, state, cand, sentence_of[cand.mention_id])
                    stems = _dominance_stated(state, cand, sentence_of[cand.mention_id], stems)
                    code = complete_cm(cs, cand.code, stems - spent, notes, values)
                    code = _side_stated(state, cs, cand, code, notes)
                    code = _detail_stated(cs, code, stems - spent, notes)
                    other = self._other_side(state, cand, stems - spent, code)
                    if other is not None:
                        both_sides.append(other)
                else:
                    sentence_stems = stems
                    stems = operation_stems(state, cand.evidence) or stems  # the sentence's, read above, when no word is near
                    if cand.code[:1] == "B" and OSMOLAR in sentence_stems:  # the contrast, said anywhere in the sentence
                        stems = stems | (sentence_stems & CONTRAST_WORDS)
                    if _said_open(state, cand):
                        stems = stems | {SAID_OPEN}
                    if cand.code[:1] == "0":
                        keyed = body_part_key_words(cs, stems) - stems
                        if keyed:  # an anatomical term the Body Part Key files under a body part ('femoral head')
                            notes.append(f"Body Part Key: {' '.join(sorted(keyed))}")
                            stems = stems | keyed
                    cand.code = _resection_of_a_lesion(cand, stems, notes)
                    cand.code = _repair_with_a_reinforcement(cs, cand.code, stems, notes)
                    count = state.scratch.get("devices_counted", {}).get(id(cand))
                    if count:  # the number said of the stents names no arteries; a stent is an Intraluminal Device
                        stems = stems - count[1] | INTRALUMINAL_DEVICE
                        notes.append("Device Key: Stent, intraluminal -> Intraluminal Device")
                    code = complete_pcs(cs, cand.code, stems, notes, determined,
                                        partial(_hours_near, state, cand, sentence_of[cand.mention_id]),
                                        _usual_approaches().get(cand.path[0].removeprefix("index: ")))
                    if code is not None and count and count[0] > 1:
                        code = counted_device(cs, code, count[0], notes)
                    if code is None:
                        code, other = self._pcs_both_sides(state, cand, sentence_of[cand.mention_id], stems, notes,
                                                           determined)
                        if other is not None:
                            both_sides.append(other)
                    cand.determined = determined[0] if determined else None
            except Exception as exc:  # noqa: BLE001 - a malformed index code is a rejection, not a crash
                code, notes = None, [f"cannot read {cand.code}: {exc}"]
            if code is None:
                cand.rejected = f"{cand.code} is not a complete code and the text does not say which child applies"
                verified.append(cand)
                continue
            if learned is None:  # the code is known only now that it is complete
                cand.rejected = usually_wrong(cand.path[0], code)
            cand.code = code
            cand.title = cs.title(code) or ""
            cand.notes_checked += notes
            verified.append(cand)
        verified += both_sides
        live = [c for c in verified if not c.rejected]
        self._combination_hypertension(live, self.systems["diagnosis"])
        negated = {m.id for m in state.mentions if m.assertion.negated}
        self._with_convention(state, live, self.systems["diagnosis"], sentence_of, negated)
        self._infarction_by_its_artery(state, live, self.systems["diagnosis"], sentence_of)
        self._documented_diabetes_type(live, self.systems["diagnosis"])
        self._organism_as_cause(live, self.systems["diagnosis"], sentence_of)
        self._drug_effects(live, self.systems["diagnosis"], sentence_of)
        self._excludes1(live, self.systems["diagnosis"], sentence_of, negated)
        self._less_specific(live, sentence_of)
        self._postoperative_diagnosis(state, live)
        self._behaviour_stated(live, self.systems["diagnosis"])
        self._site_of_the_primary(state.text, live, self.systems["diagnosis"])
        joined_sites = self._metastases_joined(state.text, live, self.systems["diagnosis"])
        self._external_cause_with_injury(state, live, sentence_of)
        self._how_the_fall_happened(state, live, self.systems["diagnosis"], sentence_of)
        self._circumstance_said(state, live, sentence_of)
        self._sign_in_a_combination(live)
        self._used_at_home(state, live)
        self._former_smoker(state, live, self.systems["diagnosis"], sentence_of)
        self._uncomplicated_use(live)
        self._lymph_node_region(state, live, self.systems["diagnosis"], sentence_of)
        self._approach_of_the_endoscopy(live, self.systems.get("procedure"))
        self._abscess_of_the_skin(state, live, self.systems.get("procedure"), sentence_of)
        self._inspection_to_an_end(live, sentence_of)
        self._bilateral_row(live)
        self._bilateral_code(live, self.systems["diagnosis"])
        if state.case.scope == "encounter":
            self._integral_symptoms(state, live)
        if state.agents.uses_model:
            self._review(state, [c for c in live if not c.rejected and c.type == "diagnosis"], self.systems["diagnosis"])
        # a 'code first' code goes before the code that asks for it: same evidence, so listed first
        first = self._systemic_infection_first(live, self.systems["diagnosis"]) + \
            self._code_first_underlying(state, live, self.systems["diagnosis"], sentence_of)
        self._organism_of_the_culture(state, live + first, self.systems["diagnosis"], sentence_of)
        first += self._organism_of_the_condition(state, live, self.systems["diagnosis"], sentence_of)
        heart_failure = self._heart_failure_type(live, self.systems["diagnosis"])
        additional = self._use_additional(state, live, self.systems["diagnosis"], sentence_of)
        additional += self._underdosing_reason(state, live, self.systems["diagnosis"], sentence_of)
        additional += self._infection_of_the_device(live, self.systems["diagnosis"])
        self._combination_hypertension(live + additional, self.systems["diagnosis"])  # a CKD stage added just now
        if state.case.scope == "encounter":
            additional += self._place_of_occurrence(state, live, self.systems["diagnosis"], sentence_of)
        state.candidates = first + verified + joined_sites + heart_failure + additional + \
            self._bmi(state, live, self.systems["diagnosis"]) + \
            self._family_history(state, live, self.systems["diagnosis"])
        return state

    def _stent_of_a_dilation(self, state: CaseState, sentence_of: dict[int, int]) -> None:
        """A stent put in a vessel or duct the same sentence says is dilated (angioplasty 'with insertion of a
        drug-eluting stent') is the Dilation's device, Intraluminal Device, not an Insertion of its own: the
        insertion reading is set aside and its words join the dilation's evidence, where its device is read.
        A stent said with no operation word of its own ('with placement of two drug-eluting stents') joins
        the nearest dilation of its sentence too, and the number said with it is the number of devices."""
        live = [c for c in state.candidates if c.type == "procedure" and not c.rejected and c.code[:1] == "0"]
        for insertion in [c for c in live if c.code[2:3] == "H"]:
            if not STENT_STEMS & operation_stems(state, insertion.evidence):
                continue
            sentence = sentence_of[insertion.mention_id]
            dilations = [c for c in live if c.code[2:3] == "7" and c.code[:2] == insertion.code[:2]
                         and sentence_of[c.mention_id] == sentence]
            if dilations:
                insertion.rejected = f"the stent is the device of the dilation {dilations[0].code} in the same sentence"
                for dilation in dilations:
                    dilation.evidence = merged_spans(dilation.evidence + insertion.evidence)
        tokens = state.scratch["tokens"]
        counted: dict[int, tuple[int, frozenset[str]]] = state.scratch.setdefault("devices_counted", {})
        by_sentence: dict[int, list[Candidate]] = defaultdict(list)
        for c in live:
            if c.code[2:3] == "7" and _holds_stents(self.systems["procedure"], c.code[:3]):
                by_sentence[sentence_of[c.mention_id]].append(c)
        for sentence, dilations in by_sentence.items():
            first, last = state.scratch["sentence_tokens"][sentence]
            for i in range(first, last):
                if not _a_stent_put_in(state.text, tokens, i, last):
                    continue
                dilation = min(dilations, key=lambda c: min(abs(e.start - tokens[i].start) for e in c.evidence))
                t = tokens[i]
                dilation.evidence = merged_spans(dilation.evidence + [Span(start=t.start, end=t.end, text=t.word)])
                number = _number_before(tokens, i, first)
                if id(dilation) not in counted or counted[id(dilation)][0] == 1:
                    counted[id(dilation)] = number or (1, frozenset())

    @staticmethod
    def _family_history(state: CaseState, cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """A relative's condition is not the patient's: it is coded as family history, Z80-Z84 (guideline
        I.C.21.c.4), with the relative's mention as evidence. Audit lets these codes (only) through on a
        family mention."""
        family = {m.id for m in state.mentions if m.assertion.family and not m.assertion.negated
                  and BLOOD_RELATIVE.search(state.text, *sentence_span(state, m.sentence))}
        out: dict[str, Candidate] = {}
        for c in cands:
            if c.rejected or c.type != "diagnosis" or c.mention_id not in family:
                continue
            code = family_history_code(c.code)
            if code is None or code in out or not cs.is_valid(code):
                continue
            out[code] = _instructed(cs, code, c.mention_id, c.evidence, f"family history: {c.code} in a relative -> {code}",
                                    "guideline I.C.21.c.4: family history (rules/en/family_history.json)", 0.6)
        return list(out.values())

    @staticmethod
    def _bmi(state: CaseState, cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """Body mass index Z68.- from the value written, reported only with an associated weight diagnosis
        (obesity, overweight, underweight, malnutrition: guideline I.B.14) and for adults."""
        weight = [c for c in cands if not c.rejected and c.code.startswith(BMI_DIAGNOSES)]
        m = BMI_VALUE.search(state.text)
        if not weight or not m or ADOLESCENT.search(state.text):
            return []
        value = float(m.group(2).replace(",", "."))
        code = ("Z68.1" if value < 20 else f"Z68.{int(value)}" if value < 40 else "Z68.41" if value < 45
                else "Z68.42" if value < 50 else "Z68.43" if value < 60 else "Z68.44" if value < 70 else "Z68.45")
        if not cs.is_valid(code):
            return []
        span = Span(start=m.start(), end=m.end(), text=m.group())
        weight[0].notes_checked.append(f"BMI {value:g} reported with {weight[0].code}: {code}")
        return [_instructed(cs, code, weight[0].mention_id, [span], f"BMI value '{m.group()}' with {weight[0].code}",
                            "guideline I.B.14: BMI with an associated diagnosis", 0.7)]

    @staticmethod
    def _review(state: CaseState, cands: list[Candidate], cs: CodeSystem) -> None:
        """The review agent (model, else rules) may drop verified codes the instructions rule out."""
        codes = list(dict.fromkeys(c.code for c in cands))
        labels = []
        for code in codes:
            notes = [f"{n.kind.replace('_', ' ')}: {n.text}" for n in cs.notes(code)
                     if n.kind in ("excludes1", "excludes2", "code_first", "use_additional_code")]
            labels.append((code, f"{cs.title(code) or ''}" + (f" [{'; '.join(notes)[:300]}]" if notes else "")))
        options = options_for(labels)
        decision = state.agents.decide("verify", "review", state.llm_log, note=state.text, options=options)
        dropped = {o.code: decision.reasons.get(o.key, "") for o in options if o.key in decision.keys}
        for c in cands:
            if c.code in dropped:
                c.rejected = f"dropped by the model at verify: {dropped[c.code] or 'no reason given'}"
            elif decision.fallback_reason and not c.fallback_reason:
                c.fallback_reason = f"verify: {decision.fallback_reason}"

    def _combination_hypertension(self, cands: list[Candidate], cs: CodeSystem) -> None:
        """Hypertension + heart failure / CKD: I11/I12/I13 (the classification presumes the link). A
        hypertensive heart disease read beside a CKD ('hypertensive heart and chronic kidney disease') is I13 too;
        an unspecified heart disease said with it is included (I11's 'any condition in ... I51.9 due to
        hypertension')."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        htn = [c for c in dx if c.code == "I10" or c.code[:3] in ("I11", "I12")]
        if not htn:
            return
        failure = any(c.code.startswith("I50") or c.code in ("I11.0", "I13.0", "I13.2") for c in dx)
        heart = failure or any(c.code.startswith(("I11", "I13")) for c in dx)
        ckd = [c for c in dx if c.code.startswith(("N18", "I12"))]
        if not heart and not ckd:
            return
        stage56 = any(c.code in ("N18.5", "N18.6", "I12.0") for c in ckd)
        if heart and ckd:
            code = ("I13.2" if stage56 else "I13.0") if failure else ("I13.11" if stage56 else "I13.10")
        elif heart:
            code = "I11.0" if failure else "I11.9"
        else:
            code = "I12.0" if stage56 else "I12.9"
        for h in htn:
            h.notes_checked.append(f"guideline I.C.9.a: hypertension with {'heart disease' if heart else ''}"
                                   f"{' and ' if heart and ckd else ''}{'CKD' if ckd else ''} -> {code}")
            h.code, h.title = code, cs.title(code) or ""
        for c in dx:
            if c.code[:3] in ("I11", "I12", "I13") and c.code != code and c not in htn:
                c.rejected = f"replaced by the combination code {code}"
            elif heart and c.code == "I51.9" and any(_overlap(c, h) or h.mention_id == c.mention_id for h in htn):
                c.rejected = f"included in the combination code {code} (a heart disease due to hypertension)"

    def _other_side(self, state: CaseState, cand: Candidate, stems: set[str], code: str | None) -> Candidate | None:
        """A mention that names both sides ('both knees', 'pain in the elbows') whose code was completed to
        one side: the same code for the other side (the classification has no bilateral code here, else
        _bilateral_code merges the two; guideline I.B.13). Only the mention's own words count: a 'right'
        elsewhere in the sentence tells nothing of this mention."""
        cs = self.systems["diagnosis"]
        side = _SIDE_WORD.search(cs.title(code) or "") if code is not None else None
        if side is None or not {"right", "left"} <= {s for span in cand.evidence for s in near_stems(state, span, 1)}:
            return None
        notes: list[str] = []
        other = complete_cm(cs, cand.code, stems - {side.group(1).lower()}, notes)
        other_title = cs.title(other) or "" if other is not None else ""
        if other is None or other == code or not _SIDE_WORD.search(other_title):
            return None
        return cand.model_copy(update={"code": other, "title": other_title,
                                       "notes_checked": [*cand.notes_checked, *notes, "the mention names both sides"]})

    def _pcs_both_sides(self, state: CaseState, cand: Candidate, sentence: int, stems: set[str], notes: list[str],
                        determined: list[str]) -> tuple[str | None, Candidate | None]:
        """A procedure on both sides ('iridotomy in both eyes', 'arthrocentesis of both knees') where the
        table has no bilateral body part: the right and the left row, each coded (guideline B4.3). Both
        sides must be said by one word ('both', 'bilateral', a plural limb), not a 'right' and a 'left' of
        two different things in the sentence, and said with the operation when its words are read."""
        first, end = state.scratch["sentence_tokens"][sentence]
        said_with = operation_tokens(state, cand.evidence) or state.scratch["tokens"][first:end]
        if not any({"right", "left"} <= set(t.stems) for t in said_with):
            return None, None
        cs = self.systems["procedure"]
        sides: list[tuple[str, list[str], list[str]]] = []
        for side in ("right", "left"):
            side_notes: list[str] = []
            side_determined: list[str] = []
            code = complete_pcs(cs, cand.code, stems - ({"right", "left"} - {side}), side_notes, side_determined)
            if code is None or side not in (cs.title(code) or "").lower():
                return None, None
            sides.append((code, side_notes, side_determined))
        (right, right_notes, right_determined), (left, left_notes, left_determined) = sides
        if right[:3] != left[:3] or right[4:] != left[4:]:
            return None, None  # not the same operation on the two sides
        notes += [*right_notes, "the mention names both sides and the table has no bilateral row (B4.3)"]
        determined += right_determined
        other = cand.model_copy(update={
            "code": left, "title": cs.title(left) or "", "determined": left_determined[0] if left_determined else None,
            "notes_checked": [*cand.notes_checked, *left_notes, "the mention names both sides (B4.3)"]})
        return right, other

    @staticmethod
    def _bilateral_row(cands: list[Candidate]) -> None:
        """When the table has a bilateral body part ('Kidneys, Bilateral') and it is coded, the right
        and left rows of the same procedure are not coded beside it."""
        live = [c for c in cands if not c.rejected and c.type == "procedure" and len(c.code) == 7]
        bilateral = {(c.code[:3], c.code[4:]): c.code for c in live if "bilateral" in c.title.lower()}
        for c in live:
            both = bilateral.get((c.code[:3], c.code[4:]))
            if both and both != c.code and _SIDE_WORD.search(c.title):
                c.rejected = f"both sides are coded as the bilateral body part ({both})"

    @staticmethod
    def _bilateral_code(cands: list[Candidate], cs: CodeSystem) -> None:
        """One mention read as both the right and the left code ('scarring in both eyes') is coded with the
        bilateral code when the classification has one (guideline I.B.13), not as two unilateral codes."""
        live = [c for c in cands if not c.rejected and c.type == "diagnosis"]
        by_side: dict[tuple[int, str], dict[str, Candidate]] = defaultdict(dict)
        for c in live:
            title = c.title.lower()
            side = _SIDE_WORD.search(title)
            if side:
                by_side[(c.mention_id, _SIDE_WORD.sub("#", title))][side.group(1)] = c
        for sides in by_side.values():
            if len(sides) < 2:
                continue
            right, left = sides["right"], sides["left"]
            parents = cs.parents(right.code)
            parent = parents[0][0] if parents else ""
            words = set(phrase_stems(right.title)) - {"right"}
            both = next((k for k in cs.children(parent) if cs.is_valid(k) and "bilateral" in (cs.title(k) or "").lower()
                         and set(phrase_stems(cs.title(k) or "")) - {"bilater"} <= words), None)
            if both is None:
                continue
            right.path = [*right.path, f"both sides -> bilateral code {both} (guideline I.B.13)"]
            right.code, right.title = both, cs.title(both) or ""
            left.rejected = f"both sides are coded as the bilateral code {both}"

    @staticmethod
    def _systemic_infection_first(cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """Severe sepsis and septic shock (R65.2-) are never coded alone: their note says code first the
        underlying systemic infection, and with no organism documented that is A41.9, Sepsis, unspecified
        organism (guideline I.C.1.d.1.a and I.C.1.d.4). The sepsis words are its evidence."""
        live = [c for c in cands if not c.rejected and c.type == "diagnosis"]
        if any(not c.code.startswith("R65") and re.search(r"\bsep(?:sis|ticemia)\b", c.title or cs.title(c.code) or "", re.I)
               for c in live):
            return []
        for c in live:
            if c.code.startswith("R65.2"):
                c.notes_checked.append("code first the underlying infection: A41.9 (no organism documented)")
                return [_instructed(cs, "A41.9", c.mention_id, c.evidence,
                                    f"code first at {c.code}: the systemic infection (guideline I.C.1.d.4)",
                                    f"added by the 'code first' note of {c.code}", c.score)]
        return []

    @staticmethod
    def _infarction_by_its_artery(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                                  sentence_of: dict[int, int]) -> None:
        """A cerebral infarction and the occlusion of an artery said in one sentence ('acute ischemic stroke of
        the left MCA territory due to embolism') are one condition: the infarction due to the occlusion of that
        artery (I63.0-I63.5, by thrombosis, embolism or unspecified occlusion as the sentence says), not I63.9
        beside an occlusion 'not resulting in cerebral infarction' (I65-I66, whose Excludes1 names I63)."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        titles = _infarction_titles(cs)
        for infarct in [c for c in dx if c.code == "I63.9"]:
            sentence = sentence_of[infarct.mention_id]
            stems = _sentence_stems(state, sentence)
            cause = "embolism" if stem("embolism") in stems else "thrombosis" if stem("thrombosis") in stems \
                else "unspecified occlusion or stenosis"
            for occlusion in [c for c in dx if c.code[:3] in ("I65", "I66") and sentence_of[c.mention_id] == sentence]:
                artery = (occlusion.title or "").removeprefix("Occlusion and stenosis of ")
                code = titles.get(_singular(f"{cause} of {artery}"))
                if code is None:
                    continue
                infarct.notes_checked.append(f"{infarct.code} -> {code}: the infarction is due to the {cause} of the "
                                             f"{artery} said with it ({occlusion.code}, Excludes1 of I65-I66)")
                infarct.code, infarct.title = code, cs.title(code) or ""
                infarct.evidence = merged_spans(infarct.evidence + occlusion.evidence)
                occlusion.rejected = f"the occlusion caused the infarction: combined in {code}"
                break

    @staticmethod
    def _place_of_occurrence(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                             sentence_of: dict[int, int]) -> list[Candidate]:
        """The place where an injury happened, once, with the external cause of its initial encounter
        (guideline I.C.20.b, encounter scope): 'fell at home' is W19.XXXA and Y92.009, from the External Cause
        Index's 'Place of occurrence' (a room of a residence before the same word elsewhere)."""
        places = _places_of_occurrence(cs)
        for c in cands:
            if c.rejected or c.type != "diagnosis" or not ("V00" <= c.code[:3] <= "Y38") or not c.code.endswith("A"):
                continue
            a, b = sentence_span(state, sentence_of[c.mention_id])
            found = PLACE_BEFORE.search(state.text, a, b) and _place_said(state.text, a, b, places)
            if found:
                place, code, (start, end) = found
                c.notes_checked.append(f"place of occurrence: {code} ('{place}')")
                return [_instructed(cs, code, c.mention_id, [Span(start=start, end=end, text=state.text[start:end])],
                                    f"eindex: Place of occurrence, {place}",
                                    f"added with the external cause {c.code}: place of occurrence (I.C.20.b)", 0.6)]
        return []

    @staticmethod
    def _postoperative_diagnosis(state: CaseState, cands: list[Candidate]) -> None:
        """An operative report codes its postoperative diagnosis, what the operation found, when it differs
        from the preoperative one (guideline IV.M): the preoperative diagnosis's codes are set aside unless
        the postoperative diagnosis says 'same'."""
        pre = [s for s in state.sections if s.kind == "preoperative_diagnoses"]
        post = [s for s in state.sections if s.name.replace("-", "").startswith("postoperative diagnos")]
        if not pre or not post or any(SAME_AS_BEFORE.match(state.text, s.start + len(s.name) + 1, s.end) for s in post):
            return
        for c in cands:
            if c.type == "diagnosis" and not c.rejected and c.evidence \
                    and all(any(s.start <= e.start < s.end for s in pre) for e in c.evidence):
                c.rejected = "the preoperative diagnosis, superseded by the postoperative one (guideline IV.M)"

    @staticmethod
    def _code_first_underlying(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                               sentence_of: dict[int, int]) -> list[Candidate]:
        """A manifestation whose 'code first' note names one underlying category the sentence says in its own
        words: "anemia due to CKD" reads the combination D63.1, whose words hid the kidney disease, and
        D63.1 says code first underlying chronic kidney disease (N18.-): N18.9, or the stage the sentence
        gives. A note that names a range or several categories is left to the text's own readings."""
        present = {c.code for c in cands if not c.rejected}
        added: list[Candidate] = []
        tokens = state.scratch["tokens"]
        for c in [c for c in cands if not c.rejected and c.type == "diagnosis"]:
            for note in cs.notes(c.code):
                refs = note.referenced_codes()
                if note.kind != "code_first" or len(refs) != 1 or CODE_RANGE.search(note.text) \
                        or any(p.startswith(refs[0]) for p in present):
                    continue
                words = frozenset(phrase_stems(re.sub(r"\([^)]*\)", " ", note.text))) - UNDERLYING
                a, b = state.scratch["sentence_tokens"][sentence_of[c.mention_id]]
                window = _said_together(tokens[a:b], words) if words else None
                if window is None:
                    continue
                stems = _sentence_stems(state, sentence_of[c.mention_id])
                code = complete_cm(cs, refs[0], stems - words, [], partial(_values_near, state, c,
                                                                             sentence_of[c.mention_id]))
                if code is None or code in present:
                    continue
                first, last = window
                span = Span(start=first.start, end=last.end, text=state.text[first.start:last.end])
                c.notes_checked.append(f"code first: {code} added (the sentence names it)")
                added.append(_instructed(cs, code, c.mention_id, [span], f"code first at {c.code}: {note.text}",
                                         f"added by the 'code first' note of {c.code}", c.score))
                present.add(code)
        return added

    @staticmethod
    def _heart_failure_type(cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """Hypertensive heart disease with heart failure (I11.0, I13.0, I13.2) asks for the type of heart
        failure (I50.-): I50.9 when the words that named it give no type."""
        live = [c for c in cands if not c.rejected and c.type == "diagnosis"]
        if any(c.code.startswith("I50") for c in live):
            return []
        for c in live:
            if c.code in ("I11.0", "I13.0", "I13.2"):
                c.notes_checked.append("use additional code: I50.9 (the type of heart failure is not stated)")
                return [_instructed(cs, "I50.9", c.mention_id, c.evidence,
                                    f"use additional code at {c.code}: type of heart failure (I50.-)",
                                    f"added by the 'use additional code' note of {c.code}", c.score)]
        return []

    @staticmethod
    def _with_convention(state: CaseState, cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int],
                         negated: set[int]) -> None:
        """The index's 'with' subterms link two conditions named together (guideline I.A.15): 'nausea
        and vomiting' is R11.2 Nausea with vomiting, not R11.0 and R11.10. The combination code
        replaces the first condition; the second, when it is exactly the subterm's words, is included
        in it and set aside, unless the combination asks for it ('use additional code'). A condition the
        note denies is no partner ('reflux disease without esophagitis' is K21.9)."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        in_sentence: dict[int, list[Candidate]] = defaultdict(list)
        for c in dx:
            in_sentence[sentence_of[c.mention_id]].append(c)
        for a in dx:  # a denied condition takes no partner either ('cholelithiasis without cholecystitis' is K80.20)
            if a.rejected or not a.path or not a.path[0].startswith("index: ") or a.mention_id in negated:
                continue
            path = a.path[0].removeprefix("index: ")
            if "→" in path:  # 'Gangrene, gangrenous, gallbladder → see Cholecystitis, acute': the entry it leads to
                path = path.split("→ see ", 1)[1] if "→ see " in path else ""
            for words, code in _with_subterms(cs, path) if path else ():
                members = _with_classes().get(words)
                if members is not None:  # a class of conditions: a member coded anywhere in the record
                    member = next((b for b in dx if not b.rejected and b.code.startswith(members)
                                   and b.mention_id not in negated), None)
                    full = complete_cm(cs, code, set(), []) if member is not None else None
                    if full is not None and full != a.code:
                        a.notes_checked.append(f"{a.code} with {member.code} -> {full}: index 'with' subterm "
                                               f"'{words}' (guideline I.A.15; {member.code} is coded too)")
                        a.code, a.title = full, cs.title(full) or ""
                        break
                    continue
                need = set(phrase_stems(words))
                # the partner names exactly the subterm's words; or, a condition of another category, its code's title
                # names them and no more ('peripheral neuropathy' is G62.9 Polyneuropathy, unspecified: diabetes with
                # polyneuropathy), or the combination's own 'use additional code' note names it and its words say one
                # of them (E11.621 foot ulcer: L97.4-, the heel's ulcer); or it is a reading of the combination itself
                # that shares words with this one ('acute gangrenous cholecystitis with cholelithiasis': its
                # 'cholecystitis with cholelithiasis' read K80.10; the acute one is K80.00)
                partner = next((b for b in in_sentence[sentence_of[a.mention_id]] if b is not a and not b.rejected
                                and b.code != a.code and b.mention_id not in negated
                                and (_names_exactly(state, b, need)
                                     or b.code[:3] != a.code[:3] and (set(phrase_stems(b.title)) - UNSPECIFIED_WORDS == need
                                                                      or _asks_for(cs, code, b.code, inherited=False)
                                                                      and need & _evidence_stems(b))
                                     or b.code[:3] == code[:3] and _overlap(a, b)
                                     and need <= _evidence_stems(b))),
                               None)
                if partner is None:
                    continue
                full = complete_cm(cs, code, need, [])
                if full is None:
                    continue
                a.notes_checked.append(f"{a.code} with {partner.code} -> {full}: index 'with' subterm "
                                       f"'{words}' (guideline I.A.15)")
                a.code, a.title = full, cs.title(full) or ""
                a.evidence = sorted(a.evidence + partner.evidence, key=lambda e: e.start)
                # a combination that asks for the partner's category keeps it (E11.22's CKD stage, N18.1-N18.6: N18.9 too)
                if not any(ref[:3] == partner.code[:3] for n in cs.notes(full) if n.kind == "use_additional_code"
                           for ref in n.referenced_codes()):
                    for b in dx:  # the partner as read by each index path
                        if b is not a and b.code == partner.code and not b.rejected and (b is partner or _overlap(b, partner)):
                            b.rejected = f"included in the combination code {full} ('with {words}')"
                break

    @staticmethod
    def _organism_as_cause(cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int]) -> None:
        """An organism's infection read from the words of the condition it causes ('urinary tract infection due
        to Klebsiella': the 'infection' is the urinary tract's) is coded as the cause of a disease classified
        elsewhere, the index's subterm (Infection, Klebsiella, as cause of disease classified elsewhere B96.1),
        beside the condition: N39.0 with B96.1, not A49.8, an infection of unspecified site."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        for c in dx:
            if not c.path or not c.path[0].startswith(INFECTION_PATH):
                continue
            cause = _cause_elsewhere(cs, c.path[0].removeprefix("index: "))
            if cause is None or cause == c.code:
                continue
            site = next((o for o in dx if o is not c and not o.rejected and o.code[0] not in "AB"
                         and sentence_of[o.mention_id] == sentence_of[c.mention_id]
                         and any(e.start < f.end and f.start < e.end for e in o.evidence for f in c.evidence)), None)
            if site is not None:
                c.notes_checked.append(f"{c.code} -> {cause}: the organism causes {site.code}, named with the same "
                                       "words (as cause of disease classified elsewhere)")
                c.code, c.title = cause, cs.title(cause) or ""

    @staticmethod
    def _organism_of_the_condition(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                                   sentence_of: dict[int, int]) -> list[Candidate]:
        """An organism named with a condition that has no combination code for it ('H. pylori gastritis',
        'MRSA cellulitis', 'gastric ulcer with Helicobacter pylori infection') is coded as the cause of a
        disease classified elsewhere beside the condition (guideline I.C.1.e.1(b); the index's 'as cause of
        disease classified elsewhere' subterms, B95-B97): K29.70 + B96.81, L03.116 + B95.62. The organism's
        own infection read beside the condition (A04.8) becomes that code; an organism already coded from
        the same words is not added again."""
        tokens = state.scratch["tokens"]
        starts = [t.start for t in tokens]
        organisms = _cause_organisms(cs)
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        denied = [(m.span.start, m.span.end) for m in state.mentions if m.assertion.negated]
        added: list[Candidate] = []
        by_sentence: dict[int, list[Candidate]] = defaultdict(list)
        for c in dx:
            by_sentence[sentence_of[c.mention_id]].append(c)
        for si, here in by_sentence.items():
            # a condition, or a device's infection (T80-T88 'use additional code to identify infection')
            conditions = [c for c in here if (c.code[0] not in "ABRTVWXYZ" or c.code[:2] == "T8") and c.evidence]
            if not conditions:
                continue
            a, b = state.scratch["sentence_tokens"][si]
            said = _sentence_stems(state, si)
            found = [(need, code, path) for need, code, path in organisms if need <= said]
            # the most specific organism only: 'Staphylococcus aureus' is B95.61, not also B95.8
            found = [f for f in found if not any(f[0] < g[0] for g in found)]
            for need, code, path in found:
                span_tokens = [t for t in tokens[a:b] if set(t.stems) & need]
                lo, hi = span_tokens[0].start, span_tokens[-1].end
                before = state.text[max(tokens[a].start, lo - 40):lo]
                if any(s < hi and lo < e for s, e in denied) or ORGANISM_DENIED.search(before):
                    continue
                first = bisect_left(starts, lo)
                near = [c for c in conditions if not set(phrase_stems(c.title)) & need
                        and any(abs(bisect_left(starts, e.start) - first) <= 6 for e in c.evidence)]
                if not near:
                    continue
                span = Span(start=lo, end=hi, text=state.text[lo:hi])
                same = [c for c in here if c.code[0] in "AB" and any(e.start < hi and lo < e.end for e in c.evidence)]
                infection = next((c for c in same if c.code[:3] not in ("B95", "B96", "B97")
                                  and c.path and c.path[0].startswith(INFECTION_PATH)), None)
                if infection is not None:
                    infection.notes_checked.append(f"{infection.code} -> {code}: the organism causes {near[0].code}, "
                                                   "said beside it (as cause of disease classified elsewhere)")
                    infection.code, infection.title = code, cs.title(code) or ""
                elif same:  # a less specific reading of the same words ('MRSA' read as Staphylococcus aureus)
                    for c in same:
                        if c.code[:3] in ("B95", "B96", "B97") and c.code != code:
                            c.notes_checked.append(f"{c.code} -> {code}: the organism the index names ('{path}')")
                            c.code, c.title = code, cs.title(code) or ""
                else:
                    added.append(_instructed(cs, code, near[0].mention_id, [span], f"index: {path}",
                                             f"the organism causes {near[0].code} (guideline I.C.1.e.1(b))", 0.8))
        return added

    @staticmethod
    def _underdosing_reason(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                            sentence_of: dict[int, int]) -> list[Candidate]:
        """An underdosing goes with the noncompliance code that tells its intent when the record says it
        (guideline I.C.19.e.5(c); rules/en/underdosing_reasons.json): 'missed doses of lisinopril because she
        could not afford it' is T46.4X6A + Z91.120. A noncompliance code read from the word 'underdosing'
        takes the reason said, and claims no financial hardship the record does not state."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        under = [c for c in dx if drug_intent(c.code) == "6"]
        added: list[Candidate] = []
        for si in dict.fromkeys(sentence_of[c.mention_id] for c in under):
            start, end = sentence_span(state, si)
            found = next(((m, code) for pattern, code in _underdosing_reasons()
                          if (m := pattern.search(state.text, start, end)) and cs.is_valid(code)), None)
            noncompliance = [c for c in dx if c.code.startswith("Z91.1") and sentence_of[c.mention_id] == si]
            for c in noncompliance:
                code = found[1] if found else c.code[:-1] + "8" if "financial" in c.title.lower() else c.code
                if code != c.code and cs.is_valid(code):
                    c.notes_checked.append(f"{c.code} -> {code}: the reason the record gives for the underdosing")
                    c.code, c.title = code, cs.title(code) or ""
            if found and not noncompliance:
                m, code = found
                first = next(c for c in under if sentence_of[c.mention_id] == si)
                added.append(_instructed(cs, code, first.mention_id, [Span(start=m.start(), end=m.end(), text=m.group())],
                                         f"underdosing reason: '{m.group()}'",
                                         f"guideline I.C.19.e.5(c): noncompliance with {first.code}", 0.8))
        return added

    @staticmethod
    def _infection_of_the_device(cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """T83.5 'use additional code to identify infection': an infection due to a urinary catheter is coded
        with the urinary tract infection it is (N39.0), unless the record codes the infection's site (cystitis,
        pyelonephritis, prostatitis): T83.511A + N39.0 for a catheter-associated urinary tract infection."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        device = next((c for c in dx if c.code.startswith("T83.51")), None)
        if device is None or any(c.code.startswith(URINARY_INFECTION_SITES) for c in dx):
            return []
        return [_instructed(cs, "N39.0", device.mention_id, device.evidence, "use additional code at T83.5: "
                            "code to identify infection", "T83.5: use additional code to identify infection", 0.8)]

    @staticmethod
    def _drug_effects(cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int]) -> None:
        """A drug taken in overdose is a poisoning, not also its adverse effect (guideline I.C.19.e.5(b)). A
        condition said with a drug's adverse effect is coded by the code of its category that asks for that
        adverse effect ('use additional code for adverse effect ... (T45.1X5)'): neutropenia due to
        chemotherapy is D70.1, hypothyroidism due to amiodarone E03.2 (I.C.19.e.5(a))."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        drugs = [c for c in dx if c.path and c.path[0].startswith("drug: ")]
        poisoned = {c.code[:6] for c in drugs if drug_intent(c.code) in ("1", "2", "3", "4")}
        for c in drugs:
            if drug_intent(c.code) == "5" and c.code[:6] in poisoned:
                c.rejected = "the note says this drug was taken in overdose: a poisoning, not an adverse effect " \
                             "(guideline I.C.19.e.5(b))"
        for effect in drugs:
            if effect.rejected or drug_intent(effect.code) != "5":
                continue
            for c in dx:
                if c.rejected or c in drugs or c.code[0] in "TVWXY" or sentence_of[c.mention_id] != sentence_of[effect.mention_id]:
                    continue
                asked = _asking_for_effect(cs, c.code[:3], effect.code[:7])
                # a condition read unspecified, or 'secondary' from 'secondary to' (D70.4 secondary neutropenia)
                unspecified = _unspecified_rank(c.code, c.title) > 0 or bool(c.path) and c.path[0].endswith(", secondary")
                if asked and c.code not in asked and unspecified:
                    c.notes_checked.append(f"{c.code} -> {asked[0]}: said with the adverse effect {effect.code}, "
                                           f"which {asked[0]}'s 'use additional code' note names")
                    c.code, c.title = asked[0], cs.title(asked[0]) or ""

    @staticmethod
    def _organism_of_the_culture(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                                 sentence_of: dict[int, int]) -> None:
        """An infection coded without its organism takes the organism a culture of its specimen grew, from the
        index's organism subterm (rules/en/culture_sites.json): sepsis with 'blood cultures grew MRSA' is A41.02;
        the organism's own code (B95-B96, the cause of a disease classified elsewhere) is then included. A sepsis
        takes the organism its own sentence names ('septic shock due to MRSA pneumonia': A41.02)."""
        specimens = _culture_specimens()
        tokens = state.scratch["tokens"]
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        unspecified = {main: _entry_code(cs, main) for main in {m for ms in specimens.values() for m in ms}}
        sources = [(si, main) for si in range(len(state.scratch["sentence_tokens"]))
                   if CULTURE in (stems := _sentence_stems(state, si))
                   for main in dict.fromkeys(m for st in stems for m in specimens.get(st, ()))]
        sources += [(sentence_of[c.mention_id], "Sepsis") for c in dx if c.code == unspecified.get("Sepsis")]
        for si, main in sources:
            a, b = state.scratch["sentence_tokens"][si]
            stems = _sentence_stems(state, si)
            if CULTURE_DENIED.search(state.text, tokens[a].start, tokens[b - 1].end):
                continue
            infection = next((c for c in dx if not c.rejected and c.code == unspecified[main]), None)
            if infection is None:
                continue
            # an organism's code is of the unspecified one's block (A40-A41, J12-J18): not 'severe, with septic shock'
            found = max(((need, code, path) for need, code, path in _organism_subterms(cs, main)
                         if need <= stems and code[:2] == infection.code[:2] and cs.is_valid(code)),
                        key=lambda f: len(f[0]), default=None)
            if found is None:
                continue
            need, code, path = found
            said = [Span(start=t.start, end=t.end, text=state.text[t.start:t.end])
                    for t in tokens[a:b] if set(t.stems) & need]
            infection.notes_checked.append(f"{infection.code} -> {code}: the organism its culture or its sentence "
                                           f"names ('{path}')")
            infection.code, infection.title = code, cs.title(code) or ""
            infection.evidence = sorted(infection.evidence + said, key=lambda e: e.start)
            for c in dx:
                if c.code[:3] in ("B95", "B96") and sentence_of[c.mention_id] == si and not c.rejected:
                    c.rejected = f"the organism is included in the combination code {code}"

    @staticmethod
    def _documented_diabetes_type(cands: list[Candidate], cs: CodeSystem) -> None:
        """The index reads a diabetic complication named without the type ('diabetic ketoacidosis') as type 2,
        the default only when the type is not documented (guideline I.C.4.a.2). When the record documents one
        other type (type 1 E10, drug-induced E09, secondary E08, other specified E13) and never says type 2,
        the complication is coded under that type: E10.10, not E11.10 beside E10.9."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        stated = {c.code[:3] for c in dx if c.code[:3] in ("E08", "E09", "E10", "E13")}
        defaulted = [c for c in dx if c.code[:3] == "E11"]
        if len(stated) != 1 or not defaulted or any(TYPE_2.search(" ".join([*c.path, *(e.text for e in c.evidence)]))
                                                    for c in defaulted):
            return
        category = stated.pop()
        documented = next(c for c in dx if c.code[:3] == category)
        for c in defaulted:
            code = category + c.code[3:]
            if cs.is_valid(code):
                c.notes_checked.append(f"{c.code} -> {code}: the record documents the type ({category}); type 2 is "
                                       "only the default (guideline I.C.4.a.2)")
                c.code, c.title = code, cs.title(code) or ""
                c.evidence = merged_spans(c.evidence + documented.evidence)

    @staticmethod
    def _lymph_node_region(state: CaseState, cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int]) -> None:
        """Enlarged lymph nodes of a named region are localized (R59.0); of several regions or
        'generalized', generalized (R59.1); otherwise the index's code stands."""
        for c in cands:
            if c.code not in ("R59.9", "R59.1") or c.rejected:
                continue
            stems = _sentence_stems(state, sentence_of[c.mention_id])
            regions = stems & LYMPH_REGIONS
            new = "R59.1" if "gener" in stems or len(regions) >= 3 else "R59.0" if regions else None
            if new and new != c.code:
                c.notes_checked.append(f"{c.code} -> {new}: {'generalized' if new == 'R59.1' else 'region named'}")
                c.code, c.title = new, cs.title(new) or ""

    @staticmethod
    def _external_cause_with_injury(state: CaseState, cands: list[Candidate], sentence_of: dict[int, int]) -> None:
        """External causes (V00-Y99) are coded with the injury, poisoning or other effect they explain
        (guideline I.C.20): none when no affirmed S/T code is told within EXTERNAL_CAUSE_REACH sentences of
        it ("no injuries" is none; a "frozen section" in the pathology report explains no fracture told
        paragraphs away)."""
        affirmed = _affirmed(state)
        injuries = [sentence_of[c.mention_id] for c in cands if not c.rejected and c.type == "diagnosis"
                    and c.code[0] in "ST" and c.mention_id in affirmed]
        for c in cands:
            if not c.rejected and c.type == "diagnosis" and c.code[0] in "VWXY" and \
                    not any(abs(sentence_of[c.mention_id] - s) <= EXTERNAL_CAUSE_REACH for s in injuries):
                c.rejected = "an external cause without an injury or poisoning it explains"

    @staticmethod
    def _how_the_fall_happened(state: CaseState, cands: list[Candidate], cs: CodeSystem,
                               sentence_of: dict[int, int]) -> None:
        """A trip or slip said in the sentence of a fall takes its entry's 'with fall' subterm ('fell at home,
        tripping over a rug': Tripping, over, carpet, rug or object, with fall W18.09, not W22.8 striking
        against an object), and the fall is coded by how it happened, not also as an unspecified fall (W19)."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        for c in dx:
            if not c.path or not c.path[0].startswith("eindex: ") or FALL not in _sentence_stems(state, sentence_of[c.mention_id]):
                continue
            entries = [e for e in cs.index_lookup(c.path[0].removeprefix("eindex: ") + ", with fall", source="eindex")
                       if e.matched_fully and e.code]
            code = complete_cm(cs, strip_code(entries[0].code), set(), []) if entries else None
            if code and code != c.code:
                c.notes_checked.append(f"{c.code} -> {code}: its sentence tells a fall (the entry's 'with fall')")
                c.code, c.title = code, cs.title(code) or ""
        told = {sentence_of[c.mention_id]: c.code for c in dx if "W00" <= c.code[:3] <= "W18"}
        for c in dx:
            if c.code.startswith("W19") and sentence_of[c.mention_id] in told:
                c.rejected = f"the fall is coded by how it happened ({told[sentence_of[c.mention_id]]}), not as unspecified"

    @staticmethod
    def _circumstance_said(state: CaseState, cands: list[Candidate], sentence_of: dict[int, int]) -> None:
        """A code whose title holds a circumstance its index entry does not ask for stands only when its
        sentence says it (rules/en/code_context.json): 'IV tPA was given' is no Z92.82, a tPA given in a
        different facility before admission."""
        rules = _code_contexts()
        for c in cands:
            rule = rules.get(c.code) if c.type == "diagnosis" and not c.rejected else None
            if rule is None:
                continue
            start, end = sentence_span(state, sentence_of[c.mention_id])
            if rule[0].search(state.text, start, end) is None:
                c.rejected = f"{c.code} asks for a circumstance the record does not state here ({rule[1]})"

    @staticmethod
    def _sign_in_a_combination(cands: list[Candidate]) -> None:
        """A sign or symptom (R00-R99) that an assigned combination code names after its 'with' is part of it
        (guidelines I.B.5, I.B.9): R18.8 Other ascites beside K70.31 Alcoholic cirrhosis of liver with ascites."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        withs = [(o, set(phrase_stems(o.title.lower().split(" with ", 1)[1]))) for o in dx
                 if o.code[0] != "R" and " with " in o.title.lower()]
        for c in dx:
            if c.code[0] != "R" or not withs:
                continue
            words = set(phrase_stems(c.title)) - GENERIC_TITLE_WORDS
            combination = next((o for o, named in withs if words and words <= named), None)
            if combination is not None:
                c.rejected = f"included in the combination code {combination.code} ({combination.title})"

    @staticmethod
    def _used_at_home(state: CaseState, cands: list[Candidate]) -> None:
        """A therapy the patient uses at home ('obstructive sleep apnea on CPAP at home', 'home oxygen') is no
        procedure of this stay."""
        for c in cands:
            if c.type != "procedure" or c.rejected or not c.evidence:
                continue
            first, last = c.evidence[0], c.evidence[-1]
            if AT_HOME_AFTER.match(state.text, last.end) or HOME_BEFORE.search(state.text, max(0, first.start - 12), first.start):
                c.rejected = "a therapy used at home, not a procedure of this stay"

    @staticmethod
    def _inspection_to_an_end(cands: list[Candidate], sentence_of: dict[int, int]) -> None:
        """An inspection done to achieve another procedure of the same body system by the same approach is not
        coded separately (ICD-10-PCS guideline B3.11a): an EGD with a biopsy of the duodenum is the biopsy,
        0DB98ZX, not also the inspection 0DJ08ZZ. The intestinal tracts say which body parts they reach (an EGD
        does not reach the colon a colonoscopy biopsies); other inspections, the operation of their sentence."""
        done = [c for c in cands if not c.rejected and c.type == "procedure" and c.code[:1] == "0"
                and len(c.code) == 7 and c.code[2] != "J"]
        for c in cands:
            if c.rejected or c.type != "procedure" or c.code[:1] != "0" or c.code[2:3] != "J" or len(c.code) != 7:
                continue
            reach = INSPECTED_TRACTS.get(c.code[:4])
            goal = next((o for o in done if (o.code[:2] == c.code[:2] or o.code[:4] == "0W3P" and c.code[:4] in
                                             INSPECTED_TRACTS) and o.code[4] == c.code[4]
                         # the bleeding the endoscope controls (0W3P) is in the tract its sentence inspects
                         and (o.code[3] in reach if reach and o.code[:4] != "0W3P"
                              else sentence_of[o.mention_id] == sentence_of[c.mention_id])),
                        None)
            if goal is not None:
                c.rejected = f"an inspection to achieve {goal.code} by the same approach is not coded separately " \
                             "(guideline B3.11a)"

    @staticmethod
    def _abscess_of_the_skin(state: CaseState, cands: list[Candidate], cs: CodeSystem | None,
                             sentence_of: dict[int, int]) -> None:
        """An incision and drainage of a skin abscess (a cutaneous abscess, L02, is coded in the record) drains
        the subcutaneous tissue and fascia of the region (table 0J9), not the region as a whole (0X9, 0Y9, or
        the head, neck, back or perineum of 0W9; a wall or cavity drained stays 0W9): 'incision and drainage
        of the abscess of the left lower leg' is 0J9P0ZZ beside L02.416, not 0Y9J0ZZ."""
        if cs is None or not any(c.code[:3] == "L02" for c in cands if c.type == "diagnosis" and not c.rejected):
            return
        for c in cands:
            if c.type != "procedure" or c.rejected or not (c.code[:3] in ("0X9", "0Y9") or c.code[:4] in SKIN_REGIONS) \
                    or ABSCESS not in _sentence_stems(state, sentence_of[c.mention_id]):
                continue
            stems = (operation_stems(state, c.evidence) or _sentence_stems(state, sentence_of[c.mention_id])) \
                | SUBCUTANEOUS_TISSUE
            code = complete_pcs(cs, "0J9", stems, [])
            if code is not None:
                c.notes_checked.append(f"{c.code} -> {code}: a skin abscess drains the subcutaneous tissue and fascia")
                c.code, c.title = code, cs.title(code) or ""

    @staticmethod
    def _approach_of_the_endoscopy(cands: list[Candidate], cs: CodeSystem | None) -> None:
        """An operation on the digestive tract whose approach the text leaves unsaid, in a record with an
        endoscopy that reaches its site, was done through that endoscope: 'Biopsy of the gastric antrum' after
        an EGD is Via Natural or Artificial Opening Endoscopic (the inspection then yields to it, B3.11a)."""
        if cs is None:
            return
        scopes = {c.code[:4] for c in cands if not c.rejected and c.type == "procedure" and len(c.code) == 7
                  and c.code[:4] in INSPECTED_TRACTS and c.code[4] == "8"}
        for c in cands:
            if c.rejected or c.type != "procedure" or not c.determined or len(c.code) != 7 or c.code[:2] != "0D" \
                    or c.code[4] == "8" or c.code[2] == "J":
                continue
            if any(c.code[3] in INSPECTED_TRACTS[scope] for scope in scopes):
                endoscopic = c.code[:4] + "8" + c.code[5:]
                if cs.is_valid(endoscopic):
                    c.notes_checked.append(f"{c.code} -> {endoscopic}: the approach unsaid, done through the "
                                           "record's endoscopy of that tract")
                    c.code, c.title = endoscopic, cs.title(endoscopic) or ""

    @staticmethod
    def _integral_symptoms(state: CaseState, cands: list[Candidate]) -> None:
        """A sign or symptom routinely associated with a disease the encounter codes is not coded beside it
        (guideline I.B.5): fever and cough beside pneumonia, chest pain beside an NSTEMI. The associations
        are rules (integral_symptoms.json); the record scope keeps every symptom, as a case-report index does."""
        affirmed = _affirmed(state)
        diseases = [c for c in cands if not c.rejected and c.type == "diagnosis" and c.mention_id in affirmed]
        for c in cands:
            if c.rejected or c.type != "diagnosis":
                continue
            for disease, rule in ((d, r) for d in diseases if d is not c for r in integral_symptom_rules(d.code)):
                if c.code.startswith(rule.symptom_codes):
                    c.rejected = f"a symptom integral to {rule.disease}, coded as {disease.code} (guideline I.B.5; " \
                                 "scope: encounter)"
                    break

    @staticmethod
    def _uncomplicated_use(cands: list[Candidate]) -> None:
        """Psychoactive substance use without a disorder it causes (F10.90, F12.90 ...) is not reported
        (guideline I.C.5.b.3): 'alcohol' or 'cannabis' in the social history is not a diagnosis."""
        for c in cands:
            if not c.rejected and re.fullmatch(r"F1[0-9]\.90", c.code):
                c.rejected = "substance use with no disorder it causes is not coded (guideline I.C.5.b.3)"
        # an uncomplicated abuse or dependence yields to a code of the same substance at a higher level, or at the
        # same level telling its complication (I.C.5.b.1: dependence over abuse over use): F10.231 over F10.20
        level = {"9": 0, "1": 1, "2": 2}
        told = [c for c in cands if not c.rejected and c.type == "diagnosis" and SUBSTANCE_CODE.fullmatch(c.code)]
        for c in cands:
            if c.rejected or not SUBSTANCE_CODE.fullmatch(c.code) or not c.code.endswith("0") \
                    or "uncomplicated" not in c.title.lower():
                continue
            over = next((o for o in told if o.code[:3] == c.code[:3] and o.code != c.code
                         and (level[o.code[4]] > level[c.code[4]] or level[o.code[4]] == level[c.code[4]]
                              and "uncomplicated" not in o.title.lower())), None)
            if over is not None:
                c.rejected = f"{c.code} yields to {over.code} of the same substance (guideline I.C.5.b.1: dependence " \
                             "over abuse over use, and a complication told)"

    @staticmethod
    def _former_smoker(state: CaseState, cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int]) -> None:
        """Nicotine dependence that has stopped ('ex-smoker', 'former smoker', 'quit smoking') is a
        personal history, Z87.891 (guideline I.C.5.b), not current dependence F17."""
        for c in cands:
            if c.rejected or not c.code.startswith("F17"):
                continue
            if near_stems(state, c.evidence[0], before=3) & {"ex", "former", "quit", "exsmok", "stop"}:
                c.notes_checked.append(f"{c.code} -> Z87.891: the dependence has stopped (history)")
                c.code, c.title = "Z87.891", cs.title("Z87.891") or ""

    @staticmethod
    def _behaviour_stated(cands: list[Candidate], cs: CodeSystem) -> None:
        """A neoplasm of unspecified behaviour (D49) yields to a stated behaviour (malignant, benign, in
        situ) of the same site: in the same mention ('malignant renal tumor' is C64, not also D49.5), or
        anywhere in the record, as when the pathology names the renal mass the imaging saw."""
        for c in cands:
            if c.rejected or not c.code.startswith("D49"):
                continue
            stated = [o for o in cands if o is not c and not o.rejected and o.mention_id == c.mention_id
                      and o.source == "neoplasm" and not o.code.startswith("D49")]
            if stated:
                c.rejected = f"the behaviour is stated ({stated[0].code}): not of unspecified behaviour"
                continue
            same_site = _site_categories(cs, c.path[0])
            elsewhere = [o for o in cands if not o.rejected and o.type == "diagnosis" and o.code[:3] in same_site]
            if elsewhere:
                c.rejected = f"the record states the behaviour of this site ({elsewhere[0].code}): not unspecified"

    @staticmethod
    def _site_of_the_primary(text: str, cands: list[Candidate], cs: CodeSystem | None = None) -> None:
        """A metastasis is secondary at the site it is in, not at the site it came from: in 'metastasis from
        renal carcinoma' or 'liver metastases of colon cancer' the kidney and the colon name the primary
        tumour (the site word qualifies a malignant morphology word, or follows 'from'), so the Neoplasm
        Table's secondary column is not read for them; and in 'lung adenocarcinoma with brain metastases'
        the brain is the site of a metastasis, not of a primary tumour."""
        for c in cands:
            if c.rejected or c.type != "diagnosis" or not c.path or "[Malignant " not in c.path[0]:
                continue
            sites = [(sp.start + w.start(), sp.start + w.end(), w.group()) for sp in c.evidence
                     for w in re.finditer(r"[\w-]+", sp.text) if not _METASTASIS_WORD.fullmatch(w.group().lower())
                     and not _MORPHOLOGY_WORD.fullmatch(w.group())]
            if not sites:
                continue
            if "[Malignant Secondary]" in c.path[0]:
                if all(_PRIMARY_MORPHOLOGY_AFTER.match(text, end) or _FROM_BEFORE.search(text, max(0, start - 40), start)
                       for start, end, _ in sites):
                    c.rejected = f"'{sites[0][2]}' names the site of the primary tumour, not of the metastasis"
                elif cs is not None and all(_MORPHOLOGY_OF_BEFORE.search(text, max(0, start - 50), start)
                                            for start, _, _ in sites):
                    # 'carcinoma of the left breast with metastases to the liver': the breast is the primary
                    primary = _primary_of(cs, c.path[0])
                    full = complete_cm(cs, primary, set(phrase_stems(" ".join(e.text for e in c.evidence)))
                                       | set(phrase_stems(text[max(0, sites[0][0] - 50):sites[0][0]])), []) \
                        if primary else None
                    if full is not None:
                        c.notes_checked.append(f"{c.code} -> {full}: '{sites[0][2]}' follows '<morphology> of', the "
                                               f"site of the primary tumour; its metastases are named after 'to'")
                        c.code, c.title = full, cs.title(full) or ""
                        c.path = [c.path[0].replace("[Malignant Secondary]", "[Malignant Primary]")]
            elif "[Malignant Primary]" in c.path[0] and all(_METASTASIS_AFTER.match(text, end) for _, end, _ in sites):
                c.rejected = f"'{sites[0][2]}' names the site of a metastasis, not of the primary tumour"
            elif "[Malignant Primary]" in c.path[0] and cs is not None and \
                    _METASTASIS_IN_BEFORE.search(text, max(0, min(sites)[0] - 90), min(sites)[0]):
                # 'metastasis of prostatic adenocarcinoma in the right maxillary sinus': the sinus holds the metastasis
                secondary = _secondary_of(cs, c.path[0])
                full = complete_cm(cs, secondary, set(phrase_stems(" ".join(e.text for e in c.evidence))), []) \
                    if secondary else None
                if full is not None:
                    c.notes_checked.append(f"{c.code} -> {full}: '{sites[0][2]}' is where the metastasis said before "
                                           "it is (Neoplasm Table, secondary column)")
                    c.code, c.title = full, cs.title(full) or ""
                    c.path = [c.path[0].replace("[Malignant Primary]", "[Malignant Secondary]")]

    @staticmethod
    def _metastases_joined(text: str, cands: list[Candidate], cs: CodeSystem) -> list[Candidate]:
        """A metastasis site joined by 'and' to another one ('metastases to the liver and bone', 'liver and bone
        metastases') is a second secondary neoplasm: a diagnosis reading does not share the metastasis word
        across 'and', so the Neoplasm Table's secondary column is read for the joined site here (C79.51)."""
        sites = _secondary_sites(cs)
        present = {c.code[:3] for c in cands if not c.rejected and c.type == "diagnosis"}
        added: list[Candidate] = []
        for c in [c for c in cands if not c.rejected and c.path and "[Malignant Secondary]" in c.path[0]]:
            for e in c.evidence:
                after = re.match(r"\s+and\s+(?:the\s+)?([a-z]+)\b", text[e.end:e.end + 40], re.I)
                before = re.search(r"\b([a-z]+)\s+and\s+$", text[max(0, e.start - 40):e.start], re.I)
                for m, start in ((after, e.end), (before, max(0, e.start - 40))):
                    found = sites.get(stem(m.group(1).lower())) if m else None
                    if found is None or found[0][:3] in present:
                        continue
                    code = complete_cm(cs, found[0], set(), [])
                    if code is None:
                        continue
                    span = Span(start=start + m.start(1), end=start + m.end(1), text=m.group(1))
                    added.append(Candidate(code=code, system=cs.id, type="diagnosis", mention_id=c.mention_id,
                                           evidence=[span], path=[found[1]], source="neoplasm", score=c.score,
                                           title=cs.title(code) or "",
                                           notes_checked=[f"a metastasis site joined by 'and' to {c.code}'s"]))
                    present.add(code[:3])
        return added

    @staticmethod
    def _less_specific(cands: list[Candidate], sentence_of: dict[int, int]) -> None:
        """Drop an unspecified code when a specific sibling (a code under the same parent: R59.0 for R59.9,
        not nausea R11.0 for vomiting R11.10) is assigned for the same condition: named in the same
        sentence, or restated elsewhere with more words ('hematuria' ... 'gross hematuria', 'COPD' ... 'chronic
        obstructive pulmonary disease with acute exacerbation'). A code of the same category whose title says
        all the unspecified one names yields too when restated (I48.91 'unspecified atrial fibrillation' to
        I48.0 'paroxysmal atrial fibrillation'), or said in the same sentence ('tobacco dependence, smoking one
        pack a day': F17.210, not also F17.200). Findings named apart in other words stand as their own. A
        'without complications' code always yields. Train CV: dx -0.0013, the annotators often coded both."""
        def together(a: Candidate, b: Candidate) -> bool:
            return sentence_of.get(a.mention_id) == sentence_of.get(b.mention_id)

        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected]
        by_head: dict[str, list[Candidate]] = defaultdict(list)  # a sibling shares at least two characters
        for c in dx:
            by_head[c.code[:2]].append(c)
        def rank(c: Candidate) -> int:  # 'uncomplicated' tells the course, not the kind: F17.200 is unspecified
            return _unspecified_rank(c.code, re.sub(r",?\s*uncomplicated\b", "", c.title, flags=re.I))

        for c in dx:
            without = "without complication" in c.title.lower()
            if not (rank(c) == 2 or without):
                continue
            parent = c.code[:-1].rstrip(".")
            named = set(phrase_stems(c.title)) - UNSPECIFIED_WORDS  # 'atrial fibrillation' of I48.91
            better = [o for o in by_head[c.code[:2]] if o is not c and not o.rejected and o.code != c.code
                      and rank(o) < 2
                      and (o.code.startswith(parent) and (without or _restates(c, o) or together(c, o))
                           or o.code[:3] == c.code[:3] and named <= set(phrase_stems(o.title))
                           and (_restates(c, o) or together(c, o)))]
            if better:
                c.rejected = f"less specific than {better[0].code}, which is assigned"
        for c in dx:  # one condition read at two sites of one category: the one that leaves less of its site unsaid
            vague = _unsaid_sites(c.title)
            better = [o for o in by_head[c.code[:2]] if o.code[:3] == c.code[:3] and o.code != c.code
                      and not o.rejected and _unsaid_sites(o.title) < vague
                      and _overlap(c, o)]
            if vague and better and not c.rejected:
                c.rejected = f"less specific than {better[0].code}, read from the same words"

    def _excludes1(self, cands: list[Candidate], cs: CodeSystem, sentence_of: dict[int, int], negated: set[int]) -> None:
        """Excludes1: two codes that cannot be reported together; keep the better supported. Two conditions
        the record names apart (different sentences) are unrelated and both stand: the exception of
        guideline I.A.12.a (abdominal pain on admission, back pain later). A negated mention's codes are not
        reported (the audit rejects them), so they exclude nothing and are excluded by nothing."""
        dx = [c for c in cands if c.type == "diagnosis" and not c.rejected and c.mention_id not in negated]
        order = {id(c): i for i, c in enumerate(dx)}
        by_code: dict[str, list[Candidate]] = defaultdict(list)
        for c in dx:
            by_code[c.code].append(c)
        codes = sorted(by_code)

        def starting_with(ref: str) -> list[Candidate]:
            """The candidates whose code starts with ref, in record order (a long note has thousands)."""
            i, found = bisect_left(codes, ref), []
            while i < len(codes) and codes[i].startswith(ref):
                found += by_code[codes[i]]
                i += 1
            return sorted(found, key=lambda o: order[id(o)])

        for c in dx:
            if c.rejected:
                continue
            for note in cs.notes(c.code):
                if note.kind != "excludes1":
                    continue
                for ref in note.referenced_codes():
                    for other in starting_with(ref):
                        if other is c or other.rejected or other.code == c.code:
                            continue
                        if sentence_of.get(other.mention_id) != sentence_of.get(c.mention_id):
                            c.notes_checked.append(f"Excludes1 with {other.code}: named apart, unrelated (I.A.12.a)")
                            continue
                        named = next((x for x, y in ((c, other), (other, c))  # a guideline names the winner
                                      if x.code in PREVAILS and y.code.startswith(PREVAILS[x.code])), None)
                        loser = (other if named is c else c) if named else c if c.score < other.score else other
                        winner = other if loser is c else c
                        loser.rejected = f"Excludes1 of {note.source}: '{note.text}' (kept {winner.code})"
                        winner.notes_checked.append(f"Excludes1 with {loser.code} checked: kept {winner.code}")
            if not c.rejected:
                c.notes_checked.append("Excludes1: no conflict in this record")

    @staticmethod
    def _said_in_range(state: CaseState, sentence: int, cs: CodeSystem, low: str, high: str,
                       present: set[str]) -> tuple[str, Span, str] | None:
        """The billable code within a 'use additional code' range whose title the candidate's sentence says in
        full, the most specific: the combination's reading hid it ('diabetic chronic kidney disease, stage
        3a' is E11.22, and N18.31 for the stage)."""
        a, b = state.scratch["sentence_tokens"][sentence]
        tokens = state.scratch["tokens"][a:b]
        said = {st for t in tokens for st in t.stems}
        titles = _range_titles(cs, low, high)
        if any(code in present for code, _ in titles):
            return None  # the text's own reading coded it
        fits = [(len(words), code, words, window) for code, words in titles if words <= said
                for window in [_said_together(tokens, words)] if window]
        if not fits:
            return None
        _, code, words, (first, last) = max(fits)
        return code, Span(start=first.start, end=last.end, text=state.text[first.start : last.end]), \
            f"tabular: {cs.title(code)}"

    def _use_additional(self, state: CaseState, cands: list[Candidate], cs: CodeSystem,
                        sentence_of: dict[int, int]) -> list[Candidate]:
        """'Use additional code' notes: the paired codes to add because the text names them."""
        added: list[Candidate] = []
        all_stems = {s for t in state.scratch["tokens"] for s in t.stems}
        present = {c.code for c in cands if not c.rejected}

        def add(c: Candidate, note: Note, code: str, span: Span, found_by: str = "") -> None:
            excluded = next((p for n in cs.notes(code) if n.kind == "excludes1" for ref in n.referenced_codes()
                             for p in present if p.startswith(ref)), None)
            if excluded is not None:  # 'tobacco use' (Z72.0) beside a tobacco dependence (F17.200)
                c.notes_checked.append(f"use additional code: {code} not added (Excludes1 of {code}: {excluded})")
                return
            added.append(_instructed(cs, code, c.mention_id, [span], f"use additional code at {note.source}: "
                                     f"{note.text}{found_by}",
                                     f"added by the 'use additional code' note of {note.source}", 0.6))
            present.add(code)
            c.notes_checked.append(f"use additional code: {code} added (text names it)")

        for c in cands:
            if c.rejected or c.type != "diagnosis":
                continue
            for note in cs.notes(c.code):
                if note.kind != "use_additional_code":
                    continue
                ranged = CODE_RANGE.search(note.text) or IDENTIFY_CATEGORY.match(note.text)
                if ranged:  # 'code to identify stage of chronic kidney disease (N18.1-N18.6)', '... status (Z17.-)'
                    found = self._said_in_range(state, sentence_of[c.mention_id], cs, ranged.group(1),
                                                ranged.group(2) or ranged.group(1), present)
                    if found is not None:
                        code, span, path = found
                        add(c, note, code, span, f"; {path}")
                    continue
                identify = IDENTIFY_ONE.match(note.text)  # 'code to identify dialysis status (Z99.2)'
                if note.text.lower().startswith("code") and identify is None:
                    continue  # a general instruction: flagged, not added
                words = re.sub(r"\([^)]*\)", " ", identify.group(1) if identify else note.text)
                words, _, unsaid = words.partition(" without ")  # 'dementia without behavioral disturbance'
                if unsaid and set(phrase_stems(unsaid)) <= all_stems:
                    continue  # the text says what the code is without
                stems = frozenset(phrase_stems(words)) - {"long", "term", "current", "identifi", "drug", "drugs"}
                if not stems or not stems <= all_stems \
                        or any(p.startswith(ref) for ref in note.referenced_codes() for p in present):
                    continue  # a code of the category the note names is there ('tobacco dependence (F17.-)')
                refs = [ref for ref in note.referenced_codes() if cs.is_valid(ref)]
                # codes listed as alternatives (by severity: F02.80, F02.A0, F02.B0, F02.C0): the one whose title
                # the text says most of, else the first
                ref = max(refs, key=lambda r: len(set(phrase_stems(cs.title(r) or "")) & all_stems), default=None)
                # said as one phrase: 'history of tobacco dependence' is not 'History of present illness' and a
                # 'tobacco dependence' elsewhere
                said = None if ref is None else next(
                    (w for a, b in state.scratch["sentence_tokens"]
                     for w in [_said_together(state.scratch["tokens"][a:b], stems)] if w), None)
                if ref is not None and said is not None:
                    first, last = said
                    add(c, note, ref, Span(start=first.start, end=last.end, text=state.text[first.start : last.end]))
        return added
