"""The recommending unit's written opinion: present in both copies, agreeing, dated, and dated
in step with the online record (ground 4: 复核申请未通过推荐单位初审)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from intake.checks.campaign import in_words, required_copies
from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.extract import opinion_agrees
from intake.fields import format_date, record_value
from intake.language import tag
from intake.model import Finding, Location, PageKind, Status, TextSource
from intake.normalize import canonical_text, parse_date
from intake.record import Record

CLAUSE = "六（三）初步审查：推荐单位出具书面初审意见（一式两份）；七、4 复核申请未通过推荐单位初审"
RULES = {
    "opinion.present": ("推荐单位书面初审意见（一式两份）", CLAUSE),
    "opinion.agrees": ("推荐单位初审意见为同意", CLAUSE),
    "opinion.date": ("初审意见已注明日期且与网上系统及工作流程相符", CLAUSE),
}
REQUIRED_COPIES = 2  # unless the campaign's file says otherwise
# Refusals that ``opinion_agrees`` does not list: each one turns 同意…通过 into its opposite.
_MORE_NEGATIONS = ("没有通过", "不能通过", "无法通过", "不宜", "拒绝", "否决", "不符合要求",
                   "不满足", "未予", "尚未通过", "暂不")


def agreement(text: str) -> bool | None:
    """True for an agreeing opinion (同意…通过初审), False for a refusal or a negated
    agreement, None when it says neither."""
    flat = canonical_text(text)
    if any(neg in flat for neg in _MORE_NEGATIONS):
        return False
    return opinion_agrees(text)


def check(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    copies = copies_of(results, PageKind.APPROVAL)
    required = required_copies(record.campaign, "opinion", REQUIRED_COPIES)
    if len(copies) < required:
        findings.append(finding(
            RULES, "opinion.present", Status.FAIL,
            f"推荐单位书面初审意见（审批情况页）应一式{in_words(required)}份，只识别到{len(copies)}份。",
            expected=str(required), found=str(len(copies))))
    workflow = _Workflow.of(record)
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
            agrees = agreement(opinion.text)
            status = {True: Status.PASS, False: Status.FAIL, None: Status.UNCERTAIN}[agrees]
            message = {
                Status.PASS: f"第{copy}份初审意见为同意：“{opinion.text}”。",
                Status.FAIL: f"第{copy}份初审意见不是同意：“{opinion.text}”（复核不予通过情形4）。",
                Status.UNCERTAIN: f"第{copy}份初审意见无法判断是否同意：“{opinion.text}”，请人工核对。",
            }[status]
            # What the tagger saw in the opinion, for a reviewer to check against the page.
            entities = [e.as_dict() for e in tag(f"{opinion.text}\n{opinion.date_text}")]
            findings.append(finding(RULES, "opinion.agrees", status, message, where,
                                    expected="同意", found=opinion.text,
                                    evidence={"copy": copy, "entities": entities}))
            dated = _date_finding(copy, opinion.date_text, workflow, where,
                                  page.text_source is TextSource.TEXT_LAYER)
            findings.append(replace(dated, evidence={**dated.evidence, "entities": entities}))
    return findings


class _Workflow:
    """The online dates an opinion's date is held against."""

    def __init__(self, opinion: date | None, submitted: date | None,
                 association: date | None) -> None:
        self.opinion = opinion
        self.submitted = submitted
        self.association = association

    @classmethod
    def of(cls, record: Record) -> _Workflow:
        def day(key: str) -> date | None:
            value = record_value(record.data, key)
            try:
                return date.fromisoformat(str(value)) if value else None
            except ValueError:
                return None
        return cls(day("opinions.recommending_unit.date"), day("workflow.submitted"),
                   day("workflow.association_confirmed"))


def _shown(d: date | None) -> str | None:
    return format_date(d.isoformat()) if d else None


def _date_finding(copy: int, date_text: str, flow: _Workflow, where: Location,
                  exact_text: bool) -> Finding:
    expected = _shown(flow.opinion)
    if not date_text.strip():
        # A text layer prints whatever the page holds: no date there is no date on paper.
        status = Status.FAIL if exact_text else Status.UNCERTAIN
        tail = "" if exact_text else "，或日期未能识别，请人工核对"
        return finding(RULES, "opinion.date", status,
                       f"第{copy}份初审意见未注明日期{tail}。", where, expected=expected,
                       found="", evidence={"copy": copy, "problems": ["undated"]})
    found = parse_date(date_text)
    if found is None:
        return finding(RULES, "opinion.date", Status.UNCERTAIN,
                       f"第{copy}份初审意见的日期未能识别（“{date_text}”），请人工核对。", where,
                       expected=expected, found=date_text, evidence={"copy": copy})
    problems: list[str] = []
    parts: list[str] = []
    if flow.opinion and found != flow.opinion:
        problems.append("differs_from_record")
        parts.append(f"与网上系统的{expected}不一致")
    if flow.submitted and found < flow.submitted:
        problems.append("before_submission")
        parts.append(f"早于网上填报提交日期{_shown(flow.submitted)}")
    if flow.association and found > flow.association:
        problems.append("after_association")
        parts.append(f"晚于行业协会初审确认日期{_shown(flow.association)}")
    shown = _shown(found)
    evidence = {"copy": copy, "problems": problems}
    if problems:
        return finding(RULES, "opinion.date", Status.FAIL,
                       f"第{copy}份初审意见日期为{shown}，" + "，".join(parts) + "。", where,
                       expected=expected, found=shown, evidence=evidence)
    return finding(RULES, "opinion.date", Status.PASS,
                   f"第{copy}份初审意见日期{shown}与网上系统一致，在填报提交之后、协会确认之前。",
                   where, expected=expected, found=shown, evidence=evidence)
