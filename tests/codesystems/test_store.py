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
