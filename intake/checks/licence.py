"""The legal entity's business licence (营业执照) bound into each volume against the online
record: the name and the unified social credit code it shows, and its 营业期限 not run out on
the review date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from intake.checks.certificates import (
    PRINTED_NAME,
    READINGS_AGREE,
    TextLine,
    copies_of_certificates,
    date_in,
    judge_holder,
    org_like,
    page_lines,
    reference_date,
    reread_lines,
)
from intake.checks.rule import finding
from intake.checks.seals_present import names_other_body
from intake.codes import credit_code_problem, is_valid_credit_code
from intake.dossier import PageResult
from intake.fields import format_date, record_value
from intake.model import Box, Finding, Location, PageKind, Status, TextSource
from intake.normalize import canonical_credit_code, canonical_text
from intake.record import Record

CLAUSE = ("六（三）能力证明材料（营业执照）复印件随申请材料装订成册；"
          "六（五）形式审查：材料与网上系统材料的一致性")
RULES = {"certificate.licence": ("营业执照复印件与网上系统一致且在营业期限内", CLAUSE)}
KIND = "licence"  # Page.kind_detail of a licence page
# The engines may read a stray mark between the label's two characters (名，称).
_NAME_LABEL = re.compile(r"^名[\s,，.。、·]*称\s*[:：]?")
_CODE_LABEL = re.compile(r"信用代码|社会信用|代码")
_TERM_LABEL = "营业期限"
_CODE_RUN = re.compile(r"[0-9A-Z]{16,20}")
CODE_LENGTH = 18
# A credit code with a right check character that differs from the record's in this many
# places or more is another body's code: a misreading that keeps the check character right
# needs two characters misread at once, and another body's organisation code differs in most.
OTHER_CODE_PLACES = 3
# A 营业期限 line, misread, still looks like its label at this partial ratio.
TERM_LABEL_SIMILAR = 75


@dataclass(frozen=True)
class LicenceCopy:
    """What one licence page says, as far as it could be read (the page pass and the re-read,
    each reading kept)."""

    names: tuple[tuple[str, Box], ...]
    codes: tuple[tuple[str, Box], ...]  # runs of 16-20 code characters, canonical
    # the end of 营业期限 by reading: None for 长期; with whether it was read as printed
    terms: tuple[tuple[date | None, Box, bool], ...]


@dataclass(frozen=True)
class Part:
    status: Status
    label: str
    field: str | None
    expected: str | None
    found: str | None
    box: Box | None
    similarity: float | None = None  # rapidfuzz ratio of the reading to the record's value


def read_licence(result: PageResult) -> LicenceCopy:
    """Every reading of the licence page's name, credit code and 营业期限."""
    names: list[tuple[str, Box]] = []
    codes: list[tuple[str, Box]] = []
    terms: list[tuple[date | None, Box, bool]] = []
    for lines in (page_lines(result), reread_lines(result)):
        n, c, t = _parse(lines)
        names += n
        codes += c
        terms += t
    return LicenceCopy(tuple(names), tuple(codes), tuple(terms))


def _parse(lines: list[TextLine]) -> tuple[list[tuple[str, Box]], list[tuple[str, Box]],
                                           list[tuple[date | None, Box, bool]]]:
    names: list[tuple[str, Box]] = []
    codes: list[tuple[str, Box]] = []
    terms: list[tuple[date | None, Box, bool]] = []
    for i, line in enumerate(lines):
        text = canonical_text(line.text)
        # An engine may read a label and its value as two lines: the value is the next line.
        after = canonical_text(lines[i + 1].text) if i + 1 < len(lines) else ""
        m = _NAME_LABEL.match(text)
        if m and len(text) > m.end() + 3:
            names.append((text[m.end():], line.box))
        elif m and len(text) == m.end() and len(after) > 3:
            names.append((after, lines[i + 1].box))
        folded = canonical_credit_code(line.text)
        runs = _CODE_RUN.findall(folded)
        # The code stands after its label, or alone at the page's head where the label was lost.
        if _CODE_LABEL.search(text) or any(len(r) == CODE_LENGTH for r in runs):
            codes += [(r, line.box) for r in runs]
        if _TERM_LABEL in text or fuzz.partial_ratio(_TERM_LABEL, text[:6]) >= TERM_LABEL_SIMILAR:
            value = text if ("至" in text or "长期" in text or date_in(text)) else after
            end = value.rsplit("至", 1)[-1]
            if "长期" in end:
                terms.append((None, line.box, True))
                continue
            read = date_in(end)
            if read is not None:
                terms.append((read[0], line.box, read[1]))
    return names, codes, terms


# Judging -------------------------------------------------------------------------------------


def printed_other_name(entity: str, reading: str) -> bool:
    """Whether a licence's 名称, read as printed, is another body's: what tells one on a seal's
    ring (``names_other_body``), or a run of two or more characters replaced anywhere, at its
    start too (广州 for 上海). A ring's ends are lost and garbled; a printed line's are not."""
    want, read = canonical_text(entity), canonical_text(reading)
    if not want or want in read:
        return False
    return names_other_body(want, read) or any(
        op.tag == "replace" and max(op.src_end - op.src_start, op.dest_end - op.dest_start) > 1
        for op in Levenshtein.opcodes(want, read))


def judge_name(entity: str, copy: LicenceCopy, exact: bool = False) -> Part:
    """The holder's judgement (``judge_holder``), except that readings agreeing on another
    body's name as printed fail: two at least (the page pass's and the re-read's), or one from
    a text layer (``exact``), each of printed characters only."""
    readings = [n for n, _ in copy.names]
    status, found = judge_holder([entity], readings)
    named = [r for r in readings if PRINTED_NAME.fullmatch(r)]
    if (named and len(named) == len(readings) and (len(named) >= 2 or exact)
            and all(org_like(r) and printed_other_name(entity, r)
                    and fuzz.ratio(named[0], r) >= READINGS_AGREE for r in named)):
        status, found = Status.FAIL, named[0]
    box = next((b for n, b in copy.names if n == found), None)
    return Part(status, "名称", "identity.legal_entity", entity, found, box,
                round(fuzz.ratio(canonical_text(entity), found), 1) if found else None)


def judge_code(code: str, copy: LicenceCopy) -> Part:
    """pass when a reading is the record's code; fail when a reading is another valid code, far
    from the record's; uncertain when the code was not read whole or fails its check character
    (a misreading: a licence's code is the registration authority's)."""
    want = canonical_credit_code(code)
    readings = list(copy.codes)
    whole = [(r, b) for r, b in readings if len(r) == CODE_LENGTH]

    def part(status: Status, found: str | None, box: Box | None) -> Part:
        similarity = round(fuzz.ratio(want, found), 1) if found else None
        return Part(status, "统一社会信用代码", "identity.credit_code", code, found, box, similarity)

    hit = next(((r, b) for r, b in whole if r == want), None)
    if hit is not None:
        return part(Status.PASS, *hit)
    other = [(r, b) for r, b in whole if is_valid_credit_code(r)
             and sum(a != b for a, b in zip(r, want, strict=True)) >= OTHER_CODE_PLACES]
    if other:
        return part(Status.FAIL, *other[0])
    best = max(readings, key=lambda rb: fuzz.ratio(want, rb[0]), default=None)
    return part(Status.UNCERTAIN, *(best if best else (None, None)))


def judge_term(copy: LicenceCopy, reference: date | None, exact: bool = False) -> Part:
    """pass when 营业期限 is 长期 or ends on or after the reference date; fail when every
    reading, two at least, one of them read as printed, names the same day before it (one, from
    a text layer: ``exact``); uncertain otherwise."""
    on = reference.isoformat() if reference else None
    expected = f"≥{on}" if on else None
    terms = list(copy.terms)
    if not terms:
        return Part(Status.UNCERTAIN, "营业期限", None, expected, None, None)
    lasting = next(((d, b) for d, b, _ in terms if d is None), None)
    if lasting is not None:
        return Part(Status.PASS, "营业期限", None, expected, "长期", lasting[1])
    dates = [(d, b, p) for d, b, p in terms if d is not None]
    first = dates[0]
    if reference is None:
        return Part(Status.UNCERTAIN, "营业期限", None, expected, first[0].isoformat(), first[1])
    if any(d >= reference for d, _, _ in dates):
        ok = next(t for t in dates if t[0] >= reference)
        status = Status.PASS if all(d >= reference for d, _, _ in dates) else Status.UNCERTAIN
        return Part(status, "营业期限", None, expected, ok[0].isoformat(), ok[1])
    # Two readings alike, one as printed: the other engine's reading by digits (年]月 for 年1月)
    # then names the same day, which a misreading of another day would not.
    sure = ((len(dates) >= 2 or exact) and any(p for _, _, p in dates)
            and len({d for d, _, _ in dates}) == 1)
    return Part(Status.FAIL if sure else Status.UNCERTAIN, "营业期限", None, expected,
                first[0].isoformat(), first[1])


def _judge(result: PageResult, record: Record, reference: date | None) -> tuple[Part, ...]:
    copy = read_licence(result)
    entity = str(record_value(record.data, "identity.legal_entity") or "")
    code = str(record_value(record.data, "identity.credit_code") or "")
    exact = result.page.text_source is TextSource.TEXT_LAYER
    return (judge_name(entity, copy, exact), judge_code(code, copy),
            judge_term(copy, reference, exact))


def settled(result: PageResult, record: Record) -> bool:
    """The page pass alone shows the record's licence on this page (name, code, a 营业期限 in
    force); otherwise it is worth reading again with the precise engine. Pages other than a
    licence are not this rule's."""
    if result.page.kind is not PageKind.CERTIFICATE or result.page.kind_detail != KIND:
        return True
    reference, _ = reference_date(record)
    return all(p.status is Status.PASS for p in _judge(result, record, reference))


# The rule ------------------------------------------------------------------------------------


def check(results: list[PageResult], record: Record) -> list[Finding]:
    """One finding per licence page bound in a volume. A dossier without a licence page gets
    none: the record does not say the lab must bind one."""
    reference, against = reference_date(record)
    findings: list[Finding] = []
    for copy, pages in sorted(copies_of_certificates(results).items()):
        for result in pages:
            if result.page.kind_detail == KIND:
                findings.append(_finding(result, copy, _judge(result, record, reference),
                                         reference, against))
    return findings


def _finding(result: PageResult, copy: int, parts: tuple[Part, ...], reference: date | None,
             against: str) -> Finding:
    statuses = {p.status for p in parts}
    status = next(s for s in (Status.FAIL, Status.UNCERTAIN, Status.PASS) if s in statuses)
    worst = next(p for p in parts if p.status is status)
    name = f"第{copy}份营业执照复印件"
    on = format_date(reference.isoformat()) if reference else "评审日期"
    if status is Status.PASS:
        message = f"{name}的名称、统一社会信用代码与网上系统一致，营业期限于{against}{on}未届满。"
    else:
        said = [_said(p, against, on) for p in parts if p.status is status]
        differs = any(p.field for p in parts if p.status is Status.FAIL)
        tail = ("，与网上系统不一致。" if differs else "。") if status is Status.FAIL \
            else "，请人工核对。"
        message = f"{name}{'；'.join(said)}{tail}"
    evidence = {
        "copy": copy, "reference_date": reference.isoformat() if reference else None,
        "checks": {p.label: {"status": p.status.value, "expected": p.expected, "found": p.found,
                             "similarity": p.similarity,
                             "box": p.box.as_list() if p.box else None} for p in parts},
    }
    return finding(RULES, "certificate.licence", status, message,
                   Location(result.page.document, result.page.number, worst.box),
                   field=worst.field, label=f"营业执照{worst.label}", expected=worst.expected,
                   found=worst.found, evidence=evidence)


def _said(part: Part, against: str, on: str) -> str:
    if part.label == "营业期限":
        if part.found is None:
            return "营业期限未能识别"
        shown = part.found if part.found == "长期" else format_date(part.found)
        if part.status is Status.FAIL:
            return f"营业期限至{shown}，早于{against}{on}，已届满"
        return f"营业期限识别为至{shown}（{against}{on}）"
    if part.status is Status.FAIL:
        return f"{part.label}为“{part.found}”，网上系统为“{part.expected}”"
    if part.found is None:
        return f"{part.label}未能识别"
    problem = credit_code_problem(part.found) if part.field == "identity.credit_code" else None
    extra = f"，{problem}，可能是识别错误" if problem else ""
    return f"{part.label}识别为“{part.found}”（网上系统为“{part.expected}”{extra}）"
