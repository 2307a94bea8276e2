"""ICD-10-PCS FY2025: Tables (every valid code is a row of a table), Index and Definitions."""

from __future__ import annotations

import gzip
import itertools
import json
import re
from pathlib import Path

from lxml import etree

from chartcoder.codesystems.base import CodeSystem, IndexEntry, MalformedCodeError, index_key
from chartcoder.codesystems.icd10cm import _split_title, _text
from chartcoder.codesystems.store import StoreWriter, data_path

FILES = {
    "tables": "icd10pcs_tables_2025.xml.gz",
    "index": "icd10pcs_index_2025.xml.gz",
    "definitions": "icd10pcs_definitions_2025.xml.gz",
}
# Rows deleted since FY2018 and the row of this edition that now codes the same procedure (old -> new): the
# substance "Regional Anesthetic" was folded into "Anesthetic Agent" (nerve, spinal and epidural blocks), and
# single hemodialysis became "Intermittent, Less than 6 Hours Per Day" (FY2019 addenda). Used to read
# FY2018-coded data (CodiEsp) against this edition.
PCS_REPLACED_SINCE_2018 = {"3E0T3CZ": "3E0T3BZ", "3E0R3CZ": "3E0R3BZ", "3E0S3CZ": "3E0S3BZ", "5A1D00Z": "5A1D70Z"}
PCS_CHARS = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"
AXIS_TITLES_MED_SURG = {1: "Section", 2: "Body System", 3: "Operation", 4: "Body Part", 5: "Approach",
                        6: "Device", 7: "Qualifier"}


def data_files() -> list[Path]:
    """Every input of the ICD-10-PCS build."""
    return [data_path(n) for n in FILES.values()]


def _axis(el: etree._Element) -> tuple[int, str, dict[str, str], str | None]:
    labels = {lab.get("code"): _text(lab) for lab in el.findall("label")}
    return int(el.get("pos")), _text(el.find("title")), labels, _text(el.find("definition")) or None


def pcs_title(names: dict[int, str], titles: dict[int, str]) -> str:
    """A readable description assembled from the axis values (the order file's long title is not shipped)."""
    op, part = names[3], names[4]
    rest = []
    for pos in (5, 6, 7):
        value = names[pos]
        if value.startswith("No ") or value in ("None",):
            continue
        rest.append(f"{value} {titles[pos]}" if titles[pos] == "Approach" else value)
    return f"{op} {part}" + (", " + ", ".join(rest) if rest else "")


def _build_tables(w: StoreWriter, path: Path) -> dict[str, int]:
    with gzip.open(path) as f:
        root = etree.parse(f).getroot()
    n_tables = n_codes = 0
    seen_prefix: set[str] = set()
    for table in root.findall("pcsTable"):
        top = [_axis(a) for a in table.findall("axis")]
        head = {pos: (title, labels, definition) for pos, title, labels, definition in top}
        sec_code, sec_name = next(iter(head[1][1].items()))
        bs_code, bs_name = next(iter(head[2][1].items()))
        op_code, op_name = next(iter(head[3][1].items()))
        tcode = sec_code + bs_code + op_code
        if sec_code not in seen_prefix:
            w.code(sec_code, sec_name, "section", None, False, norm=sec_code, searchable=False)
            seen_prefix.add(sec_code)
        if sec_code + bs_code not in seen_prefix:
            w.code(sec_code + bs_code, f"{sec_name}: {bs_name}", "body_system", sec_code, False,
                   norm=sec_code + bs_code, searchable=False)
            seen_prefix.add(sec_code + bs_code)
        rows = []
        titles = {pos: head[pos][0] for pos in (1, 2, 3)}
        for row in table.findall("pcsRow"):
            axes = {pos: (title, labels) for pos, title, labels, _ in (_axis(a) for a in row.findall("axis"))}
            rows.append({str(pos): labels for pos, (_, labels) in axes.items()})
            for pos, (title, _) in axes.items():
                titles[pos] = title
            for combo in itertools.product(*(axes[p][1].items() for p in (4, 5, 6, 7))):
                code = tcode + "".join(c for c, _ in combo)
                names = {1: sec_name, 2: bs_name, 3: op_name} | {p: combo[p - 4][1] for p in (4, 5, 6, 7)}
                w.code(code, pcs_title(names, titles), "code", tcode, True, norm=code)
                n_codes += 1
        axes_meta = {str(pos): {"title": head[pos][0], "code": next(iter(head[pos][1])),
                                "label": next(iter(head[pos][1].values())), "definition": head[pos][2]}
                     for pos in (1, 2, 3)}
        axes_meta["titles"] = {str(k): v for k, v in titles.items()}
        w.conn.execute("INSERT INTO pcs_tables VALUES (?,?,?)", (tcode, json.dumps(axes_meta), json.dumps(rows)))
        defn = head[3][2]
        w.code(tcode, f"{sec_name}, {bs_name}, {op_name}", "table", sec_code + bs_code, False, norm=tcode,
               extra={"definition": defn} if defn else None, searchable=False)
        if defn:
            w.note(tcode, "definition", defn, 0)
        n_tables += 1
    return {"tables": n_tables, "valid_codes": n_codes}


def _build_index(w: StoreWriter, path: Path) -> int:
    with gzip.open(path) as f:
        root = etree.parse(f).getroot()
    n = 0

    def ref(el: etree._Element | None) -> tuple[str | None, str | None]:
        if el is None:
            return None, None
        target = (el.text or "").strip()
        code = el.findtext("codes") or el.findtext("tab")
        return target or None, code.strip() if code else None

    def walk(el: etree._Element, parent_id: int | None, level: int, trail: list[str]) -> None:
        nonlocal n
        title, nemod = _split_title(el)
        see, see_code = ref(el.find("see"))
        use = _text(el.find("use")) or None
        code = (el.findtext("code") or el.findtext("codes") or "").strip() or see_code
        if not title:  # a bare <term> holding only a see/use reference
            title = see or use or ""
        node = w.index_term("index", parent_id, level, title, index_key(title), nemod=nemod, code=code, see=see,
                            use=use)
        n += 1
        path_text = trail + [title]
        if code and len(code) == 7:
            w.search_text(code, "index", ", ".join(path_text))
        for t in el.findall("term"):
            walk(t, node, level + 1, path_text)

    for mt in root.iter("mainTerm"):
        walk(mt, None, 0, [])
    return n


def _build_definitions(w: StoreWriter, path: Path) -> int:
    with gzip.open(path) as f:
        root = etree.parse(f).getroot()
    rows = []
    for section in root.findall("section"):
        for axis in section.findall("axis"):
            for term in axis.findall("terms"):
                rows.append((section.get("code"), int(axis.get("pos")), _text(axis.find("title")),
                             _text(term.find("title")), _text(term.find("definition")) or None,
                             _text(term.find("explanation")) or None,
                             "; ".join(_text(i) for i in term.findall("includes")) or None))
    w.conn.executemany("INSERT INTO definitions VALUES (?,?,?,?,?,?,?)", rows)
    return len(rows)


def build_icd10pcs(w: StoreWriter) -> dict[str, str]:
    """Compile tables (every valid code), index and definitions."""
    counts = _build_tables(w, data_path(FILES["tables"]))
    w.flush()
    counts["index_terms"] = _build_index(w, data_path(FILES["index"]))
    counts["definitions"] = _build_definitions(w, data_path(FILES["definitions"]))
    w.flush()
    return {k: str(v) for k, v in counts.items()}


class ICD10PCS(CodeSystem):
    """ICD-10-PCS procedures: validity by table row, meaning of each character, index, definitions."""

    id = "icd10pcs"
    name = "ICD-10-PCS FY2025"
    lang = "en"
    has_index = True

    def normalize(self, code: str) -> str:
        """Upper-case; 1 to 7 PCS characters (partial codes name a section, body system or table)."""
        raw = code.strip().upper()
        if not re.fullmatch(f"[{PCS_CHARS}]{{1,7}}", raw):
            raise MalformedCodeError(
                f"{code!r} is not an ICD-10-PCS code (1 to 7 characters from 0-9 and A-Z without I and O, e.g. 0DTJ4ZZ)"
            )
        return raw

    def _norm_key(self, code: str) -> str:
        return code.strip().upper()

    def describe(self, code: str) -> list[dict[str, str]]:
        """What each character means, axis by axis, from the code's table and row."""
        code = self.normalize(code)
        row = self.conn.execute("SELECT axes, rows FROM pcs_tables WHERE code = ?", (code[:3],)).fetchone()
        if row is None:
            return []
        axes, rows = json.loads(row[0]), json.loads(row[1])
        titles = axes["titles"]
        out = [{"position": str(p), "axis": axes[str(p)]["title"], "value": code[p - 1] if len(code) >= p else "",
                "meaning": axes[str(p)]["label"]} for p in (1, 2, 3)]
        for pos in range(4, len(code) + 1):
            char = code[pos - 1]
            meaning = next((r[str(pos)][char] for r in rows if char in r.get(str(pos), {})), None)
            out.append({"position": str(pos), "axis": titles.get(str(pos), ""), "value": char,
                        "meaning": meaning or "(not a value of this table)"})
        return out

    def table_rows(self, table: str) -> list[dict[str, dict[str, str]]]:
        """The rows of a table: for positions 4-7, the allowed values and their meanings."""
        row = self.conn.execute("SELECT rows FROM pcs_tables WHERE code = ?", (table.upper(),)).fetchone()
        return json.loads(row[0]) if row else []

    def definitions(self, term: str) -> list[dict[str, str | None]]:
        """Official definitions of an axis value (operation, approach, device...)."""
        rows = self.conn.execute("SELECT * FROM definitions WHERE lower(term) = lower(?)", (term.strip(),))
        return [dict(r) for r in rows]

    def index_lookup(self, path: str, *, source: str = "index") -> list[IndexEntry]:
        """Walk the PCS Index: main term -> subterms, to a table, partial code or a see/use reference."""
        out = []
        for walk in self.walk_index(path, source=source, example="Appendectomy"):
            last, kids = walk.nodes[-1], walk.children
            out.append(IndexEntry(
                source="index", path=[n["title"] for n in walk.nodes],
                nonessential=[n["nemod"] for n in walk.nodes if n["nemod"]], code=last["code"], see=last["see"],
                see_also=None, use=last["use"], cells={},
                subterms=[k["title"] + (f" -> {k['code']}" if k["code"] else "") for k in kids],
                matched_fully=not walk.rest, subterm_codes={k["title"]: k["code"] for k in kids if k["code"]},
            ))
        out.sort(key=lambda e: (not e.matched_fully, -len(e.path)))
        return out[:5]
