"""The harness reads real formats, survives bad rows, and never shows gold to the coder."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from chartcoder.cli import app
from chartcoder.eval.datasets import DatasetError, read_ccl2025, read_codiesp, read_dataset
from chartcoder.eval.run import evaluate

FIX = Path(__file__).parents[1] / "fixtures"


def test_codiesp_reader_reports_bad_rows_and_empty_texts() -> None:
    ds = read_codiesp(FIX / "codiesp_mini")
    assert [d.doc_id for d in ds.documents] == ["DOC-1"]
    assert ds.documents[0].gold.diagnoses == ["E11.9", "I10", "K35.80"]
    assert any("miniD.tsv:4" in w for w in ds.warnings)
    assert any("DOC-2.txt: empty" in w for w in ds.warnings)


def test_missing_dataset_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        read_dataset("codiesp", tmp_path / "nope")
    with pytest.raises(DatasetError, match="unknown dataset kind"):
        read_dataset("mimic", tmp_path)


def test_coder_sees_only_text(tmp_path: Path) -> None:
    seen = []

    def spy(case):
        seen.append(case)
        from chartcoder.coder import code_case

        return code_case(case)

    records = [{"病案标识": "R1", "入院诊断": "1.高血压病 2.冠心病", "主要诊断编码": "I10.x00x032",
                "其他诊断编码": "I25.103"}, {"病案标识": "R2", "主要诊断编码": "I10.x00x032"}]
    f = tmp_path / "ccl.json"
    f.write_text(json.dumps(records, ensure_ascii=False), "utf-8")
    ds = read_ccl2025(f)
    assert any("record 2 has no text" in w for w in ds.warnings)
    summary, _ = evaluate(ds, coder=spy)
    dumped = " ".join(c.model_dump_json() for c in seen)
    assert "I10.x00x032" not in dumped and "I25.103" not in dumped and "主要诊断编码" not in dumped
    assert summary["documents"] == 1 and summary["diagnoses"]["f1"] > 0


def test_eval_cli_json_shape() -> None:
    res = CliRunner().invoke(app, ["eval", "codiesp", str(FIX / "codiesp_mini"), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout.strip().splitlines()[-1])
    for key in ("dataset", "documents", "diagnoses", "procedures", "principal_accuracy", "docs_per_second", "seconds"):
        assert key in doc
    assert doc["diagnoses"]["f1"] > 0 and set(doc["diagnoses"]) >= {"precision", "recall", "f1", "map", "f1_category"}


def test_eval_scope_codiesp_codes_the_record_unless_told(tmp_path: Path) -> None:
    """CodiEsp's annotators coded every procedure a case report tells, past ones too: its eval reads the
    record scope; --scope encounter measures the hospital coder's convention instead."""
    texts = tmp_path / "text_files_en"
    texts.mkdir()
    (texts / "DOC-1.txt").write_text("She had undergone an open appendectomy.\n", "utf-8")
    (tmp_path / "devD.tsv").write_text("", "utf-8")
    (tmp_path / "devP.tsv").write_text("DOC-1\t0dtj0zz\n", "utf-8")
    (tmp_path / "devX.tsv").write_text("", "utf-8")

    def procedures_f1(*extra: str) -> float:
        res = CliRunner().invoke(app, ["eval", "codiesp", str(tmp_path), "--json", *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout.strip().splitlines()[-1])["procedures"]["f1"]

    assert procedures_f1() == 1.0
    assert procedures_f1("--scope", "encounter") == 0.0, "a past procedure is not this stay's"
    assert CliRunner().invoke(app, ["eval", "codiesp", str(tmp_path), "--scope", "visit"]).exit_code != 0


def test_eval_report_written(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["eval", "codiesp", str(FIX / "codiesp_mini"), "--report", str(tmp_path)])
    assert res.exit_code == 0, res.output
    text = (tmp_path / "report.md").read_text("utf-8")
    assert "Top false negatives" in text and (tmp_path / "latency.png").exists()


def _write_jointcoder_workbook(path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["ID", "主诉", "出院诊断", "手术名称", "出院主要诊断编码", "出院主要诊断名称", "出院其他诊断编码1",
               "出院其他诊断名称1", "主要手术操作编码", "主要手术操作名称"])
    ws.append(["J1", "胸闷3天", "1.冠状动脉粥样硬化性心脏病 2.高血压病3级（极高危）", "单根导管的冠状动脉造影术",
               "I25.103", "冠状动脉粥样硬化性心脏病", "I10.x00x032", "高血压病3级（极高危）", "88.5500", "单根导管的冠状动脉造影术"])
    ws.append(["J2", None, None, None, "I10.x00x032", None, None, None, None, None])
    wb.save(path)


def test_jointcoder_workbook_scores_diagnoses_and_procedures(tmp_path: Path) -> None:
    path = tmp_path / "jointcoder.xlsx"
    _write_jointcoder_workbook(path)
    ds = read_dataset("jointcoder-xlsx", path)
    assert [d.doc_id for d in ds.documents] == ["J1"] and any("row 3" in w for w in ds.warnings)
    assert ds.documents[0].gold.procedures == ["88.5500"]
    summary, _ = evaluate(ds)
    assert summary["diagnoses"]["f1"] == 1.0 and summary["principal_accuracy"] == 1.0
    assert summary["procedures"] is not None


def test_malformed_workbook_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip file at all")
    with pytest.raises(DatasetError, match="bad.xlsx"):
        read_dataset("jointcoder-xlsx", bad)
