"""ICD-10-PCS rows and axes; Chinese editions and search."""

import pytest

from chartcoder.codesystems import MalformedCodeError, UnknownSystemError, get_system


def test_pcs_validity_is_a_table_row(icd10pcs) -> None:
    assert icd10pcs.is_valid("0DTJ4ZZ")
    assert not icd10pcs.is_valid("0DTJ4ZX")
    assert not icd10pcs.is_valid("0DTJ")
    rows = icd10pcs.table_rows("0DT")
    assert any("J" in r["4"] for r in rows)


def test_pcs_axis_meanings(icd10pcs) -> None:
    axes = {a["axis"]: a["meaning"] for a in icd10pcs.describe("0DTJ4ZZ")}
    assert axes["Operation"] == "Resection"
    assert axes["Body Part"] == "Appendix"
    assert axes["Approach"] == "Percutaneous Endoscopic"


def test_pcs_index_and_definitions(icd10pcs) -> None:
    (entry, *_) = icd10pcs.index_lookup("Appendectomy")
    assert any("0DTJ" in s for s in entry.subterms)
    (use, *_) = icd10pcs.index_lookup("Abdominal aortic plexus")
    assert use.use == "Abdominal Sympathetic Nerve"
    assert icd10pcs.definitions("Resection")[0]["definition"].startswith("Cutting out or off")
    with pytest.raises(MalformedCodeError):
        icd10pcs.normalize("0DTI4ZZ")


def test_chinese_search_finds_cad() -> None:
    cs = get_system("cn-clinical-dx")
    assert cs.search("冠状动脉粥样硬化性心脏病", 5)[0].code == "I25.103"


def test_cn_dagger_asterisk_and_who_category() -> None:
    cs = get_system("cn-clinical-dx")
    info = cs.get("A01.000x003")
    assert info.extra["asterisk"] == "G01" and info.extra["official"] == "A01.000x003†G01*"
    assert cs.get("A01.000x003†G01*").code == "A01.000x003"
    hyp = cs.get("I10.X00X032")
    assert hyp.code == "I10.x00x032" and hyp.extra["who"] == "I10"
    assert [c for c, _ in hyp.parents][-1] == "I10"


def test_cn_procedure_search() -> None:
    px = get_system("cn-clinical-px")
    codes = [h.code for h in px.search("冠状动脉支架置入", 10)]
    assert any(c.startswith("36.06") or c.startswith("36.07") for c in codes)


def test_unknown_system() -> None:
    with pytest.raises(UnknownSystemError):
        get_system("icd11")
