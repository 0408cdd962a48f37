"""The work plan's failure grounds the paper and the record can show (grounds 1, 2, 4, 7, 8)."""

from dataclasses import replace
from datetime import date

import pytest

from intake.checks import (
    annual_reports,
    application,
    misstatement,
    preliminary,
    qualification,
    run_checks,
)
from intake.checks.campaign import campaign_config
from intake.model import Status, Verdict
from intake.verdict import verdict_of

from .conftest import approval, form_copy, letter


def _config(monkeypatch, module, **values):
    config = replace(campaign_config("2021"), **values)
    monkeypatch.setattr(f"intake.checks.{module}.campaign_config", lambda campaign: config)


# Ground 1 ----------------------------------------------------------------------------------

def test_an_application_confirmed_after_the_deadline_fails(record, monkeypatch):
    _config(monkeypatch, "application", application_deadline=date(2021, 2, 26))
    [found] = application.check([], record)
    assert (found.status, found.found, found.expected) == (Status.FAIL, "2021年3月1日",
                                                           "不晚于2021年2月26日")
    assert "情形1" in found.message


def test_an_application_on_the_deadline_day_passes(record, monkeypatch):
    _config(monkeypatch, "application", application_deadline=date(2021, 3, 1))
    assert [f.status for f in application.check([], record)] == [Status.PASS]


def test_without_a_deadline_or_a_campaign_file_ground_1_is_not_judged(record, monkeypatch):
    _config(monkeypatch, "application", application_deadline=None)
    assert application.check([], record) == []
    monkeypatch.setattr("intake.checks.application.campaign_config", lambda campaign: None)
    assert application.check([], record) == []


def test_a_garbled_confirmation_date_is_left_to_a_reviewer(record):
    record.data["workflow"]["confirmed"] = "三月"
    assert [f.status for f in application.check([], record)] == [Status.UNCERTAIN]


# Ground 2 ----------------------------------------------------------------------------------

def test_a_certificate_valid_at_application_but_lapsed_by_the_review_date_is_doubted(
        record, monkeypatch):
    _config(monkeypatch, "qualification", review_date=date(2023, 9, 1))
    by_field = {f.field: f for f in qualification.check([], record)}
    cma = by_field["qualifications.cma.valid_until"]  # valid until 2023-06-30
    assert cma.status is Status.UNCERTAIN
    assert "换发新证书" in cma.message
    assert by_field["qualifications.cnas.valid_until"].status is Status.PASS


def test_a_certificate_lapsed_before_the_application_fails_whatever_the_review_date(
        record, monkeypatch):
    _config(monkeypatch, "qualification", review_date=None)
    record.data["qualifications"]["cnas"]["valid_until"] = "2021-03-24"
    statuses = {f.field: f.status for f in qualification.check([], record)}
    assert statuses["qualifications.cnas.valid_until"] is Status.FAIL


# Ground 4 ----------------------------------------------------------------------------------

def test_a_record_showing_the_preliminary_review_not_passed_fails(record):
    record.data["opinions"]["recommending_unit"].update(agree=False, text="不同意该实验室通过初审。")
    findings = preliminary.check([], record)
    assert [(f.status, f.field) for f in findings] == [
        (Status.FAIL, "opinions.recommending_unit.agree"),
        (Status.PASS, "opinions.association.agree")]
    assert "情形4" in findings[0].message


# Ground 7 ----------------------------------------------------------------------------------

def test_no_annual_report_three_years_running_fails(record):
    record.data["quality_reports"] = {"2018": 0, "2019": 0, "2020": 0}
    [found] = annual_reports.check([], record)
    assert found.status is Status.FAIL
    assert found.found == "2018年0份、2019年0份、2020年0份"


@pytest.mark.parametrize("counts", [{"2018": 0, "2019": 0, "2020": 1},
                                    {"2018": 2, "2019": 3, "2020": 2}])
def test_a_report_in_any_of_the_three_years_passes(record, counts):
    record.data["quality_reports"] = counts
    assert [f.status for f in annual_reports.check([], record)] == [Status.PASS]


def test_a_record_without_every_year_says_nothing(record):
    record.data["quality_reports"] = {"2018": 0, "2019": 0}
    assert annual_reports.check([], record) == []


# Ground 8 ----------------------------------------------------------------------------------

def test_a_contradiction_is_marked_as_a_possible_misstatement_for_a_human(record, record_data):
    results = [*form_copy(record_data, 1, overrides={"business.total_reports": "15320 份"}),
               *form_copy(record_data, 2), approval(1), approval(2),
               letter(record_data["identity"]["lab_name"])]
    findings = run_checks(results, record)
    [note] = [f for f in findings if f.rule == "ground.misstatement"]
    assert note.status is Status.UNCERTAIN
    assert "可能存在填报不实，请人工核实" in note.message
    assert "虚报" not in note.message
    assert "瞒报" not in note.message
    assert note.evidence["contradictions"] == [
        {"field": "business.total_reports", "label": "出具检测或评价报告总数", "copy": 1,
         "expected": "15230 份", "found": "15320 份"}]
    assert verdict_of(findings) is Verdict.FAIL  # the field itself fails the formal review


def test_no_contradiction_no_doubt(record, clean_results):
    [note] = misstatement.summarise(run_checks(clean_results, record))
    assert note.status is Status.PASS
