"""Code systems behind one interface; ``get_system(id)`` opens (and if needed builds) an edition."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chartcoder.codesystems.base import (
    CodeInfo,
    CodeSystem,
    CodeSystemError,
    EmptyQueryError,
    IndexEntry,
    MalformedCodeError,
    Note,
    NotSupportedError,
    SearchHit,
    UnknownSystemError,
)
from chartcoder.codesystems.store import Builder, StoreWriter, open_store, store_path

__all__ = [
    "CodeInfo", "CodeSystem", "CodeSystemError", "EmptyQueryError", "IndexEntry", "MalformedCodeError", "Note",
    "NotSupportedError", "SearchHit", "UnknownSystemError", "SYSTEMS", "get_system", "system_store_path",
]


@dataclass(frozen=True)
class SystemSpec:
    """How to build and wrap one edition."""

    cls: Callable[[sqlite3.Connection], CodeSystem]
    builder: Builder
    data_files: Callable[[], list[Path]]
    description: str


def _specs() -> dict[str, SystemSpec]:
    from chartcoder.codesystems import cn_clinical, icd9cm3, icd10cm, icd10pcs
    from chartcoder.codesystems.store import data_path

    def files(*names: str) -> Callable[[], list[Path]]:
        return lambda: [data_path(n) for n in names]

    return {
        "icd10cm": SystemSpec(icd10cm.ICD10CM, icd10cm.build_icd10cm, icd10cm.data_files,
                              "ICD-10-CM diagnoses (Tabular FY2026 + Index FY2025)"),
        "icd10pcs": SystemSpec(icd10pcs.ICD10PCS, icd10pcs.build_icd10pcs, icd10pcs.data_files,
                               "ICD-10-PCS procedures FY2025"),
        "icd9cm3": SystemSpec(icd9cm3.ICD9CM3, icd9cm3.build_icd9cm3, icd9cm3.data_files,
                              "ICD-9-CM Volume 3 procedures (English + Chinese titles)"),
        "cn-clinical-dx": SystemSpec(cn_clinical.CNClinicalDx, cn_clinical.build_cn_dx,
                                     files(cn_clinical.DX_FILE, cn_clinical.WHO_FILE),
                                     "疾病分类与代码国家临床版2.0"),
        "cn-clinical-px": SystemSpec(cn_clinical.CNClinicalPx, cn_clinical.build_cn_px,
                                     files(cn_clinical.PX_FILE, cn_clinical.ICD9_FILE),
                                     "手术操作分类代码国家临床版3.0"),
        "cn-beijing-v601": SystemSpec(cn_clinical.CNBeijingV601, cn_clinical.build_cn_beijing,
                                      files(cn_clinical.BJ_FILE), "ICD-10 北京临床版 v601"),
    }


SYSTEMS = ("icd10cm", "icd10pcs", "icd9cm3", "cn-clinical-dx", "cn-clinical-px", "cn-beijing-v601")
_open: dict[tuple[str, str], CodeSystem] = {}
_lock = threading.Lock()


def _spec(system_id: str) -> SystemSpec:
    specs = _specs()
    if system_id not in specs:
        raise UnknownSystemError(f"unknown code system {system_id!r}; choose one of: {', '.join(SYSTEMS)}")
    return specs[system_id]


def get_system(system_id: str, *, cache_dir: Path | None = None) -> CodeSystem:
    """The edition ``system_id``, compiled into the cache on first use and shared afterwards."""
    key = (system_id, str(cache_dir or ""))
    with _lock:
        if key not in _open:
            spec = _spec(system_id)
            conn = open_store(system_id, spec.builder, spec.data_files(), directory=cache_dir)
            _open[key] = spec.cls(conn)
        return _open[key]


def system_store_path(system_id: str, *, cache_dir: Path | None = None) -> Path:
    """Where the compiled store of an edition lives."""
    spec = _spec(system_id)
    return store_path(system_id, spec.data_files(), directory=cache_dir)


def close_all() -> None:
    """Forget open editions (tests use it to force a rebuild)."""
    with _lock:
        for cs in _open.values():
            cs.conn.close()
        _open.clear()


__all__ += ["StoreWriter", "close_all"]
