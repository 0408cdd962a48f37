"""The credit code's check character, in the record and on each copy."""

from dataclasses import replace

from intake.checks import credit_code
from intake.model import Reading, Status

from .conftest import form_copy

VALID = "91350100M000100Y43"
MISTYPED = "91350100M000100Y44"


def _with_code(record_data, copy, *readings):
    results = form_copy(record_data, copy)
    out = []
    for result in results:
        fields = tuple(replace(f, text=readings[-1].text, readings=readings)
                       if f.key == "identity.credit_code" else f for f in result.fields)
        out.append(replace(result, fields=fields))
    return out


def _statuses(findings, where):
    return [(f.status, f.evidence.get("copy")) for f in findings if f.evidence["where"] == where]


def test_a_valid_code_passes_in_the_record_and_on_both_copies(record, record_data):
    results = form_copy(record_data, 1) + form_copy(record_data, 2)
    findings = credit_code.check(results, record)
    assert _statuses(findings, "record") == [(Status.PASS, None)]
    assert _statuses(findings, "paper") == [(Status.PASS, 1), (Status.PASS, 2)]


def test_a_record_code_with_a_wrong_check_character_fails(record, record_data):
    record.data["identity"]["credit_code"] = MISTYPED
    [found] = [f for f in credit_code.check([], record) if f.evidence["where"] == "record"]
    assert found.status is Status.FAIL
    assert "校验码应为“3”" in found.message


def test_a_printed_code_that_fails_its_check_fails_when_read_surely(record, record_data):
    results = _with_code(record_data, 1, Reading(MISTYPED, 100.0, "text-layer"))
    [found] = [f for f in credit_code.check(results, record) if f.evidence["where"] == "paper"]
    assert (found.status, found.found, found.location.page) == (Status.FAIL, MISTYPED, 2)
    assert found.evidence["problem"] == "校验码应为“3”，实为“4”"


def test_engines_that_disagree_leave_an_invalid_code_to_a_reviewer(record, record_data):
    results = _with_code(record_data, 1, Reading("91350100M000100Y48", 50.0, "tesseract"),
                         Reading(MISTYPED, 70.0, "rapidocr:cell"))
    [found] = [f for f in credit_code.check(results, record) if f.evidence["where"] == "paper"]
    assert found.status is Status.UNCERTAIN


def test_one_valid_reading_or_a_misread_letter_passes(record, record_data):
    results = _with_code(record_data, 1, Reading("91350100M000100Y4B", 60.0, "tesseract"),
                         Reading("9135O1OOM0OO1OOY43", 95.0, "rapidocr:cell"))
    [found] = [f for f in credit_code.check(results, record) if f.evidence["where"] == "paper"]
    assert found.status is Status.PASS


def test_a_garbled_record_never_raises(record):
    record.data["identity"]["credit_code"] = "x"
    [found] = credit_code.check([], record)
    assert found.status is Status.FAIL
    assert "18位" in found.message


def test_a_scanned_code_with_a_character_too_many_is_left_to_a_reviewer(record, record_data):
    results = _with_code(record_data, 1, Reading("91350100M0001000Y43", 95.0, "tesseract"))
    [found] = [f for f in credit_code.check(results, record) if f.evidence["where"] == "paper"]
    assert found.status is Status.UNCERTAIN
    assert found.evidence["problem"] == "应为18位，实为19位"
