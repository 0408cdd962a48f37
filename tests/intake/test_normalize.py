from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.fields import FieldKind
from intake.normalize import (
    canonical,
    canonical_credit_code,
    chinese_numeral,
    clean_ocr_text,
    parse_date,
    parse_decimal,
)


@pytest.mark.parametrize(
    "text",
    ["2021年3月5日", "2021年03月05日", "2021.3.5", "2021-03-05", "2021/3/5",
     "二〇二一年三月五日", "２０２１年３月５日", "2021 年 3 月 5 日"],
)
def test_every_printed_date_form_reads_as_the_same_day(text):
    assert canonical(FieldKind.DATE, text) == "2021-03-05"


def test_impossible_date_is_not_a_date():
    assert parse_date("2021年2月30日") is None
    assert parse_date("暂无") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("356 台（套）", 356), ("三百五十六", 356), ("1,234 份", 1234), ("十二", 12),
     ("二十", 20), ("一万零五", 10005), ("２５ 人", 25)],
)
def test_counts_read_with_units_and_chinese_numerals(text, value):
    assert canonical(FieldKind.INT, text) == str(value)


def test_amounts_and_percentages_compare_at_printed_places():
    assert canonical(FieldKind.DECIMAL, "5,230.5 万元", 2) == "5230.50"
    assert canonical(FieldKind.DECIMAL, "5230.50万元", 2) == canonical(FieldKind.DECIMAL, "5230.5", 2)
    assert canonical(FieldKind.PERCENT, "33.7%", 1) == "33.7"
    assert canonical(FieldKind.PERCENT, "33.7%", 1) != canonical(FieldKind.PERCENT, "37.3%", 1)


def test_a_value_with_two_numbers_is_not_one_amount():
    assert parse_decimal("12 或 13") is None


def test_names_compare_across_widths_brackets_and_traditional_forms():
    a = canonical(FieldKind.NAME, "国家电线电缆质量监督检验中心（上海）")
    assert a == canonical(FieldKind.NAME, "国家电线电缆质量監督檢驗中心(上海)")
    assert a == canonical(FieldKind.NAME, "国家 电线电缆 质量监督检验中心 （上海）。")
    assert a != canonical(FieldKind.NAME, "国家电线电缆质量监督检验中心（江苏）")


def test_codes_ignore_spaces_and_width_but_not_digits():
    assert canonical(FieldKind.CODE, "CNAS L 1234") == canonical(FieldKind.CODE, "ＣＮＡＳ L1234")
    assert canonical(FieldKind.CODE, "CNAS L1234") != canonical(FieldKind.CODE, "CNAS L1243")


def test_credit_code_letters_outside_the_charset_read_as_digits():
    assert canonical_credit_code("91310O00I32O6789X1") == "9131000013206789X1"


def test_spaces_between_chinese_characters_are_removed_but_not_between_latin_words():
    assert clean_ocr_text("国 家 质 量  CMA 编号 2101") == "国家质量CMA编号2101"
    assert clean_ocr_text("CNAS L1234") == "CNAS L1234"
    assert clean_ocr_text("电话： 021-6257") == "电话：021-6257"


@given(st.integers(min_value=0, max_value=99_999_999))
def test_every_integer_round_trips_through_its_printed_form(n):
    assert canonical(FieldKind.INT, f"{n:,} 项") == str(n)
    assert parse_decimal(str(n)) == Decimal(n)


@given(st.integers(min_value=1, max_value=9999))
def test_chinese_numerals_agree_with_arabic(n):
    digits = "零一二三四五六七八九"
    # Build the standard reading (e.g. 1005 -> 一千零五) and check it parses back.
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                parts.append("零")
            parts.append(digits[d] + unit)
            zero = False
        elif parts:
            zero = True
    assert chinese_numeral("".join(parts)) == n
