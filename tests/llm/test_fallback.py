"""The model path and its fallbacks against a scripted OpenAI-compatible server on loopback."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import BaseModel
from scripted_server import ScriptedServer

from chartcoder.coder import code
from chartcoder.codesystems import get_system
from chartcoder.llm import LLMSettings
from chartcoder.llm.client import LLMClient, LLMError

NOTE = (Path(__file__).parents[2] / "examples" / "discharge_summary.txt").read_text()


def settings(url: str, tmp_path: Path, **kw: object) -> LLMSettings:
    base = {"url": url, "timeout": 1.0, "retries": 0, "cache_dir": tmp_path / "llm-cache"}
    return LLMSettings(**(base | kw))


@pytest.fixture(scope="module")
def rules_result():
    return code(NOTE)


def assert_valid_and_evidenced(result) -> None:
    for a in result.codes:
        cs = get_system(a.system)
        assert cs.is_valid(a.code), a.code
        assert a.evidence and all(result.text[s.start : s.end] == s.text for s in a.evidence)
        assert a.verdict and a.verdict.accepted


@pytest.mark.parametrize(("behaviour", "reason"), [
    ("sleep", "timeout"), ("http500", "http_error"), ("junk", "invalid_json"),
    ("wrong_schema", "schema"), ("slow_stream", "timeout"), ("bad_quote", "evidence"),
])
def test_every_failure_falls_back_to_the_rules(behaviour, reason, tmp_path, rules_result):
    with ScriptedServer(behaviour) as url:
        quick = {"timeout": 0.3} if reason == "timeout" else {}
        result = code(NOTE, llm=settings(url, tmp_path, cache=False, **quick))
    usage = result.llm
    assert usage is not None and usage.calls > 0
    assert usage.fallback_reasons.get(reason, 0) > 0, usage
    if behaviour != "bad_quote":  # a bad quote only breaks the calls that quote
        assert usage.model_used == 0
        assert [a.code for a in result.codes] == [a.code for a in rules_result.codes]
        assert all(a.produced_by == "rules" for a in result.codes)
        assert any(a.fallback_reason and reason in a.fallback_reason for a in result.codes)
    assert_valid_and_evidenced(result)
    locate = next(t for t in result.trace if t.stage == "locate")
    assert locate.fallbacks.get(reason, 0) > 0


def test_the_model_decides_when_it_answers_well(tmp_path):
    with ScriptedServer("agree") as url:
        result = code(NOTE, llm=settings(url, tmp_path))
    assert result.llm.model_used == result.llm.calls > 0
    assert any(a.produced_by == "llm" for a in result.codes)
    assert_valid_and_evidenced(result)
    # the scripted model picks the last option as principal: it is first in the result
    assert next(t for t in result.trace if t.stage == "assign").mode == "llm"
    assert result.codes[0].principal


def test_answers_are_cached_so_a_rerun_makes_no_calls(tmp_path):
    server = ScriptedServer("agree")
    with server as url:
        first = code(NOTE, llm=settings(url, tmp_path))
        asked = server.requests
        again = code(NOTE, llm=settings(url, tmp_path))
    assert asked > 0 and server.requests == asked
    assert again.llm.cached == again.llm.calls == first.llm.calls
    assert [a.code for a in again.codes] == [a.code for a in first.codes]


def test_cache_hit_sends_nothing(tmp_path):
    server = ScriptedServer("agree")
    with server as url:
        s = settings(url, tmp_path)
        client = LLMClient(s)

        class Answer(BaseModel):
            option: str

        client.complete([{"role": "user", "content": "x"}], Answer, "t")
        client.complete([{"role": "user", "content": "x"}], Answer, "t")
    assert server.requests == 1


def test_retries_are_bounded(tmp_path):
    server = ScriptedServer("http500")
    with server as url:
        client = LLMClient(settings(url, tmp_path, retries=2))

        class Answer(BaseModel):
            option: str

        with pytest.raises(LLMError) as info:
            client.complete([{"role": "user", "content": "x"}], Answer, "t")
    assert info.value.reason == "http_error"
    assert server.requests == 3


def test_requests_carry_a_json_schema_with_bounded_strings(tmp_path):
    server = ScriptedServer("agree")
    with server as url:
        code(NOTE, llm=settings(url, tmp_path, cache=False))
    body = server.bodies[0]
    assert body["stream"] is False and body["temperature"] == 0
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema"
    text = str(fmt["json_schema"]["schema"])
    assert "maxLength" in text and "enum" in text


def test_chinese_record_with_the_model(tmp_path):
    # "血糖偏高" is no standard name: standardization asks the model to choose among retrieved names
    record = {"入院诊断": "1.冠心病 2.高血压病3级", "出院诊断": "1.冠状动脉粥样硬化性心脏病 2.高血压病3级（很高危） 3.血糖偏高"}
    from chartcoder.coder import code_case
    from chartcoder.types import Case

    with ScriptedServer("agree") as url:
        result = code_case(Case(fields=record, lang="zh"), settings(url, tmp_path))
    assert result.llm.calls > 0
    assert any(a.produced_by == "llm" for a in result.codes)
    assert_valid_and_evidenced(result)
    with ScriptedServer("junk") as url:
        fallback = code_case(Case(fields=record, lang="zh"), settings(url, tmp_path, cache=False))
    assert fallback.llm.model_used == 0 and fallback.codes


def test_the_assertion_agent_can_overrule_a_context_rule(tmp_path):
    note = "DIAGNOSES:\nAngina pectoris with chest discomfort prophylaxis.\n"  # ConText: 'prophylaxis' negates backwards
    assert "I20.9" not in code(note).diagnoses()
    with ScriptedServer("affirm") as url:
        result = code(note, llm=settings(url, tmp_path))
    analyze = next(t for t in result.trace if t.stage == "analyze")
    assert analyze.mode == "llm" and analyze.llm_used > 0
    assert "I20.9" in result.diagnoses()
    assert_valid_and_evidenced(result)
