"""The compiled store is rebuilt when corrupted and reused otherwise."""

import sqlite3
from pathlib import Path

from chartcoder.codesystems import close_all, get_system, system_store_path


def test_corrupted_cache_is_rebuilt(tmp_path: Path) -> None:
    first = get_system("icd9cm3", cache_dir=tmp_path)
    path = system_store_path("icd9cm3", cache_dir=tmp_path)
    assert path.exists() and first.is_valid("36.06")
    close_all()
    path.write_bytes(b"this is not a database" * 100)
    again = get_system("icd9cm3", cache_dir=tmp_path)
    assert again.is_valid("36.06")
    assert sqlite3.connect(path).execute("SELECT value FROM meta WHERE key='complete'").fetchone()[0] == "1"


def test_half_built_store_is_rebuilt(tmp_path: Path) -> None:
    get_system("icd9cm3", cache_dir=tmp_path)
    path = system_store_path("icd9cm3", cache_dir=tmp_path)
    close_all()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM meta WHERE key='complete'")
    conn.commit()
    conn.close()
    assert get_system("icd9cm3", cache_dir=tmp_path).count(billable_only=True) == 3_882


def test_store_is_reused(tmp_path: Path) -> None:
    get_system("icd9cm3", cache_dir=tmp_path)
    path = system_store_path("icd9cm3", cache_dir=tmp_path)
    stamp = path.stat().st_mtime_ns
    close_all()
    get_system("icd9cm3", cache_dir=tmp_path)
    assert path.stat().st_mtime_ns == stamp


def test_a_new_build_prunes_all_but_the_newest_older_builds(tmp_path: Path) -> None:
    """Each release or data change builds new files; the older builds of the same code system are
    removed but the newest two, and nothing of another system or kind is touched."""
    import os
    import re

    from chartcoder.codesystems.store import CACHE_KEPT, prune_builds

    old = [tmp_path / f"icd9cm3-{i:016x}.sqlite" for i in range(5)]
    for age, path in enumerate(reversed(old)):  # old[4] is the newest of the old builds
        path.write_bytes(b"x")
        os.utime(path, (1_000_000 - age * 1000, 1_000_000 - age * 1000))
    other = tmp_path / "icd10cm-00000000000000ff.sqlite"
    lexicon = tmp_path / "lexicon-icd9cm3-00000000000000ff-0000000000ff.pkl"
    other.write_bytes(b"x")
    lexicon.write_bytes(b"x")
    current = get_system("icd9cm3", cache_dir=tmp_path)
    assert current.is_valid("36.06")
    path = system_store_path("icd9cm3", cache_dir=tmp_path)
    left = sorted(p.name for p in tmp_path.glob("icd9cm3-*.sqlite"))
    assert path.name in left and len(left) == CACHE_KEPT
    assert {old[4].name, old[3].name} <= set(left), "the newest older builds stay"
    assert other.exists() and lexicon.exists()
    prune_builds(path, re.compile(r"icd9cm3-[0-9a-f]+\.sqlite"))  # pruning again changes nothing
    assert sorted(p.name for p in tmp_path.glob("icd9cm3-*.sqlite")) == left
