"""The unified social credit code's check character (GB 32100-2015), in the online record and
on every copy of the form: a code that fails its own check is mistyped wherever it stands."""

from __future__ import annotations

from intake.checks.rule import finding
from intake.codes import credit_code_problem
from intake.dossier import PageResult, copies_of
from intake.fields import record_value
from intake.model import Field, Finding, PageKind, Status
from intake.normalize import canonical_credit_code
from intake.record import Record

CLAUSE = "六（五）形式审查：材料的格式（统一社会信用代码应符合GB 32100-2015）"
RULES = {"code.credit_check": ("统一社会信用代码校验码正确", CLAUSE)}
KEY = "identity.credit_code"
LABEL = "统一社会信用代码"
# As in the field judge: below this a lone reading is not trusted to fail a lab.
LONE_READING_CONF = 60.0
PRECISE_CONF = 90.0
CODE_LENGTH = 18


def check(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    stored = str(record_value(record.data, KEY) or "")
    if stored:
        problem = credit_code_problem(stored)
        findings.append(finding(
            RULES, "code.credit_check", Status.FAIL if problem else Status.PASS,
            f"网上填报的统一社会信用代码“{stored}”{problem}，请核实。" if problem
            else f"网上填报的统一社会信用代码“{stored}”校验码正确。",
            field=KEY, label=LABEL, expected=stored,
            evidence={"where": "record", "problem": problem}))
    for copy, pages in copies_of(results, PageKind.FORM).items():
        for result in pages:
            findings.extend(_paper_finding(copy, f) for f in result.fields if f.key == KEY)
    return findings


def _sure(field: Field) -> bool:
    """Whether the readings are firm enough to say the paper's code is wrong, not misread."""
    readings = field.readings
    if not readings:
        return False
    last = readings[-1]
    if last.source == "text-layer":
        return True
    if len(canonical_credit_code(last.text)) != CODE_LENGTH:
        return False  # a character gained or lost is far likelier the engine's than the printer's
    keys = {canonical_credit_code(r.text) for r in readings}
    if len(readings) == 1:
        return last.conf >= LONE_READING_CONF
    return len(keys) == 1 or last.conf >= PRECISE_CONF


def _paper_finding(copy: int, field: Field) -> Finding:
    texts = [r.text for r in field.readings] or [field.text]
    valid = next((t for t in texts if credit_code_problem(canonical_credit_code(t)) is None), None)
    evidence = {"copy": copy, "where": "paper",
                "readings": [{"text": r.text, "conf": round(r.conf, 1), "source": r.source}
                             for r in field.readings]}
    if valid is not None:
        return finding(RULES, "code.credit_check", Status.PASS,
                       f"第{copy}份统一社会信用代码“{valid}”校验码正确。", field.location,
                       field=KEY, label=LABEL, found=valid, evidence=evidence)
    found = texts[-1]
    problem = credit_code_problem(canonical_credit_code(found))
    evidence["problem"] = problem
    if _sure(field):
        return finding(RULES, "code.credit_check", Status.FAIL,
                       f"第{copy}份统一社会信用代码“{found}”{problem}，代码有误。", field.location,
                       field=KEY, label=LABEL, found=found, evidence=evidence)
    return finding(RULES, "code.credit_check", Status.UNCERTAIN,
                   f"第{copy}份统一社会信用代码识别为“{found}”，校验未通过，可能是识别错误，"
                   "请人工核对。", field.location, field=KEY, label=LABEL, found=found,
                   evidence=evidence)
