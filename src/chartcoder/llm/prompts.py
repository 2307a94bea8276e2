"""Prompt templates: versioned text files under ``prompts/<lang>/<name>.v<N>.txt``.

A template has a ``### system`` and a ``### user`` part and ``$placeholders``
(``string.Template``). The version is part of the file name and goes into the cache key, so
editing a prompt means adding a new version, and stale cached answers are never reused.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from string import Template

_PART = re.compile(r"^### (system|user)\s*$", re.M)


@cache
def template(lang: str, name: str) -> tuple[str, Template, Template]:
    """The newest version of a prompt: (id, system template, user template)."""
    folder = resources.files("chartcoder.llm") / "prompts" / lang
    versions = sorted((int(m.group(1)), f.name) for f in folder.iterdir()
                      if (m := re.fullmatch(rf"{re.escape(name)}\.v(\d+)\.txt", f.name)))
    if not versions:
        raise FileNotFoundError(f"no prompt template {lang}/{name}.v*.txt")
    version, filename = versions[-1]
    text = (folder / filename).read_text("utf-8")
    parts = dict(zip(*[iter(_PART.split(text)[1:])] * 2, strict=True))
    return f"{lang}/{name}.v{version}", Template(parts["system"].strip()), Template(parts["user"].strip())


def render(lang: str, name: str, **values: object) -> tuple[str, list[dict[str, str]]]:
    """Chat messages for a prompt with its placeholders filled."""
    prompt_id, system, user = template(lang, name)
    strings = {k: str(v) for k, v in values.items()}
    return prompt_id, [{"role": "system", "content": system.substitute(strings)},
                       {"role": "user", "content": user.substitute(strings)}]
