"""The recommending unit's written opinion: present in both copies, agreeing, dated in step
with the online record (ground 4: 复核申请未通过推荐单位初审)."""

from __future__ import annotations

from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.extract import opinion_agrees
from intake.fields import format_date, record_value
from intake.model import Finding, Location, PageKind, Status
from intake.normalize import parse_date
from intake.record import Record

CLAUSE = "六（三）初步审查：推荐单位出具书面初审意见（一式两份）；七、4 复核申请未通过推荐单位初审"
RULES = {
    "opinion.present": ("推荐单位书面初审意见（一式两份）", CLAUSE),
    "opinion.agrees": ("推荐单位初审意见为同意", CLAUSE),
    "opinion.date": ("初审意见日期与网上系统一致", CLAUSE),
}
REQUIRED_COPIES = 2


def check(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    copies = copies_of(results, PageKind.APPROVAL)
    if len(copies) < REQUIRED_COPIES:
        findings.append(finding(
            RULES, "opinion.present", Status.FAIL,
            f"推荐单位书面初审意见（审批情况页）应一式两份，只识别到{len(copies)}份。",
            expected=str(REQUIRED_COPIES), found=str(len(copies))))
    want_date = record_value(record.data, "opinions.recommending_unit.date")
    submitted = record_value(record.data, "workflow.submitted")
    for copy, pages in copies.items():
        for result in pages:
            page = result.page
            opinion = result.opinion
            where = Location(page.document, page.number, opinion.box if opinion else None)
            if opinion is None or not opinion.text:
                findings.append(finding(
                    RULES, "opinion.present", Status.FAIL,
                    f"第{copy}份审批情况页未见“主管单位审批意见”的内容。", where))
                continue
            agrees = opinion_agrees(opinion.text)
            status = {True: Status.PASS, False: Status.FAIL, None: Status.UNCERTAIN}[agrees]
            message = {
                Status.PASS: f"第{copy}份初审意见为同意：“{opinion.text}”。",
                Status.FAIL: f"第{copy}份初审意见不是同意：“{opinion.text}”。",
                Status.UNCERTAIN: f"第{copy}份初审意见无法判断是否同意：“{opinion.text}”，请人工核对。",
            }[status]
            findings.append(finding(RULES, "opinion.agrees", status, message, where,
                                    expected="同意", found=opinion.text))
            findings.append(_date_finding(copy, opinion.date_text, want_date, submitted, where))
    return findings


def _date_finding(copy: int, date_text: str, want: object, submitted: object,
                  where: Location) -> Finding:
    expected = format_date(str(want)) if want else None
    found = parse_date(date_text)
    if found is None:
        return finding(RULES, "opinion.date", Status.UNCERTAIN,
                       f"第{copy}份初审意见的日期未能识别（“{date_text}”），请人工核对。", where,
                       expected=expected, found=date_text)
    if want and found.isoformat() != str(want):
        return finding(RULES, "opinion.date", Status.FAIL,
                       f"第{copy}份初审意见日期为{format_date(found.isoformat())}，"
                       f"网上系统为{expected}。", where, expected=expected,
                       found=format_date(found.isoformat()))
    if submitted and found.isoformat() < str(submitted):
        return finding(RULES, "opinion.date", Status.FAIL,
                       f"第{copy}份初审意见日期早于网上提交日期{format_date(str(submitted))}。",
                       where, expected=expected, found=format_date(found.isoformat()))
    return finding(RULES, "opinion.date", Status.PASS,
                   f"第{copy}份初审意见日期{format_date(found.isoformat())}与网上系统一致。",
                   where, expected=expected, found=format_date(found.isoformat()))
