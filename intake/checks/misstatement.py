"""Ground 8 for a human: where the paper contradicts the online record, say that the materials
may misstate facts and ask a reviewer to verify. The rule never accuses; it points."""

from __future__ import annotations

from collections.abc import Iterable

from intake.checks.rule import finding
from intake.model import Finding, Status

CLAUSE = "七、8 实验室在复核材料中有重大事项瞒报、虚报行为"
RULES = {"ground.misstatement": ("纸质材料与网上填报不一致（可能存在填报不实）", CLAUSE)}
NOTICE = "可能存在填报不实，请人工核实"
# The rules whose failures are the paper contradicting the record.
CONTRADICTIONS = ("field.match",)


def summarise(findings: Iterable[Finding]) -> list[Finding]:
    """One finding over the whole dossier: uncertain (for a reviewer) when any field of the
    paper contradicts the record, pass when none does."""
    found = [f for f in findings if f.rule in CONTRADICTIONS and f.status is Status.FAIL]
    if not found:
        return [finding(RULES, "ground.misstatement", Status.PASS,
                        "未发现纸质材料与网上填报内容相互矛盾之处。")]
    labels = list(dict.fromkeys(f.label or f.field or "" for f in found))
    return [finding(
        RULES, "ground.misstatement", Status.UNCERTAIN,
        f"纸质材料中「{'」「'.join(labels)}」与网上填报不一致，{NOTICE}（复核不予通过情形8需人工认定）。",
        found[0].location,
        evidence={"contradictions": [
            {"field": f.field, "label": f.label, "copy": f.evidence.get("copy"),
             "expected": f.expected, "found": f.found} for f in found]})]
