"""A client for any OpenAI-compatible chat-completions server (llama.cpp's llama-server, vLLM,
Ollama, LM Studio, a hospital gateway).

Every call sends a JSON schema and validates the answer with pydantic; streaming is off; the
whole response must arrive within ``timeout`` seconds (a server that dribbles bytes is cut off);
timeouts, connection errors and HTTP 5xx are retried a bounded number of times; a per-server
semaphore limits calls in flight; validated answers are cached on disk by prompt hash, so a
re-run costs nothing. Failures raise ``LLMError`` with a short machine-readable ``reason`` that
the agents record as the fallback reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from chartcoder.deid import scrub
from chartcoder.llm.privacy import check_destination
from chartcoder.llm.settings import LLMSettings

log = logging.getLogger("chartcoder.llm")
T = TypeVar("T", bound=BaseModel)
_SEMAPHORES: dict[str, threading.Semaphore] = {}
_SEMAPHORE_LOCK = threading.Lock()


class LLMError(RuntimeError):
    """A model call that cannot be used; ``reason`` is one of timeout, connection, http_error,
    invalid_json, schema, evidence, refused."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class CallInfo:
    """What one call cost."""

    cached: bool
    seconds: float
    prompt_tokens: int = 0
    completion_tokens: int = 0


def endpoint(url: str) -> str:
    """The chat-completions URL for a base URL given with or without ``/v1``."""
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    return base + ("/chat/completions" if base.endswith("/v1") else "/v1/chat/completions")


class LLMClient:
    """Structured chat completions against one server."""

    def __init__(self, settings: LLMSettings) -> None:
        if not settings.url:
            raise ValueError("no LLM URL configured")
        check_destination(settings.url, settings.allow_remote)
        self.settings = settings
        self.url = endpoint(settings.url)
        headers = {"Authorization": f"Bearer {settings.api_key}"} if settings.api_key else {}
        self.http = httpx.Client(timeout=httpx.Timeout(settings.timeout, connect=min(5.0, settings.timeout)),
                                 headers=headers, trust_env=False)
        with _SEMAPHORE_LOCK:
            self.semaphore = _SEMAPHORES.setdefault(self.url, threading.Semaphore(settings.concurrency))

    def close(self) -> None:
        """Release the connection pool."""
        self.http.close()

    # -- public -------------------------------------------------------------------------------
    def complete(self, messages: list[dict[str, str]], answer: type[T], schema_name: str) -> tuple[T, CallInfo]:
        """Ask for one JSON object matching ``answer``'s schema; return it validated."""
        schema = portable_schema(answer.model_json_schema())
        body = self._body(messages, schema, schema_name)
        key = self._cache_key(body)
        started = time.perf_counter()
        cached = self._cache_get(key)
        if cached is not None:
            try:
                return answer.model_validate(cached["answer"]), CallInfo(True, time.perf_counter() - started)
            except ValidationError:
                pass  # schema changed since: ask again
        data = self._post_with_retries(body)
        content = _message_content(data)
        if self.settings.log_prompts:
            log.info("prompt %s: %s", schema_name, scrub(json.dumps(messages, ensure_ascii=False)))
            log.info("answer %s: %s", schema_name, scrub(content))
        try:
            raw = json.loads(_strip_fences(content))
        except json.JSONDecodeError as exc:
            raise LLMError("invalid_json", f"{exc.msg} in {content[:80]!r}") from exc
        try:
            parsed = answer.model_validate(raw)
        except ValidationError as exc:
            raise LLMError("schema", str(exc.errors()[0].get("msg", exc))[:200]) from exc
        usage = data.get("usage") or {}
        info = CallInfo(False, time.perf_counter() - started, int(usage.get("prompt_tokens") or 0),
                        int(usage.get("completion_tokens") or 0))
        self._cache_put(key, {"answer": parsed.model_dump(mode="json"), "usage": usage})
        return parsed, info

    # -- internals ----------------------------------------------------------------------------
    def _body(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> dict[str, Any]:
        if self.settings.response_format == "json_schema":
            fmt: dict[str, Any] = {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
        else:
            fmt = {"type": "json_object", "schema": schema}
        return {"model": self.settings.model, "messages": messages, "temperature": 0, "seed": 0,
                "max_tokens": self.settings.max_tokens, "stream": False, "response_format": fmt}

    def _post_with_retries(self, body: dict[str, Any]) -> dict[str, Any]:
        last: LLMError | None = None
        for attempt in range(self.settings.retries + 1):
            try:
                with self.semaphore:
                    return self._post(body)
            except LLMError as exc:
                last = exc
                if exc.reason not in ("timeout", "connection", "http_error") or exc.detail.startswith("HTTP 4"):
                    raise
                time.sleep(min(2.0, 0.2 * 2**attempt))
        assert last is not None
        raise last

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + self.settings.timeout
        try:
            with self.http.stream("POST", self.url, json=body) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if time.monotonic() > deadline:
                        raise LLMError("timeout", f"response not complete after {self.settings.timeout:g} s")
                if response.status_code >= 400:
                    raise LLMError("http_error", f"HTTP {response.status_code}: {b''.join(chunks)[:120]!r}")
        except httpx.TimeoutException as exc:
            raise LLMError("timeout", f"no answer within {self.settings.timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise LLMError("connection", str(exc)[:200]) from exc
        try:
            data = json.loads(b"".join(chunks))
        except json.JSONDecodeError as exc:
            raise LLMError("invalid_json", "the server's reply is not JSON") from exc
        if not isinstance(data, dict):
            raise LLMError("invalid_json", "the server's reply is not a JSON object")
        return data

    def _cache_key(self, body: dict[str, Any]) -> str:
        doc = json.dumps({"server": self.settings.cache_key_part(), "body": body}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(doc.encode()).hexdigest()

    def _cache_file(self, key: str) -> Path:
        return self.settings.cache_dir / key[:2] / f"{key}.json"

    def _cache_get(self, key: str) -> dict[str, Any] | None:
        if not self.settings.cache:
            return None
        try:
            return json.loads(self._cache_file(key).read_text("utf-8"))
        except (OSError, ValueError):
            return None

    def _cache_put(self, key: str, value: dict[str, Any]) -> None:
        if not self.settings.cache:
            return
        path = self._cache_file(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(value, ensure_ascii=False), "utf-8")
            tmp.replace(path)
        except OSError as exc:  # a read-only cache must not stop coding
            log.warning("LLM cache not written: %s", exc)


def portable_schema(node: Any) -> Any:
    """The schema with ``const`` written as a one-value ``enum`` (what every server's grammar supports)."""
    if isinstance(node, dict):
        out = {k: portable_schema(v) for k, v in node.items() if k != "const"}
        if "const" in node:
            out["enum"] = [node["const"]]
        return out
    if isinstance(node, list):
        return [portable_schema(v) for v in node]
    return node


def _message_content(data: dict[str, Any]) -> str:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("invalid_json", "the reply has no choices[0].message.content") from exc
    if not isinstance(content, str) or not content.strip():
        raise LLMError("invalid_json", "the reply's content is empty")
    return content


def _strip_fences(content: str) -> str:
    text = content.strip()
    if text.startswith("```"):
        text = text.strip("`")
        text = text[4:] if text.lower().startswith("json") else text
    return text.strip()
