"""Page preparation: turn a rendered page into an upright, straight gray image fit for OCR.

Pure functions over numpy images (uint8 gray, or BGR as OpenCV keeps colour). Only ``orient``
and ``read_upright`` read text, through the tesseract wrapper, to tell an upright page from an
upside-down one.
Angles are measured on a downscaled copy (longest side 1000 px), so they cost milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import numpy.typing as npt

from intake.model import Line
from intake.ocr import tesseract

Image = npt.NDArray[np.uint8]  # gray (h, w) or BGR (h, w, 3)

# A page counts as colour when this share of its pixels is strongly coloured: a round seal on
# an A4 page covers about 0.5 %; JPEG colour fringes around black print stay below the chroma.
_COLOR_CHROMA = 60
_COLOR_SHARE = 0.001
# Red ink: red clearly above green and blue, and bright enough not to be black print under ink.
_RED_MARGIN = 50
_RED_MIN = 110
_WORK_SIDE = 1000  # longest side of the downscaled copy used for measuring angles
MAX_SKEW = 6.0  # degrees; a page leaning more is rescanned, not straightened
_CHAR_PX = 32  # character height tesseract reads well and fast


@dataclass(frozen=True)
class Prepared:
    """A page made ready for reading.

    ``gray`` is what OCR should read: upright, straight, red ink dropped, paper evened out to
    white, ruled lines erased.
    ``layout`` is the same page with its ruled lines kept, for finding table cells.
    Both are the rendered page after ``rotation`` then ``skew``; ``upright`` gives any other
    image of the page (the colour original, for seals) the same geometry.
    """

    gray: Image
    layout: Image
    rotation: int  # degrees turned clockwise to make the page upright: 0, 90, 180, 270
    skew: float  # degrees turned counter-clockwise by deskew, after the rotation
    was_color: bool
    # Set when ``prepare(..., defer_flip=True)`` left open whether the page is upside down:
    # (x, y, w, h) in ``gray`` of strips of dense text lines, whose reading in the page read
    # (``read_upright``) settles it.
    flip_strips: tuple[tuple[int, int, int, int], ...] = ()
    char_px: float = 0.0  # character size in ``gray``'s pixels, when ``flip_strips`` are set


def _small(image: Image, side: int = _WORK_SIDE) -> tuple[Image, float]:
    """A copy whose longest side is at most ``side`` pixels, and the factor applied."""
    h, w = image.shape[:2]
    f = min(1.0, side / max(h, w))
    if f >= 1.0:
        return image, 1.0
    small = cv2.resize(image, (max(1, round(w * f)), max(1, round(h * f))),
                       interpolation=cv2.INTER_AREA)
    return np.asarray(small, dtype=np.uint8), f


# Colour ---------------------------------------------------------------------------------------


def _chroma(bgr: Image) -> npt.NDArray[np.uint8]:
    """Per pixel, the spread between the strongest and weakest channel, on a small copy."""
    small, _ = _small(bgr, 800)
    b, g, r = cv2.split(small)
    return np.asarray(cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r)),
                      dtype=np.uint8)


def _color_of(chroma: npt.NDArray[np.uint8]) -> bool:
    return bool(np.count_nonzero(chroma > _COLOR_CHROMA) > _COLOR_SHARE * chroma.size)


def _gray_of(chroma: npt.NDArray[np.uint8]) -> bool:
    return bool(chroma.mean() < 1.0)


def is_color(bgr: Image) -> bool:
    """True when the page carries colour that matters (a red or blue seal, coloured print)."""
    return bgr.ndim == 3 and _color_of(_chroma(bgr))


def is_gray(image: Image) -> bool:
    """True for a gray scan: one channel, or three equal ones (a colour scan of white paper
    still carries a tint of a few levels)."""
    return image.ndim == 2 or _gray_of(_chroma(image))


def remove_red_ink(bgr: Image) -> Image:
    """Gray page with red ink (seals, red pen) dropped out and black print kept.

    The red channel is the scanner's classic "red dropout": red ink reflects red light and
    reads as near-white in it, black print absorbs it and stays black, also where a seal lies
    over it; blue pen stays dark. Pixels that are clearly red are then pushed to white, to lose
    the pale residue of the seal.
    """
    if bgr.ndim == 2:
        return bgr.copy()
    b, g, r = cv2.split(bgr)
    # Saturating uint8 arithmetic: a red margin below zero counts as zero, never as red.
    margin = cv2.subtract(r, cv2.max(g, b))
    red = cv2.bitwise_and(cv2.threshold(margin, _RED_MARGIN, 255, cv2.THRESH_BINARY)[1],
                          cv2.threshold(r, _RED_MIN, 255, cv2.THRESH_BINARY)[1])
    out = np.asarray(r, dtype=np.uint8)
    out[red > 0] = 255
    return out


# Gray seals: print is black at its core (below this, on paper evened out to white); a gray
# photocopy of red seal ink lands about 85-180, and paper above the ceiling.
_PRINT_CORE = 75
_SEAL_CEILING = 200
_SEAL_DENSITY = 0.08  # share of a seal-sized window that is loose mid-gray ink


def drop_gray_seals(gray: Image) -> Image:
    """Gray page with the ink of gray seals taken out where it does not touch print.

    On a gray photocopy a seal's ink has no colour to drop it by, but it is lighter than
    print: print strokes have black cores, seal ink stays mid-gray. Mid-gray ink more than a
    pixel away from any black core (so not the soft edge of a printed stroke) is loose ink;
    where loose ink is dense, as in a seal's ring, lettering and star, and never in lines of
    print, it is whitened. Print under the seal stays: the seal only darkens it. The seal's ink
    right next to print is left, a faint halo OCR reads through.
    """
    if gray.ndim != 2:
        raise ValueError(f"expected a gray image, got shape {gray.shape}")
    dark = (gray < _PRINT_CORE).astype(np.uint8)
    near = cv2.dilate(dark, np.ones((3, 3), np.uint8)) > 0
    loose = (gray < _SEAL_CEILING) & ~near
    k = max(15, round(max(gray.shape) / 60)) | 1  # about 5 mm on an A4 page
    density = cv2.boxFilter(loose.astype(np.float32), -1, (k, k))
    region = cv2.dilate((density > _SEAL_DENSITY).astype(np.uint8), np.ones((k, k), np.uint8))
    out = gray.copy()
    out[(region > 0) & ~near] = 255
    return out


def flatten(gray: Image) -> Image:
    """Even out the paper: uneven lamp light, a gray photocopy, shadows at a bound edge.

    The paper's own brightness is estimated where there is no print (a max filter wider than
    a stroke, on a downscaled copy) and divided out, so paper becomes white everywhere and
    print keeps its contrast. Tesseract binarises a page with one threshold; on a page that
    is darker to one side it reads the dark side as a field of noise.
    """
    small, _ = _small(gray, 500)
    k = max(3, round(max(small.shape) / 40)) | 1
    paper = cv2.dilate(small, np.ones((k, k), np.uint8))
    paper = cv2.GaussianBlur(paper, (0, 0), k / 2)
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.asarray(cv2.divide(gray, np.maximum(paper, 1), scale=255), dtype=np.uint8)


# Angles ---------------------------------------------------------------------------------------


def _ink(gray: Image) -> Image:
    """Binary mask (255 = ink), robust to uneven lighting."""
    block = max(15, (min(gray.shape[:2]) // 40) | 1)
    mask = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                 block, 15)
    return np.asarray(mask, dtype=np.uint8)


def _warp(image: Image, degrees: float, *, fill: int, nearest: bool = False) -> Image:
    """Turn counter-clockwise by ``degrees`` on a canvas grown to keep every corner."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    new_w, new_h = round(w * cos + h * sin), round(w * sin + h * cos)
    m[0, 2] += new_w / 2 - w / 2
    m[1, 2] += new_h / 2 - h / 2
    out = cv2.warpAffine(image, m, (new_w, new_h),
                         flags=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(fill, fill, fill) if image.ndim == 3 else fill)
    return np.asarray(out, dtype=np.uint8)


def rotate_bound(image: Image, degrees: float) -> Image:
    """Turn ``image`` counter-clockwise by ``degrees``, growing the canvas so no corner is cut.

    The new margins are white. This is the turn ``deskew`` applies for the angle it returns, so
    the colour original of a page can be given the same geometry as its gray copy.
    """
    return _warp(image, degrees, fill=255) if degrees else image


def _runs(ink: Image, length: int, *, slack: int) -> Image:
    """Ink in horizontal runs at least ``length`` long, allowing a lean of ``slack`` pixels."""
    thick = np.asarray(cv2.dilate(ink, np.ones((slack, 1), np.uint8)), dtype=np.uint8) \
        if slack > 1 else ink
    return np.asarray(cv2.bitwise_and(open_rows(thick, length), ink), dtype=np.uint8)


def open_rows(mask: Image, length: int) -> Image:
    """A binary ``mask`` (0/255) opened by a horizontal line ``length`` long: what lies in
    runs at least that long. Only a row with that much ink can hold one, and an opening along
    rows treats each row on its own, so only those rows are opened: on a page, a few."""
    counts = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    rows = np.flatnonzero(counts >= 255 * length)
    out = np.zeros_like(mask)
    if rows.size:
        out[rows] = cv2.morphologyEx(mask[rows], cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    return out


def _transposed(image: Image) -> Image:
    # OpenCV's transpose is cache-blocked: a tenth of numpy's strided copy on a full page.
    return np.asarray(cv2.transpose(image), dtype=np.uint8)


def _line_fits(runs: Image, min_len: int) -> list[tuple[float, int]]:
    """(slope dy/dx, length) of each long, thin component of a run mask, by least squares."""
    # Labelled on the rows holding runs (and one either side, which keeps apart what is
    # apart): a component's rows stay next to each other, so its shape is the same.
    rows = _rows_near(runs, 1)
    if not rows.size:
        return []
    n, labels, stats, _ = cv2.connectedComponentsWithStats(runs[rows], connectivity=8)
    fits = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if w < min_len or h > 0.12 * w + 8:
            continue
        ys, xs = np.nonzero(labels[y:y + h, x:x + w] == i)
        fits.append((float(np.polyfit(xs, ys, 1)[0]), w))
    return fits


def _rule_angle(ink: Image, max_angle: float) -> float | None:
    """Length-weighted median lean (counter-clockwise degrees) of the long ruled lines.

    Horizontal and vertical rules both count; None when the page has too few of them.
    """
    h, w = ink.shape
    angles: list[float] = []
    weights: list[int] = []
    # Rows grow downwards, so a rule leaning counter-clockwise has a negative slope; a
    # vertical rule, transposed, a positive one.
    for mask, sign, span in ((ink, -1.0, w), (_transposed(ink), 1.0, h)):
        for slope, length in _line_fits(_runs(mask, 25, slack=3), span // 5):
            a = sign * math.degrees(math.atan(slope))
            if abs(a) <= max_angle:
                angles.append(a)
                weights.append(length)
    if sum(weights) < max(w, h) // 2:
        return None
    return _weighted_median(angles, weights)


def _weighted_median(angles: list[float], weights: list[int]) -> float:
    order = np.argsort(angles)
    cum = np.cumsum(np.asarray(weights)[order])
    return float(np.asarray(angles)[order][int(np.searchsorted(cum, cum[-1] / 2))])


def _line_angle(ink: Image, max_angle: float) -> float | None:
    """Lean of the text lines: characters smeared into one band per line, each long band's
    centre line fitted. None when there are too few long lines."""
    h, w = ink.shape
    k = max(3, round(max(h, w) / 120))  # about half a character at the working scale
    bands = cv2.dilate(ink, np.ones((1, k), np.uint8))
    angles: list[float] = []
    weights: list[int] = []
    for slope, length in _line_fits(np.asarray(bands, dtype=np.uint8), 10 * k):
        a = -math.degrees(math.atan(slope))
        if abs(a) <= max_angle:
            angles.append(a)
            weights.append(length)
    if sum(weights) < max(w, h) // 4:
        return None
    return _weighted_median(angles, weights)


def _profile_score(ink: Image, degrees: float) -> float:
    rows = _warp(ink, degrees, fill=0, nearest=True).sum(axis=1, dtype=np.float64)
    return float(np.square(np.diff(rows)).sum())


def _profile_angle(ink: Image, max_angle: float) -> float:
    """The lean whose straightening gives the sharpest row profile: text lines in clean bands."""
    small, _ = _small(ink, 600)
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    best = float(max(coarse, key=lambda a: _profile_score(small, -float(a))))
    fine = np.arange(best - 0.4, best + 0.4 + 1e-9, 0.1)
    return float(max(fine, key=lambda a: _profile_score(small, -float(a))))


def _lean(ink: Image, max_angle: float) -> float:
    """Ruled lines first (long and straight), then text lines, then the row profile."""
    angle = _rule_angle(ink, max_angle)
    if angle is None:
        angle = _line_angle(ink, max_angle)
    if angle is None:
        angle = _profile_angle(ink, max_angle)
    return round(angle, 2)


def skew_angle(gray: Image, *, max_angle: float = MAX_SKEW) -> float:
    """How far the content leans counter-clockwise, in degrees, within ``max_angle``.

    Horizontal and vertical rules lean alike, so this holds for a page turned a quarter too.
    """
    small, _ = _small(gray)
    return _lean(_ink(small), max_angle)


def deskew(gray: Image, *, max_angle: float = MAX_SKEW) -> tuple[Image, float]:
    """Straighten a page: returns it and the counter-clockwise turn applied, in degrees.

    The angle comes from the form's long ruled lines, fitted on a downscaled copy; a page
    without rules falls back to the sharpest text-line projection. The canvas grows so that
    nothing is cut (``rotate_bound``); below 0.1 degrees the page is returned as it is.
    """
    angle = -skew_angle(gray, max_angle=max_angle)
    if abs(angle) < 0.1:
        return gray, 0.0
    return rotate_bound(gray, angle), angle


# Orientation ----------------------------------------------------------------------------------

_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn(image: Image, rotation: int) -> Image:
    """Turn ``image`` clockwise by a multiple of 90 degrees."""
    rotation %= 360
    if rotation not in (0, 90, 180, 270):
        raise ValueError(f"rotation must be a multiple of 90 degrees, got {rotation}")
    if rotation == 0:
        return image
    return np.asarray(cv2.rotate(image, _ROTATE[rotation]), dtype=np.uint8)


def upright(image: Image, rotation: int, skew: float) -> Image:
    """Give another image of a page (e.g. its colour original) the geometry ``prepare`` gave
    its gray copy: first the quarter turns of ``orient``, then the ``deskew`` turn."""
    return rotate_bound(turn(image, rotation), skew)


def _text_only(ink: Image) -> Image:
    """Ink with long thin runs (rules, underlines) taken out; the page must be straight."""
    h, w = ink.shape
    horiz = _runs(ink, max(25, w // 12), slack=1)
    vert = _transposed(_runs(_transposed(ink), max(25, h // 12), slack=1))
    rules = cv2.dilate(cv2.bitwise_or(horiz, vert), np.ones((3, 3), np.uint8))
    text = cv2.bitwise_and(ink, cv2.bitwise_not(rules))
    return np.asarray(cv2.morphologyEx(text, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8)),
                      dtype=np.uint8)


def _text_direction(text: Image) -> tuple[bool | None, float]:
    """Whether text runs in horizontal lines (None: cannot tell), and the character size.

    Smearing characters along the reading direction merges each line into one long blob;
    smearing across it merges little. Compare how much elongated blob each way gives.
    """
    h, w = text.shape
    k = max(3, round(max(h, w) / 120))
    totals, sizes = [], []
    for kernel, along in ((np.ones((1, k), np.uint8), 0), (np.ones((k, 1), np.uint8), 1)):
        _, _, stats, _ = cv2.connectedComponentsWithStats(cv2.dilate(text, kernel))
        long_side = stats[1:, cv2.CC_STAT_WIDTH + along]
        short_side = stats[1:, cv2.CC_STAT_HEIGHT - along]
        keep = (short_side >= 4) & (long_side >= 3 * short_side) & (long_side >= 4 * k)
        totals.append(float(long_side[keep].sum()))
        sizes.append(float(np.median(short_side[keep])) if keep.any() else 0.0)
    horizontal, vertical = totals
    if not max(totals) or max(totals) < 1.5 * min(totals):
        return None, max(sizes)
    return horizontal > vertical, sizes[0] if horizontal > vertical else sizes[1]


def _densest(mask: Image, win_h: int, win_w: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of the ``win_h`` x ``win_w`` window holding the most ink."""
    h, w = mask.shape
    win_h, win_w = max(1, min(win_h, h)), max(1, min(win_w, w))
    summed = cv2.integral((mask > 0).astype(np.uint8))
    totals = (summed[win_h:, win_w:] - summed[:-win_h, win_w:] - summed[win_h:, :-win_w]
              + summed[:-win_h, :-win_w])
    y, x = np.unravel_index(int(np.argmax(totals)), totals.shape)
    return int(x), int(y), win_w, win_h


def _best_read(crops: list[Image], timeout: float) -> int:
    """Index of the crop tesseract reads with most confidence, -1 if it reads none.

    The crops go through one tesseract read, stacked with white gaps: one layout analysis
    for all of them.
    """
    gap = 24
    width = max(c.shape[1] for c in crops)
    tops, parts, y = [], [], 0
    for c in crops:
        tops.append(y)
        parts.append(cv2.copyMakeBorder(c, 0, gap, 0, width - c.shape[1], cv2.BORDER_CONSTANT,
                                        value=255))
        y += c.shape[0] + gap
    lines = tesseract.ocr_lines(np.vstack(parts), psm=6, timeout=timeout)
    scores = [0.0] * len(crops)
    for line in lines:
        for word in line.words:
            if word.conf >= 60:
                index = int(np.searchsorted(tops, word.box.center[1], side="right")) - 1
                scores[index] += word.conf * len(word.text)
    best = int(np.argmax(scores))
    return best if scores[best] > 0 else -1


@dataclass(frozen=True)
class _Shape:
    """What the shape of a page's ink tells about its orientation, at the working scale."""

    lean: float  # counter-clockwise degrees
    horizontal: bool | None  # text runs in horizontal lines; None: cannot tell
    char: float  # character size, working-scale pixels
    f: float  # working scale
    text: Image  # text-only ink, straightened


def _shape(gray: Image) -> _Shape | None:
    """The reading direction and character size from the shape of the ink, for free; None
    when the page has too little text to tell."""
    small, f = _small(gray)
    ink = _ink(small)
    lean = _lean(ink, MAX_SKEW)
    text = _text_only(_warp(ink, -lean, fill=0, nearest=True))
    if np.count_nonzero(text) < 0.002 * text.size:
        return None
    horizontal, char = _text_direction(text)
    return _Shape(lean, horizontal, char, f, text)


def _read_orientation(gray: Image, shape: _Shape, timeout: float) -> int:
    """The clockwise turn that makes the page upright, read by tesseract: a strip of the
    densest text and its copy turned half round, or, when the shape cannot tell the reading
    direction, a square of text at all four turns, in one run."""
    f = shape.f
    full = rotate_bound(gray, -shape.lean)
    scale = min(1.0, _CHAR_PX * f / shape.char) if shape.char else 1.0

    def crop(mask: Image, page: Image, win_h: int, win_w: int) -> Image:
        x, y, w, h = _densest(mask, win_h, win_w)
        part = page[round(y / f):round((y + h) / f), round(x / f):round((x + w) / f)]
        if scale >= 1.0:
            return part
        return np.asarray(cv2.resize(part, None, fx=scale, fy=scale,
                                     interpolation=cv2.INTER_AREA), dtype=np.uint8)

    if shape.horizontal is None:
        side = min(shape.text.shape) // 3
        square = crop(shape.text, full, side, side)
        pick = _best_read([turn(square, r) for r in (0, 90, 180, 270)], timeout)
        return 0 if pick < 0 else pick * 90
    base = 0 if shape.horizontal else 90
    x, y, w, h = _strip_window(shape)
    part = turn(full, base)[round(y / f):round((y + h) / f), round(x / f):round((x + w) / f)]
    strip = part if scale >= 1.0 else np.asarray(
        cv2.resize(part, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    pick = _best_read([strip, turn(strip, 180)], timeout)
    return 0 if pick < 0 else (base + 180 * pick) % 360


def _strip_window(shape: _Shape) -> tuple[int, int, int, int]:
    """(x, y, w, h), at the working scale on the straightened page turned to horizontal lines,
    of about five lines of sixteen characters of the densest text: enough to tell which way
    up, cheap to read twice."""
    turned = turn(shape.text, 0 if shape.horizontal else 90)
    return _densest(turned, max(1, round(shape.char * 5)),
                    min(turned.shape[1] * 2 // 3, max(1, round(shape.char * 16))))


def _line_windows(shape: _Shape, count: int) -> list[tuple[int, int, int, int]]:
    """Up to ``count`` windows like ``_strip_window``'s, apart, on ink that forms lines of
    characters: a seal's ring and star, dense as they are, form no long low band."""
    text = turn(shape.text, 0 if shape.horizontal else 90)
    h, w = text.shape
    k = max(3, round(max(h, w) / 120))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(
        cv2.dilate(text, np.ones((1, k), np.uint8)))
    tall, wide = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    keep = (tall >= 4) & (tall <= 2 * shape.char + 2) & (wide >= 3 * tall) & (wide >= 4 * k)
    keep[0] = False
    lines = np.where(keep[labels] & (text > 0), 255, 0).astype(np.uint8)
    win_h = max(1, round(shape.char * 5))
    win_w = min(w * 2 // 3, max(1, round(shape.char * 16)))
    windows = []
    for _ in range(count):
        if not lines.any():
            break
        x, y, ww, hh = _densest(lines, win_h, win_w)
        windows.append((x, y, ww, hh))
        lines[max(0, y - hh // 2):y + hh + hh // 2, :] = 0  # the next one on other lines
    return windows


def orient(gray: Image, *, timeout: float = 20) -> tuple[Image, int]:
    """Turn a page upright; returns it and the clockwise turn applied (0, 90, 180 or 270).

    The reading direction (horizontal or vertical lines) comes from the shape of the ink, for
    free; which way up comes from one tesseract run over a strip of the densest text and its
    copy turned half round. When the shape cannot tell, a square of text is read at all four
    turns in one run. A page with too little text to tell is left as it is. Works on a page
    that still leans (up to ``MAX_SKEW``): the strip is straightened before it is read.
    """
    shape = _shape(gray)
    if shape is None:
        return gray, 0
    rotation = _read_orientation(gray, shape, timeout)
    return turn(gray, rotation), rotation


# An upright page reads most of its flip strips' characters with confidence (mostly over
# 0.8 on generated heavy pages, a few gray ones 0.44-0.58), an upside-down one few (at most
# 0.24); below this share, or with fewer characters than this, the strips are read both
# ways up on their own.
_UPRIGHT_SHARE = 0.6
_UPRIGHT_CHARS = 8


def _sure_share(words: list[tuple[str, float]]) -> tuple[float, int]:
    """The share of characters read with confidence, and how many."""
    chars = sum(len(text) for text, _ in words)
    sure = sum(len(text) for text, conf in words if conf >= 60)
    return sure / max(1, chars), sure


def read_upright(prepared: Prepared, *, lang: str = "chi_sim",
                 psm: int = tesseract.DEFAULT_PAGE_PSM,
                 timeout: float = 60, scale: float = 1.0) -> tuple[Prepared, list[Line]]:
    """Read a prepared page with tesseract, settling on the way which way up it is.

    For a page ``prepare(..., defer_flip=True)`` left open, the page read itself says whether
    it is upright: an upright page reads its flip strips (dense lines of text) with
    confidence. Only when it does not are the strips read both ways up on their own, as
    ``orient`` does, and an upside-down page turned and read again. So an upright page with
    text costs one read and no orientation read. Returns the page as read (its rotation
    settled) and its lines. ``scale``: the page is read that much smaller (see
    ``tesseract.ocr_lines``); boxes stay in the prepared page's pixels.
    """
    def read(image: Image) -> list[Line]:
        return tesseract.ocr_lines(image, lang=lang, psm=psm, timeout=timeout, scale=scale)

    lines = read(prepared.gray)
    settled = replace(prepared, flip_strips=(), char_px=0.0)
    if not prepared.flip_strips:
        return settled, lines
    boxes = prepared.flip_strips
    share, sure = _sure_share([(wd.text, wd.conf) for ln in lines for wd in ln.words
                               if any(x <= wd.box.center[0] < x + w and y <= wd.box.center[1] < y + h
                                      for x, y, w, h in boxes)])
    if share >= _UPRIGHT_SHARE and sure >= _UPRIGHT_CHARS:
        return settled, lines
    strips = [prepared.gray[y:y + h, x:x + w] for x, y, w, h in boxes]
    if prepared.char_px > _CHAR_PX:  # the size tesseract reads well and fast
        f = _CHAR_PX / prepared.char_px
        strips = [np.asarray(cv2.resize(s, None, fx=f, fy=f, interpolation=cv2.INTER_AREA),
                             dtype=np.uint8) for s in strips]
    if _best_read([*strips, *(turn(s, 180) for s in strips)], timeout) < len(strips):
        return settled, lines
    turned = replace(settled, gray=turn(prepared.gray, 180), layout=turn(prepared.layout, 180),
                     rotation=(prepared.rotation + 180) % 360)
    turned_lines = read(turned.gray)
    # The strips are a small sample; the whole page read both ways up is the last word (a
    # sparse upright page whose strips read badly must not be turned into nonsense).
    if _sure_chars(turned_lines) < _sure_chars(lines):
        return settled, lines
    return turned, turned_lines


def _sure_chars(lines: list[Line]) -> int:
    return _sure_share([(wd.text, wd.conf) for ln in lines for wd in ln.words])[1]


# Ruled lines ----------------------------------------------------------------------------------


def _bare_runs(ink: Image, length: int, near: int) -> Image:
    """Horizontal rules: ink in long runs that mostly pass through empty paper.

    A run found inside a line of text (strokes of neighbouring characters bridged into one
    long run, as in a row of digits) has ink just above or below it along most of its
    length; a rule has not, except where a character touches it.
    """
    # Bridge small breaks in worn rules first; the slack keeps a rule that still leans a
    # little one long run.
    closed = np.asarray(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((1, 5), np.uint8)),
                        dtype=np.uint8)
    runs = np.asarray(cv2.bitwise_and(_runs(closed, length, slack=3), ink), dtype=np.uint8)
    # Runs lie on a few rows of the page (rules, a row of digits): the rest is judged on those
    # rows and the ``near + 2`` around each, stacked, which is what a run's judgement looks at
    # (runs far apart stay apart: the rows between them hold none). Labelling a whole page for
    # them cost more than all the rest of the rule finding.
    rows = _rows_near(runs, near + 2)
    if not rows.size:
        return np.zeros_like(runs)
    sub_runs, sub_ink = runs[rows], ink[rows]
    others = cv2.bitwise_and(sub_ink,
                             cv2.bitwise_not(cv2.dilate(sub_runs, np.ones((3, 1), np.uint8))))
    crowded = cv2.dilate(others, np.ones((2 * near + 1, 1), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(sub_runs, connectivity=8)
    busy = np.bincount(labels[(crowded > 0) & (sub_runs > 0)], minlength=n)
    keep = busy <= 0.5 * stats[:, cv2.CC_STAT_AREA]
    keep[0] = False
    out = np.zeros_like(runs)
    out[rows] = np.where(keep[labels], 255, 0).astype(np.uint8)
    return out


def _rows_near(mask: Image, margin: int) -> npt.NDArray[np.intp]:
    """Indices of the rows of ``mask`` within ``margin`` rows of one holding any of it."""
    held = cv2.reduce(mask, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() > 0
    if not held.any():
        return np.zeros(0, dtype=np.intp)
    near = np.convolve(held, np.ones(2 * margin + 1, dtype=bool), mode="same")
    return np.flatnonzero(near)


def _rule_masks(ink: Image) -> tuple[Image, Image]:
    """Masks of the horizontal and vertical ruled lines in a binary ink image."""
    h, w = ink.shape
    # Longer than a run of a few characters: about 2 cm on an A4 page.
    near = max(4, max(h, w) // 300)
    horiz = _bare_runs(ink, max(25, w // 10), near)
    vert = _transposed(_bare_runs(_transposed(ink), max(25, h // 14), near))
    return horiz, vert


def remove_rules(gray: Image) -> Image:
    """Erase horizontal and vertical table lines, keep the characters.

    A pixel of a horizontal rule is kept when it belongs to a vertical run of ink taller than
    a rule is thick: that is a character stroke crossing or touching the rule, not the rule
    (and likewise across vertical rules). The rules' anti-aliased edges go with them.
    """
    ink = _ink(gray)
    horiz, vert = _rule_masks(ink)
    if not horiz.any() and not vert.any():
        return gray.copy()
    thick = max(6, max(gray.shape[:2]) // 290)  # thickest rule: about 0.9 mm, at any dpi
    erase_h = _erasable(ink, horiz, vert, thick)
    erase_v = _transposed(_erasable(_transposed(ink), _transposed(vert), _transposed(horiz),
                                    thick))
    out = gray.copy()
    out[cv2.bitwise_or(erase_h, erase_v) > 0] = 255
    return out


def _erasable(ink: Image, rules: Image, across: Image, thick: int) -> Image:
    """What to erase of horizontal ``rules``: the rules and their edges, less the ink in
    vertical runs taller than ``thick`` (character strokes; the ``across`` rules are no
    strokes). Worked out on the rows near a rule only, ``thick + 3`` either side, which is
    all a pixel's answer looks at: a page's other rows cost as much and change nothing."""
    out = np.zeros_like(rules)
    rows = _rows_near(rules, thick + 3)
    if not rows.size:
        return out
    tall = cv2.morphologyEx(cv2.bitwise_and(ink[rows], cv2.bitwise_not(across[rows])),
                            cv2.MORPH_OPEN, np.ones((thick + 1, 1), np.uint8))
    not_tall = cv2.bitwise_not(tall)
    grown = cv2.dilate(cv2.bitwise_and(rules[rows], not_tall), np.ones((3, 3), np.uint8))
    out[rows] = cv2.bitwise_and(grown, not_tall)
    return out


# All together ---------------------------------------------------------------------------------


def _white_gray(bgr: Image) -> tuple[Image, bool]:
    """The page in gray on white paper, red ink dropped (a colour page) or the loose ink of
    gray seals (a gray one); and whether it was colour."""
    if bgr.ndim == 3:
        chroma = _chroma(bgr)
        was_color, was_gray = _color_of(chroma), _gray_of(chroma)
    else:
        was_color, was_gray = False, True
    if was_color:
        gray = remove_red_ink(bgr)
    elif bgr.ndim == 3:
        gray = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    else:
        gray = bgr
    flat = flatten(gray)
    if was_gray:  # a colour scan without red ink keeps its ink as it is
        flat = drop_gray_seals(flat)
    return flat, was_color


def _straight_by_shape(flat: Image, timeout: float
                       ) -> tuple[Image, int, float, list[tuple[int, int, int, int]], float]:
    """Turned and straightened by the shape of the ink, read only when the shape cannot tell
    the reading direction: the page, its rotation and skew, the flip strips left to read
    (in the page's pixels) and the character size."""
    shape = _shape(flat)
    if shape is None:
        layout, skew = deskew(flat)
        return layout, 0, skew, [], 0.0
    if shape.horizontal is None:
        # A square of text read at four turns tells which way the lines run; which way up it
        # can get wrong on a sparse page (a heavy scan of an approval page came out upside
        # down), so that is left to the page read, as on any page, where lines of text can
        # settle it; only without them does the square's answer stand.
        pick = _read_orientation(flat, shape, timeout)
        shape = replace(shape, horizontal=pick % 180 == 0)
        found = _line_windows(shape, 2)
        rotation = pick % 180 if found else pick
    else:
        rotation = 0 if shape.horizontal else 90
        found = _line_windows(shape, 2)
    # Found on the page straightened by its lean, which is what is done below: the same places
    # on the prepared page, but for the scale.
    windows = [(round(x / shape.f), round(y / shape.f), round(w / shape.f), round(h / shape.f))
               for x, y, w, h in found]
    turned = turn(flat, rotation)
    # The lean is measured already; a quarter turn leaves it as it is.
    if abs(shape.lean) < 0.1:
        return turned, rotation, 0.0, windows, shape.char / shape.f
    return rotate_bound(turned, -shape.lean), rotation, -shape.lean, windows, shape.char / shape.f


def prepare(bgr: Image, *, timeout: float = 20, defer_flip: bool = False) -> Prepared:
    """Colour to gray (dropping red seals), white paper (dropping gray seals' loose ink on a
    gray page), turn upright, straighten, erase ruled lines. The paper is evened out first so
    that the white margins deskew adds and the white left where rules were match it.

    ``defer_flip``: do not read a strip to tell an upright page from an upside-down one; the
    page is turned by the shape of its ink only and ``flip_strips`` say what ``read_upright``
    must find readable in the page read to settle it (one tesseract run instead of two).
    """
    flat, was_color = _white_gray(bgr)
    if defer_flip:
        layout, rotation, skew, windows, char = _straight_by_shape(flat, timeout)
    else:
        turned, rotation = orient(flat, timeout=timeout)
        layout, skew = deskew(turned)
        windows, char = [], 0.0
    clean = remove_rules(layout)
    strips = []
    for x, y, w, h in windows:
        x0, y0 = min(x, clean.shape[1] - 1), min(y, clean.shape[0] - 1)
        strips.append((x0, y0, max(1, min(w, clean.shape[1] - x0)),
                       max(1, min(h, clean.shape[0] - y0))))
    return Prepared(gray=clean, layout=layout, rotation=rotation, skew=skew,
                    was_color=was_color, flip_strips=tuple(strips),
                    char_px=char if strips else 0.0)
