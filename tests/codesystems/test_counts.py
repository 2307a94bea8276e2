"""Every edition holds what its official file holds."""

import pytest

from chartcoder.codesystems import get_system


@pytest.mark.parametrize(
    ("system", "valid"),
    [
        ("icd10cm", 74_719),
        ("icd10pcs", 78_948),
        ("icd9cm3", 3_882),
        ("cn-clinical-dx", 37_294),
        ("cn-clinical-px", 13_518),
        ("cn-beijing-v601", 30_764),
    ],
)
def test_valid_code_counts(system: str, valid: int) -> None:
    assert get_system(system).count(billable_only=True) == valid


def test_icd10cm_structure(icd10cm) -> None:
    assert icd10cm.count(kind="chapter") == 22
    assert icd10cm.count(kind="category") == 1_918
    meta = dict(icd10cm.conn.execute("SELECT key, value FROM meta").fetchall())
    assert int(meta["index_index"]) > 80_000 and int(meta["index_drug"]) > 7_000


def test_pcs_tables(icd10pcs) -> None:
    assert icd10pcs.count(kind="table") == 908


def test_beijing_rows_all_present() -> None:
    assert get_system("cn-beijing-v601").count() == 40_474


def test_cn_px_extensions_accept_lower_case_x() -> None:
    px = get_system("cn-clinical-px")
    ext = px.conn.execute("SELECT count(*) FROM codes WHERE json_extract(extra, '$.extension') = 1").fetchone()[0]
    assert ext == 4_535
    assert px.is_valid("00.6600x004") and px.is_valid("00.6600X004")
    assert px.get("00.6600x004").code == "00.6600X004"


def test_icd9cm3_has_chinese_titles() -> None:
    info = get_system("icd9cm3").get("36.06")
    assert info is not None and info.billable
    assert "stent" in info.title.lower() and info.title_zh
    assert [c for c, _ in info.parents][:2] == ["36.0", "36"]
