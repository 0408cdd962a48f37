"""The formal review rules: one rule per module, each returning findings, never raising.

Every rule module has ``RULES`` (id -> Chinese title and work-plan clause) and
``check(results, record) -> list[Finding]``; a summary module (ground 8) reads the other
rules' findings instead, with ``summarise(findings) -> list[Finding]``.
"""

from __future__ import annotations

from intake.checks import (
    annual_reports,
    application,
    certificates,
    completeness,
    copies,
    credit_code,
    field_match,
    letter,
    licence,
    misstatement,
    opinion,
    preliminary,
    printout,
    qualification,
    ratios,
    roster,
    scan_quality,
    seals_present,
)
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.model import Finding, Status
from intake.record import Record

RULE_MODULES = (roster, application, completeness, copies, field_match, credit_code, ratios,
                seals_present, opinion, preliminary, letter, qualification, certificates,
                licence, annual_reports, scan_quality, printout)
SUMMARY_MODULES = (misstatement,)


def run_checks(results: list[PageResult], record: Record,
               online: list[PageResult] | None = None) -> list[Finding]:
    """Every rule over the dossier's pages; ``online``, the online system's printout of the
    form when it is supplied, is compared with the paper page by page."""
    findings: list[Finding] = []
    for module in RULE_MODULES:
        findings.extend(module.check(results, record))
    if online is not None:  # every module ran without it; this one compares with it
        findings.extend(printout.check(results, record, online))
    findings = fold_fields_of_missing_pages(findings)
    findings = scan_quality.excuse(findings, results)
    for summary in SUMMARY_MODULES:
        findings.extend(summary.summarise(findings))
    return findings


def fold_fields_of_missing_pages(findings: list[Finding]) -> list[Finding]:
    """A copy short of a page is short of that page's fields too: one finding says which
    fields were not read, beside the missing page, instead of one per field."""
    short = {f.evidence.get("copy") for f in findings
             if f.rule == "pages.complete" and f.status is Status.FAIL and f.evidence.get("missing")}
    kept: list[Finding] = []
    folded: dict[int, list[Finding]] = {}
    for f in findings:
        copy = f.evidence.get("copy")
        if f.rule == "field.missing" and isinstance(copy, int) and copy in short:
            folded.setdefault(copy, []).append(f)
        else:
            kept.append(f)
    for copy, group in folded.items():
        if len(group) == 1:
            kept.append(group[0])
            continue
        labels = "、".join(f"「{f.label}」" for f in group)
        kept.append(finding(
            field_match.RULES, "field.missing", Status.UNCERTAIN,
            f"第{copy}份缺页，其上{len(group)}个栏目未读到：{labels}。请核对缺页后人工确认。",
            group[0].location, evidence={"copy": copy, "fields": [f.field for f in group]}))
    return kept


def all_rules() -> dict[str, tuple[str, str]]:
    """Every rule id -> (Chinese title, work-plan clause)."""
    rules: dict[str, tuple[str, str]] = {}
    for module in (*RULE_MODULES, *SUMMARY_MODULES):
        rules.update(module.RULES)
    return rules
