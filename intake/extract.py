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

from intake.fields import APPROVAL_LABEL, APPROVAL_TITLE, SECTIONS, FieldSpec
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


def classify(text: str, cells: tuple[Cell, ...], footer: tuple[int, int] | None) -> PageKind:
    """What kind of page this is, from its words."""
    flat = canonical_text(text + "".join(c.text for c in cells))
    if not flat.strip():
        return PageKind.BLANK
    if APPROVAL_TITLE in flat or _has(flat, APPROVAL_LABEL, 70):
        return PageKind.APPROVAL
    if "初审确认" in flat and ("函" in flat or "协会" in flat):
        return PageKind.LETTER
    if footer is not None or "复核申报信息表" in flat or any(s[2:] in flat for s in SECTIONS):
        return PageKind.FORM
    if "证书" in flat and ("资质认定" in flat or "认可" in flat or "营业执照" in flat):
        return PageKind.CERTIFICATE
    return PageKind.ATTACHMENT if len(flat) > 20 else PageKind.UNKNOWN


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


def split_opinion(text: str, box: Box) -> Opinion:
    """Separate the opinion sentence from the "（盖章）" line and the date below it."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    date_text = next((ln for ln in reversed(lines) if parse_date(ln)), "")
    body = [ln for ln in lines if ln != date_text and not _SIGNATURE.fullmatch(ln)]
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
