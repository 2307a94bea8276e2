"""Chinese clinical editions: 国家临床版2.0 diagnoses, 国家临床版3.0 procedures, 北京临床版 v601.

Official strings such as ``A01.000x003†G01*`` (dagger/asterisk pair) or ``C22.101M81600/3``
(with a morphology code) are split: the primary code is the key, the pair and morphology are
kept as facts of the code. Each code hangs under its WHO ICD-10 category (or ICD-9-CM-3 code).
"""

from __future__ import annotations

import re

from chartcoder.codesystems.base import CodeSystem, MalformedCodeError
from chartcoder.codesystems.icd9cm3 import prefix_parents
from chartcoder.codesystems.store import StoreWriter, data_path
from chartcoder.codesystems.tsv import read_tsv

DX_FILE = "cn_clinical_dx_2.0.tsv.gz"
PX_FILE = "cn_clinical_px_3.0.tsv.gz"
BJ_FILE = "cn_beijing_v601.tsv.gz"
WHO_FILE = "who_icd10_en_zh.tsv.gz"
ICD9_FILE = "icd9cm3_en_zh.tsv.gz"

DX_RE = re.compile(
    r"^(?P<primary>[A-Z]\d{2}(?:\.[0-9xX]{1,4}(?:[xX]\d{3,4})?)?)(?P<star>\*)?"
    r"(?:[†+]?(?P<asterisk>[A-Z]\d{2}(?:\.[0-9x]{1,4})?)\*?)?"
    r"(?P<morph>M\d{4,5}/\d)?$"
)
MORPH_RE = re.compile(r"^M\d{4,5}/\d$")


def split_dx(official: str) -> dict[str, str | bool | None]:
    """Split an official diagnosis string into primary code, asterisk pair and morphology."""
    s = official.strip()
    if MORPH_RE.match(s):
        return {"primary": s, "asterisk": None, "morphology": None, "manifestation": False}
    m = DX_RE.match(s)
    if not m:
        raise ValueError(f"unrecognised code {official!r}")
    return {"primary": m.group("primary"), "asterisk": m.group("asterisk"), "morphology": m.group("morph"),
            "manifestation": bool(m.group("star"))}


def who_category(code: str) -> str:
    """The WHO ICD-10 category or subcategory a clinical-edition code refines: I10.x00x032 -> I10."""
    if len(code) >= 5 and code[3] == "." and code[4].isdigit():
        return code[:5]
    return code[:3]


def _who_titles() -> dict[str, tuple[str, str]]:
    return {r["code"]: (r["title"], r["title_zh"]) for r in read_tsv(data_path(WHO_FILE))}


def _add_who_parents(w: StoreWriter, who: dict[str, tuple[str, str]], needed: set[str]) -> None:
    for c in sorted(needed):
        en, zh = who.get(c, (f"ICD-10 {c}", ""))
        parent = c[:3] if len(c) > 3 else None
        w.code(c, zh or en, "who_category", parent, False, norm=c.upper(), title_zh=None,
               extra={"title_en": en}, searchable=False)


def build_cn_dx(w: StoreWriter) -> dict[str, str]:
    """国家临床版2.0: 37,294 codes under their WHO categories."""
    who = _who_titles()
    rows = read_tsv(data_path(DX_FILE))
    needed: set[str] = set()
    morph = 0
    primaries = {split_dx(r["code"])["primary"] for r in rows}
    for r in rows:
        parts = split_dx(r["code"])
        code = str(parts["primary"])
        extra = {"official": r["code"]}
        if parts["asterisk"]:
            extra["asterisk"] = str(parts["asterisk"])
        if parts["morphology"]:
            extra["morphology"] = str(parts["morphology"])
        if parts["manifestation"]:
            extra["manifestation"] = True
        if MORPH_RE.match(code):
            morph += 1
            w.code(code, r["name"], "morphology", None, True, norm=code.upper(), extra=extra)
            continue
        ext_parent = code[:7] if len(code) > 7 and code[:7] in primaries else None
        cat = who_category(code)
        if cat != code and cat not in primaries:
            needed.add(cat)
            if len(cat) > 3 and cat[:3] not in primaries:
                needed.add(cat[:3])
        w.code(code, r["name"], "code", ext_parent or (cat if cat != code else None), True, norm=code.upper(),
               extra=extra | {"who": cat})
    _add_who_parents(w, who, needed)
    return {"codes": str(len(rows)), "morphology": str(morph)}


def build_cn_px(w: StoreWriter) -> dict[str, str]:
    """国家临床版3.0 procedures under their ICD-9-CM-3 codes."""
    icd9 = {r["code"]: r for r in read_tsv(data_path(ICD9_FILE))}
    rows = read_tsv(data_path(PX_FILE))
    codes = {r["code"].upper() for r in rows}
    needed: set[str] = set()
    ext = 0
    for r in rows:
        code = r["code"].upper()
        is_ext = len(code) == 11 and code[7] == "X"
        ext += is_ext
        base = code[:7] if is_ext else code
        icd9_code = base[:5].rstrip("X").rstrip(".")
        parent = base if is_ext and base in codes else icd9_code
        if parent not in codes:
            needed.add(parent)
        w.code(code, r["name"], "code", parent if parent != code else None, True, norm=code,
               extra={"extension": is_ext, "icd9cm3": icd9_code})
    for p in sorted(needed):
        chain = [p] + prefix_parents(p)
        for i, c in enumerate(chain):
            if c in codes:
                break
            info = icd9.get(c)
            w.code(c, (info or {}).get("title_zh") or (info or {}).get("title") or f"ICD-9-CM-3 {c}", "icd9_category",
                   chain[i + 1] if i + 1 < len(chain) else None, False, norm=c,
                   extra={"title_en": (info or {}).get("title")}, searchable=False)
            codes.add(c)
    return {"codes": str(len(rows)), "extensions": str(ext)}


def build_cn_beijing(w: StoreWriter) -> dict[str, str]:
    """北京临床版 v601: 40,474 rows, hierarchy by code prefix."""
    rows = read_tsv(data_path(BJ_FILE))
    prim = [re.split(r"[+†]", r["code"])[0] for r in rows]
    present = set(prim)

    def parent_of(code: str) -> str | None:
        for n in range(len(code) - 1, 2, -1):
            cand = code[:n].rstrip(".")
            if cand in present and cand != code:
                return cand
        return None

    parents = {code: parent_of(code) for code in prim}
    with_children = {p for p in parents.values() if p}
    for r, code in zip(rows, prim, strict=True):
        w.code(code, r["name"], "code" if code not in with_children else "category", parents[code],
               code not in with_children, norm=code.upper(),
               extra={"official": r["code"]} if r["code"] != code else None)
    return {"codes": str(len(rows))}


class _ChineseSystem(CodeSystem):
    lang = "zh"

    def _norm_key(self, code: str) -> str:
        return code.strip().upper()


class CNClinicalDx(_ChineseSystem):
    """疾病分类与代码国家临床版2.0."""

    id = "cn-clinical-dx"
    name = "疾病分类与代码国家临床版2.0"

    def normalize(self, code: str) -> str:
        """Accept the official spelling in any case, with or without the dagger/asterisk part."""
        raw = code.strip().replace("＋", "+")
        try:
            primary = str(split_dx(raw.upper() if MORPH_RE.match(raw.upper()) else raw)["primary"])
        except ValueError:
            try:
                primary = str(split_dx(raw[:1].upper() + raw[1:])["primary"])
            except ValueError:
                raise MalformedCodeError(
                    f"{code!r} is not a national clinical edition 2.0 code (e.g. I25.103 or I10.x00x032)"
                ) from None
        return primary


class CNClinicalPx(_ChineseSystem):
    """手术操作分类代码国家临床版3.0."""

    id = "cn-clinical-px"
    name = "手术操作分类代码国家临床版3.0"

    def normalize(self, code: str) -> str:
        """00.6600X004 or 00.6600x004 (records often write the x in lower case)."""
        raw = code.strip().upper()
        if not re.fullmatch(r"\d{2}(?:\.[0-9X]{1,8})?", raw):
            raise MalformedCodeError(f"{code!r} is not a clinical edition 3.0 procedure code (e.g. 36.0700 or 00.6600X004)")
        return raw


class CNBeijingV601(_ChineseSystem):
    """ICD-10 北京临床版 v601."""

    id = "cn-beijing-v601"
    name = "ICD-10 北京临床版 v601"

    def normalize(self, code: str) -> str:
        """Primary code of a Beijing v601 string (A01.003+G01* -> A01.003)."""
        raw = re.split(r"[+†＋]", code.strip())[0].upper()
        if not re.fullmatch(r"[A-Z]\d{2}(?:\.\d{1,4})?\*?|[A-Z]", raw):
            raise MalformedCodeError(f"{code!r} is not a Beijing v601 code (e.g. I25.1 or A01.003)")
        return raw
