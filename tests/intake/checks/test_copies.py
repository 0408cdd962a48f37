"""Copy 1 and copy 2 of the volume, page by page."""

from dataclasses import replace

from intake.checks import copies
from intake.model import Box, Line, Reading, Status, TextSource

from .conftest import form_copy


def _set(results, key, text, source="tesseract", conf=95.0):
    out = []
    for result in results:
        fields = tuple(replace(f, text=text, readings=(Reading(text, conf, source),))
                       if f.key == key else f for f in result.fields)
        out.append(replace(result, fields=fields))
    return out


def _text(results, number, text, source=TextSource.TESSERACT):
    return [replace(r, page=replace(r.page, text_source=source,
                                    lines=(Line(text, Box(0, 0, 9, 9), 90.0),)))
            if r.page.footer and r.page.footer[0] == number else r for r in results]


def test_identical_copies_pass(record, record_data):
    findings = copies.check(form_copy(record_data, 1) + form_copy(record_data, 2), record)
    assert [(f.status, f.evidence["pages"]) for f in findings] == [(Status.PASS, [1, 2, 3, 4])]


def test_a_field_that_differs_in_copy_2_names_the_page_and_both_values(record, record_data):
    two = _set(form_copy(record_data, 2), "identity.postcode", "200064", "text-layer", 100.0)
    [bad] = copies.check(form_copy(record_data, 1) + two, record)
    assert (bad.status, bad.field, bad.expected, bad.found) == (
        Status.FAIL, "identity.postcode", "200063", "200064")
    assert bad.evidence == {"page": 2, "copy": 2}
    assert "第2页「邮政编码」" in bad.message
    assert bad.location.document == "volume-2.pdf"


def test_an_unsure_reading_in_one_copy_is_not_a_difference(record, record_data):
    two = _set(form_copy(record_data, 2), "identity.postcode", "2OOO63", conf=30.0)
    assert [f.status for f in copies.check(form_copy(record_data, 1) + two, record)] == [
        Status.PASS]


def test_printouts_whose_text_differs_fail_but_scans_are_compared_by_fields_only(
        record, record_data):
    one = _text(form_copy(record_data, 1), 3, "三、软硬件设施和人员情况 仪器设备总数", TextSource.TEXT_LAYER)
    two = _text(form_copy(record_data, 2), 3, "三、软硬件设施和人员情况 仪器设备总量", TextSource.TEXT_LAYER)
    [bad] = copies.check(one + two, record)
    assert (bad.status, bad.evidence["page"]) == (Status.FAIL, 3)
    # A heavy scan reads its twin page only a third alike: that is no evidence of a difference.
    one = _text(form_copy(record_data, 1), 3, "三、软硬件设施和人员情况仪器设备总数实验室人员总数")
    two = _text(form_copy(record_data, 2), 3, "某某某某某某")
    assert [f.status for f in copies.check(one + two, record)] == [Status.PASS]


def test_one_copy_alone_is_left_to_completeness(record, record_data):
    assert copies.check(form_copy(record_data, 1), record) == []
