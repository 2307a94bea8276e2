"""ICD-10-CM lookups, notes, 7th characters, index walks."""

import pytest

from chartcoder.codesystems import EmptyQueryError, MalformedCodeError


def test_e11_excludes1(icd10cm) -> None:
    notes = [n for n in icd10cm.get("E11.9").notes if n.kind == "excludes1" and n.source == "E11"]
    texts = " | ".join(n.text for n in notes)
    assert "type 1 diabetes mellitus (E10.-)" in texts
    assert "gestational diabetes (O24.4-)" in texts
    assert "E10" in [c for n in notes for c in n.referenced_codes()]


def test_seventh_characters_of_s72_0(icd10cm) -> None:
    sevenths = icd10cm.seventh_characters("S72.001")
    assert sevenths["A"] == "initial encounter for closed fracture"
    assert sevenths["S"] == "sequela"
    assert icd10cm.is_valid("S72.001A")
    assert not icd10cm.is_valid("S72.001"), "needs its 7th character"
    assert not icd10cm.is_valid("S72.0"), "a subcategory is not billable"


def test_placeholder_x(icd10cm) -> None:
    assert icd10cm.is_valid("T39.011A")
    assert icd10cm.is_valid("S06.0X1A")


def test_s06_death_codes_only_initial_encounter(icd10cm) -> None:
    assert icd10cm.is_valid("S06.1X7A")
    assert not icd10cm.is_valid("S06.1X7D")


def test_forgiving_and_malformed_codes(icd10cm) -> None:
    assert icd10cm.normalize("e119") == "E11.9"
    for bad in ["E11.", "I10.x00x032", "hello", ""]:
        with pytest.raises(MalformedCodeError):
            icd10cm.normalize(bad)
    assert icd10cm.get("Z99.99") is None


def test_inclusion_terms_and_code_first(icd10cm) -> None:
    notes = icd10cm.get("I21.4").notes
    assert any(n.kind == "inclusion_term" for n in notes)
    assert any(n.kind == "code_first" for n in icd10cm.get("N18.3").notes) or any(
        n.kind == "code_first" for n in icd10cm.notes("N18")
    )


def test_index_walk_with_nonessential_modifiers(icd10cm) -> None:
    (entry, *_) = icd10cm.index_lookup("Infarction, myocardial, non-ST elevation")
    assert entry.code == "I21.4" and entry.matched_fully
    assert entry.path[0] == "Infarct, infarction"
    assert any("acute" in n for n in entry.nonessential)


def test_index_see_reference(icd10cm) -> None:
    (entry, *_) = icd10cm.index_lookup("Abdominalgia")
    assert entry.code is None and entry.see == "Pain, abdominal"


def test_drug_table_columns(icd10cm) -> None:
    (entry, *_) = icd10cm.index_lookup("Aspirin", source="drug")
    assert entry.cells["Adverse effect"] == "T39.015"
    assert entry.cells["Poisoning Accidental (unintentional)"] == "T39.011"


def test_neoplasm_table_by_site(icd10cm) -> None:
    (entry, *_) = icd10cm.index_lookup("Neoplasm, breast", source="neoplasm")
    assert entry.cells["Malignant Primary"].startswith("C50")


def test_search_ranks_the_right_code_first(icd10cm) -> None:
    assert icd10cm.search("acute nstemi", 3)[0].code == "I21.4"
    assert icd10cm.search("fracture of neck of right femur", 10)[0].code.startswith("S72.0")
    with pytest.raises(EmptyQueryError):
        icd10cm.search("   ")


def test_essential_words_inside_a_modifier_element_stay_essential(icd10cm) -> None:
    # the CMS file writes "Normocytic anemia <nemod>(infectional) due to blood loss (chronic)</nemod>"
    entry = icd10cm.index_lookup("Normocytic anemia due to blood loss")[0]
    assert entry.matched_fully and entry.code == "D50.0"
    assert entry.nonessential == ["(infectional) (chronic)"]
    plain = icd10cm.index_lookup("Anemia, normocytic")[0]
    assert plain.code == "D64.9"


def test_index_errata_restore_a_title_the_xml_lost(icd10cm) -> None:
    # <title>Cancer<nemod>(o)</nemod></title> F45.29 is "Cancer(o)phobia"; "cancer" is not a phobia
    assert icd10cm.index_lookup("Cancerophobia")[0].code == "F45.29"
    assert all(e.code != "F45.29" for e in icd10cm.index_lookup("Cancer"))


def test_a_note_the_xml_writes_as_a_term_is_no_term(icd10cm) -> None:
    # "Failure, heart" holds a <term> titled "Note: heart failure stages A, B, C, and D ..." that the CMS file
    # nests stage A-D, systolic, thyrotoxic and valvular under: they are subterms of "heart"
    assert icd10cm.index_lookup("Failure, heart, systolic")[0].code == "I50.20"
    assert icd10cm.index_lookup("Failure, heart, stage D")[0].code == "I50.84"
    assert not icd10cm.conn.execute("SELECT 1 FROM index_terms WHERE title LIKE 'Note:%'").fetchall()


def test_parenthesized_groups_keep_their_nesting() -> None:
    from chartcoder.codesystems.icd10cm import _parenthesized

    assert _parenthesized("(acute) (chronic)") == (["(acute)", "(chronic)"], "")
    assert _parenthesized("(on) chronic (congestive)") == (["(on)", "(congestive)"], "chronic")
    assert _parenthesized("(with (alone)) x") == (["(with (alone))"], "x")
    assert _parenthesized("(unbalanced") == (["(unbalanced"], "")
