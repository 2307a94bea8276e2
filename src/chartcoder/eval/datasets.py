"""Readers for the human-coded evaluation sets. Gold codes stay in ``Document.gold`` and never
reach the pipeline: ``Document.case()`` builds the coder's input from text/fields only."""

from __future__ import annotations

import csv
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from chartcoder.types import Case


class DatasetError(Exception):
    """A dataset cannot be read at all (the message names the file)."""


@dataclass
class Gold:
    """Gold codes of one document, by type, in the order the source lists them."""

    diagnoses: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    principal: str | None = None
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


@dataclass
class Document:
    """One record to code and its gold answer."""

    doc_id: str
    lang: str
    text: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    gold: Gold = field(default_factory=Gold)
    scope: str = "encounter"  # "record" where the annotators coded every procedure told, past ones too

    def case(self) -> Case:
        """What the coder may see: the text or fields, never the gold."""
        return Case(text=self.text, fields=dict(self.fields), lang=self.lang, case_id=self.doc_id, scope=self.scope)


@dataclass
class Dataset:
    """Documents plus the problems met while reading them."""

    kind: str
    path: Path
    documents: list[Document]
    warnings: list[str] = field(default_factory=list)
    code_types: tuple[str, ...] = ("diagnoses", "procedures")
    mapping: str = ""
    partial_procedures: bool = False  # gold PCS codes stop at 4 characters where the note gives no more
    older_edition: bool = False  # gold ICD-10-CM codes from an older edition (some since split into children)


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise DatasetError(f"{what} not found: {path}")
    return path


def _json_list(path: Path, what: str) -> list:
    """A JSON file holding a list, or a DatasetError naming the file."""
    _need(path, what)
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not valid UTF-8 JSON ({exc})") from None
    if not isinstance(records, list):
        raise DatasetError(f"{path}: expected a JSON list of records")
    return records


def read_codiesp(path: Path) -> Dataset:
    """A CodiEsp split folder: text_files_en/*.txt, *D.tsv, *P.tsv, *X.tsv."""
    _need(path, "CodiEsp split folder")
    texts = _need(path / "text_files_en", "CodiEsp English text folder")
    warnings: list[str] = []
    gold: dict[str, Gold] = defaultdict(Gold)

    def rows(suffix: str, width: int) -> list[tuple[str, list[str]]]:
        files = sorted(path.glob(f"*{suffix}.tsv"))
        if not files:
            warnings.append(f"no *{suffix}.tsv in {path}")
            return []
        out = []
        with files[0].open(encoding="utf-8", newline="") as f:
            for n, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
                if len(row) < width or not row[0].strip() or not row[1].strip():
                    warnings.append(f"{files[0]}:{n}: malformed row skipped ({len(row)} fields)")
                    continue
                out.append((row[0].strip(), row))
        return out

    for doc, row in rows("D", 2):
        gold[doc].diagnoses.append(row[1].strip().upper())
    for doc, row in rows("P", 2):
        gold[doc].procedures.append(row[1].strip().upper())
    for doc, row in rows("X", 5):
        spans = []
        for part in row[4].split(";"):
            bits = part.split()
            if len(bits) == 2 and all(b.isdigit() for b in bits):
                spans.append((int(bits[0]), int(bits[1])))
        gold[doc].spans.setdefault(row[2].strip().upper(), []).extend(spans)
    documents = []
    for f in sorted(texts.glob("*.txt")):
        try:
            text = f.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            warnings.append(f"{f}: not UTF-8, skipped")
            continue
        if not text.strip():
            warnings.append(f"{f}: empty text, skipped")
            continue
        # CodiEsp's case reports are coded whole: a procedure done years before is coded like this stay's
        documents.append(Document(doc_id=f.stem, lang="en", text=text, gold=gold.get(f.stem, Gold()), scope="record"))
    if not documents:
        raise DatasetError(f"no readable documents in {texts}")
    mapping = ("CodiEsp gold is the 2018 Spanish CIE-10 (ICD-10-CM/PCS); ChartCoder codes in ICD-10-CM FY2026 and "
               "ICD-10-PCS FY2025. Codes are compared upper-cased with the dot; 'category' compares the first 3 "
               "characters; PCS partial gold codes also count as matched by any predicted code that starts with them. "
               "A gold diagnosis code that is not valid in FY2026 (split since 2018, e.g. R05 -> R05.9, or given "
               "without its 7th character) is matched by a predicted code below it ('f1_without_edition_alignment' "
               "gives the score without this).")
    return Dataset("codiesp", path, documents, warnings, mapping=mapping, partial_procedures=True, older_edition=True)


CCL_GOLD_KEYS = ("主要诊断编码", "其他诊断编码", "主要诊断", "其他诊断")


def read_ccl2025(path: Path) -> Dataset:
    """CCL2025 JSON: a list of Chinese inpatient records with 主要诊断编码 / 其他诊断编码."""
    records = _json_list(path, "CCL2025 JSON file")
    warnings, documents = [], []
    for n, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            warnings.append(f"{path}: record {n} is not an object, skipped")
            continue
        fields = {k: str(v) for k, v in rec.items() if k not in CCL_GOLD_KEYS and k != "病案标识" and v}
        if not any(v.strip() for v in fields.values()):
            warnings.append(f"{path}: record {n} has no text, skipped")
            continue
        principal = str(rec.get("主要诊断编码") or "").strip() or None
        others = [c.strip() for c in re.split(r"[;；,，]", str(rec.get("其他诊断编码") or "")) if c.strip()]
        gold = Gold(diagnoses=([principal] if principal else []) + others, principal=principal)
        documents.append(Document(doc_id=str(rec.get("病案标识") or n), lang="zh", fields=fields, gold=gold))
    mapping = "Gold and predictions are national clinical edition 2.0 codes, compared exactly; 'category' = first 3 characters."
    return Dataset("ccl2025", path, documents, warnings, code_types=("diagnoses",), mapping=mapping)


def read_chip_cdn(path: Path) -> Dataset:
    """CHIP-CDN JSON: raw diagnosis strings -> '##'-joined standard names (Beijing v601)."""
    records = _json_list(path, "CHIP-CDN JSON file")
    docs, warnings = [], []
    for n, rec in enumerate(records, start=1):
        text = str(rec.get("text") or "").strip() if isinstance(rec, dict) else ""
        if not text:
            warnings.append(f"{path}: item {n} has no text, skipped")
            continue
        names = [x for x in str(rec.get("normalized_result") or "").split("##") if x]
        docs.append(Document(doc_id=str(n), lang="zh", text=text, gold=Gold(names=names)))
    return Dataset("chip-cdn", path, docs, warnings, code_types=("names",),
                   mapping="Standard names of ICD-10 Beijing clinical v601, compared as exact strings.")


def read_chip2019(path: Path) -> Dataset:
    """CHIP2019 procedures TSV: raw name <tab> standard ICD-9-CM-3 name(s) ('##'-joined)."""
    _need(path, "CHIP2019 TSV file")
    docs, warnings = [], []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t"), start=1):
            if n == 1 and row and row[0] == "原始词":
                continue
            if len(row) < 2 or not row[0].strip():
                warnings.append(f"{path}:{n}: malformed row skipped")
                continue
            docs.append(Document(doc_id=str(n), lang="zh", text=row[0].strip(),
                                 gold=Gold(names=[x for x in row[1].split("##") if x])))
    return Dataset("chip2019", path, docs, warnings, code_types=("names",),
                   mapping="Standard names of the ICD-9-CM-3 clinical edition list (CHIP2019), compared as exact strings.")


JOINTCODER_TEXT_FIELDS = ("主诉", "现病史", "既往史", "个人史", "婚姻史", "家族史", "入院情况", "入院诊断", "诊疗经过",
                          "病程记录", "手术名称", "手术经过", "影像学意见", "超声提示", "超声印象", "出院情况", "出院诊断",
                          "出院医嘱")


def read_jointcoder_xlsx(path: Path) -> Dataset:
    """A JointCoder-layout workbook: record fields plus 出院主要诊断编码, 出院其他诊断编码N, 主要手术操作编码, 其他手术操作编码N."""
    _need(path, "JointCoder workbook")
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(str(path))
        rows = wb.get_sheet_by_name(wb.sheet_names[0]).to_python()
    except (CalamineError, OSError, ValueError) as exc:
        raise DatasetError(f"{path}: cannot read the workbook ({exc})") from None
    if not rows:
        raise DatasetError(f"{path}: the first sheet is empty")
    header = [str(h).strip() for h in rows[0]]
    if "出院主要诊断编码" not in header:
        raise DatasetError(f"{path}: no column 出院主要诊断编码 in the header row {header[:8]}…")
    warnings, docs = [], []
    for n, row in enumerate(rows[1:], start=2):
        cells = {h: str(v).strip() for h, v in zip(header, row, strict=False) if h and str(v).strip()}
        fields = {k: v for k, v in cells.items() if k in JOINTCODER_TEXT_FIELDS}
        if not fields:
            warnings.append(f"{path}:row {n}: no record text, skipped")
            continue
        principal = cells.get("出院主要诊断编码")
        dx = ([principal] if principal else []) + [cells[h] for h in header if re.fullmatch(r"出院其他诊断编码\d+", h)
                                                   and cells.get(h)]
        px = [cells[h] for h in header if (h == "主要手术操作编码" or re.fullmatch(r"其他手术操作编码\d+", h))
              and cells.get(h)]
        docs.append(Document(doc_id=cells.get("ID", str(n)), lang="zh", fields=fields,
                             gold=Gold(diagnoses=dx, procedures=[p.upper() for p in px], principal=principal)))
    return Dataset("jointcoder-xlsx", path, docs, warnings,
                   mapping="Diagnoses in national clinical 2.0 and procedures in the ICD-9-CM-3 clinical edition 3.0, "
                           "compared exactly (procedure x upper-cased).")


READERS = {
    "codiesp": read_codiesp,
    "ccl2025": read_ccl2025,
    "jointcoder-xlsx": read_jointcoder_xlsx,
    "chip-cdn": read_chip_cdn,
    "chip2019": read_chip2019,
}


def read_dataset(kind: str, path: Path) -> Dataset:
    """Read a dataset of a known kind."""
    if kind not in READERS:
        raise DatasetError(f"unknown dataset kind {kind!r}; choose one of {', '.join(READERS)}")
    return READERS[kind](Path(path))
