"""The ``chartcoder`` command: code notes, explore code systems, evaluate."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from chartcoder.codesystems import SYSTEMS, CodeSystemError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="ChartCoder: explained, audited ICD coding.")
codes_app = typer.Typer(no_args_is_help=True, help="Look up, search and walk the code systems.")
app.add_typer(codes_app, name="codes")

out = Console()
err = Console(stderr=True)

SystemOpt = Annotated[str, typer.Option("--system", "-s", help=f"Code system: {', '.join(SYSTEMS)}")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON document instead of a table.")]


def fail(message: str, code: int = 2) -> None:
    """Print a clear error and exit; never a traceback for user mistakes."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def emit_json(doc: dict[str, Any]) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")


def _system(system: str):  # noqa: ANN202 - returns the CodeSystem
    from chartcoder.codesystems import get_system

    with err.status(f"opening {system} (the first use compiles it, a few seconds)…"):
        return get_system(system)


@codes_app.command("systems")
def codes_systems(as_json: JsonOpt = False) -> None:
    """List the code systems ChartCoder ships."""
    from chartcoder.codesystems import _specs

    specs = _specs()
    if as_json:
        emit_json({"systems": [{"id": s, "description": specs[s].description} for s in SYSTEMS]})
        return
    table = Table("id", "edition")
    for s in SYSTEMS:
        table.add_row(s, specs[s].description)
    out.print(table)


@codes_app.command("build")
def codes_build(system: Annotated[str, typer.Option("--system", "-s", help="A system id or 'all'.")] = "all") -> None:
    """Compile code systems into the cache now (otherwise done on first use)."""
    import time

    from chartcoder.codesystems import get_system, system_store_path

    for sid in SYSTEMS if system == "all" else [system]:
        started = time.perf_counter()
        try:
            cs = get_system(sid)
        except CodeSystemError as exc:
            fail(str(exc))
        out.print(f"{sid:16} {cs.count(billable_only=True):>7,} valid codes  {time.perf_counter() - started:6.2f} s  "
                  f"{system_store_path(sid)}")


@codes_app.command("lookup")
def codes_lookup(code: str, system: SystemOpt = "icd10cm", as_json: JsonOpt = False) -> None:
    """Show a code: title, hierarchy, validity, instructional notes (and PCS axis meanings)."""
    try:
        cs = _system(system)
        canonical = cs.normalize(code)
        info = cs.get(code)
    except CodeSystemError as exc:
        fail(str(exc))
    if info is None:
        fail(f"{canonical} is well formed but is not a code of {cs.name}")
    doc = {"system": system, "query": code, "codes": [info.code], "result": info.to_dict()}
    if system == "icd10pcs":
        doc["axes"] = cs.describe(info.code)  # type: ignore[attr-defined]
    if as_json:
        emit_json(doc)
        return
    if canonical.replace(".", "") != code.strip().replace(".", ""):
        err.print(f"[dim]read {code!r} as {info.code}[/]")
    status = "[green]valid (billable)[/]" if info.billable else f"[yellow]not reportable: a {info.kind}[/]"
    out.print(f"[bold]{info.code}[/]  {info.title}  {status}")
    for pc, pt in info.parents:
        out.print(f"  [dim]in[/] {pc}  {pt}")
    if info.children:
        shown = ", ".join(info.children[:12]) + (" …" if len(info.children) > 12 else "")
        out.print(f"  [dim]children ({len(info.children)}):[/] {shown}")
    for k, v in info.extra.items():
        out.print(f"  [dim]{k}:[/] {v}")
    if system == "icd10pcs":
        table = Table("pos", "axis", "value", "meaning")
        for a in doc["axes"]:
            table.add_row(a["position"], a["axis"], a["value"], a["meaning"])
        out.print(table)
    if info.notes:
        table = Table("note", "text", "from")
        for n in info.notes:
            table.add_row(n.kind, n.text, n.source)
        out.print(table)


@codes_app.command("search")
def codes_search(
    query: str,
    system: SystemOpt = "icd10cm",
    limit: Annotated[int, typer.Option("--limit", "-k", min=1, max=200)] = 10,
    billable: Annotated[bool, typer.Option("--billable", help="Only codes that can be reported.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Ranked text search over titles, inclusion terms and index terms."""
    try:
        hits = _system(system).search(query, limit, billable_only=billable)
    except CodeSystemError as exc:
        fail(str(exc))
    if as_json:
        emit_json({"system": system, "query": query, "codes": [h.code for h in hits], "hits": [h.to_dict() for h in hits]})
        return
    if not hits:
        out.print(f"no match for {query!r} in {system}")
        return
    table = Table("code", "title", "score", "matched")
    for h in hits:
        table.add_row(h.code, h.title, f"{h.score:.2f}", f"{h.field}: {h.matched}" if h.matched != h.title else h.field)
    out.print(table)


@codes_app.command("index")
def codes_index(
    path: str,
    system: SystemOpt = "icd10cm",
    book: Annotated[str, typer.Option("--book", help="icd10cm: index, eindex, drug or neoplasm")] = "index",
    as_json: JsonOpt = False,
) -> None:
    """Walk the Alphabetic Index: 'Main term, subterm, subterm'."""
    try:
        entries = _system(system).index_lookup(path, source=book)
    except CodeSystemError as exc:
        fail(str(exc))
    codes = sorted({c for e in entries for c in ([e.code] if e.code else []) + list(e.cells.values())})
    if as_json:
        emit_json({"system": system, "query": path, "codes": codes, "entries": [e.to_dict() for e in entries]})
        return
    if not entries:
        out.print(f"no index entry for {path!r} in {system} ({book})")
        return
    for e in entries:
        mark = "" if e.matched_fully else " [yellow](partial match)[/]"
        out.print(f"[bold]{' > '.join(e.path)}[/]{mark}")
        if e.nonessential:
            out.print(f"  nonessential modifiers: {' '.join(e.nonessential)}")
        if e.code:
            out.print(f"  code: [green]{e.code}[/]")
        for col, c in e.cells.items():
            out.print(f"  {col}: [green]{c}[/]")
        if e.see:
            out.print(f"  see: {e.see}")
        if e.see_also:
            out.print(f"  see also: {e.see_also}")
        if e.use:
            out.print(f"  use: {e.use}")
        if e.subterms:
            out.print(f"  subterms: {', '.join(e.subterms[:15])}{' …' if len(e.subterms) > 15 else ''}")


def _read_input(path: str) -> str:
    """Read a note from a file or stdin with a clear error for bad files."""
    if path == "-":
        data = sys.stdin.buffer.read()
        name = "standard input"
    else:
        p = Path(path)
        if not p.exists():
            fail(f"file not found: {path}")
        if p.is_dir():
            fail(f"{path} is a folder; give a file")
        data = p.read_bytes()
        name = path
    if not data.strip():
        fail(f"{name} is empty: nothing to code")
    if b"\x00" in data[:4096]:
        fail(f"{name} looks binary, not a text note (PDF and images: see the ingest commands)")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    fail(f"{name} is neither UTF-8 nor GB18030 text")
    return ""


LLMUrlOpt = Annotated[str | None, typer.Option("--llm-url", help="OpenAI-compatible server (e.g. http://127.0.0.1:8080).",
                                              show_default=False)]
LLMModelOpt = Annotated[str | None, typer.Option("--llm-model", help="Model name to request.", show_default=False)]
RemoteOpt = Annotated[bool, typer.Option("--allow-remote-llm",
                                         help="Allow sending patient text to a server outside loopback/private networks.")]


def _llm_settings(url: str | None, model: str | None, allow_remote: bool):  # noqa: ANN202 - LLMSettings | None
    """Settings from options, env and config; refuse a remote server unless allowed, with a clear error."""
    from pydantic import ValidationError

    from chartcoder.llm import PrivacyError, check_destination, load_settings

    try:
        settings = load_settings(url=url, model=model, allow_remote=True if allow_remote else None)
    except (ValidationError, OSError, ValueError) as exc:
        fail(f"LLM settings are invalid: {exc}")
    if not settings.enabled:
        return None
    try:
        check_destination(settings.url, settings.allow_remote)
    except PrivacyError as exc:
        fail(str(exc))
    return settings


@app.command("code")
def code_cmd(
    file: Annotated[str, typer.Argument(help="A note (.txt) or a Chinese record (.json); '-' reads stdin.")],
    setting: Annotated[str, typer.Option(help="inpatient or outpatient")] = "inpatient",
    scope: Annotated[str, typer.Option(
        help="encounter: code this stay (a past procedure gives its status code, a past condition its history "
        "code); record: code every procedure the note tells, whenever done (CodiEsp's convention)")] = "encounter",
    lang: Annotated[str, typer.Option(help="en or zh (zh for Chinese inpatient records)")] = "",
    show_rejected: Annotated[bool, typer.Option("--rejected", help="Also list rejected candidates.")] = False,
    book_only: Annotated[bool, typer.Option(
        "--book-only", help="Read the index and guidelines alone: the statistics learned on CodiEsp train "
        "(translated Spanish case reports) neither set aside nor prefer a reading.")] = False,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
    allow_remote_llm: RemoteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Code a note: every code with its evidence, path, notes checked and audit verdict."""
    from chartcoder.coder import code_case
    from chartcoder.pipeline import InputError
    from chartcoder.types import Case

    if setting not in ("inpatient", "outpatient"):
        fail("--setting must be inpatient or outpatient")
    if scope not in ("encounter", "record"):
        fail("--scope must be encounter or record")
    raw = _read_input(file)
    fields: dict[str, str] = {}
    if file.endswith(".json"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            fail(f"{file}: not valid JSON ({exc})")
        if isinstance(data, list):
            data = data[0] if data else {}
        if not isinstance(data, dict):
            fail(f"{file}: expected a JSON object of record fields")
        from chartcoder.eval.datasets import CCL_GOLD_KEYS

        fields = {k: str(v) for k, v in data.items() if k not in CCL_GOLD_KEYS and isinstance(v, str | int | float)}
        lang = lang or "zh"
        raw = ""
    if not lang:
        from chartcoder.codesystems.text import has_cjk

        lang = "zh" if has_cjk(raw[:2000]) and sum(map(has_cjk, raw[:2000])) > 20 else "en"
    if lang not in ("en", "zh"):
        fail("--lang must be en or zh")
    settings = _llm_settings(llm_url, llm_model, allow_remote_llm)
    try:
        with err.status("coding…"):
            result = code_case(Case(text=raw, fields=fields, lang=lang, setting=setting, scope=scope,
                                    train_statistics=not book_only), settings)
    except InputError as exc:
        fail(str(exc))
    except CodeSystemError as exc:
        fail(str(exc))
    if as_json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    table = Table("#", "code", "title", "evidence", "found by", "checks", "conf.", title="Codes (principal first)")
    for i, a in enumerate(result.codes, 1):
        ev = "; ".join(f"'{s.text}' @{s.start}-{s.end}" for s in a.evidence[:3])
        checks = "; ".join((a.verdict.checks if a.verdict else []) + a.notes_checked[:3])
        found_by = "; ".join(a.path[:2]) + (f" [{a.produced_by}]" if result.llm else "")
        if a.fallback_reason:
            found_by += f" (fallback: {a.fallback_reason})"
        table.add_row(str(i), f"[bold]{a.code}[/]" if a.principal else a.code, a.title, ev, found_by,
                      checks, f"{a.confidence:.2f}")
    out.print(table)
    if result.llm:
        u = result.llm
        err.print(f"model: {u.model_used}/{u.calls} decisions by the model, fallbacks {u.fallback_reasons or 'none'}, "
                  f"{u.tokens} tokens, {u.seconds:.1f} s")
    if show_rejected and result.rejected:
        rt = Table("code", "title", "reason", "evidence", title="Considered and rejected")
        for r in result.rejected:
            rt.add_row(r.code, r.title, r.reason, "; ".join(s.text for s in r.evidence[:2]))
        out.print(rt)
    for w in result.warnings:
        err.print(f"[yellow]warning:[/] {w}")


@app.command("eval")
def eval_cmd(
    kind: Annotated[str, typer.Argument(help="codiesp, ccl2025, jointcoder-xlsx, chip-cdn or chip2019")],
    path: Annotated[Path, typer.Argument(help="Dataset folder or file.")],
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="Only the first N documents.")] = None,
    skip: Annotated[int, typer.Option("--skip", min=0, help="Leave out the first N documents (e.g. a training part).")] = 0,
    report: Annotated[Path | None, typer.Option("--report", help="Write report.md, summary.json and plots here.")] = None,
    book_only: Annotated[bool, typer.Option(
        "--book-only", help="Code without the statistics learned on CodiEsp train (the book's readings alone).")] = False,
    scope: Annotated[str | None, typer.Option(
        help="encounter or record; default: the dataset's own convention (CodiEsp: record)")] = None,
    llm_url: LLMUrlOpt = None,
    llm_model: LLMModelOpt = None,
    allow_remote_llm: RemoteOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Code every document of a human-coded dataset and score it against the gold."""
    from rich.progress import Progress

    from chartcoder.eval.datasets import DatasetError, read_dataset
    from chartcoder.eval.run import evaluate

    try:
        dataset = read_dataset(kind, path)
    except DatasetError as exc:
        fail(str(exc))
    for w in dataset.warnings[:20]:
        err.print(f"[yellow]warning:[/] {w}")
    if scope not in (None, "encounter", "record"):
        fail("--scope must be encounter or record")
    settings = _llm_settings(llm_url, llm_model, allow_remote_llm)
    coder = None
    if settings is not None or book_only or scope:
        from chartcoder.coder import code_case

        def coder(case):  # noqa: ANN001, ANN202
            update = {"train_statistics": not book_only} | ({"scope": scope} if scope else {})
            return code_case(case.model_copy(update=update), settings)
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(f"coding {kind}", total=min(limit or 10**9, max(0, len(dataset.documents) - skip)))
        summary, outcomes = evaluate(dataset, limit=limit, skip=skip, coder=coder,
                                     progress=lambda i, n: bar.update(task, completed=i))
    if report:
        from chartcoder.eval.report import write_report

        written = write_report(report, summary, outcomes)
        err.print(f"report written to {written}")
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return
    table = Table("type", "P", "R", "F1 (95% CI)", "MAP", "F1 category", "macro F1", "exact set",
                  title=f"{kind}: {summary['documents']} documents")
    for ctype in ("diagnoses", "procedures", "procedures_as_annotated", "names"):
        s = summary.get(ctype)
        if not s:
            continue
        ci = s.get("f1_ci95", [0, 0])
        table.add_row(ctype, f"{s['precision']:.3f}", f"{s['recall']:.3f}", f"{s['f1']:.3f} ({ci[0]:.3f}-{ci[1]:.3f})",
                      f"{s['map']:.3f}", f"{s['f1_category']:.3f}", f"{s['macro_f1']:.3f}",
                      f"{s['exact_set_match']:.3f}")
        if "f1_prefix" in s:
            table.add_row(f"{ctype} (prefix)", f"{s['precision_prefix']:.3f}", f"{s['recall_prefix']:.3f}",
                          f"{s['f1_prefix']:.3f}", f"{s['map_prefix']:.3f}", "", "", "")
    out.print(table)
    if summary.get("principal_accuracy") is not None:
        out.print(f"principal diagnosis accuracy: {summary['principal_accuracy']:.3f}")
    out.print(f"{summary['docs_per_second']} docs/s; median {summary['seconds_per_doc_median']} s/doc; "
              f"p95 {summary['seconds_per_doc_p95']} s/doc; peak memory {summary['peak_memory_mb']} MB; "
              f"errors {summary['errors']}")
    if summary.get("llm"):
        u = summary["llm"]
        out.print(f"model use {u['model_use_rate']} of {u['calls']} decisions; fallbacks {u['fallback_reasons'] or 'none'}; "
                  f"{u['tokens_per_doc']} tokens/doc; {u['model_seconds_per_doc']} model s/doc")
    out.print(f"[dim]{summary['mapping']}[/]")


def main() -> None:
    """Entry point of the console script."""
    app()


if __name__ == "__main__":
    main()
