from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intake.fields import FieldKind
from intake.normalize import (
    DATE_FORMS,
    canonical,
    canonical_code,
    canonical_credit_code,
    canonical_name,
    chinese_number,
    chinese_numeral,
    clean_ocr_text,
    parse_date,
    parse_decimal,
    parse_ratio,
    percent,
    render_date,
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


# Properties: every supported rendering reads as the same value, and keys are fixed points. ----

_CN = "零一二三四五六七八九"
_FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)}
dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2099, 12, 31))
KINDS_WITH_KEYS = [FieldKind.TEXT, FieldKind.NAME, FieldKind.CODE, FieldKind.CREDIT_CODE,
                   FieldKind.EMAIL, FieldKind.DATE, FieldKind.INT, FieldKind.DECIMAL,
                   FieldKind.PERCENT]


def full_width(text: str) -> str:
    return "".join(_FULL_WIDTH.get(c, c) for c in text)


def _four(n: int) -> str:
    parts, zero = [], False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // value % 10
        if d:
            if zero:
                parts.append("零")
            parts.append(_CN[d] + unit)
            zero = False
        elif parts:
            zero = True
    return "".join(parts)


def chinese(n: int) -> str:
    """The standard reading of 0 <= n < 10**8: 12345 -> 一万二千三百四十五, 10005 -> 一万零五."""
    if n == 0:
        return "零"
    high, low = divmod(n, 10_000)
    if not high:
        return _four(low)
    tail = ("零" if low < 1000 else "") + _four(low) if low else ""
    return _four(high) + "万" + tail


@given(dates, st.sampled_from(DATE_FORMS))
def test_any_date_in_any_printed_form_reads_as_that_day(day, form):
    text = render_date(day, form)
    assert parse_date(text) == day
    assert canonical(FieldKind.DATE, text) == day.isoformat()
    assert canonical(FieldKind.DATE, full_width(text)) == day.isoformat()
    assert canonical(FieldKind.DATE, f"日期：{text}。") == day.isoformat()


def test_dates_read_with_the_day_misread_or_spaced():
    assert parse_date("2021年3月5曰") == date(2021, 3, 5)
    assert parse_date("二〇二一 年 三 月 五 日") == date(2021, 3, 5)
    assert parse_date("2021年3月5号") == date(2021, 3, 5)
    assert parse_date("电话 62574990") is None
    assert parse_date("证书编号 201719123456") is None


@given(st.integers(min_value=0, max_value=99_999_999),
       st.sampled_from(["台（套）", "台(套)", "万元", "人", "份", "项", "次", ""]))
def test_any_count_in_arabic_or_chinese_numerals_with_any_unit_reads_alike(n, unit):
    key = str(n)
    assert canonical(FieldKind.INT, f"{n}{unit}") == key
    assert canonical(FieldKind.INT, f"{n:,} {unit}") == key
    assert canonical(FieldKind.INT, full_width(f"{n}") + unit) == key
    assert canonical(FieldKind.INT, chinese(n) + unit) == key


@given(st.decimals(min_value=0, max_value=999_999, places=2, allow_nan=False,
                   allow_infinity=False))
def test_any_amount_reads_alike_with_or_without_separators_and_unit(value):
    key = canonical(FieldKind.DECIMAL, f"{value}", 2)
    assert key == f"{value:.2f}"
    assert canonical(FieldKind.DECIMAL, f"{value:,.2f} 万元", 2) == key
    assert canonical(FieldKind.DECIMAL, full_width(f"{value:.2f}") + "万元", 2) == key


@given(st.integers(min_value=0, max_value=1000), st.integers(min_value=0, max_value=9))
def test_any_percentage_reads_alike_in_digits_and_in_chinese(whole, tenth):
    text = f"{whole}.{tenth}"
    assert parse_ratio(f"{text}%") == Decimal(text)
    assert parse_ratio(f"{text}％") == Decimal(text)
    assert parse_ratio(f"百分之{chinese(whole)}点{_CN[tenth]}") == Decimal(text)
    assert canonical(FieldKind.PERCENT, f"{text}%", 1) == canonical(FieldKind.PERCENT, text, 1)


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=1, max_value=5000))
def test_printed_counts_read_as_the_share_they_make(part, total):
    assert parse_ratio(f"{part}/{total}") == percent(part, total)
    assert parse_ratio(f"{part}:{total}") == percent(part, total)
    assert percent(part, total) == (Decimal(part * 100) / Decimal(total)).quantize(
        Decimal("0.1"), rounding="ROUND_HALF_UP")


def test_shares_round_half_up_and_a_zero_total_has_none():
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 16) == Decimal("6.3")  # 6.25 -> 6.3, not banker's 6.2
    assert percent(3, 0) is None
    assert chinese_number("三十三点七") == Decimal("33.7")
    assert chinese_number("点七") is None
    assert parse_ratio("约三成") is None


_NAME_PARTS = st.text(alphabet=st.sampled_from(list("国家电线缆质量监督检验中心上海江苏ABCabc123")),
                      min_size=1, max_size=12)


@given(_NAME_PARTS, _NAME_PARTS)
def test_a_name_reads_alike_across_widths_brackets_spaces_and_dots(head, place):
    key = canonical_name(f"{head}({place})")
    assert canonical_name(f"{full_width(head)}（{place}）") == key
    assert canonical_name(" ".join(f"{head}({place})")) == key
    assert canonical_name(f"{head}〔{place}〕") == canonical_name(f"{head}[{place}]")
    assert canonical_name(f"{head}・{place}") == canonical_name(f"{head}·{place}") == \
        canonical_name(f"{head}•{place}")


@given(st.text(alphabet=st.sampled_from(list("0123456789ABCDEFGHJKLMNPQRTUWXY")), min_size=1,
               max_size=20), st.sampled_from([" ", "-", "—", "  "]))
def test_a_code_reads_alike_across_widths_spaces_and_dashes(code, sep):
    key = canonical_code(code)
    assert canonical_code(full_width(code)) == key
    assert canonical_code(sep.join(code)) == key
    assert canonical_code(code.lower()) == key


@given(st.text(max_size=30), st.sampled_from(KINDS_WITH_KEYS))
def test_every_key_is_a_fixed_point(text, kind):
    key = canonical(kind, text, 2)
    if key is not None:
        assert canonical(kind, key, 2) == key


@given(dates, st.sampled_from(DATE_FORMS), st.integers(min_value=0, max_value=99_999_999))
def test_keys_of_printed_values_are_fixed_points(day, form, n):
    for kind, text in ((FieldKind.DATE, render_date(day, form)), (FieldKind.INT, chinese(n)),
                       (FieldKind.INT, f"{n:,} 台（套）")):
        key = canonical(kind, text)
        assert key is not None
        assert canonical(kind, key) == key


def test_an_email_read_with_l_for_1_or_o_for_0_is_the_same_address():
    from intake.fields import FieldKind
    from intake.normalize import canonical

    assert canonical(FieldKind.EMAIL, "shenjun@miri1.org.cn") == canonical(
        FieldKind.EMAIL, "shenjun@miril.org.cn")
    assert canonical(FieldKind.EMAIL, "lab0@x.cn") == canonical(FieldKind.EMAIL, "labo@x.cn")
    assert canonical(FieldKind.EMAIL, "abc@x.cn") != canonical(FieldKind.EMAIL, "abd@x.cn")


@given(st.one_of(st.text(max_size=40), st.from_regex(r"[0-9.,%/:万亿点百分之一二三四五六七八九十〇]{1,40}",
                                                     fullmatch=True)),
       st.sampled_from(list(FieldKind)))
def test_no_text_makes_a_normaliser_raise(text, kind):
    # a 27-digit "number" (a misreading) once made the decimal key raise
    key = canonical(kind, text, 2)
    assert key is None or canonical(kind, key, 2) == key
    parse_ratio(text)


def test_a_number_too_long_for_a_form_has_no_key():
    assert canonical(FieldKind.DECIMAL, "1" + "0" * 26, 2) is None
    assert parse_ratio("1" + "0" * 30) is None
