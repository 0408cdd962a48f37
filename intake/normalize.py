"""Normalisers: what engines print and what the record holds, brought to one comparable form.

``canonical(kind, text)`` is the comparison key of a value of a field kind, or None when the text
cannot be a value of that kind at all.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation

from intake.codes import OCR_CONFUSIONS
from intake.fields import FieldKind

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_PUNCT = r"\u3000-\u303f\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}{_CJK_PUNCT}])\s+(?=[{_CJK}{_CJK_PUNCT}])")
_SPACE_CJK_ASCII = re.compile(
    rf"(?<=[{_CJK}{_CJK_PUNCT}])\s+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])\s+(?=[{_CJK}{_CJK_PUNCT}])")

# Traditional forms engines print for simplified text, and look-alikes seen in OCR output.
_TRADITIONAL = str.maketrans({
    "監": "监", "檢": "检", "驗": "验", "測": "测", "試": "试", "質": "质", "國": "国",
    "業": "业", "產": "产", "術": "术", "會": "会", "協": "协", "廳": "厅", "發": "发",
    "實": "实", "認": "认", "證": "证", "標": "标", "準": "准", "計": "计", "廠": "厂",
    "門": "门", "學": "学", "設": "设", "備": "备", "務": "务", "員": "员", "電": "电",
    "氣": "气", "機": "机", "東": "东", "區": "区", "總": "总", "價": "价", "評": "评",
})

_BRACKETS = str.maketrans({"（": "(", "）": ")", "【": "[", "】": "]", "〔": "[", "〕": "]"})
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
    return text.translate(_TRADITIONAL).translate(_BRACKETS)


def canonical_text(text: str) -> str:
    return re.sub(r"\s+", "", _fold(text)).strip(_TRAILING)


def canonical_code(text: str) -> str:
    return re.sub(r"[\s\-—_]+", "", _fold(text)).upper().strip(_TRAILING)


def canonical_credit_code(text: str) -> str:
    return canonical_code(text).translate(OCR_CONFUSIONS)


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


def parse_decimal(text: str) -> Decimal | None:
    """The one number in a printed amount: '5,230.50 万元' -> 5230.50; None if none or several."""
    folded = _fold(text).replace(",", "").replace("，", "").replace(" ", "")
    numbers = _NUMBER.findall(folded)
    if len(numbers) == 1:
        try:
            return Decimal(numbers[0])
        except InvalidOperation:
            return None
    if not numbers:
        stripped = re.sub(r"[^\u4e00-\u9fff〇○]", "", folded)
        for unit in ("台套", "台", "套", "万元", "份", "人", "项", "次", "元"):
            stripped = stripped.removesuffix(unit)
        value = chinese_numeral(stripped)
        return Decimal(value) if value is not None else None
    return None


# Dates -------------------------------------------------------------------------------------

_DATE_NUMERIC = re.compile(r"(\d{4})\s*[年./\-]\s*(\d{1,2})\s*[月./\-]\s*(\d{1,2})\s*日?")
_DATE_CHINESE = re.compile(r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月"
                           r"([一二三四五六七八九十]{1,3})日")


def parse_date(text: str) -> date | None:
    """2021年3月5日, 2021.3.5, 2021-03-05, 2021/3/5, 二〇二一年三月五日 -> date; else None."""
    folded = _fold(text)
    m = _DATE_NUMERIC.search(folded)
    parts: tuple[int | None, ...]
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


def canonical(kind: FieldKind, text: str, places: int = 0) -> str | None:
    """The comparison key of ``text`` read as a value of ``kind``; None if it cannot be one."""
    if kind in (FieldKind.TEXT, FieldKind.NAME):
        return canonical_text(text) or None
    if kind is FieldKind.CODE:
        return canonical_code(text) or None
    if kind is FieldKind.CREDIT_CODE:
        return canonical_credit_code(text) or None
    if kind is FieldKind.EMAIL:
        return canonical_code(text).lower() or None
    if kind is FieldKind.DATE:
        d = parse_date(text)
        return d.isoformat() if d else None
    value = parse_decimal(text)
    if value is None:
        return None
    if kind is FieldKind.INT:
        return str(int(value)) if value == value.to_integral_value() else None
    return str(value.quantize(Decimal(1).scaleb(-places)))
