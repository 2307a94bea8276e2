"""The Chinese coder: standardization of the diagnosis list, narrative mining, negation."""

from pathlib import Path

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


FIXTURE = Path(__file__).parents[1] / "fixtures" / "jointcoder" / "records.xlsx"


def test_jointcoder_layout_records_with_discharge_list() -> None:
    from chartcoder.eval.datasets import read_dataset
    from chartcoder.eval.run import evaluate

    summary, outcomes = evaluate(read_dataset("jointcoder-xlsx", FIXTURE))
    assert summary["documents"] == 6 and summary["errors"] == 0
    assert summary["diagnoses"]["f1"] >= 0.85, summary["diagnoses"]
    assert summary["procedures"]["f1"] >= 0.85, summary["procedures"]
    assert summary["principal_accuracy"] >= 0.8
    for o in outcomes:
        for a in o.result.codes:
            assert a.verdict.accepted and o.result.text[a.evidence[0].start : a.evidence[0].end] == a.evidence[0].text


def _record(**fields: str):
    return code_case(Case(lang="zh", fields=fields))


def test_stent_and_vessel_counts_and_ptca_are_coded_also() -> None:
    res = _record(出院诊断="不稳定型心绞痛", 手术名称="冠状动脉造影术+经皮冠状动脉支架植入术",
                  手术经过="前降支植入支架2枚，回旋支植入支架1枚，右冠植入支架1枚。")
    px = res.procedures()
    assert {"88.5600", "36.0700", "00.6600", "00.4800", "00.4200"} <= set(px), px
    assert any("code also" in p for a in res.codes for p in a.path)


def test_ventilation_is_banded_by_duration_and_negated_procedures_are_not_coded() -> None:
    long = _record(出院诊断="呼吸衰竭", 诊疗经过="予有创呼吸机辅助通气5天。未行心肺复苏。")
    assert "96.7200" in long.procedures() and "99.6000" not in long.procedures()
    assert any(r.code == "99.6000" and r.reason == "negated" for r in long.rejected)
    short = _record(出院诊断="呼吸衰竭", 诊疗经过="予呼吸机辅助通气36小时后拔管。")
    assert "96.7100" in short.procedures()


def test_dagger_code_brings_its_asterisk_which_is_never_principal() -> None:
    res = _record(出院诊断="1.2型糖尿病性周围神经病 2.高血压病2级（高危）")
    assert res.diagnoses()[:2] == ["E11.401", "G63.2"]
    assert res.codes[0].principal and not res.codes[1].principal


def test_grade_and_risk_select_the_extension_and_the_highest_pressure_regrades() -> None:
    res = _record(出院诊断="1.冠心病 2.高血压病（2级，很高危）", 既往史="高血压病史10年，收缩压最高达190mmHg。")
    assert "I10.x00x032" in res.diagnoses()  # grade 3 by 190 mmHg, 极高危 as written (很高危)
    assert any("highest recorded pressure" in p for a in res.codes for p in a.path)


def test_traditional_characters_and_full_width_punctuation() -> None:
    res = _record(出院診斷="1．冠狀動脈粥樣硬化性心臟病；2．高血壓病3級（很高危）")
    assert {"I25.103", "I10.x00x032"} <= set(res.diagnoses())
    assert any("traditional" in w for w in res.warnings)


def test_garbage_and_empty_records_give_clear_results() -> None:
    import pytest

    from chartcoder.pipeline import InputError

    res = _record(出院诊断="asdkjh qwe 123 ！！", 诊疗经过="……")
    assert res.codes == [] and any("no codable content" in w for w in res.warnings)
    with pytest.raises(InputError):
        _record(出院诊断="   ")


def test_admission_comorbidity_never_managed_is_not_coded() -> None:
    res = _record(入院诊断="1.冠心病 不稳定型心绞痛 2.高血压病3级 3.慢性胃炎 4.颈椎病",
                  诊疗经过="予抗血小板、降压治疗，予护胃治疗慢性胃炎后好转。")
    titles = {a.title for a in res.codes}
    assert "慢性胃炎" in titles and "颈椎病" not in titles
    assert any(r.title == "颈椎病" and "not managed" in r.reason for r in res.rejected)
    assert any("入院诊断" in w for w in res.warnings)


def test_procedure_name_variants_seen_in_training_are_normalized() -> None:
    from chartcoder.zh.normalize import normalize_names

    assert normalize_names("横结肠造口还纳术", "chip2019") == ["横结肠造口闭合术"]          # a train pair
    assert normalize_names("横结肠造口还纳手术", "chip2019") == ["横结肠造口闭合术"]        # nearly the same text
