"""The association's letter names this lab: the decision and the names a reviewer sees."""

from dataclasses import replace

from intake.checks import letter
from intake.model import Box, Line, Status

from .conftest import letter as letter_page


def _names_lab(record, page):
    [found] = letter.check([page], record)
    assert found.rule == "letter.names_lab"
    return found


def test_a_letter_listing_the_lab_passes_and_shows_the_name_it_printed(record):
    found = _names_lab(record, letter_page(record.lab_name))
    assert found.status is Status.PASS
    assert found.found == record.lab_name
    assert found.evidence["named"] == record.lab_name


def test_a_letter_listing_other_labs_fails_and_shows_what_it_names(record):
    page = letter_page("国家机器人质量控制和技术评价实验室")
    page = replace(page, page=replace(page.page, lines=(
        *page.page.lines, Line("中国电器工业协会 2021年5月10日", Box(0, 40, 10, 10), 90.0))))
    found = _names_lab(record, page)
    assert found.status is Status.FAIL
    tagged = {(e["label"], e["text"]) for e in found.evidence["entities"]}
    assert {("ORG", "国家机器人质量控制和技术评价实验室"), ("ORG", "中国电器工业协会"),
            ("DATE", "2021年5月10日")} <= tagged
    assert found.evidence["named"] is None


def test_a_name_wrapped_over_two_lines_is_still_found(record):
    name = record.lab_name
    page = letter_page("")
    page = replace(page, page=replace(page.page, lines=(
        Line(name[:8], Box(0, 0, 10, 10), 90.0), Line(name[8:], Box(0, 20, 10, 10), 90.0))))
    assert _names_lab(record, page).status is Status.PASS


def test_no_letter_fails(record):
    [found] = letter.check([], record)
    assert (found.rule, found.status) == ("letter.present", Status.FAIL)
