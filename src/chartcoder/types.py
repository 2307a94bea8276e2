"""Typed objects passed between stages, and the public, versioned ``CodingResult``.

Offsets always index the original text, so any UI or evaluator can highlight evidence
without searching for it again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

SCHEMA_VERSION = "1.2"

Setting = Literal["inpatient", "outpatient"]
Scope = Literal["encounter", "record"]
Lang = Literal["en", "zh"]
CodeType = Literal["diagnosis", "procedure"]


class Span(BaseModel):
    """A stretch of the original text: ``text == case.text[start:end]``."""

    start: int
    end: int
    text: str


class Section(BaseModel):
    """A titled part of a note (discharge diagnoses, HPI, family history...)."""

    name: str
    kind: str
    start: int
    end: int


class Assertion(BaseModel):
    """Clinical context of a mention, from ConText."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    family: bool = False
    hypothetical: bool = False

    def blocking(self, setting: Setting, kind: CodeType = "diagnosis", scope: Scope = "record") -> str | None:
        """Why a code of this kind read from a mention with this context must not be coded, if it must not.
        In the encounter scope a past procedure was not done in this stay: a hospital coder codes its status
        (Z95.1 for a past CABG), not the operation."""
        if self.negated:
            return "negated"
        if self.family:
            return "family history"
        if self.hypothetical:
            return "hypothetical"
        if self.uncertain and setting == "outpatient":
            return "uncertain (outpatient: code only established diagnoses)"
        if self.historical and kind == "procedure" and scope == "encounter":
            return "a past procedure, not done in this encounter (scope: encounter)"
        return None


class Mention(BaseModel):
    """A clinical concept found in the text, with its context."""

    id: int
    text: str
    span: Span
    section: str
    sentence: int
    type: CodeType
    assertion: Assertion = Field(default_factory=Assertion)


class Candidate(BaseModel):
    """A code proposed for a mention, and the way it was found."""

    code: str
    system: str
    type: CodeType
    mention_id: int
    evidence: list[Span]
    path: list[str]
    source: str
    score: float
    title: str = ""
    notes_checked: list[str] = Field(default_factory=list)
    rejected: str | None = None
    produced_by: Literal["rules", "llm"] = "rules"
    fallback_reason: str | None = None
    determined: str | None = None


class AuditVerdict(BaseModel):
    """The auditor's last word on a code."""

    accepted: bool
    checks: list[str]
    reason: str | None = None


class Assignment(BaseModel):
    """A final code, explained: title, evidence, how it was found, what was checked."""

    code: str
    system: str
    type: CodeType
    title: str
    principal: bool = False
    evidence: list[Span]
    path: list[str]
    source: str
    notes_checked: list[str] = Field(default_factory=list)
    confidence: float
    produced_by: Literal["rules", "llm"] = "rules"
    fallback_reason: str | None = Field(None, description="Why the model's answer was not used, when it was asked")
    determined: str | None = Field(
        None, description="ICD-10-PCS completed with table defaults: the prefix the text itself determines")
    verdict: AuditVerdict | None = None


class Rejected(BaseModel):
    """A candidate that was considered and not coded, with the reason."""

    code: str
    system: str
    title: str
    reason: str
    evidence: list[Span]
    path: list[str] = Field(default_factory=list)


class StageTrace(BaseModel):
    """What one stage did: which path ran, why it fell back, how long it took."""

    stage: str
    mode: Literal["rules", "llm"] = "rules"
    fallback_reason: str | None = None
    ms: float
    llm_calls: int = 0
    llm_used: int = 0
    fallbacks: dict[str, int] = Field(default_factory=dict)


class LLMUsage(BaseModel):
    """How much the language model decided, and why it did not when it fell back."""

    calls: int
    model_used: int
    fallbacks: int
    fallback_reasons: dict[str, int]
    model_use_rate: float | None
    tokens: int
    seconds: float
    cached: int


class Case(BaseModel):
    """A record to code: free text or named fields (Chinese records), plus settings."""

    text: str = ""
    fields: dict[str, str] = Field(default_factory=dict)
    lang: Lang = "en"
    setting: Setting = "inpatient"
    scope: Scope = Field(default="encounter", description=(
        "encounter: code this stay, as a hospital coder does (a procedure told as past gives its status code, "
        "not a procedure code); record: code every procedure the record tells, whenever it was done (the "
        "CodiEsp convention for case reports)."))
    case_id: str | None = None
    train_statistics: bool = Field(default=True, description=(
        "Apply the statistics learned on CodiEsp train (set aside readings usually wrong there, prefer ones "
        "usually right); false reads the book alone."))


class CodingResult(BaseModel):
    """Everything ChartCoder concluded about one case (JSON schema version ``schema_version``)."""

    schema_version: str = SCHEMA_VERSION
    case_id: str | None = None
    lang: Lang
    setting: Setting
    scope: Scope = "encounter"
    editions: dict[str, str]
    text: str
    codes: list[Assignment]
    rejected: list[Rejected] = Field(default_factory=list)
    mentions: list[Mention] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    stage_outputs: dict[str, list[str]] = Field(default_factory=dict)
    trace: list[StageTrace] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    llm: LLMUsage | None = None

    def diagnoses(self) -> list[str]:
        """Diagnosis codes in order (principal first)."""
        return [a.code for a in self.codes if a.type == "diagnosis"]

    def procedures(self, *, as_determined: bool = False) -> list[str]:
        """Procedure codes in order; ``as_determined`` gives a code completed by table defaults as
        the prefix the text determines (the CodiEsp annotation convention)."""
        return list(dict.fromkeys((a.determined or a.code) if as_determined else a.code
                                  for a in self.codes if a.type == "procedure"))
