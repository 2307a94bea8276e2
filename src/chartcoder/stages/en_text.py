"""English token normalisation shared by the lexicon (index phrases) and by notes.

A token position may carry several normalised forms: the stem of the word itself plus the
stems of its abbreviation expansion or synonyms, so "NSTEMI" or "renal" meet index words.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from nltk.stem.porter import PorterStemmer

from chartcoder.rules import load_rules

_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[-'][A-Za-z0-9]+)*|__[a-z]+__")
_stemmer = PorterStemmer()
# Words Porter folds onto a word of another meaning: "several" episodes are not "severe", a "personal"
# history is not a "personality", a "positive" test is not a "position", "general" condition is not
# "generalized", "medical" history is not "medication", a "traumatic" history is not a "traumatism", a
# "depressible" or "depressing" (soft) abdomen is not depressed, "meningeal" enhancement is not meningism,
# a "burning" pain is not a burn, blood "tests" are not "testes"; Latin species names of organisms
# (Klebsiella pneumoniae, Neisseria meningitidis, Haemophilus influenzae) are not the diseases; sterility is
# no sterilization, and an artery "visualized" on imaging is no vision.
STEM_OVERRIDES = {"several": "several", "personal": "personal", "positive": "positive", "general": "general",
                  "medical": "medical", "traumatic": "traumatic",
                  "depressible": "depressible", "meningeal": "meningeal", "burning": "burning",
                  "testes": "testi", "depressing": "depressing", "sterile": "sterile",
                  "pneumoniae": "pneumoniae", "meningitidis": "meningitidis", "influenzae": "influenzae",
                  "sterility": "sterility", "visualized": "visualized", "visualize": "visualized",
                  "visualization": "visualized", "visualised": "visualized",
                  "pres": "pres",  # the syndrome PRES is not the prefix of "pre-dialysis"
                  # an organism "isolated" in culture (an isolate) is no isolation of the patient (8E0ZXY6)
                  "isolated": "isolated", "isolate": "isolate", "isolates": "isolate", "isolating": "isolating",
                  # a function that "continued to deteriorate" is no continuous dialysis (5A1D90Z)
                  "continued": "continue", "continue": "continue", "continues": "continue", "continuing": "continue"}


NEGATING_PREFIXES = frozenset({"non"})

# Plurals Porter leaves apart from their singular: English irregulars, and Latin and Greek plurals whose
# singular the index uses ('varices' are a varix, 'teeth' a tooth, 'emboli' an embolus, 'stenoses' a stenosis).
IRREGULAR_PLURALS = {"teeth": "tooth", "feet": "foot", "children": "child", "women": "woman",
                     "varices": "varix", "apices": "apex", "cortices": "cortex", "appendices": "appendix",
                     "calyces": "calyx", "calices": "calix", "vertices": "vertex", "cervices": "cervix",
                     "phalanges": "phalanx", "diverticula": "diverticulum", "labia": "labium",
                     "bacteria": "bacterium", "septa": "septum", "ostia": "ostium", "atria": "atrium",
                     "crura": "crus"}
_LATIN_US_PLURAL = re.compile(r"[a-z]{3,}[^i]i")  # emboli, thrombi, calculi, bronchi, foci
_GREEK_SIS_PLURAL = re.compile(r"[a-z]{3,}[oey]ses")  # stenoses, anastomoses, prostheses, paralyses
NOT_PLURAL = {"pylori", "metastases"}  # Helicobacter pylori is no pylorus; metastases read as a behaviour (synonyms)


# British spellings read as the American ones of the books: anaemia, ischaemic, oedema, diarrhoea, oesophagus,
# foetal, leucocytosis, tumour. Word-final "ae" is a Latin plural (vertebrae), not a spelling.
_BRITISH = [(re.compile(r"ae(?=[a-z])"), "e"), (re.compile(r"^oe"), "e"), (re.compile(r"(rrh|pn|^f|^c)oe"), r"\1e"),
            (re.compile(r"^leuc"), "leuk"), (re.compile(r"(?<=...)our$"), "or")]


def american(word: str) -> str:
    """The American spelling of a British one; any other word unchanged."""
    for pattern, replacement in _BRITISH:
        word = pattern.sub(replacement, word)
    return word


def singular(word: str) -> str:
    """The singular of a plural the stemmer would not fold onto it; any other word unchanged."""
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word in NOT_PLURAL:
        return word
    if _LATIN_US_PLURAL.fullmatch(word):
        return word[:-1] + "us"
    if _GREEK_SIS_PLURAL.fullmatch(word):
        return word[:-2] + "is"
    return word


_POSSESSIVE = re.compile(r"(?<=\w)'s?$")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Porter stem of a lower-case word (numbers and pseudo-tokens unchanged)."""
    if word.startswith("__") or word.isdigit():
        return word
    word = _POSSESSIVE.sub("", word)  # an eponym with or without it: "Crohn's disease", "Crohn disease"
    word = singular(american(word))
    if word.endswith(("itis", "ism")) and len(word) > 6:
        return word  # Porter folds 'hepatitis' onto 'hepatic', 'peritonitis' onto 'peritoneal'
    return STEM_OVERRIDES.get(word) or _stemmer.stem(word)


_WITHOUT = re.compile(r"\bwithout\b", re.I)


def absent_words(title: str) -> frozenset[str]:
    """Stems of what a title says is absent, the words after its 'without' ("Vomiting without nausea" ->
    nausea): 'without' is a stop word, so a match alone cannot tell such a title from its opposite."""
    found = _WITHOUT.search(title)
    return frozenset(phrase_stems(title[found.end():])) if found else frozenset()


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Words ignored on both sides of a match."""
    return frozenset(load_rules("en", "stopwords")["words"])


def _joined_prefix(word: str) -> str:
    """A prefixed word as the index reads it ("non-ST" is nonst: 'non' and 'ST' apart read the STEMI entry);
    a compound of two words stays whole ("anti-inflammatories" names no inflammation)."""
    parts = word_parts(word)
    return parts[0] if len(parts) == 1 else word


@lru_cache(maxsize=1)
def _expansions() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for name in ("abbreviations", "synonyms"):
        for word, expansion in load_rules("en", name).items():
            if " " not in word:  # a key of several words is a phrase synonym (_phrase_synonyms)
                out[word] = tuple(_joined_prefix(w) for w in expansion.lower().split() if w)
    return out


@lru_cache(maxsize=1)
def _phrase_synonyms() -> dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...], int], ...]]:
    """Synonyms of several words ("iliac fossa": lower quadrant of the abdomen), read at each of its
    words: for each word, the phrases it occurs in with its place in them (a note's every "of" is
    checked against the phrases with an "of" only). A value "= ..." stands instead of the words ("disc
    herniation" is a displaced intervertebral disc, no abdominal hernia)."""
    phrases = {tuple(k.split()): tuple(v.lower().split()) for k, v in load_rules("en", "synonyms").items()
               if " " in k}
    by_word: dict[str, list[tuple[tuple[str, ...], tuple[str, ...], int]]] = {}
    for k, v in phrases.items():
        for j, w in enumerate(k):
            by_word.setdefault(w, []).append((k, v, j))
    return {w: tuple(found) for w, found in by_word.items()}


def expansion(text: str) -> tuple[str, ...]:
    """The words an abbreviation as written stands for ("TUR" -> transurethral resection); () for a word."""
    return _cased_expansions().get(text) or _expansions().get(text.lower(), ())


@lru_cache(maxsize=1)
def abbreviation_words() -> frozenset[str]:
    """Lower-case abbreviations that expand to a phrase ("tpn" is total parenteral nutrition)."""
    words = {k for k in load_rules("en", "abbreviations") if not k.startswith("_")}
    return frozenset(words | {k.lower() for k in _cased_expansions()})


@lru_cache(maxsize=1)
def _cased_expansions() -> dict[str, tuple[str, ...]]:
    rules = load_rules("en", "cased_abbreviations")
    return {k: tuple(v.lower().split()) for k, v in rules.items() if not k.startswith("_")}


def split_words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, lower-case word) for every word-like token; accented letters read as their base letter
    ("Sjögren" as "Sjogren", as notes and the index write either) and a curly apostrophe as a straight one."""
    return [(m.start(), m.end(), m.group().lower()) for m in _TOKEN.finditer(_folded(text))]


def _folded(text: str) -> str:
    """The text with each accented letter as its base letter, one character for one (offsets hold)."""
    return text if text.isascii() else "".join(_folded_char(ch) for ch in text)


@lru_cache(maxsize=4096)
def _folded_char(ch: str) -> str:
    if ch == "’":
        return "'"
    parts = unicodedata.normalize("NFD", ch)  # canonical only: 'ö' is o + diaeresis; 'º' and '²' stay
    return parts[0] if len(parts) > 1 and parts[0].isascii() and all(unicodedata.combining(c) for c in parts[1:]) else ch


def word_parts(word: str) -> list[str]:
    """The parts of a hyphenated word, each matched on its own ('ex-smoker'), except that a
    negating prefix stays on its part: a 'non-smoker' is no smoker and 'non-traumatic' no trauma,
    while 'non-Hodgkin' meets the index's 'nonHodgkin' either way."""
    parts = [p for p in word.split("-") if p] or [word]
    if len(parts) > 1 and parts[0] in NEGATING_PREFIXES:
        parts = [parts[0] + parts[1], *parts[2:]]
    return parts


def phrase_stems(text: str) -> tuple[str, ...]:
    """Required stems of an index or tabular phrase: no stop words, no parenthetical asides."""
    text = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", text)
    stops = stopwords()
    out: list[str] = []
    for _, _, w in split_words(text):
        for part in word_parts(w) if not w.startswith("__") else [w]:
            if part and part not in stops:
                s = stem(part)
                if s not in out:
                    out.append(s)
    return tuple(out)


@dataclass(frozen=True)
class Token:
    """One word of a note with all the stems it stands for."""

    start: int
    end: int
    word: str
    stems: tuple[str, ...]


_SCALE_NAMES = {"stage", "grade", "class", "type", "degree", "phase"}
_ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x"]
_COMPUTED = {"computed", "computerized", "computerised"}
_CAUSE_AFTER = re.compile(r"\s+(?:to|due)\b", re.I)
# a drug named as the cause of a condition ("hypothyroidism due to amiodarone") is its adverse effect, as
# "amiodarone-induced" is: the word after the cause phrase (and an article) carries a pseudo-word the Table of
# Drugs' adverse-effect column is read with, when that word is the drug's own (lexicon.marked_on_another_word)
_CAUSED_BY = re.compile(r"\b(?:due to|secondary to|induced by|caused by|attributed to)\s+"
                        r"(?:(?:the|an?|his|her|their|prior|previous|recent)\s+){0,2}$", re.I)
CAUSED = "__caused__"
# a drug the patient is on ("is on warfarin", "takes metformin", "on treatment with prednisone", a home
# medication list) is a current therapy: the word after carries a pseudo-word the index's "Long-term drug
# therapy" entries are read with (Z79.-), when that word is the drug's own
_CURRENT_USE = re.compile(r"(?:[,;(]\s*on|\b(?:is|was|are|were|remains|remained|currently|been|maintained|kept|continues|"
                          r"continued|stable) on|\btak(?:es|ing)|\bus(?:es|ing)|(?:on|under) (?:\w+ )?(?:treatment|therapy) with)\s+"
                          r"(?:(?:a|an|his|her|their|chronic|daily|oral|home|low-dose)\s+){0,2}$", re.I)
_MEDICATION_LIST = re.compile(r"^[ \t]*(?:home |current |outpatient |discharge )?medications?(?: on admission| at home)?"
                              r"[ \t]*:[^\n]*", re.I | re.M)
CURRENT = "__current__"
_NUMBER_WORDS = {"one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "a", "several", "few"}
_TIME_UNITS = {"hour", "hours", "day", "days", "week", "weeks", "month", "months", "year", "years"}
_DURATION_BEFORE = {"for", "of", "during", "since", "over", "past", "last"}


def _is_duration_unit(w: str, previous: str, before: str) -> bool:
    """'fever for three days': the days are how long, not a "three-day fever" (sandfly fever, A93.1)."""
    return w in _TIME_UNITS and (previous.isdigit() or previous in _NUMBER_WORDS) and before in _DURATION_BEFORE


def note_tokens(text: str) -> list[Token]:
    """Tokens of a note, each with its own stem and those of expansions and synonyms."""
    stops = stopwords()
    expansions = _expansions()
    tokens: list[Token] = []
    cased = _cased_expansions()
    previous = before = ""
    words = split_words(text)
    phrases = _phrase_synonyms()
    listed = [m.span() for m in _MEDICATION_LIST.finditer(text)]
    for i, (start, end, w) in enumerate(words):
        forms: list[str] = []
        if previous in _SCALE_NAMES and w in _ROMAN:  # "stage V" is stage 5
            forms.append(str(_ROMAN.index(w) + 1))
        name_word = w == "axial" and previous in _COMPUTED  # "computed axial tomography" is a CT scan
        denominator = w.isdigit() and previous.isdigit() and text[start - 1 : start] == "/"  # "Glasgow 6/15"
        duration = _is_duration_unit(w, previous, before)
        before, previous = previous, w
        if name_word or denominator or duration:
            continue
        if text[start:end] in cased:
            forms += [stem(x) for x in cased[text[start:end]] if x not in stops]
        apart = False  # one word written apart ("gall bladder"): its parts are that word only
        for k, v, j in phrases.get(w, ()):  # every word of the phrase stands for the synonym ("uterine cervical")
            if i - j >= 0 and tuple(x[2] for x in words[i - j : i - j + len(k)]) == k:
                instead = v[0] == "="  # "= ..." names what the words are, not also what they spell
                # a phrase spelled out word for word, each word the start of its own ("E. coli" is Escherichia
                # coli), gives each word its own, so that no one word reads the whole phrase beside the others
                spelled = len(v) == len(k) and all(b.startswith(a) for a, b in zip(k, v, strict=True))
                meant = (v[j],) if spelled else v[instead:]
                forms += [stem(x) for x in meant if x not in stops]
                apart = apart or instead or "".join(k) == "".join(v)
        if apart:
            tokens.append(Token(start, end, w, tuple(dict.fromkeys(forms))))
            continue
        parts = word_parts(w)
        for part in [w, *parts] if len(parts) > 1 else parts:
            if part == "secondary" and _CAUSE_AFTER.match(text, end):
                forms.append(stem(part))  # 'secondary to' gives a cause, not a metastasis
                continue
            if part in expansions:
                forms += [stem(x) for x in expansions[part] if x not in stops]
            if part not in stops:
                forms.append(stem(part))
        forms += _spine_region(w)
        if forms and _CAUSED_BY.search(text, max(0, start - 60), start):
            forms.append(CAUSED)
        if forms and (_CURRENT_USE.search(text, max(0, start - 60), start) or any(a < start < b for a, b in listed)):
            forms.append(CURRENT)
        if forms:
            tokens.append(Token(start, end, w, tuple(dict.fromkeys(forms))))
    return tokens


SPINE_LEVELS = re.compile(r"([cdlst])(\d{1,2})-([cdlst])?(\d{1,2})")
SPINE_REGIONS = {"c": "cervical", "d": "thoracic", "t": "thoracic", "l": "lumbar", "s": "sacral"}
SPINE_JUNCTIONS = {("c", "t"): "cervicothoracic", ("t", "l"): "thoracolumbar", ("l", "s"): "lumbosacral"}


def _spine_region(word: str) -> list[str]:
    """The spinal region a span of vertebral levels names ('L4-L5' lumbar, 'L5-S1' lumbosacral, 'D3-D4'
    thoracic), as the index's regions are worded. A single level ('T2', 'C3', 'S1') is too often something
    else (an MRI weighting, a complement factor, a heart sound)."""
    found = SPINE_LEVELS.fullmatch(word)
    if found is None:
        return []
    first, last = found.group(1), found.group(3) or found.group(1)
    first, last = ("t" if first == "d" else first), ("t" if last == "d" else last)
    region = SPINE_REGIONS[first] if first == last else SPINE_JUNCTIONS.get((first, last))
    return [stem(region)] if region else []
