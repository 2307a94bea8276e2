"""End to end against a real local model: llama.cpp's llama-server with SmolLM2-135M (GGUF).

`.ci/run` builds the server and fetches the model once (scripts/build_llama_server.sh). Whatever
the tiny model answers, every emitted code must exist, be valid and carry affirmed evidence.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartcoder.coder import code
from chartcoder.codesystems import get_system
from chartcoder.llm import LLMSettings
from chartcoder.llm.local import LocalLlamaServer, built_server

SERVER, GGUF = built_server()
NOTE = (Path(__file__).parents[2] / "examples" / "discharge_summary.txt").read_text()

pytestmark = pytest.mark.skipif(not (SERVER.is_file() and GGUF.is_file()),
                                reason="llama-server / SmolLM2 not built: run scripts/build_llama_server.sh")


@pytest.fixture(scope="module")
def llama_url():
    with LocalLlamaServer(SERVER, GGUF) as url:
        yield url


def test_a_real_model_codes_a_note_and_every_code_is_valid_and_evidenced(llama_url, tmp_path):
    result = code(NOTE, llm=LLMSettings(url=llama_url, timeout=60, cache_dir=tmp_path))
    assert result.llm is not None and result.llm.calls > 0
    assert result.llm.model_used > 0, result.llm  # the real server answered schema-valid JSON at least once
    assert result.llm.tokens > 0
    assert result.codes
    for a in result.codes:
        assert get_system(a.system).is_valid(a.code), a.code
        assert a.verdict and a.verdict.accepted
        assert a.evidence and all(result.text[s.start : s.end] == s.text for s in a.evidence)
    modes = {t.stage: t.mode for t in result.trace}
    assert set(modes) == {"analyze", "locate", "verify", "assign", "audit"}
