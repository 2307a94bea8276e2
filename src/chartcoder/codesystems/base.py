"""The one interface every code system answers, and the value objects it returns.

Stages and tools talk to ``CodeSystem`` only; an edition is a loader plus data files, so adding
one never changes a stage.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from rapidfuzz import fuzz

from chartcoder.codesystems.text import fts_query, normalise_term


class CodeSystemError(Exception):
    """Base class for code-system errors; the message is meant for the user."""


class UnknownSystemError(CodeSystemError):
    """The system id is not one ChartCoder ships."""


class MalformedCodeError(CodeSystemError):
    """The string cannot be a code of this system."""


class EmptyQueryError(CodeSystemError):
    """A search or index walk was asked with nothing to look for."""


class NotSupportedError(CodeSystemError):
    """The system has no such book (e.g. no Alphabetic Index)."""


NOTE_KINDS = (
    "includes",
    "inclusion_term",
    "excludes1",
    "excludes2",
    "code_first",
    "use_additional_code",
    "code_also",
    "notes",
    "seven_chr_note",
    "seven_chr_def",
    "definition",
)


@dataclass(frozen=True)
class Note:
    """One instructional note of the Tabular List, kept with the code that carries it."""

    kind: str
    text: str
    source: str

    def referenced_codes(self) -> list[str]:
        """Codes a note points at, e.g. ``(E08.-)`` -> ``E08``; ``(Z79.4)`` -> ``Z79.4``."""
        found = re.findall(r"\b([A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?)(?:-|\.-)?", self.text)
        return [c.rstrip(".") for c in found]


@dataclass
class CodeInfo:
    """Everything a coder needs to know about one code."""

    system: str
    code: str
    title: str
    kind: str
    billable: bool
    title_zh: str | None = None
    parents: list[tuple[str, str]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "system": self.system,
            "code": self.code,
            "title": self.title,
            "title_zh": self.title_zh,
            "kind": self.kind,
            "billable": self.billable,
            "parents": [{"code": c, "title": t} for c, t in self.parents],
            "children": self.children,
            "notes": [{"kind": n.kind, "text": n.text, "source": n.source} for n in self.notes],
            "extra": self.extra,
        }


@dataclass
class SearchHit:
    """A ranked search answer, with the text that matched."""

    code: str
    title: str
    score: float
    field: str
    matched: str
    billable: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class IndexEntry:
    """A node of an Alphabetic Index reached by walking main term -> subterms."""

    source: str
    path: list[str]
    nonessential: list[str]
    code: str | None
    see: str | None
    see_also: str | None
    use: str | None
    cells: dict[str, str]
    subterms: list[str]
    matched_fully: bool
    subterm_codes: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


INDEX_ROWS_KEPT = 20_000  # index row lists kept in memory per code system (a few tens of MB at most)
NOTES_KEPT = 50_000  # codes whose instructional notes are kept in memory per code system


def _kept(memory: dict, key: object, limit: int, read: Callable[[], Any]) -> Any:  # noqa: ANN401 - any stored value
    """``memory[key]``, read once; the memory starts afresh past ``limit`` entries (a bound, not an LRU:
    a note reads a few hundred keys, and a long batch must not grow without end)."""
    if key not in memory:
        if len(memory) > limit:
            memory.clear()
        memory[key] = read()
    return memory[key]


def index_key(title: str) -> str:
    """Comparison key for an index title: lower case, single spaces, commas kept."""
    return " ".join(title.lower().replace(" ,", ",").split())


def match_parts(key: str, parts: list[str]) -> tuple[int, int]:
    """(parts consumed, strength) of an index title against the start of a term path.

    Strength 3: the whole title; 2: one of its comma-separated forms ("Infarct, infarction");
    1: the path part begins the title at a word boundary ("non-ST elevation" ~ "non-ST elevation (NSTEMI)").
    """
    if not parts:
        return 0, 0
    flat, bare, alternatives = _title_forms(key)
    for k in range(len(parts), 0, -1):
        if _joined(tuple(parts[:k])) in (flat, bare):
            return k, 3
    if parts[0] in alternatives:
        return 1, 2
    if flat.startswith(parts[0] + " ") or flat.startswith(parts[0] + "("):
        return 1, 1
    return 0, 0


@lru_cache(maxsize=100_000)
def _title_forms(key: str) -> tuple[str, str, tuple[str, ...]]:
    """An index title's forms match_parts compares (computed once: walks compare the same titles often)."""
    flat = " ".join(key.replace(",", " ").split())
    bare = " ".join(re.sub(r"\([^)]*\)", " ", flat).split())
    return flat, bare, tuple(a.strip() for a in key.split(","))


@lru_cache(maxsize=20_000)
def _joined(parts: tuple[str, ...]) -> str:
    return " ".join(" ".join(parts).replace(",", " ").split())


@dataclass
class IndexTrail:
    """One walk through an index: the nodes matched, the path parts left over, the last node's children."""

    nodes: list[dict[str, Any]]
    rest: list[str]
    children: list[dict[str, Any]]


class CodeSystem:
    """A compiled edition in its SQLite store: lookup, hierarchy, notes, search, index."""

    id: str = ""
    name: str = ""
    lang: str = "en"
    has_index: bool = False

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._index_rows: dict[tuple[str, int | None, str | None], list[dict[str, Any]]] = {}
        self._notes: dict[tuple[str, bool], tuple[Note, ...]] = {}

    # -- codes --------------------------------------------------------------------------
    def normalize(self, code: str) -> str:
        """Return the canonical spelling of a code, or raise MalformedCodeError."""
        raise NotImplementedError

    def _norm_key(self, code: str) -> str:
        """Key under which codes are stored for forgiving lookup."""
        return code.strip().upper().replace(".", "")

    def _row(self, code: str) -> sqlite3.Row | None:
        canonical = self.normalize(code)
        row = self.conn.execute("SELECT * FROM codes WHERE code = ?", (canonical,)).fetchone()
        if row is None:
            row = self.conn.execute("SELECT * FROM codes WHERE norm = ?", (self._norm_key(canonical),)).fetchone()
        return row

    def get(self, code: str, *, with_notes: bool = True) -> CodeInfo | None:
        """Look a code up; ``None`` when it is well formed but not in the edition."""
        row = self._row(code)
        if row is None:
            return None
        info = CodeInfo(
            system=self.id,
            code=row["code"],
            title=row["title"],
            title_zh=row["title_zh"],
            kind=row["kind"],
            billable=bool(row["billable"]),
            extra=json.loads(row["extra"]) if row["extra"] else {},
        )
        info.parents = self.parents(row["code"])
        info.children = self.children(row["code"])
        if with_notes:
            info.notes = self.notes(row["code"])
        return info

    def title(self, code: str) -> str | None:
        """Title of a code, or None."""
        row = self.conn.execute("SELECT title FROM codes WHERE code = ?", (code,)).fetchone()
        return row[0] if row else None

    def exists(self, code: str) -> bool:
        """True when the code (any level) is in the edition."""
        try:
            return self._row(code) is not None
        except MalformedCodeError:
            return False

    def is_valid(self, code: str) -> bool:
        """True when the code may be reported (billable / valid leaf)."""
        try:
            row = self._row(code)
        except MalformedCodeError:
            return False
        return bool(row and row["billable"])

    def parents(self, code: str) -> list[tuple[str, str]]:
        """Ancestors from the nearest up to the root."""
        out: list[tuple[str, str]] = []
        current = self.conn.execute("SELECT parent FROM codes WHERE code = ?", (code,)).fetchone()
        while current and current[0]:
            row = self.conn.execute("SELECT code, title, parent FROM codes WHERE code = ?", (current[0],)).fetchone()
            if row is None:
                break
            out.append((row["code"], row["title"]))
            current = (row["parent"],)
        return out

    def children(self, code: str) -> list[str]:
        """Direct children in code order."""
        rows = self.conn.execute("SELECT code FROM codes WHERE parent = ? ORDER BY rowid", (code,))
        return [r[0] for r in rows]

    def notes(self, code: str, *, inherited: bool = True) -> list[Note]:
        """Instructional notes of the code and, by default, of its ancestors (they apply too). Kept once
        read (verify asks for the same codes' notes note after note)."""
        return list(_kept(self._notes, (code, inherited), NOTES_KEPT, lambda: self._read_notes(code, inherited)))

    def _read_notes(self, code: str, inherited: bool) -> tuple[Note, ...]:
        chain = [code] + ([c for c, _ in self.parents(code)] if inherited else [])
        return tuple(Note(r[0], r[1], c) for c in chain
                     for r in self.conn.execute("SELECT kind, text FROM notes WHERE code = ? ORDER BY ord", (c,)))

    def count(self, *, billable_only: bool = False, kind: str | None = None) -> int:
        """How many codes the store holds."""
        sql, args = "SELECT count(*) FROM codes WHERE 1=1", []
        if billable_only:
            sql += " AND billable = 1"
        if kind:
            sql += " AND kind = ?"
            args.append(kind)
        return self.conn.execute(sql, args).fetchone()[0]

    def iter_codes(self, *, billable_only: bool = True) -> list[tuple[str, str]]:
        """All (code, title) pairs, for building matchers."""
        sql = "SELECT code, title FROM codes" + (" WHERE billable = 1" if billable_only else "")
        return [(r[0], r[1]) for r in self.conn.execute(sql)]

    # -- search -------------------------------------------------------------------------
    def search(self, text: str, k: int = 10, *, billable_only: bool = False) -> list[SearchHit]:
        """Rank codes by BM25 over titles, inclusion terms and index terms, then fuzzy-rerank."""
        if not text or not text.strip():
            raise EmptyQueryError("empty search query: give some words to look for")
        query = fts_query(text)
        if not query:
            raise EmptyQueryError(f"nothing searchable in {text!r}")
        rows = self.conn.execute(
            "SELECT f.code, f.field, f.text, f.score, c.title, c.billable FROM "
            "(SELECT code, field, text, bm25(fts) AS score FROM fts WHERE fts MATCH ? ORDER BY score LIMIT ?) f "
            "JOIN codes c ON c.code = f.code ORDER BY f.score",
            (query, max(50, k * 8)),
        ).fetchall()
        wanted = normalise_term(text)
        best: dict[str, SearchHit] = {}
        for r in rows:
            code = r["code"]
            if billable_only and not r["billable"]:
                continue
            shown = r["text"].replace(" ", "") if self.lang == "zh" else r["text"]
            similarity = fuzz.token_set_ratio(wanted, normalise_term(shown)) / 100.0
            score = -float(r["score"]) * (0.5 + similarity)
            hit = best.get(code)
            if hit is None or score > hit.score:
                best[code] = SearchHit(code, r["title"], round(score, 4), r["field"], shown, bool(r["billable"]))
        return sorted(best.values(), key=lambda h: -h.score)[:k]

    # -- index --------------------------------------------------------------------------
    def index_lookup(self, path: str, *, source: str = "index") -> list[IndexEntry]:
        """Walk the Alphabetic Index along a comma-separated term path."""
        raise NotSupportedError(f"{self.id} has no Alphabetic Index")

    def walk_index(self, path: str, *, source: str = "index", example: str = "Infarction, myocardial") -> list[IndexTrail]:
        """Walk main term -> subterms for a comma-separated path (titles may hold commas too): every main
        term that matches the first part, followed down by the best-matching subterm at each level."""
        if not path or not path.strip():
            raise EmptyQueryError(f"empty index path: give a main term, e.g. '{example}'")
        parts = [index_key(p) for p in path.split(",") if p.strip()]
        if not parts:
            raise EmptyQueryError(f"empty index path: give a main term, e.g. '{example}'")
        trails = []
        for node in self._index_nodes(source, None, parts[0][:4]):
            used, _ = match_parts(node["key"], parts)
            if not used:
                continue
            nodes, rest = [node], parts[used:]
            while rest:
                best, best_used, best_strength = None, 0, 0
                for kid in self._index_nodes(source, nodes[-1]["id"]):
                    u, st = match_parts(kid["key"], rest)
                    if (st, u) > (best_strength, best_used):
                        best, best_used, best_strength = kid, u, st
                if best is None:
                    break
                nodes.append(best)
                rest = rest[best_used:]
            trails.append(IndexTrail(nodes, rest, self._index_nodes(source, nodes[-1]["id"])))
        return trails

    def index_subterms(self, node_id: int, *, source: str = "index") -> list[dict[str, Any]]:
        """The index rows directly under a node (a row's "id" from ``walk_index``), kept once read."""
        return self._index_nodes(source, node_id)

    def _index_nodes(self, source: str, parent_id: int | None, prefix: str | None = None) -> list[dict[str, Any]]:
        """Index rows under a parent (or main terms by key prefix), kept once read: notes walk the same
        entries again and again ("Neoplasm, neoplastic" has some 1,000 sites). Callers must not change them."""
        return _kept(self._index_rows, (source, parent_id, prefix), INDEX_ROWS_KEPT,
                     lambda: self._read_index_nodes(source, parent_id, prefix))

    def _read_index_nodes(self, source: str, parent_id: int | None, prefix: str | None) -> list[dict[str, Any]]:
        if parent_id is None:  # keys are lower case (index_key): a prefix is a key range, which the index serves
            prefix = prefix or ""
            rows = self.conn.execute("SELECT * FROM index_terms WHERE source = ? AND parent_id IS NULL AND key >= ? AND key < ?",
                                     (source, prefix, prefix + "\uffff"))
        else:
            rows = self.conn.execute("SELECT * FROM index_terms WHERE source = ? AND parent_id = ?", (source, parent_id))
        return [dict(r) for r in rows]
