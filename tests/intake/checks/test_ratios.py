"""A printed share against the printed counts, on paper and in the record."""

from dataclasses import replace

from intake.checks import ratios
from intake.model import Reading, Status

from .conftest import form_copy


def _printed(record_data, copy, values, source="tesseract", conf=95.0):
    out = []
    for result in form_copy(record_data, copy):
        fields = tuple(replace(f, text=values[f.key], readings=(Reading(values[f.key], conf,
                                                                        source),))
                       if f.key in values else f for f in result.fields)
        out.append(replace(result, fields=fields))
    return out


def test_shares_that_fit_the_counts_pass(record, record_data):
    findings = ratios.check(form_copy(record_data, 1) + form_copy(record_data, 2), record)
    assert [(f.status, f.field, f.evidence["copy"]) for f in findings] == [
        (Status.PASS, "resources.equipment_leading_ratio", 1),
        (Status.PASS, "resources.staff_senior_ratio", 1),
        (Status.PASS, "resources.equipment_leading_ratio", 2),
        (Status.PASS, "resources.staff_senior_ratio", 2)]


def test_a_share_truncated_instead_of_rounded_passes(record, record_data):
    # 50/85 = 58.82...: 58.8 printed by the system; 58.9 or 58.7 is a rounding slip at most.
    findings = ratios.check(_printed(record_data, 1, {
        "resources.staff_senior_ratio": "58.7%"}), record)
    assert {f.status for f in findings} == {Status.PASS}


def test_a_share_that_does_not_fit_the_printed_counts_fails(record, record_data):
    # The paper prints its own share in both copies, firmly read: the record says 33.7.
    results = _printed(record_data, 1, {"resources.equipment_leading_ratio": "38.2%"},
                       source="text-layer", conf=100.0)
    [bad] = [f for f in ratios.check(results, record) if f.status is not Status.PASS]
    assert (bad.status, bad.field, bad.expected, bad.found) == (
        Status.FAIL, "resources.equipment_leading_ratio", "33.7%", "38.2%")
    assert bad.evidence == {"copy": 1, "part": "120", "total": "356", "share": "38.2",
                            "computed": "33.7"}
    assert bad.location is not None


def test_a_count_changed_on_paper_breaks_its_share(record, record_data):
    results = _printed(record_data, 2, {"resources.staff_total": "95 人"}, "text-layer", 100.0)
    [bad] = [f for f in ratios.check(results, record) if f.status is not Status.PASS]
    assert (bad.status, bad.field, bad.expected) == (Status.FAIL, "resources.staff_senior_ratio",
                                                     "52.6%")


def test_an_unsure_reading_leaves_the_mismatch_to_a_reviewer(record, record_data):
    results = _printed(record_data, 1, {"resources.equipment_leading_ratio": "38.2%"},
                       conf=40.0)
    [bad] = [f for f in ratios.check(results, record) if f.status is not Status.PASS]
    assert bad.status is Status.UNCERTAIN


def test_shares_printed_in_chinese_numerals_are_read(record, record_data):
    results = _printed(record_data, 1, {"resources.equipment_leading_ratio": "百分之三十三点七"})
    assert {f.status for f in ratios.check(results, record)} == {Status.PASS}


def test_a_record_whose_share_does_not_fit_its_counts_fails(record):
    record.data["resources"]["staff_senior_ratio"] = 68.8
    [bad] = ratios.check([], record)
    assert (bad.status, bad.evidence["where"], bad.expected) == (Status.FAIL, "record", "58.8%")


def test_more_part_than_total_and_a_zero_total(record):
    record.data["resources"].update(staff_senior=90, staff_senior_ratio=105.9)
    record.data["resources"].update(equipment_total=0, equipment_leading=0,
                                    equipment_leading_ratio=0.0)
    findings = ratios.check([], record)
    assert [(f.status, f.field) for f in findings] == [(Status.FAIL, "resources.staff_senior_ratio")]
