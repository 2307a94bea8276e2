"""De-identification by pattern: dates, phone numbers, e-mail addresses, record and ID numbers,
titled names (Mr. Smith, Dr. Lee), Chinese names after 姓名/患者 and Chinese ID-card numbers are
replaced by typed placeholders ([DATE], [PHONE], ...). Used wherever text could leave the
coding path (logs now; uploads in the workbench). Pattern-based: it errs towards masking."""

from __future__ import annotations

import re

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("EMAIL", re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")),
    ("ID", re.compile(r"\b\d{17}[\dXx]\b")),  # Chinese resident ID card
    ("DATE", re.compile(r"\b\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?|\b\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}\b")),
    ("DATE", re.compile(r"\b\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{4}\b", re.I)),
    ("DATE", re.compile(r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}\b", re.I)),
    ("PHONE", re.compile(r"(?<!\d)(?:\+?\d{1,3}[\s-]?)?(?:\(\d{2,4}\)\s?)?\d{3,4}[\s-]\d{4}(?!\d)|(?<!\d)1[3-9]\d{9}(?!\d)")),
    ("MRN", re.compile(r"(?i)\b(?:MRN|medical record(?: number)?|patient id|住院号|病案号)\s*[:：#]?\s*[A-Z0-9-]{4,}")),
    ("NAME", re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.?\s+[A-Z][a-zA-Z'-]+(?:\s+[A-Z][a-zA-Z'-]+)?")),
    ("NAME", re.compile(r"(?:姓名|患者姓名)\s*[:：]\s*[\u4e00-\u9fff]{2,4}")),
    ("NUMBER", re.compile(r"(?<![\d.])\d{7,}(?![\d.])")),
]


def scrub(text: str) -> str:
    """The text with identifiers replaced by ``[KIND]`` placeholders."""
    for kind, pattern in _PATTERNS:
        text = pattern.sub(f"[{kind}]", text)
    return text
