"""ICD-10-CM: the FY2026 Tabular List (from ``simple-icd-10-cm``'s data XML) and the FY2025
Alphabetic Index, External Cause Index, Table of Drugs and Chemicals and Neoplasm Table.

The Tabular List gives codes, hierarchy and every instructional note; codes that need a 7th
character are expanded (with placeholder X) so the store holds every billable code.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

from lxml import etree

from chartcoder.codesystems.base import CodeSystem, IndexEntry, MalformedCodeError, index_key
from chartcoder.codesystems.store import StoreWriter, data_path

INDEX_FILES = {
    "index": "icd10cm_index_2025.xml.gz",
    "eindex": "icd10cm_eindex_2025.xml.gz",
    "drug": "icd10cm_drug_2025.xml.gz",
    "neoplasm": "icd10cm_neoplasm_2025.xml.gz",
}
NOTE_TAGS = {
    "includes": "includes",
    "inclusionTerm": "inclusion_term",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "code_first",
    "useAdditionalCode": "use_additional_code",
    "codeAlso": "code_also",
    "notes": "notes",
    "sevenChrNote": "seven_chr_note",
}
NOT_APPLY_RE = re.compile(
    r"7th characters? ((?:[A-Z](?:,| and| or)? ?)+) do(?:es)? not apply to codes in category (\w+) with 6th character "
    r"(\w)(?:.*? or (\w) -)?"
)
CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")


def tabular_xml_path() -> Path:
    """The Tabular List XML inside the pinned ``simple-icd-10-cm`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("simple_icd_10_cm")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the package simple-icd-10-cm==1.5.0 is required for the ICD-10-CM Tabular List")
    folder = Path(next(iter(spec.submodule_search_locations))) / "data"
    found = sorted(folder.glob("icd10c-tabular-*.xml"))
    if not found:
        raise FileNotFoundError(f"no icd10c-tabular-*.xml in {folder}")
    return found[-1]


def data_files() -> list[Path]:
    """Every input of the ICD-10-CM build."""
    return [tabular_xml_path()] + [data_path(n) for n in INDEX_FILES.values()]


def dotted(code: str) -> str:
    """E119 -> E11.9 (ICD-10-CM puts the dot after the category)."""
    code = code.replace(".", "")
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _text(el: etree._Element | None) -> str:
    return " ".join("".join(el.itertext()).split()) if el is not None else ""


def _build_tabular(w: StoreWriter, xml: Path) -> dict[str, int]:
    root = etree.parse(str(xml)).getroot()
    counts = {"chapters": 0, "blocks": 0, "categories": 0, "billable": 0}

    def add_notes(code: str, el: etree._Element) -> None:
        ord_ = 0
        for child in el:
            kind = NOTE_TAGS.get(child.tag)
            if kind is None:
                continue
            for note in child.findall("note"):
                text = _text(note)
                w.note(code, kind, text, ord_)
                ord_ += 1
                if kind == "inclusion_term":
                    w.search_text(code, "inclusion", text)
        seven = el.find("sevenChrDef")
        if seven is not None:
            defs = {e.get("char"): _text(e) for e in seven.findall("extension")}
            w.note(code, "seven_chr_def", json.dumps(defs), ord_)

    exclusions: set[tuple[str, str, str]] = set()  # (category, 6th char, 7th char) the notes rule out
    for note in root.iter("note"):
        m = NOT_APPLY_RE.search(_text(note))
        if m:
            sevenths = re.findall(r"[A-Z]", m.group(1))
            for sixth in filter(None, (m.group(3), m.group(4))):
                exclusions.update((m.group(2), sixth, s) for s in sevenths)

    def walk_diag(el: etree._Element, parent: str, seven: dict[str, str] | None, depth: int) -> None:
        code = el.findtext("name").strip()
        title = _text(el.find("desc"))
        sdef = el.find("sevenChrDef")
        if sdef is not None:
            seven = {e.get("char"): _text(e) for e in sdef.findall("extension")}
        kids = el.findall("diag")
        billable = not kids and not seven
        kind = "category" if depth == 0 else "subcategory" if kids or seven else "code"
        if depth == 0:
            counts["categories"] += 1
        w.code(code, title, kind, parent, billable, searchable=True)
        add_notes(code, el)
        if billable:
            counts["billable"] += 1
        for k in kids:
            walk_diag(k, code, seven, depth + 1)
        if not kids and seven:
            base = code.replace(".", "").ljust(6, "X")
            for char, meaning in seven.items():
                if (base[:3], base[5], char) in exclusions:
                    continue
                full = dotted(base + char)
                w.code(full, f"{title}, {meaning}", "code", code, True, extra={"seventh": char, "seventh_meaning": meaning},
                       searchable=False)
                counts["billable"] += 1

    for chapter in root.iter("chapter"):
        desc = _text(chapter.find("desc"))
        m = re.search(r"\(([A-Z]\d\d-[A-Z]\d\d)\)\s*$", desc)
        ch_code = m.group(1) if m else f"chapter-{chapter.findtext('name')}"
        w.code(ch_code, re.sub(r"\s*\([A-Z]\d\d-[A-Z]\d\d\)\s*$", "", desc), "chapter", None, False,
               norm=ch_code, extra={"chapter": chapter.findtext("name")}, searchable=False)
        add_notes(ch_code, chapter)
        counts["chapters"] += 1
        for section in chapter.findall("section"):
            sid = section.get("id")
            sec_code = sid if "-" in sid and sid != ch_code else f"{sid}-{sid.split('-')[-1]}:block"
            w.code(sec_code, _text(section.find("desc")), "block", ch_code, False, norm=sec_code, searchable=False)
            add_notes(sec_code, section)
            counts["blocks"] += 1
            for diag in section.findall("diag"):
                walk_diag(diag, sec_code, None, 0)
    return counts


def _parenthesized(text: str) -> tuple[list[str], str]:
    """The top-level parenthesized groups of a modifier text (nesting kept whole) and the words
    outside them; a text with no parenthesis is all modifier."""
    if "(" not in text:
        return [text], ""
    groups, outside, depth, start = [], [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")" and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start:i + 1])
        elif depth == 0:
            outside.append(ch)
    if depth:  # unbalanced: keep the whole text as a modifier, as the file gave it
        return [text], ""
    return groups, " ".join("".join(outside).split())


# Titles the CMS XML lost part of: "Cancer(o)phobia F45.29" is written <title>Cancer<nemod>(o)</nemod></title>,
# which would read every "cancer" as a phobia; "Middle lobe (right) syndrome J98.19" lost its "syndrome", which
# would read every "right middle lobe" of an imaging report as the syndrome.
INDEX_ERRATA = {"Cancer(o)": "Cancerophobia", "lobe(right)": "lobe syndrome"}
# Subterms the CMS XML nests one level too high, by (main term, title): "testicular D40.10" closes the list
# under "Tumor, stromal" (it stands between "stromal" and "sweat gland", out of alphabetical order for a
# subterm of "Tumor"), so it is a testicular stromal tumor, not every testicular tumor (D49.59 by the
# Neoplasm Table). Read with the parent's word.
INDEX_PATH_ERRATA = {("Tumor", "testicular"): "stromal testicular"}


def _is_note(el: etree._Element) -> bool:
    """A subterm whose title is a note ("Note: heart failure stages A, B, C, and D are based on ..."): the CMS
    XML writes it as a term and nests the subterms that follow it (stage A-D, systolic, thyrotoxic) under it,
    so that 'systolic heart failure' had no path under "Failure, heart"."""
    return (el.findtext("title") or "").lstrip().startswith("Note:")


def _split_title(el: etree._Element) -> tuple[str, str | None]:
    """Title text and its nonessential modifiers ("(acute) (chronic)")."""
    t = el.find("title")
    if t is None:
        return "", None
    raw = "".join(t.itertext()).strip()
    if raw in INDEX_ERRATA:
        return INDEX_ERRATA[raw], None
    main = t.text or ""
    nemods = []
    for nm in t.findall("nemod"):
        # the CMS file sometimes wraps essential words between two modifiers in one <nemod>
        # ("(infectional) due to blood loss (chronic)"): only the parenthesized parts are nonessential
        inside, essential = _parenthesized(_text(nm))
        nemods += inside
        main += (f" {essential} " if essential else "") + (nm.tail or "")
    return " ".join(main.split()), " ".join(nemods) or None


def _build_index(w: StoreWriter, source: str, path: Path) -> int:
    with gzip.open(path) as f:
        root = etree.parse(f).getroot()
    heads = {h.get("col"): _text(h) for h in root.iter("head")}
    n = 0

    def walk(el: etree._Element, parent_id: int | None, level: int, trail: list[str]) -> tuple[int, list[str]]:
        nonlocal n
        title, nemod = _split_title(el)
        title = INDEX_PATH_ERRATA.get((trail[0], title), title) if len(trail) == 1 else title
        code = el.findtext("code")
        cells = {heads.get(c.get("col"), c.get("col")): (c.text or "").strip() for c in el.findall("cell")}
        cells = {k: v for k, v in cells.items() if v and v not in ("-", "--")}
        see = _text(el.find("see")) or None
        see_also = _text(el.find("seeAlso")) or None
        node = w.index_term(source, parent_id, level, title, index_key(title), nemod=nemod,
                            code=code.strip() if code else None, see=see, see_also=see_also, cells=cells or None)
        n += 1
        path_text = trail + [title]
        if code:
            w.search_text(code.strip(), f"index:{source}", ", ".join(path_text))
        walk_subterms(el, node, level, path_text)
        return node, path_text

    def walk_subterms(el: etree._Element, node: int, level: int, path_text: list[str]) -> None:
        previous: tuple[int, list[str]] | None = None
        for t in el.findall("term"):
            if _is_note(t):  # a note, not a term: what the CMS XML nests under it belongs to the term before it
                if previous is not None:
                    walk_subterms(t, previous[0], level + 1, previous[1])
                continue
            previous = walk(t, node, level + 1, path_text)

    for mt in root.iter("mainTerm"):
        walk(mt, None, 0, [])
    return n


def build_icd10cm(w: StoreWriter) -> dict[str, str]:
    """Compile the Tabular List and the four index books."""
    counts = _build_tabular(w, tabular_xml_path())
    w.flush()
    for source, name in INDEX_FILES.items():
        counts[f"index_{source}"] = _build_index(w, source, data_path(name))
        w.flush()
    return {k: str(v) for k, v in counts.items()}


class ICD10CM(CodeSystem):
    """ICD-10-CM diagnoses with Tabular notes and the Alphabetic Index."""

    id = "icd10cm"
    name = "ICD-10-CM (Tabular FY2026, Index FY2025)"
    lang = "en"
    has_index = True

    def normalize(self, code: str) -> str:
        """Accept E11.9, e11.9 or E119; reject anything that cannot be an ICD-10-CM code."""
        raw = code.strip().upper()
        if re.fullmatch(r"[A-Z]\d\d-[A-Z]\d\d", raw):
            return raw
        if not CODE_RE.match(raw) or raw.endswith(".") or raw.count(".") > 1:
            raise MalformedCodeError(
                f"{code!r} is not an ICD-10-CM code (expected a letter, two characters, then up to four more "
                "after a dot, e.g. E11.9 or S72.001A)"
            )
        return dotted(raw)

    def seventh_characters(self, code: str) -> dict[str, str]:
        """The 7th characters that apply to a code, inherited from its category."""
        for note in self.notes(code):
            if note.kind == "seven_chr_def":
                return json.loads(note.text)
        return {}

    def index_lookup(self, path: str, *, source: str = "index") -> list[IndexEntry]:
        """Walk main term -> subterms; a node without a code inherits the nearest one up the trail."""
        results = []
        for walk in self.walk_index(path, source=source):
            last = walk.nodes[-1]
            code = last["code"]
            cells = json.loads(last["cells"]) if last["cells"] else {}
            if not code and not cells:  # inherit the nearest code up the trail (as the book reads)
                code = next((n["code"] for n in reversed(walk.nodes) if n["code"]), None)
            results.append(IndexEntry(
                source=source, path=[n["title"] for n in walk.nodes],
                nonessential=[n["nemod"] for n in walk.nodes if n["nemod"]], code=code, see=last["see"],
                see_also=last["see_also"], use=None, cells=cells, subterms=[k["title"] for k in walk.children],
                matched_fully=not walk.rest, subterm_codes={k["title"]: k["code"] for k in walk.children if k["code"]},
            ))
        results.sort(key=lambda e: (not e.matched_fully, -len(e.path)))
        return results[:5]
