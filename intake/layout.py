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
from intake.normalize import join_words
from intake.prepare import open_rows

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
    horizontal = open_rows(np.asarray(thick_h, dtype=np.uint8), _mm(dpi, 30))
    thick_v = cv2.dilate(ink, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 1)))
    vertical = cv2.morphologyEx(
        thick_v, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, _mm(dpi, 6.5)))
    )
    rules = cv2.bitwise_or(horizontal, vertical)
    # Close pin-holes in the rules so a cell does not leak into its neighbour.
    closed = cv2.dilate(rules, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    return np.asarray(closed, dtype=np.uint8)


def find_cells(rules: Gray, dpi: int) -> tuple[Cell, ...]:
    """The cells enclosed by rules, numbered by table, row and column in reading order."""
    # Cells lie inside the rules' bounding box; outside it is one stretch of paper reaching
    # the page's edge. So the box and a pixel around it are labelled, not the whole page, and
    # what touches that frame's edge is the paper around the tables, as on the page.
    bx, by, bw, bh = cv2.boundingRect(rules)
    if not bw or not bh:
        return ()
    x0, y0 = max(0, bx - 1), max(0, by - 1)
    frame = rules[y0:min(rules.shape[0], by + bh + 1), x0:min(rules.shape[1], bx + bw + 1)]
    height, width = frame.shape
    n, _labels, stats, _ = cv2.connectedComponentsWithStats(255 - frame, connectivity=4)
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
        boxes.append(Box(x0 + x, y0 + y, w, h))
    return _number_cells(boxes, dpi)


def _number_cells(boxes: list[Box], dpi: int) -> tuple[Cell, ...]:
    """Group cells into tables (separated by a vertical gap) and rows (shared top edge),
    then number them in reading order: rows top to bottom, cells left to right."""
    tolerance = _mm(dpi, 1.5)
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: b.y):
        if rows and abs(box.y - rows[-1][0].y) <= tolerance:
            rows[-1].append(box)
        else:
            rows.append([box])
    cells: list[Cell] = []
    table, row_number = 0, 0
    previous_bottom: int | None = None
    for row in rows:
        top = min(b.y for b in row)
        if previous_bottom is not None and top - previous_bottom > _mm(dpi, 3):
            table += 1
            row_number = 0
        for col, box in enumerate(sorted(row, key=lambda b: b.x)):
            cells.append(Cell(row=row_number, col=col, box=box, table=table))
        row_number += 1
        previous_bottom = max(previous_bottom or 0, *(b.y2 for b in row))
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
    parts: dict[int, list[Word]] = {}
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
                parts.setdefault(index, []).append(word)
        if loose:
            outside.append(_line_of(loose))
    filled = []
    for i, cell in enumerate(cells):
        placed = parts.get(i)
        if not placed:
            filled.append(cell)
            continue
        text, conf = _read_in_order(placed)
        filled.append(Cell(cell.row, cell.col, cell.box, text, conf, cell.table))
    return tuple(filled), outside


def _line_of(words: list[Word]) -> Line:
    return Line(
        text="".join(w.text for w in words),
        box=Box.union_of([w.box for w in words]),
        conf=min(w.conf for w in words),
        words=tuple(words),
    )


def _read_in_order(words: list[Word]) -> tuple[str, float]:
    """Text of a cell's words: lines top to bottom, words left to right.

    A word belongs to the line whose middle is within half a character height of its own,
    whatever line the engine put it in: engines split and merge lines inside table cells.
    """
    heights = sorted(w.box.h for w in words)
    tolerance = max(3.0, 0.5 * heights[len(heights) // 2])
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: w.box.center[1]):
        if rows and abs(word.box.center[1] - _middle(rows[-1])) <= tolerance:
            rows[-1].append(word)
        else:
            rows.append([word])
    text = "\n".join(join_words([w.text for w in sorted(r, key=lambda w: w.box.x)]) for r in rows)
    return text, min(w.conf for w in words)


def _middle(row: list[Word]) -> float:
    return sum(w.box.center[1] for w in row) / len(row)
