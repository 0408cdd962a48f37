"""Eligibility: the lab is one the campaign reviews (the 2021 campaign: the 63 labs announced in
工信部科函〔2017〕489号), by its online-system id or, where the roster names labs, by name."""

from __future__ import annotations

from rapidfuzz import fuzz

from intake.checks.campaign import RosterEntry, campaign_config
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import record_value
from intake.model import Finding, Status
from intake.normalize import canonical_name
from intake.record import Record

CLAUSE = "二、复核对象：工信部科函〔2017〕489号公布的63家实验室"
RULES = {"roster.listed": ("实验室属于本批次复核对象", CLAUSE)}
NAME_MATCH = 90.0


def _same(a: str | None, b: str | None) -> bool:
    return bool(a and b) and fuzz.ratio(canonical_name(a or ""), canonical_name(b or "")) >= NAME_MATCH


def check(results: list[PageResult], record: Record) -> list[Finding]:
    config = campaign_config(record.campaign)
    if config is None or not config.roster:
        return []  # no roster installed for this campaign: eligibility is not checked
    name = record.lab_name
    entity = str(record_value(record.data, "identity.legal_entity") or "")
    evidence = {"campaign": config.campaign, "source": config.provenance.get("roster", "")}
    by_id = next((e for e in config.roster if e.lab_id and e.lab_id == record.lab_id), None)
    if by_id is not None:
        return [_listed_by_id(by_id, record.lab_id, name, evidence)]
    by_name = next((e for e in config.roster if _same(e.lab_name, name)), None)
    if by_name is not None:
        return [finding(RULES, "roster.listed", Status.PASS,
                        f"“{name}”在{config.campaign}年复核对象名单内。", field="identity.lab_name",
                        expected=by_name.lab_name, found=name, evidence=evidence)]
    by_entity = next((e for e in config.roster if _same(e.legal_entity, entity)), None)
    if by_entity is not None:
        return [finding(RULES, "roster.listed", Status.UNCERTAIN,
                        f"“{name}”不在复核对象名单内，但其归属法人单位“{entity}”名下有"
                        f"“{by_entity.lab_name}”，可能已更名，请人工核对。", field="identity.lab_name",
                        expected=by_entity.lab_name, found=name, evidence=evidence)]
    return [finding(RULES, "roster.listed", Status.FAIL,
                    f"“{name}”（{record.lab_id}）不在{config.campaign}年复核对象名单内。",
                    field="identity.lab_name", expected="名单内实验室", found=name,
                    evidence=evidence)]


def _listed_by_id(entry: RosterEntry, lab_id: str, name: str,
                  evidence: dict[str, str]) -> Finding:
    if entry.lab_name is None or _same(entry.lab_name, name):
        return finding(RULES, "roster.listed", Status.PASS,
                       f"{lab_id}在复核对象名单内。", field="lab_id", expected=lab_id,
                       found=lab_id, evidence=evidence)
    return finding(RULES, "roster.listed", Status.UNCERTAIN,
                   f"{lab_id}在复核对象名单内，但名单上的名称为“{entry.lab_name}”，"
                   f"网上填报为“{name}”，请人工核对是否已更名。", field="identity.lab_name",
                   expected=entry.lab_name, found=name, evidence=evidence)
