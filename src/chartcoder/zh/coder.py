"""Chinese inpatient records: Standardization -> Candidate mining -> Prioritization -> Code also
-> Validation, then the shared audit. Deterministic path (the LLM issue adds models per stage).

Evidence offsets index ``CodingResult.text``: the record's fields joined as ``【字段】内容`` blocks.
"""

from __future__ import annotations

import re
import time
from functools import cache

import ahocorasick
import zhconv

from chartcoder.codesystems import CodeSystem, get_system
from chartcoder.codesystems.text import to_halfwidth
from chartcoder.llm.agents import Agents, CallRecord, options_for, summarize
from chartcoder.pipeline import InputError, stage_trace
from chartcoder.rules import load_rules
from chartcoder.types import (
    Assertion,
    Assignment,
    AuditVerdict,
    Case,
    CodingResult,
    LLMUsage,
    Mention,
    Rejected,
    Span,
    StageTrace,
)
from chartcoder.zh.normalize import MIN_SCORE, segment, split_terms, standard_names, standardize

FIELD_ORDER = ("主诉", "现病史", "既往史", "个人史", "婚姻史", "家族史", "入院情况", "入院诊断", "诊疗经过", "病程记录",
               "手术名称", "手术经过", "影像学意见", "超声提示", "超声印象", "出院情况", "出院诊断", "出院医嘱")
DIAGNOSIS_LISTS = ("出院诊断", "入院诊断")
FINDING_FIELDS = ("诊疗经过", "影像学意见", "超声提示", "超声印象", "病程记录", "出院情况", "入院情况", "现病史")
PROCEDURE_FIELDS = ("手术名称", "手术经过", "诊疗经过", "病程记录")
NEGATION = re.compile(r"(否认|无|未见|未发现|排除|未闻及|不伴|未再|未诉|无明显|未行|未予|未做|拒绝|放弃)[^，。；;,]*$")
STANDARDIZE_OPTIONS = 5
NOT_RELEVANT_HISTORY = ("Z98.8",)  # "X术后": a past operation, not a condition of this stay
MIN_COVERAGE = 0.5  # share of a list item's characters that literal standard names must cover
ACUTE_RANKS = 7  # the first seven precedence entries (MI, acute heart failure, unstable or microvascular angina) outrank any list position
HEADING = re.compile(r"(?m)^\s*【?(" + "|".join(FIELD_ORDER) + r")】?\s*[:：]")


def record_text(case: Case) -> tuple[str, dict[str, tuple[int, int]], bool]:
    """One text for the record (traditional characters converted to simplified), where each field sits,
    and whether the conversion changed anything."""
    fields = {simplified(k): simplified(str(v)) for k, v in case.fields.items()}
    converted = fields != {k: str(v) for k, v in case.fields.items()}
    if not fields and case.text:
        free = simplified(case.text)
        converted = free != case.text
        fields = split_free_text(free)
    parts, where, pos = [], {}, 0
    for name in sorted(fields, key=lambda f: FIELD_ORDER.index(f) if f in FIELD_ORDER else 99):
        value = str(fields[name]).strip()
        if not value:
            continue
        head = f"【{name}】"
        where[name] = (pos + len(head), pos + len(head) + len(value))
        parts.append(head + value)
        pos += len(head) + len(value) + 1
    return "\n".join(parts), where, converted


def simplified(value: str) -> str:
    """Traditional characters as simplified ones (the editions' names are simplified)."""
    return zhconv.convert(value, "zh-cn") if value else value


def split_free_text(text: str) -> dict[str, str]:
    """Fields of a free-text record in which the headings (主诉：…) appear."""
    marks = list(HEADING.finditer(text))
    if not marks:
        return {"现病史": text}
    fields = {}
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        fields[m.group(1)] = text[m.end() : end].strip()
    return fields


@cache
def _automaton(system_id: str, min_len: int) -> ahocorasick.Automaton:
    """All standard names (>= min_len characters) of an edition, for literal mining in narrative."""
    cs = get_system(system_id)
    auto = ahocorasick.Automaton()
    for code, title in cs.iter_codes():
        t = to_halfwidth(title)
        if len(t) >= min_len and not re.search(r"[，,（(]", t):
            existing = auto.get(t, None)
            if existing is None or len(code) < len(existing[0]):
                auto.add_word(t, (code, title))
    auto.make_automaton()
    return auto


def _negated(text: str, start: int) -> bool:
    clause_start = max(text.rfind(p, 0, start) for p in "，。；;,\n")
    return bool(NEGATION.search(text[clause_start + 1 : start]))


def code_chinese(case: Case, agents: Agents | None = None) -> CodingResult:
    """Code a Chinese inpatient record into national clinical 2.0 diagnoses and 3.0 procedures."""
    agents = agents or Agents()
    log: list[CallRecord] = []
    text, where, converted = record_text(case)
    if not text.strip():
        raise InputError("the record is empty: no field holds text")
    warnings_pre = ["traditional characters were converted to simplified; evidence offsets index the converted text"
                    ] if converted else []
    dx_cs, px_cs = get_system("cn-clinical-dx"), get_system("cn-clinical-px")
    trace: list[StageTrace] = []
    warnings: list[str] = warnings_pre
    outputs: dict[str, list[str]] = {}
    mentions: list[Mention] = []

    # 1. Standardization of the diagnosis list(s)
    t0 = time.perf_counter()
    list_field = next((f for f in DIAGNOSIS_LISTS if f in where), None)
    if list_field != "出院诊断":
        warnings.append("no 出院诊断: coded from 入院诊断 and the narrative" if list_field
                        else "no diagnosis list: coded from the narrative only")
    found: list[dict] = []
    if list_field:
        a, b = where[list_field]
        for item, (s, e, term) in enumerate(split_terms(text[a:b])):
            span = Span(start=a + s, end=a + e, text=text[a + s : a + e])
            mid = len(mentions)
            mentions.append(Mention(id=mid, text=term, span=span, section=list_field, sentence=0, type="diagnosis"))
            pieces, coverage = segment(term, dx_cs)
            pieces = [p for p in pieces if not p[2].startswith(NOT_RELEVANT_HISTORY)]
            if re.search(r"术后(状态)?$", term) and (not pieces or coverage < MIN_COVERAGE):
                outputs.setdefault("standardized", []).append(f"{term} -> (history of surgery, not coded)")
                continue
            if pieces and coverage >= MIN_COVERAGE:
                for ps, pe, code, title in pieces:
                    pspan = Span(start=a + s + ps, end=a + s + pe, text=text[a + s + ps : a + s + pe])
                    found.append({"code": code, "title": title, "score": 0.95, "span": pspan, "order": len(found),
                                  "item": item, "path": [f"{list_field}: '{pspan.text}' is the standard name {title}"],
                                  "source": list_field})
                    outputs.setdefault("standardized", []).append(f"{pspan.text} -> {title} ({code})")
                continue
            ranked = standardize(term, dx_cs)
            options = options_for([(code, title) for code, title, _ in ranked[:STANDARDIZE_OPTIONS]])
            decision = agents.decide("standardize", "standardize", log, term=term, field_name=list_field,
                                     options=options)
            pick = next((i for i, o in enumerate(options) if o.key in decision.keys), None)
            if decision.mode == "rules" and ranked and ranked[0][2] < MIN_SCORE:
                pick = None
            if pick is not None:
                code, title, score = ranked[pick]
                by = "model choice" if decision.mode == "llm" else "best match"
                found.append({"code": code, "title": title, "score": score / 100, "span": span, "order": len(found),
                              "item": item, "path": [f"{list_field}: {term} -> {title} ({by}, similarity {score})"],
                              "source": list_field, "produced_by": decision.mode,
                              "fallback_reason": decision.fallback_reason})
            outputs.setdefault("standardized", []).append(
                f"{term} -> {ranked[pick][1] if pick is not None else '?'} ({ranked[pick][0] if pick is not None else '-'})")
    trace.append(stage_trace("standardize", log[:], time.perf_counter() - t0))

    # 2. Candidate mining: diagnoses in findings, procedures in operation/course fields
    t0 = time.perf_counter()
    rejected: list[Rejected] = []
    found += _findings(text, where, dx_cs, mentions, rejected)
    found += _mine_procedures(text, where, px_cs, mentions, rejected)
    for kind, cs, fields_, min_len in (("procedure", px_cs, PROCEDURE_FIELDS, 4),):
        auto = _automaton(cs.id, min_len)
        for field in fields_:
            if field not in where:
                continue
            a, b = where[field]
            chunk = to_halfwidth(text[a:b])
            spans = []
            for end, (code, title) in auto.iter(chunk):
                start = end - len(to_halfwidth(title)) + 1
                spans.append((start, end + 1, code, title))
            spans.sort(key=lambda x: (x[0], -(x[1] - x[0])))
            last_end = -1
            for s, e, code, title in spans:
                if s < last_end:
                    continue
                last_end = e
                span = Span(start=a + s, end=a + e, text=text[a + s : a + e])
                if _negated(text, a + s):
                    rejected.append(Rejected(code=code, system=cs.id, title=title, reason="negated", evidence=[span]))
                    continue
                found.append({"code": code, "title": title, "score": 0.7, "span": span, "order": 1000 + a + s,
                              "path": [f"{field}: literal name '{title}'"], "source": field, "kind": kind})
                mentions.append(Mention(id=len(mentions), text=span.text, span=span, section=field, sentence=0,
                                        type=kind, assertion=Assertion()))
    trace.append(stage_trace("mine", [], time.perf_counter() - t0))

    # 3. Prioritization + 4. code also + 5. validation
    t0 = time.perf_counter()
    by_code: dict[str, dict] = {}
    for f in sorted(found, key=lambda f: f["order"]):
        kind = f.get("kind", "diagnosis")
        key = f["code"]
        if key in by_code:
            by_code[key]["spans"].append(f["span"])
            by_code[key]["path"] += f["path"]
            continue
        by_code[key] = {**f, "kind": kind, "spans": [f["span"]]}
    items = list(by_code.values())
    outputs["ranked"] = [f"{i['code']} {i['title']}" for i in items]
    items = _merge_same_code(_refine(items, text, where, dx_cs))
    items = _code_also(items, dx_cs)
    validated = _validate(items, dx_cs, rejected, text, where)
    calls_before = len(log)
    validated = _prioritize(validated, text, agents, log)
    outputs["validated"] = [f"{i['code']} {i['title']}" for i in validated]
    trace.append(stage_trace("prioritize+validate", log[calls_before:], time.perf_counter() - t0))

    # Audit: exists, valid, evidence
    codes: list[Assignment] = []
    principal_set = False
    for i in validated:
        cs: CodeSystem = dx_cs if i["kind"] == "diagnosis" else px_cs
        spans = [s for s in i["spans"] if text[s.start : s.end] == s.text]
        if not cs.is_valid(i["code"]) or not spans:
            rejected.append(Rejected(code=i["code"], system=cs.id, title=i["title"],
                                     reason="not valid in the edition" if spans else "no evidence", evidence=i["spans"]))
            continue
        principal = i["kind"] == "diagnosis" and not principal_set and not i.get("asterisk")
        principal_set = principal_set or principal
        codes.append(Assignment(code=i["code"], system=cs.id, type=i["kind"], title=i["title"], principal=principal,
                                evidence=spans, path=i["path"], source=i["source"], confidence=round(i["score"], 3),
                                produced_by=i.get("produced_by", "rules"), fallback_reason=i.get("fallback_reason"),
                                verdict=AuditVerdict(accepted=True, checks=["exists in edition", "valid",
                                                                            f"{len(spans)} evidence span(s)"])))
    if not codes:
        warnings.append("no codable content found")
    return CodingResult(case_id=case.case_id, lang="zh", setting=case.setting,
                        editions={"diagnoses": "cn-clinical-dx", "procedures": "cn-clinical-px"}, text=text,
                        codes=codes, rejected=rejected, mentions=mentions, stage_outputs=outputs, trace=trace,
                        warnings=warnings, llm=LLMUsage(**summarize(log)) if agents.uses_model else None)


COUNT = {"一": 1, "单": 1, "两": 2, "二": 2, "双": 2, "三": 3, "四": 4, "五": 5}
STENT_COUNT = re.compile(r"(\d|[一两二三四五])\s*(枚|个|根|只)[^。；，,]{0,12}?支架|支架\s*(\d|[一两二三四五])\s*(枚|个|根|只)")
VESSELS = {"LAD": "前降支|LAD", "LCX": "回旋支|LCX", "RCA": "右冠|RCA", "LM": "左主干|LM", "D": "对角支", "OM": "钝缘支"}
VENTILATION = re.compile(r"(有创)?(呼吸机(辅助)?(通气|呼吸|治疗)|机械通气|气管插管)")
VENT_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(小时|h|天|日)")


def _mine_procedures(text: str, where: dict[str, tuple[int, int]], cs: CodeSystem, mentions: list[Mention],
                     rejected: list[Rejected]) -> list[dict]:
    """Auxiliary procedures from the operation and course fields (rules/zh/procedures.json), with the codes
    they bring along: stent and vessel counts (00.45-00.48, 00.40-00.43) and PTCA (00.66) with coronary
    stents, and invasive ventilation banded by its duration (96.71 < 96 h <= 96.72)."""
    out: list[dict] = []
    seen: set[str] = set()

    def add(code: str, span: Span, field: str, why: str) -> None:
        if code in seen or not cs.is_valid(code):
            return
        seen.add(code)
        out.append({"code": code, "title": cs.title(code) or code, "score": 0.8, "span": span, "order": 2000 + span.start,
                    "path": [f"{field}: {why}"], "source": field, "kind": "procedure"})
        mentions.append(Mention(id=len(mentions), text=span.text, span=span, section=field, sentence=0, type="procedure"))

    fields = [(f, where[f]) for f in PROCEDURE_FIELDS if f in where]
    stent_sentences: dict[int, str] = {}
    for rule in load_rules("zh", "procedures")["procedures"]:
        first: tuple[str, re.Match[str], int] | None = None
        for field, (a, b) in fields:
            for m in re.finditer(rule["pattern"], text[a:b]):
                sentence = _sentence(text, a + m.start())
                if "needs" in rule and not re.search(rule["needs"], sentence):
                    continue
                if _negated(text, a + m.start()):
                    rejected.append(Rejected(code=rule["code"], system=cs.id, title=rule["name"], reason="negated",
                                             evidence=[Span(start=a + m.start(), end=a + m.end(), text=m.group())]))
                    continue
                first = first or (field, m, a)
                if rule["code"] == "36.0700":
                    stent_sentences[text.find(sentence)] = sentence
        if first is not None:
            field, hit, a = first
            span = Span(start=a + hit.start(), end=a + hit.end(), text=hit.group())
            code = rule["code"]
            if code == "36.0700" and re.search(r"裸支架|金属裸|非药物洗脱", _sentence(text, span.start)):
                code = "36.0600"
            add(code, span, field, f"'{hit.group()}' -> {rule['name']}")
    if stent_sentences:
        stent_sentences = list(stent_sentences.values())
        anchor = next(o for o in out if o["code"] in ("36.0700", "36.0600"))
        stents = sum(COUNT.get(m.group(1) or m.group(3), 0) or int(m.group(1) or m.group(3))
                     for s in stent_sentences for m in STENT_COUNT.finditer(s)) or 1
        vessels = {v for s in stent_sentences for v, p in VESSELS.items() if re.search(p, s)} or {"one"}
        add({1: "00.4500", 2: "00.4600", 3: "00.4700"}.get(stents, "00.4800"), anchor["span"], anchor["source"],
            f"code also: {stents} stent(s) placed")
        add({1: "00.4000", 2: "00.4100", 3: "00.4200"}.get(len(vessels), "00.4300"), anchor["span"], anchor["source"],
            f"code also: {len(vessels)} vessel(s) treated")
        add("00.6600", anchor["span"], anchor["source"], "code also: PTCA with coronary stent placement")
    for field, (a, b) in fields:
        m = VENTILATION.search(text, a, b)
        if m is None or "无创" in text[max(a, m.start() - 2) : m.start()] or _negated(text, m.start()):
            continue
        duration = VENT_DURATION.search(_sentence(text, m.start()))
        hours = None
        if duration:
            hours = float(duration.group(1)) * (24 if duration.group(2) in ("天", "日") else 1)
        code = "96.7000" if hours is None else "96.7100" if hours < 96 else "96.7200"
        add(code, Span(start=m.start(), end=m.end(), text=m.group()), field,
            f"invasive ventilation, {'duration not stated' if hours is None else f'{hours:g} h'}")
        break
    return out


def _sentence(text: str, pos: int) -> str:
    """The sentence (。；\n) around a position."""
    start = max(text.rfind(p, 0, pos) for p in "。；;\n") + 1
    ends = [e for e in (text.find(p, pos) for p in "。；;\n") if e != -1]
    return text[start : min(ends) if ends else len(text)]


def _findings(text: str, where: dict[str, tuple[int, int]], cs: CodeSystem, mentions: list[Mention],
              rejected: list[Rejected]) -> list[dict]:
    """Conditions read from test results by the curated findings table (rules/zh/findings.json)."""
    _, by_name = standard_names(cs.id)
    out = []
    for entry in load_rules("zh", "findings")["findings"]:
        code = by_name.get(entry["name"])
        if code is None:
            continue
        pattern = re.compile(entry["pattern"])
        for field in FINDING_FIELDS:
            if field not in where:
                continue
            a, b = where[field]
            for m in pattern.finditer(text, a, b):
                span = Span(start=m.start(), end=m.end(), text=m.group())
                if _negated(text, m.start()) or re.match(r"[^，。；]{0,6}(未见|无|阴性)", text[m.end():]):
                    rejected.append(Rejected(code=code, system=cs.id, title=entry["name"], reason="negated", evidence=[span]))
                    continue
                out.append({"code": code, "title": cs.title(code) or entry["name"], "score": 0.75, "span": span,
                            "order": 1000 + m.start(), "path": [f"{field}: finding '{m.group()}' -> {entry['name']}"],
                            "source": field, "kind": "diagnosis"})
                mentions.append(Mention(id=len(mentions), text=span.text, span=span, section=field, sentence=0,
                                        type="diagnosis"))
    return out


ANGIOGRAPHY = re.compile(r"(冠状动脉|冠脉)(造影|CTA|CT血管成像)[^。]{0,300}")
TROPONIN = re.compile(r"肌钙蛋白\s*[IT]?[^。；，,]{0,20}?(\d+(?:\.\d+)?)\s*(ng/mL|ng/ml|ug/L|μg/L|ng/L|pg/mL)"
                      r"|肌钙蛋白[^。；，,]{0,12}?(升高|增高|阳性|↑)")
CLEAN_VESSELS = re.compile(r"未见(明显)?狭窄|血流偏慢|慢血流|TIMI\s*[0-2]?\s*级?慢")
OBSTRUCTION = re.compile(r"狭窄(约|达)?\s*[5-9]\d\s*%|闭塞|植入|支架")
MAX_PRESSURE = re.compile(r"(收缩压|血压)最高(达|至|为)?\s*(\d{3})")
HIGH_RISK = ("I20", "I21", "I22", "I25", "I50", "I63", "I64", "I69", "N18", "E11", "E14", "I70")


def _merge_same_code(items: list[dict]) -> list[dict]:
    """One entry per code (a refinement can turn two items into the same code): spans and paths merged."""
    out: dict[str, dict] = {}
    for i in items:
        if i["code"] in out:
            kept = out[i["code"]]
            kept["spans"] = kept["spans"] + [s for s in i["spans"] if s not in kept["spans"]]
            kept["path"] = kept["path"] + [p for p in i["path"] if p not in kept["path"]]
        else:
            out[i["code"]] = i
    return list(out.values())


def _code_also(items: list[dict], cs: CodeSystem) -> list[dict]:
    """Dagger codes bring their asterisk (manifestation) code: E11.401† -> G63.2*, placed right after."""
    out, present = [], {i["code"] for i in items}
    for i in items:
        out.append(i)
        info = cs.get(i["code"]) if i["kind"] == "diagnosis" else None
        star = info.extra.get("asterisk") if info else None
        if star and star not in present and cs.is_valid(star):
            present.add(star)
            out.append({**i, "code": star, "title": cs.title(star) or star, "item": None, "asterisk": True,
                        "path": [f"code also: asterisk pair of {info.extra.get('official', i['code'])}"]})
    return out


def _troponin_raised(text: str) -> str | None:
    """The troponin result that is above the usual upper reference limit (cTnI 0.04 ng/mL, hs-cTnT 14 ng/L)."""
    for m in TROPONIN.finditer(text):
        if m.group(3):
            return m.group()
        value, unit = float(m.group(1)), m.group(2).lower()
        limit = 14 if unit in ("ng/l", "pg/ml") else 0.04
        if value > limit:
            return m.group()
    return None


def _grade(systolic: int) -> int:
    """Hypertension grade by systolic pressure (中国高血压防治指南): >=180: 3, >=160: 2, >=140: 1."""
    return 3 if systolic >= 180 else 2 if systolic >= 160 else 1 if systolic >= 140 else 0


def _refine(items: list[dict], text: str, where: dict[str, tuple[int, int]], cs: CodeSystem) -> list[dict]:
    """The admission diagnosis refined by the course of treatment, as coders do (and the practice
    defaults of rules/zh/defaults.json: unqualified 糖尿病 in an adult is 2型糖尿病):

    * unstable angina given as the reason for admission (first list item) with a troponin above the
      reference limit is NSTEMI (急性非ST段抬高型心肌梗死);
    * angina with a coronary angiogram that shows no obstructive stenosis (slow flow, no stenosis)
      is microvascular angina (微血管性心绞痛);
    * hypertension named only in the history is graded by the highest recorded systolic pressure
      (>=180: grade 3, >=160: 2, else 1) and stratified 极高危 when a clinical complication
      (coronary disease, heart failure, stroke, diabetes, CKD, atherosclerosis) is coded, else 高危
      (中国高血压防治指南)."""
    _, by_name = standard_names(cs.id)
    defaults = load_rules("zh", "defaults")["defaults"]
    for i in items:
        default = defaults.get(i["code"]) if i["kind"] == "diagnosis" else None
        if default and not re.search(default["unless"], text) and cs.is_valid(default["code"]):
            i["path"] = i["path"] + [f"unqualified {i['title']} coded as {cs.title(default['code'])} (practice default)"]
            i["code"], i["title"] = default["code"], cs.title(default["code"]) or default["code"]
    codes = {i["code"] for i in items}
    course = " ".join(text[a:b] for f, (a, b) in where.items() if f in ("诊疗经过", "手术经过", "病程记录", "手术名称"))
    angio = ANGIOGRAPHY.search(course)
    troponin = _troponin_raised(course)
    if troponin:
        nstemi = by_name.get("急性非ST段抬高型心肌梗死")
        for i in items:
            if i["kind"] == "diagnosis" and i["code"].startswith("I20.0") and i.get("item") == 0 and nstemi:
                i["path"] = i["path"] + [f"refined: unstable angina with raised troponin ('{troponin}') is NSTEMI"]
                i["code"], i["title"] = nstemi, cs.title(nstemi) or "急性非ST段抬高型心肌梗死"
    elif angio and CLEAN_VESSELS.search(angio.group()) and not OBSTRUCTION.search(angio.group()):
        mva = by_name.get("微血管性心绞痛")
        for i in items:
            if i["kind"] == "diagnosis" and i["code"].startswith("I20.0") and mva:
                i["path"] = i["path"] + [f"refined: angiography without obstructive stenosis ('{angio.group()[:40]}…')"]
                i["code"], i["title"] = mva, cs.title(mva) or "微血管性心绞痛"
    peak_m = MAX_PRESSURE.search(" ".join(text[a:b] for f, (a, b) in where.items() if f in ("既往史", "现病史", "入院情况")))
    peak_grade = _grade(int(peak_m.group(3))) if peak_m else 0
    risk_now = "极高危" if any(c.startswith(HIGH_RISK) for c in codes) else "高危"
    for i in items:
        m = re.fullmatch(r"高血压病?([123])级(?:[(（](.+)[)）])?", to_halfwidth(i["title"])) if i["kind"] == "diagnosis" else None
        if not m:
            continue
        grade, risk = max(int(m.group(1)), peak_grade), m.group(2) or risk_now
        name = f"高血压病{grade}级({risk})"
        if by_name.get(name) and by_name[name] != i["code"]:
            i["path"] = i["path"] + [f"graded {grade} by the highest recorded pressure / stratified {risk}"]
            i["code"], i["title"] = by_name[name], cs.title(by_name[name]) or name
    if not any(c.startswith("I10") for c in codes):
        history = [(f, text[a:b], a) for f, (a, b) in where.items() if f in ("既往史", "现病史", "入院情况")]
        for field, chunk, offset in history:
            m = re.search(r"高血压(病)?", chunk)
            if not m or _negated(text, offset + m.start()):
                continue
            peak = MAX_PRESSURE.search(chunk)
            grade = _grade(int(peak.group(3))) if peak else 0
            risk = "极高危" if any(c.startswith(HIGH_RISK) for c in codes) else "高危"
            name = f"高血压病{grade}级({risk})" if grade else "高血压"
            code = by_name.get(name)
            if code is None:
                continue
            span = Span(start=offset + m.start(), end=offset + m.end(), text=m.group())
            spans = [span] + ([Span(start=offset + peak.start(), end=offset + peak.end(), text=peak.group())] if peak else [])
            items.append({"code": code, "title": cs.title(code) or name, "score": 0.7, "span": span, "spans": spans,
                          "order": 900, "kind": "diagnosis", "source": field,
                          "path": [f"{field}: hypertension in the history, graded by '{peak.group() if peak else 'no pressure given'}'"
                                   f" and stratified {risk}"]})
            break
    return items


def _precedence(code: str) -> int:
    order = load_rules("zh", "principal")["precedence"]
    return next((i for i, p in enumerate(order) if code.startswith(p)), len(order))


def _prioritize(items: list[dict], text: str, agents: Agents, log: list[CallRecord]) -> list[dict]:
    """The principal diagnosis first: the most acute condition of the first list item (主要诊断选择原则:
    acute over chronic; a symptom only when nothing definite is listed), or the model's choice when one
    is configured."""
    dx = [i for i in items if i["kind"] == "diagnosis" and not i.get("asterisk")]  # an asterisk code is never principal
    first_item = [i for i in dx if i.get("item") == 0]
    acute = [i for i in dx if i.get("item") is not None and _precedence(i["code"]) < ACUTE_RANKS]
    first_item = first_item + [i for i in acute if i not in first_item]
    if first_item and all(i["code"].startswith("R") for i in first_item):
        # a symptom is not principal when a definite diagnosis is listed (主要诊断选择原则)
        first_item = [i for i in dx if i.get("item") is not None and not i["code"].startswith("R")][:1] or first_item
    if first_item:
        best = min(first_item, key=lambda i: (_precedence(i["code"]), first_item.index(i)))
        items = [best] + [i for i in items if i is not best]
        dx = [best] + [i for i in dx if i is not best]
    if len(dx) < 2 or not agents.uses_model:
        return items
    options = options_for([(i["code"], i["title"]) for i in dx])
    decision = agents.decide("prioritize", "principal", log, note=text, options=options, lang="zh")
    if decision.mode != "llm" or not decision.keys:
        return items
    chosen = dx[[o.key for o in options].index(decision.keys[0])]
    chosen["path"] = chosen["path"] + [f"principal chosen by the model: {decision.reasons.get(decision.keys[0], '')}"]
    return [chosen] + [i for i in items if i is not chosen]


COURSE_FIELDS = ("诊疗经过", "病程记录", "出院情况", "出院医嘱", "手术经过", "影像学意见", "超声提示", "超声印象")
# Chronic conditions that shape every cardiovascular stay (drugs continued, risk stratified): coded from the
# admission list without a mention in the course.
KEEP_WITHOUT_MENTION = ("I10", "I11", "I20", "I21", "I25", "I48", "I49", "I50", "E11", "E78", "I63", "I69", "N18", "Z95")


def _managed(item: dict, text: str, course: str) -> bool:
    """The course names the condition (its standard name, or the words written in the list)."""
    words = {item["title"]} | {s.text for s in item["spans"]}
    return any(w and (w in course or re.sub(r"[（(].*", "", w) in course) for w in words)


def _validate(items: list[dict], cs: CodeSystem, rejected: list[Rejected], text: str = "",
              where: dict[str, tuple[int, int]] | None = None) -> list[dict]:
    """Drop duplicates and a less specific code of a category that has a more specific one."""
    keep = []
    listed = [i["code"] for i in items if i["kind"] == "diagnosis" and i["source"] in DIAGNOSIS_LISTS]
    course = " ".join(text[a:b] for f, (a, b) in where.items() if f in COURSE_FIELDS)
    for i in items:
        if (i["kind"] == "diagnosis" and i["source"] == "入院诊断" and i.get("item") not in (0, None)
                and not i["code"].startswith(KEEP_WITHOUT_MENTION) and not _managed(i, text, course)):
            i["unmanaged"] = True
    for i in items:
        if i.get("unmanaged"):
            rejected.append(Rejected(code=i["code"], system=cs.id, title=i["title"], evidence=i["spans"],
                                     reason="an admission comorbidity the course never mentions (not managed in this stay)"))
            continue
        if i["kind"] == "diagnosis" and i["source"] not in DIAGNOSIS_LISTS:
            cat = i["code"][:3]
            others = [c for c in listed if c != i["code"] and c[:3] == cat]
            if others:
                rejected.append(Rejected(code=i["code"], system=cs.id, title=i["title"],
                                         reason=f"same category as {others[0]}, which is coded", evidence=i["spans"]))
                continue
        keep.append(i)
    return keep
