"""CMA and CNAS qualifications in force when the lab applied (ground 2: 资质失效)."""

from __future__ import annotations

from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import format_date, record_value
from intake.model import Finding, Status
from intake.record import Record

CLAUSE = "七、2 国家实验室资质认定或实验室认可审查资质失效"
RULES = {"qualification.valid": ("资质认定和实验室认可在有效期内", CLAUSE)}
QUALIFICATIONS = (("cma", "资质认定（CMA）"), ("cnas", "实验室认可（CNAS）"))


def check(results: list[PageResult], record: Record) -> list[Finding]:
    submitted = record_value(record.data, "workflow.submitted")
    findings = []
    for key, name in QUALIFICATIONS:
        until = record_value(record.data, f"qualifications.{key}.valid_until")
        if not until or not submitted:
            continue
        if str(until) < str(submitted):
            findings.append(finding(
                RULES, "qualification.valid", Status.FAIL,
                f"{name}证书有效期至{format_date(str(until))}，早于申报日期"
                f"{format_date(str(submitted))}，资质已失效。",
                field=f"qualifications.{key}.valid_until", expected=f"≥{submitted}",
                found=str(until)))
        else:
            findings.append(finding(
                RULES, "qualification.valid", Status.PASS,
                f"{name}证书有效期至{format_date(str(until))}，申报时有效。",
                field=f"qualifications.{key}.valid_until", found=str(until)))
    return findings
