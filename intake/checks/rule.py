"""What every rule module shares: building a finding from a rule id."""

from __future__ import annotations

from typing import Any

from intake.model import Finding, Location, Status


def finding(
    rules: dict[str, tuple[str, str]],
    rule: str,
    status: Status,
    message: str,
    location: Location | None = None,
    **extra: Any,
) -> Finding:
    title, clause = rules[rule]
    return Finding(rule=rule, title=title, status=status, clause=clause, message=message,
                   location=location, **extra)
