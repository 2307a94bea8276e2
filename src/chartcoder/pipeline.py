"""A ``Pipeline`` runs named stages in order over one ``CaseState``.

Each stage declares what it requires and what it assigns; the pipeline checks the contract
when it is built (a stage may only require what an earlier stage assigns) and times every
stage into the trace. Nothing but the pipeline calls a stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from chartcoder.llm.agents import Agents, CallRecord, summarize
from chartcoder.types import Candidate, Case, Mention, Rejected, Section, StageTrace


class InputError(ValueError):
    """The input cannot be coded (empty, binary, too large...); the message says why."""


@dataclass
class CaseState:
    """Working memory of one case as it flows through the stages."""

    case: Case
    text: str
    sections: list[Section] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)
    sentences: list[tuple[int, int]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    assignments: list[Any] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    stage_outputs: dict[str, list[str]] = field(default_factory=dict)
    trace: list[StageTrace] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scratch: dict[str, Any] = field(default_factory=dict)
    agents: Agents = field(default_factory=Agents)
    llm_log: list[CallRecord] = field(default_factory=list)


class Stage(Protocol):
    """One step of the pipeline."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    assigns: ClassVar[tuple[str, ...]]

    def __call__(self, state: CaseState) -> CaseState: ...


class Pipeline:
    """Named stages over one case, run in order, with a timing trace."""

    def __init__(self, stages: list[Stage], agents: Agents | None = None) -> None:
        available = {"case", "text"}
        for stage in stages:
            missing = [r for r in stage.requires if r not in available]
            if missing:
                raise ValueError(f"stage {stage.name!r} requires {missing}, which no earlier stage assigns")
            available.update(stage.assigns)
        self.stages = stages
        self.agents = agents or Agents()

    @property
    def names(self) -> list[str]:
        """Stage names in order."""
        return [s.name for s in self.stages]

    def run(self, state: CaseState) -> CaseState:
        """Run every stage; each must hand the state on. Model calls a stage made are summed into its trace."""
        state.agents = self.agents
        for stage in self.stages:
            started = time.perf_counter()
            calls_before = len(state.llm_log)
            result = stage(state)
            if result is not state:
                raise TypeError(f"stage {stage.name!r} must return the state it was given")
            state.trace.append(stage_trace(stage.name, state.llm_log[calls_before:], time.perf_counter() - started))
        return state


def stage_trace(name: str, calls: list[CallRecord], seconds: float) -> StageTrace:
    """A stage's trace entry: 'llm' when the model made any of its decisions, fallbacks by reason."""
    usage = summarize(calls)
    fallbacks, used = usage["fallback_reasons"], usage["model_used"]
    return StageTrace(stage=name, mode="llm" if used else "rules", ms=round(seconds * 1000, 2), llm_calls=len(calls),
                      llm_used=used, fallbacks=fallbacks,
                      fallback_reason=next(iter(fallbacks)) if fallbacks and not used else None)
