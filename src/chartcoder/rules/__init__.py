"""Rules as data: abbreviations, synonyms, stop words, section headings (read with importlib.resources)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def load_rules(lang: str, name: str) -> dict[str, Any]:
    """A rules file shipped in the package, without its ``_about`` line."""
    text = resources.files("chartcoder.rules").joinpath(lang, f"{name}.json").read_text("utf-8")
    data = json.loads(text)
    return {k: v for k, v in data.items() if not k.startswith("_")}
