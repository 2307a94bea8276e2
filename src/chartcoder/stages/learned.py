"""Path precision learned on the CodiEsp train split (``scripts/learn_term_stats.py``).

Locate uses it to set aside readings whose index/tabular path was usually wrong, before the most
specific reading is chosen, so a rejected subterm ("Pain, tumor associated") falls back to the reading
it would have hidden ("Pain"); Verify blends it into the confidence.
"""

from __future__ import annotations

from functools import cache

from chartcoder.rules import load_rules

MIN_TRAIN_PRECISION = 0.25
MIN_TRAIN_EVIDENCE = 2
MIN_READING_EVIDENCE = 3
MIN_CODE_EVIDENCE = 3


@cache
def term_stats() -> dict[str, list[int]]:
    """Path -> [assigned, correct] learned on the CodiEsp train split (empty when absent)."""
    try:
        return load_rules("en", "term_stats")
    except FileNotFoundError:
        return {}


def train_precision(path: str) -> float | None:
    """Smoothed share of train assignments by this path that were right, or None if rarely seen."""
    assigned, correct = term_stats().get(path, (0, 0))
    if assigned < MIN_TRAIN_EVIDENCE:
        return None
    return (correct + 0.5) / (assigned + 1)


@cache
def code_stats() -> dict[str, list[int]]:
    """Code -> [assigned, correct] on the CodiEsp train split, whichever path led to it."""
    try:
        return load_rules("en", "code_stats")
    except FileNotFoundError:
        return {}


def code_precision(code: str) -> float | None:
    """Smoothed share of train assignments of this code that were right, or None if rarely seen."""
    assigned, correct = code_stats().get(code, (0, 0))
    if assigned < MIN_CODE_EVIDENCE:
        return None
    return (correct + 0.5) / (assigned + 1)


@cache
def reading_stats() -> dict[str, list[int]]:
    """Path -> [matched, right]: every reading of an affirmed mention on the CodiEsp train split, chosen or not."""
    try:
        return load_rules("en", "reading_stats")
    except FileNotFoundError:
        return {}


def reading_precision(path: str) -> float | None:
    """Smoothed share of train matches of this reading whose code was right, or None if rarely seen."""
    matched, right = reading_stats().get(path, (0, 0))
    if matched < MIN_READING_EVIDENCE:
        return None
    return (right + 0.5) / (matched + 1)


def usually_wrong(path: str, code: str | None = None) -> str | None:
    """The rejection reason when the path was usually wrong on the training notes, or, for a path too
    rarely seen to judge, when its code was."""
    learned = train_precision(path)
    if learned is not None and learned < MIN_TRAIN_PRECISION:
        return f"this index/tabular path was usually wrong on the training notes ({learned:.2f})"
    by_code = code_precision(code) if learned is None and code else None
    if by_code is not None and by_code < MIN_TRAIN_PRECISION:
        return f"a path rarely seen, to a code usually wrong on the training notes ({by_code:.2f})"
    return None
