"""Tagging free text (opinions, letters, certificate copies): organisations, dates, percentages,
credit codes and certificate numbers, with a blank Chinese spaCy pipeline and rule components.

No statistical model is downloaded or loaded: the pipeline is spaCy's character tokenizer and one
component that turns regular expressions into entity spans. It is built once per process.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from intake.codes import CHARSET
from intake.normalize import chinese_numeral, parse_date

ORG = "ORG"
DATE = "DATE"
PERCENT = "PERCENT"
CREDIT_CODE = "CREDIT_CODE"
CERT_NO = "CERT_NO"
LABELS = (ORG, DATE, PERCENT, CREDIT_CODE, CERT_NO)
COMPONENT = "intake_entities"


@dataclass(frozen=True)
class Entity:
    """One tagged span of a text: its label, the text as printed, and its normalised value."""

    label: str
    text: str
    start: int  # character offsets in the tagged text
    end: int
    value: str  # ISO date, percent number, code in capitals, or the name itself

    def as_dict(self) -> dict[str, str]:
        return {"label": self.label, "text": self.text, "value": self.value}


# Patterns ---------------------------------------------------------------------------------------
# They run on the text folded character by character (full width to half width), so offsets are
# the original text's.

_DAY = r"[日号曰目]"  # engines print 曰 or 目 for the 日 closing a date
_DATE_PATTERNS = (
    re.compile(rf"(?<!\d)\d{{4}}\s*[年./\-]\s*\d{{1,2}}\s*[月./\-]\s*\d{{1,2}}(?!\d)(?:\s*{_DAY})?"),
    re.compile(rf"[〇○零一二三四五六七八九]{{4}}\s*年\s*[一二三四五六七八九十]{{1,3}}\s*月"
               rf"\s*[一二三四五六七八九十]{{1,3}}\s*{_DAY}"),
)
_PERCENT_PATTERNS = (
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d+)?\s*%"),
    re.compile(r"百分之[零〇一二三四五六七八九十百]+(?:点[零〇一二三四五六七八九]+)?"),
)
_CODE_CHARS = re.escape(CHARSET)
# 18 characters of the GB 32100 charset: registering authority, type, 6-digit division, ...
_CREDIT_CODE = re.compile(rf"(?<![0-9A-Za-z])[1-9AGNY][1-9][0-9]{{6}}[{_CODE_CHARS}]{{10}}"
                          rf"(?![0-9A-Za-z])")
# CNAS registration numbers (CNAS L0234), CMA certificate numbers (12 digits, after 证书编号 or
# the CMA mark), and numbers of licences and certificates introduced by their label.
_CERT_PATTERNS = (
    re.compile(r"CNAS\s*[LIC]\s*\d{4,5}(?!\d)"),
    re.compile(r"(?<=CMA)\s*\d{12}(?!\d)"),
    re.compile(r"(?:证书编号|注册号|许可证编号|许可证号|证号)\s*[:：]?\s*"
               r"([0-9A-Z][0-9A-Z\-]{5,24})(?![0-9A-Za-z])"),
)
_NAME_CHAR = r"[\u4e00-\u9fff（）()·]"
_ORG_SUFFIX = re.compile(
    "有限责任公司|股份有限公司|有限公司|公司|中心|研究院|研究所|设计院|检测院|科学院|"
    "协会|委员会|联合会|学会|商会|信息化部|厅|局|集团|大学|学院|实验室")
_NAME_RUN = re.compile(rf"{_NAME_CHAR}+\Z")  # \Z: "$" would also stop before a newline
# Words that open a sentence or a clause before a name; a name never starts with them.
_LEADING = ("同意", "根据", "关于", "经过", "经", "由", "对", "向", "请", "在", "为", "是", "将", "与",
            "和", "及", "兹证明", "证明", "推荐", "确认", "致", "年", "月", "日")
# A "name" that only points at some organisation: 该实验室, 本协会, 下列实验室.
_POINTERS = ("该", "本", "各", "下列", "上述", "我", "贵", "此", "其", "所属", "有关", "相关", "家",
             "所有")
# The programme's own name ends like an organisation's but names none.
_NOT_NAMES = frozenset({"工业产品质量控制和技术评价实验室", "质量控制和技术评价实验室"})
ORG_MAX = 40


def _fold(text: str) -> str:
    """Full width to half width, one character for one, so offsets stay the text's own."""
    out = []
    for c in text:
        folded = unicodedata.normalize("NFKC", c)
        out.append(folded if len(folded) == 1 else c)
    return "".join(out)


def _org_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _ORG_SUFFIX.finditer(text):
        run = _NAME_RUN.search(text, max(0, m.start() - ORG_MAX), m.start())
        if run is None:
            continue
        start = run.start()
        # After the last 的 of a run (本行业所属的…) is where a name can start.
        last_de = text.rfind("的", start, m.start())
        start = last_de + 1 if last_de >= 0 else start
        changed = True
        while changed:
            changed = False
            for word in _LEADING:
                if text.startswith(word, start) and m.start() - start > len(word):
                    start += len(word)
                    changed = True
        body = text[start:m.start()]
        if len(body) < 2 or body.startswith(_POINTERS) or text[start:m.end()] in _NOT_NAMES:
            continue
        spans.append((start, m.end()))
    return spans


def _matches(text: str) -> list[tuple[int, int, str]]:
    found: list[tuple[int, int, str]] = []
    for pattern in _DATE_PATTERNS:
        found += [(m.start(), m.end(), DATE) for m in pattern.finditer(text)]
    for pattern in _PERCENT_PATTERNS:
        found += [(m.start(), m.end(), PERCENT) for m in pattern.finditer(text)]
    found += [(m.start(), m.end(), CREDIT_CODE) for m in _CREDIT_CODE.finditer(text)]
    for pattern in _CERT_PATTERNS:
        for m in pattern.finditer(text):
            start, end = m.span(1) if pattern.groups else m.span()
            while text[start].isspace():
                start += 1
            found.append((start, end, CERT_NO))
    found += [(start, end, ORG) for start, end in _org_spans(text)]
    return found


@Language.component(COMPONENT)
def _tag_entities(doc: Doc) -> Doc:
    """Entity spans from the patterns above; where two overlap, the longer one stands."""
    folded = _fold(doc.text)
    spans: list[Span] = []
    for start, end, label in _matches(folded):
        span = doc.char_span(start, end, label=label, alignment_mode="expand")
        if span is not None:
            spans.append(span)
    doc.ents = filter_spans(spans)
    return doc


@cache
def pipeline() -> Language:
    """The tagging pipeline: built on first use, then shared by every call in the process."""
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "char"}}})
    nlp.add_pipe(COMPONENT)
    return nlp


def _value(label: str, text: str) -> str:
    folded = _fold(text)
    if label == DATE:
        day = parse_date(folded)
        return day.isoformat() if day else ""
    if label == PERCENT:
        if folded.startswith("百分之"):
            whole, _, fraction = folded[3:].partition("点")
            number = chinese_numeral(whole)
            if number is None:
                return ""
            digits = "".join(str(chinese_numeral(c)) for c in fraction)
            return f"{number}.{digits}" if digits else str(number)
        return re.sub(r"[\s%]", "", folded)
    if label in (CREDIT_CODE, CERT_NO):
        return re.sub(r"\s+", " ", folded).upper()
    return re.sub(r"\s+", "", folded)


def tag(text: str) -> tuple[Entity, ...]:
    """Every entity in ``text``, in reading order."""
    doc = pipeline()(text)
    return tuple(Entity(ent.label_, ent.text, ent.start_char, ent.end_char,
                        _value(ent.label_, ent.text)) for ent in doc.ents)


def entities_of(text: str, label: str) -> list[Entity]:
    """The entities of one label in ``text``, in reading order."""
    return [e for e in tag(text) if e.label == label]
