"""Code every document of a dataset with the current pipeline and score it against the gold."""

from __future__ import annotations

import resource
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chartcoder.codesystems.icd10pcs import PCS_REPLACED_SINCE_2018
from chartcoder.eval import metrics as M
from chartcoder.eval.datasets import Dataset, Document
from chartcoder.types import Case, CodingResult


@dataclass
class DocOutcome:
    """One document's predictions (ranked), gold and timing."""

    doc: Document
    diagnoses: list[str] = field(default_factory=list)
    procedures: list[str] = field(default_factory=list)
    ranked_dx: list[str] = field(default_factory=list)
    ranked_px: list[str] = field(default_factory=list)
    procedures_determined: list[str] = field(default_factory=list)
    procedure_completions: list[tuple[str, str | None]] = field(default_factory=list)  # (full code, determined)
    names: list[str] = field(default_factory=list)
    principal: str | None = None
    seconds: float = 0.0
    error: str | None = None
    result: CodingResult | None = None


def _ranked(result: CodingResult, ctype: str) -> list[str]:
    items = [a for a in result.codes if a.type == ctype]
    return [a.code for a in sorted(items, key=lambda a: (not a.principal, -a.confidence))]


def run_documents(dataset: Dataset, coder: Callable[[Case], CodingResult] | None = None,
                  namer: Callable[[str], list[str]] | None = None, limit: int | None = None, skip: int = 0,
                  progress: Callable[[int, int], None] | None = None) -> list[DocOutcome]:
    """Code the documents; the coder sees ``Document.case()`` only (never the gold)."""
    from chartcoder.coder import code_case

    coder = coder or code_case
    docs = dataset.documents[skip:]
    docs = docs[:limit] if limit else docs
    outcomes = []
    for i, doc in enumerate(docs):
        started = time.perf_counter()
        out = DocOutcome(doc=doc)
        try:
            if dataset.code_types == ("names",):
                out.names = (namer or _default_namer(dataset.kind))(doc.case().text)
            else:
                res = coder(doc.case())
                out.result = res
                out.diagnoses, out.procedures = res.diagnoses(), res.procedures()
                out.ranked_dx, out.ranked_px = _ranked(res, "diagnosis"), _ranked(res, "procedure")
                out.procedures_determined = res.procedures(as_determined=True)
                out.procedure_completions = [(a.code, a.determined) for a in res.codes if a.type == "procedure"]
                out.principal = next((a.code for a in res.codes if a.principal), None)
        except Exception as exc:  # noqa: BLE001 - one bad document must not stop the evaluation
            out.error = f"{type(exc).__name__}: {exc}"
        out.seconds = time.perf_counter() - started
        outcomes.append(out)
        if progress:
            progress(i + 1, len(docs))
    return outcomes


def _default_namer(kind: str) -> Callable[[str], list[str]]:
    from chartcoder.zh.normalize import normalize_names

    system = "cn-beijing-v601" if kind == "chip-cdn" else "chip2019"
    return lambda text: normalize_names(text, system)


def _type_scores(golds: list[list[str]], preds: list[list[str]], ranks: list[list[str]], *,
                 partial: bool = False) -> dict[str, Any] | None:
    if not any(golds):
        return None
    scores: dict[str, Any] = M.micro(golds, preds)
    scores["macro_f1"] = M.macro_f1(golds, preds)
    scores["exact_set_match"] = M.exact_set_match(golds, preds)
    scores["map"] = M.mean_average_precision(golds, ranks)
    cat_g = [[M.category(c) for c in g] for g in golds]
    cat_p = [[M.category(c) for c in p] for p in preds]
    scores["f1_category"] = M.micro(cat_g, cat_p)["f1"]
    lo, hi = M.bootstrap_f1(golds, preds)
    scores["f1_ci95"] = [lo, hi]
    if partial:
        pre = M.micro(golds, preds, M.prefix)
        scores["f1_prefix"] = pre["f1"]
        scores["precision_prefix"], scores["recall_prefix"] = pre["precision"], pre["recall"]
        scores["map_prefix"] = M.mean_average_precision(golds, ranks, M.prefix)
    return {k: (round(v, 4) if isinstance(v, float) else [round(x, 4) for x in v] if isinstance(v, list) else v)
            for k, v in scores.items()}


# Codes created after FY2018 for a concept the FY2018 edition coded under a code that is still valid, so
# the prefix rule below cannot see the move (FY2022 addenda: "Depression NOS" left F32.9 for the new F32.A,
# "Myocardial infarction (acute) NOS" left I21.3 for the new I21.9; FY2023: hepatic encephalopathy, which the
# index had sent to hepatic failure K72.90, got its own K76.82).
CARVED_OUT_SINCE_2018 = {"F32.A": "F32.9", "I21.9": "I21.3", "K76.82": "K72.90"}


_PCS_REPLACING = {new: old for old, new in PCS_REPLACED_SINCE_2018.items()}


def align_procedures_to_gold(gold: list[str], predicted: list[str]) -> list[str]:
    """Predicted ICD-10-PCS codes written as the FY2018 row they replace, when the gold has that row."""
    return list(dict.fromkeys(_PCS_REPLACING[p] if _PCS_REPLACING.get(p) in gold else p for p in predicted))


def as_annotated(gold: list[str], completions: list[tuple[str, str | None]]) -> list[str]:
    """Procedure codes the way CodiEsp annotates them: a code completed with table defaults counts as the
    prefix the text determines, except that a full code whose FY2018 predecessor the gold has counts as
    that code (the annotators wrote hemodialysis 5A1D00Z in full; FY2026 has 5A1D70Z for it)."""
    codes = [_PCS_REPLACING[c] if _PCS_REPLACING.get(c) in gold else (d or c) for c, d in completions]
    return align_procedures_to_gold(gold, list(dict.fromkeys(codes)))


def _split_since(gold: str) -> str:
    """The undotted stem of an older-edition code our codes refine: placeholders dropped, as the category
    they stood under was split since (T81.4XX: FY2026 T81.40-T81.49)."""
    return gold.replace(".", "").rstrip("X")


def align_to_gold(gold: list[str], predicted: list[str], valid: Callable[[str], bool]) -> list[str]:
    """Predicted codes written as the older-edition gold code they refine, when that gold code is not a
    valid code of our edition (it was split, or lacks its 7th character), or as the code a concept was
    carved out of since (``CARVED_OUT_SINCE_2018``)."""
    out = []
    for p in predicted:
        key = p.replace(".", "")
        match = next((g for g in gold if g != p and not valid(g) and key.startswith(_split_since(g))), None)
        if match is None and CARVED_OUT_SINCE_2018.get(p) in gold:
            match = CARVED_OUT_SINCE_2018[p]
        out.append(match or p)
    return list(dict.fromkeys(out))


def score(dataset: Dataset, outcomes: list[DocOutcome], wall_seconds: float) -> dict[str, Any]:
    """The summary JSON object of an evaluation."""
    n = len(outcomes)
    summary: dict[str, Any] = {"dataset": dataset.kind, "documents": n, "diagnoses": None, "procedures": None,
                               "principal_accuracy": None}
    if dataset.code_types == ("names",):
        golds = [o.doc.gold.names for o in outcomes]
        preds = [o.names for o in outcomes]
        summary["names"] = _type_scores(golds, preds, preds)
        summary["names"]["accuracy"] = round(M.exact_set_match(golds, preds), 4)
    else:
        preds_dx, ranks_dx = [o.diagnoses for o in outcomes], [o.ranked_dx for o in outcomes]
        if dataset.older_edition:
            # Gold from an older edition: a code later split into children (R05 -> R05.1-R05.9) or given
            # without its 7th character is matched by any of our codes below it.
            from chartcoder.codesystems import get_system

            valid = get_system("icd10cm").is_valid
            golds = [o.doc.gold.diagnoses for o in outcomes]
            unaligned = M.micro(golds, preds_dx)["f1"]
            preds_dx = [align_to_gold(g, p, valid) for g, p in zip(golds, preds_dx, strict=True)]
            ranks_dx = [align_to_gold(g, r, valid) for g, r in zip(golds, ranks_dx, strict=True)]
        summary["diagnoses"] = _type_scores([o.doc.gold.diagnoses for o in outcomes], preds_dx, ranks_dx)
        if dataset.older_edition and summary["diagnoses"]:
            summary["diagnoses"]["f1_without_edition_alignment"] = round(unaligned, 4)
        if "procedures" in dataset.code_types:
            golds_px = [o.doc.gold.procedures for o in outcomes]

            def aligned(preds: list[list[str]]) -> list[list[str]]:
                if not dataset.older_edition:
                    return preds
                return [align_procedures_to_gold(g, p) for g, p in zip(golds_px, preds, strict=True)]

            summary["procedures"] = _type_scores(golds_px, aligned([o.procedures for o in outcomes]),
                                                 aligned([o.ranked_px for o in outcomes]), partial=True)
            if dataset.partial_procedures:
                # The gold stops at 4 characters where the note does not give the rest; score our codes the
                # same way: a code completed with table defaults counts as the prefix the text determines.
                determined = [as_annotated(g, o.procedure_completions) for g, o in zip(golds_px, outcomes, strict=True)] \
                    if dataset.older_edition else [o.procedures_determined for o in outcomes]
                summary["procedures_as_annotated"] = _type_scores(golds_px, determined, determined)
        with_principal = [o for o in outcomes if o.doc.gold.principal]
        if with_principal:
            summary["principal_accuracy"] = round(
                sum(o.principal == o.doc.gold.principal for o in with_principal) / len(with_principal), 4)
        spans = _span_overlap(outcomes)
        if spans is not None:
            summary["evidence_span_overlap"] = spans
        negated = _gold_on_negated(outcomes)
        if negated is not None:
            summary["gold_codes_on_negated_text"] = negated
    secs = [o.seconds for o in outcomes]
    summary["docs_per_second"] = round(n / wall_seconds, 2) if wall_seconds else None
    summary["seconds"] = round(wall_seconds, 2)
    summary["seconds_per_doc_median"] = round(statistics.median(secs), 4) if secs else None
    summary["seconds_per_doc_p95"] = round(M.percentile(secs, 95), 4) if secs else None
    summary["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    summary["errors"] = sum(o.error is not None for o in outcomes)
    usage = [o.result.llm for o in outcomes if o.result is not None and o.result.llm is not None]
    if usage:
        summary["llm"] = _llm_totals(usage)
    summary["warnings"] = dataset.warnings[:50]
    summary["mapping"] = dataset.mapping
    return summary


def _llm_totals(usage: list[Any]) -> dict[str, Any]:
    """Model use vs fallback over all documents (Hybrid-Code reports 86% model use)."""
    calls = sum(u.calls for u in usage)
    used = sum(u.model_used for u in usage)
    reasons: dict[str, int] = {}
    for u in usage:
        for k, v in u.fallback_reasons.items():
            reasons[k] = reasons.get(k, 0) + v
    return {"calls": calls, "model_used": used, "model_use_rate": round(used / calls, 4) if calls else None,
            "fallback_reasons": reasons, "tokens": sum(u.tokens for u in usage),
            "tokens_per_doc": round(sum(u.tokens for u in usage) / len(usage), 1),
            "model_seconds_per_doc": round(sum(u.seconds for u in usage) / len(usage), 3),
            "cached": sum(u.cached for u in usage)}


def _span_overlap(outcomes: list[DocOutcome]) -> float | None:
    """CodiEsp spans index the Spanish text, not the English translation: not alignable by offset."""
    return None


def _gold_on_negated(outcomes: list[DocOutcome]) -> int | None:
    """How many gold codes our coder found only on negated text (annotators sometimes coded those)."""
    count = 0
    seen = False
    for o in outcomes:
        if o.result is None:
            continue
        seen = True
        gold = set(o.doc.gold.diagnoses)
        count += sum(1 for r in o.result.rejected if r.code in gold and r.reason == "negated"
                     and r.code not in o.diagnoses)
    return count if seen else None


def evaluate(dataset: Dataset, *, limit: int | None = None, skip: int = 0,
             coder: Callable[[Case], CodingResult] | None = None,
             progress: Callable[[int, int], None] | None = None) -> tuple[dict[str, Any], list[DocOutcome]]:
    """Run and score; returns the summary and the per-document outcomes."""
    started = time.perf_counter()
    outcomes = run_documents(dataset, coder=coder, limit=limit, skip=skip, progress=progress)
    wall = time.perf_counter() - started
    return score(dataset, outcomes, wall), outcomes
