"""Learn English phrase -> code entries from the CodiEsp *train* split (as IAM built its dictionary
from the training annotations): a stemmed 1-3-word phrase that occurs in at least MIN_DOCS train
notes, whose notes carry the code at least MIN_PRECISION of the time, and whose words are the code's
own wording (title, category title, index terms; every word for a diagnosis, one for a PCS code)
becomes a lexicon term for that code; that association is by document. The gold spans index the
Spanish originals (text_files/): aligned to the English sentence by sentence, they also teach
phrases outside the code's wording that stood where the spans went ('exertion' for R06.00,
'testicular ultrasound' for BV44ZZZ), in at least SPAN_MIN_DOCS notes and SPAN_MIN_PRECISION of the
notes that say them.

Writes ``src/chartcoder/rules/en/learned_terms.json``. Never run this on dev or test data.

    python scripts/learn_terms.py ../shared/data/codiesp/train
"""

from __future__ import annotations

import json
import sys
from collections import Counter, defaultdict
from functools import cache
from pathlib import Path

from chartcoder.codesystems import get_system
from chartcoder.eval.datasets import read_codiesp
from chartcoder.eval.parallel import align, translated_span
from chartcoder.stages.analyze import sentence_bounds
from chartcoder.stages.en_text import note_tokens, phrase_stems, stem, stopwords
from chartcoder.stages.lexicon import lexicon

OUT = Path(__file__).resolve().parents[1] / "src" / "chartcoder" / "rules" / "en" / "learned_terms.json"
MIN_DOCS = 3
MIN_PRECISION = 0.6
MAX_N = 3
SPAN_MIN_DOCS = 3
SPAN_MIN_PRECISION = 0.6
SPAN_MARGIN = 15  # characters either side of where a span's place in its sentence went


def doc_phrases(text: str) -> set[tuple[str, ...]]:
    """Stemmed 1-3-word phrases of a note, within sentences, stop words dropped."""
    stops = stopwords()
    out: set[tuple[str, ...]] = set()
    tokens = note_tokens(text)
    for s, e in sentence_bounds(text):
        words = [stem(t.word) for t in tokens if s <= t.start < e and t.word not in stops and not t.word.isdigit()]
        for n in range(1, MAX_N + 1):
            for i in range(len(words) - n + 1):
                gram = tuple(words[i : i + n])
                if len(set(gram)) == n and all(len(w) > 2 for w in gram):
                    out.add(gram)
    return out


@cache
def code_words(code: str) -> frozenset[str]:
    """Stems of the code's own wording: its title, its category's title, and the book terms that lead to it."""
    cm, pcs = get_system("icd10cm"), get_system("icd10pcs")
    words: set[str] = set()
    if is_pcs(code):
        rows = pcs.conn.execute("SELECT title FROM codes WHERE code LIKE ? LIMIT 50", (code + "%",)).fetchall()
        for (title,) in rows:
            words.update(phrase_stems(title))
        lex = lexicon(pcs)
    else:
        for c in (code, code[:3]):
            words.update(phrase_stems(cm.title(c) or ""))
        lex = lexicon(cm)
    words.update(s for t in _terms_by_code(id(lex), lex).get(code[:5], ()) for s in t)
    return frozenset(words)


_BY_CODE: dict[int, dict[str, list[tuple[str, ...]]]] = {}


def _terms_by_code(key: int, lex) -> dict[str, list[tuple[str, ...]]]:  # noqa: ANN001
    if key not in _BY_CODE:
        by: dict[str, list[tuple[str, ...]]] = defaultdict(list)
        for t in lex.terms:
            if t.source != "learned":  # the book's wording only, never an earlier run's output
                by[t.code[:5]].append(t.stems)
        _BY_CODE[key] = by
    return _BY_CODE[key]


GENERIC = {"viru", "viral", "lymph", "mass", "pain", "benign", "left", "right", "acut", "chronic", "sever", "diseas",
           "infect", "lesion", "tumor", "syndrom", "disord"}


# Words that report a finding rather than name a procedure ("study normal", "scan revealed", "an image compatible with").
REPORTING = {"observ", "show", "reveal", "studi", "normal", "perform", "high", "grade", "present", "found", "find", "imag"}
# The verbs among them, which never belong to a name: a phrase holding one is not learned ('echocardiogram showed'
# stood for an abdominal ultrasound in 3 of 4 translated notes; the book reads an echocardiogram as B24).
REPORTING_VERBS = {"observ", "show", "reveal", "perform", "found", "find", "confirm"}


@cache
def body_sites() -> frozenset[str]:
    """Stems of the Neoplasm Table's sites: the anatomical words of the book."""
    rows = get_system("icd10cm").conn.execute("SELECT title FROM index_terms WHERE source = 'neoplasm'").fetchall()
    return frozenset(st for (title,) in rows for st in phrase_stems(title.split(",")[0]))


@cache
def book_readings() -> dict[frozenset[str], frozenset[str]]:
    """Words of each ICD-10-CM index or tabular term -> the categories the book reads them as."""
    out: dict[frozenset[str], set[str]] = defaultdict(set)
    for t in lexicon(get_system("icd10cm")).terms:
        if t.source != "learned" and t.code:
            out[frozenset(t.stems)].add(t.code[:3])
    return {k: frozenset(v) for k, v in out.items()}


def related(phrase: tuple[str, ...], code: str) -> bool:
    """A learned phrase must be said in the code's own wording (for diagnoses every word of it: no chance
    co-occurrence), not be one generic word ('virus' alone is not HIV), and not be words the book reads
    as another condition ('hepatitis' alone is K75.9, never hepatitis B)."""
    words = code_words(code)
    if REPORTING_VERBS & set(phrase):
        return False
    if len(phrase) == 1 and (phrase[0] in GENERIC or phrase[0] in body_sites()):
        return False  # one generic word, or a body site alone ('appendix' in 'appendectomy'), is no diagnosis
    book = book_readings().get(frozenset(phrase)) if not is_pcs(code) else None
    if book and code[:3] not in book:
        return False
    if is_pcs(code):
        # PCS titles are generated axis values: one shared word is the test, and it must name the procedure
        # (an abbreviation by what it stands for: 'MRI', 'x-ray'); a site, its side or a report word ('left
        # radical', 'deterioration of renal function', 'chest control') names none
        return any(len(f) > 3 and f in words and f not in GENERIC and f not in REPORTING and f not in body_sites()
                   for w in phrase for f in word_forms(w))
    return all(w in words for w in phrase)


def translated(phrase: tuple[str, ...], code: str) -> bool:
    """A phrase learned from where the gold spans went, not from the code's wording: never one generic word
    or a body site alone, never words the book reads as another condition (diagnoses), never a word that
    only reports."""
    if all(w in REPORTING or w in body_sites() or w in GENERIC for w in phrase) or REPORTING_VERBS & set(phrase):
        return False
    if is_pcs(code):
        return True
    book = book_readings().get(frozenset(phrase))
    return not book or code[:3] in book


@cache
def word_forms(word: str) -> frozenset[str]:
    """A stemmed word and the stems of what it stands for (abbreviations and synonyms: 'mri', 'x-ray')."""
    return frozenset({word} | {s for t in note_tokens(word) for s in t.stems})


def is_pcs(code: str) -> bool:
    """ICD-10-PCS codes (full or partial) have no dot; ICD-10-CM codes of 4+ characters do."""
    return "." not in code and len(code) in (4, 7)


def spanned_phrases(doc, original: str) -> dict[str, set[tuple[str, ...]]]:  # noqa: ANN001 - eval Document
    """Code -> the phrases near where its gold spans went in the English text (the gold offsets index the
    Spanish original; ``chartcoder.eval.parallel`` aligns the two sentence by sentence and places a span
    at its relative position in its sentence)."""
    beads = align(original, doc.text)
    out: dict[str, set[tuple[str, ...]]] = defaultdict(set)
    for code, spans in doc.gold.spans.items():
        for start, end in spans:
            where = translated_span(beads, start, end, margin=SPAN_MARGIN)
            if where:
                out[code] |= doc_phrases(doc.text[where[0] : where[1]])
    return out


def learn_terms(documents: list, originals: dict[str, str] | None = None) -> list[dict]:  # noqa: ANN001
    """Learned entries (stems, code, docs, with_code) from coded documents and their gold. With the Spanish
    ``originals`` a phrase not in the code's own wording is learned too when it stood in the
    sentences its gold spans were translated into (SPAN_MIN_DOCS notes, SPAN_MIN_PRECISION of its notes)."""
    phrase_docs: Counter[tuple[str, ...]] = Counter()
    joint: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    spanned: dict[tuple[str, ...], Counter[str]] = defaultdict(Counter)
    for doc in documents:
        phrases = doc_phrases(doc.case().text)
        codes = set(doc.gold.diagnoses) | set(doc.gold.procedures)
        phrase_docs.update(phrases)
        for p in phrases:
            joint[p].update(codes)
        if originals and doc.doc_id in originals:
            for code, near in spanned_phrases(doc, originals[doc.doc_id]).items():
                for p in near:
                    spanned[p][code] += 1
    entries = []
    for p, n in phrase_docs.items():
        if n < MIN_DOCS:
            continue
        for code, k in joint[p].items():
            if k >= MIN_DOCS and k / n >= MIN_PRECISION and related(p, code):
                entries.append({"stems": list(p), "code": code, "docs": n, "with_code": k})
            elif spanned[p][code] >= SPAN_MIN_DOCS and spanned[p][code] / n >= SPAN_MIN_PRECISION \
                    and translated(p, code):
                entries.append({"stems": list(p), "code": code, "docs": n, "with_code": spanned[p][code]})
    # keep the shortest phrase per code when a longer one adds nothing
    entries.sort(key=lambda e: (e["code"], len(e["stems"]), -e["with_code"], e["stems"]))  # stems: a stable order
    kept: list[dict] = []
    for e in entries:
        if any(k["code"] == e["code"] and set(k["stems"]) <= set(e["stems"]) for k in kept):
            continue
        kept.append(e)
    return kept


def originals(split: Path) -> dict[str, str]:
    """The Spanish original of each note (text_files/), which the gold span offsets index."""
    return {p.stem: p.read_text("utf-8") for p in sorted((split / "text_files").glob("*.txt"))}


def main() -> None:
    split = Path(sys.argv[1])
    if split.name != "train":
        raise SystemExit("learn only from the train split")
    kept = learn_terms(read_codiesp(split).documents, originals(split))
    OUT.write_text(json.dumps({"_about": "Learned on the CodiEsp train split by scripts/learn_terms.py "
                                         f"(min docs {MIN_DOCS}, min precision {MIN_PRECISION}; from where the "
                                         f"gold spans went: min docs {SPAN_MIN_DOCS}, min precision "
                                         f"{SPAN_MIN_PRECISION}, margin {SPAN_MARGIN} characters).",
                               "terms": kept}, ensure_ascii=False, indent=0), "utf-8")
    print(f"{len(kept)} learned terms for {len({e['code'] for e in kept})} codes written to {OUT}")


if __name__ == "__main__":
    main()
