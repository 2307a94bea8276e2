"""ICD-9-CM Volume 3 procedures (3,882 codes) with English and Chinese titles."""

from __future__ import annotations

import re
from pathlib import Path

from chartcoder.codesystems.base import CodeSystem, MalformedCodeError
from chartcoder.codesystems.store import StoreWriter, data_path
from chartcoder.codesystems.tsv import read_tsv

FILE = "icd9cm3_en_zh.tsv.gz"


def data_files() -> list[Path]:
    """Every input of the ICD-9-CM-3 build."""
    return [data_path(FILE)]


def prefix_parents(code: str) -> list[str]:
    """36.06 -> [36.0, 36]; the hierarchy of ICD-9-CM-3 is its code prefixes."""
    head, _, tail = code.partition(".")
    out = [f"{head}.{tail[:i]}" for i in range(len(tail) - 1, 0, -1)]
    return out + [head] if tail else out


def build_icd9cm3(w: StoreWriter) -> dict[str, str]:
    """Codes, titles, and synthetic category nodes for the two-digit and three-digit prefixes."""
    rows = read_tsv(data_path(FILE))
    codes = {r["code"] for r in rows}
    has_children = {p for c in codes for p in prefix_parents(c)}
    for r in rows:
        code = r["code"]
        parent = next(iter(prefix_parents(code)), None)
        w.code(code, r["title"], "code" if code not in has_children else "category", parent, code not in has_children,
               title_zh=r["title_zh"] or None)
    for p in sorted(has_children - codes):
        w.code(p, f"Procedures {p}x", "category", next(iter(prefix_parents(p)), None), False, searchable=False)
    return {"codes": str(len(rows)), "valid": str(len(codes - has_children))}


class ICD9CM3(CodeSystem):
    """ICD-9-CM Volume 3 (English titles with Chinese translations)."""

    id = "icd9cm3"
    name = "ICD-9-CM Volume 3"
    lang = "en"

    def normalize(self, code: str) -> str:
        """Accept 36.06 or 3606."""
        raw = code.strip()
        if re.fullmatch(r"\d{2}", raw) or re.fullmatch(r"\d{2}\.\d{1,2}", raw):
            return raw
        if re.fullmatch(r"\d{3,4}", raw):
            return f"{raw[:2]}.{raw[2:]}"
        raise MalformedCodeError(f"{code!r} is not an ICD-9-CM procedure code (two digits, a dot, one or two digits, e.g. 36.06)")
