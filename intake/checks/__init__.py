"""The formal review rules: one rule per module, each returning findings, never raising.

Every rule module has ``RULES`` (id -> Chinese title and work-plan clause) and
``check(results, record) -> list[Finding]``.
"""

from __future__ import annotations

from intake.checks import (
    completeness,
    field_match,
    letter,
    opinion,
    qualification,
    seals_present,
)
from intake.dossier import PageResult
from intake.model import Finding
from intake.record import Record

RULE_MODULES = (completeness, field_match, seals_present, opinion, letter, qualification)


def run_checks(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    for module in RULE_MODULES:
        findings.extend(module.check(results, record))
    return findings


def all_rules() -> dict[str, tuple[str, str]]:
    """Every rule id -> (Chinese title, work-plan clause)."""
    rules: dict[str, tuple[str, str]] = {}
    for module in RULE_MODULES:
        rules.update(module.RULES)
    return rules
