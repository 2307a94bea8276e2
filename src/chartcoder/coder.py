"""Build the coding pipelines and code a case: ``chartcoder.code(text, ...)``."""

from __future__ import annotations

from functools import cache

from chartcoder.codesystems import get_system
from chartcoder.llm.agents import Agents, summarize
from chartcoder.llm.settings import LLMSettings
from chartcoder.pipeline import CaseState, InputError, Pipeline
from chartcoder.types import Case, CodingResult, LLMUsage

MAX_CHARS = 2_000_000


@cache
def agents_for(settings: LLMSettings | None) -> Agents:
    """Decision agents: model-backed when a server is configured (privacy-checked here), else rules."""
    return Agents(settings if settings and settings.enabled else None)


@cache
def english_pipeline(procedures: bool = True, agents: Agents | None = None) -> Pipeline:
    """analyze -> locate -> verify -> assign -> audit over ICD-10-CM (+ ICD-10-PCS)."""
    from chartcoder.stages.analyze import Analyze
    from chartcoder.stages.assign import Assign
    from chartcoder.stages.audit import Audit
    from chartcoder.stages.locate import Locate
    from chartcoder.stages.verify import Verify

    cm = get_system("icd10cm")
    pcs = get_system("icd10pcs") if procedures else None
    systems = {"icd10cm": cm} | ({"icd10pcs": pcs} if pcs else {})
    return Pipeline([Analyze(cm, pcs), Locate(cm, pcs), Verify(cm, pcs), Assign(cm), Audit(systems)], agents)


def check_text(text: str) -> str:
    """Refuse input that cannot be a clinical note, with a message that says why."""
    if text is None or not str(text).strip():
        raise InputError("the note is empty: nothing to code")
    if "\x00" in text:
        raise InputError("the input looks binary (it contains NUL bytes), not a text note")
    if len(text) > MAX_CHARS:
        raise InputError(f"the note has {len(text):,} characters; the limit is {MAX_CHARS:,} (split it)")
    return text


def code_case(case: Case, llm: LLMSettings | None = None) -> CodingResult:
    """Run the pipeline for the case's language and return the explained, audited result.

    With ``llm`` (a configured server) the model makes the stage decisions it is enabled for and
    the rules take over per call whenever it fails; without it the path is fully deterministic.
    """
    agents = agents_for(llm)
    if case.lang == "zh":
        from chartcoder.zh.coder import code_chinese

        return code_chinese(case, agents)
    text = check_text(case.text)
    from chartcoder.stages.learned import train_statistics

    with train_statistics(case.train_statistics):
        state = english_pipeline(True, agents).run(CaseState(case=case, text=text))
    warnings = list(state.warnings)
    if not state.assignments:
        letters = sum(ch.isalpha() and ch.isascii() for ch in text)
        if letters < 0.5 * max(1, sum(ch.isalpha() for ch in text)):
            warnings.append("the text is mostly not English: no codable content found")
        else:
            warnings.append("no codable content found")
    return CodingResult(
        case_id=case.case_id, lang="en", setting=case.setting, scope=case.scope,
        editions={"diagnoses": "icd10cm", "procedures": "icd10pcs"}, text=text,
        codes=state.assignments, rejected=state.rejected, mentions=state.mentions, sections=state.sections,
        stage_outputs=state.stage_outputs, trace=state.trace, warnings=warnings,
        llm=LLMUsage(**summarize(state.llm_log)) if agents.uses_model else None,
    )


def code(text: str, *, setting: str = "inpatient", lang: str = "en", case_id: str | None = None,
         llm: LLMSettings | None = None, train_statistics: bool = True, scope: str = "encounter") -> CodingResult:
    """Code one clinical note (library entry point); ``llm`` points at a local model server;
    ``train_statistics=False`` reads the book alone, without the CodiEsp train statistics; ``scope="record"``
    codes every procedure the note tells, past ones too (``Case.scope``)."""
    return code_case(Case(text=text, setting=setting, lang=lang, case_id=case_id,
                          train_statistics=train_statistics, scope=scope), llm)
