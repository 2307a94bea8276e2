"""Term lexicon of a code system and the matcher that finds its terms in a note.

Terms come from the books themselves: Alphabetic Index paths (main term + essential subterms;
nonessential modifiers optional), Neoplasm Table sites by behaviour column, Tabular titles and
inclusion terms. A term matches when all its stems occur in one sentence within a small window,
in any order ("chronic hepatitis C virus infection" ~ "Hepatitis, viral, C, chronic").
"""

from __future__ import annotations

import gc
import hashlib
import json
import os
import pickle
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path

from chartcoder.codesystems import CodeSystem
from chartcoder.codesystems.icd10pcs import PCS_REPLACED_SINCE_2018
from chartcoder.codesystems.store import cache_dir, prune_builds
from chartcoder.rules import load_rules
from chartcoder.stages.en_text import CAUSED, CURRENT, Token, abbreviation_words, phrase_stems, stem

LEXICON_VERSION = "11"
NEOPLASM_COLUMNS = {
    "Malignant Primary": "__malignant__",
    "Malignant Secondary": "__secondary__",
    "Ca in situ": "__insitu__",
    "Benign": "__benign__",
    "Uncertain Behavior": "__uncertain__",
    "Unspecified Behavior": "__unspecified__",
}
# the behaviour a morphology's "see Neoplasm, ..., <behaviour>" names, as the table column it reads
NEOPLASM_BEHAVIOURS = {"malignant": "Malignant Primary", "secondary": "Malignant Secondary", "in situ": "Ca in situ",
                       "benign": "Benign", "uncertain behavior": "Uncertain Behavior",
                       "unspecified behavior": "Unspecified Behavior"}
MAX_ALTERNATIVES = 8
# Main terms that name an encounter reason or a status, not a condition found in a note.
SKIP_MAIN_TERMS = {"encounter", "admission", "examination", "observation", "screening", "test", "use", "old",
                   "state", "status"}
# PCS Index main terms that in a note name a finding, not an operation ("enlargement of the prostate" is
# no Repair; the index means a surgical enlargement, which a note calls by its operation).
FINDING_WORDS = {"enlargement"}
# Main terms too generic to code on their own ("disease" alone), whose subterms are real conditions.
BARE_MAIN_TERMS = {"illness", "disease", "disorder", "syndrome", "condition", "problem", "finding", "findings",
                   "complication", "complications",
                   "transient"}  # "Transient (meaning homeless) Z59.00": the gloss is the sense, not a modifier


@cache
def _generic_stems() -> frozenset[str]:
    return frozenset(stem(w) for w in (*BARE_MAIN_TERMS, "unspecified"))


def generic_only(term: Term) -> bool:
    """A reading of a generic word alone ('disease' read as Illness, R69) names no condition of its own: it
    stands for an unqualified disease only, never in place of a named one."""
    return set(term.stems) <= _generic_stems()


@dataclass(frozen=True)
class Term:
    """A phrase of the book that leads to a code."""

    stems: tuple[str, ...]
    code: str
    source: str
    path: str
    phrase: bool = False  # its words must stand together, as written ("rectal examination")
    joined: bool = False  # ... with no word between, not even a stop word ("three-day fever", not "three days of fever")

    @property
    def key(self) -> str:
        """'source: path', as candidates carry it and as the learned statistics are keyed."""
        return f"{self.source}: {self.path}"

    @property
    def digits(self) -> bool:
        """True when the term holds a number that must stay attached."""
        return any(s.isdigit() for s in self.stems)


LIST_BREAK = re.compile(r"[,;:]|(?:(?<=\w\w)|(?<=\d))\.(?=\s)|\b(?:and|or|as well as|plus)\b", re.I)


def list_segments(text: str, tokens: list[Token]) -> list[int]:
    """A list-item number per token: it changes at a comma, semicolon, colon (a heading before its list), a
    sentence end, 'and' or 'or' between tokens."""
    seg, out = 0, []
    for i, t in enumerate(tokens):
        if i and LIST_BREAK.search(text, tokens[i - 1].end, t.start) is not None:
            seg += 1
        out.append(seg)
    return out


CONJUNCTION = re.compile(r"\b(?:and|or)\b", re.I)


def conjoined_items(text: str, tokens: list[Token], segments: list[int]) -> frozenset[int]:
    """The list items that follow 'and' / 'or' (not only a comma): only those may share a modifier
    ("brain CT and MRI"; in "pulmonary disease, hypertension" nothing is shared)."""
    return frozenset(segments[i] for i in range(1, len(tokens)) if segments[i] != segments[i - 1]
                     and CONJUNCTION.search(text, tokens[i - 1].end, tokens[i].start))


def _site_shared(chosen: set[int], touched: list[int], members: dict[int, list[int]], conjoined: frozenset[int]) -> bool:
    """Conditions joined by 'and' before one site ("cellulitis and abscess of the left lower leg"): a diagnosis
    may use every word of the earlier items and the last item's site, the words after its own head."""
    last = touched[-1]
    if last not in conjoined or not all(i in chosen for seg in touched[:-1] for i in members[seg]):
        return False
    words = members[last]
    used = [i for i in words if i in chosen]
    return bool(used) and len(used) < len(words) and used == words[len(words) - len(used):]


def _joins_items(pos: list[int], segments: list[int], members: dict[int, list[int]], coordination: bool,
                 conjoined: frozenset[int] = frozenset()) -> bool:
    """Whether a match may join the list items it touches: only by using every word of them ("diabetes
    mellitus, type 2"), never one word from each ("pulmonary disease, hypertension"), or, for a diagnosis, the
    earlier items whole with the last item's site (``_site_shared``). With
    ``coordination`` (procedure names: "right nephrectomy and adrenalectomy") the items may also share
    words as coordination does: the words used of an earlier item are its last words ("chest and abdominal
    X-rays"), or its first words when the last item starts with the words used of it ("brain CT and MRI");
    of the last item a run of adjacent words."""
    touched = sorted({segments[p] for p in pos})
    if len(touched) == 1:
        return True
    chosen = set(pos)
    if all(i in chosen for seg in touched for i in members[seg]):
        return True
    if not coordination:
        return _site_shared(chosen, touched, members, conjoined)
    runs = {seg: [i for i in members[seg] if i in chosen] for seg in touched}
    if any(used[-1] - used[0] + 1 != len(used) for used in runs.values()):
        return False
    last = touched[-1]
    first_words = runs[last][0] == members[last][0]
    shares_modifier = first_words and last in conjoined  # "brain CT and MRI": the last item is a bare head
    for seg in touched[:-1]:
        whole = len(runs[seg]) == len(members[seg])
        ends, starts = runs[seg][-1] == members[seg][-1], runs[seg][0] == members[seg][0]
        # never one item's head with the next item's modifier ("chest X-ray and abdominal ultrasound")
        if not (whole or (starts and shares_modifier) or (ends and (not first_words or len(runs[seg]) > 1))):
            return False
    return True


def _digits_attached(term: Term, pos: list[int], tokens: list[Token]) -> bool:
    """A number ("stage 3", "type 2") must stand next to another word of the term."""
    chosen = set(pos)
    for p in chosen:
        if any(s.isdigit() for s in tokens[p].stems) and not ({p - 1, p + 1} & chosen) \
                and not any(not s.isdigit() for s in tokens[p].stems if s in term.stems):
            return False
    return True


def _joined(pos: list[int], tokens: list[Token]) -> bool:
    """The tokens stand one after the other in the text, a space or a hyphen apart."""
    chosen = sorted(set(pos))
    return all(tokens[b].start - tokens[a].end <= 1 for a, b in zip(chosen, chosen[1:], strict=False))


@dataclass
class Match:
    """A term found in a note: the token positions that carry it."""

    term: int
    positions: tuple[int, ...]


CONNECTORS = {"with", "without", "in", "due to", "and", "of", "by", "as", "to", "from", "nos", "complicating",
              "during", "following", "not"}
# The External Cause Index's place levels ("Slipping, on, ice"; "Fall, falling, in, on, ladder")
PLACE_CONNECTORS = {"on", "in, on"}
# A morphology's "unspecified site" subterm is the morphology said with no site ("Pheochromocytoma,
# unspecified site D35.00"): a note that names none reads it from the morphology's own words.
# A device complication's grouping levels ("Infection, due to or resulting from, device, implant or graft, catheter
# NEC, urinary"): the note names the device itself ("catheter-associated urinary tract infection"). Their own
# entries are no reading: "infection" alone is no T85.79.
GROUPING_SUBTERMS = {"due to or resulting from", "device, implant or graft", "due to device, implant or graft"}
UNSAID_SUBTERMS = {"unspecified site", "site unspecified"} | GROUPING_SUBTERMS
DEVICE_STEMS = frozenset(phrase_stems("catheter catheters implant implants graft grafts prosthesis prosthetic stent stents "
                                      "shunt shunts pacemaker device devices lead leads pump tube tubes valve electrode "
                                      "mesh port line lines fixation nail plate screw screws pin pins wire wires "
                                      "defibrillator neurostimulator sling"))


# Main terms whose qualifier is the default reading: a fracture not stated otherwise is traumatic (the
# index keeps "Fracture, pathological" and "Fracture, nontraumatic" for the stated kinds).
DEFAULT_MAIN_TERMS = {"Fracture, traumatic": "Fracture"}


def _spellings_of_one_word(words: list[str]) -> bool:
    """Whether the comma-separated words of one index title are forms of one word ("Abdomen, abdominal",
    "Vision, visual", "Virus, viral"): they share their first letters, at least three and half the shorter
    word; "constricting, congenital" are two qualifiers."""
    if len(words) < 2:
        return False
    shared = len(os.path.commonprefix(words))
    return shared >= 4 or shared >= 3 and shared * 2 >= min(len(w) for w in words)


BRACKETED = re.compile(r"\[([^\]]+)\]")
ABBREVIATION = re.compile(r"[A-Z][A-Z0-9 ./-]*[A-Z0-9]")


EITHER_WORD = re.compile(r"([A-Za-z][\w-]*) or ([A-Za-z][\w-]*)")


def _alternatives(title: str, either: bool = False, places: bool = False) -> list[tuple[str, ...]]:
    """Stem sets of a title; "Abdomen, abdominal" lists two spellings, "Tamponade, heart" is one phrase;
    "prostate specific antigen [PSA]" is the name or its abbreviation in brackets. With ``places`` (the External
    Cause Index) a subterm's list of single words is any one of them ("staircase, stairs, steps")."""
    if "[" in title:
        base = " ".join(BRACKETED.sub(" ", title).split())
        short = [b for b in BRACKETED.findall(title) if ABBREVIATION.fullmatch(b)]
        return list(dict.fromkeys(_alternatives(base) + [phrase_stems(b) for b in short])) if base else [()]
    if title in DEFAULT_MAIN_TERMS:
        return [phrase_stems(title), phrase_stems(DEFAULT_MAIN_TERMS[title])]
    one_of = EITHER_WORD.fullmatch(title.strip()) if either else None
    if one_of:  # a PCS subterm "Partial or total": either word says it
        return [f for f in dict.fromkeys(phrase_stems(w) for w in one_of.groups()) if f] or [()]
    listed = [w.strip() for w in re.split(r",| or ", title)] if either and (" or " in title or places and "," in title) \
        else []
    if listed and all(w and " " not in w for w in listed):  # "carpet, rug or object", "staircase, stairs, steps"
        return [f for f in dict.fromkeys(phrase_stems(w) for w in listed) if f] or [()]
    parts = [p.strip() for p in title.split(",") if p.strip()]
    if len(parts) > 1 and _spellings_of_one_word([p.split()[0].lower() for p in parts if p.split()]):
        forms = [phrase_stems(p) for p in parts]
        return [f for f in dict.fromkeys(forms) if f] or [()]
    return [phrase_stems(title)]


class Lexicon:
    """Terms plus an anchor index (rarest stem -> terms) for fast matching."""

    def __init__(self, terms: list[Term], behaviours: list[Term] | None = None) -> None:
        self.terms = terms
        # morphology words that name a behaviour for the Neoplasm Table ("dermoid cyst": benign); their
        # code is the behaviour's pseudo-word, added to the tokens they cover before matching
        self.behaviours = Lexicon(behaviours) if behaviours else None
        freq = Counter(s for t in terms for s in set(t.stems))
        self.anchor: dict[str, list[int]] = defaultdict(list)
        for i, t in enumerate(terms):
            rarest = min(t.stems, key=lambda s: (freq[s], s))
            self.anchor[rarest].append(i)
        self.anchor = dict(self.anchor)
        self.stem_sets = [frozenset(t.stems) for t in terms]
        self._pairs: dict[str, dict[str, set[str]]] | None = None

    def paired_codes(self, stem_: str, other: str) -> set[str]:
        """Codes of the index entries of exactly these two words, a main term and one subterm ('Distension,
        gallbladder' K82.8 for 'distens' and 'gallbladd')."""
        if self._pairs is None:
            pairs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
            for t in self.terms:
                two = set(t.stems)
                if t.source == "index" and len(two) == 2:
                    a, b = sorted(two)
                    pairs[a][b].add(t.code)
                    pairs[b][a].add(t.code)
            self._pairs = pairs
        return self._pairs.get(stem_, {}).get(other, set())

    def match(self, tokens: list[Token], sentences: list[tuple[int, int]], slack: int = 3,
              segments: list[int] | None = None, coordination: bool = False,
              conjoined: frozenset[int] = frozenset()) -> list[Match]:
        """All terms whose stems all occur inside one sentence within len(term)+slack tokens.

        ``segments`` numbers the list items of a sentence (commas, semicolons, "and", "or" separate
        them): a match may join items only when it uses every word of the items it joins
        ("diabetes mellitus, type 2"), not pick one word from each ("pulmonary disease, hypertension").
        """
        found: list[Match] = []
        morphology: dict[int, frozenset[int]] = {}
        if self.behaviours is not None:
            tokens, morphology = self._with_behaviours(tokens, sentences)
        if segments is not None:
            members: dict[int, list[int]] = defaultdict(list)
            for i, seg in enumerate(segments):
                # a side word need not be used to join items: the side is read later ("carcinoma of the left
                # breast, upper outer quadrant" joins its items; verify takes the side)
                if coordination or not set(tokens[i].stems) <= BODY_PART_SIDES:
                    members[seg].append(i)
        for s_start, s_end in sentences:
            where: dict[str, list[int]] = defaultdict(list)
            for i in range(s_start, s_end):
                for st in tokens[i].stems:
                    where[st].append(i)
            present = where.keys()
            for st in list(where):
                for ti in self.anchor.get(st, ()):
                    if not self.stem_sets[ti] <= present:
                        continue
                    term = self.terms[ti]
                    best: tuple[int, ...] | None = None
                    for a in where[st]:
                        pos = [a]
                        for s in term.stems:
                            if s != st:
                                pos.append(min(where[s], key=lambda p: abs(p - a)))
                        span = max(pos) - min(pos) + 1
                        if term.phrase and span != len(term.stems) \
                                and not (span == 1 and tokens[a].word in abbreviation_words()):  # "TPN" says it all
                            continue
                        if term.joined and not _joined(pos, tokens):
                            continue
                        if term.digits and not _digits_attached(term, pos, tokens):
                            continue
                        if segments is not None and not _joins_items(pos, segments, members, coordination, conjoined):
                            continue
                        if span <= len(term.stems) + slack and (best is None or span < max(best) - min(best) + 1):
                            best = tuple(sorted(set(pos)))
                    if best is not None:
                        if morphology:  # a match on a morphology's words holds all of them, so no reading
                            # borrows one word of the phrase ("dermoid" of "dermoid cyst") and is dropped for it
                            best = tuple(sorted(set(best).union(*(morphology.get(p, ()) for p in best))))
                        found.append(Match(ti, best))
        return found

    def _with_behaviours(self, tokens: list[Token], sentences: list[tuple[int, int]]
                         ) -> tuple[list[Token], dict[int, frozenset[int]]]:
        """The tokens with the behaviour pseudo-word of each morphology phrase they spell added to its words,
        and for each such word the positions of its whole phrase."""
        assert self.behaviours is not None
        extra: dict[int, list[str]] = defaultdict(list)
        phrase: dict[int, frozenset[int]] = {}
        for m in self.behaviours.match(tokens, sentences, slack=1):
            for p in m.positions:
                extra[p].append(self.behaviours.terms[m.term].code)
                phrase[p] = phrase.get(p, frozenset()) | frozenset(m.positions)
        if not extra:
            return tokens, phrase
        out = list(tokens)
        for p, words in extra.items():
            t = out[p]
            out[p] = Token(t.start, t.end, t.word, tuple(dict.fromkeys(t.stems + tuple(words))))
        return out, phrase


def drop_borrowed(matches: list[Match], coordinated: list[int] | None = None,
                  heads_with: Callable[[int, int], bool] | None = None, sides: frozenset[int] = frozenset()) -> list[Match]:
    """Drop a spread-out match that borrows a word from a phrase it does not contain.

    In "heart failure with atrial fibrillation", "heart" belongs to the phrase "heart failure", so
    "Fibrillation, heart" (read across the sentence) is not a reading; "chronic hepatitis C virus
    infection" still reads "Hepatitis, viral, C, chronic", as it holds the phrase "hepatitis C" whole.
    With ``coordinated`` (the list items of procedure names), a match across items shares their words
    as coordination does ("chest and abdominal X-rays" is a chest X-ray too). ``heads_with`` says whether
    the words between two tokens attach the second to the first ('with'): a phrase's head noun may then
    be shared (diagnoses only: a procedure's site words name one operation's site). A match that skips only
    ``sides`` (positions of side words) is not spread out.
    """
    phrases: dict[int, list[frozenset[int]]] = defaultdict(list)
    for m in matches:
        if len(m.positions) > 1 and m.positions[-1] - m.positions[0] + 1 == len(m.positions):
            for p in m.positions:
                phrases[p].append(frozenset(m.positions))
    kept = []
    for m in matches:
        pos = frozenset(m.positions)
        # a side word skipped is read later, from the sentence ("intertrochanteric fracture of the right femur")
        spread = any(p not in pos and p not in sides for p in range(m.positions[0], m.positions[-1]))
        if coordinated is not None and coordinated[m.positions[0]] != coordinated[m.positions[-1]]:
            spread = False  # the list items it joins were checked as coordination when matching
        if spread and any(not phrase <= pos and not (heads_with is not None and _head_taken_up(phrase, m.positions)
                                                     and heads_with(m.positions[0], m.positions[1]))
                          for p in m.positions for phrase in phrases.get(p, ())):
            continue
        kept.append(m)
    return kept


def _head_taken_up(phrase: frozenset[int], positions: tuple[int, ...]) -> bool:
    """Whether a spread match shares only a phrase's last word, its head noun, and reads on from it: in
    "gangrenous gallbladder with multiple stones" the gallbladder is gangrenous and holds the stones."""
    return phrase & set(positions) == {max(phrase)} == {positions[0]}


# Stop words (ignored in matching) that still carry the sense of a short title ("both", "one", "more"): such a
# title left with one word is no code for that word alone (as "Multiple birth NOS" was no code for "birth"
# while "multiple" was a stop word).
SENSE_WORDS = re.compile(r"\b(?:both|one|more)\b", re.I)


def _lost_its_sense(title: str, stems: tuple[str, ...]) -> bool:
    """A title left with one word once its stop words are gone, when one of them said what the code is."""
    return len(stems) == 1 and SENSE_WORDS.search(title) is not None


def _icd10cm_terms(cs: CodeSystem) -> list[Term]:
    conn = cs.conn
    terms: list[Term] = []
    for code, title, kind, extra in conn.execute("SELECT code, title, kind, extra FROM codes"):
        if kind not in ("code", "subcategory", "category") or (extra and '"seventh"' in extra):
            continue
        if re.search(r"\b(other|specified)\b", title, re.I):
            continue  # residual categories are reached through the index ("specified NEC"), not by title
        stems = phrase_stems(title)
        if stems and not _lost_its_sense(title, stems):
            terms.append(Term(stems, code, "tabular", title))
    for code, text in conn.execute("SELECT code, text FROM notes WHERE kind = 'inclusion_term'"):
        stems = phrase_stems(text)
        if stems and not _lost_its_sense(text, stems):
            terms.append(Term(stems, code, "inclusion", text))
    index_terms = _index_terms(cs, "index", nonessential=True)
    terms += index_terms + _status_terms(index_terms) + _past_operation_and_dependence_terms(cs)
    terms += _every_subterm_agrees(index_terms)
    terms += _neoplasm_terms(cs)
    terms += _drug_terms(cs)
    terms += _index_terms(cs, "eindex", nonessential=True)
    terms += _learned_terms(procedures=False)
    # "... presenting with / in diseases classified elsewhere": manifestation codes paired by the
    # Tabular instructions, not words a note says ("presented with fever" is not R50.81)
    return [t for t in terms if "classified elsewhere" not in t.path.lower()]


def _status_terms(index_terms: list[Term]) -> list[Term]:
    """Status codes read as a note says them. "Long-term (current) drug therapy" (Z79.-): the drug class
    with a word of ongoing use ("usual treatment with anticoagulants", "chronic steroids"), which the
    note words map to the pseudo-word __longterm__ (rules/en/synonyms.json; drug names map to their
    class there too). Allergy status (Z88.-, Z91.0-): "allergic to penicillin", without the index's
    "History, personal"."""
    out = []
    long_term = set(phrase_stems("Long-term drug therapy"))
    personal_history = set(phrase_stems("History, personal"))
    long_term_names: dict[str, list[str]] = defaultdict(list)  # a drug the entries name by class only
    for word, subterm in load_rules("en", "drug_aliases").get("long_term", {}).items():
        long_term_names[subterm].append(word)
    for t in index_terms:
        if t.path.startswith("Long-term drug therapy, "):
            stems = tuple(s for s in t.stems if s not in long_term)
            if stems:
                out.append(Term(stems + ("__longterm__",), t.code, "index", t.path))
                out.append(Term(stems + (CURRENT,), t.code, "index", t.path))
            for word in long_term_names.pop(t.path.removeprefix("Long-term drug therapy, "), ()):  # once per entry
                out.append(Term(phrase_stems(word) + ("__longterm__",), t.code, "index", t.path))
                out.append(Term(phrase_stems(word) + (CURRENT,), t.code, "index", t.path))
        elif t.path.startswith("History, personal, allergy, "):
            # "allergic to penicillin" is the allergy status the index files under personal history
            out.append(Term(tuple(s for s in t.stems if s not in personal_history), t.code, "index", t.path))
    return out


def _past_operation_and_dependence_terms(cs: CodeSystem) -> list[Term]:
    """Status (Z90.-) and dependence (Z99.-) codes the index files under words a note rarely writes
    (rules/en/status_words.json): an operation said to be past, a dialysis program, a wheelchair."""
    rules = load_rules("en", "status_words")
    past = [stem(w) for w in rules["past_words"]]
    operations = {sub: f"Status, {sub}" for entry in cs.index_lookup("Status") for sub in entry.subterms
                  if re.fullmatch(r"[a-z]+ectomy", sub)}
    operations.update(rules["past_operations"])
    out = []

    def code_of(path: str) -> str | None:
        entry = next((e for e in cs.index_lookup(path) if e.matched_fully and e.code), None)
        return strip_code(entry.code) if entry else None

    for word, path in sorted(operations.items()):
        if code := code_of(path):
            out += [Term((stem(word), p), code, "index", path) for p in past]
    for entry in rules["dependence"]:
        if code := code_of(entry["index"]):
            out += [Term(tuple(w if w.startswith("__") else stem(w) for w in words), code, "index", entry["index"])
                    for words in entry["words"]]
    return out


def learned_entries() -> list[dict]:
    """Phrase -> code entries learned from the CodiEsp train split (scripts/learn_terms.py); the
    cross-validation script swaps in the entries of one half."""
    try:
        data = json.loads(resources.files("chartcoder.rules").joinpath("en", "learned_terms.json").read_text("utf-8"))
    except FileNotFoundError:
        return []
    return data.get("terms", [])


def _learned_terms(procedures: bool) -> list[Term]:
    out = []
    for e in learned_entries():
        code = PCS_REPLACED_SINCE_2018.get(e["code"], e["code"])  # learned from FY2018 gold
        is_pcs = len(code) in (4, 7) and "." not in code  # ICD-10-CM codes of 4+ characters carry a dot
        if is_pcs != procedures:
            continue
        # learned from adjacent words, so read as a phrase: one word standing for two ('lumbar' for 'low
        # back') or words spread over the sentence are not what was learned
        out.append(Term(tuple(e["stems"]), code, "learned",
                        f"learned on CodiEsp train: '{' '.join(e['stems'])}' ({e['with_code']}/{e['docs']} notes)",
                        phrase=True))
    return out


# ICD-10-PCS index subterms that point to a table ("Excision, Bladder", "Insertion of device in, Trachea")
# under a procedure name: the note says "cystectomy", not "excision" or "bladder"; those words are implied.
PCS_POINTER = re.compile(
    r"^(alteration|bypass|change device in|change|control|creation|destruction|detachment|dilation|division|drainage|"
    r"excision|extirpation|extraction|fragmentation|fusion|insertion of device in|insertion|inspection|map|"
    r"occlusion|reattachment|release|removal of device from|removal|repair|replacement|reposition|resection|"
    r"restriction|revision of device in|revision|supplement|transfer|transplantation|introduction of substance in or on|"
    r"measurement|monitoring)\b(?: with qualifier \w+)?(,.*)?$", re.I)


NEMOD_GROUP = re.compile(r"\(([^()]*)\)")


def _nonessential_forms(nemod: str | None) -> list[tuple[str, ...]]:
    """Stems of each parenthetical nonessential modifier ("(acute) (chronic)"): not needed for the code, but
    when the note says one it belongs to the reading ("mitral valve disease" reads "Disease, mitral (valve)"
    whole, not "Disease, valve"). Cross-references ("(see also ...)") are no modifier, nor an absence
    ("Nausea (without vomiting)" read on "nausea and vomiting" would say the opposite)."""
    if not nemod:
        return []
    groups = [g.strip() for g in NEMOD_GROUP.findall(nemod)]
    return [f for f in dict.fromkeys(phrase_stems(g) for g in groups
                                     if g and not re.match(r"(?:see|without)\b", g, re.I)) if f]  # "(without vomiting)" is no word to read


# A PCS Index main term that names a device ("Hearing Device", "Tracheostomy Device"): the operations below
# it (Removal of device from, Revision of device in) are what was done to the device, which the note must
# say; under a procedure name ("Appendectomy", "Resection") the operation is implied by the name.
DEVICE_NAME = re.compile(r"\bdevice\s*$", re.I)


def _root_title(by_id: dict[int, tuple], node_id: int) -> str:
    while by_id[node_id][1] is not None:
        node_id = by_id[node_id][1]
    return by_id[node_id][2]


# a disease named by its duration ("Three-day fever", "Fever, five day") is said as its name: "three days of
# fever" is a duration, not sandfly fever
DURATION_IN_A_NAME = re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten)[- ]day\b", re.I)


def _index_terms(cs: CodeSystem, source: str, pointers: re.Pattern[str] | None = None,
                 nonessential: bool = False) -> list[Term]:
    full = cs.conn.execute("SELECT id, parent_id, title, code, see, see_also, nemod FROM index_terms WHERE source = ?",
                           (source,)).fetchall()
    nemods = {r[0]: r[6] for r in full if r[6]} if nonessential else {}
    rows = [tuple(r[:4]) for r in full]
    by_id = {r[0]: r for r in rows}
    alt_cache: dict[int, list[tuple[str, ...]]] = {}
    skip: set[int] = set()
    implied = set(load_rules("en", "implied_subterms")["paths"]) if source == "index" and pointers is None else set()
    connectors = CONNECTORS | UNSAID_SUBTERMS | (PLACE_CONNECTORS if source == "eindex" else set())

    def alts(node_id: int) -> list[tuple[str, ...]]:
        if node_id in alt_cache:
            return alt_cache[node_id]
        _, parent, title, _ = by_id[node_id]
        if pointers is not None and parent is not None and pointers.match(title.strip()) \
                and not DEVICE_NAME.search(_root_title(by_id, node_id)):
            alt_cache[node_id] = alts(parent)  # implied by the procedure name above it
            if parent in skip:
                skip.add(node_id)
            return alt_cache[node_id]
        # "X or Y" is either word in a PCS subterm ("Replacement, hip, Partial or total"); the ICD-10-CM
        # index's are names ("Cushing's, syndrome or disease") or modifiers a note rarely splits (train CV)
        # the External Cause Index's lists are objects, any one of which is said ("Tripping, over, carpet, rug or
        # object"; "with fall, due to ice or snow")
        mine = _alternatives(title, either=(pointers is not None or source == "eindex") and parent is not None,
                             places=source == "eindex") \
            if title.lower().strip() not in UNSAID_SUBTERMS else [()]
        above = alts(parent) if parent is not None else []  # first, so that a skipped parent is known
        if parent is not None and path(parent) in implied:  # "inferior AMI": STEMI by wall, unsaid
            above = above + [a for a in alts(by_id[parent][1]) if a not in above]
        if (mine == [()] and title.lower().strip() not in connectors) \
                or (parent is not None and parent in skip) \
                or (parent is None and title.split(",")[0].strip().lower() in SKIP_MAIN_TERMS) \
                or (parent is None and pointers is not None and title.strip().lower() in FINDING_WORDS):
            skip.add(node_id)  # stop words only ("specified NEC", "His", "Use"): no evidence, nor below it
        if parent is None:
            result = mine
        else:
            result = []
            for up in above:
                for m in mine:
                    result.append(tuple(dict.fromkeys(up + m)))
            result = result[:MAX_ALTERNATIVES]
        alt_cache[node_id] = result
        return result

    def path(node_id: int) -> str:
        parts = []
        while node_id is not None:
            _, parent, title, _ = by_id[node_id]
            parts.append(title)
            node_id = parent
        return ", ".join(reversed(parts))

    out = []
    for node_id, parent, title, code in rows:
        if not code:
            continue
        alternatives = alts(node_id)
        if node_id in skip or (parent is None and title.split(",")[0].strip().lower() in BARE_MAIN_TERMS) \
                or title.lower().strip() in GROUPING_SUBTERMS:
            continue
        code = code.strip().rstrip("-").rstrip(".")
        p = path(node_id)
        named_duration = bool(DURATION_IN_A_NAME.search(p))
        grouped = any(f", {g}" in p.lower() for g in GROUPING_SUBTERMS)
        for stems in alternatives:
            if grouped and not DEVICE_STEMS & set(stems):
                continue  # under the unsaid device level, the note must name a device ('vascular thrombosis' is none)
            if stems:
                out.append(Term(stems, code, source, p, joined=named_duration))
                out += [Term(tuple(dict.fromkeys(stems + extra)), code, source, p)
                        for extra in _nonessential_forms(nemods.get(node_id))]
    for node_id, _, _, code, see, see_also, _ in full:
        target = see or see_also
        if code or not target:
            continue
        alternatives = alts(node_id)
        if node_id in skip:
            continue
        out += _see_terms(cs, source, alternatives, path(node_id), target)
    return out


GENERIC_PART = re.compile(r"by (?:site|type|body part)(?: and type)?|condition|specified(?: \w+)?(?: NEC)?|site|NEC", re.I)
MAX_GRAFTED = 60


def _reference_forms(target: str) -> list[str]:
    """A see reference as written when the index has it ("Disorder, bone, specified type NEC"), else without
    its placeholders, which the note fills ("Hemangioma, by site" -> Hemangioma; "Diabetes, by type, with
    ketoacidosis" -> Diabetes, with, ketoacidosis)."""
    parts = [p.strip() for p in target.split(",") if p.strip()]
    kept = [q for p in parts if not GENERIC_PART.fullmatch(p)
            for q in (["with", p[5:]] if p.lower().startswith("with ") else [p])]
    return list(dict.fromkeys(f for f in (target, ", ".join(kept)) if f))


GENERIC_TARGETS = frozenset({"condition", "condition or type", "condition and site", "condition by site"})


def _see_terms(cs: CodeSystem, source: str, alternatives: list[tuple[str, ...]], origin: str, target: str) -> list[Term]:
    """Follow a see / see also reference: the node's words lead to the target's code, and the
    target's subterms (one level) refine it ("Smoker" -> "Dependence, drug, nicotine", cigarettes)."""
    target = target.split(";")[0].strip(" ,")
    diagnostic = bool(re.search(r"\s+with qualifier diagnostic$", target, re.I))
    target = re.sub(r"\s+with qualifier \w+$", "", target)  # "Excision with qualifier Diagnostic" -> Excision
    # "see condition" is the index's "code the condition" (by its own main term), not the main term Condition
    # ("Pylorus, pyloric - see condition" read "Condition, post COVID-19" U09.9)
    if not target or target.lower().startswith("table of drugs") or target.lower() in GENERIC_TARGETS:
        return []
    entry = None
    for reference in _reference_forms(target):
        try:
            entries = cs.index_lookup(reference, source=source)
        except Exception:  # noqa: BLE001 - an unreadable reference yields no term
            entries = []
        entry = next((e for e in entries if e.matched_fully), None)
        if entry is not None:
            target = reference
            break
    if entry is None:
        return []
    out = []
    via = f"{origin} → see {', '.join(entry.path)}"
    if entry.code:
        code = strip_code(entry.code)
        out += [Term(stems, code, source, via) for stems in alternatives if stems]
    # a root operation as the target ("Biopsy -> see Excision with qualifier Diagnostic"): its subterms are
    # the body parts, all of them apply; a biopsy samples any of them, also those filed under a class
    # ("Gland, Parotid, Left"), while "Reconstruction -> see Repair" is read at its direct body parts only
    if (diagnostic or entry.path[0].lower() in DEEP_GRAFTED) and PCS_POINTER.match(entry.path[0]):
        grafts = _coded_subtree(cs, source, target, entry.path)
    elif len(entry.subterm_codes) <= MAX_GRAFTED or PCS_POINTER.match(entry.path[0]):
        grafts = [([title], code) for title, code in entry.subterm_codes.items()]
    else:
        grafts = []
    # the origin's own word as a subterm of the target ("Ulcer, heel -> see Ulcer, lower limb", which files
    # "heel, left"): that subterm's subterms refine it too
    last = origin.rsplit(", ", 1)[-1]
    if not PCS_POINTER.match(entry.path[0]) and last in entry.subterm_codes:
        sub = next((e for e in cs.index_lookup(f"{target}, {last}", source=source) if e.matched_fully), None)
        if sub is not None and len(sub.subterm_codes) <= MAX_GRAFTED:
            grafts = grafts + [([last, title], code) for title, code in sub.subterm_codes.items() if code]
    for titles, code in grafts:
        own = tuple(dict.fromkeys(s for title in titles for s in _alternatives(title)[0]))
        if not own:
            continue
        for stems in alternatives:
            if stems:
                out.append(Term(tuple(dict.fromkeys(stems + own)), strip_code(code), source, f"{via}, {', '.join(titles)}"))
    return out


# Root operations whose body parts a pointer to them reaches at every depth, as a biopsy's do: a fracture's
# reduction ("Reduction, Fracture -> see Reposition") repositions a bone filed as "Femur, Upper, Left"
DEEP_GRAFTED = {"reposition"}
PCS_GRAFT_DEPTH = 3  # Excision > Gland > Parotid > Left: the deepest body-part subterms of a root operation


def _coded_subtree(cs: CodeSystem, source: str, target: str, path: list[str]) -> list[tuple[list[str], str]]:
    """(titles below the index entry at ``path``, which ``target`` names, code) for each coded subterm down
    to PCS_GRAFT_DEPTH levels, read through the store's own cached index rows."""
    trail = next((t for t in cs.walk_index(target, source=source) if [n["title"] for n in t.nodes] == path), None)
    if trail is None:
        return []
    out: list[tuple[list[str], str]] = []
    frontier: list[tuple[int, list[str]]] = [(trail.nodes[-1]["id"], [])]
    for _ in range(PCS_GRAFT_DEPTH):
        below = [(k["id"], [*above, k["title"]], k["code"]) for parent, above in frontier
                 for k in cs.index_subterms(parent, source=source)]
        out += [(titles, code) for _, titles, code in below if code]
        frontier = [(n, titles) for n, titles, _ in below]
    return out


def _neoplasm_terms(cs: CodeSystem) -> list[Term]:
    rows = cs.conn.execute(
        "SELECT id, parent_id, title, cells FROM index_terms WHERE source = 'neoplasm'"
    ).fetchall()
    by_id = {r[0]: r for r in rows}

    roots = {r[0] for r in rows if r[1] is None}
    # sites with an entry of their own ("colon"), so a sub-site reads from them: "descending colon" is
    # "intestine, large, colon, descending" without the words of the parents
    own_entry = {phrase_stems(r[2].split(",")[0]) for r in rows if r[1] in roots}

    def site(node_id: int) -> tuple[list[str], list[tuple[str, ...]]]:
        parts, words = [], []
        while node_id is not None:
            _, parent, title, _ = by_id[node_id]
            parts.append(title)
            if parent is not None:
                words.append(phrase_stems(title.split(",")[0]))
            node_id = parent
        words.reverse()
        readings = [tuple(dict.fromkeys(st for w in words[j:] for st in w))
                    for j in range(len(words)) if j == 0 or (words[j] in own_entry and j < len(words) - 1)]
        return list(reversed(parts)), readings

    out = []
    for node_id, parent, _, cells in rows:
        if not cells or parent is None:
            continue
        parts, readings = site(node_id)
        for stems in dict.fromkeys(readings):
            if not stems:
                continue
            for column, code in json.loads(cells).items():
                token = NEOPLASM_COLUMNS.get(column)
                if token and code:
                    out.append(Term(stems + (token,), code.rstrip("-").rstrip("."), "neoplasm",
                                    ", ".join(parts) + f" [{column}]"))
    return out


SITE_WORDS = re.compile(r",?\s*\b(?:(?:un)?specified site|site unspecified|by site|NEC)\b", re.I)


def _morphologies(cs: CodeSystem) -> list[tuple[tuple[str, ...], str, str]]:
    """Index entries that send a morphology to the Neoplasm Table by site ("Cyst, dermoid - see Neoplasm,
    benign, by site"): (its words, the behaviour column, its path). Entries with a code of their own keep
    it; those naming one site ("Meningioma - see Neoplasm, meninges, benign") are left to their subterms,
    as reading them without the note's site coded more wrongly than rightly on train."""
    rows = cs.conn.execute("SELECT id, parent_id, title, code, see, see_also FROM index_terms WHERE source = 'index'"
                           ).fetchall()
    by_id = {r[0]: r for r in rows}
    out = []
    for node_id, _, _, code, see, see_also in rows:
        target = see or see_also or ""
        if code or not target.startswith("Neoplasm, "):
            continue
        parts = [p.strip() for p in target.split(";")[0].split(",")[1:]]
        column = next((NEOPLASM_BEHAVIOURS[p.lower()] for p in parts if p.lower() in NEOPLASM_BEHAVIOURS), None)
        if column is None:
            continue
        if any(p.lower() not in NEOPLASM_BEHAVIOURS and p.lower() != "by site" for p in parts):
            continue  # one site named
        titles, at = [], node_id
        while at is not None:
            titles.append(by_id[at][2])
            at = by_id[at][1]
        words = tuple(dict.fromkeys(st for t in reversed(titles) for st in phrase_stems(SITE_WORDS.sub("", t))))
        if words:
            out.append((words, column, ", ".join(reversed(titles))))
    return out


def _morphology_behaviours(cs: CodeSystem) -> list[Term]:
    """Morphologies the index reads 'by site': their words stand for the behaviour, so the site the note
    names beside them reads from the Neoplasm Table ("oncocytoma of the right kidney": kidney, benign)."""
    return [Term(words, NEOPLASM_COLUMNS[column], "morphology", path) for words, column, path in _morphologies(cs)]


# Table of Drugs and Chemicals columns, and the pseudo-words the note's wording maps to
# (rules/en/synonyms.json: "overdose" -> __poisoning__, "suicide" -> __selfharm__, "induced" -> __adverse__…).
# Poisoning of undetermined intent is coded only when the record says so; unstated intent is accidental.
ADVERSE_COLUMN = "Adverse effect"
DRUG_COLUMNS = {
    "Poisoning Accidental (unintentional)": ("__poisoning__",),
    "Poisoning Intentional self-harm": ("__poisoning__", "__selfharm__"),
    "Poisoning Assault": ("__poisoning__", "__assault__"),
    ADVERSE_COLUMN: ("__adverse__",),
    "Underdosing": ("__underdosing__",),
}


DRUG_CODE = re.compile(r"T[3-6]\d\.[0-9A-Z]{2}[1-6].?")


def drug_intent(code: str) -> str | None:
    """The 6th character of a Table of Drugs code (1-4 a poisoning by intent, 5 an adverse effect, 6 an
    underdosing), None for any other code."""
    return code[6] if DRUG_CODE.fullmatch(code) else None


def marked_on_another_word(m: Match, term: Term) -> bool:
    """A drug read as the cause named after 'due to', or as a current therapy after 'is on', whose mark sits on
    a word that is not the drug's ('due to a generalized tonic-clonic crisis' is no adverse effect of a tonic)."""
    return (CAUSED in term.stems or CURRENT in term.stems) and len(m.positions) > len(set(term.stems)) - 1


def _drug_terms(cs: CodeSystem) -> list[Term]:
    """Drug x use: 'amiodarone-induced' -> adverse effect T46.2X5, 'paracetamol overdose' -> T39.1X1."""
    rows = cs.conn.execute("SELECT id, parent_id, title, cells FROM index_terms WHERE source = 'drug'").fetchall()
    by_id = {r[0]: r for r in rows}

    def names(node_id: int) -> list[tuple[str, ...]]:
        _, parent, title, _ = by_id[node_id]
        own = _alternatives(title)
        if parent is None:
            return own
        return [tuple(dict.fromkeys(up + o)) for up in names(parent) for o in own][:MAX_ALTERNATIVES]

    rules = load_rules("en", "drug_aliases")
    aliases: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for word, row in rules["aliases"].items():
        aliases[row].append(phrase_stems(word))
    classes: dict[str, list[str]] = defaultdict(list)  # a drug the Table lacks, by the row of its class
    for word, row in rules.get("classes", {}).items():
        classes[row].append(word)
    out = []
    for node_id, parent, title, cells in rows:
        if not cells:
            continue
        for column, code in json.loads(cells).items():
            tokens = DRUG_COLUMNS.get(column)
            if not tokens or not code:
                continue
            code = code.rstrip("-").rstrip(".")
            named = [(stems, f"{title} [{column}]") for stems in
                     names(node_id) + (aliases.get(title, []) if parent is None else []) if stems]
            named += [(phrase_stems(word), f"{word.capitalize()}, as {title} [{column}]")
                      for word in (classes.get(title, []) if parent is None else [])]
            for stems, path in named:
                for said in (tokens, (CAUSED,)) if column == ADVERSE_COLUMN else (tokens,):
                    out.append(Term(stems + said, code, "drug", path))
    return out


def _icd10pcs_terms(cs: CodeSystem) -> list[Term]:
    terms = [_contrast_from_text(t) for t in _index_terms(cs, "index", PCS_POINTER) if len(t.code) >= 3]
    return terms + _body_part_key_terms(cs, terms) + _shared_by_every_subterm(terms) + _both_sides_inspected(terms) + \
        _class_word_unsaid(terms) + _procedure_terms() + _learned_terms(procedures=True)


# Body-part classes the PCS Index files organs under ("Ultrasonography, Gland, Thyroid"); a note names the
# organ alone ("thyroid ultrasound", "lumbosacral joint X-ray"). Not Artery, Vein, Lymphatic or Nerve: their
# organ words name regions too ("pelvic CT" is no pelvic vein CT, "head X-ray" no lymphangiography).
CLASS_WORDS = ("Gland", "Duct", "Bone", "Joint")
SIDE_WORDS = ("right", "left", "bilateral", "upper", "lower", "multiple", "single", "other", "body", "part")
CLASS_UNSAID = " (class word unsaid)"


def _class_word_unsaid(terms: list[Term]) -> list[Term]:
    """A procedure term without its body-part class word ("Gland"), where the organ words left say
    something besides a side, and no other term of the index reads those same words. Imaging only, and
    glands in any section: an operation's site words alone ("lumbar drainage") often name another site."""
    taken = {frozenset(t.stems): t.code for t in terms}
    sides = {stem(w) for w in SIDE_WORDS}
    found: dict[frozenset[str], Term | None] = {}
    for t in terms:
        parts = t.path.split(", ")
        if len(parts) < 3 or parts[1] not in CLASS_WORDS or "→" in t.path or \
                not (t.code[0] == "B" or parts[1] == "Gland"):
            continue
        below = set(phrase_stems(" ".join(parts[2:])))  # the organ's words (and side)
        dropped = set(phrase_stems(parts[1])) - below
        stems = tuple(s for s in t.stems if s not in dropped)
        organ = below - sides
        if len(stems) == len(t.stems) or not organ & set(stems):
            continue
        key = frozenset(stems)
        if key in taken and taken[key] != t.code:
            continue
        if key in found and (found[key] is None or found[key].code != t.code):
            found[key] = None  # two organs of two classes read alike: neither
            continue
        found[key] = Term(stems, t.code, t.source, t.path + CLASS_UNSAID, t.phrase, t.joined)
    return [t for t in found.values() if t is not None]


SEVERITY_SUBTERMS = frozenset({"mild", "moderate", "severe"})


def _every_subterm_agrees(terms: list[Term]) -> list[Term]:
    """An ICD-10-CM index entry with no code of its own whose subterms only grade its severity and all give
    the same code ("Disorder, tobacco use": mild, moderate and severe are all F17.200): said ungraded, it is
    that code, not the shorter entry its words also make ("Use, tobacco" Z72.0). Subterms that name kinds
    ("Grip, devil's") are essential and stay needed."""
    children: dict[str, list[Term]] = defaultdict(list)
    for t in terms:
        if ", " in t.path and "→" not in t.path:
            children[t.path.rsplit(", ", 1)[0]].append(t)
    have = {t.path for t in terms}
    out = []
    for parent, subs in children.items():
        codes = {t.code for t in subs}
        if parent in have or len(codes) != 1 or {t.path.rsplit(", ", 1)[1].lower() for t in subs} != SEVERITY_SUBTERMS:
            continue
        for t in subs:
            own = set(phrase_stems(t.path.rsplit(", ", 1)[1]))
            stems = tuple(st for st in t.stems if st not in own)
            if stems and len(stems) < len(t.stems):
                out.append(Term(stems, t.code, "index", f"{parent} (every subterm: {t.code})"))
    return list({(t.stems, t.code): t for t in out}.values())


def _shared_by_every_subterm(terms: list[Term]) -> list[Term]:
    """A procedure name the index gives no code of its own, whose every subterm leads to the same body
    part ("Hysterectomy": supracervical and total are both Resection, Uterus 0UT9): the name alone says
    that much."""
    by_main: dict[str, list[Term]] = defaultdict(list)
    for t in terms:
        if ", " in t.path and "→" not in t.path:
            by_main[t.path.split(", ")[0]].append(t)
    have = {t.path for t in terms}
    out = []
    for main, subs in by_main.items():
        if main in have or len({t.path for t in subs}) < 2:
            continue
        shared = subs[0].code[:4]
        if len(shared) == 4 and all(t.code.startswith(shared) for t in subs):
            stems = tuple(phrase_stems(main))
            if stems:
                out.append(Term(stems, shared, "index", f"{main} (every subterm: {shared})", phrase=True))
    return out


def procedure_term_path(phrase: str) -> str:
    """The path a procedure_terms.json phrase's reading carries."""
    return f"{phrase} (procedure_terms.json)"


def _procedure_terms() -> list[Term]:
    """Procedure names the PCS Index lacks (rules/en/procedure_terms.json: each with its reason). Their words
    stand together, unless the entry says they may be spread ('transfusion of two units of packed red blood
    cells')."""
    return [Term(phrase_stems(t["phrase"]), t["code"], "index", procedure_term_path(t["phrase"]),
                 phrase=not t.get("spread", False))
            for t in load_rules("en", "procedure_terms")["terms"]]


BOTH_SIDES = " (no side stated: both)"


def _both_sides_inspected(terms: list[Term]) -> list[Term]:
    """An examination of a paired organ that names no side ("the eye fundus was normal", "ocular
    ultrasound") covers both: the index files such rows under Right and Left (and, in imaging, Bilateral)
    only, so the organ without a side word also gets a term, for the Bilateral row where the index has
    one, else (inspection) for each side. A side the note names still wins, as its term has one word more."""
    right, left, bilateral = stem("right"), stem("left"), stem("bilateral")
    by_path = {t.path: t for t in terms}
    out = []
    for t in terms:
        if t.path.endswith(", Bilateral") and t.code[0] in "BC" and t.path[: -len("Bilateral")] + "Right" not in by_path:
            # imaging filed under the bilateral organ alone ("CT, Lung, Bilateral"): "lung CT" images both
            out.append(Term(tuple(s for s in t.stems if s != bilateral), t.code, t.source, t.path + BOTH_SIDES))
        # imaging rows may stop at the body part (a CT's contrast is the record's to say)
        if not (t.path.endswith(", Right") and (len(t.code) == 7 and t.path.startswith("Inspection, ")
                                                or len(t.code) in (4, 7) and t.code[0] in "BC")):
            continue
        base = t.path[: -len("Right")]
        other, both = by_path.get(base + "Left"), by_path.get(base + "Bilateral")
        if both is not None and t.code[0] in "BC":
            sides = [both]
        elif other is not None and len(other.code) == 7 and t.code[:3] + t.code[4:] == other.code[:3] + other.code[4:]:
            sides = [t, other] if t.path.startswith("Inspection, ") else []
        else:
            sides = []
        for side in sides:
            out.append(Term(tuple(s for s in side.stems if s not in (right, left, bilateral)), side.code, side.source,
                            side.path + BOTH_SIDES))
    return out


def _contrast_from_text(term: Term) -> Term:
    """The PCS Index writes some imaging rows with contrast Y ("Ultrasonography, Heart, Right and Left
    B246YZZ"); the contrast is the record's to say, so such a term determines the body part only and
    the row is completed from the text (an echocardiogram without contrast is B246ZZZ)."""
    if term.code.startswith("B") and len(term.code) == 7 and term.code[4] == "Y":
        return Term(term.stems, term.code[:4], term.source, term.path)
    return term


@cache
def _rules_digest() -> str:
    h = hashlib.sha256(LEXICON_VERSION.encode())
    for name in ("abbreviations", "cased_abbreviations", "synonyms", "stopwords", "procedure_terms", "status_words",
                 "implied_subterms", "drug_aliases"):
        h.update(resources.files("chartcoder.rules").joinpath("en", f"{name}.json").read_bytes())
    h.update(json.dumps(learned_entries(), sort_keys=True).encode())
    h.update(Path(__file__).read_bytes())
    h.update(Path(__file__).with_name("en_text.py").read_bytes())
    return h.hexdigest()[:12]


def _store_fingerprint(cs: CodeSystem) -> str:
    return cs.conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()[0]


def _kept_for_life(lex: Lexicon) -> Lexicon:
    """Move the lexicon (and what else is loaded by now) out of the garbage collector's reach: its
    hundreds of thousands of objects live as long as the process, and every full collection scanned
    them again (half a second each, about one per hundred notes)."""
    gc.freeze()
    return lex


@cache
def _lexicon_for(system_id: str, fingerprint: str, digest: str) -> Lexicon:
    from chartcoder.codesystems import get_system

    cs = get_system(system_id)
    path = cache_dir() / f"lexicon-{system_id}-{fingerprint}-{digest}.pkl"
    if path.exists():
        try:
            with path.open("rb") as f:
                return _kept_for_life(pickle.load(f))
        except Exception:  # noqa: BLE001 - a broken cache file is rebuilt, never fatal
            path.unlink(missing_ok=True)
    builder = {"icd10cm": _icd10cm_terms, "icd10pcs": _icd10pcs_terms}[system_id]
    terms = list(dict.fromkeys(builder(cs)))
    lex = Lexicon(terms, _morphology_behaviours(cs) if system_id == "icd10cm" else None)
    tmp = path.with_suffix(f".{id(lex)}.tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("wb") as f:
        pickle.dump(lex, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    prune_builds(path, re.compile(rf"lexicon-{re.escape(system_id)}-[0-9a-f]+-[0-9a-f]+\.pkl"))
    return _kept_for_life(lex)


def lexicon(cs: CodeSystem) -> Lexicon:
    """The (cached) lexicon of an English code system."""
    return _lexicon_for(cs.id, _store_fingerprint(cs), _rules_digest())


@lru_cache(maxsize=4096)
def table_rows(cs: CodeSystem, prefix: str) -> tuple[tuple[str, str], ...]:
    """The billable rows under a PCS prefix (cached: a note completes the same tables again and again)."""
    rows = cs.conn.execute("SELECT code, title FROM codes WHERE code >= ? AND code < ? AND billable = 1 LIMIT 5000",
                           (prefix, prefix + "\uffff")).fetchall()  # a code range (the primary key serves it)
    return tuple((code, title) for code, title in rows)


@lru_cache(maxsize=4096)
def table_row_words(cs: CodeSystem, prefix: str) -> tuple[tuple[str, frozenset[str]], ...]:
    return tuple((code, frozenset(phrase_stems(title))) for code, title in table_rows(cs, prefix))


def body_part_words(row_words: list[tuple[str, set[str]]] | tuple[tuple[str, frozenset[str]], ...],
                    shared: set[str] | frozenset[str]) -> dict[str, frozenset[str]]:
    """Body part (4th character) -> the words all its rows have, less ``shared`` (the words every row of the
    table has): what the text must say for that body part (a device word such as 'synthetic substitute'
    names none)."""
    by_part: dict[str, list[frozenset[str]]] = defaultdict(list)
    for code, words in row_words:
        by_part[code[3]].append(frozenset(words))
    return {part: frozenset.intersection(*parts) - shared for part, parts in by_part.items()}


@lru_cache(maxsize=4096)
def table_body_parts(cs: CodeSystem, table: str) -> tuple[frozenset[str], ...]:
    """The words of each body part of a PCS table ("coronari arteri" for Dilation, Coronary Artery, One Artery)."""
    rows = table_row_words(cs, table)
    if not rows:
        return ()
    return tuple(body_part_words(rows, frozenset.intersection(*(words for _, words in rows))).values())


def strip_code(code: str) -> str:
    """Index codes may end with '-' (incomplete) or '.'."""
    return re.sub(r"[-.]+$", "", code.strip())


BODY_PART_SIDES = frozenset({"left", "right", "bilater"})


@cache
def _body_part_key_entries(cs: CodeSystem) -> tuple[tuple[frozenset[str], tuple[str, ...], str], ...]:
    """Every anatomical term of the ICD-10-PCS Body Part Key (the definitions' 'includes' of each
    medical-surgical body part value) whose words all read: (words of the body part it is coded to, its side
    left to the text; the term's stems; the term as written). 'Bundle of His' loses 'his', a stop word, and is
    no 'bundle'."""
    out = []
    for term, includes in cs.conn.execute(
            "SELECT term, includes FROM definitions WHERE section = '0' AND axis_title = 'Body Part' "
            "AND includes IS NOT NULL"):
        part = frozenset(phrase_stems(term)) - BODY_PART_SIDES
        for phrase in includes.split("; "):
            words = phrase_stems(phrase)
            said = set(re.findall(r"[a-z]+", re.sub(r"\([^)]*\)", " ", phrase.lower()))) - {"of", "the", "and"}
            if words and part and len(words) >= len(said):
                out.append((part, words, phrase))
    return tuple(out)


@cache
def body_part_key(cs: CodeSystem) -> tuple[tuple[frozenset[str], frozenset[str]], ...]:
    """The Body Part Key as (words of an anatomical term, words of the body part it is coded to): a 'femoral
    head' is Upper Femur, a 'patellofemoral joint' Knee Joint, Femoral Surface. A term the key files under two
    body parts (an interphalangeal joint of a toe or a finger) tells none."""
    found: dict[frozenset[str], set[frozenset[str]]] = defaultdict(set)
    for part, words, _ in _body_part_key_entries(cs):
        found[frozenset(words)].add(part)
    return tuple((words, next(iter(parts))) for words, parts in found.items() if len(parts) == 1)


def _body_part_key_phrases(cs: CodeSystem) -> dict[frozenset[str], list[tuple[tuple[str, ...], str]]]:
    """Body part words -> (anatomical term's stems, the term as written), for the terms that tell one body part."""
    unique = {words for words, _ in body_part_key(cs)}
    by_part: dict[frozenset[str], dict[tuple[str, ...], str]] = defaultdict(dict)
    for part, words, phrase in _body_part_key_entries(cs):
        if frozenset(words) in unique:
            by_part[part][words] = phrase
    return {part: list(phrases.items()) for part, phrases in by_part.items()}


def _body_part_key_terms(cs: CodeSystem, terms: list[Term]) -> list[Term]:
    """Index terms whose body part the note names by an anatomical term of the Body Part Key: "Excision,
    Femur, Upper, Right" is also read from 'excision of the right femoral head', said as one phrase. The body
    part is the path's words past its main term and root operation, less the side, and must be exactly the
    key's body part ("Bladder Neck" is no "Neck")."""
    by_part = _body_part_key_phrases(cs)
    out = []
    for t in terms:
        if t.source != "index" or "(" in t.path:
            continue
        part = _path_body_part(cs, t.path)
        for words, phrase in by_part.get(part, ()):
            stems = tuple(dict.fromkeys([s for s in t.stems if s not in part] + list(words)))
            # said as one phrase ("excision of the right femoral head"): read anywhere in the sentence beside an
            # operation word, anatomical words made readings of translated sentences (train CV px -0.0021)
            out.append(Term(stems, t.code, t.source, f"{t.path} (Body Part Key: {phrase})", phrase=True))
    return out


@cache
def _root_operations(cs: CodeSystem) -> frozenset[str]:
    return frozenset(stem(r[0].lower()) for r in cs.conn.execute(
        "SELECT term FROM definitions WHERE section = '0' AND axis_title = 'Operation'"))


def _path_body_part(cs: CodeSystem, path: str) -> frozenset[str]:
    """The body part words of an index path: its words past the main term and root operation, less the side."""
    main = set(phrase_stems(path.split(",")[0].split(" →")[0]))
    target = path.rsplit("→ see ", 1)[-1]  # "Biopsy, Drainage with qualifier Diagnostic → see Drainage, Ear, ..."
    return frozenset(phrase_stems(target)) - main - _root_operations(cs) - BODY_PART_SIDES


def keyed_elsewhere(cs: CodeSystem, path: str, tokens: list[Token], positions: tuple[int, ...]) -> str | None:
    """The Body Part Key term a reading's body part word is only part of, when the key files it under another
    body part: the 'head' of "the femoral head was excised" is Upper Femur, not the Head (0WB0)."""
    part = _path_body_part(cs, path)
    entries = _keyed_terms_holding(cs, part) if part else ()
    if not entries:
        return None
    for at in positions:
        if not part & set(tokens[at].stems):
            continue
        near = {s for t in tokens[max(0, at - 2):at + 3] for s in t.stems}
        for words, phrase in entries:
            if words <= near:
                return phrase
    return None


@lru_cache(maxsize=4096)
def _keyed_terms_holding(cs: CodeSystem, part: frozenset[str]) -> tuple[tuple[frozenset[str], str], ...]:
    """The Body Part Key terms that hold a body part's words and more, filed under another body part."""
    return tuple((frozenset(words), phrase) for keyed, words, phrase in _body_part_key_entries(cs)
                 if part < frozenset(words) and keyed != part)


def body_part_key_words(cs: CodeSystem, stems: set[str] | frozenset[str]) -> set[str]:
    """The words of the body parts the Body Part Key files the text's anatomical terms under."""
    return {s for words, part in body_part_key(cs) if words <= stems for s in part}
