"""CMA and CNAS qualifications in force when the lab applied and, where the campaign sets one,
on the review date (ground 2: 资质失效)."""

from __future__ import annotations

from datetime import date

from intake.checks.campaign import campaign_config
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import format_date, record_value
from intake.model import Finding, Status
from intake.record import Record

CLAUSE = "七、2 国家实验室资质认定或实验室认可审查资质失效"
RULES = {"qualification.valid": ("资质认定和实验室认可在有效期内", CLAUSE)}
QUALIFICATIONS = (("cma", "资质认定（CMA）"), ("cnas", "实验室认可（CNAS）"))


def _day(value: object) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def check(results: list[PageResult], record: Record) -> list[Finding]:
    submitted = _day(record_value(record.data, "workflow.submitted"))
    config = campaign_config(record.campaign)
    review = config.review_date if config else None
    findings = []
    for key, name in QUALIFICATIONS:
        field = f"qualifications.{key}.valid_until"
        until = _day(record_value(record.data, field))
        if until is None or submitted is None:
            continue
        shown = format_date(until.isoformat())
        if until < submitted:
            findings.append(finding(
                RULES, "qualification.valid", Status.FAIL,
                f"{name}证书有效期至{shown}，早于申报日期{format_date(submitted.isoformat())}，"
                "资质已失效（复核不予通过情形2）。",
                field=field, expected=f"≥{submitted.isoformat()}", found=until.isoformat()))
        elif review is not None and until < review:
            # Valid when the lab applied, out of date by the review: the lab may have renewed
            # it since, which only its new certificate shows.
            findings.append(finding(
                RULES, "qualification.valid", Status.UNCERTAIN,
                f"{name}证书有效期至{shown}，申报时有效，但早于评审日期"
                f"{format_date(review.isoformat())}；请人工核实是否已换发新证书，"
                "否则属资质失效（复核不予通过情形2）。",
                field=field, expected=f"≥{review.isoformat()}", found=until.isoformat(),
                evidence={"review_date": review.isoformat()}))
        else:
            on = f"评审日期{format_date(review.isoformat())}" if review else "申报时"
            findings.append(finding(
                RULES, "qualification.valid", Status.PASS,
                f"{name}证书有效期至{shown}，{on}有效。", field=field, found=until.isoformat()))
    return findings
