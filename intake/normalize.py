"""Normalisers: what engines print and what the record holds, brought to one comparable form.

``canonical(kind, text)`` is the comparison key of a value of a field kind, or None when the text
cannot be a value of that kind at all.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from intake.codes import OCR_CONFUSIONS
from intake.fields import FieldKind

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])\s+(?=[{_CJK}{_CJK_PUNCT}])")
_SPACE_CJK_ASCII = re.compile(
    rf"(?<=[{_CJK}{_CJK_PUNCT}])\s+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])\s+(?=[{_CJK}{_CJK_PUNCT}])")

# Traditional forms engines print for simplified text, and look-alikes seen in OCR output.
_SIMPLIFIED: dict[str, str] = {
    "監": "监", "檢": "检", "驗": "验", "測": "测", "試": "试", "質": "质", "國": "国",
    "業": "业", "產": "产", "術": "术", "會": "会", "協": "协", "廳": "厅", "發": "发",
    "實": "实", "認": "认", "證": "证", "標": "标", "準": "准", "計": "计", "廠": "厂",
    "門": "门", "學": "学", "設": "设", "備": "备", "務": "务", "員": "员", "電": "电",
    "氣": "气", "機": "机", "東": "东", "區": "区", "總": "总", "價": "价", "評": "评",
}
_TRADITIONAL = str.maketrans(_SIMPLIFIED)

# Each simplified character with the traditional forms engines print for it (檢 for 检).
TRADITIONAL_FORMS: dict[str, tuple[str, ...]] = {}
for _form, _simple in _SIMPLIFIED.items():
    TRADITIONAL_FORMS[_simple] = (*TRADITIONAL_FORMS.get(_simple, ()), _form)

_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "〔": "[", "〕": "]"})
# The dot between the parts of a transliterated name (阿卜杜·热合曼) comes in many code points.
_NAME_DOTS = str.maketrans(dict.fromkeys("•・‧∙⋅･", "·"))
_TRAILING = "。.，,;；:：、 "


def clean_ocr_text(text: str) -> str:
    """Undo what OCR engines add: spaces between Chinese characters, doubled spaces."""
    text = text.replace("\u3000", " ")
    text = _SPACE_BETWEEN_CJK.sub("", text)
    text = _SPACE_CJK_ASCII.sub("", text)
    return re.sub(r"[ \t]+", " ", text).strip()


def join_words(words: list[str]) -> str:
    """Words into line text: a space only between two ASCII words ("CNAS L1234"), none next
    to Chinese characters or full-width signs, which OCR spaces out and print does not."""
    out = ""
    for word in words:
        if out and out[-1].isascii() and word[:1].isascii():
            out += " "
        out += word
    return clean_ocr_text(out)


def _fold(text: str) -> str:
    """Full width to half width (NFKC), traditional to simplified, one bracket style."""
    text = unicodedata.normalize("NFKC", text.translate(_BRACKETS))
    return text.translate(_TRADITIONAL).translate(_BRACKETS).translate(_NAME_DOTS)


_EMAIL_CONFUSIONS = str.maketrans({"1": "l", "|": "l", "0": "o"})


def canonical_text(text: str) -> str:
    # Removing spaces can join a letter to a combining mark NFKC split off a spacing accent
    # ("R¸" → "R ̧"): composed again, so a key is its own key.
    return unicodedata.normalize("NFC", re.sub(r"\s+", "", _fold(text))).strip(_TRAILING)


def canonical_code(text: str) -> str:
    # Case mapping can leave a letter and a combining mark apart: composed again afterwards.
    return unicodedata.normalize("NFC", re.sub(r"[\s\-—_]+", "", _fold(text)).upper()
                                 ).strip(_TRAILING)


def canonical_credit_code(text: str) -> str:
    return unicodedata.normalize("NFC", canonical_code(text).translate(OCR_CONFUSIONS))


# Chinese numerals ------------------------------------------------------------------------

_DIGITS = {"〇": 0, "零": 0, "○": 0, "Ｏ": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000, "万": 10_000, "亿": 100_000_000}


def chinese_numeral(text: str) -> int | None:
    """二〇二一 -> 2021 (digit by digit), 三百五十六 -> 356, 十二 -> 12; None if not a numeral."""
    if not text or any(c not in _DIGITS and c not in _UNITS for c in text):
        return None
    if all(c in _DIGITS for c in text):
        return int("".join(str(_DIGITS[c]) for c in text))
    total, section, digit = 0, 0, 0
    for c in text:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in ("万", "亿"):
            total = (total + section + digit) * _UNITS[c]
            section, digit = 0, 0
        else:
            section += (digit or 1) * _UNITS[c]
            digit = 0
    return total + section + digit


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")
_CHINESE_NUMBER = re.compile(r"[〇○零一二两三四五六七八九十百千万亿]+(?:点[〇○零一二三四五六七八九]+)?")


def chinese_number(text: str) -> Decimal | None:
    """A Chinese numeral with an optional decimal part: 三十三点七 -> 33.7; None if not one."""
    whole, _, fraction = text.partition("点")
    value = chinese_numeral(whole) if whole else None
    if value is None:
        return None
    if not fraction:
        return Decimal(value)
    if any(c not in _DIGITS for c in fraction):
        return None
    return Decimal(f"{value}." + "".join(str(_DIGITS[c]) for c in fraction))


def parse_decimal(text: str) -> Decimal | None:
    """The one number in a printed amount: '5,230.50 万元' -> 5230.50, '三百五十六台（套）' -> 356,
    '百分之三十三点七' -> 33.7; None if none or several."""
    folded = _fold(text).replace(",", "").replace("，", "").replace(" ", "")
    numbers = _NUMBER.findall(folded)
    if len(numbers) == 1:
        try:
            return Decimal(numbers[0])
        except InvalidOperation:
            return None
    if not numbers:
        stripped = re.sub(r"[^\u4e00-\u9fff〇○]", "", folded).removeprefix("百分之")
        for unit in ("台套", "台", "套", "万元", "份", "人", "项", "次", "个", "元"):
            stripped = stripped.removesuffix(unit)
        return chinese_number(stripped) if _CHINESE_NUMBER.fullmatch(stripped) else None
    return None


def percent(part: Decimal | int, total: Decimal | int, places: int = 1) -> Decimal | None:
    """part / total as a percentage rounded half up at ``places``, as the online system prints
    it; None when the total is zero."""
    if not total:
        return None
    value = Decimal(part) * 100 / Decimal(total)
    return _rounded(value, places)


_FRACTION = re.compile(r"^(\d+(?:\.\d+)?)[/:∶比](\d+(?:\.\d+)?)$")


def parse_ratio(text: str, places: int = 1) -> Decimal | None:
    """A printed share as a percentage: '33.7%', '33.7％', '百分之三十三点七', or counts
    '120/356', '120:356' (the percentage they make); None if it is none of them."""
    folded = re.sub(r"\s+", "", _fold(text)).replace(",", "")
    m = _FRACTION.match(folded)
    if m:
        return percent(Decimal(m[1]), Decimal(m[2]), places)
    value = parse_decimal(folded)
    if value is None:
        return None
    return _rounded(value, places)


def _rounded(value: Decimal, places: int) -> Decimal | None:
    """``value`` rounded half up at ``places``; None for a number too long to round (no form
    holds a 27-digit count: it is a misreading, not a value)."""
    try:
        return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return None


# Dates -------------------------------------------------------------------------------------

_DATE_NUMERIC = re.compile(
    r"(?<!\d)(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})(?!\d)\s*[日号]?")
_DATE_COMPACT = re.compile(r"(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_DATE_CHINESE = re.compile(r"([〇○零一二三四五六七八九]{4})\s*年\s*([一二三四五六七八九十]{1,3})\s*月"
                           r"\s*([一二三四五六七八九十]{1,3})\s*[日号]")
# What engines print for 日 at the end of a date.
_DAY_CONFUSIONS = str.maketrans({"曰": "日", "目": "日"})


def parse_date(text: str) -> date | None:
    """2021年3月5日, 2021.3.5, 2021-03-05, 2021/3/5, 20210305, 二〇二一年三月五日 -> date; else None."""
    folded = _fold(text).translate(_DAY_CONFUSIONS)
    parts: tuple[int | None, ...]
    m = _DATE_NUMERIC.search(folded) or _DATE_COMPACT.search(folded)
    if m:
        parts = (int(m[1]), int(m[2]), int(m[3]))
    else:
        m = _DATE_CHINESE.search(folded)
        if not m:
            return None
        parts = (chinese_numeral(m[1]), chinese_numeral(m[2]), chinese_numeral(m[3]))
    year, month, day = parts
    if year is None or month is None or day is None:
        return None
    try:
        return date(year, month, day)
    except ValueError:
        return None


_CN_DIGITS = "〇一二三四五六七八九"


def _chinese_small(n: int) -> str:
    """1..31 in Chinese numerals as dates print them: 十, 十二, 二十, 三十一."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _CN_DIGITS[tens] + "十")
    return head + (_CN_DIGITS[ones] if ones else "")


def render_date(d: date, form: str) -> str:
    """``d`` printed in one of DATE_FORMS; the inverse of ``parse_date`` for each form."""
    if form == "chinese":
        year = "".join(_CN_DIGITS[int(c)] for c in str(d.year))
        return f"{year}年{_chinese_small(d.month)}月{_chinese_small(d.day)}日"
    return {
        "ymd": f"{d.year}年{d.month}月{d.day}日",
        "ymd0": f"{d.year}年{d.month:02d}月{d.day:02d}日",
        "dots": f"{d.year}.{d.month}.{d.day}",
        "iso": d.isoformat(),
        "slash": f"{d.year}/{d.month}/{d.day}",
        "compact": f"{d.year}{d.month:02d}{d.day:02d}",
    }[form]


DATE_FORMS = ("ymd", "ymd0", "dots", "iso", "slash", "compact", "chinese")


def canonical_name(text: str) -> str:
    """An organisation's or person's name compared across widths, brackets, traditional forms,
    spaces and the dots of transliterated names."""
    return canonical_text(text)


def canonical(kind: FieldKind, text: str, places: int = 0) -> str | None:
    """The comparison key of ``text`` read as a value of ``kind``; None if it cannot be one."""
    if kind in (FieldKind.TEXT, FieldKind.NAME):
        return canonical_text(text) or None
    if kind is FieldKind.CODE:
        return canonical_code(text) or None
    if kind is FieldKind.CREDIT_CODE:
        return canonical_credit_code(text) or None
    if kind is FieldKind.EMAIL:
        # In an address, l/1/I and o/0 are the pairs both engines confuse in print and no one
        # tells apart by eye on paper: compared as one character each.
        key = canonical_code(text).lower().translate(_EMAIL_CONFUSIONS)
        return unicodedata.normalize("NFC", key) or None
    if kind is FieldKind.DATE:
        d = parse_date(text)
        return d.isoformat() if d else None
    value = parse_decimal(text)
    if value is None:
        return None
    if kind is FieldKind.INT:
        return str(int(value)) if value == value.to_integral_value() else None
    try:
        return str(value.quantize(Decimal(1).scaleb(-places)))
    except InvalidOperation:  # too many digits to be a value on a form
        return None
