"""Language-model agents: an OpenAI-compatible client, a privacy guard, prompt templates and the
per-decision agents that fall back to the deterministic path."""

from chartcoder.llm.client import LLMClient, LLMError
from chartcoder.llm.privacy import PrivacyError, check_destination
from chartcoder.llm.settings import LLMSettings, load_settings

__all__ = ["LLMClient", "LLMError", "LLMSettings", "PrivacyError", "check_destination", "load_settings"]
