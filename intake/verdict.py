"""The verdict a set of findings implies."""

from __future__ import annotations

from collections.abc import Iterable

from intake.model import Finding, Status, Verdict


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """fail if any finding fails; review if any could not be decided; else pass."""
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return Verdict.FAIL
    if Status.UNCERTAIN in statuses:
        return Verdict.REVIEW
    return Verdict.PASS
