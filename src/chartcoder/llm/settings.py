"""LLM settings: command-line options, ``CHARTCODER_LLM_*`` environment variables, or the
``[llm]`` table of the config file (``CHARTCODER_CONFIG`` or the user config dir), in that order."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from platformdirs import user_cache_dir, user_config_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

STAGES = ("analyze", "locate", "verify", "assign", "standardize", "prioritize")


def config_path() -> Path:
    """Where the config file is read from."""
    return Path(os.environ.get("CHARTCODER_CONFIG") or Path(user_config_dir("chartcoder")) / "config.toml")


class LLMSettings(BaseSettings):
    """How to reach an OpenAI-compatible chat-completions server, and how careful to be with it."""

    model_config = SettingsConfigDict(env_prefix="CHARTCODER_LLM_", extra="ignore", frozen=True)

    url: str | None = Field(None, description="Server base URL, e.g. http://127.0.0.1:8080 (with or without /v1)")
    model: str = Field("local", description="Model name sent in each request")
    api_key: str | None = Field(None, description="Bearer token, if the server wants one")
    timeout: float = Field(30.0, gt=0, description="Seconds allowed for one call (whole response)")
    retries: int = Field(1, ge=0, le=5, description="Extra attempts after a timeout, connection error or HTTP 5xx")
    concurrency: int = Field(2, ge=1, le=64, description="Calls in flight at once, per server")
    max_tokens: int = Field(256, ge=16, le=4096)
    allow_remote: bool = Field(False, description="Allow a server outside loopback / private networks")
    response_format: Literal["json_schema", "json_object"] = Field(
        "json_schema", description="json_schema (llama-server, vLLM, Ollama) or json_object+schema (llama_cpp.server)")
    stages: tuple[str, ...] = Field(STAGES, description="Stages that ask the model")
    cache: bool = True
    cache_dir: Path = Field(default_factory=lambda: Path(user_cache_dir("chartcoder")) / "llm")
    log_prompts: bool = Field(False, description="Log prompts and responses (de-identified)")

    @property
    def enabled(self) -> bool:
        """True when a server is configured."""
        return bool(self.url)

    def cache_key_part(self) -> dict[str, Any]:
        """What makes two answers comparable: the server and model, not the timeouts."""
        return {"url": self.url, "model": self.model, "max_tokens": self.max_tokens, "format": self.response_format}


def load_settings(**overrides: Any) -> LLMSettings:
    """Settings from the config file, then the environment, then explicit overrides (None ignored)."""
    from_file: dict[str, Any] = {}
    path = config_path()
    if path.is_file():
        with path.open("rb") as fh:
            from_file = dict(tomllib.load(fh).get("llm", {}))
    env = LLMSettings().model_dump(exclude_unset=True)
    merged = {**from_file, **env, **{k: v for k, v in overrides.items() if v is not None}}
    return LLMSettings(**merged)
