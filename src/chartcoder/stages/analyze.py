"""Analyze: sections, sentences, clinical mentions with offsets, and their context (medspaCy ConText)."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import cache
from typing import ClassVar

from chartcoder.codesystems import CodeSystem
from chartcoder.llm.agents import options_for
from chartcoder.pipeline import CaseState
from chartcoder.rules import load_rules
from chartcoder.stages.en_text import Token, note_tokens, phrase_stems, stem
from chartcoder.stages.lexicon import (
    BODY_PART_SIDES,
    Lexicon,
    Match,
    conjoined_items,
    drop_borrowed,
    generic_only,
    lexicon,
    list_segments,
    marked_on_another_word,
)
from chartcoder.types import Assertion, Mention, Section, Span

_HEADING = re.compile(r"^[ \t]*([A-Za-z][A-Za-z /&()-]{1,60}?)[ \t]*:[ \t]*", re.M)
_CAPS_HEADING = re.compile(r"^[ \t]*([A-Z][A-Z /&-]{3,60})[ \t]*$", re.M)
# "Serologies for hepatitis B, hepatitis C and HIV were negative": the whole list was tested and found
# negative, though ConText's backward scope stops at the "and" of the list. The list is bounded (200
# characters) so that a huge note without sentence ends is scanned in linear time.
NEGATIVE_RESULTS = re.compile(
    r"\b(?:serolog\w*|tests?|cultures?|pcr|antibod(?:y|ies)|antigens?|markers?|screening|determinations?)\s+"
    r"(?:for|of|against|to)\b(?:(?!\bpositiv)[^.;:\n]){0,200}?\b(?:(?:was|were|is|are|resulted|proved|came back)\s+)?"
    r"(?:all\s+|also\s+)?(?<![-\w])negative\b", re.I)
NEGATIVE_SUFFIX = re.compile(r"\w-(?:negative|free)\b", re.I)


def _spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """Whether two (start, end) token spans share a token, in either order of containment."""
    return a[0] < b[1] and b[0] < a[1]


@cache
def _context_nlp():  # noqa: ANN202 - spaCy objects
    """A blank English pipeline with medspaCy's ConText over a span group (no model download).

    medspaCy 1.3's span overlap test misses a span that contains the other on both sides, so once the
    farthest terminator has cut a backward scope, a nearer one no longer overlaps it and is ignored: in
    "bronchiolitis, and discharged with antibiotic prophylaxis", "and" did not stop "prophylaxis" from
    negating the bronchiolitis. Its modifiers use a symmetric test instead."""
    import logging

    import medspacy.context  # noqa: F401 - registers the medspacy_context factory
    import medspacy.context.context_modifier
    import spacy
    from loguru import logger

    medspacy.context.context_modifier.tuple_overlaps = _spans_overlap

    logger.disable("PyRuSH")
    logging.getLogger("medspacy").setLevel(logging.ERROR)
    nlp = spacy.blank("en")
    nlp.max_length = 10_000_000  # only the tokenizer runs (no parser or NER); the coder caps a note's size itself
    ctx = nlp.add_pipe("medspacy_context", config={"input_span_type": "group", "span_group_name": "mentions",
                                                   "rules": None})
    from medspacy.context import ConTextRule

    ours = [ConTextRule(r["literal"], r["category"], direction=r["direction"], pattern=r.get("pattern"),
                        max_scope=r.get("max_scope")) for r in load_rules("en", "context_extra")["rules"]]
    ctx.add(_as_phrases(ConTextRule.from_json(ctx.DEFAULT_RULES_FILEPATH), nlp, ours))
    return nlp, ctx


def _phrase_forms(pattern: list[dict]) -> list[list[str]] | None:
    """Every token sequence a token pattern of lower-case words, word lists and optional tokens matches;
    None for a pattern that needs spaCy's Matcher (another attribute or operator)."""
    forms: list[list[str]] = [[]]
    for token in pattern:
        if set(token) - {"LOWER", "OP"} or token.get("OP") not in (None, "?"):
            return None
        value = token["LOWER"]
        if isinstance(value, dict):
            if set(value) != {"IN"}:
                return None
            words = [w for w in value["IN"] if " " not in w]  # a token never holds a space: never matched
        else:
            words = [value]
        options: list[list[str]] = [[w] for w in words] + ([[]] if token.get("OP") == "?" else [])
        forms = [f + o for f in forms for o in options]
    return [f for f in forms if f]


def _as_phrases(rules: list, nlp, ours: list | None = None) -> list:  # noqa: ANN001 - medspaCy rules, spaCy Language
    """ConText rules with each word-list token pattern spelled out as the phrases it matches. The Matcher
    tries every pattern at every token, and it was a quarter of the coder's time; the PhraseMatcher looks
    phrases up by hash. A pattern whose phrases the tokenizer would split differently stays a pattern.
    One phrase is read by one rule: of one source, a pattern's rule over a literal's (as medspaCy keeps the
    first of two matches of a span, and its Matcher reports first); ``ours`` over medspaCy's."""
    from medspacy.context import ConTextRule

    patterns: list = []
    phrases: dict = {}
    for source in (rules, ours or []):
        phrases.update({rule.literal.lower(): rule for rule in source if rule.pattern is None})
        for rule in source:
            if rule.pattern is None:
                continue
            forms = _phrase_forms(rule.pattern) if isinstance(rule.pattern, list) else None
            if forms is None or any([t.text for t in nlp.make_doc(" ".join(f))] != f for f in forms):
                patterns.append(rule)
                continue
            for f in forms:
                phrases[" ".join(f)] = ConTextRule(
                    " ".join(f), rule.category, direction=rule.direction, on_match=rule.on_match,
                    on_modifies=rule.on_modifies, allowed_types=rule.allowed_types, excluded_types=rule.excluded_types,
                    max_scope=rule.max_scope, max_targets=rule.max_targets, terminated_by=rule.terminated_by,
                    metadata=rule.metadata)
    return patterns + list(phrases.values())


def find_sections(text: str, heads: list[tuple[int, int, str]] | None = None) -> list[Section]:
    """Headings ("DISCHARGE DIAGNOSES:", "Family history:") split the note into typed sections."""
    kinds = load_rules("en", "sections")
    heads = headings(text) if heads is None else heads
    sections = []
    if not heads or heads[0][0] > 0:
        sections.append(Section(name="", kind="other", start=0, end=heads[0][0] if heads else len(text)))
    for i, (start, head_end, name) in enumerate(heads):
        end = heads[i + 1][0] if i + 1 < len(heads) else len(text)
        line_end = _inline_section_end(text, head_end, end)
        sections.append(Section(name=name, kind=kinds.get(name, "other"), start=start, end=line_end))
        if line_end < end:
            sections.append(Section(name="", kind="other", start=line_end, end=end))
    return sections


_CONTINUES = re.compile(r"[ \t]+\S|\s*(?:\d+[.)]|[-*•])\s")


def _inline_section_end(text: str, head_end: int, end: int) -> int:
    """Where a heading's section ends: a heading with its content on the same line ("Family history:
    deceased uncle with ALS.") covers that paragraph only, unless the next line continues it as a list
    item or an indented line; a heading on a line of its own runs to the next heading."""
    line_end = text.find("\n", head_end, end)
    if line_end < 0 or not text[head_end:line_end].strip():
        return end
    rest = text[line_end + 1 : end]
    return end if not rest.strip() or _CONTINUES.match(rest) else line_end


def headings(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of each section heading; its words name a section, not a condition
    ("HISTORY OF PRESENT ILLNESS" is not R69)."""
    kinds = load_rules("en", "sections")
    heads: list[tuple[int, int, str]] = []
    for m in _HEADING.finditer(text):
        name = " ".join(m.group(1).lower().split())
        if name in kinds or m.group(1).isupper():
            heads.append((m.start(), m.end(), name))
    for m in _CAPS_HEADING.finditer(text):
        name = " ".join(m.group(1).lower().split())
        if name in kinds and not any(h[0] == m.start() for h in heads):
            heads.append((m.start(), m.end(), name))
    heads.sort()
    return heads


def sentence_span(state: CaseState, sentence: int) -> tuple[int, int]:
    """Character range of a mention's sentence (``Mention.sentence`` numbers the sentences with tokens)."""
    tokens = state.scratch["tokens"]
    first, end = state.scratch["sentence_tokens"][sentence]
    return tokens[first].start, tokens[end - 1].end


def near_tokens(state: CaseState, span: Span, before: int, after: int = 0) -> list[Token]:
    """The tokens of a span and the few just before (and after) it, within its sentence."""
    tokens = state.scratch["tokens"]
    if "token_ends" not in state.scratch:  # tokens are in text order: find the span's by bisection
        state.scratch["token_ends"] = [t.end for t in tokens]
    inside = []
    for i in range(bisect_right(state.scratch["token_ends"], span.start), len(tokens)):
        if tokens[i].start >= span.end:
            break
        inside.append(i)
    if not inside:
        return []
    sentences = state.scratch["sentence_tokens"]
    if "sentence_starts" not in state.scratch:
        state.scratch["sentence_starts"] = [a for a, _ in sentences]
    at = bisect_right(state.scratch["sentence_starts"], inside[0]) - 1  # sentences are in order, apart
    within = at >= 0 and inside[0] < sentences[at][1]
    lo, hi = (sentences[at][0], sentences[at][1]) if within else (inside[0], inside[-1] + 1)
    first, last = max(lo, inside[0] - before), min(max(hi, inside[-1] + 1), inside[-1] + 1 + after)
    return tokens[first:last]


def near_stems(state: CaseState, span: Span, before: int, after: int = 0) -> set[str]:
    """Stems of the words of a span and of the few words just before (and after) it, within its sentence:
    a modifier that belongs to the mention ('former smoker'), not to a neighbour ('former drinker')."""
    return {s for t in near_tokens(state, span, before, after) for s in t.stems}


PROCEDURE_REACH = 3  # content words either side (stop words are no tokens); train CV: 2-8 all beat the sentence


def operation_tokens(state: CaseState, evidence: list[Span]) -> list[Token]:
    """The words said with an operation (PROCEDURE_REACH words either side of its evidence): its approach,
    side and device, not those of another operation a long sentence also lists."""
    whole = Span(start=min(e.start for e in evidence), end=max(e.end for e in evidence), text="")
    return near_tokens(state, whole, PROCEDURE_REACH, PROCEDURE_REACH)


def operation_stems(state: CaseState, evidence: list[Span]) -> set[str]:
    """The stems of an operation's words (``operation_tokens``); empty when the evidence holds no word."""
    return {s for t in operation_tokens(state, evidence) for s in t.stems}


def sentence_bounds(text: str) -> list[tuple[int, int]]:
    """Character ranges of sentences; list items and headings end a sentence at the line break."""
    bounds: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(r"(?<=[.!?;])\s+(?=[A-Z0-9\[(\"'])|\n\s*\n|\n(?=\s*(?:\d+[.)]|[-*•]|[A-Z][A-Za-z ]{1,40}:|[A-Z]))|(?<=:)\n", text):
        if m.start() > start:
            bounds.append((start, m.start()))
        start = m.end()
    if start < len(text):
        bounds.append((start, len(text)))
    return [piece for s, e in bounds if text[s:e].strip() for piece in _bounded(text, s, e)]


MAX_SENTENCE = 1000  # characters: a longer run without a sentence end is cut at spaces


def _bounded(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """A sentence, or pieces of at most MAX_SENTENCE characters cut at a space: a run of text without
    any sentence end (a table, a pasted log) would otherwise make context scopes grow with the note."""
    pieces = []
    while end - start > MAX_SENTENCE:
        cut = text.rfind(" ", start + 1, start + MAX_SENTENCE)
        cut = cut if cut > start else start + MAX_SENTENCE
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return [(s, e) for s, e in pieces if text[s:e].strip()]


PROCEDURE_WORD = re.compile(r"(?:ectom|otom|ostom|oscop|plast|graph|pex|rrhaph|centes)(?:y|ies)$")


INNER_NEGATION = re.compile(r"\b(?:without|no|not)\b", re.I)


def _across_a_negation(text: str, tokens: list[Token], m: Match, lex: Lexicon) -> bool:
    """A reading whose words lie on both sides of a negation its own title does not say: "appendicitis without
    perforation" is no reading of "Appendicitis, with perforation" (the stop word 'with' is not matched), and
    such a reading would join the appendicitis to the negated perforation."""
    found = INNER_NEGATION.search(text, tokens[min(m.positions)].end, tokens[max(m.positions)].start)
    return found is not None and not _title_says(lex.terms[m.term].path, found.group(0))


CAUSAL_LINK = re.compile(r"\b(?:due to|secondary to|caused by|because of|from)\b", re.I)
ACUITY = frozenset(phrase_stems("acute chronic subacute"))


def _acuity_across_a_cause(text: str, tokens: list[Token], m: Match) -> bool:
    """A reading that takes only its acuity from the other side of a causal link: in "acute upper GI
    bleeding due to a duodenal ulcer" the bleeding is acute, not the ulcer (K26.4, not K26.0)."""
    found = CAUSAL_LINK.search(text, tokens[min(m.positions)].end, tokens[max(m.positions)].start)
    if found is None:
        return False
    before = [p for p in m.positions if tokens[p].end <= found.start()]
    after = [p for p in m.positions if tokens[p].start >= found.end()]
    return any(side and all(set(tokens[p].stems) <= ACUITY for p in side) for side in (before, after))


HEAD_WITH = re.compile(r"\s+with\s+(?:\w+\s+)?", re.I)


def _attached_with(text: str, tokens: list[Token], head: int, nxt: int) -> bool:
    """Whether the words between two tokens attach the second to the first by 'with' ("gallbladder with
    multiple stones")."""
    return HEAD_WITH.fullmatch(text, tokens[head].end, tokens[nxt].start) is not None


def _title_says(path: str, word: str) -> bool:
    """Whether a term's index path or title has this word of the note as a word of its own."""
    return word.lower() in path.lower().split()


def _procedure_word_only(m: Match, tokens: list[Token], lex: Lexicon) -> bool:
    """A diagnosis read only from what a procedure word stands for ('lymphadenectomy' -> lymph node):
    the operation names its site, not a condition of it."""
    words = [tokens[p] for p in m.positions]
    own = {stem(t.word) for t in words}
    return all(PROCEDURE_WORD.search(t.word) for t in words) and not own & set(lex.terms[m.term].stems)


@cache
def _operated_site_words() -> frozenset[str]:
    return frozenset(load_rules("en", "operated_site_words")["words"])


def _learned_site_operated_on(m: Match, tokens: list[Token], lex: Lexicon) -> bool:
    """A learned diagnosis phrase right beside a word that says its site was operated on or sampled names
    that site, not a condition of it: "lymph node" stands for adenopathy in the training notes, not in
    "lymph node biopsy" or "the 30 lymph nodes resected" (rules/en/operated_site_words.json)."""
    if lex.terms[m.term].source != "learned":
        return False
    words = _operated_site_words()
    lo, hi = min(m.positions), max(m.positions)
    beside = [tokens[p].word for p in (lo - 1, hi + 1, hi + 2) if 0 <= p < len(tokens)]
    return any(w in words or PROCEDURE_WORD.search(w) for w in beside)


SITE_REACH = 3  # words either side of a learned word where the site it describes is looked for


def _drop_learned_of_another_site(matches: list[Match], tokens: list[Token], lex: Lexicon) -> list[Match]:
    """A word learned alone for one site's condition, said of another site the index pairs it with, reads
    that site's entry or nothing: 'stone' stands for a kidney stone in the training notes, not in "gallbladder
    with multiple stones", nor is 'distended' an abdominal distension in "Distended, gangrenous gallbladder"
    (Distension, gallbladder, K82.8). When a reading already joins the two words, the readings compete in
    Locate as usual."""
    joined = [frozenset(m.positions) for m in matches if len(m.positions) > 1]
    kept = []
    for m in matches:
        term = lex.terms[m.term]
        if term.source == "learned" and len(set(term.stems)) == 1 and _another_site_near(m, tokens, lex, joined):
            continue
        kept.append(m)
    return kept


def _another_site_near(m: Match, tokens: list[Token], lex: Lexicon, joined: list[frozenset[int]]) -> bool:
    p = m.positions[0]
    code = lex.terms[m.term].code
    for q in range(max(0, p - SITE_REACH), min(len(tokens), p + SITE_REACH + 1)):
        if q == p or any(p in j and q in j for j in joined):
            continue
        for a in tokens[p].stems:
            for b in tokens[q].stems:
                if a != b and any(c[:3] != code[:3] for c in lex.paired_codes(a, b)):
                    return True
    return False


def _learned_word_qualifies_an_operation(m: Match, tokens: list[Token], lex: Lexicon) -> bool:
    """A procedure learned as one word, right before an operation word, says how that operation was done,
    not a procedure of its own: 'block' stands for a nerve block in the training notes, not in "block
    resection" (en bloc)."""
    term = lex.terms[m.term]
    if term.source != "learned" or len(term.stems) > 1:
        return False
    after = max(m.positions) + 1
    return after < len(tokens) and (tokens[after].word in _operated_site_words()
                                    or bool(_CUTTING_WORD.search(tokens[after].word)))


_CUTTING_WORD = re.compile(r"(?:ectom|otom|ostom)(?:y|ies)$")  # not an imaging word: "toco-abdominal tomography"


def _drop_qualified_generic(matches: list[Match], lex: Lexicon) -> list[Match]:
    """A generic word read alone ('disease' as Illness, R69) right after a word read as a condition of its
    own is that condition's noun: "atherosclerotic disease" is the atherosclerosis, not also an unqualified
    disease."""
    generic = [generic_only(lex.terms[m.term]) for m in matches]
    if not any(generic):
        return matches
    read = {p for m, g in zip(matches, generic, strict=True) if not g for p in m.positions}
    return [m for m, g in zip(matches, generic, strict=True) if not (g and min(m.positions) - 1 in read)]


CONTEXT_BLOCK = 5000  # characters of whole sentences per ConText document


def _context_spans(text: str, sentences: list[tuple[int, int]], mentions: list[tuple[int, int]]) -> list:
    """ConText over each mention (character spans, in text order), as spaCy spans carrying their
    modifiers, or None where a span does not fall on tokens. Scopes never cross a sentence, so the note is
    read in blocks of whole sentences: ConText's cost grows with the square of a document's mentions,
    and a long note read as one document would take minutes."""
    nlp, ctx = _context_nlp()
    out: list = [None] * len(mentions)
    order = sorted(range(len(mentions)), key=lambda i: mentions[i][0])
    starts = [0]  # each block starts at a sentence start; the first at the note's start
    for s, e in sentences:
        if e - starts[-1] > CONTEXT_BLOCK and s > starts[-1]:
            starts.append(s)
    sentence_starts = [s for s, _ in sentences]
    k = 0
    for bi, b0 in enumerate(starts):
        end = starts[bi + 1] if bi + 1 < len(starts) else len(text)
        inside = []
        while k < len(order) and mentions[order[k]][0] < end:
            inside.append(order[k])
            k += 1
        if not inside:
            continue
        stop = max(end, max(mentions[i][1] for i in inside))
        doc = nlp.make_doc(text[b0:stop])
        for tok in doc:
            tok.is_sent_start = False
        if len(doc):
            doc[0].is_sent_start = True
        for s in sentence_starts[bisect_left(sentence_starts, b0) : bisect_left(sentence_starts, stop)]:
            span = doc.char_span(s - b0, s - b0 + 1, alignment_mode="expand")
            if span is not None and len(span):
                doc[span.start].is_sent_start = True
        spans, which = [], []
        for i in inside:
            span = doc.char_span(mentions[i][0] - b0, mentions[i][1] - b0, alignment_mode="expand")
            if span is not None:
                spans.append(span)
                which.append(i)
        doc.spans["mentions"] = spans
        ctx(doc)
        for i, span in zip(which, doc.spans["mentions"], strict=True):
            out[i] = span
    return out


class Analyze:
    """Find sections, sentences and mentions (diagnoses and procedures) with their context."""

    name: ClassVar[str] = "analyze"
    requires: ClassVar[tuple[str, ...]] = ("text",)
    assigns: ClassVar[tuple[str, ...]] = ("sections", "sentences", "mentions", "tokens", "matches")

    def __init__(self, diagnoses: CodeSystem, procedures: CodeSystem | None) -> None:
        self.systems = [("diagnosis", diagnoses)] + ([("procedure", procedures)] if procedures else [])

    def __call__(self, state: CaseState) -> CaseState:
        text = state.text
        heads = headings(text)
        state.sections = find_sections(text, heads)
        tokens = note_tokens(text)
        sent_chars = sentence_bounds(text)
        sent_tokens: list[tuple[int, int]] = []
        ti = 0
        for s, e in sent_chars:
            while ti < len(tokens) and tokens[ti].start < s:
                ti += 1
            first = ti
            while ti < len(tokens) and tokens[ti].end <= e:
                ti += 1
            if ti > first:
                sent_tokens.append((first, ti))
        state.sentences = sent_chars
        state.scratch["tokens"] = tokens
        state.scratch["sentence_tokens"] = sent_tokens
        matches: dict[str, list[Match]] = {}
        lexicons: dict[str, Lexicon] = {}
        segments = list_segments(text, tokens)
        conjoined = conjoined_items(text, tokens, segments)
        kinds = load_rules("en", "sections")
        spans = [(a, b) for a, b, name in heads if name in kinds]  # "ECG:" names a finding, keep it
        in_heading = {i for i, t in enumerate(tokens) for a, b in spans if a <= t.start < b}
        sides = frozenset(i for i, t in enumerate(tokens) if set(t.stems) <= BODY_PART_SIDES)
        for kind, cs in self.systems:
            lex = lexicons[kind] = lexicon(cs)
            found = drop_borrowed(lex.match(tokens, sent_tokens, segments=segments, coordination=kind == "procedure",
                                            conjoined=conjoined),
                                  segments if kind == "procedure" else None,
                                  None if kind == "procedure" else lambda a, b: _attached_with(text, tokens, a, b),
                                  sides)
            matches[kind] = [m for m in found if not in_heading.intersection(m.positions)
                             and not (kind == "diagnosis" and (_procedure_word_only(m, tokens, lex)
                                                               or _learned_site_operated_on(m, tokens, lex)))
                             and not (kind == "procedure" and _learned_word_qualifies_an_operation(m, tokens, lex))
                             and not _across_a_negation(text, tokens, m, lex)
                             and not marked_on_another_word(m, lex.terms[m.term])
                             and not (kind == "diagnosis" and _acuity_across_a_cause(text, tokens, m))]
        matches["diagnosis"] = _drop_learned_of_another_site(
            _drop_qualified_generic(matches["diagnosis"], lexicons["diagnosis"]), tokens, lexicons["diagnosis"])
        state.scratch["matches"] = matches
        state.mentions = self._mentions(state, tokens, sent_tokens, matches, lexicons)
        return state

    @staticmethod
    def _second_reading(state: CaseState, sentence: int, mention: str, current: Assertion) -> Assertion:
        """ConText qualified the mention: the assertion agent (model, else rules) reads the sentence again."""
        a, b = sentence_span(state, sentence)
        flags = [f for f, on in current.model_dump().items() if on]
        statuses = list(dict.fromkeys(flags + ["affirmed", "negated", "uncertain", "historical", "family", "hypothetical"]))
        options = options_for([(status, status) for status in statuses])
        decision = state.agents.decide("analyze", "assertion", state.llm_log, sentence=state.text[a:b], mention=mention,
                                       options=options)
        if decision.mode != "llm":
            return current
        status = next(o.code for o in options if o.key in decision.keys)
        return Assertion(**({status: True} if status != "affirmed" else {}))

    @staticmethod
    def _negation_is_the_terms_own(span, lex: Lexicon, members: list[tuple[str, int]],  # noqa: ANN001
                                   matches: dict[str, list[Match]]) -> bool:
        """Whether every negation of a mention is a word inside it that its terms say ("esophageal varices
        without bleeding" reads "Varix, esophagus, without bleeding": the varices are there). Readings that
        cross a negation their title does not say were dropped (``_across_a_negation``)."""
        negations = [m for m in span._.modifiers if m.category == "NEGATED_EXISTENCE"]
        if not negations or any(not (span.start <= m.modifier_span[0] and m.modifier_span[1] <= span.end)
                                for m in negations):
            return False
        paths = [lex.terms[matches[k][idx].term].path for k, idx in members]
        return all(any(_title_says(p, span.doc[m.modifier_span[0]:m.modifier_span[1]].text) for p in paths)
                   for m in negations)

    def _mentions(self, state: CaseState, tokens, sent_tokens, matches,  # noqa: ANN001
                  lexicons: dict[str, Lexicon]) -> list[Mention]:
        text = state.text
        sent_of = {}
        for si, (a, b) in enumerate(sent_tokens):
            for i in range(a, b):
                sent_of[i] = si
        groups: list[tuple[str, int, int, list[tuple[str, int]]]] = []  # kind, first tok, last tok, members
        for kind, ms in matches.items():
            spans = sorted(((min(m.positions), max(m.positions), idx) for idx, m in enumerate(ms)))
            for lo, hi, idx in spans:
                if groups and groups[-1][0] == kind and lo <= groups[-1][2] and sent_of[lo] == sent_of[groups[-1][1]]:
                    k, glo, ghi, members = groups[-1]
                    groups[-1] = (k, glo, max(ghi, hi), members + [(kind, idx)])
                else:
                    groups.append((kind, lo, hi, [(kind, idx)]))
        negative_results = [m.span() for m in NEGATIVE_RESULTS.finditer(text)]
        context = _context_spans(text, state.sentences,
                                 [(tokens[lo].start, tokens[hi].end) for _, lo, hi, _ in groups])
        keep = [gi for gi, span in enumerate(context) if span is not None]
        mentions = []
        member_of: dict[tuple[str, int], int] = {}
        for mid, gi in enumerate(keep):
            span = context[gi]
            kind, lo, hi, members = groups[gi]
            start, end = tokens[lo].start, tokens[hi].end
            assertion = Assertion(negated=span._.is_negated, uncertain=span._.is_uncertain,
                                  historical=span._.is_historical, family=span._.is_family,
                                  hypothetical=span._.is_hypothetical)
            if kind == "procedure":
                # a procedure is negated by a word before it ("no CT was done") or by saying it was not done;
                # a negation after it negates its findings ("Chest X-ray: no pathological findings" was taken)
                assertion.negated = any(mod.category == "NOT_DONE" or (mod.category == "NEGATED_EXISTENCE"
                                                                       and mod.modifier_span[0] < span.start)
                                        for mod in span._.modifiers)
            elif assertion.negated and self._negation_is_the_terms_own(span, lexicons[kind], members, matches):
                assertion.negated = False
            if NEGATIVE_SUFFIX.search(text, start, end):  # "HIV-negative": the negation is inside the word
                assertion.negated = True
            if kind == "diagnosis" and any(a <= start and end <= b for a, b in negative_results):
                assertion.negated = True
            section = next((s for s in state.sections if s.start <= start < s.end), None)
            if section is not None and section.kind == "family_history":
                assertion.family = True
            if section is not None and section.kind == "past_history":
                assertion.historical = True
            elif kind == "procedure" and section is not None and section.kind == "procedures":
                assertion.historical = False  # the stay's procedure list, whatever words a line holds
            if state.agents.uses_model and any(assertion.model_dump().values()):
                assertion = self._second_reading(state, sent_of[lo], text[start:end], assertion)
            mentions.append(Mention(id=mid, text=text[start:end], span=Span(start=start, end=end, text=text[start:end]),
                                    section=section.kind if section else "other", sentence=sent_of[lo],
                                    type=kind, assertion=assertion))
            for m in members:
                member_of[m] = mid
        state.scratch["member_of"] = member_of
        return mentions
