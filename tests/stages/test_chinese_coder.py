"""The Chinese coder: standardization of the diagnosis list, narrative mining, negation."""

from chartcoder.coder import code_case
from chartcoder.types import Case


def test_diagnosis_list_is_standardized_with_evidence() -> None:
    case = Case(lang="zh", fields={"出院诊断": "1.冠状动脉粥样硬化性心脏病2.高血压病3级（极高危）",
                                  "诊疗经过": "行冠状动脉造影术。患者否认糖尿病。"})
    res = code_case(case)
    dx = res.diagnoses()
    assert dx[0] == "I25.103" and res.codes[0].principal
    assert "I10.x00x032" in dx
    for a in res.codes:
        assert res.text[a.evidence[0].start : a.evidence[0].end] == a.evidence[0].text
    assert "standardized" in res.stage_outputs
    assert not any("糖尿病" in a.title for a in res.codes)


def test_free_text_record_with_headings_and_fallback_warning() -> None:
    res = code_case(Case(lang="zh", text="主诉：胸闷。\n入院诊断：1.冠心病 2.心房颤动"))
    assert "I25.103" in res.diagnoses()
    assert any("入院诊断" in w for w in res.warnings)
