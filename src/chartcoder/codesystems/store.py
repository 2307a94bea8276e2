"""The embedded SQLite store: each edition compiled once into the user's cache directory.

A store file's name carries a fingerprint of the package version, the schema and the shipped
data files, so a new release or new data builds a fresh file; a file that fails to open or lacks
its completion mark is rebuilt. Builds write to a temporary file and rename it into place, so a
crash or a concurrent worker never leaves a half-built store behind. A new build prunes the older
builds of its code system but the newest few (``prune_builds``), so upgrades do not fill the disk.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from chartcoder.codesystems.text import index_text

SCHEMA_VERSION = "3"

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE codes (
    code TEXT PRIMARY KEY, norm TEXT, title TEXT NOT NULL, title_zh TEXT, kind TEXT NOT NULL,
    parent TEXT, billable INTEGER NOT NULL, extra TEXT
);
CREATE TABLE notes (code TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL, ord INTEGER NOT NULL);
CREATE TABLE index_terms (
    id INTEGER PRIMARY KEY, source TEXT NOT NULL, parent_id INTEGER, level INTEGER NOT NULL,
    title TEXT NOT NULL, key TEXT NOT NULL, nemod TEXT, code TEXT, see TEXT, see_also TEXT,
    use TEXT, cells TEXT
);
CREATE TABLE pcs_tables (code TEXT PRIMARY KEY, axes TEXT NOT NULL, rows TEXT NOT NULL);
CREATE TABLE definitions (section TEXT, axis INTEGER, axis_title TEXT, term TEXT, definition TEXT,
    explanation TEXT, includes TEXT);
CREATE VIRTUAL TABLE fts USING fts5(code UNINDEXED, field UNINDEXED, text,
    tokenize = 'porter unicode61 remove_diacritics 2');
"""

INDEXES = """
CREATE INDEX codes_norm ON codes(norm);
CREATE INDEX codes_parent ON codes(parent);
CREATE INDEX notes_code ON notes(code);
CREATE INDEX index_parent ON index_terms(source, parent_id, key);
CREATE INDEX index_code ON index_terms(code);
"""


class StoreWriter:
    """Buffered inserts used by loaders; one per build."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self._codes: list[tuple[Any, ...]] = []
        self._notes: list[tuple[Any, ...]] = []
        self._fts: list[tuple[str, str, str]] = []
        self._index: list[tuple[Any, ...]] = []
        self._next_index_id = 1

    def code(self, code: str, title: str, kind: str, parent: str | None, billable: bool, *,
             norm: str | None = None, title_zh: str | None = None, extra: dict[str, Any] | None = None,
             searchable: bool = True) -> None:
        """Add one code; billable or searchable codes get their titles indexed."""
        self._codes.append((code, norm if norm is not None else code.upper().replace(".", ""), title, title_zh,
                            kind, parent, int(billable), json.dumps(extra, ensure_ascii=False) if extra else None))
        if searchable:
            self.search_text(code, "title", title)
            if title_zh:
                self.search_text(code, "title_zh", title_zh)

    def note(self, code: str, kind: str, text: str, ord_: int) -> None:
        """Add one instructional note."""
        self._notes.append((code, kind, text, ord_))

    def search_text(self, code: str, field: str, text: str) -> None:
        """Make text findable as evidence for a code."""
        self._fts.append((code, field, index_text(text)))

    def index_term(self, source: str, parent_id: int | None, level: int, title: str, key: str, *,
                   nemod: str | None = None, code: str | None = None, see: str | None = None,
                   see_also: str | None = None, use: str | None = None, cells: dict[str, str] | None = None) -> int:
        """Add one Alphabetic Index node and return its id."""
        node_id = self._next_index_id
        self._next_index_id += 1
        self._index.append((node_id, source, parent_id, level, title, key, nemod, code, see, see_also, use,
                            json.dumps(cells) if cells else None))
        return node_id

    def flush(self) -> None:
        """Write everything buffered so far."""
        c = self.conn
        c.executemany("INSERT OR IGNORE INTO codes VALUES (?,?,?,?,?,?,?,?)", self._codes)
        c.executemany("INSERT INTO notes VALUES (?,?,?,?)", self._notes)
        c.executemany("INSERT INTO fts(code, field, text) VALUES (?,?,?)", self._fts)
        c.executemany("INSERT INTO index_terms VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", self._index)
        self._codes, self._notes, self._fts, self._index = [], [], [], []


Builder = Callable[[StoreWriter], dict[str, str]]


def data_path(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("chartcoder.codesystems").joinpath("data", name)))


def fingerprint(system_id: str, data_files: Iterable[Path], extra: str = "") -> str:
    """Identity of a build: package version, schema, and name/size/mtime of every input."""
    from chartcoder import __version__

    h = hashlib.sha256(f"{__version__}|{SCHEMA_VERSION}|{system_id}|{extra}".encode())
    for p in sorted(data_files):
        st = p.stat()
        h.update(f"{p.name}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Directory for compiled stores (``CHARTCODER_CACHE_DIR`` or the platform cache dir)."""
    if override:
        return Path(override)
    env = os.environ.get("CHARTCODER_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("chartcoder"))


def _loader_sources() -> list[Path]:
    """The loaders' own source files: a changed loader is a changed build."""
    return sorted(Path(__file__).parent.glob("*.py"))


def _is_complete(path: Path, fp: str) -> bool:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
            done = conn.execute("SELECT value FROM meta WHERE key = 'complete'").fetchone()
            return bool(row and row[0] == fp and done and done[0] == "1")
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return False


def build(path: Path, fp: str, builder: Builder) -> None:
    """Compile one edition into a fresh store file at ``path`` (atomic replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=path.stem + ".", suffix=".building", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        conn = sqlite3.connect(tmp)
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(SCHEMA)
        writer = StoreWriter(conn)
        meta = builder(writer)
        writer.flush()
        conn.executescript(INDEXES)
        conn.execute("INSERT INTO fts(fts) VALUES ('optimize')")
        meta = {**meta, "fingerprint": fp, "schema": SCHEMA_VERSION, "complete": "1"}
        conn.executemany("INSERT INTO meta VALUES (?, ?)", list(meta.items()))
        conn.commit()
        conn.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


CACHE_KEPT = 3  # builds of one kind kept per code system: this one and the two newest others


def prune_builds(current: Path, name: re.Pattern[str]) -> None:
    """Delete older builds of the same kind as ``current`` (files in its folder whose names match
    ``name``), keeping it and the CACHE_KEPT - 1 newest others. Every new release, data or rules change
    builds new files of some 100 MB and nothing removed the old ones. A file another process still has
    open stays readable to it; one deleted too soon is rebuilt when next needed."""
    others = []
    for path in current.parent.iterdir():
        if path != current and name.fullmatch(path.name):
            try:
                others.append((path.stat().st_mtime, path))
            except OSError:  # removed meanwhile by another process
                continue
    for _, path in sorted(others, reverse=True)[CACHE_KEPT - 1 :]:
        try:
            path.unlink()
        except OSError:  # in use on a platform that forbids it, or already gone: kept for next time
            continue


def open_store(system_id: str, builder: Builder, data_files: list[Path], *, directory: Path | None = None,
               extra_fingerprint: str = "") -> sqlite3.Connection:
    """Open the compiled store for an edition, building or rebuilding it when needed."""
    fp = fingerprint(system_id, [*data_files, *_loader_sources()], extra_fingerprint)
    path = cache_dir(directory) / f"{system_id}-{fp}.sqlite"
    if not (path.exists() and _is_complete(path, fp)):
        if path.exists():
            path.unlink()
        build(path, fp, builder)
        prune_builds(path, re.compile(rf"{re.escape(system_id)}-[0-9a-f]+\.sqlite"))
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    return conn


def store_path(system_id: str, data_files: list[Path], *, directory: Path | None = None,
               extra_fingerprint: str = "") -> Path:
    """Where the store of an edition lives (whether built or not)."""
    fp = fingerprint(system_id, [*data_files, *_loader_sources()], extra_fingerprint)
    return cache_dir(directory) / f"{system_id}-{fp}.sqlite"
