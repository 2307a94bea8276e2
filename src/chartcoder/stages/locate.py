"""Locate: turn the terms found for each mention into ranked candidate codes.

Within a mention the most specific reading wins: a term whose words are a subset of a longer
term's words is dropped (so "heart failure" yields to "chronic systolic heart failure"). On a
tie the Alphabetic Index path beats a tabular title, as a coder starts from the index.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import cache, lru_cache
from typing import ClassVar

from chartcoder.codesystems import CodeSystem
from chartcoder.llm.agents import options_for
from chartcoder.pipeline import CaseState
from chartcoder.rules import load_rules
from chartcoder.stages.analyze import operation_stems, sentence_span
from chartcoder.stages.en_text import Token, absent_words, phrase_stems, stem
from chartcoder.stages.learned import hidden_precision, presumed_combination, reading_precision, train_precision, usually_wrong
from chartcoder.stages.lexicon import (
    BOTH_SIDES,
    PCS_POINTER,
    Match,
    generic_only,
    keyed_elsewhere,
    lexicon,
    procedure_term_path,
    strip_code,
    table_body_parts,
)
from chartcoder.types import Candidate, Mention, Span

FALLBACK_PRECISION = 0.4
PREFER_MARGIN = 0.2
ALSO_PRECISION = 0.5
SOURCE_RANK = {"index": 3, "eindex": 2, "neoplasm": 3, "drug": 3, "inclusion": 2, "tabular": 1, "learned": 0}


def evidence_spans(text: str, tokens: list[Token], positions: tuple[int, ...]) -> list[Span]:
    """Character spans of matched tokens, adjacent tokens merged."""
    spans: list[Span] = []
    for p in sorted(positions):
        t = tokens[p]
        if spans and p - 1 in positions and t.start - spans[-1].end <= 2:
            s = spans[-1]
            spans[-1] = Span(start=s.start, end=t.end, text=text[s.start : t.end])
        else:
            spans.append(Span(start=t.start, end=t.end, text=text[t.start : t.end]))
    return spans


def _nonessential_words(term: object) -> int:
    """How many of a reading's words its entry names only as a nonessential modifier: of two readings of the
    same words, the entry that names them as subterms wins ('alcohol withdrawal delirium' is Alcohol,
    withdrawal, with delirium F10.231, not Alcohol, delirium (withdrawal) F10.921, intoxication delirium)."""
    return len(set(term.stems) - _path_stems(term.path))


def _fewer_nonessential(term: object, other: object) -> int:
    """1 when an index reading names fewer of the words as nonessential modifiers than the other, -1 when more;
    0 when either reads through 'see' (its path names the target's words, not the note's) or is no index entry."""
    if "→" in term.path or "→" in other.path or not term.source == other.source == "index":
        return 0  # a tabular title has no nonessential modifiers to compare
    a, b = _nonessential_words(term), _nonessential_words(other)
    return (a < b) - (a > b)


@lru_cache(maxsize=65536)
def _path_stems(path: str) -> frozenset[str]:
    return frozenset(phrase_stems(path))


def best_readings(matches: list[tuple[Match, object]], sentence_stems: frozenset[str] = frozenset(),
                  procedures: CodeSystem | None = None) -> list[tuple[Match, object]]:
    """Keep maximal matches: drop any whose positions and stems are covered by a stronger one.

    Readings with the same words and positions but different codes differ only in words the note
    left implied ("Cystectomy" -> Excision / Resection, Bladder): the one whose implied words the
    sentence supports most wins ("partial" stands for excision); on a tie the one that removes the whole
    body part (Resection), as the procedure name says unless qualified.
    """
    sided = {term.path.rsplit(", ", 1)[0] for _, term in matches if not term.path.endswith(BOTH_SIDES)}
    matches = [(m, term) for m, term in matches  # a side the note names wins over the unsided reading
               if not (term.path.endswith(BOTH_SIDES) and term.path[: -len(BOTH_SIDES)].rsplit(", ", 1)[0] in sided)]
    ranked = sorted(matches, key=lambda mt: (-len(mt[0].positions), -len(mt[1].stems),
                                             -SOURCE_RANK.get(mt[1].source, 0), len(mt[1].code)))
    kept: list[tuple[Match, object]] = []
    for m, term in ranked:
        pos = set(m.positions)
        dominated = False
        for i, (km, kterm) in enumerate(kept):
            if (term.source == "eindex") != (kterm.source == "eindex"):
                continue  # an external cause and a condition read from the same words are two codes
            kpos = set(km.positions)
            if pos == kpos and term.path.endswith(BOTH_SIDES) and kterm.path.endswith(BOTH_SIDES):
                continue  # an unsided examination of a paired organ: both sides stand
            if pos == kpos and set(term.stems) == set(kterm.stems) and term.code != kterm.code:
                if _refines(term.code, kterm.code) or not _refines(kterm.code, term.code) and \
                        (_fewer_nonessential(term, kterm), _see_keeps_its_word(term, kterm),
                         _implied_support(term, sentence_stems, procedures), -_pointers(term), _whole_organ(term)) > \
                        (_fewer_nonessential(kterm, term), _see_keeps_its_word(kterm, term),
                         _implied_support(kterm, sentence_stems, procedures), -_pointers(kterm), _whole_organ(kterm)):
                    kept[i] = (m, term)
                dominated = True
                break
            if pos == kpos and {term.source, kterm.source} == {"index", "neoplasm"} and term.code[:3] != kterm.code[:3]:
                # the index names the morphology at that site itself ("Teratoma, ovary" D27.-): its entry, not
                # the Neoplasm Table row the morphology's behaviour reads (D39.1-); within one category the
                # table row stays, as it reads the side too
                if term.source == "index":
                    kept[i] = (m, term)
                dominated = True
                break
            if pos <= kpos and _supersedes(term, kterm):
                kept[i] = (m, term)
                dominated = True
                break
            if pos <= kpos and (pos < kpos or len(term.stems) < len(kterm.stems)
                                or set(term.stems) <= set(kterm.stems)):
                dominated = True
                break
        if not dominated:
            kept.append((m, term))
    return kept


def _see_keeps_its_word(term: object, other: object) -> bool:
    """Of two 'see' readings of the same words, whether this one lands on an entry that names the word it was
    read from: "Fracture, femur, intertrochanteric → see Fracture, femur, trochanteric, intertrochanteric"
    (S72.14), not the trochanteric entry above it (S72.10); "Ulcer, heel → see Ulcer, lower limb, heel, left"
    (L97.42-)."""
    entry, _, target = term.path.partition(" → see ")
    if not target or " → see " not in other.path:
        return False
    return entry.rsplit(", ", 1)[-1].lower() in [p.lower() for p in target.split(", ")[1:]]


@cache
def _superseded_entries() -> dict[str, tuple[str, ...]]:
    """Per procedure_terms.json phrase (as its path reads), the index entries it wins over."""
    return {procedure_term_path(t["phrase"]): tuple(t["over"])
            for t in load_rules("en", "procedure_terms")["terms"] if t.get("over")}


def _supersedes(term: object, longer: object) -> bool:
    """A coder's procedure name wins over the longer index reading its rule names: 'PICC ... in the right
    basilic vein' is a PICC, tip in the superior vena cava, not an insertion into the basilic vein."""
    over = _superseded_entries().get(term.path)
    return bool(over) and longer.path.startswith(over)


def _refines(code: str, other: str) -> bool:
    """Two PCS index entries for the same words, one going further ("Cesarean section" 10D0 beside "Section,
    cesarean" 10D): the longer code says more."""
    return "." not in code and len(code) > len(other) and code.startswith(other)


def _prefer_learned(reading: tuple[Match, object], readings: list[tuple[Match, object]],
                    wrong: dict[int, str | None], tokens: list[Token]) -> tuple[Match, object]:
    """The chosen reading, or a reading of fewer of its words that the training notes bore out clearly
    more often (how often each reading's code was right whenever the reading matched, chosen or not:
    ``learned.reading_precision``), unless it restates the chosen reading's main term: "Anemia" for
    "Tuberculosis, anemia" read across "anemia due to tuberculosis", never "Pain" for "Pain, scrotum",
    the same condition less specified (though the annotators often kept to R52)."""
    m, term = reading
    mine = reading_precision(term.key)
    if mine is None or presumed_combination(term.path):
        return reading
    best, best_p = reading, mine + PREFER_MARGIN
    condition = _condition_positions(m, term, tokens)
    for r in readings:
        if r[1] is term or wrong[id(r[1])] or not set(r[0].positions) <= set(m.positions):
            continue
        if set(r[0].positions) & condition:
            continue  # the same condition less specified ('Pain' of 'Pain, scrotum')
        p = reading_precision(r[1].key)
        if p is not None and p > best_p:
            best, best_p = r, p
    return best


def _hidden(m: Match, readings: list[tuple[Match, object]]) -> bool:
    """Whether a longer reading of the same mention covers this one's words (and so hides it)."""
    return any(set(m.positions) < set(o.positions) for o, _ in readings)


def main_term(path: str) -> str:
    """The main term of an index path ('Infection' of 'Infection, urinary'; 'Dilation' of 'Dilation,
    Pancreatic Duct'), without a cross-reference."""
    return path.split(",")[0].split(" →")[0].strip()


def _condition_positions(m: Match, term: object, tokens: list[Token]) -> set[int]:
    """The words of a reading that name its condition: those of an index path's main term ('infection' of
    'Infection, urinary'); a tabular title or a learned phrase names one condition with all its words."""
    if term.source not in ("index", "eindex", "drug"):
        return set(m.positions)
    main = set(phrase_stems(main_term(term.path)))
    return {p for p in m.positions if main & set(tokens[p].stems)}


def _says_more(longer: Match, longer_term: object, shorter: Match, shorter_term: object) -> bool:
    """Whether a reading covers another's words and says more: more words, or more of one word's meaning
    ('CKD' read as chronic kidney disease, not only as kidney disease)."""
    a, b = set(longer.positions), set(shorter.positions)
    return b < a or b == a and len(longer_term.stems) > len(shorter_term.stems)


def _also_learned(kept: list[tuple[Match, object]], readings: list[tuple[Match, object]],
                  wrong: dict[int, str | None], tokens: list[Token]) -> list[tuple[Match, object]]:
    """Readings of fewer words that a kept reading hid, whose code the training notes bore out on its own
    most of the times it matched, when they name another condition: not the kept reading's main term, of
    another chapter and no symptom ("hypertensive" I10 beside hypertensive retinopathy H35.03, whose note
    says code also the hypertension). "Infection" B99.9 inside "urinary tract infection" is the same
    condition less specified, though the training coders often coded both (the issue: unspecified only as
    a fallback; I.B.5). A "with" combination keeps its components out (I.A.15); Verify still applies
    Excludes1 and drops a code less specific than one assigned."""
    chosen = {id(t) for _, t in kept}
    codes = {strip_code(t.code) for _, t in kept}
    extra: list[tuple[Match, object]] = []
    for m, term in kept:
        if presumed_combination(term.path):
            continue
        condition, chapter = _condition_positions(m, term, tokens), strip_code(term.code)[0]
        for r in readings:
            rm, rterm = r
            code = strip_code(rterm.code)
            if id(rterm) in chosen or wrong[id(rterm)] or code in codes or not set(rm.positions) < set(m.positions):
                continue
            if any(_says_more(o, oterm, rm, rterm) and set(o.positions) < set(m.positions) and not wrong[id(oterm)]
                   for o, oterm in readings):
                continue  # a longer hidden reading says more: 'chronic kidney disease', not its 'kidney disease'
            if set(rm.positions) & condition or code[0] in ("R", chapter):
                continue  # the same condition less specified, or a symptom integral to it (I.B.5)
            p = hidden_precision(rterm.key)
            if p is not None and p >= ALSO_PRECISION:
                extra.append(r)
                chosen.add(id(rterm))
                codes.add(code)
    return extra


def choose_readings(readings: list[tuple[Match, object]], sentence_stems: frozenset[str], tokens: list[Token],
                    procedures: CodeSystem | None = None) -> tuple[list[tuple[Match, object]], dict[int, str | None]]:
    """The readings a mention yields (kept and set aside) and, per term id, why a reading is set aside.

    A reading whose path (or, when the path is too rare, whose code) was usually wrong on the training
    notes is set aside, and the reading it would have dominated may stand in if its own path was right
    often enough; each kept reading may then give way to one of fewer words the notes bore out more.
    """
    wrong = {id(term): usually_wrong(term.key, strip_code(term.code)) for _, term in readings}
    first = best_readings(readings, sentence_stems, procedures)
    set_aside = [r for r in first if wrong[id(r[1])]]
    kept = [r for r in first if not wrong[id(r[1])]]
    if set_aside:
        seen = {id(r[1]) for r in kept}
        kept += [r for r in best_readings([r for r in readings if not wrong[id(r[1])]], sentence_stems, procedures)
                 if id(r[1]) not in seen and not generic_only(r[1])
                 and (train_precision(r[1].key) or 0) >= FALLBACK_PRECISION]
    kept = [_prefer_learned(r, readings, wrong, tokens) for r in kept]
    kept += _also_learned(kept, readings, wrong, tokens)
    unique = {id(term): (m, term) for m, term in kept + set_aside}
    return list(unique.values()), wrong


NEGATION_BEFORE = re.compile(r"\b(?:without|no|not|nor|non|free of|absence of)\b[^.;]{0,30}$", re.I)


def _absence_unsaid(text: str, tokens: list[Token], m: Match, term: object) -> bool:
    """A term that codes the absence of something ("Esophageal varices without bleeding", "Vomiting without
    nausea") whose absent words the note names without a negation before them ("bleeding esophageal
    varices", "nausea without vomiting"): the stop word 'without' is not matched, so the reading says the
    opposite of the note."""
    absent = absent_words(term.path.split(" → ")[0])
    where = [tokens[p] for p in m.positions if absent & set(tokens[p].stems)]
    return bool(where) and not all(NEGATION_BEFORE.search(text, max(0, t.start - 40), t.start) for t in where)


ADJECTIVE_ENDING = re.compile(r"(?:ic|ous)$", re.I)


@cache
def _appearance_nouns() -> frozenset[str]:
    return frozenset(load_rules("en", "appearance_words")["nouns"])


def _describes_appearance(text: str, tokens: list[Token], m: Match) -> bool:
    """A condition read from its adjective alone, said of how a specimen or image looks ('hemorrhagic
    zones', 'necrotic appearance'): no diagnosis (rules/en/appearance_words.json)."""
    if len(m.positions) != 1:
        return False
    at = m.positions[0]
    word = tokens[at].word
    following = re.match(r"\s*([A-Za-z]+)", text[tokens[at].end:tokens[at].end + 30])
    return bool(ADJECTIVE_ENDING.search(word)) and following is not None \
        and following.group(1).lower() in _appearance_nouns()


@cache
def _operation_words(rules: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """A rules file's root operations and the stems of the words one of which their reading needs."""
    rule = load_rules("en", rules)
    return tuple(rule["operations"]), frozenset(stem(w) for w in rule["words"])


def _device_unsaid(term: object, sentence_stems: frozenset[str]) -> bool:
    """A reading of an operation on a device (Removal of device from, Change device in) in a sentence that
    names no device: 'removal of a mass' is an excision, 'postoperative changes' no change of a drain
    (rules/en/device_words.json)."""
    operations, words = _operation_words("device_words")
    return term.path.startswith(operations) and not words & sentence_stems


REMOVED = frozenset(phrase_stems("removed removal withdrawn withdrawal pulled"))
PUT_IN = frozenset(phrase_stems("inserted insertion placed placement put implanted introduced insert place"))


def _taken_out(term: object, sentence_stems: frozenset[str]) -> bool:
    """An Insertion reading of a device the sentence says was taken out, not put in: 'the central venous
    catheter was removed' is no 02HV33Z."""
    code = strip_code(term.code)
    return len(code) > 2 and code[0] == "0" and code[2] == "H" and bool(REMOVED & sentence_stems) \
        and not PUT_IN & sentence_stems


def _finding_not_done(term: object, sentence_stems: frozenset[str]) -> bool:
    """A root operation whose name is also a finding ('dilation of the pancreatic duct' on a CT, 'compression
    of the duodenum') in a sentence that does not say a procedure was done (rules/en/finding_operations.json)."""
    operations, done = _operation_words("finding_operations")
    return term.source != "learned" and main_term(term.path) in operations and not done & sentence_stems


def _pointers(term: object) -> int:
    """How many parts of an index path only point to a table: an explicit path ("Catheterization, Heart")
    beats one built from pointers ("Catheterization, Insertion of device in, Heart")."""
    return sum(bool(PCS_POINTER.match(part.split(" →")[0].strip())) for part in term.path.split(", ")[1:])


def _whole_organ(term: object) -> int:
    """Among root operations the note leaves implied: an '-ectomy' removes the whole body part unless the
    note says partial (Resection over Excision), and a biopsy is an Excision unless it says otherwise."""
    stems = phrase_stems(term.path)
    return 2 if "resect" in stems else 1 if "excis" in stems else 0


def _implied_support(term: object, sentence_stems: frozenset[str],
                     procedures: CodeSystem | None = None) -> tuple[bool, int]:
    """How many words the reading leaves implied the sentence says. For a reading that points to a whole PCS
    table ("Angioplasty" -> Dilation, Heart and Great Vessels / Lower Arteries / Upper Arteries), a body part
    of the table the sentence names counts too, one named with all its words first: a 'coronary artery' is a
    row of 027, while 'left anterior descending coronary artery' only shares words with the Anterior Tibial
    Artery, Left of 047."""
    said = set(term.stems)
    implied = set(phrase_stems(term.path)) - said
    code = strip_code(term.code)
    if procedures is None or len(code) != 3:
        return False, len(implied & sentence_stems)
    return max(((bool(part) and part <= sentence_stems | said, len((implied | part) & sentence_stems - said))
                for part in table_body_parts(procedures, code)), default=(False, len(implied & sentence_stems)))


@cache
def _status_entries(diagnoses: CodeSystem) -> tuple[tuple[frozenset[str], str, str], ...]:
    """The Alphabetic Index's "Status (post)" subterms (stems, code, path): what an operation done before
    leaves behind, a graft (Z95.1), an absent organ (Z90.49), an opening (Z93.1)."""
    return tuple((frozenset(phrase_stems(sub)), strip_code(code), f"index: {', '.join(e.path)}, {sub} (a past procedure)")
                 for e in diagnoses.index_lookup("Status") for sub, code in e.subterm_codes.items()
                 if code and phrase_stems(sub))


def _mention_tokens(state: CaseState, mention: Mention) -> list[int]:
    """The positions of a mention's tokens, found within its sentence (not by a scan of the note)."""
    first, last = state.scratch["sentence_tokens"][mention.sentence]
    tokens = state.scratch["tokens"]
    return [i for i in range(first, last) if mention.span.start <= tokens[i].start and tokens[i].end <= mention.span.end]


def _told_as_past(state: CaseState, mention: Mention) -> bool:
    """An affirmed mention ConText reads as past, in the encounter scope (where the past is not this stay)."""
    return state.case.scope == "encounter" and mention.assertion.historical \
        and not mention.assertion.blocking(state.case.setting)


def status_candidates(state: CaseState, mention: Mention, diagnoses: CodeSystem) -> list[Candidate]:
    """In the encounter scope a procedure told as past was not done in this stay; the index's "Status (post)"
    entry that names it gives the code a hospital coder reports instead ("status post CABG" is Z95.1,
    "history of cholecystectomy" Z90.49). None for an operation the index keeps no status of."""
    if not _told_as_past(state, mention):
        return []
    said = {st for i in _mention_tokens(state, mention) for st in state.scratch["tokens"][i].stems}
    found = [(code, path) for stems, code, path in _status_entries(diagnoses) if stems <= said]
    if not found and said & JOINT_REPLACEMENT:  # "status post right total hip arthroplasty": an artificial joint
        near = operation_stems(state, [mention.span])
        joints = [(code, path) for stems, code, path in _joint_implants(diagnoses) if stems <= near]
        found = joints if len(joints) == 1 else []
    return [Candidate(code=code, system=diagnoses.id, type="diagnosis", mention_id=mention.id,
                      evidence=[mention.span], path=[path], source="index", score=0.8) for code, path in found]


JOINT_REPLACEMENT = frozenset(phrase_stems("arthroplasty replacement prosthesis"))


@cache
def _joint_implants(diagnoses: CodeSystem) -> tuple[tuple[frozenset[str], str, str], ...]:
    """The index's "Presence (of) ...-joint implant" subterms (the joint's words, code, path): what a joint
    replaced before this stay leaves, Z96.64- for a hip."""
    generic = frozenset(phrase_stems("joint implant"))
    return tuple((frozenset(phrase_stems(sub)) - generic, strip_code(code),
                  f"index: {', '.join(e.path)}, {sub} (a past joint replacement)")
                 for e in diagnoses.index_lookup("Presence") for sub, code in e.subterm_codes.items()
                 if code and sub.endswith("-joint implant"))


MALIGNANT_STEMS = frozenset({"malign", "neoplasm"})
STILL_PRESENT = re.compile(r"\b(?:current(?:ly)?|active|ongoing|undergoing|receiving|on (?:treatment|chemotherapy)"
                           r"|under treatment|recurren(?:t|ce)|persist(?:s|ent|ing)?)\b", re.I)


@cache
def _personal_history_entries(diagnoses: CodeSystem) -> tuple[tuple[frozenset[str], frozenset[str], str, str], ...]:
    """The index's "History, personal (of)" subterms, one level of sites deep (stems, absent stems, code,
    path): "malignant neoplasm, breast" Z85.3, "stroke without residual deficits" Z86.73."""
    out = []
    for e in diagnoses.index_lookup("History, personal"):
        for sub, code in e.subterm_codes.items():
            stems = frozenset(phrase_stems(sub))
            if not code or not stems:
                continue
            absent = absent_words(sub)
            out.append((stems - absent, absent, strip_code(code), f"index: History, personal, {sub}"))
            for deeper in diagnoses.index_lookup(f"History, personal, {sub}"):
                if deeper.path[-1] != sub:
                    continue
                for site, site_code in deeper.subterm_codes.items():
                    if site_code and phrase_stems(site):
                        out.append((stems - absent | frozenset(phrase_stems(site)), absent,
                                    strip_code(site_code), f"index: History, personal, {sub}, {site}"))
    return tuple(out)


def _said_present(text: str, tokens: list[Token], words: frozenset[str]) -> bool:
    """Whether the sentence names any of these words without a negation before it ("with residual
    hemiparesis", not "without residual deficits")."""
    return any(words & set(t.stems) and not NEGATION_BEFORE.search(text, max(0, t.start - 40), t.start) for t in tokens)


def personal_history_candidates(state: CaseState, mention: Mention, found: list[Candidate],
                                diagnoses: CodeSystem) -> list[Candidate]:
    """In the encounter scope a condition told as past (history of, previous, years ago, the past medical
    history) whose personal history the index codes is no longer present: "history of stroke" is Z86.73
    and "old MI" I25.2, not I63.9 and I21.9. The condition's own codes are set aside. A condition the
    index keeps no history of (hypertension, diabetes) is chronic and stays; so does one the sentence says is
    still there or treated."""
    if not _told_as_past(state, mention):
        return []
    a, b = sentence_span(state, mention.sentence)
    if STILL_PRESENT.search(state.text, a, b):
        return []
    tokens = state.scratch["tokens"]
    # the Neoplasm Table's behaviour word ('cancer') is the index's "malignant neoplasm"
    meant = {i: set(tokens[i].stems) | (MALIGNANT_STEMS if "__malignant__" in tokens[i].stems else set())
             for i in _mention_tokens(state, mention)}
    said = set().union(*meant.values())
    first, last = state.scratch["sentence_tokens"][mention.sentence]
    fits = [(stems, code, path) for stems, absent, code, path in _personal_history_entries(diagnoses)
            if stems <= said and not _said_present(state.text, tokens[first:last], absent)]
    if not fits:
        return []
    stems, code, path = max(fits, key=lambda f: len(f[0]))
    words = tuple(i for i, own in meant.items() if stems & own)
    at = {(tokens[i].start, tokens[i].end) for i in words}
    for c in found:
        if not c.rejected and any(e.start <= s and t <= e.end for e in c.evidence for s, t in at):
            c.rejected = f"a history of the condition, no longer present: its personal history code {code} (scope: encounter)"
    return [Candidate(code=code, system=diagnoses.id, type="diagnosis", mention_id=mention.id,
                      evidence=evidence_spans(state.text, tokens, words), path=[path], source="index", score=0.8)]


class Locate:
    """Candidates per mention from the index/table/tabular terms that matched it."""

    name: ClassVar[str] = "locate"
    requires: ClassVar[tuple[str, ...]] = ("mentions", "matches", "tokens")
    assigns: ClassVar[tuple[str, ...]] = ("candidates",)

    def __init__(self, diagnoses: CodeSystem, procedures: CodeSystem | None) -> None:
        self.systems = {"diagnosis": diagnoses, "procedure": procedures}

    def __call__(self, state: CaseState) -> CaseState:
        tokens = state.scratch["tokens"]
        member_of = state.scratch["member_of"]
        per_mention: dict[int, list[tuple[Match, object]]] = defaultdict(list)
        for kind, ms in state.scratch["matches"].items():
            lex = lexicon(self.systems[kind])
            for idx, m in enumerate(ms):
                mid = member_of.get((kind, idx))
                if mid is not None:
                    per_mention[mid].append((m, lex.terms[m.term]))
        candidates = []
        for mention in state.mentions:
            found = []
            a, b = state.scratch["sentence_tokens"][mention.sentence]
            sentence_stems = frozenset(st for t in tokens[a:b] for st in t.stems)
            readings = [r for r in per_mention.get(mention.id, [])
                        if not _absence_unsaid(state.text, tokens, *r) and not _device_unsaid(r[1], sentence_stems)
                        and not (mention.type == "diagnosis" and _describes_appearance(state.text, tokens, r[0]))
                        and not (mention.type == "procedure" and (_finding_not_done(r[1], sentence_stems)
                                                                  or _taken_out(r[1], sentence_stems)))]
            if "readings" in state.scratch:  # asked for by the learning scripts (learn_term_stats.py)
                state.scratch["readings"].extend((mention.id, term.key, strip_code(term.code), _hidden(m, readings))
                                                 for m, term in readings)
            if mention.type == "procedure":  # the words said with the operation tell its implied ones apart
                said_with = frozenset(operation_stems(state, [mention.span])) or sentence_stems
                chosen, wrong = choose_readings(readings, said_with, tokens, self.systems["procedure"])
            else:
                chosen, wrong = choose_readings(readings, sentence_stems, tokens)
            for m, term in chosen:
                cs = self.systems[mention.type]
                code = strip_code(term.code)
                keyed = keyed_elsewhere(cs, term.path, tokens, m.positions) \
                    if mention.type == "procedure" and term.source == "index" and cs.id == "icd10pcs" else None
                score = min(1.0, 0.45 + 0.12 * len(term.stems) + 0.05 * SOURCE_RANK.get(term.source, 0))
                found.append(Candidate(
                    code=code, system=cs.id, type=mention.type, mention_id=mention.id,
                    evidence=evidence_spans(state.text, tokens, m.positions),
                    path=[term.key], source=term.source, score=round(score, 3),
                    rejected=wrong[id(term)] or (keyed and f"'{keyed}' names another body part in the Body Part Key"),
                ))
            if mention.type == "procedure":
                found += status_candidates(state, mention, self.systems["diagnosis"])
            else:
                found += personal_history_candidates(state, mention, found, self.systems["diagnosis"])
            live = [c for c in found if not c.rejected]
            if live and state.agents.uses_model:
                self._select(state, mention, live)
            candidates += found
        state.candidates = candidates
        return state

    def _select(self, state: CaseState, mention: Mention, found: list[Candidate]) -> None:
        """Let the selection agent (model, else rules) keep the candidates the sentence supports."""
        cs = self.systems[mention.type]
        codes = list(dict.fromkeys(c.code for c in found))
        labels = {c.code: f"{cs.title(c.code) or ''} (found by {c.path[0]})" for c in found}
        options = options_for([(code, labels[code]) for code in codes])
        start, end = sentence_span(state, mention.sentence)
        sentence = state.text[start:end]
        decision = state.agents.decide("locate", "select", state.llm_log, sentence=sentence, mention=mention.text,
                                       options=options)
        chosen = {o.code for o in options if o.key in decision.keys} | set(codes[len(options):])
        for c in found:
            c.produced_by = decision.mode
            c.fallback_reason = f"locate: {decision.fallback_reason}" if decision.fallback_reason else None
            if c.code not in chosen:
                c.rejected = "the model found no support for it in the sentence"
            elif decision.mode == "llm":
                key = next(o.key for o in options if o.code == c.code)
                if key in decision.evidence:
                    s, e = decision.evidence[key]
                    c.notes_checked.append(f"model evidence '{sentence[s:e]}' @{start + s}-{start + e}")
