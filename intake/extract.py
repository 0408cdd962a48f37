"""From a read page to what it says: its kind, its page number, its fields and the opinion.

Labels are matched to the field catalogue by similarity, so a label misread by one character
still finds its field; the value is the cell right of the label.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from intake.fields import (
    APPROVAL_LABEL,
    APPROVAL_TITLE,
    BODY_FIELDS,
    COVER_FIELDS,
    SECTIONS,
    FieldSpec,
    quality_report_field,
)
from intake.language import DATE, entities_of
from intake.model import Box, Cell, Line, PageKind
from intake.normalize import canonical_text, parse_date

_FOOTER = re.compile(r"第\s*(\d{1,4})\s*页\s*[，,]?\s*共\s*(\d{1,4})\s*页")
LABEL_MIN_SCORE = 80.0
LABEL_LOOSE_SCORE = 60.0
LABEL_MARGIN = 15.0
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class LabelledValue:
    """A value cell and the catalogue field its label names."""

    spec: FieldSpec
    label_text: str
    label_score: float
    value: Cell


def footer_numbers(lines: list[Line] | tuple[Line, ...]) -> tuple[int, int] | None:
    """(N, M) from the page's "第 N 页 共 M 页", searching from the bottom."""
    for line in sorted(lines, key=lambda ln: -ln.box.y):
        m = _FOOTER.search(canonical_text(line.text))
        if m:
            n, total = int(m[1]), int(m[2])
            if 1 <= n <= total:
                return n, total
    return None


@dataclass(frozen=True)
class PageClass:
    """What kind of page this is, how sure the classifier is (0..1), and what it saw within the
    kind: a certificate's type (``cma``, ``cnas``, ``licence``) or a form page's sections
    (``cover`` or their numbers, "2,3")."""

    kind: PageKind
    confidence: float
    detail: str = ""


# Words a page of each kind prints; each found adds to that kind's score. The strongest one
# alone is enough to name the kind.
# None of them is a label of the form: a form page lists the association and CNAS numbers too.
_LETTER_WORDS = ("初审确认", "确认意见的函", "特此函告", "秘书处", "工作方案", "序号", "我会")
_CMA_WORDS = ("检验检测机构资质认定证书", "检验检测机构", "许可使用标志", "国家认证认可监督管理委员会",
              "计量认证")
_CNAS_WORDS = ("中国合格评定国家认可委员会", "CERTIFICATEOFACCREDITATION", "认可证书", "注册号", "兹证明",
               "CNAS-CL01", "检测和校准实验室能力")
_LICENCE_WORDS = ("营业执照", "法定代表人", "经营范围", "登记机关", "注册资本")
_SECTION_KEYS = tuple(canonical_text(s) for s in SECTIONS)
_COVER_LABEL = "填报日期"
# A row label -> the number of the section that prints it. Labels the cover prints too
# (实验室名称) say nothing about the section; the annual report rows are known by their tail.
_SECTION_OF = {canonical_text(spec.label): SECTIONS.index(spec.section) + 1
               for spec in BODY_FIELDS if spec.section in SECTIONS
               and not any(spec.label in cover.label for cover in COVER_FIELDS)}
_SECTION_OF[canonical_text(quality_report_field(2000).label[4:])] = SECTIONS.index(
    quality_report_field(2000).section) + 1


def classify(text: str, cells: tuple[Cell, ...], footer: tuple[int, int] | None) -> PageClass:
    """What kind of page this is, from its words alone (no colour: a grey photocopy of a red
    letterhead reads the same as the original)."""
    flat = canonical_text(text + "".join(c.text for c in cells))
    if not flat.strip():
        return PageClass(PageKind.BLANK, 1.0 if not cells else 0.8)
    if len(flat) < 6:
        return PageClass(PageKind.BLANK if not cells else PageKind.UNKNOWN, 0.5)
    approval = _approval_score(flat)
    # The approval page is the form's last page and carries its footer: the footer is no
    # evidence against it.
    scores = {
        PageKind.APPROVAL: approval,
        PageKind.LETTER: _share(flat, _LETTER_WORDS, strong=("初审确认", "确认意见的函", "特此函告")),
        PageKind.FORM: _form_score(flat, footer if approval < 0.6 else None),
    }
    certificates = {"cma": _share(flat, _CMA_WORDS, strong=("检验检测机构资质认定证书",)),
                    "cnas": _share(flat, _CNAS_WORDS,
                                   strong=("中国合格评定国家认可委员会", "CERTIFICATEOFACCREDITATION")),
                    "licence": _share(flat, _LICENCE_WORDS, strong=("营业执照",))}
    certificate = max(certificates, key=lambda k: certificates[k])
    scores[PageKind.CERTIFICATE] = certificates[certificate]
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    (kind, best), (_, second) = ranked[0], ranked[1]
    if best < 0.3:
        # Text, but nothing any known page prints: another attachment, or unreadable. Never
        # very sure: an attachment is only what the other kinds are not.
        kind = PageKind.ATTACHMENT if len(flat) > 20 else PageKind.UNKNOWN
        return PageClass(kind, round(0.6 - best, 2))
    # A runner-up as strong as the winner halves the confidence.
    confidence = round(min(1.0, best) * (1.0 - 0.5 * min(second, best) / best), 2)
    if kind is PageKind.CERTIFICATE:
        return PageClass(kind, confidence, certificate)
    if kind is PageKind.FORM:
        return PageClass(kind, confidence, _sections(flat, footer))
    return PageClass(kind, confidence)


def _approval_score(flat: str) -> float:
    score = 0.0
    if APPROVAL_TITLE in flat:
        score += 0.6
    if _has(flat, APPROVAL_LABEL, 70):
        score += 0.6
    return min(score, 1.0)


def _form_score(flat: str, footer: tuple[int, int] | None) -> float:
    score = 0.7 if footer is not None else 0.0
    if _has(flat, "复核申报信息表", 85):
        score += 0.5
    score += 0.3 * min(2, sum(key[2:] in flat for key in _SECTION_KEYS))
    score += 0.1 * min(3, sum(label in flat for label in _SECTION_OF))
    return min(score, 1.0)


def _share(flat: str, words: tuple[str, ...], strong: tuple[str, ...]) -> float:
    """0..1: a strong word found makes 0.7 and half the other words make 1.0; without a strong
    word, each other word found adds its share of 1.0."""
    base = 0.7 if any(_has(flat, w, 85) for w in strong) else 0.0
    others = [w for w in words if w not in strong]
    hits = sum(canonical_text(w) in flat for w in others)
    return min(1.0, base + (1.0 - base) * hits / max(1, len(others)) * (2 if base else 1))


def _sections(flat: str, footer: tuple[int, int] | None) -> str:
    """The form's sections on the page, by number, from their headings and the labels of their
    rows; "cover" for the cover page."""
    if (footer is not None and footer[0] == 1) or (
            _COVER_LABEL in flat and _has(flat, "复核申报信息表", 85)):
        return "cover"
    numbers = {i for i, key in enumerate(_SECTION_KEYS, start=1) if key[2:] in flat}
    numbers |= {_SECTION_OF[label] for label in _SECTION_OF if label in flat}
    return ",".join(str(n) for n in sorted(numbers))


def _has(text: str, phrase: str, score: float = 80.0) -> bool:
    """True when ``phrase`` stands in ``text``, allowing a misread character or so."""
    return phrase in text or fuzz.partial_ratio(phrase, text) >= score


def _match_label(text: str, choices: list[str]) -> tuple[str | None, float]:
    """The catalogue label ``text`` was read from, if it is clearly one.

    A close match is taken; a looser one only when no other label comes near. A label with a
    year must carry exactly that year: "2019年度…" is never "2018年度…".
    """
    ranked = process.extract(text, choices, scorer=fuzz.ratio, limit=2)
    if not ranked:
        return None, 0.0
    best, score = ranked[0][0], float(ranked[0][1])
    runner_up = float(ranked[1][1]) if len(ranked) > 1 else 0.0
    if score < LABEL_MIN_SCORE and not (score >= LABEL_LOOSE_SCORE
                                        and score - runner_up >= LABEL_MARGIN):
        return None, score
    if _DIGITS.findall(best) and _DIGITS.findall(best) != _DIGITS.findall(text):
        return None, score
    return best, score


def labelled_values(cells: tuple[Cell, ...], specs: Sequence[FieldSpec]) -> list[LabelledValue]:
    """Every (label cell, value cell) pair whose label is a catalogue field.

    ``specs`` is the catalogue in printed order. A label too garbled to match is still placed
    when the rows above and below it matched the catalogue entries on either side of one.
    """
    keys = {canonical_text(spec.label): spec for spec in specs}
    choices = list(keys)
    position = {id(spec): i for i, spec in enumerate(specs)}
    by_table: dict[int, dict[int, list[Cell]]] = {}
    for cell in cells:
        by_table.setdefault(cell.table, {}).setdefault(cell.row, []).append(cell)
    found: list[LabelledValue] = []
    for rows in by_table.values():
        matched: dict[int, LabelledValue] = {}
        pairs: dict[int, tuple[Cell, Cell]] = {}
        for number, row in rows.items():
            row.sort(key=lambda c: c.box.x)
            if len(row) < 2:
                continue
            label_cell, value_cell = row[0], row[1]
            pairs[number] = (label_cell, value_cell)
            text = canonical_text(label_cell.text)
            key, score = _match_label(text, choices) if text else (None, 0.0)
            if key is not None:
                matched[number] = LabelledValue(keys[key], label_cell.text, score, value_cell)
        for number, (label_cell, value_cell) in pairs.items():
            above, below = matched.get(number - 1), matched.get(number + 1)
            if number in matched or above is None or below is None:
                continue
            i, j = position.get(id(above.spec)), position.get(id(below.spec))
            if i is not None and j == i + 2:
                matched[number] = LabelledValue(specs[i + 1], label_cell.text, 0.0, value_cell)
        found.extend(matched[n] for n in sorted(matched))
    return found


@dataclass(frozen=True)
class Opinion:
    """The recommending unit's opinion as written on the approval page."""

    text: str
    date_text: str
    box: Box  # the value cell
    # The page pass saw every mark in the cell (``pipeline.read_whole``): where its reading is
    # also the record's, the precise engine has nothing to add.
    whole: bool = False


def approval_opinion(cells: tuple[Cell, ...]) -> Opinion | None:
    """The opinion written in the cell right of "主管单位审批意见"."""
    by_row: dict[tuple[int, int], list[Cell]] = {}
    for cell in cells:
        by_row.setdefault((cell.table, cell.row), []).append(cell)
    for row in by_row.values():
        row.sort(key=lambda c: c.box.x)
        for label_cell, value_cell in itertools.pairwise(row):
            # The label cell is tall and its text often misread; half of it is enough here,
            # on a page already known to be the approval page.
            if fuzz.partial_ratio(APPROVAL_LABEL, canonical_text(label_cell.text)) < 50:
                continue
            return split_opinion(value_cell.text, value_cell.box)
    return None


_SIGNATURE = re.compile(r"(推荐单位|主管单位)?[（(]?\s*盖\s*章\s*[)）]?[:：]?")


_DATE_LABEL = re.compile(r"^(日期|时间)?\s*[:：]?\s*$")


def split_opinion(text: str, box: Box) -> Opinion:
    """Separate the opinion sentence from the "（盖章）" line and the date below it.

    The date is the last one the tagger finds (the signature date follows the sentence); a
    date-shaped text that is no calendar day is still taken, for a reviewer to see. A line
    that only ``parse_date`` reads (20210420) is the fallback.
    """
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    tagged = [(i, e) for i, ln in enumerate(lines) for e in entities_of(ln, DATE)]
    if tagged:
        i, entity = tagged[-1]
        date_text = entity.text
        rest = (lines[i][:entity.start] + lines[i][entity.end:]).strip()
        # What stands beside the date is a label, the seal line, or a stray mark or two.
        kept = len(rest) > 2 and not _DATE_LABEL.fullmatch(rest)
        lines = lines[:i] + ([rest] if kept else []) + lines[i + 1:]
    else:
        date_text = next((ln for ln in reversed(lines) if parse_date(ln)), "")
        lines = [ln for ln in lines if ln != date_text]
    body = [ln for ln in lines if not _SIGNATURE.fullmatch(ln)]
    opinion = _SIGNATURE.sub("", "".join(body)).strip()
    return Opinion(opinion, date_text, box)


_NEGATIONS = ("不同意", "不予", "未通过", "不通过", "暂缓", "不推荐", "退回")


def opinion_agrees(text: str) -> bool | None:
    """True for an agreeing opinion (同意…通过初审), False for a refusal, None if neither."""
    flat = canonical_text(text)
    if any(neg in flat for neg in _NEGATIONS):
        return False
    if "同意" in flat or "通过初审" in flat or "推荐" in flat:
        return True
    return None
