"""Decision agents shared by the stages: a deterministic agent and a model agent with one
interface per decision, and ``Agents``, which tries the model and falls back per call.

The model never writes a code: it picks among the options the stage retrieved (ids in a JSON
enum) or none, and its evidence quotes must be found in the text, otherwise the call falls back
to the rules and the reason is recorded. The audit still has the last word on every code.

Decisions:
* ``assertion`` (analyze): whether a mention ConText qualified is negated, uncertain, historical…;
* ``select`` (locate): which of a mention's candidates the sentence supports;
* ``review`` (verify): which verified codes the tabular instructions rule out;
* ``principal`` (assign / prioritize): which diagnosis is principal;
* ``standardize`` (Chinese): which standard name a written diagnosis means.
"""

from __future__ import annotations

import re
import string
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from chartcoder.llm.client import LLMClient, LLMError
from chartcoder.llm.prompts import render
from chartcoder.llm.settings import LLMSettings

MAX_OPTIONS = 26
MAX_NOTE_CHARS = 6000
MIN_QUOTE = 3  # a one-letter "quote" is found anywhere and proves nothing
Mode = Literal["rules", "llm"]


@dataclass
class Option:
    """One choice offered to an agent: ``key`` is the letter the model answers with."""

    key: str
    code: str
    label: str


@dataclass
class Decision:
    """An agent's answer: chosen option keys, evidence found in the text, reasons per key."""

    keys: list[str]
    evidence: dict[str, tuple[int, int]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    mode: Mode = "rules"
    fallback_reason: str | None = None


@dataclass
class CallRecord:
    """One decision as made: by which path, why it fell back, what it cost."""

    stage: str
    mode: Mode
    fallback_reason: str | None = None
    seconds: float = 0.0
    tokens: int = 0
    cached: bool = False


def options_for(items: list[tuple[str, str]]) -> list[Option]:
    """Letter-keyed options (A..Z) for (code, label) pairs; at most ``MAX_OPTIONS``."""
    return [Option(key=string.ascii_uppercase[i], code=c, label=lab) for i, (c, lab) in enumerate(items[:MAX_OPTIONS])]


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Where ``quote`` occurs in ``text`` (case and whitespace forgiven), or None."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(w) for w in words)
    m = re.search(pattern, text, re.I)
    return (m.start(), m.end()) if m else None


def _listing(options: list[Option]) -> str:
    return "\n".join(f"{o.key}. {o.code} {o.label}" for o in options)


def _str(max_length: int) -> Any:
    return (str, Field(max_length=max_length))


def _answer_model(name: str, fields: dict[str, Any]) -> type[BaseModel]:
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


class RuleAgent:
    """The deterministic decisions: what the stages did before any model was involved."""

    def select(self, sentence: str, mention: str, options: list[Option], lang: str = "en") -> Decision:
        return Decision(keys=[o.key for o in options])

    def review(self, note: str, options: list[Option], lang: str = "en") -> Decision:
        return Decision(keys=[])

    def principal(self, note: str, options: list[Option], lang: str = "en") -> Decision:
        return Decision(keys=[options[0].key] if options else [])

    def assertion(self, sentence: str, mention: str, options: list[Option], lang: str = "en") -> Decision:
        return Decision(keys=[options[0].key] if options else [])

    def standardize(self, term: str, field_name: str, options: list[Option], lang: str = "zh") -> Decision:
        return Decision(keys=[options[0].key] if options else [])


class ModelAgent:
    """The same decisions asked of a language model, with schema-constrained answers."""

    def __init__(self, client: LLMClient) -> None:
        self.client = client
        self.last_info: Any = None

    def _ask(self, lang: str, prompt: str, answer: type[BaseModel], **values: object) -> Any:
        prompt_id, messages = render(lang, prompt, **values)
        parsed, info = self.client.complete(messages, answer, schema_name=prompt_id.replace("/", "_").replace(".", "_"))
        self.last_info = info
        return parsed

    def select(self, sentence: str, mention: str, options: list[Option], lang: str = "en") -> Decision:
        keys = tuple(o.key for o in options)
        choice = _answer_model("Choice", {"option": (Literal[keys], ...), "evidence": _str(200)})
        answer = _answer_model("Selection", {"choices": (list[choice], Field(max_length=len(keys)))})
        parsed = self._ask(lang, "select", answer, sentence=sentence, mention=mention, options=_listing(options))
        decision = Decision(keys=[], mode="llm")
        anchor = find_quote(sentence, mention)
        for c in parsed.choices:
            where = find_quote(sentence, c.evidence) if len(c.evidence.strip()) >= MIN_QUOTE else None
            if where is None:
                raise LLMError("evidence", f"quote {c.evidence[:60]!r} is not in the sentence")
            if anchor and (where[1] <= anchor[0] or where[0] >= anchor[1]):
                raise LLMError("evidence", f"quote {c.evidence[:60]!r} does not cover the mention {mention[:40]!r}")
            if c.option not in decision.keys:
                decision.keys.append(c.option)
                decision.evidence[c.option] = where
        return decision

    def review(self, note: str, options: list[Option], lang: str = "en") -> Decision:
        keys = tuple(o.key for o in options)
        drop = _answer_model("Drop", {"option": (Literal[keys], ...), "reason": _str(160)})
        answer = _answer_model("Review", {"drop": (list[drop], Field(max_length=len(keys)))})
        parsed = self._ask(lang, "verify", answer, note=note[:MAX_NOTE_CHARS], options=_listing(options))
        decision = Decision(keys=[], mode="llm")
        for d in parsed.drop:
            if d.option not in decision.keys:
                decision.keys.append(d.option)
                decision.reasons[d.option] = d.reason.strip() or "no reason given"
        return decision

    def principal(self, note: str, options: list[Option], lang: str = "en") -> Decision:
        keys = tuple(o.key for o in options)
        answer = _answer_model("Principal", {"principal": (Literal[keys], ...), "reason": _str(160)})
        parsed = self._ask(lang, "principal", answer, note=note[:MAX_NOTE_CHARS], options=_listing(options))
        return Decision(keys=[parsed.principal], reasons={parsed.principal: parsed.reason}, mode="llm")

    def assertion(self, sentence: str, mention: str, options: list[Option], lang: str = "en") -> Decision:
        keys = tuple(o.key for o in options)
        answer = _answer_model("Assertion", {"status": (Literal[keys], ...), "evidence": _str(200)})
        parsed = self._ask(lang, "assert", answer, sentence=sentence, mention=mention, options=_listing(options))
        where = find_quote(sentence, parsed.evidence) if len(parsed.evidence.strip()) >= MIN_QUOTE else None
        if where is None:
            raise LLMError("evidence", f"quote {parsed.evidence[:60]!r} is not in the sentence")
        return Decision(keys=[parsed.status], evidence={parsed.status: where}, mode="llm")

    def standardize(self, term: str, field_name: str, options: list[Option], lang: str = "zh") -> Decision:
        keys = tuple(o.key for o in options) + ("none",)
        answer = _answer_model("Standard", {"option": (Literal[keys], ...), "evidence": _str(80)})
        parsed = self._ask(lang, "standardize", answer, term=term, field=field_name, options=_listing(options))
        if parsed.option == "none":
            return Decision(keys=[], mode="llm")
        where = find_quote(term, parsed.evidence) if len(parsed.evidence.strip()) >= 2 else None
        if where is None:
            raise LLMError("evidence", f"quote {parsed.evidence[:40]!r} is not in the diagnosis")
        return Decision(keys=[parsed.option], evidence={parsed.option: where}, mode="llm")


class Agents:
    """Model first, rules on any failure, per call; every call is recorded in ``log``."""

    def __init__(self, settings: LLMSettings | None = None) -> None:
        self.settings = settings
        self.rules = RuleAgent()
        self.model = ModelAgent(LLMClient(settings)) if settings and settings.enabled else None

    @property
    def uses_model(self) -> bool:
        """True when a model is configured."""
        return self.model is not None

    def decide(self, stage: str, decision: str, log: list[CallRecord], **kwargs: Any) -> Decision:
        """Ask the model (when configured for ``stage`` and there is a choice to make), else the rules."""
        rules_answer = getattr(self.rules, decision)
        options = kwargs.get("options") or []
        if self.model is None or not options or self.settings is None or stage not in self.settings.stages:
            return rules_answer(**kwargs)
        started = time.perf_counter()
        try:
            result = getattr(self.model, decision)(**kwargs)
        except LLMError as exc:
            fallback = rules_answer(**kwargs)
            fallback.fallback_reason = exc.reason
            log.append(CallRecord(stage, "rules", exc.reason, round(time.perf_counter() - started, 3)))
            return fallback
        info = self.model.last_info
        log.append(CallRecord(stage, "llm", None, round(time.perf_counter() - started, 3),
                              (info.prompt_tokens + info.completion_tokens) if info else 0, bool(info and info.cached)))
        return result


def summarize(log: list[CallRecord]) -> dict[str, Any]:
    """Model use vs fallback, by reason, with tokens and seconds."""
    used = sum(r.mode == "llm" for r in log)
    reasons: dict[str, int] = {}
    for r in log:
        if r.fallback_reason:
            reasons[r.fallback_reason] = reasons.get(r.fallback_reason, 0) + 1
    return {"calls": len(log), "model_used": used, "fallbacks": len(log) - used, "fallback_reasons": reasons,
            "model_use_rate": round(used / len(log), 3) if log else None, "tokens": sum(r.tokens for r in log),
            "seconds": round(sum(r.seconds for r in log), 3), "cached": sum(r.cached for r in log)}
