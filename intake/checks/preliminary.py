"""The online system shows the preliminary review passed by the recommending unit and confirmed
by the association (ground 4: 复核申请未通过推荐单位初审)."""

from __future__ import annotations

from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import record_value
from intake.model import Finding, Status
from intake.record import Record

CLAUSE = "七、4 复核申请未通过推荐单位初审；六（四）初审确认"
RULES = {"ground.preliminary_passed": ("网上系统显示已通过推荐单位初审和行业协会初审确认", CLAUSE)}
STEPS = (("opinions.recommending_unit", "推荐单位初审", "情形4"),
         ("opinions.association", "行业协会初审确认", "六（四）"))


def check(results: list[PageResult], record: Record) -> list[Finding]:
    findings = []
    for key, step, ground in STEPS:
        agree = record_value(record.data, f"{key}.agree")
        text = str(record_value(record.data, f"{key}.text") or "")
        if agree is None:
            continue
        if agree is True:
            findings.append(finding(RULES, "ground.preliminary_passed", Status.PASS,
                                    f"网上系统显示已通过{step}。", field=f"{key}.agree",
                                    expected="通过", found=text or "通过"))
        else:
            findings.append(finding(
                RULES, "ground.preliminary_passed", Status.FAIL,
                f"网上系统显示未通过{step}（“{text}”），复核申请不予通过（{ground}）。",
                field=f"{key}.agree", expected="通过", found=text or "未通过"))
    return findings
