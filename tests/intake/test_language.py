"""Free-text tagging: what a reviewer sees tagged in an opinion, a letter or a certificate."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.language import CERT_NO, CREDIT_CODE, DATE, ORG, PERCENT, entities_of, pipeline, tag
from intake.normalize import render_date


def _tags(text):
    return [(e.label, e.text, e.value) for e in tag(text)]


@pytest.mark.parametrize(("text", "iso"), [
    ("2021年3月5日", "2021-03-05"), ("2021.3.5", "2021-03-05"), ("2021-03-05", "2021-03-05"),
    ("二〇二一年三月五日", "2021-03-05"), ("２０２１年３月５日", "2021-03-05"),
    ("2021 年 3 月 5 曰", "2021-03-05")])
def test_dates_in_every_printed_form_are_tagged_with_their_day(text, iso):
    [date] = entities_of(f"（盖章）\n{text}\n", DATE)
    assert (date.text, date.value) == (text, iso)


def test_percentages_in_figures_and_in_words():
    assert [(e.text, e.value) for e in entities_of("领先水平占85%，高级职称占百分之八十五点五。",
                                                   PERCENT)] == [("85%", "85"),
                                                                 ("百分之八十五点五", "85.5")]


def test_organisations_are_cut_at_the_words_before_them():
    text = ("同意上海市经济和信息化委员会的意见。我会组织对本行业所属的6家实验室进行了初审确认，"
            "下列实验室：国家电线电缆产品质量控制和技术评价实验室 上海国缆检测股份有限公司")
    assert [e.text for e in entities_of(text, ORG)] == [
        "上海市经济和信息化委员会", "国家电线电缆产品质量控制和技术评价实验室", "上海国缆检测股份有限公司"]


def test_pointers_to_an_organisation_are_not_names():
    assert entities_of("同意该实验室通过初审。本协会确认。", ORG) == []


def test_codes_and_certificate_numbers_as_the_certificates_print_them():
    text = ("证书编号：201719123456\nCMA\n201719123456\n（注册号：CNAS L0234）\n"
            "统一社会信用代码：91350100M000100Y43\n联系电话：021-62574990")
    assert _tags(text) == [
        (CERT_NO, "201719123456", "201719123456"), (CERT_NO, "201719123456", "201719123456"),
        (CERT_NO, "CNAS L0234", "CNAS L0234"),
        (CREDIT_CODE, "91350100M000100Y43", "91350100M000100Y43")]


def test_a_certificate_number_is_not_read_as_a_date():
    assert entities_of("证书编号：202104201234", DATE) == []


def test_the_pipeline_is_built_once_and_needs_no_model():
    assert pipeline() is pipeline()
    assert pipeline().pipe_names == ["intake_entities"]


def test_text_without_entities_gives_none():
    assert tag("") == ()
    assert tag("材料已收悉。") == ()


def test_a_name_never_runs_over_a_line_break_or_names_the_programme():
    text = "序号\n实验室名称\n《2021年工业产品质量控制和技术评价实验室复核工作方案》\n中国电器工业协会"
    assert [e.text for e in entities_of(text, ORG)] == ["中国电器工业协会"]


_FILLER = st.text(alphabet=st.sampled_from(list("经审查同意该实验室通过初审，。（盖章）推荐单位 \n")),
                  max_size=12)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31)),
       st.sampled_from(["ymd", "ymd0", "dots", "iso", "slash", "chinese"]), _FILLER, _FILLER)
def test_any_printed_date_in_any_sentence_is_tagged_with_its_day(day, form, before, after):
    [tagged] = entities_of(f"{before}{render_date(day, form)}{after}", DATE)
    assert tagged.value == day.isoformat()
