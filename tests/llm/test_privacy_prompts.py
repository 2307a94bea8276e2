"""Privacy guard, prompt templates and de-identification of logged text."""

from __future__ import annotations

import logging

import pytest
from scripted_server import ScriptedServer
from typer.testing import CliRunner

from chartcoder.cli import app
from chartcoder.deid import scrub
from chartcoder.llm import LLMSettings, PrivacyError, check_destination
from chartcoder.llm.prompts import render, template


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:11434/v1", "http://10.2.3.4:8000",
                                 "http://192.168.1.20", "http://[::1]:8080"])
def test_local_and_private_servers_are_allowed(url):
    check_destination(url, allow_remote=False)


@pytest.mark.parametrize("url", ["http://8.8.8.8:8080", "https://1.1.1.1/v1", "http://no-such-host.invalid:8080",
                                 "ftp://127.0.0.1"])
def test_remote_servers_are_refused(url):
    with pytest.raises(PrivacyError):
        check_destination(url, allow_remote=False)


def test_remote_server_allowed_only_when_asked():
    assert check_destination("http://8.8.8.8:8080", allow_remote=True) == "8.8.8.8"


def test_cli_refuses_a_remote_server_with_a_clear_error(tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("Diagnosis: essential hypertension.")
    result = CliRunner().invoke(app, ["code", str(note), "--llm-url", "http://8.8.8.8:8080"])
    assert result.exit_code == 2
    assert "allow-remote-llm" in result.output


def test_cli_shows_which_path_produced_each_code(tmp_path):
    note = tmp_path / "n.txt"
    note.write_text("DISCHARGE DIAGNOSES:\n1. Essential hypertension.\n2. Type 2 diabetes mellitus.\n")
    with ScriptedServer("http500") as url:
        result = CliRunner().invoke(app, ["code", str(note), "--llm-url", url, "--json"],
                                    env={"CHARTCODER_LLM_RETRIES": "0", "CHARTCODER_LLM_CACHE": "false"})
    assert result.exit_code == 0, result.output
    assert '"fallback_reason": "locate: http_error"' in result.output
    assert '"produced_by": "rules"' in result.output


def test_config_file_sets_the_server(tmp_path, monkeypatch):
    from chartcoder.llm import load_settings

    cfg = tmp_path / "config.toml"
    cfg.write_text('[llm]\nurl = "http://127.0.0.1:9999"\nmodel = "qwen"\ntimeout = 5\n')
    monkeypatch.setenv("CHARTCODER_CONFIG", str(cfg))
    monkeypatch.setenv("CHARTCODER_LLM_MODEL", "llama")
    s = load_settings(timeout=7)
    assert (s.url, s.model, s.timeout) == ("http://127.0.0.1:9999", "llama", 7)


@pytest.mark.parametrize(("lang", "name"), [("en", "select"), ("en", "verify"), ("en", "principal"),
                                            ("zh", "standardize"), ("zh", "principal")])
def test_prompts_are_versioned_templates(lang, name):
    prompt_id, _, _ = template(lang, name)
    assert prompt_id.startswith(f"{lang}/{name}.v")
    values = {"sentence": "s", "mention": "m", "options": "A. X", "note": "n", "term": "t", "field": "f"}
    _, messages = render(lang, name, **values)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "$" not in messages[1]["content"].replace("$ ", "")


def test_deid_masks_identifiers():
    text = ("Mr. John Smith, MRN: 12345678, seen 03/04/2021, phone 555-123-4567, john@example.org. "
            "患者姓名：张三，身份证 110101199003071234，电话13812345678，住院号：A123456")
    clean = scrub(text)
    for secret in ("John Smith", "12345678", "03/04/2021", "555-123-4567", "john@example.org", "张三",
                   "110101199003071234", "13812345678", "A123456"):
        assert secret not in clean, secret


def test_prompts_are_not_logged_unless_asked_and_then_deidentified(tmp_path, caplog):
    from chartcoder.coder import code

    note = "Mr. John Smith, MRN 99887766.\nDISCHARGE DIAGNOSES:\n1. Essential hypertension.\n2. Asthma.\n"
    with ScriptedServer("agree") as url, caplog.at_level(logging.INFO, logger="chartcoder.llm"):
        code(note, llm=LLMSettings(url=url, cache=False, cache_dir=tmp_path))
        assert not [r for r in caplog.records if r.name == "chartcoder.llm"]
        code(note, llm=LLMSettings(url=url, cache=False, cache_dir=tmp_path, log_prompts=True))
    logged = " ".join(r.getMessage() for r in caplog.records if r.name == "chartcoder.llm")
    assert "hypertension" in logged
    assert "John Smith" not in logged and "99887766" not in logged


def test_eval_with_a_model_reports_model_use(tmp_path):
    import json
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures" / "codiesp_mini"
    with ScriptedServer("agree") as url:
        result = CliRunner().invoke(app, ["eval", "codiesp", str(fixtures), "--llm-url", url, "--json"],
                                    env={"CHARTCODER_LLM_CACHE": "false"})
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["llm"]["calls"] > 0 and summary["llm"]["model_use_rate"] == 1.0
