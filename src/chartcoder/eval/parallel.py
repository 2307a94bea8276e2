"""Sentence alignment of an original note and its translation, so that gold spans annotated on the
original (CodiEsp's offsets index the Spanish text) can be placed in the translated note we code.

Machine translation keeps the order of sentences, and a sentence's length in the translation is close to
a fixed multiple of its length in the original; a length-based dynamic programme (after Gale and Church,
1993) with shared numbers as anchors aligns them into *beads*: a few original sentences matched to a
few translated ones. Used only when learning from training data, never when coding a note.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

Segment = tuple[int, int]  # character offsets (start, end)

# A sentence ends at . ! ? before a capital, an opening mark or a digit, or at a line break.
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[¿¡\"(A-ZÁÉÍÓÚÑ0-9])|\n+")
_NUMBER = re.compile(r"\d+")
# Bead shapes (original sentences, translated sentences) and their extra cost: one to one is the norm.
_SHAPES = {(1, 1): 0.0, (1, 2): 1.0, (2, 1): 1.0, (2, 2): 1.5, (1, 3): 1.5, (3, 1): 1.5, (1, 0): 6.0, (0, 1): 6.0}


@dataclass(frozen=True)
class Bead:
    """Original sentences matched to translated sentences (either side may be empty)."""

    original: tuple[Segment, ...]
    translation: tuple[Segment, ...]

    def holds(self, offset: int) -> bool:
        """Whether this character of the original falls in the bead (or in the spaces after it)."""
        return bool(self.original) and self.original[0][0] <= offset < self.original[-1][1] + 2

    def translated_span(self) -> Segment | None:
        return (self.translation[0][0], self.translation[-1][1]) if self.translation else None


def sentences(text: str) -> list[Segment]:
    """Non-blank sentences of a text as offsets: split at line breaks and at sentence ends."""
    out, pos = [], 0
    for m in _SPLIT.finditer(text):
        if text[pos : m.start()].strip():
            out.append((pos, m.start()))
        pos = m.end()
    if text[pos:].strip():
        out.append((pos, len(text)))
    return out


def align(original: str, translation: str) -> list[Bead]:
    """Beads covering both texts in order, chosen to minimise the length mismatch of matched sentences."""
    src, tgt = sentences(original), sentences(translation)
    src_len = [e - s for s, e in src]
    tgt_len = [e - s for s, e in tgt]
    ratio = (sum(tgt_len) or 1) / (sum(src_len) or 1)
    src_num = [_NUMBER.findall(original[s:e]) for s, e in src]
    tgt_num = [_NUMBER.findall(translation[s:e]) for s, e in tgt]

    def cost(i0: int, i1: int, j0: int, j1: int) -> float:
        a, b = sum(src_len[i0:i1]), sum(tgt_len[j0:j1])
        shape = _SHAPES[(i1 - i0, j1 - j0)]
        if not a or not b:
            return shape
        mismatch = abs(b - ratio * a) / math.sqrt(ratio * a + b + 1)
        numbers_a = sorted(x for k in range(i0, i1) for x in src_num[k])
        numbers_b = sorted(x for k in range(j0, j1) for x in tgt_num[k])
        anchor = 1.0 if numbers_a and numbers_a == numbers_b else 0.0
        return mismatch + shape - anchor

    n, m = len(src), len(tgt)
    best: dict[tuple[int, int], tuple[float, tuple[int, int] | None]] = {(0, 0): (0.0, None)}
    for i in range(n + 1):
        for j in range(m + 1):
            if (i, j) not in best:
                continue
            here = best[(i, j)][0]
            for di, dj in _SHAPES:
                if i + di <= n and j + dj <= m:
                    total = here + cost(i, i + di, j, j + dj)
                    if (i + di, j + dj) not in best or total < best[(i + di, j + dj)][0]:
                        best[(i + di, j + dj)] = (total, (i, j))
    beads: list[Bead] = []
    i, j = n, m
    while (i, j) != (0, 0):
        previous = best[(i, j)][1]
        assert previous is not None
        pi, pj = previous
        beads.append(Bead(tuple(src[pi:i]), tuple(tgt[pj:j])))
        i, j = pi, pj
    return beads[::-1]


def translated_span(beads: list[Bead], start: int, end: int, margin: int = 30) -> Segment | None:
    """Where in the translation the original's characters ``start:end`` went: the same relative place in
    their bead's translated sentences, widened by ``margin`` characters each side (translation reorders
    words within a phrase, rarely across a sentence), never beyond the bead."""
    for bead in beads:
        if bead.holds(start):
            target = bead.translated_span()
            if target is None:
                return None
            (s0, _), (_, s1) = bead.original[0], bead.original[-1]
            t0, t1 = target
            scale = (t1 - t0) / max(1, s1 - s0)
            lo = t0 + (min(start, s1) - s0) * scale - margin
            hi = t0 + (min(end, s1) - s0) * scale + margin
            return max(t0, int(lo)), min(t1, int(hi) + 1)
    return None
