"""The certificate copies bound into each volume (资质认定 CMA, 实验室认可 CNAS) against the
online record: the number, the holder and the validity date each copy shows, a copy for every
certificate the record holds, and the certificate in force on the review date (ground 2)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date, timedelta

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from intake.checks.campaign import campaign_config
from intake.checks.qualification import CLAUSE as LAPSED_CLAUSE
from intake.checks.rule import finding
from intake.checks.seals_present import names_other_body
from intake.dossier import PageResult
from intake.fields import format_date, record_value
from intake.language import CERT_NO, ORG, tag
from intake.model import Box, Finding, Line, Location, PageKind, Status
from intake.normalize import canonical_code, canonical_text, parse_date
from intake.record import Record

CLAUSE = ("六（三）能力证明材料复印件随申请材料装订成册；"
          "六（五）形式审查：材料与网上系统材料的一致性")
RULES = {
    "certificate.copy": ("资质证书复印件与网上系统一致", CLAUSE),
    "certificate.in_force": ("资质证书复印件在有效期内", LAPSED_CLAUSE),
}
# The record's certificates: key, the name reviewers use, the classifier's kind_detail.
CERTIFICATES = (("cma", "资质认定（CMA）证书"), ("cnas", "实验室认可（CNAS）证书"))

# What engines print for digits on a scanned certificate: 1 as ] | l I, 0 as O o.
_DIGIT_CONFUSIONS = str.maketrans({"]": "1", "|": "1", "l": "1", "I": "1", "i": "1", "!": "1",
                                   "O": "0", "o": "0", "D": "0", "Q": "0"})
_RUN = re.compile(r"\d+")
# Labels on the certificates: the validity date, and the dates that are not it.
_VALID_LABEL = re.compile(r"有效期|有效.?至|效期至")
_OTHER_DATE_LABEL = re.compile(r"发证|签发|初次|认可日期|颁发")
_ISSUE_LABEL = re.compile(r"发证|签发")
# The years a certificate's dates fall in, as the digits-only reading below reads them.
_CERTIFICATE_YEARS = (1900, 2099)
# A CMA certificate runs six years (检验检测机构资质认定管理办法), a CNAS accreditation
# certificate as a rule six years too (CNAS-RC01): the validity its issue date implies.
VALID_YEARS = 6
_NUMBER_LABEL = re.compile(r"证书编号|注册号|编号")
_HOLDER_LABEL = re.compile(r"^名\s*称\s*[:：]?")
_RESPONSIBLE = re.compile(r"任由(.{4,40}?)承担")
_ORG_END = re.compile(r"(公司|院|所|中心|局|厅|委员会|协会|集团|大学|学院|实验室|站)$")
# A name printed on a certificate is Chinese characters and brackets only: a reading mixed
# with Latin letters, digits or signs is a misreading, not another organisation.
PRINTED_NAME = re.compile(r"[\u4e00-\u9fff()（）]+")
# A reading this close to the holder's name, no run of characters differing, is the holder's
# name misread.
HOLDER_MISREAD = 85.0
# Readings of the holder agree with each other at this similarity or above.
READINGS_AGREE = 90.0
# A lone reading must be this far from the holder's name (rapidfuzz ratio, below it) to be
# another organisation: a gray photocopy misreads two characters of a clean name at ~83.
LONE_NAME_OTHER = 70.0


@dataclass(frozen=True)
class TextLine:
    """One line of a certificate page as read, with the box it stands in (a line outside the
    ruling has its own box; a line inside the certificate's frame, the frame's)."""

    text: str
    box: Box


@dataclass(frozen=True)
class CertificateCopy:
    """What one certificate page says, as far as it could be read."""

    kind: str  # cma | cnas (Page.kind_detail)
    numbers: tuple[tuple[str, Box], ...]  # every reading of the number, digits only
    holders: tuple[tuple[str, Box], ...]  # every reading of the holder's name
    holders_labelled: bool  # False: names found without a label, which only confirm
    issuer: str | None  # the issuing body as printed
    # readings of "有效期至", and dates without a label saying what they are; each with its
    # box and whether it was read as printed
    valid_until: tuple[tuple[date, Box, bool], ...]
    other_dates: tuple[tuple[date, Box, bool], ...]
    issued: tuple[date, ...] = ()  # readings of 发证日期 / 签发日期


def page_lines(result: PageResult) -> list[TextLine]:
    """The page's lines top to bottom: those outside the ruling and those read inside it
    (a certificate's border is ruled, so most of its text is inside one cell)."""
    items: list[tuple[int, int, TextLine]] = []
    for n, line in enumerate(result.page.lines):
        items.append((line.box.y, n, TextLine(line.text, line.box)))
    for cell in result.page.cells:
        for n, text in enumerate(cell.text.splitlines()):
            if text.strip():
                items.append((cell.box.y, 10_000 + n, TextLine(text, cell.box)))
    return [item for _, _, item in sorted(items, key=lambda i: (i[0], i[1]))]


def _digits(text: str) -> str:
    return canonical_code(text).translate(_DIGIT_CONFUSIONS)


def _numbers(kind: str, lines: list[TextLine]) -> list[tuple[str, Box]]:
    """Readings of the certificate's number: a CMA number is 12 digits (after 证书编号 and
    under the CMA mark), a CNAS number CNAS L and 4–5 digits (after 注册号)."""
    found: list[tuple[str, Box]] = []
    for line in lines:
        text = canonical_code(line.text)
        if kind == "cnas":
            # The number's digits after 注册号 or CNAS; not CNAS-CL01, the standard's name.
            m = re.search(r"注册号|CNAS(?!C[L1I][0O])", text)
            if m is None:
                continue
            runs = _RUN.findall(text[m.end():].translate(_DIGIT_CONFUSIONS))
            found += [(_cnas_digits(run), line.box) for run in runs if 3 <= len(run) <= 7]
        else:
            runs = _RUN.findall(_digits(line.text))
            found += [(run, line.box) for run in runs if 10 <= len(run) <= 14]
    # CERT_NO entities find a number the patterns above miss only where a label introduces it.
    for line in lines:
        if not _NUMBER_LABEL.search(line.text):
            continue
        for entity in tag(line.text):
            if entity.label == CERT_NO:
                digits = "".join(_RUN.findall(_digits(entity.value)))
                if digits and (digits, line.box) not in found and (
                        (kind == "cma" and 10 <= len(digits) <= 14)
                        or (kind == "cnas" and 3 <= len(digits) <= 6)):
                    found.append((digits, line.box))
    return found


def _cnas_digits(run: str) -> str:
    """A CNAS number has four digits, or five from L10000 on: a longer run is the number with
    what the engine added before it (CNAS 1L6476), and a five-digit run opening with 0 is an L
    or an O read as a zero (CNAS LO0114)."""
    run = run[-5:]
    return run[1:] if len(run) == 5 and run[0] == "0" else run


def _holders(lines: list[TextLine]) -> tuple[list[tuple[str, Box]], bool]:
    """Readings of the holder's name: after 名称 and in "法律责任由…承担" on a CMA certificate,
    the line after 兹证明 on a CNAS one. Without those, the organisations the page names
    (False: they may be the issuing body, so they can only confirm the holder)."""
    found: list[tuple[str, Box]] = []
    for i, line in enumerate(lines):
        text = canonical_text(line.text)
        m = _HOLDER_LABEL.match(text)
        if m and len(text) > m.end() + 3:
            found.append((text[m.end():], line.box))
        if "证明" in text and len(text) <= 6 and i + 1 < len(lines):
            found.append((canonical_text(lines[i + 1].text), lines[i + 1].box))
    joined = "".join(canonical_text(line.text) for line in lines)
    for m in _RESPONSIBLE.finditer(joined):
        found.append((m[1], _box_of(m[1][:4], lines)))
    if found:
        return found, True
    for line in lines:
        found += [(e.value, line.box) for e in tag(canonical_text(line.text)) if e.label == ORG]
    return found, False


def _issuer(lines: list[TextLine]) -> str | None:
    """The issuing body as printed after 发证机关 (CMA); a CNAS certificate names CNAS."""
    for line in lines:
        text = canonical_text(line.text)
        m = re.search(r"发证机关[:：]?", text)
        if m and text[m.end():]:
            return text[m.end():]
    return next((canonical_text(line.text) for line in lines
                 if "合格评定国家认可委员会" in canonical_text(line.text)), None)


def _box_of(start: str, lines: list[TextLine]) -> Box:
    return next((line.box for line in lines if start in canonical_text(line.text)), lines[0].box)


def _dates(lines: list[TextLine]) -> tuple[list[tuple[date, Box, bool]],
                                          list[tuple[date, Box, bool]], list[date]]:
    """Dates labelled as the validity date, dates with no label at all (a label misread beyond
    recognition), each with its box and whether it was read as printed; and issue dates. The
    date of first accreditation is left out."""
    valid: list[tuple[date, Box, bool]] = []
    other: list[tuple[date, Box, bool]] = []
    issued: list[date] = []
    for line in lines:
        text = canonical_text(line.text)
        read = date_in(text)
        if read is None:
            continue
        day, printed = read
        head = text[:max(0, text.find(str(day.year)[:2]))]
        if _VALID_LABEL.search(head) or (fuzz.partial_ratio("有效期至", head) >= 75
                                         and not _OTHER_DATE_LABEL.search(head)):
            valid.append((day, line.box, printed))
        elif _ISSUE_LABEL.search(head):
            issued.append(day)
        elif not _OTHER_DATE_LABEL.search(head):
            other.append((day, line.box, printed))
    return valid, other, issued


def runs_until(issued: date) -> date:
    """The last day of a certificate issued on ``issued`` (VALID_YEARS, less a day)."""
    try:
        end = issued.replace(year=issued.year + VALID_YEARS)
    except ValueError:  # issued on 29 February
        end = date(issued.year + VALID_YEARS, 3, 1)
    return end - timedelta(days=1)


def date_in(text: str) -> tuple[date, bool] | None:
    """The date in ``text`` and whether it was read as printed (False: only by its digits).
    A year no certificate shows (5023 for 2023) is a misread digit, not a date: it is no
    reading at all, so the page's other readings and the other volume decide."""
    day = parse_date(text)
    if day is not None:
        return (day, True) if _CERTIFICATE_YEARS[0] <= day.year <= _CERTIFICATE_YEARS[1] else None
    # Engines misread the date's own characters: 年]月 is 年1月, 2025御7月 is 2025年7月, 15日 is
    # 1511. Read as year, month, day by its digits, each run apart from the next by one or two
    # signs; such a reading may confirm the record, never contradict it.
    folded = text.translate(_DIGIT_CONFUSIONS)
    m = re.search(r"((?:19|20)\d\d)\D{1,2}?(\d{1,2})\D{1,2}?(\d{1,2})(?:11?|H)?(?!\d)", folded)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3])), False
    except ValueError:
        return None


def reread_lines(result: PageResult) -> list[TextLine]:
    """The verifier's reading of the page (``Page.reread``) as printed lines, top to bottom:
    the engine may find a label and its value (有效期至：, the date) as two pieces, which
    stand on one printed line when their middles are within half a line's height."""
    rows: list[list[Line]] = []
    for line in sorted(result.page.reread, key=lambda ln: ln.box.center[1]):
        if rows and abs(line.box.center[1] - rows[-1][0].box.center[1]) < rows[-1][0].box.h / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return [TextLine("".join(ln.text for ln in sorted(row, key=lambda ln: ln.box.x)),
                     Box.union_of([ln.box for ln in row])) for row in rows]


def _parse(kind: str, lines: list[TextLine]) -> CertificateCopy:
    valid, other, issued = _dates(lines)
    holders, labelled = _holders(lines)
    return CertificateCopy(kind, tuple(_numbers(kind, lines)), tuple(holders), labelled,
                           _issuer(lines), tuple(valid), tuple(other), tuple(issued))


def read_copy(result: PageResult) -> CertificateCopy:
    """Parse one certificate page: each reading of it apart (the page pass's, the verifier's,
    when it read the page again), their values together. A value not found is an empty tuple,
    never an error."""
    kind = result.page.kind_detail
    parsed = [_parse(kind, lines) for lines in (page_lines(result), reread_lines(result))
              if lines]
    # A reading that found the holder after its label outweighs names found without one.
    labelled = [p for p in parsed if p.holders_labelled]
    return CertificateCopy(
        kind, tuple(n for p in parsed for n in p.numbers),
        tuple(h for p in (labelled or parsed) for h in p.holders), bool(labelled),
        next((p.issuer for p in parsed if p.issuer), None),
        tuple(d for p in parsed for d in p.valid_until),
        tuple(d for p in parsed for d in p.other_dates),
        tuple(d for p in parsed for d in p.issued))


# Judging -------------------------------------------------------------------------------------


def number_digits(number: str) -> str:
    """The digits that tell one certificate from another: all of a CMA number, those after
    CNAS L of a CNAS number."""
    return "".join(_RUN.findall(canonical_code(number)))


def _surely_other(want: str, read: str) -> bool:
    """More characters differ than misreading a printed number or date explains: a quarter of
    them, and at least two."""
    return Levenshtein.distance(want, read) >= max(2, math.ceil(len(want) / 4))


def judge_number(want: str, readings: list[str]) -> Status:
    """pass when a reading is the record's number; fail when every reading is surely another
    number, or two readings agree on another; uncertain otherwise (or when none was read)."""
    if not readings:
        return Status.UNCERTAIN
    if want in readings:
        return Status.PASS
    if all(_surely_other(want, r) for r in readings):
        return Status.FAIL
    if len(readings) >= 2 and len(set(readings)) == 1:
        return Status.FAIL  # two prints of the number (label, CMA mark) read alike
    return Status.UNCERTAIN


def org_like(name: str) -> bool:
    return bool(_ORG_END.search(name)) and len(name) >= 6


def judge_holder(owners: list[str], readings: list[str]) -> tuple[Status, str | None]:
    """pass when a reading has the holder's name; fail when the readings name another
    organisation, clearly printed: two readings agreeing on it, or each far from the holder's
    name; uncertain otherwise. Returns the reading that stands."""
    keys = [canonical_text(o) for o in owners if o]
    readings = [r for r in readings if r]
    if not readings or not keys:
        return Status.UNCERTAIN, readings[0] if readings else None
    for r in readings:
        if any(k in r for k in keys):
            return Status.PASS, r
    # As for a seal's ring: single misread characters do not make another organisation.
    near = [r for r in readings if any(fuzz.ratio(k, r) >= HOLDER_MISREAD
                                       and not names_other_body(k, r) for k in keys)]
    if near:
        return Status.PASS, near[0]
    # A reading mixed with Latin letters, digits or signs names nobody: it is left out, as
    # long as a reading of printed characters is there to judge.
    named = [r for r in readings if PRINTED_NAME.fullmatch(r)]
    first = named[0] if named else readings[0]
    other = bool(named) and all(org_like(r) and all(names_other_body(k, r) for k in keys)
                                for r in named)
    if other and len(named) >= 2 and all(fuzz.ratio(first, r) >= READINGS_AGREE
                                         for r in named):
        return Status.FAIL, first
    # Each reading far from the holder's name, as one lone reading must be (the page pass's
    # and the verifier's read the other body's name apart, each garbled its own way).
    if other and all(fuzz.ratio(k, r) < LONE_NAME_OTHER for k in keys for r in named):
        return Status.FAIL, first
    best = max(readings, key=lambda r: max(fuzz.ratio(k, r) for k in keys))
    return Status.UNCERTAIN, best


def judge_date(want: date, valid: list[tuple[date, bool]],
               other: list[tuple[date, bool]]) -> tuple[Status, date | None]:
    """pass when the validity date read is the record's; fail when it is surely an earlier
    one, read as printed; uncertain when it is later (a renewed certificate the record does
    not show yet), near enough to be a misreading, read by its digits only, or not read."""
    if any(d == want for d, _ in valid) or (not valid and any(d == want for d, _ in other)):
        return Status.PASS, want
    if not valid:
        return Status.UNCERTAIN, None
    read, printed = valid[0]
    digits = f"{want:%Y%m%d}"
    if (printed and read < want and all(d == read and p for d, p in valid)
            and _surely_other(digits, f"{read:%Y%m%d}")):
        return Status.FAIL, read
    return Status.UNCERTAIN, read


# The rule ------------------------------------------------------------------------------------


def copies_of_certificates(results: list[PageResult]) -> dict[int, list[PageResult]]:
    """Certificate pages by the bound copy they are in: the copy of the nearest form page of
    the same file (before it, else after it), else of the form page read last before it."""
    by_copy: dict[int, list[PageResult]] = {}
    last_copy = 1
    form_copy: dict[str, list[tuple[int, int]]] = {}
    for result in results:
        if result.page.kind is PageKind.FORM:
            form_copy.setdefault(result.page.document, []).append(
                (result.page.number, result.copy))
    for result in results:
        page = result.page
        if page.kind is PageKind.FORM:
            last_copy = result.copy
        if page.kind is not PageKind.CERTIFICATE:
            continue
        forms = form_copy.get(page.document, [])
        before = [c for n, c in forms if n < page.number]
        copy = before[-1] if before else (forms[0][1] if forms else
                                          last_copy if form_copy else result.copy)
        by_copy.setdefault(copy, []).append(result)
    return by_copy


def _form_number(results: list[PageResult], key: str, copy: int) -> str | None:
    for result in results:
        for field in result.fields:
            if field.key == key and field.copy == copy:
                return field.text
    return None


def _where(result: PageResult, box: Box | None) -> Location:
    return Location(result.page.document, result.page.number, box)


def _owners(record: Record) -> list[str]:
    return [str(record_value(record.data, "identity.legal_entity") or ""),
            str(record_value(record.data, "identity.lab_name") or "")]


def _held(record: Record, key: str, name: str) -> Held | None:
    number = record_value(record.data, f"qualifications.{key}.number")
    if not number:
        return None
    return Held(key, name, str(number),
                _day(record_value(record.data, f"qualifications.{key}.valid_until")))


def settled(result: PageResult, record: Record) -> bool:
    """The page pass alone shows the record's certificate on this page: number, holder and
    validity each as the record holds them. Otherwise the page is worth reading again with the
    precise engine; a licence, or a certificate the record does not hold, is not judged."""
    name = dict(CERTIFICATES).get(result.page.kind_detail)
    held = _held(record, result.page.kind_detail, name) if name else None
    if held is None:
        return True
    judged = _judge_page(result, result.copy, held, _owners(record))
    return all(part.status is Status.PASS for part in judged.parts)


def check(results: list[PageResult], record: Record) -> list[Finding]:
    owners = _owners(record)
    by_copy = copies_of_certificates(results)
    volumes = sorted({r.copy for r in results if r.page.kind is PageKind.FORM} | set(by_copy))
    reference, against = reference_date(record)
    findings: list[Finding] = []
    for key, name in CERTIFICATES:
        held = _held(record, key, name)
        if held is None:
            continue
        if not by_copy:
            findings.append(_none_bound(results, held))
            continue
        judged: list[Judged] = []
        for copy in volumes:
            pages = by_copy.get(copy, [])
            mine = [r for r in pages if r.page.kind_detail == key]
            if not mine:
                findings.append(_missing(results, copy, held, pages))
            judged += [_judge_page(r, copy, held, owners) for r in mine]
        for item in _confirmed(judged):
            form = _form_number(results, f"qualifications.{key}.number", item.copy)
            findings += _findings(item, held, form, reference, against)
    return findings


@dataclass(frozen=True)
class Held:
    """A certificate as the record holds it."""

    key: str  # cma | cnas
    name: str  # as reviewers call it
    number: str
    valid_until: date | None


def reference_date(record: Record) -> tuple[date | None, str]:
    """The date a certificate must hold on: the campaign's review date, else the day the lab
    applied (a certificate lapsed by then had lapsed for the whole review)."""
    config = campaign_config(record.campaign)
    if config is not None and config.review_date is not None:
        return config.review_date, "评审日期"
    submitted = record_value(record.data, "workflow.submitted")
    try:
        return (date.fromisoformat(str(submitted)) if submitted else None), "申报日期"
    except ValueError:
        return None, "申报日期"


def _none_bound(results: list[PageResult], held: Held) -> Finding:
    """No page of the dossier was recognised as a certificate copy at all: the copies may have
    been scanned into a file not sent, or too badly to recognise; a reviewer looks."""
    forms = [r for r in results if r.page.kind is PageKind.FORM]
    where = _where(forms[-1], None) if forms else None
    return finding(
        RULES, "certificate.copy", Status.UNCERTAIN,
        f"材料中未识别到任何资质证书复印件，包括{held.name}（网上系统证书编号{held.number}）；"
        "请人工核对是否随申请材料装订。", where,
        field=f"qualifications.{held.key}.number", label=f"{held.name}复印件",
        expected=held.number, found="未识别", evidence={"certificate": held.key})


def _missing(results: list[PageResult], copy: int, held: Held,
             pages: list[PageResult]) -> Finding:
    """No page of this copy is a copy of the certificate: fail, unless a page of the copy
    could not be told what it is (it may be that copy, read too badly to tell)."""
    volume = [r for r in results if r.copy == copy and r.page.kind is PageKind.FORM]
    anchor = volume[-1] if volume else (pages[-1] if pages else None)
    where = _where(anchor, None) if anchor else None
    documents = {r.page.document for r in volume}
    unclear = [r for r in results if r.page.kind in (PageKind.UNKNOWN, PageKind.ATTACHMENT)
               and (not documents or r.page.document in documents)]
    field = f"qualifications.{held.key}.number"
    if unclear:
        return finding(
            RULES, "certificate.copy", Status.UNCERTAIN,
            f"第{copy}份中未识别到{held.name}复印件（网上系统证书编号{held.number}）；"
            "有页面未能识别，可能即为该复印件，请人工核对。", where,
            field=field, label=f"{held.name}复印件", expected=held.number, found="未识别",
            evidence={"copy": copy, "certificate": held.key,
                      "unclear_pages": [[r.page.document, r.page.number] for r in unclear]})
    return finding(
        RULES, "certificate.copy", Status.FAIL,
        f"第{copy}份未附{held.name}复印件（网上系统证书编号{held.number}）。", where,
        field=field, label=f"{held.name}复印件", expected=held.number, found="无复印件",
        evidence={"copy": copy, "certificate": held.key})


@dataclass(frozen=True)
class Part:
    """One value of a certificate copy judged against the record."""

    status: Status
    label: str
    field: str
    expected: str | None
    found: str | None
    box: Box | None
    confirmed_by: tuple[str, int] | None = None  # (document, page) read where this was not
    by_issue_date: date | None = None  # the validity not read, implied by this issue date


@dataclass(frozen=True)
class Judged:
    """One certificate page judged part by part."""

    result: PageResult
    copy: int
    parsed: CertificateCopy
    parts: tuple[Part, Part, Part]  # number, holder, validity date
    valid_until: date | None  # the validity date the copy shows, when read


def _judge_page(result: PageResult, copy: int, held: Held, owners: list[str]) -> Judged:
    parsed = read_copy(result)
    key = held.key
    want = number_digits(held.number)
    numbers = [n for n, _ in parsed.numbers]
    number_read = want if want in numbers else (numbers[0] if numbers else None)
    holder_status, holder = judge_holder(owners, [h for h, _ in parsed.holders])
    if holder_status is Status.FAIL and not parsed.holders_labelled:
        holder_status = Status.UNCERTAIN  # an unlabelled name may be the issuing body's
    until = held.valid_until
    date_status, read_until = (judge_date(until, [(d, p) for d, _, p in parsed.valid_until],
                                          [(d, p) for d, _, p in parsed.other_dates])
                               if until is not None else (Status.UNCERTAIN, None))
    parts = (
        Part(judge_number(want, numbers), "证书编号", f"qualifications.{key}.number",
             held.number, _shown_number(key, number_read),
             next((b for n, b in parsed.numbers if n == number_read), None)),
        Part(holder_status, "持有机构", "identity.legal_entity", owners[0], holder,
             next((b for h, b in parsed.holders if h == holder), None)),
        Part(date_status, "有效期至", f"qualifications.{key}.valid_until",
             format_date(until.isoformat()) if until else None,
             format_date(read_until.isoformat()) if read_until else None,
             next((b for d, b, _ in (*parsed.valid_until, *parsed.other_dates)
                   if d == read_until), None)),
    )
    implied = next((d for d in parsed.issued if until is not None and runs_until(d) == until),
                   None)
    if date_status is Status.UNCERTAIN and implied is not None:
        # The date itself is unreadable (a seal over it, as often): the issue date the copy
        # shows makes the record's validity, so it is that certificate.
        parts = (parts[0], parts[1], replace(parts[2], status=Status.PASS,
                                             by_issue_date=implied))
        date_status, read_until = Status.PASS, until
    shown = read_until if date_status in (Status.PASS, Status.FAIL) else None
    return Judged(result, copy, parsed, parts, shown)


def _confirmed(judged: list[Judged]) -> list[Judged]:
    """Both volumes bind a copy of the same certificate, so one volume's page settles what the
    other's leaves unsure: a holder or a date is the record's where the other volume's copy of
    that certificate (same number) shows it, and a value is another than the record's where
    the other volume's copy surely shows that same value. Nothing that fails is passed."""
    out = []
    for item in judged:
        others = [o for o in judged if o.copy != item.copy]
        parts = list(item.parts)
        valid_until = item.valid_until
        for i in range(3):
            if parts[i].status is not Status.UNCERTAIN:
                continue
            same = [o for o in others if o.parts[i].status is Status.FAIL
                    and parts[i].found is not None and o.parts[i].found == parts[i].found]
            if i > 0 and not same and parts[0].status is Status.PASS:
                same = [o for o in others if o.parts[0].status is Status.PASS
                        and o.parts[i].status is Status.PASS]
            if not same:
                continue
            page = same[0].result.page
            parts[i] = replace(parts[i], status=same[0].parts[i].status,
                               confirmed_by=(page.document, page.number))
            if i == 2:
                valid_until = same[0].valid_until
        out.append(replace(item, parts=(parts[0], parts[1], parts[2]), valid_until=valid_until))
    return out


def _findings(item: Judged, held: Held, form: str | None, reference: date | None,
              against: str) -> list[Finding]:
    parts, result, copy = item.parts, item.result, item.copy
    statuses = {p.status for p in parts}
    status = next(s for s in (Status.FAIL, Status.UNCERTAIN, Status.PASS) if s in statuses)
    worst = next(p for p in parts if p.status is status)
    copy_name = f"第{copy}份{held.name}复印件"
    if status is Status.PASS:
        message = f"{copy_name}的证书编号、持有机构和有效期与网上系统一致。"
    else:
        said = [_said(p) for p in parts if p.status is status]
        tail = "与网上系统不一致。" if status is Status.FAIL else "请人工核对。"
        message = f"{copy_name}{'；'.join(said)}，{tail}"
    confirmed = [p.label for p in parts if p.confirmed_by and p.status is status]
    if confirmed:
        message += f"（{'、'.join(confirmed)}本页未能清晰识别，已由另一份中同一证书复印件确认。）"
    implied = parts[2].by_issue_date
    if implied is not None and status is Status.PASS:
        message += (f"（有效期至未能清晰识别，由发证日期{format_date(implied.isoformat())}"
                    f"按证书有效期{VALID_YEARS}年推算。）")
    if form and canonical_code(form) != canonical_code(held.number):
        message += f"信息表中证书编号为“{form}”。"
    evidence = {
        "copy": copy, "certificate": held.key, "form_number": form,
        "issuer": item.parsed.issuer,
        "checks": {p.label: {"status": p.status.value, "expected": p.expected,
                             "found": p.found, "box": p.box.as_list() if p.box else None,
                             "confirmed_by": list(p.confirmed_by) if p.confirmed_by else None,
                             "by_issue_date": p.by_issue_date.isoformat() if p.by_issue_date
                             else None}
                   for p in parts},
    }
    findings = [finding(RULES, "certificate.copy", status, message, _where(result, worst.box),
                        field=worst.field, label=f"{held.name}{worst.label.removeprefix('证书')}",
                        expected=worst.expected, found=worst.found, evidence=evidence)]
    if item.valid_until is not None and reference is not None:
        findings.append(_in_force(result, copy_name, held.key, item.valid_until, reference,
                                  against, parts[2].box))
    return findings


def _shown_number(key: str, digits: str | None) -> str | None:
    if digits is None:
        return None
    return f"CNAS L{digits}" if key == "cnas" else digits


def _said(part: Part) -> str:
    if part.status is Status.FAIL:
        return f"{part.label}为“{part.found}”，网上系统为“{part.expected}”"
    if part.found is None:
        return f"{part.label}未能识别"
    return f"{part.label}识别为“{part.found}”（网上系统为“{part.expected}”）"


def _in_force(result: PageResult, copy_name: str, key: str, until: date, reference: date,
              against: str, box: Box | None) -> Finding:
    shown, on = format_date(until.isoformat()), format_date(reference.isoformat())
    where = _where(result, box)
    field = f"qualifications.{key}.valid_until"
    if until < reference:
        return finding(RULES, "certificate.in_force", Status.FAIL,
                       f"{copy_name}有效期至{shown}，早于{against}{on}，资质已失效"
                       "（复核不予通过情形2）。", where, field=field,
                       expected=f"≥{reference.isoformat()}", found=until.isoformat(),
                       evidence={"reference_date": reference.isoformat(), "against": against})
    return finding(RULES, "certificate.in_force", Status.PASS,
                   f"{copy_name}有效期至{shown}，{against}{on}有效。", where, field=field,
                   found=until.isoformat(), evidence={"reference_date": reference.isoformat()})


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None
