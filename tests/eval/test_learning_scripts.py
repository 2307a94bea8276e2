"""The learning scripts' own rules (scripts/learn_terms.py): what may become a learned phrase."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from learn_terms import learn_terms, related, spanned_phrases, translated  # noqa: E402

from chartcoder.eval.datasets import Document, Gold  # noqa: E402

SPANISH = "Varón de 50 años. Refiere disnea de esfuerzo desde hace meses. La exploración abdominal es normal."
ENGLISH = "A 50-year-old male. He reports dyspnea on exertion for months. The abdominal examination is normal."


def _note(doc_id: str, code: str = "R06.00") -> Document:
    start = SPANISH.index("disnea")
    return Document(doc_id=doc_id, lang="en", text=ENGLISH,
                    gold=Gold(diagnoses=[code], spans={code: [(start, start + len("disnea de esfuerzo"))]}))


def test_a_learned_phrase_never_reads_book_words_as_another_condition() -> None:
    assert not related(("hepatitis",), "B19.10"), "the book reads 'hepatitis' alone as K75.9"
    assert related(("fever",), "R50.9"), "the book's own reading"
    assert not related(("diseas",), "R69"), "one generic word"


def test_a_learned_procedure_phrase_names_the_procedure() -> None:
    """A site, its side or a finding word shared with a PCS code's wording names no procedure; an
    abbreviation counts by what it stands for."""
    assert not related(("deterior", "renal"), "5A1D"), "'deterioration of renal function' is no dialysis"
    assert not related(("left", "radic"), "0TT1")
    assert not related(("imag", "compat"), "BW24"), "'an image compatible with' is no CT"
    assert related(("brain", "mri"), "B030"), "MRI stands for magnetic resonance imaging"
    assert related(("hemodialysi",), "5A1D")


def test_a_report_verb_is_never_part_of_a_learned_phrase() -> None:
    """'echocardiogram showed' stood for an abdominal ultrasound in three translated notes; the verb names
    nothing, so the phrase would only learn the translation's habit."""
    assert not translated(("echocardiogram", "show"), "BW40ZZZ")
    assert not related(("cat", "scan", "perform"), "BW20")
    assert translated(("echocardiogram",), "B246ZZZ")


def test_a_gold_span_is_read_where_its_sentence_went_in_the_translation() -> None:
    """The gold offsets index the Spanish original: the phrases near the span's place in the aligned English
    sentence belong to its code, the other sentences' words do not."""
    near = spanned_phrases(_note("N1"), SPANISH)["R06.00"]
    assert ("exert",) in near and ("dyspnea",) in near
    assert ("abdomin",) not in near and ("examin",) not in near


def test_a_phrase_is_learned_from_where_the_spans_went_only_with_the_originals() -> None:
    """'exertion' is not in R06.00's wording (Dyspnea, unspecified), so only the span-level association
    of enough notes teaches it; without the Spanish originals it is not learned."""
    notes = [_note(f"N{i}") for i in range(4)]
    originals = {n.doc_id: SPANISH for n in notes}
    learned = {(tuple(e["stems"]), e["code"]) for e in learn_terms(notes, originals)}
    assert (("exert",), "R06.00") in learned
    assert (("exert",), "R06.00") not in {(tuple(e["stems"]), e["code"]) for e in learn_terms(notes)}
    assert not any(stems == ("abdomin",) for stems, _ in learned), "a word of another sentence"
