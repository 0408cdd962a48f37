"""The formal review rules: one rule per module, each returning findings, never raising.

Every rule module has ``RULES`` (id -> Chinese title and work-plan clause) and
``check(results, record) -> list[Finding]``; a summary module (ground 8) reads the other
rules' findings instead, with ``summarise(findings) -> list[Finding]``.
"""

from __future__ import annotations

from intake.checks import (
    annual_reports,
    application,
    completeness,
    copies,
    credit_code,
    field_match,
    letter,
    misstatement,
    opinion,
    preliminary,
    qualification,
    ratios,
    roster,
    seals_present,
)
from intake.dossier import PageResult
from intake.model import Finding
from intake.record import Record

RULE_MODULES = (roster, application, completeness, copies, field_match, credit_code, ratios,
                seals_present, opinion, preliminary, letter, qualification, annual_reports)
SUMMARY_MODULES = (misstatement,)


def run_checks(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    for module in RULE_MODULES:
        findings.extend(module.check(results, record))
    for summary in SUMMARY_MODULES:
        findings.extend(summary.summarise(findings))
    return findings


def all_rules() -> dict[str, tuple[str, str]]:
    """Every rule id -> (Chinese title, work-plan clause)."""
    rules: dict[str, tuple[str, str]] = {}
    for module in (*RULE_MODULES, *SUMMARY_MODULES):
        rules.update(module.RULES)
    return rules
