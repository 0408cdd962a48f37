"""The printed form's layout: page geometry, drawing primitives, pagination, form pages.

Everything here is in PDF points with the origin at the page's TOP left (y grows down), so
that boxes convert to page pixels by one scale factor. ``samples/pdf.py`` flips y when drawing.
The constants below are the layout contract the extractor relies on (see samples/README.md).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from intake import fields
from intake.fields import FieldSpec
from samples import fonts

MM = 72 / 25.4
PAGE_W = 210 * MM
PAGE_H = 297 * MM
MARGIN = 20 * MM
CONTENT_W = PAGE_W - 2 * MARGIN  # 170 mm
LABEL_FRACTION = 0.40
LABEL_W = CONTENT_W * LABEL_FRACTION  # 68 mm
VALUE_W = CONTENT_W - LABEL_W  # 102 mm
TABLE_X = MARGIN
VALUE_X = MARGIN + LABEL_W

ROW_H = 9 * MM  # a single-line body row
PAD_X = 2 * MM  # text never comes closer than this to a vertical rule
BODY_SIZE = 11.0
MIN_SIZE = 8.0  # text that does not fit at its size is set smaller, never below this
HEADING_H = 10 * MM  # a section heading's line, above its table
HEADING_SIZE = 12.0
RULE_W = 0.75
LINE_H = 16.5  # line pitch of multi-line cells and paragraphs at 11 pt
MULTI_PAD_Y = 2.5 * MM

COVER_ROW_H = 14 * MM
COVER_SIZE = 14.0
COVER_TABLE_Y = 128 * MM
TITLE_SIZE = 24.0

FOOTER_BASELINE = PAGE_H - 12 * MM
FOOTER_SIZE = 10.5
BODY_BOTTOM = PAGE_H - MARGIN

COMMITMENT_GAP = 6 * MM
COMMITMENT_H = 44 * MM
COMMITMENT_TEXT = "本单位承诺所填报内容真实、准确、有效。"
COMMITMENT_SEAL_LABEL = "归属法人单位（盖章）："
SUPPORT_LABEL = "支持情况说明"

APPROVAL_TABLE_Y = MARGIN + 18 * MM
APPROVAL_ROW_H = 135 * MM
APPROVAL_SEAL_LABEL = "推荐单位（盖章）"

SEAL_MM = 42.0  # an official round seal's diameter

BLACK = (0.0, 0.0, 0.0)
RED = (0.84, 0.08, 0.10)

Color = tuple[float, float, float]
Rect = tuple[float, float, float, float]  # x, y, w, h in points, y from the top


# Primitives -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    x: float
    baseline: float
    text: str
    font: str = fonts.SANS
    size: float = BODY_SIZE
    color: Color = BLACK

    @property
    def width(self) -> float:
        return fonts.string_width(self.text, self.font, self.size)

    @property
    def box(self) -> Rect:
        """The text's em box: what pdfplumber reports as a word's x0, top, x1, bottom."""
        return (self.x, self.baseline - fonts.ASCENT * self.size, self.width, self.size)


@dataclass(frozen=True)
class Rule:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = RULE_W
    color: Color = BLACK


@dataclass(frozen=True)
class Frame:
    x: float
    y: float
    w: float
    h: float
    width: float = RULE_W
    color: Color = BLACK
    fill: Color | None = None


Item = Text | Rule | Frame


@dataclass(frozen=True)
class SealSpot:
    """Where a seal is stamped: its centre, size, turn, and whose seal it is."""

    cx: float
    cy: float
    organisation: str
    role: str  # legal_entity | recommending_unit | association | certification_body | copy_stamp
    shape: str = "round"
    width_mm: float = SEAL_MM
    rotation: float = 0.0  # degrees, counter-clockwise
    color: tuple[int, int, int] = (210, 30, 40)
    faded: bool = False
    bottom_text: str = ""
    slot: str = ""  # cover | commitment | approval | certificate | copy | letter
    expected: str = ""  # the organisation whose seal belongs here, when another's was used


@dataclass(frozen=True)
class FieldSpot:
    """One printed table row of a checked field."""

    key: str
    label: str
    where: str  # cover | body
    printed: str
    expected: str  # format_value of the record's value
    value_box: Rect
    cell_box: Rect
    label_box: Rect


@dataclass
class PageSpec:
    kind: str  # form | approval | certificate | letter
    form_page: int | None = None  # N of "第 N 页 共 M 页"
    items: list[Item] = field(default_factory=list)
    fields: list[FieldSpot] = field(default_factory=list)
    seals: list[SealSpot] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)  # other truth: opinions, certs

    def text(self, *args: Any, **kwargs: Any) -> Text:
        item = Text(*args, **kwargs)
        bad = fonts.missing_chars(item.text, item.font)
        if bad:
            raise ValueError(f"the sample fonts cannot print {sorted(bad)} in {item.text!r}")
        self.items.append(item)
        return item


# Text helpers --------------------------------------------------------------------------------


def fit_size(text: str, font: str, size: float, width: float, minimum: float = MIN_SIZE) -> float:
    """The largest size, in half points from ``size`` down, at which ``text`` fits ``width``."""
    while fonts.string_width(text, font, size) > width and size > minimum:
        size -= 0.5
    if fonts.string_width(text, font, size) > width:
        raise ValueError(f"{text!r} does not fit {width:.0f} pt even at {minimum} pt")
    return size


_NO_LINE_START = set("，。、；：！？）》」』”’%")


def wrap(text: str, font: str, size: float, width: float, indent: float = 0.0) -> list[str]:
    """Break ``text`` into lines of at most ``width`` (the first line ``indent`` shorter),
    character by character as Chinese is set, keeping closing punctuation off line starts."""
    lines: list[str] = []
    line = ""
    limit = width - indent
    for char in text:
        if char == "\n":
            lines.append(line)
            line, limit = "", width
            continue
        if line and fonts.string_width(line + char, font, size) > limit \
                and char not in _NO_LINE_START:
            lines.append(line)
            line, limit = "", width
        line += char
    if line:
        lines.append(line)
    return lines


def centred(page: PageSpec, text: str, baseline: float, font: str, size: float,
            color: Color = BLACK, x0: float = MARGIN, width: float = CONTENT_W) -> Text:
    w = fonts.string_width(text, font, size)
    return page.text(x0 + (width - w) / 2, baseline, text, font, size, color)


def right_aligned(page: PageSpec, text: str, right: float, baseline: float,
                  font: str = fonts.SANS, size: float = BODY_SIZE, color: Color = BLACK) -> Text:
    return page.text(right - fonts.string_width(text, font, size), baseline, text, font, size,
                     color)


def footer(page: PageSpec, number: int, total: int) -> None:
    centred(page, f"第 {number} 页 共 {total} 页", FOOTER_BASELINE, fonts.SANS, FOOTER_SIZE)


def middle_baseline(top: float, height: float, size: float) -> float:
    """Baseline that centres a line's em box vertically in a row."""
    return top + (height - size) / 2 + fonts.ASCENT * size


def jitter(rng: random.Random, mm: float) -> float:
    return rng.uniform(-mm, mm) * MM


# Rows ----------------------------------------------------------------------------------------


def two_column_row(page: PageSpec, top: float, height: float, label: str, value: str,
                   size: float = BODY_SIZE) -> tuple[Text, Text | None]:
    """Draw one single-line label | value row (rules included) and return its two texts."""
    label_size = fit_size(label, fonts.SANS, size, LABEL_W - 2 * PAD_X)
    label_text = page.text(TABLE_X + PAD_X, middle_baseline(top, height, label_size), label,
                           fonts.SANS, label_size)
    value_text = None
    if value:
        value_size = fit_size(value, fonts.SANS, size, VALUE_W - 2 * PAD_X)
        value_text = page.text(VALUE_X + PAD_X, middle_baseline(top, height, value_size), value,
                               fonts.SANS, value_size)
    table_rules(page, top, height)
    return label_text, value_text


def table_rules(page: PageSpec, top: float, height: float) -> None:
    """The rules around one row: top, bottom, left, the column divider, right."""
    right = TABLE_X + CONTENT_W
    bottom = top + height
    page.items += [
        Rule(TABLE_X, top, right, top),
        Rule(TABLE_X, bottom, right, bottom),
        Rule(TABLE_X, top, TABLE_X, bottom),
        Rule(VALUE_X, top, VALUE_X, bottom),
        Rule(right, top, right, bottom),
    ]


def field_spot(spec: FieldSpec, where: str, label: Text, value: Text | None, top: float,
               height: float, printed: str, expected: str) -> FieldSpot:
    value_box = value.box if value else (VALUE_X + PAD_X, top + height / 2, 0.0, 0.0)
    return FieldSpot(
        key=spec.key, label=spec.label, where=where, printed=printed, expected=expected,
        value_box=value_box, cell_box=(VALUE_X, top, VALUE_W, height), label_box=label.box,
    )


# Pagination ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    kind: str  # heading | row | text_row | commitment
    height: float
    section: str = ""
    spec: FieldSpec | None = None
    lines: tuple[str, ...] = ()


def body_blocks(record: dict[str, Any], campaign: str) -> list[Block]:
    """The body of the form as blocks to lay out, in order."""
    blocks: list[Block] = []
    specs = fields.form_fields(campaign)
    for section in fields.SECTIONS:
        blocks.append(Block("heading", HEADING_H, section))
        blocks += [Block("row", ROW_H, section, spec) for spec in specs if spec.section == section]
        if section == fields.SECTION_SUPPORT:
            text = str(fields.record_value(record, "support.description") or "")
            lines = tuple(wrap(text, fonts.SANS, BODY_SIZE, VALUE_W - 2 * PAD_X)) or ("",)
            height = max(ROW_H, len(lines) * LINE_H + 2 * MULTI_PAD_Y)
            blocks.append(Block("text_row", height, section, lines=lines))
    blocks.append(Block("commitment", COMMITMENT_GAP + COMMITMENT_H))
    return blocks


def paginate(record: dict[str, Any], campaign: str) -> list[list[tuple[Block, float]]]:
    """Body blocks per body page with each block's top. A heading stays with its first row;
    no row is split; the commitment block stays whole."""
    pages: list[list[tuple[Block, float]]] = [[]]
    y = MARGIN
    blocks = body_blocks(record, campaign)
    for i, block in enumerate(blocks):
        need = block.height
        if block.kind == "heading" and i + 1 < len(blocks):
            need += blocks[i + 1].height
        if y + need > BODY_BOTTOM and pages[-1]:
            pages.append([])
            y = MARGIN
        pages[-1].append((block, y))
        y += block.height
    return pages


def field_pages(record: dict[str, Any], campaign: str) -> dict[tuple[str, str], int]:
    """(where, key) -> the form page number (1 = cover) the field is printed on."""
    where = {("cover", spec.key): 1 for spec in fields.COVER_FIELDS}
    for n, blocks in enumerate(paginate(record, campaign), start=2):
        for block, _ in blocks:
            if block.kind == "row" and block.spec is not None:
                where["body", block.spec.key] = n
    return where


def form_page_count(record: dict[str, Any], campaign: str) -> int:
    """M: the cover, the body pages and the approval page."""
    return 1 + len(paginate(record, campaign)) + 1


# Pages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperValues:
    """What one copy prints where it may differ from the record."""

    printed: dict[tuple[str, str], str]  # (where, key) -> text, overriding format_value
    seals: dict[str, str | None]  # slot -> organisation printed (None: no seal) if overridden


def _value(record: dict[str, Any], spec: FieldSpec, where: str, paper: PaperValues
           ) -> tuple[str, str]:
    expected = fields.format_value(spec, fields.record_value(record, spec.key))
    return paper.printed.get((where, spec.key), expected), expected


def seal_spot(rng: random.Random, cx: float, cy: float, organisation: str, role: str, slot: str,
              *, shape: str = "round", color: tuple[int, int, int] = (210, 30, 40),
              bottom_text: str = "", spread_mm: float = 3.0, expected: str = "") -> SealSpot:
    width = {"round": SEAL_MM, "oval": 40.0, "square": 30.0}[shape] + rng.uniform(-1.0, 1.0)
    return SealSpot(
        cx=cx + jitter(rng, spread_mm), cy=cy + jitter(rng, spread_mm),
        organisation=organisation, role=role, shape=shape, width_mm=width,
        rotation=rng.uniform(-18, 18), color=color, faded=rng.random() < 0.12,
        bottom_text=bottom_text, slot=slot, expected=expected,
    )


def _legal_seal(rng: random.Random, record: dict[str, Any], profile: Any, paper: PaperValues,
                slot: str, cx: float, cy: float) -> SealSpot | None:
    own = record["identity"]["legal_entity"]
    organisation = paper.seals.get(slot, own)
    if organisation is None:
        return None
    if organisation != own:  # another organisation's seal: its own shape and ink
        return seal_spot(rng, cx, cy, organisation, "legal_entity", slot, expected=own)
    return seal_spot(rng, cx, cy, own, "legal_entity", slot, shape=profile.seal_shape,
                     color=profile.seal_color, bottom_text=profile.seal_code)


def cover_page(record: dict[str, Any], campaign: str, total: int, profile: Any,
               paper: PaperValues, rng: random.Random) -> PageSpec:
    page = PageSpec("form", form_page=1)
    split = fields.FORM_TITLE.index("实验室") + len("实验室")
    centred(page, fields.FORM_TITLE[:split], 66 * MM, fonts.SERIF_BOLD, TITLE_SIZE)
    centred(page, fields.FORM_TITLE[split:], 66 * MM + TITLE_SIZE * 1.6, fonts.SERIF_BOLD, TITLE_SIZE)
    centred(page, f"（{campaign[:4]}年）", 100 * MM, fonts.SANS, 14.0)
    top = COVER_TABLE_Y
    for spec in fields.COVER_FIELDS:
        printed, expected = _value(record, spec, "cover", paper)
        label, value = two_column_row(page, top, COVER_ROW_H, spec.label, printed, COVER_SIZE)
        page.fields.append(field_spot(spec, "cover", label, value, top, COVER_ROW_H, printed,
                                      expected))
        if spec.key == "identity.legal_entity":
            width = value.width if value else VALUE_W / 2
            cx = VALUE_X + PAD_X + min(width, VALUE_W - 2 * PAD_X) * rng.uniform(0.45, 0.8)
            seal = _legal_seal(rng, record, profile, paper, "cover", cx, top + COVER_ROW_H / 2)
            if seal:
                page.seals.append(seal)
        top += COVER_ROW_H
    footer(page, 1, total)
    return page


def body_pages(record: dict[str, Any], campaign: str, total: int, profile: Any,
               paper: PaperValues, rng: random.Random) -> list[PageSpec]:
    pages = []
    for n, blocks in enumerate(paginate(record, campaign), start=2):
        page = PageSpec("form", form_page=n)
        for block, top in blocks:
            if block.kind == "heading":
                page.text(TABLE_X, top + HEADING_H - 2.5 * MM, block.section, fonts.SANS_BOLD,
                          HEADING_SIZE)
            elif block.kind == "row" and block.spec is not None:
                printed, expected = _value(record, block.spec, "body", paper)
                label, value = two_column_row(page, top, block.height, block.spec.label, printed)
                page.fields.append(field_spot(block.spec, "body", label, value, top,
                                              block.height, printed, expected))
            elif block.kind == "text_row":
                page.text(TABLE_X + PAD_X, middle_baseline(top, block.height, BODY_SIZE),
                          SUPPORT_LABEL)
                baseline = top + MULTI_PAD_Y + (LINE_H - BODY_SIZE) / 2 + fonts.ASCENT * BODY_SIZE
                for line in block.lines:
                    page.text(VALUE_X + PAD_X, baseline, line)
                    baseline += LINE_H
                table_rules(page, top, block.height)
            elif block.kind == "commitment":
                _commitment(page, record, profile, paper, rng, top + COMMITMENT_GAP)
        footer(page, n, total)
        pages.append(page)
    return pages


def _commitment(page: PageSpec, record: dict[str, Any], profile: Any, paper: PaperValues,
                rng: random.Random, top: float) -> None:
    page.text(TABLE_X + 2 * BODY_SIZE, top + 6 * MM, COMMITMENT_TEXT)
    label = page.text(TABLE_X + 88 * MM, top + 21 * MM, COMMITMENT_SEAL_LABEL)
    date_text = fields.format_date(record["workflow"]["submitted"])
    date = right_aligned(page, date_text, TABLE_X + CONTENT_W - 8 * MM, top + 31 * MM)
    page.notes.append({"type": "commitment_date", "text": date_text, "box": date.box,
                       "label_box": label.box})
    seal = _legal_seal(rng, record, profile, paper, "commitment",
                       date.x + date.width / 2, top + 25 * MM)
    if seal:
        page.seals.append(seal)


def approval_page(record: dict[str, Any], total: int, opinion_text: str,
                  recommending_seal: str | None, seal_color: tuple[int, int, int],
                  rng: random.Random, *, seal_off: bool = False) -> PageSpec:
    """Page M: 审批情况, with the recommending unit's opinion, date and seal. ``seal_off``: the
    seal stamped on the blank paper under the table instead of over the signature."""
    page = PageSpec("approval", form_page=total)
    centred(page, fields.APPROVAL_TITLE, MARGIN + 9 * MM, fonts.SANS_BOLD, 16.0)
    top, height = APPROVAL_TABLE_Y, APPROVAL_ROW_H
    label_w = fonts.string_width(fields.APPROVAL_LABEL, fonts.SANS, BODY_SIZE)
    label = page.text(TABLE_X + (LABEL_W - label_w) / 2, middle_baseline(top, height, BODY_SIZE),
                      fields.APPROVAL_LABEL)
    table_rules(page, top, height)
    baseline = top + 6 * MM + fonts.ASCENT * BODY_SIZE
    lines = wrap(opinion_text, fonts.SANS, BODY_SIZE, VALUE_W - 4 * PAD_X, indent=2 * BODY_SIZE)
    boxes = []
    for i, line in enumerate(lines):
        x = VALUE_X + 2 * PAD_X + (2 * BODY_SIZE if i == 0 else 0)
        boxes.append(page.text(x, baseline, line).box)
        baseline += LINE_H
    right = TABLE_X + CONTENT_W - 10 * MM
    unit = right_aligned(page, APPROVAL_SEAL_LABEL, right, top + height - 30 * MM)
    date_text = fields.format_date(record["opinions"]["recommending_unit"]["date"])
    date = right_aligned(page, date_text, right, top + height - 16 * MM)
    page.notes.append({
        "type": "opinion", "text": opinion_text, "box": union(boxes), "date": date_text,
        "date_box": date.box, "label_box": label.box, "seal_label_box": unit.box,
    })
    if recommending_seal is not None:
        own = record["identity"]["recommending_unit"]
        cy = top + height + 40 * MM if seal_off else date.baseline - 7 * MM
        page.seals.append(seal_spot(
            rng, date.x + date.width / 2, cy, recommending_seal,
            "recommending_unit", "approval", color=seal_color,
            expected=own if recommending_seal != own else ""))
    footer(page, total, total)
    return page


def union(boxes: list[Rect]) -> Rect:
    x = min(b[0] for b in boxes)
    y = min(b[1] for b in boxes)
    x2 = max(b[0] + b[2] for b in boxes)
    y2 = max(b[1] + b[3] for b in boxes)
    return (x, y, x2 - x, y2 - y)
