"""Text helpers shared by the store's full-text index and by its queries.

SQLite's unicode61 tokenizer keeps a run of Chinese characters as one token, so Chinese is
indexed as overlapping character unigrams and bigrams; the same function prepares queries.
"""

from __future__ import annotations

import re
import unicodedata

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"[0-9A-Za-z\u00c0-\u024f]+")
_STOP = {"of", "the", "and", "or", "with", "without", "in", "on", "to", "a", "an", "by", "for", "nos", "due"}


def has_cjk(text: str) -> bool:
    """True when the text holds Chinese characters."""
    return bool(_CJK_RUN.search(text))


def to_halfwidth(text: str) -> str:
    """Fold full-width ASCII forms (ＡＢＣ１２３（）) to half-width; keeps Chinese as is."""
    return unicodedata.normalize("NFKC", text)


def normalise_term(text: str) -> str:
    """Lower-case, half-width, single-spaced text for comparisons."""
    return " ".join(to_halfwidth(text).lower().split())


def cjk_grams(run: str) -> list[str]:
    """Character unigrams and bigrams of a run of Chinese characters."""
    grams = list(run)
    grams += [run[i : i + 2] for i in range(len(run) - 1)]
    return grams


def index_text(text: str) -> str:
    """Text as stored in the FTS table: words as they are, Chinese as n-grams."""
    text = to_halfwidth(text)
    parts: list[str] = []
    pos = 0
    for m in _CJK_RUN.finditer(text):
        parts.append(text[pos : m.start()])
        parts.append(" " + " ".join(cjk_grams(m.group())) + " ")
        pos = m.end()
    parts.append(text[pos:])
    return "".join(parts)


def query_tokens(text: str) -> list[str]:
    """Distinct search tokens of a query (Chinese bigrams preferred over unigrams)."""
    text = to_halfwidth(text)
    tokens: list[str] = []
    for m in _CJK_RUN.finditer(text):
        run = m.group()
        tokens += [run[i : i + 2] for i in range(len(run) - 1)] if len(run) > 1 else [run]
    rest = _CJK_RUN.sub(" ", text)
    for w in _WORD.findall(rest):
        lw = w.lower()
        if lw not in _STOP:
            tokens.append(lw)
    seen: dict[str, None] = {}
    for t in tokens:
        seen.setdefault(t, None)
    return list(seen)


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: any token may match, BM25 ranks those matching most."""
    return " OR ".join(f'"{t}"' for t in query_tokens(text))
