"""Statistics learned on the CodiEsp train split (``scripts/learn_term_stats.py``).

- path precision: Locate sets aside readings whose index/tabular path was usually wrong, before the
  most specific reading is chosen, so a rejected subterm ("Pain, tumor associated") falls back to the
  reading it would have hidden ("Pain"); Verify blends it into the confidence.
- code precision: judges a path seen too rarely to have its own figure.
- reading precision: how often a reading's code was right whenever it matched, chosen or not; Locate
  prefers a reading of fewer words the training notes bore out clearly more often, unless it restates
  the chosen reading's main term (the same condition less specified). Counted apart for
  the times a longer reading hid it: Locate keeps such a reading beside the longer one when its code
  was usually right then too and it names another condition ("hypertensive" I10 beside hypertensive
  retinopathy H35.03), never the same condition less specified ("infection" B99.9 in "urinary tract
  infection", which the training coders often coded too).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

from chartcoder.rules import load_rules

MIN_TRAIN_PRECISION = 0.25
MIN_TRAIN_EVIDENCE = 2
MIN_READING_EVIDENCE = 3
MIN_CODE_EVIDENCE = 3

# Whether the train statistics apply to the case being coded: they are the CodiEsp annotators' habits on
# translated case reports, and a hospital whose notes are unlike those reads the book alone
# (``chartcoder code --book-only``).
_APPLIED: ContextVar[bool] = ContextVar("chartcoder_train_statistics", default=True)


@contextmanager
def train_statistics(applied: bool) -> Iterator[None]:
    """Code within this block with the train statistics applied or not (the book's readings alone)."""
    token = _APPLIED.set(applied)
    try:
        yield
    finally:
        _APPLIED.reset(token)


def _table(name: str) -> dict[str, list[int]]:
    try:
        return load_rules("en", name)
    except FileNotFoundError:
        return {}


def _smoothed(table: dict[str, list[int]], key: str, minimum: int, at: int = 0) -> float | None:
    """Smoothed share right, or None when seen fewer than ``minimum`` times (the pair of counts at ``at``)
    or when the train statistics are not applied."""
    if not _APPLIED.get():
        return None
    seen, right = (table.get(key) or [0, 0])[at : at + 2] or (0, 0)
    return None if seen < minimum else (right + 0.5) / (seen + 1)


@cache
def term_stats() -> dict[str, list[int]]:
    """Path -> [assigned, correct] (empty when absent)."""
    return _table("term_stats")


@cache
def code_stats() -> dict[str, list[int]]:
    """Code -> [assigned, correct], whichever path led to it."""
    return _table("code_stats")


@cache
def reading_stats() -> dict[str, list[int]]:
    """Path -> [matched, right, hidden, right when hidden]: every reading of an affirmed mention, chosen or
    not, and how often it was one a longer reading of the same mention hid."""
    return _table("reading_stats")


def train_precision(path: str) -> float | None:
    return _smoothed(term_stats(), path, MIN_TRAIN_EVIDENCE)


def code_precision(code: str) -> float | None:
    return _smoothed(code_stats(), code, MIN_CODE_EVIDENCE)


def reading_precision(path: str) -> float | None:
    return _smoothed(reading_stats(), path, MIN_READING_EVIDENCE)


def hidden_precision(path: str) -> float | None:
    """How often the reading's code was right when a longer reading of its mention hid it."""
    return _smoothed(reading_stats(), path, MIN_READING_EVIDENCE, at=2)


COMBINATION = re.compile(r", with\b")


def presumed_combination(path: str) -> bool:
    """Whether an index path is a "with" subterm: a combination the classification presumes (guideline
    I.A.15), which the train statistics neither vote down nor replace."""
    return COMBINATION.search(path) is not None


def usually_wrong(path: str, code: str | None = None) -> str | None:
    """The rejection reason when the path was usually wrong on the training notes, or, for a path too
    rarely seen to judge, when its code was."""
    if presumed_combination(path):
        return None
    learned = train_precision(path)
    if learned is not None and learned < MIN_TRAIN_PRECISION:
        return f"this index/tabular path was usually wrong on the training notes ({learned:.2f})"
    by_code = code_precision(code) if learned is None and code else None
    if by_code is not None and by_code < MIN_TRAIN_PRECISION:
        return f"a path rarely seen, to a code usually wrong on the training notes ({by_code:.2f})"
    return None
