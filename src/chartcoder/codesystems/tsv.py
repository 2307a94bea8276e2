"""Reading the shipped gzip TSV data files."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path


def read_tsv(path: Path) -> list[dict[str, str]]:
    """Rows of a gzip TSV with a header line."""
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))
