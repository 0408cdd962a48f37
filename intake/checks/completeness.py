"""The dossier is whole: two copies of the volume, every page numbered, none missing or doubled,
every page readable."""

from __future__ import annotations

from collections import Counter

from intake.checks.campaign import in_words, required_copies
from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.model import Finding, Location, PageKind, Status

CLAUSE_COPIES = "六（三）初步审查：在线打印申请材料，加盖公章后装订成册（一式两份）"
CLAUSE_FORMAT = "六（五）形式审查：材料的格式"
RULES = {
    "dossier.copies": ("申请材料装订册一式两份", CLAUSE_COPIES),
    "pages.complete": ("页码连续、无缺页重页", CLAUSE_FORMAT),
    "pages.readable": ("每页均可识读", CLAUSE_FORMAT),
}
REQUIRED_COPIES = 2  # unless the campaign's file says otherwise


def check(results: list[PageResult], record: object) -> list[Finding]:
    findings: list[Finding] = []
    for result in results:
        if result.error:
            page = result.page
            findings.append(finding(
                RULES, "pages.readable", Status.UNCERTAIN,
                f"{page.document} 第{page.number}页无法识读：{result.error}",
                Location(page.document, page.number)))
    # The approval page carries the form's last page number, so it completes the numbering.
    numbered = [r for r in results if r.page.kind in (PageKind.FORM, PageKind.APPROVAL)]
    copies = copies_of(results, PageKind.FORM)
    approvals = copies_of(results, PageKind.APPROVAL)
    count = len(copies)
    required = required_copies(getattr(record, "campaign", ""), "volume", REQUIRED_COPIES)
    if count < required:
        where = Location(numbered[0].page.document, numbered[0].page.number) if numbered else None
        findings.append(finding(
            RULES, "dossier.copies", Status.FAIL,
            f"申请材料装订册应一式{in_words(required)}份，只识别到{count}份。",
            where, expected=str(required), found=str(count)))
    for copy, pages in copies.items():
        footers = [r.page.footer for r in pages + approvals.get(copy, []) if r.page.footer]
        if not footers:
            continue
        total = Counter(m for _, m in footers).most_common(1)[0][0]
        counts = Counter(n for n, _ in footers)
        missing = [n for n in range(1, total + 1) if n not in counts]
        doubled = [n for n, c in counts.items() if c > 1]
        first = pages[0].page
        where = Location(first.document, first.number)
        if missing or doubled:
            parts = []
            if missing:
                parts.append("缺少第" + "、".join(map(str, missing)) + "页")
            if doubled:
                parts.append("第" + "、".join(map(str, sorted(doubled))) + "页重复")
            findings.append(finding(
                RULES, "pages.complete", Status.FAIL,
                f"第{copy}份申报信息表共{total}页，" + "，".join(parts) + "。", where,
                expected=f"1–{total}", found="、".join(map(str, sorted(counts))),
                evidence={"copy": copy, "missing": missing, "doubled": sorted(doubled)}))
        else:
            findings.append(finding(
                RULES, "pages.complete", Status.PASS,
                f"第{copy}份申报信息表共{total}页，页码连续完整。", where,
                evidence={"copy": copy}))
    return findings
