"""Shared fixtures: one compiled code-system cache per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _session_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Point the store at a private cache so tests never touch the user's cache."""
    path = Path(os.environ.get("CHARTCODER_TEST_CACHE") or tmp_path_factory.mktemp("cache"))
    os.environ["CHARTCODER_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def icd10cm():
    from chartcoder.codesystems import get_system

    return get_system("icd10cm")


@pytest.fixture(scope="session")
def icd10pcs():
    from chartcoder.codesystems import get_system

    return get_system("icd10pcs")
