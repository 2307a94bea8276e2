"""The model path against a real local server: model-use rate, fallback reasons, seconds and tokens
per note, and how the codes differ from the deterministic path.

    python benchmarks/bench_llm.py FOLDER_OF_TXT_NOTES [N] [--llm-url URL]

Without --llm-url it starts the llama-server + SmolLM2-135M built by scripts/build_llama_server.sh.
The answer cache is off, so every call reaches the model.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", type=Path)
    ap.add_argument("n", type=int, nargs="?", default=10)
    ap.add_argument("--llm-url")
    ap.add_argument("--llm-model", default="local")
    args = ap.parse_args()
    notes = [p.read_text("utf-8") for p in sorted(args.folder.glob("*.txt"))[: args.n]]
    from contextlib import nullcontext

    from chartcoder.llm.local import LocalLlamaServer, built_server

    with nullcontext(args.llm_url) if args.llm_url else LocalLlamaServer(*built_server()) as url:
        run(notes, url, args.llm_model)


def run(notes: list[str], url: str, model: str) -> None:
    """Code the notes with and without the model and print the figures."""
    from chartcoder.coder import code
    from chartcoder.llm import LLMSettings

    settings = LLMSettings(url=url, model=model, timeout=60, cache=False, cache_dir=Path(tempfile.mkdtemp()))
    code(notes[0])  # warm the deterministic path (stores, lexicons) so timings are the model's
    per_note, tokens, reasons, used, calls, changed = [], [], Counter(), 0, 0, 0
    for note in notes:
        rules = set(code(note).diagnoses())
        t = time.perf_counter()
        result = code(note, llm=settings)
        per_note.append(time.perf_counter() - t)
        u = result.llm
        tokens.append(u.tokens)
        reasons.update(u.fallback_reasons)
        used += u.model_used
        calls += u.calls
        changed += len(rules ^ set(result.diagnoses()))
    print(f"{len(notes)} notes against {url}")
    print(f"model use: {used}/{calls} decisions ({used / max(calls, 1):.0%}); fallbacks: {dict(reasons) or 'none'}")
    print(f"seconds per note: median {statistics.median(per_note):.1f}, mean {statistics.mean(per_note):.1f}; "
          f"tokens per note: mean {statistics.mean(tokens):.0f}; decisions per note {calls / len(notes):.1f}")
    print(f"diagnosis codes differing from the deterministic path: {changed / len(notes):.1f} per note")


if __name__ == "__main__":
    main()
