"""The learning scripts' own rules (scripts/learn_terms.py): what may become a learned phrase."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from learn_terms import related  # noqa: E402


def test_a_learned_phrase_never_reads_book_words_as_another_condition() -> None:
    assert not related(("hepatitis",), "B19.10"), "the book reads 'hepatitis' alone as K75.9"
    assert related(("fever",), "R50.9"), "the book's own reading"
    assert not related(("diseas",), "R69"), "one generic word"
