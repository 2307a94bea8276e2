"""A ``Pipeline`` runs named stages in order over one ``CaseState``.

Each stage declares what it requires and what it assigns; the pipeline checks the contract
when it is built (a stage may only require what an earlier stage assigns) and times every
stage into the trace. Nothing but the pipeline calls a stage.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

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


class Stage(Protocol):
    """One step of the pipeline."""

    name: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]
    assigns: ClassVar[tuple[str, ...]]

    def __call__(self, state: CaseState) -> CaseState: ...


class Pipeline:
    """Named stages over one case, run in order, with a timing trace."""

    def __init__(self, stages: list[Stage]) -> None:
        available = {"case", "text"}
        for stage in stages:
            missing = [r for r in stage.requires if r not in available]
            if missing:
                raise ValueError(f"stage {stage.name!r} requires {missing}, which no earlier stage assigns")
            available.update(stage.assigns)
        self.stages = stages

    @property
    def names(self) -> list[str]:
        """Stage names in order."""
        return [s.name for s in self.stages]

    def run(self, state: CaseState) -> CaseState:
        """Run every stage; each must hand the state on."""
        for stage in self.stages:
            started = time.perf_counter()
            result = stage(state)
            if result is not state:
                raise TypeError(f"stage {stage.name!r} must return the state it was given")
            mode = state.scratch.pop("mode", "rules")
            reason = state.scratch.pop("fallback_reason", None)
            state.trace.append(StageTrace(stage=stage.name, mode=mode, fallback_reason=reason,
                                          ms=round((time.perf_counter() - started) * 1000, 2)))
        return state
