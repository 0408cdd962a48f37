"""Ruled tables on a page: find the cells, and put the text that was read into them.

The form printed by the online system is a set of ruled tables (label | value). Finding the
rules gives cell boxes that do not depend on what OCR made of the text, so a field's value
is whatever was read inside the cell right of its label.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from intake.model import Box, Cell, Line, Word

Gray = npt.NDArray[np.uint8]

MM_PER_INCH = 25.4


def _mm(dpi: int, mm: float) -> int:
    return max(1, round(dpi * mm / MM_PER_INCH))


@dataclass(frozen=True)
class Grid:
    """The ruling of a page: a mask of its rules and the cells they enclose."""

    rules: Gray  # 255 where a table rule is
    cells: tuple[Cell, ...]


def find_rules(gray: Gray, dpi: int) -> Gray:
    """A mask of long horizontal and vertical rules (table lines), 255 on the rules."""
    ink = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15
    )
    # A residual skew of a few tenths of a degree breaks a one-pixel-high run over a
    # table's width; thicken vertically before looking for long horizontal runs.
    thick_h = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 3)))
    horizontal = cv2.morphologyEx(
        thick_h, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (_mm(dpi, 30), 1))
    )
    thick_v = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1)))
    vertical = cv2.morphologyEx(
        thick_v, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, _mm(dpi, 6.5)))
    )
    rules = cv2.bitwise_or(horizontal, vertical)
    # Close pin-holes in the rules so a cell does not leak into its neighbour.
    return cv2.dilate(rules, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))


def find_cells(rules: Gray, dpi: int) -> tuple[Cell, ...]:
    """The cells enclosed by rules, numbered by table, row and column in reading order."""
    height, width = rules.shape
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(255 - rules, connectivity=4)
    min_w, min_h = _mm(dpi, 8), _mm(dpi, 4)
    boxes: list[Box] = []
    for i in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[i])
        if w < min_w or h < min_h:
            continue
        if x == 0 or y == 0 or x + w >= width or y + h >= height:
            continue  # the page background around the tables, not a cell
        if area < 0.5 * w * h:
            continue  # not a rectangle: a region between tables or a broken rule
        boxes.append(Box(x, y, w, h))
    return _number_cells(boxes, dpi)


def _number_cells(boxes: list[Box], dpi: int) -> tuple[Cell, ...]:
    """Group cells into tables (touching cells) and rows (shared top edge), in reading order."""
    boxes.sort(key=lambda b: (b.y, b.x))
    tolerance = _mm(dpi, 1.5)
    cells: list[Cell] = []
    table, row = 0, -1
    row_top: int | None = None
    previous_bottom: int | None = None
    col = 0
    for box in boxes:
        if row_top is None or abs(box.y - row_top) > tolerance:
            if previous_bottom is not None and box.y - previous_bottom > _mm(dpi, 3):
                table += 1
                row = -1
            row += 1
            col = 0
            row_top = box.y
        cells.append(Cell(row=row, col=col, box=box, table=table))
        col += 1
        previous_bottom = max(previous_bottom or 0, box.y2)
    return tuple(cells)


def find_grid(gray: Gray, dpi: int) -> Grid:
    rules = find_rules(gray, dpi)
    return Grid(rules=rules, cells=find_cells(rules, dpi))


def erase_rules(gray: Gray, rules: Gray) -> Gray:
    """The page with its table rules painted white, so OCR sees only the text."""
    out = gray.copy()
    out[rules > 0] = 255
    return out


def fill_cells(cells: tuple[Cell, ...], lines: list[Line]) -> tuple[tuple[Cell, ...], list[Line]]:
    """Put each read word into the cell holding its centre.

    Returns the cells with their text and the lines (or parts of lines) outside any cell,
    such as titles, section headings and the page footer.
    """
    parts: dict[int, list[tuple[float, float, Word]]] = {}
    outside: list[Line] = []
    for line in lines:
        words = line.words or (Word(line.text, line.box, line.conf),)
        loose: list[Word] = []
        for word in words:
            cx, cy = word.box.center
            index = next((i for i, c in enumerate(cells) if c.box.contains_point(cx, cy)), None)
            if index is None:
                loose.append(word)
            else:
                parts.setdefault(index, []).append((line.box.center[1], cx, word))
        if loose:
            outside.append(_line_of(loose))
    filled = []
    for i, cell in enumerate(cells):
        words = parts.get(i)
        if not words:
            filled.append(cell)
            continue
        text, conf = _read_in_order(words, cell.box)
        filled.append(Cell(cell.row, cell.col, cell.box, text, conf, cell.table))
    return tuple(filled), outside


def _line_of(words: list[Word]) -> Line:
    return Line(
        text="".join(w.text for w in words),
        box=Box.union_of([w.box for w in words]),
        conf=min(w.conf for w in words),
        words=tuple(words),
    )


def _read_in_order(words: list[tuple[float, float, Word]], cell: Box) -> tuple[str, float]:
    """Text of a cell's words: lines top to bottom, words left to right."""
    words.sort(key=lambda t: (t[0], t[1]))
    line_gap = max(4.0, cell.h * 0.02)
    rows: list[list[tuple[float, float, Word]]] = []
    for item in words:
        if rows and abs(item[0] - rows[-1][0][0]) <= line_gap:
            rows[-1].append(item)
        else:
            rows.append([item])
    text = "\n".join(
        _join_words([w for _, _, w in sorted(r, key=lambda t: t[1])]) for r in rows
    )
    conf = min(w.conf for _, _, w in words)
    return text, conf


def _join_words(words: list[Word]) -> str:
    """Join words, keeping a space only between two Latin or digit runs."""
    out = ""
    for word in words:
        if out and out[-1].isascii() and out[-1].isalnum() and word.text[:1].isascii() \
                and word.text[:1].isalnum():
            out += " "
        out += word.text
    return out
