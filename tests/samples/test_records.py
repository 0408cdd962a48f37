"""Online records: schema, credit codes, invariants, shared associations."""

from __future__ import annotations

import copy
import json
from collections import Counter
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from intake.codes import is_valid_credit_code
from intake.fields import form_fields, quality_report_years, record_value
from samples.generate import plan_batch
from samples.record import ratio, record_problems, schema


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return [lab.record for seed in range(6) for lab in plan_batch(labs=10, seed=seed).labs]


def test_schema_is_valid_2020_12_and_versioned() -> None:
    text = resources.files("samples").joinpath("record.schema.json").read_text("utf-8")
    loaded = json.loads(text)
    Draft202012Validator.check_schema(loaded)
    assert "record/v1" in loaded["$id"]
    assert loaded["properties"]["schema_version"] == {"const": "1"}


def test_records_validate_and_have_valid_credit_codes(records: list[dict]) -> None:
    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    for rec in records:
        assert list(validator.iter_errors(rec)) == []
        assert record_problems(rec) == []
        assert is_valid_credit_code(rec["identity"]["credit_code"])


def test_every_form_field_has_a_value(records: list[dict]) -> None:
    for rec in records:
        for spec in form_fields(rec["campaign"]):
            assert record_value(rec, spec.key) is not None, spec.key


def test_ratios_dates_and_years_are_consistent(records: list[dict]) -> None:
    for rec in records:
        res = rec["resources"]
        assert res["equipment_leading_ratio"] == ratio(res["equipment_leading"],
                                                       res["equipment_total"])
        assert res["staff_senior_ratio"] == ratio(res["staff_senior"], res["staff_total"])
        flow = rec["workflow"]
        assert flow["confirmed"] <= flow["submitted"] <= flow["preliminary_reviewed"] \
            <= flow["association_confirmed"]
        assert rec["opinions"]["association"]["date"] == flow["association_confirmed"]
        assert sorted(rec["quality_reports"]) == [str(y) for y in quality_report_years("2021")]


def test_certificates_are_mostly_valid_after_the_campaign(records: list[dict]) -> None:
    later = [r for r in records if r["qualifications"]["cma"]["valid_until"] > "2021-12-31"]
    assert len(later) > 0.75 * len(records)
    for rec in records:  # and all valid on the day of submission, without discrepancies
        assert rec["qualifications"]["cma"]["valid_until"] > rec["workflow"]["submitted"]


def test_labs_share_associations_and_names_are_unique() -> None:
    labs = plan_batch(labs=10, seed=3).labs
    associations = Counter(lab.record["identity"]["association"] for lab in labs)
    assert max(associations.values()) >= 2
    names = [lab.record["identity"]["lab_name"] for lab in labs]
    assert len(set(names)) == len(names)
    day = {lab.record["identity"]["association"]: lab.record["workflow"]["association_confirmed"]
           for lab in labs}
    for lab in labs:  # one letter, one date, per association
        assert lab.record["workflow"]["association_confirmed"] == \
            day[lab.record["identity"]["association"]]


def test_other_campaign_years() -> None:
    rec = plan_batch(labs=1, seed=1, campaign="2024").labs[0].record
    assert sorted(rec["quality_reports"]) == ["2021", "2022", "2023"]
    assert rec["workflow"]["submitted"].startswith("2024-")
    assert record_problems(rec) == []


def test_record_problems_catches_broken_records(records: list[dict]) -> None:
    rec = copy.deepcopy(records[0])
    code = rec["identity"]["credit_code"]
    rec["identity"]["credit_code"] = code[:17] + ("0" if code[17] != "0" else "1")
    rec["resources"]["staff_senior_ratio"] += 1.0
    problems = record_problems(rec)
    assert any("credit_code" in p for p in problems)
    assert any("staff_senior_ratio" in p for p in problems)
    rec = copy.deepcopy(records[0])
    rec["identity"]["postcode"] = "12345"
    assert any("postcode" in p for p in record_problems(rec))


def test_same_seed_same_records() -> None:
    a = [lab.record for lab in plan_batch(labs=4, seed=42).labs]
    b = [lab.record for lab in plan_batch(labs=4, seed=42).labs]
    c = [lab.record for lab in plan_batch(labs=4, seed=43).labs]
    assert a == b
    assert a != c


def test_discrepancies_do_not_change_the_clean_records() -> None:
    clean = plan_batch(labs=4, seed=8).labs
    dirty = plan_batch(labs=4, seed=8, discrepancies=3).labs
    assert [lab.record for lab in clean] == [lab.record for lab in dirty]
