"""Assign: the final, de-duplicated, sequenced set with a confidence per code.

Principal diagnosis: the first code supported in the discharge-diagnosis list, else the first
supported in the note. Inpatient settings code "probable/suspected" diagnoses as if established
(guideline II.H); outpatient settings do not (guideline IV.H) — that rule lives in
``Assertion.blocking`` and is applied by the audit.
"""

from __future__ import annotations

from typing import ClassVar

from chartcoder.codesystems import CodeSystem
from chartcoder.llm.agents import options_for
from chartcoder.pipeline import CaseState
from chartcoder.stages.lexicon import drug_intent
from chartcoder.types import Assignment, Candidate

PRIORITY_SECTIONS = ("diagnoses", "assessment", "admission_diagnoses", "procedures")


def external_cause_rank(code: str) -> int:
    """0 for a diagnosis that is no external cause; external causes are never first-listed and their place,
    activity and status follow the cause (guideline I.C.20: W18.09XA, then Y92.009, Y93.-, Y99.-)."""
    if code[:1] not in "VWXY":
        return 0
    return {"Y92": 2, "Y93": 3, "Y99": 4}.get(code[:3], 1)


def code_first_order(assignments: list[Assignment], cs: CodeSystem) -> list[Assignment]:
    """A code whose 'code first' note names another assigned code goes after it (guideline I.A.13): heart
    failure after the hypertensive heart and chronic kidney disease (I13.0) that causes it, dementia after
    Alzheimer's disease."""
    order = list(assignments)
    first = {a.code: tuple(r for n in cs.notes(a.code) if n.kind == "code_first" for r in n.referenced_codes())
             for a in order if a.type == "diagnosis"}
    for _ in range(len(order)):  # each move settles one pair; a cycle of notes stops after n passes
        moved = False
        for i, a in enumerate(order):
            refs = first.get(a.code) if a.type == "diagnosis" else None
            if not refs:
                continue
            later = next((b for b in order[i + 1:] if b.type == "diagnosis" and b.code.startswith(refs)), None)
            if later is not None:
                order.remove(later)
                order.insert(i, later)
                moved = True
                break
        if not moved:
            break
    return order


class Assign:
    """Merge candidates per code, order them, attach confidence."""

    name: ClassVar[str] = "assign"
    requires: ClassVar[tuple[str, ...]] = ("candidates",)
    assigns: ClassVar[tuple[str, ...]] = ("assignments",)

    def __init__(self, diagnoses: CodeSystem | None = None) -> None:
        self.diagnoses = diagnoses

    def __call__(self, state: CaseState) -> CaseState:
        mentions = {m.id: m for m in state.mentions}
        merged: dict[tuple[str, str], list[Candidate]] = {}
        for c in state.candidates:
            if c.rejected:
                continue
            merged.setdefault((c.type, c.code), []).append(c)
        assignments: list[tuple[tuple, Assignment]] = []
        for (ctype, code), group in merged.items():
            first = min(group, key=lambda c: c.evidence[0].start)
            sections = {mentions[c.mention_id].section for c in group}
            in_list = any(s in PRIORITY_SECTIONS for s in sections)
            confidence = min(0.99, max(c.score for c in group) + 0.05 * (len(group) - 1) + (0.1 if in_list else 0))
            evidence = sorted({(s.start, s.end): s for c in group for s in c.evidence}.values(), key=lambda s: s.start)
            a = Assignment(
                code=code, system=first.system, type=ctype, title=first.title, evidence=evidence,
                path=list(dict.fromkeys(p for c in group for p in c.path)), source=first.source,
                notes_checked=list(dict.fromkeys(n for c in group for n in c.notes_checked)),
                confidence=round(confidence, 3),
                produced_by="llm" if any(c.produced_by == "llm" for c in group) else "rules",
                fallback_reason=next((c.fallback_reason for c in group if c.fallback_reason), None),
                determined=None if any(c.determined is None for c in group) else first.determined,
            )
            section_rank = min((PRIORITY_SECTIONS.index(s) if s in PRIORITY_SECTIONS else 9) for s in sections)
            # the nature of an adverse effect is sequenced before the drug's code (guideline I.C.19.e.5(a));
            # external causes follow every other diagnosis
            assignments.append(((ctype != "diagnosis", external_cause_rank(code) if ctype == "diagnosis" else 0,
                                 section_rank, drug_intent(code) == "5", first.evidence[0].start), a))
        assignments.sort(key=lambda x: x[0])
        state.assignments = [a for _, a in assignments]
        if self.diagnoses is not None:
            state.assignments = code_first_order(state.assignments, self.diagnoses)
        state.scratch["groups"] = merged
        if state.agents.uses_model:
            self._principal(state)
        return state

    @staticmethod
    def _principal(state: CaseState) -> None:
        """The sequencing agent (model, else rules) names the principal diagnosis; it moves first."""
        dx = [a for a in state.assignments if a.type == "diagnosis"
              and "in diseases classified elsewhere" not in a.title.lower()]
        if len(dx) < 2:
            return
        options = options_for([(a.code, f"{a.title} (evidence: '{a.evidence[0].text}')") for a in dx])
        decision = state.agents.decide("assign", "principal", state.llm_log, note=state.text, options=options)
        if decision.mode != "llm" or not decision.keys:
            return
        code = next(o.code for o in options if o.key == decision.keys[0])
        chosen = next(a for a in dx if a.code == code)
        chosen.notes_checked.append(f"principal chosen by the model: {decision.reasons.get(decision.keys[0], '')}")
        state.assignments.remove(chosen)
        state.assignments.insert(0, chosen)
