"""The learning scripts' own rules (scripts/learn_terms.py): what may become a learned phrase."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from learn_terms import related  # noqa: E402


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
