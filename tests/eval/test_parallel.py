"""Sentence alignment of an original note and its translation (used to place CodiEsp's Spanish gold spans
in the English notes when analysing errors)."""

from chartcoder.eval.parallel import align, sentences, translated_span

SPANISH = ("Varón de 37 años con fiebre de 40 C. Refiere dolor testicular derecho desde hace una semana, "
           "sin otros síntomas.\nEn la exploración se aprecia el teste derecho aumentado de tamaño. "
           "Se realizó ecografía escrotal.")
ENGLISH = ("A 37-year-old man with fever of 40 C.\nHe reports right testicular pain for a week, with no other "
           "symptoms.\nOn examination the right testis is enlarged.\nA scrotal ultrasound was performed.")


def test_sentences_split_at_sentence_ends_and_line_breaks() -> None:
    assert [SPANISH[s:e] for s, e in sentences(SPANISH)][-1] == "Se realizó ecografía escrotal."
    assert len(sentences(ENGLISH)) == 4


def test_each_spanish_sentence_goes_to_its_translation_in_order() -> None:
    beads = align(SPANISH, ENGLISH)
    pairs = [(SPANISH[b.original[0][0]:b.original[-1][1]], ENGLISH[slice(*b.translated_span())]) for b in beads]
    assert pairs[0] == ("Varón de 37 años con fiebre de 40 C.", "A 37-year-old man with fever of 40 C.")
    assert all("Refiere" not in es or "He reports" in en for es, en in pairs)
    assert all("escrotal" not in es or "scrotal ultrasound" in en for es, en in pairs)
    covered = [s for b in beads for s in b.translation]
    assert covered == sentences(ENGLISH), "every translated sentence is in one bead, in order"


def test_a_gold_span_on_the_original_lands_near_its_translation() -> None:
    beads = align(SPANISH, ENGLISH)
    start = SPANISH.index("ecografía escrotal")
    where = translated_span(beads, start, start + len("ecografía escrotal"))
    assert where is not None and "scrotal ultrasound" in ENGLISH[where[0]:where[1]]
    assert translated_span(beads, len(SPANISH) + 50, len(SPANISH) + 60) is None


def test_empty_texts_give_no_beads() -> None:
    assert align("", "") == []
    assert all(b.translated_span() is None for b in align("Una frase.", ""))
