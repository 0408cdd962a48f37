"""The recommending unit's opinion: agreeing, dated, and dated in step with the workflow."""

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.checks import opinion
from intake.checks.opinion import agreement
from intake.model import Status, TextSource

from .conftest import approval


@pytest.mark.parametrize("text", [
    "同意该实验室通过初审。", "经审查，材料齐全，同意推荐。", "同意 该实验室 通过 初审",
    "同意该實驗室通過初審。"])
def test_agreeing_opinions_agree(text):
    assert agreement(text) is True


@pytest.mark.parametrize("text", [
    "不同意该实验室通过初审。", "该实验室未通过初审。", "经审查，该实验室没有通过初审。",
    "材料不符合要求，不能通过初审。", "暂不同意推荐。", "不予通过。", "同意退回修改。"])
def test_refusals_and_negated_agreements_do_not(text):
    assert agreement(text) is False


def test_an_opinion_that_says_neither_is_left_to_a_reviewer():
    assert agreement("材料已收悉。") is None


def _date(record, page):
    [found] = [f for f in opinion.check([page], record) if f.rule == "opinion.date"]
    return found


def test_the_recorded_date_passes_in_any_printed_form(record):
    for text in ("2021年4月20日", "2021.4.20", "二〇二一年四月二十日", "2021-04-20"):
        assert _date(record, approval(1, date=text)).status is Status.PASS


def test_a_date_before_the_online_submission_fails_and_says_why(record):
    record.data["opinions"]["recommending_unit"]["date"] = "2021-03-20"
    found = _date(record, approval(1, date="2021年3月20日"))
    assert found.status is Status.FAIL
    assert found.evidence["problems"] == ["before_submission"]
    assert "早于网上填报提交日期2021年3月25日" in found.message


def test_a_date_after_the_association_confirmed_fails(record):
    record.data["opinions"]["recommending_unit"]["date"] = "2021-05-12"
    found = _date(record, approval(1, date="2021年5月12日"))
    assert found.evidence["problems"] == ["after_association"]
    assert found.status is Status.FAIL


def test_a_date_other_than_the_records_fails(record):
    found = _date(record, approval(2, date="2021年4月22日"))
    assert (found.status, found.expected, found.found) == (Status.FAIL, "2021年4月20日",
                                                           "2021年4月22日")
    assert (found.evidence["copy"], found.evidence["problems"]) == (2, ["differs_from_record"])


def test_the_opinions_dates_and_organisations_are_shown_as_tagged(record):
    page = approval(1, text="经上海市经济和信息化委员会审查，同意。", date="二〇二一年四月二十日")
    findings = {f.rule: f for f in opinion.check([page], record)}
    tagged = {(e["label"], e["text"], e["value"]) for e in findings["opinion.date"].evidence["entities"]}
    assert tagged == {("ORG", "上海市经济和信息化委员会", "上海市经济和信息化委员会"),
                      ("DATE", "二〇二一年四月二十日", "2021-04-20")}
    assert findings["opinion.agrees"].evidence["entities"] == findings["opinion.date"].evidence["entities"]


def test_an_undated_opinion_fails_on_a_text_layer_and_is_doubted_on_a_scan(record):
    scanned = approval(1, date="")
    assert _date(record, scanned).status is Status.UNCERTAIN
    printed = replace(scanned, page=replace(scanned.page, text_source=TextSource.TEXT_LAYER))
    found = _date(record, printed)
    assert found.status is Status.FAIL
    assert found.evidence["problems"] == ["undated"]


def test_a_record_with_garbled_dates_never_raises(record):
    record.data["workflow"]["submitted"] = "not a date"
    assert _date(record, approval(1)).status is Status.PASS


_FILLER = st.text(alphabet=st.sampled_from(list("经审查材料齐全内容真实规范完整，。该实验室")), max_size=15)


@given(_FILLER, _FILLER)
def test_any_agreement_agrees_and_any_negation_of_it_refuses(before, after):
    assert agreement(f"{before}同意该实验室通过初审{after}") is True
    assert agreement(f"{before}不同意该实验室通过初审{after}") is False
    assert agreement(f"{before}该实验室未通过初审{after}") is False
    assert agreement(f"{before}暂不同意该实验室通过初审{after}") is False
