"""Pure metric functions over per-document gold and predicted code lists."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence

Matcher = Callable[[str, str], bool]


def exact(pred: str, gold: str) -> bool:
    """Codes are equal."""
    return pred == gold


def prefix(pred: str, gold: str) -> bool:
    """A predicted code matches a (possibly partial) gold code it starts with."""
    return pred.startswith(gold)


def category(code: str) -> str:
    """First three characters (the ICD-10 category)."""
    return code.replace(".", "")[:3]


def match_counts(gold: Sequence[str], pred: Sequence[str], matcher: Matcher = exact) -> tuple[int, int, int]:
    """(true positives, predicted, gold) for one document; each gold and prediction used once."""
    gold_set, pred_set = list(dict.fromkeys(gold)), list(dict.fromkeys(pred))
    used: set[int] = set()
    tp = 0
    for p in pred_set:
        for i, g in enumerate(gold_set):
            if i not in used and matcher(p, g):
                used.add(i)
                tp += 1
                break
    return tp, len(pred_set), len(gold_set)


def prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    """Precision, recall, F1 from counts (0 when undefined)."""
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f}


def micro(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]], matcher: Matcher = exact) -> dict[str, float]:
    """Micro-averaged precision/recall/F1 over documents."""
    tp = np = ng = 0
    for g, p in zip(golds, preds, strict=True):
        a, b, c = match_counts(g, p, matcher)
        tp, np, ng = tp + a, np + b, ng + c
    return prf(tp, np, ng)


def macro_f1(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]]) -> float:
    """Mean per-code F1 over every code seen in gold or predictions (exact match)."""
    tp, fp, fn = Counter(), Counter(), Counter()
    for g, p in zip(golds, preds, strict=True):
        gs, ps = set(g), set(p)
        for c in gs & ps:
            tp[c] += 1
        for c in ps - gs:
            fp[c] += 1
        for c in gs - ps:
            fn[c] += 1
    codes = set(tp) | set(fp) | set(fn)
    if not codes:
        return 0.0
    return sum(2 * tp[c] / (2 * tp[c] + fp[c] + fn[c]) for c in codes) / len(codes)


def exact_set_match(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]]) -> float:
    """Share of documents whose predicted set equals the gold set."""
    if not golds:
        return 0.0
    return sum(set(g) == set(p) for g, p in zip(golds, preds, strict=True)) / len(golds)


def average_precision(gold: Sequence[str], ranked: Sequence[str], matcher: Matcher = exact) -> float:
    """AP of one ranked list: mean of precision@k at each rank k holding a (new) gold code."""
    gold_set = list(dict.fromkeys(gold))
    if not gold_set:
        return 0.0
    found: set[int] = set()
    hits, total = 0, 0.0
    for k, p in enumerate(dict.fromkeys(ranked), start=1):
        for i, g in enumerate(gold_set):
            if i not in found and matcher(p, g):
                found.add(i)
                hits += 1
                total += hits / k
                break
    return total / len(gold_set)


def mean_average_precision(golds: Sequence[Sequence[str]], rankings: Sequence[Sequence[str]],
                           matcher: Matcher = exact) -> float:
    """MAP over documents with at least one gold code (CodiEsp's official metric)."""
    aps = [average_precision(g, r, matcher) for g, r in zip(golds, rankings, strict=True) if g]
    return sum(aps) / len(aps) if aps else 0.0


def bootstrap_f1(golds: Sequence[Sequence[str]], preds: Sequence[Sequence[str]], matcher: Matcher = exact,
                 rounds: int = 1000, seed: int = 13) -> tuple[float, float]:
    """95% confidence interval of micro F1 by resampling documents."""
    counts = [match_counts(g, p, matcher) for g, p in zip(golds, preds, strict=True)]
    if not counts:
        return (0.0, 0.0)
    rng = random.Random(seed)
    scores = []
    n = len(counts)
    for _ in range(rounds):
        tp = np = ng = 0
        for _ in range(n):
            a, b, c = counts[rng.randrange(n)]
            tp, np, ng = tp + a, np + b, ng + c
        scores.append(prf(tp, np, ng)["f1"])
    scores.sort()
    return scores[int(0.025 * rounds)], scores[min(rounds - 1, int(0.975 * rounds))]


def span_overlap(gold_spans: Sequence[tuple[int, int]], pred_spans: Sequence[tuple[int, int]]) -> float:
    """Share of gold spans overlapped by at least one predicted span."""
    if not gold_spans:
        return 0.0
    hit = sum(any(ps < ge and gs < pe for ps, pe in pred_spans) for gs, ge in gold_spans)
    return hit / len(gold_spans)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    if not values:
        return 0.0
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]
