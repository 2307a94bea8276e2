"""Audit (always on): a code leaves the system only if it exists in the edition, is valid, and
has at least one affirmed evidence span in the text. Everything else is kept as rejected, with
the reason, so a reviewer sees what was considered."""

from __future__ import annotations

from typing import ClassVar

from chartcoder.codesystems import CodeSystem
from chartcoder.pipeline import CaseState
from chartcoder.stages.verify import FAMILY_HISTORY_CATEGORIES, merged_spans
from chartcoder.types import AuditVerdict, Rejected


class Audit:
    """The last word: existence, validity, evidence, context."""

    name: ClassVar[str] = "audit"
    requires: ClassVar[tuple[str, ...]] = ("assignments",)
    assigns: ClassVar[tuple[str, ...]] = ("audited",)

    def __init__(self, systems: dict[str, CodeSystem]) -> None:
        self.systems = systems

    def __call__(self, state: CaseState) -> CaseState:
        mentions = {m.id: m for m in state.mentions}
        groups = state.scratch.get("groups", {})
        setting = state.case.setting
        kept = []
        rejected: list[Rejected] = [
            Rejected(code=c.code, system=c.system, title=c.title, reason=c.rejected, evidence=c.evidence, path=c.path)
            for c in state.candidates if c.rejected
        ]
        for a in state.assignments:
            checks: list[str] = []
            reason = None
            cs = self.systems.get(a.system)
            if cs is None or not cs.exists(a.code):
                reason = f"not in the edition {a.system}"
            elif not cs.is_valid(a.code):
                reason = "not a valid (billable) code"
            else:
                checks.append("exists in edition")
                checks.append("valid (billable)")
            affirmed = []
            blocks = []
            for c in groups.get((a.type, a.code), []):
                m = mentions.get(c.mention_id)
                block = m.assertion.blocking(setting, a.type, state.case.scope) if m else "no mention"
                if block == "family history" and a.code.startswith(FAMILY_HISTORY_CATEGORIES):
                    block = None  # a family-history code is exactly what a relative's condition gives
                if block:
                    blocks.append(block)
                else:
                    affirmed.extend(s for s in c.evidence if state.text[s.start : s.end] == s.text)
            if reason is None and not affirmed:
                reason = blocks[0] if blocks else "no evidence in the text"
            if reason is None:
                checks.append(f"{len(affirmed)} affirmed evidence span(s)")
                a.evidence = merged_spans(affirmed)
                a.verdict = AuditVerdict(accepted=True, checks=checks)
                kept.append(a)
            else:
                a.verdict = AuditVerdict(accepted=False, checks=checks, reason=reason)
                rejected.append(Rejected(code=a.code, system=a.system, title=a.title, reason=reason,
                                         evidence=a.evidence, path=a.path))
        principal_done = False
        for a in kept:
            if a.type == "diagnosis" and not principal_done:
                title = a.title.lower()
                if "in diseases classified elsewhere" in title:
                    continue  # a manifestation code is never principal
                a.principal = principal_done = True
        state.assignments = kept
        state.rejected = rejected
        return state
