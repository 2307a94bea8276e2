"""Write an evaluation report (Markdown + PNG plots) a coder can read to see why codes were missed."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from chartcoder.eval.run import DocOutcome


def _context(o: DocOutcome, code: str, width: int = 60) -> str:
    res = o.result
    if res is None:
        return ""
    for group in (res.codes, res.rejected):
        for a in group:
            if a.code == code and a.evidence:
                s = a.evidence[0]
                text = res.text
                return "…" + text[max(0, s.start - width) : s.end + width].replace("\n", " ") + "…"
    return ""


def write_report(directory: Path, summary: dict[str, Any], outcomes: list[DocOutcome]) -> Path:
    """report.md, summary.json and plots in ``directory``; returns the Markdown path."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    lines = [f"# ChartCoder evaluation: {summary['dataset']}", "", f"Documents: {summary['documents']}  ",
             f"Speed: {summary['docs_per_second']} docs/s, median {summary['seconds_per_doc_median']} s/doc, "
             f"p95 {summary['seconds_per_doc_p95']} s/doc, peak memory {summary['peak_memory_mb']} MB", "",
             f"Edition mapping: {summary.get('mapping', '')}", ""]
    for ctype in ("diagnoses", "procedures", "names"):
        s = summary.get(ctype)
        if not s:
            continue
        lines += [f"## {ctype}", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in s.items()]
        lines.append("")
    if summary.get("principal_accuracy") is not None:
        lines += [f"Principal diagnosis accuracy: {summary['principal_accuracy']}", ""]
    fp, fn = Counter(), Counter()
    examples: dict[tuple[str, str], str] = {}
    for o in outcomes:
        for gold, pred in ((o.doc.gold.diagnoses, o.diagnoses), (o.doc.gold.procedures, o.procedures)):
            for c in set(pred) - set(gold):
                fp[c] += 1
                examples.setdefault(("fp", c), f"{o.doc.doc_id}: {_context(o, c)}")
            for c in set(gold) - set(pred):
                fn[c] += 1
                examples.setdefault(("fn", c), f"{o.doc.doc_id}: {_context(o, c) or '(not found in the text)'}")
    for title, counter, key in (("Top false positives", fp, "fp"), ("Top false negatives", fn, "fn")):
        lines += [f"## {title}", "", "| code | count | example |", "|---|---|---|"]
        for c, n in counter.most_common(25):
            lines.append(f"| {c} | {n} | {examples.get((key, c), '').replace('|', '/')} |")
        lines.append("")
    plots = _plots(directory, outcomes)
    lines += [f"![{p.stem}]({p.name})" for p in plots]
    errors = [o for o in outcomes if o.error]
    if errors:
        lines += ["", "## Errors", ""] + [f"- {o.doc.doc_id}: {o.error}" for o in errors[:50]]
    if summary.get("warnings"):
        lines += ["", "## Input warnings", ""] + [f"- {w}" for w in summary["warnings"]]
    path = directory / "report.md"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


def _plots(directory: Path, outcomes: list[DocOutcome]) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    paths = []
    tp, fp, fn, freq = Counter(), Counter(), Counter(), Counter()
    for o in outcomes:
        g, p = set(o.doc.gold.diagnoses), set(o.diagnoses)
        for c in g:
            freq[c] += 1
        for c in g & p:
            tp[c[:1]] += 1
        for c in p - g:
            fp[c[:1]] += 1
        for c in g - p:
            fn[c[:1]] += 1
    letters = sorted(set(tp) | set(fp) | set(fn))
    if letters:
        f1 = [2 * tp[x] / max(1, 2 * tp[x] + fp[x] + fn[x]) for x in letters]
        fig, ax = plt.subplots(figsize=(8, 3))
        ax.bar(letters, f1)
        ax.set_ylabel("F1")
        ax.set_title("Diagnosis F1 by chapter letter")
        fig.tight_layout()
        paths.append(directory / "f1_by_chapter.png")
        fig.savefig(paths[-1])
        plt.close(fig)
    bands = {"1": (1, 1), "2-4": (2, 4), "5-19": (5, 19), "20+": (20, 10**9)}
    prec, rec = [], []
    for lo, hi in bands.values():
        codes = {c for c, n in freq.items() if lo <= n <= hi}
        t = sum(len(set(o.doc.gold.diagnoses) & set(o.diagnoses) & codes) for o in outcomes)
        pr = sum(len(set(o.diagnoses) & codes) for o in outcomes)
        gd = sum(len(set(o.doc.gold.diagnoses) & codes) for o in outcomes)
        prec.append(t / pr if pr else 0)
        rec.append(t / gd if gd else 0)
    fig, ax = plt.subplots(figsize=(6, 3))
    xs = range(len(bands))
    ax.bar([x - 0.2 for x in xs], prec, width=0.4, label="precision")
    ax.bar([x + 0.2 for x in xs], rec, width=0.4, label="recall")
    ax.set_xticks(list(xs), list(bands))
    ax.set_xlabel("gold frequency of the code")
    ax.legend()
    fig.tight_layout()
    paths.append(directory / "pr_by_frequency.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([o.seconds * 1000 for o in outcomes], bins=30)
    ax.set_xlabel("ms per document")
    fig.tight_layout()
    paths.append(directory / "latency.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths
