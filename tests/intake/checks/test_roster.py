"""Eligibility: the lab is on the campaign's roster, a data file per campaign."""

import json
from dataclasses import replace
from importlib import resources

from intake.checks import roster
from intake.checks.campaign import RosterEntry, campaign_config, parse_campaign
from intake.model import Status


def _roster(monkeypatch, *entries):
    config = replace(campaign_config("2021"), roster=tuple(entries))
    monkeypatch.setattr("intake.checks.roster.campaign_config", lambda campaign: config)


def test_the_2021_roster_is_the_generated_campaigns_63_ids_and_says_so():
    config = campaign_config("2021")
    assert config is not None
    # Derivable: the ids the sample generator gives the labs of a 2021 batch, 63 of them as
    # the campaign's 63 labs; no names, because we do not have 工信部科函〔2017〕489号's list.
    assert [e.lab_id for e in config.roster] == [f"L2021-{i:03d}" for i in range(1, 64)]
    assert {e.lab_name for e in config.roster} == {None}
    assert "secretariat" in config.provenance["roster"]
    assert config.provenance["roster"].startswith("generated")


def test_every_campaign_file_parses():
    for path in resources.files("intake").joinpath("data").iterdir():
        if path.name.startswith("campaign-") and path.name.endswith(".json"):
            config = parse_campaign(json.loads(path.read_text(encoding="utf-8")))
            assert path.name == f"campaign-{config.campaign}.json"


def test_a_lab_on_the_roster_passes(record):
    [found] = roster.check([], record)
    assert found.status is Status.PASS


def test_a_lab_not_on_the_roster_fails(record):
    record.data["lab_id"] = "L2021-064"
    [found] = roster.check([], record)
    assert (found.status, found.found) == (Status.FAIL, record.lab_name)
    assert "不在2021年复核对象名单内" in found.message


def test_a_named_roster_matches_by_name_across_widths_and_brackets(record, monkeypatch):
    _roster(monkeypatch, RosterEntry(None, "国家电线电缆产品质量控制和技术评价实验室", None))
    record.data["lab_id"] = "L2021-900"
    record.data["identity"]["lab_name"] = "国家 电线电缆产品质量控制和技术评价实验室。"
    assert [f.status for f in roster.check([], record)] == [Status.PASS]


def test_an_id_listed_under_another_name_or_a_renamed_lab_is_left_to_a_reviewer(
        record, monkeypatch):
    _roster(monkeypatch, RosterEntry("L2021-001", "国家光缆产品质量控制和技术评价实验室", None))
    assert [f.status for f in roster.check([], record)] == [Status.UNCERTAIN]
    _roster(monkeypatch, RosterEntry(None, "国家光缆产品质量控制和技术评价实验室",
                                     "上海国缆检测股份有限公司"))
    [found] = roster.check([], record)
    assert found.status is Status.UNCERTAIN
    assert "可能已更名" in found.message


def test_no_roster_no_finding(record, monkeypatch):
    monkeypatch.setattr("intake.checks.roster.campaign_config", lambda campaign: None)
    assert roster.check([], record) == []


def test_required_copies_come_from_the_campaign_file(record, record_data, monkeypatch):
    from intake.checks import completeness, opinion

    from .conftest import approval, form_copy

    assert campaign_config("2021").required_copies == {"volume": 2, "opinion": 2, "letter": 1}
    results = [*form_copy(record_data, 1), approval(1)]
    fails = {f.rule for f in completeness.check(results, record) + opinion.check(results, record)
             if f.status is Status.FAIL}
    assert fails == {"dossier.copies", "opinion.present"}
    config = replace(campaign_config("2021"), required_copies={"volume": 1, "opinion": 1})
    monkeypatch.setattr("intake.checks.campaign.campaign_config", lambda campaign: config)
    fails = {f.rule for f in completeness.check(results, record) + opinion.check(results, record)
             if f.status is Status.FAIL}
    assert fails == set()
