"""The lab applied for review in time: its online confirmation (确认复核) is no later than the
campaign's deadline (ground 1: 未按时提出复核申请)."""

from __future__ import annotations

from datetime import date

from intake.checks.campaign import campaign_config
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import format_date, record_value
from intake.model import Finding, Status
from intake.record import Record

CLAUSE = "七、1 未按时提出复核申请；六（一）确认复核：在线提出复核申请"
RULES = {"ground.application_in_time": ("按时提出复核申请", CLAUSE)}
KEY = "workflow.confirmed"


def check(results: list[PageResult], record: Record) -> list[Finding]:
    config = campaign_config(record.campaign)
    deadline = config.application_deadline if config else None
    value = record_value(record.data, KEY)
    if deadline is None or not value:
        return []  # no deadline configured for the campaign: nothing to hold the date against
    try:
        applied = date.fromisoformat(str(value))
    except ValueError:
        return [finding(RULES, "ground.application_in_time", Status.UNCERTAIN,
                        f"网上系统的确认复核日期“{value}”无法识别，请人工核对。", field=KEY,
                        found=str(value))]
    shown, limit = format_date(applied.isoformat()), format_date(deadline.isoformat())
    evidence = {"deadline": deadline.isoformat(), "source": config.provenance.get(
        "application_deadline", "") if config else ""}
    if applied > deadline:
        return [finding(RULES, "ground.application_in_time", Status.FAIL,
                        f"网上确认复核日期为{shown}，晚于本批次申请截止日期{limit}，"
                        "属于未按时提出复核申请（复核不予通过情形1）。", field=KEY,
                        expected=f"不晚于{limit}", found=shown, evidence=evidence)]
    return [finding(RULES, "ground.application_in_time", Status.PASS,
                    f"网上确认复核日期{shown}，在申请截止日期{limit}之前。", field=KEY,
                    expected=f"不晚于{limit}", found=shown, evidence=evidence)]
