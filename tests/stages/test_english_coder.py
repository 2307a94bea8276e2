"""The English coder: codes with evidence, context, audit, bad input."""

from pathlib import Path

import pytest

from chartcoder.coder import code
from chartcoder.codesystems import get_system
from chartcoder.pipeline import InputError

SAMPLE = (Path(__file__).parents[2] / "examples" / "discharge_summary.txt").read_text("utf-8")


@pytest.fixture(scope="module")
def sample():
    return code(SAMPLE)


def test_sample_principal_and_key_codes(sample) -> None:
    assert sample.codes[0].code == "I21.4" and sample.codes[0].principal
    dx = sample.diagnoses()
    assert "E11.22" in dx and "I50.22" in dx
    assert "I13.0" in dx, "hypertension + heart failure + CKD is the I13 combination"
    assert "E11.9" not in dx, "less specific than E11.22"


def test_every_code_is_valid_and_evidenced(sample) -> None:
    cm, pcs = get_system("icd10cm"), get_system("icd10pcs")
    for a in sample.codes:
        assert (cm if a.system == "icd10cm" else pcs).is_valid(a.code)
        assert a.evidence and all(SAMPLE[s.start : s.end] == s.text for s in a.evidence)
        assert a.verdict and a.verdict.accepted and a.path


def test_negated_and_family_findings_are_rejected_with_reason(sample) -> None:
    reasons = {r.code: r.reason for r in sample.rejected}
    assert reasons.get("R50.9") == "negated"
    assert reasons.get("C18.9") == "family history"
    assert "J18.9" not in sample.diagnoses()


def test_outpatient_does_not_code_uncertain() -> None:
    text = "ASSESSMENT:\nProbable pneumonia.\n"
    assert "J18.9" in code(text, setting="inpatient").diagnoses()
    assert "J18.9" not in code(text, setting="outpatient").diagnoses()


def test_seventh_character_added() -> None:
    res = code("DIAGNOSES:\nClosed fracture of the neck of the right femur.")
    assert any(c.startswith("S72.0") and c.endswith("A") and len(c) == 8 for c in res.diagnoses())


@pytest.mark.parametrize("bad", ["", "   ", "abc\x00def"])
def test_bad_input_is_a_clear_error(bad: str) -> None:
    with pytest.raises(InputError):
        code(bad)


def test_no_codable_content_is_said() -> None:
    res = code("Der Patient wurde nach Hause entlassen. Alles gut.")
    assert res.codes == [] and res.warnings


def test_large_note_is_coded() -> None:
    res = code(SAMPLE * 200)
    assert "I21.4" in res.diagnoses()
