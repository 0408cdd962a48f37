"""A page's ink at low resolution (``PageInk``), and where two scans of one page differ in ink:
what the text of the two bound copies cannot show (a signature, a tick, a figure, white-out)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from intake.model import Box, PageInk

INK_DPI = 50  # a 1 mm pen stroke is still 2 pixels; an A4 page is 413 x 585
_INK_BELOW = 160  # gray on the flattened page (paper evened out to white) that is ink
_NEAR_MM = 1.5  # ink this close to ink in the other copy is the same ink, shifted or blurred
# One scan prints the same text up to this much heavier than another (blur, light, toner):
# ink is new only beyond it.
_HEAVIER = 2.0
_WINDOW_MM = 10  # differing ink is summed over windows of this size
_RULE_MM = 10  # a straight level or upright run of differing ink this long is a table rule
_SEAL_MARGIN_MM = 4  # around a seal: seals are stamped anew on each copy
# A seal the detector missed (gray photocopies) shows as ink in each copy that the other has
# not, a stamp's width apart: ink that moved is not ink added. A difference is kept when the
# other copy has nothing near it of at least this share of its ink.
_MOVED_MM = 30
_MOVED_SHARE = 0.4
# Two scans of one page are not straightened alike to the pixel (a residual tenth of a degree
# moves the far corner of the page by a millimetre): after the whole page is laid over the
# other, each tile of it is moved by up to _SEARCH pixels to where it fits best.
_TILE = 32
_SEARCH = 2

Gray = npt.NDArray[np.uint8]
Float = npt.NDArray[np.float32]


def page_ink(gray: Gray, dpi: int) -> PageInk:
    """The upright, straightened gray page (red ink dropped) as ink shares at ``INK_DPI``."""
    h, w = gray.shape
    step = dpi / INK_DPI
    if step == int(step) and step >= 1:
        # Cut to whole steps: area scaling by a whole factor is five times as fast.
        height, width = max(1, h // int(step)), max(1, w // int(step))
        gray = gray[:height * int(step), :width * int(step)]
    else:
        width, height = max(1, round(w / step)), max(1, round(h / step))
    _, ink = cv2.threshold(gray, _INK_BELOW - 1, 255, cv2.THRESH_BINARY_INV)
    small = cv2.resize(ink, (width, height), interpolation=cv2.INTER_AREA)
    return PageInk(INK_DPI, width, height, zlib.compress(np.ascontiguousarray(small).tobytes(), 1))


def ink_array(ink: PageInk) -> Float:
    """The ink shares, 0..1."""
    data = np.frombuffer(zlib.decompress(ink.data), dtype=np.uint8)
    return (data.reshape(ink.height, ink.width).astype(np.float32) / 255.0)


@dataclass(frozen=True)
class InkDifference:
    """Ink one copy of a page has and the other has not, near it."""

    boxes: tuple[Box, Box]  # on the first page and on the second, each in its own pixels
    mm2: float  # the differing ink in its densest 10 mm square, in mm² of paper
    extra_in: int  # 1 or 2: the copy that has the ink


def differences(first: PageInk, second: PageInk, first_dpi: int, second_dpi: int, *,
                first_masks: Sequence[Box] = (), second_masks: Sequence[Box] = (),
                least_mm2: float = 1.0) -> list[InkDifference]:
    """Where ``first`` and ``second`` differ by at least ``least_mm2`` of ink in a window,
    largest first. The masks (seals, in each page's own pixels) are left out on both pages."""
    a, b = ink_array(first), ink_array(second)
    height, width = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    a, b = _padded(a, height, width), _padded(b, height, width)
    dx, dy = _shift(a, b)
    move = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    b = np.asarray(cv2.warpAffine(b, move, (width, height), flags=cv2.INTER_LINEAR,
                                  borderValue=0.0), dtype=np.float32)
    b = _fitted(a, b)
    masked = np.zeros((height, width), dtype=bool)
    _mask(masked, first_masks, first_dpi, 0.0, 0.0)
    _mask(masked, second_masks, second_dpi, dx, dy)
    # Ink that is not near ink in the other copy: pen on blank paper, or white-out.
    near = max(1, round(_NEAR_MM / 25.4 * INK_DPI))
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * near + 1, 2 * near + 1))
    px_mm2 = (25.4 / INK_DPI) ** 2
    found: dict[int, list[InkDifference]] = {}
    for copy, mine, other in ((1, a, b), (2, b, a)):
        excess = np.clip(mine - _HEAVIER * cv2.dilate(other, kernel), 0.0, 1.0)
        excess[masked] = 0.0
        excess -= _ruled(excess)
        found[copy] = _regions(excess, copy, _MOVED_SHARE * least_mm2 / px_mm2,
                               (first_dpi, second_dpi), (dx, dy))
    reach = _MOVED_MM / 25.4 * first_dpi
    out = [d for copy in (1, 2) for d in found[copy] if d.mm2 >= least_mm2 and not any(
        o.mm2 >= _MOVED_SHARE * d.mm2 and _gap(d.boxes[0], o.boxes[0]) <= reach
        for o in found[3 - copy])]
    return sorted(out, key=lambda d: -d.mm2)


def _gap(one: Box, two: Box) -> int:
    """How far apart two boxes are, along the axis they are furthest apart on (0: touching)."""
    return max(0, two.x - (one.x + one.w), one.x - (two.x + two.w),
               two.y - (one.y + one.h), one.y - (two.y + two.h))


def _ruled(excess: Float) -> Float:
    """Straight level or upright runs of at least _RULE_MM: what is left of a table's rule
    where rule removal erased it on one copy only, not pen (a tick, a loop, a signature)."""
    run = round(_RULE_MM / 25.4 * INK_DPI)
    level = cv2.morphologyEx(excess, cv2.MORPH_OPEN, np.ones((1, run), np.uint8))
    upright = cv2.morphologyEx(excess, cv2.MORPH_OPEN, np.ones((run, 1), np.uint8))
    return np.asarray(np.maximum(level, upright), dtype=np.float32)


def _padded(image: Float, height: int, width: int) -> Float:
    out = np.zeros((height, width), dtype=np.float32)
    out[:image.shape[0], :image.shape[1]] = image
    return out


def _shift(a: Float, b: Float) -> tuple[float, float]:
    """The shift that lays ``b`` over ``a`` (phase correlation on the ink)."""
    window = cv2.createHanningWindow((a.shape[1], a.shape[0]), cv2.CV_32F)
    (dx, dy), _ = cv2.phaseCorrelate(b, a, window)
    limit = 15 / 25.4 * INK_DPI  # scans of one page are not further apart than 15 mm
    if abs(dx) > limit or abs(dy) > limit:
        return 0.0, 0.0
    return float(dx), float(dy)


def _fitted(a: Float, b: Float) -> Float:
    """``b`` with each tile moved by the whole pixels that lay it best over ``a`` (the boxes
    found later ignore these moves: a millimetre at most)."""
    height, width = a.shape
    rows, cols = -(-height // _TILE), -(-width // _TILE)
    tall, wide = rows * _TILE, cols * _TILE
    a = _padded(a, tall, wide)
    framed = np.zeros((tall + 2 * _SEARCH, wide + 2 * _SEARCH), dtype=np.float32)
    framed[_SEARCH:_SEARCH + height, _SEARCH:_SEARCH + width] = b[:height, :width]
    shifts = sorted(((dy, dx) for dy in range(-_SEARCH, _SEARCH + 1)
                     for dx in range(-_SEARCH, _SEARCH + 1)), key=lambda d: abs(d[0]) + abs(d[1]))
    costs = np.stack([
        cv2.resize(cv2.absdiff(a, _moved(framed, dy, dx, tall, wide)), (cols, rows),
                   interpolation=cv2.INTER_AREA)
        for dy, dx in shifts])
    # No move first: argmin keeps the first of equals, so a tile that fits as well unmoved
    # (blank paper) stays where it is.
    choice = np.argmin(costs, axis=0)
    out = np.zeros_like(a)
    for index in np.unique(choice):
        dy, dx = shifts[index]
        take = np.repeat(np.repeat(choice == index, _TILE, axis=0), _TILE, axis=1)
        np.copyto(out, _moved(framed, dy, dx, tall, wide), where=take)
    return out[:height, :width]


def _moved(framed: Float, dy: int, dx: int, tall: int, wide: int) -> Float:
    """The framed page moved by (dx, dy) whole pixels."""
    return framed[_SEARCH - dy:_SEARCH - dy + tall, _SEARCH - dx:_SEARCH - dx + wide]


def _mask(masked: npt.NDArray[np.bool_], boxes: Sequence[Box], dpi: int, dx: float,
          dy: float) -> None:
    if dpi <= 0:
        return
    f = INK_DPI / dpi
    margin = _SEAL_MARGIN_MM / 25.4 * INK_DPI
    for box in boxes:
        x0 = max(0, int(box.x * f + dx - margin))
        y0 = max(0, int(box.y * f + dy - margin))
        x1 = int((box.x + box.w) * f + dx + margin) + 1
        y1 = int((box.y + box.h) * f + dy + margin) + 1
        masked[y0:y1, x0:x1] = True


def _regions(excess: Float, copy: int, least: float, dpis: tuple[int, int],
             shift: tuple[float, float]) -> list[InkDifference]:
    """Windows whose differing ink adds up to ``least`` (in pixels of full ink), joined
    into regions, each boxed in both pages' pixels (the second page lies ``shift`` off)."""
    side = max(3, round(_WINDOW_MM / 25.4 * INK_DPI))
    summed = cv2.boxFilter(excess, -1, (side, side), normalize=False)
    hot = summed >= least
    if not hot.any():
        return []
    grown = cv2.dilate(hot.astype(np.uint8), np.ones((side, side), np.uint8))
    count, labels = cv2.connectedComponents(grown)
    out = []
    px_mm2 = (25.4 / INK_DPI) ** 2
    for label in range(1, count):
        inside = labels == label
        ys, xs = np.nonzero(inside & (excess > 0.05))
        if len(xs) == 0:
            continue
        x0, x1, y0, y1 = int(xs.min()), int(xs.max()) + 1, int(ys.min()), int(ys.max()) + 1
        first = _scaled(x0, y0, x1, y1, dpis[0], 0.0, 0.0)
        second = _scaled(x0, y0, x1, y1, dpis[1], *shift)
        # The densest window, not the region's sum: many specks of noise join into wide
        # regions that add up to more than one pen stroke.
        out.append(InkDifference((first, second), float(summed[inside].max()) * px_mm2, copy))
    return out


def _scaled(x0: int, y0: int, x1: int, y1: int, dpi: int, dx: float, dy: float) -> Box:
    f = dpi / INK_DPI
    return Box(max(0, round((x0 - dx) * f)), max(0, round((y0 - dy) * f)),
               round((x1 - x0) * f), round((y1 - y0) * f))
