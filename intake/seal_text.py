"""Read the organisation's name on a round, oval or square seal, and match it against known names.

On a round or oval seal the name runs along the upper arc with each character's top towards the
rim. A polar unwrap turns that arc into a straight line, which the recogniser reads like any other
line. A square seal's name stands in columns read from the right; its characters are cut out and
laid in one line in that order. Nothing is guessed: a seal that cannot be read gives ("", 0.0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

import cv2
import numpy as np
from rapidfuzz import fuzz

from intake.model import Seal, SealShape
from intake.normalize import TRADITIONAL_FORMS, canonical_text
from intake.ocr.rapid import RapidEngine

MIN_TEXT_SCORE = 0.5  # recogniser score (0..1) below which a reading is not reported
SURE_TEXT_SCORE = 0.8  # a reading this sure is not tried again another way round
MIN_MATCH = 0.7  # similarity (0..1) a name must reach to count as a match
MIN_MARGIN = 0.05  # how far the best match must lead the next one
_BAND = (0.56, 0.9)  # the name band, as shares of the seal's radius: inside the rim
_GAP_BAND = (0.68, 0.88)  # where the gap below the name is looked for (clear of bottom text)
_CHAR_GAP_DEG = 12  # spaces between characters are narrower than this
_MARGIN_DEG = 8  # added at each end of the name's arc, so its first and last characters stay whole
_STRIP_HEIGHT = 64
_ROUND_AXES = 0.05  # a rim whose axes differ by less than this share is read as a circle
_GAP_WINDOW_DEG = 60  # the gap below the name is looked for as the emptiest stretch this wide
_GAP_MAX_INK = 0.2  # share of inked degrees above which a stretch is no gap
_GAP_TURN_DEG = 20  # a gap this far from straight down is a turned stamp, not a ragged edge
_PRINT_SHARE = 0.55  # gray darker than this share of the rim's ink is black print over the seal
_COLOUR_PRINT_SHARE = 0.35  # a colour page darker than this share of its paper is black print
_REREAD_BELOW = 0.7  # a colour ring read less surely is read again with the print filled in
_CHROMA_SPREAD = 5  # pixels a scan's colour spreads past the stroke that carries it (JPEG, blur)
# A name's fit is only reported where the reading behind it was this sure and covered this
# share of the name's characters (see ``_fits_reading``). Rings read below 0.7 are fitted too:
# their owner's fit says little, but a sister body's word still shows (``seals_present``).
FIT_MIN_SCORE = 0.5
FIT_MIN_COVER = 0.7
_FIT_FREE_ENDS = 2  # characters the ring's ends may lose, at each end
_FIT_MAX_LOST = 3  # and at both ends together
_FIT_LOST_COST = 1.0  # log-likelihood charged per character lost at an end
_NO_FIT = -99.0  # a name the line cannot hold at all
# Quarter turns a square seal is read in, as it lies first. Not sideways: the recogniser reads
# a column of turned characters as surely as upright ones, so no score tells those turns apart.
_SQUARE_TURNS = (0, 2)
_FRAME_SHARE = 0.12  # a square seal's frame lines lie in this outer share of its side
_GAP_INK = 0.03  # share of the busiest row's ink below which a row is paper between characters
_PIECE_SHARE = 0.55  # a stretch of ink shorter than this share of a character is part of one
_PIECE_MAX = 1.25  # and joined to its neighbour only where the two are no longer than this
_PAPER = 200  # ink image's shade (0..255) from which on a pixel is paper, whatever Otsu says
_LINE_SHARE = 0.4  # a straight stroke this long (share of the seal's inside) is no character's
_LINE_TILT_DEG = 5  # and is found turned this far from the seal's rows and columns
_BLANK_CELL = 0.02  # share of inked pixels below which a cell of the grid holds no character
# Words that say what kind of body an organisation is, each with the word of the same length
# that names another legal entity: 检验 for 检测, 研究所 for 研究院. No recogniser confuses their
# characters, so a ring that shows the other word is a sister body's seal, not a misread.
BODY_WORDS: tuple[tuple[str, str], ...] = (
    ("检测", "检验"), ("研究院", "研究所"), ("机械", "机电"), ("中心", "公司"),
)
_NAME_MIN_CHARS = 4  # a reading with fewer Chinese characters is no organisation's name
_NAME_CHARS = re.compile(r"[^\u3400-\u9fff\uf900-\ufaff()（）A-Za-z0-9]")


def _ink_image(roi: np.ndarray, seal: Seal, origin: tuple[int, int]) -> np.ndarray:
    """The seal's ink as black on white (uint8): coloured ink only, or on gray pages the gray
    plane without the black print that crosses the seal."""
    if seal.color in ("red", "blue") and roi.ndim == 3:
        # How much the ink's own channel outshines the other two: strong on stamp-pad ink, faint
        # on pink, nothing on paper and on black print. Kept continuous, so strokes keep their
        # shape; scaled so the seal's densest ink is black.
        b, g, r = (roi[:, :, i].astype(np.int16) for i in range(3))
        own, other = (r, np.maximum(g, b)) if seal.color == "red" else (b, np.maximum(r, g))
        colour = np.clip(own - other - 12, 0, None).astype(np.float32)
        top = float(np.percentile(colour[colour > 0], 95)) if (colour > 0).sum() > 50 else 0.0
        if top <= 0:
            return np.full(roi.shape[:2], 255, np.uint8)
        shade: np.ndarray = np.clip(255.0 - colour * np.float32(255.0 / top), 0, 255).astype(
            np.uint8)
        return shade
    gray = _without_print(
        np.asarray(roi if roi.ndim == 2 else cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY)), seal, origin)
    lo, hi = (float(v) for v in np.percentile(gray, (2, 90)))
    if hi - lo < 20:
        return np.full(gray.shape, 255, np.uint8)
    stretched = (gray.astype(np.float32) - lo) * np.float32(255.0 / (hi - lo))
    out: np.ndarray = np.clip(stretched, 0, 255).astype(np.uint8)
    return out


def _without_print(gray: np.ndarray, seal: Seal, origin: tuple[int, int]) -> np.ndarray:
    """A gray seal with the page's black print painted out.

    On a photocopy the seal's ink is a mid gray and the form's print (a cover's table text runs
    through the ring) is black: the uneven light is divided out first, then whatever is much
    darker than the rim is print, and is filled in from around it, which joins the seal's
    strokes it crossed and leaves paper where it stood on paper.
    """
    size = max(9, round(max(seal.box.w, seal.box.h) / 8) | 1)  # wider than any stroke
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    paper = cv2.blur(cv2.morphologyEx(gray, cv2.MORPH_CLOSE, kernel), (size, size))
    flat = np.clip(gray.astype(np.float32) * np.float32(255.0) / np.maximum(paper, 1), 0,
                   255).astype(np.uint8)
    dark = (flat < _PRINT_SHARE * _seal_ink(flat, seal, origin)).astype(np.uint8)
    print_mask = cv2.dilate(dark, np.ones((3, 3), np.uint8))  # and the print's soft edge
    filled: np.ndarray = cv2.inpaint(flat, print_mask, 3, cv2.INPAINT_TELEA)
    return filled


def _seal_ink(flat: np.ndarray, seal: Seal, origin: tuple[int, int]) -> float:
    """The gray of the seal's own ink in ``flat`` (the light divided out).

    A ring's rim is an unbroken line of that ink: its typical darkest point is the ink. A turned
    square's frame runs inside its box, off the ellipse through the box's sides, which mostly
    crosses paper there: its ink is the median of what Otsu takes for ink inside the box, as
    the print over a seal covers far less of it than the seal's own strokes.
    """
    if seal.shape is SealShape.SQUARE:
        x, y = seal.box.x - origin[0], seal.box.y - origin[1]
        inside = flat[max(0, y):y + seal.box.h, max(0, x):x + seal.box.w]
        cut, _ = cv2.threshold(inside, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        inked = inside[inside < cut]
        return float(np.median(inked)) if inked.size else 255.0
    cx, cy = seal.box.center
    rim_ellipse = (cx - origin[0], cy - origin[1], seal.box.w / 2, seal.box.h / 2, 0.0)
    xs, ys = _sample(flat, rim_ellipse, np.radians(np.arange(0, 360, 2.0)),
                     np.linspace(0.9, 1.02, 7))
    rim = np.asarray(cv2.remap(flat, xs, ys, cv2.INTER_LINEAR, borderValue=255)).min(axis=0)
    return float(np.median(rim))


def _colour_without_print(roi: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """``ink`` (a coloured seal's, from ``_ink_image``) with the holes black print left in it
    filled from the strokes around them: print is far darker than paper in every channel,
    where the seal's own ink keeps its channel bright."""
    brightest = roi.max(axis=2)
    dark = (brightest < _COLOUR_PRINT_SHARE * float(np.median(brightest))).astype(np.uint8)
    if not dark.any():
        return ink
    mask = cv2.dilate(dark, np.ones((3, 3), np.uint8))  # and the print's soft edge
    filled: np.ndarray = cv2.inpaint(ink, mask, 3, cv2.INPAINT_TELEA)
    return filled


def _sharp_ink(roi: np.ndarray, seal: Seal) -> np.ndarray:
    """A coloured seal's ink (black on white) drawn from the page's lightness where the colour
    says the seal is. A JPEG scan keeps colour at half the resolution of lightness, and blur
    spreads it further: a faint ring's strokes melt together in the colour alone, while the
    lightness still shows them. The colour only marks the seal's pixels, widened by that
    spread; black print there is as dark as strokes, and is filled in afterwards."""
    b, g, r = (roi[:, :, i].astype(np.int16) for i in range(3))
    own, other = (r, np.maximum(g, b)) if seal.color == "red" else (b, np.maximum(r, g))
    colour = own - other - 12
    if (colour > 0).sum() <= 50:
        return np.full(roi.shape[:2], 255, np.uint8)
    strong = colour > 0.5 * float(np.percentile(colour[colour > 0], 95))
    seal_pixels = cv2.dilate((colour > 0).astype(np.uint8), np.ones((_CHROMA_SPREAD,) * 2,
                                                                     np.uint8))
    light = cv2.cvtColor(roi, cv2.COLOR_BGR2GRAY).astype(np.float32)
    paper = float(np.percentile(light, 90))
    ink = float(np.percentile(light[strong], 10))  # the seal's own darkest strokes
    dark = np.clip((paper - light) / max(paper - ink, 1.0), 0.0, 1.0)
    shade: np.ndarray = np.where(seal_pixels > 0, 255.0 * (1.0 - dark), 255.0).astype(np.uint8)
    return shade


def _outline(
    ink: np.ndarray, seal: Seal, origin: tuple[int, int]
) -> tuple[float, float, float, float, float]:
    """Centre, half axes and rotation (radians) of the seal's rim in ``ink`` (black on white).

    Round seals and gray ones (whose ink is the page's too) take the detector's box. An oval's
    rotation comes from an ellipse fitted to the convex hull of its ink, which gaps where black
    text crosses the rim do not dent.
    """
    cx, cy = seal.box.center
    box_fit = (cx - origin[0], cy - origin[1], seal.box.w / 2, seal.box.h / 2, 0.0)
    if seal.color == "gray" or seal.shape is SealShape.ROUND:
        return box_fit  # the detector's box fits a round seal's ink already
    mask = (ink < 128).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    keep = np.zeros(count, bool)
    keep[1:] = stats[1:, cv2.CC_STAT_AREA] >= 6  # specks would stretch the hull
    pts = np.column_stack(np.nonzero(keep[labels]))[:, ::-1].astype(np.int32)
    if len(pts) < 50:
        return box_fit
    hull = cv2.convexHull(pts)
    if len(hull) < 5:
        return box_fit
    (fx, fy), (ew, eh), angle = cv2.fitEllipse(hull)
    fit = (fx, fy, ew / 2, eh / 2, math.radians(angle))
    # Other red ink in the crop (a chop across the seal) stretches the hull: then the box.
    c, s = abs(math.cos(fit[4])), abs(math.sin(fit[4]))
    fit_w, fit_h = 2 * math.hypot(fit[2] * c, fit[3] * s), 2 * math.hypot(fit[2] * s, fit[3] * c)
    if abs(fit_w - seal.box.w) > 0.08 * seal.box.w or abs(fit_h - seal.box.h) > 0.08 * seal.box.h:
        return box_fit
    return fit


def _sample(
    ink: np.ndarray,
    ellipse: tuple[float, float, float, float, float],
    thetas: np.ndarray,
    scales: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Points of the ellipse scaled by ``scales``, at image angles ``thetas`` (clockwise, as
    the page's y axis points down); the ellipse's own angle is the image angle less its
    rotation, exactly so for a circle, whose fitted rotation means nothing."""
    cx, cy, a, b, rot = ellipse
    t = thetas - rot
    u = scales[:, None] * a * np.cos(t)[None, :]
    v = scales[:, None] * b * np.sin(t)[None, :]
    c, s = math.cos(rot), math.sin(rot)
    return (cx + u * c - v * s).astype(np.float32), (cy + u * s + v * c).astype(np.float32)


def _text_runs(inked: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of inked degrees, counted from index 0, not wrapping;
    gaps narrower than ``_CHAR_GAP_DEG`` (spaces between characters) are bridged."""
    runs: list[tuple[int, int]] = []
    edges = np.diff(np.concatenate(([0], inked.astype(np.int8), [0])))
    for first, last in zip(np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0], strict=True):
        if runs and first - runs[-1][1] < _CHAR_GAP_DEG:
            runs[-1] = (runs[-1][0], int(last))
        else:
            runs.append((int(first), int(last)))
    return runs


def _span(
    ink: np.ndarray, ellipse: tuple[float, float, float, float, float], up: float
) -> tuple[float, float]:
    """Angles (image convention, clockwise) where the name starts and ends.

    ``up`` is the angle at which the rim is highest on the page. The ring text is read round
    from straight down; a short stretch across the bottom (a seal's code, or words under the
    star that reach the band) is not part of the name, and the name runs from the first
    stretch after it to the last one before it.
    """
    down = round(math.degrees(up + math.pi)) % 360
    thetas = np.radians((down + np.arange(360)) % 360).astype(np.float64)
    xs, ys = _sample(ink, ellipse, thetas, np.linspace(*_GAP_BAND, 8))
    vals = np.asarray(cv2.remap(ink, xs, ys, cv2.INTER_LINEAR, borderValue=255))
    runs = _text_runs(np.any(vals < 200, axis=0))  # degrees clockwise from straight down
    usual = (up - math.radians(120), up + math.radians(120))
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][1] == 360:
        runs = [(runs[-1][0] - 360, runs[0][1]), *runs[1:-1]]  # one stretch across the bottom
    name = [
        (a, b) for a, b in runs
        if not (b - a < 100 and (abs((a + b) / 2) < 60 or abs((a + b) / 2 - 360) < 60))
    ]
    if not name:
        return usual
    first, last = name[0][0], name[-1][1]
    if last - first < 60 or last - first > 330:
        return usual  # no gap below the name: nothing tells where it starts
    return (math.radians(down + first - _MARGIN_DEG), math.radians(down + last + _MARGIN_DEG))


def _gap_below(ink: np.ndarray, ellipse: tuple[float, float, float, float, float]
               ) -> float | None:
    """Image angle of the middle of the gap between the name's ends, found anywhere on the
    ring (a stamp set turned, or a page the scan left upside down); None when no stretch of
    the name band is clear enough to be that gap."""
    xs, ys = _sample(ink, ellipse, np.radians(np.arange(360.0)), np.linspace(*_GAP_BAND, 8))
    vals = np.asarray(cv2.remap(ink, xs, ys, cv2.INTER_LINEAR, borderValue=255))
    inked = np.any(vals < 200, axis=0).astype(np.float64)
    if inked.sum() < 60:
        return None  # too little ring text to place a gap by
    window = np.ones(_GAP_WINDOW_DEG) / _GAP_WINDOW_DEG
    density = np.convolve(np.concatenate([inked, inked[:_GAP_WINDOW_DEG - 1]]), window, "valid")
    low = float(density.min())
    if low > _GAP_MAX_INK:
        return None
    # The emptiest windows of a wide gap form a run: its middle is the gap's middle.
    emptiest = np.concatenate([density <= low + 1e-9] * 2)
    edges = np.diff(np.concatenate(([0], emptiest.astype(np.int8), [0])))
    runs = [(int(a), int(b)) for a, b in zip(np.nonzero(edges == 1)[0],
                                            np.nonzero(edges == -1)[0], strict=True)]
    first, last = max(runs, key=lambda run: run[1] - run[0])
    return math.radians((first + last - 1) / 2 + _GAP_WINDOW_DEG / 2)


def _strip(
    ink: np.ndarray, ellipse: tuple[float, float, float, float, float], start: float, end: float
) -> np.ndarray:
    """The name band unwrapped into a line: left to right along the arc, rim at the top."""
    _, _, a, b, _ = ellipse
    radius = (a + b) / 2
    height = max(8, round((_BAND[1] - _BAND[0]) * radius))
    if abs(a - b) > _ROUND_AXES * max(a, b):
        xs, ys = _oval_band(ellipse, start, end, height)
    else:
        width = max(8, round((end - start) * radius * sum(_BAND) / 2))
        thetas = np.linspace(start, end, width)
        scales = np.linspace(_BAND[1], _BAND[0], height)
        xs, ys = _sample(ink, ellipse, thetas, scales)
    strip = cv2.remap(ink, xs, ys, cv2.INTER_LINEAR, borderValue=255)
    zoom = _STRIP_HEIGHT / strip.shape[0]
    strip = cv2.resize(strip, (max(8, round(strip.shape[1] * zoom)), _STRIP_HEIGHT),
                       interpolation=cv2.INTER_CUBIC if zoom > 1 else cv2.INTER_AREA)
    return cv2.copyMakeBorder(strip, 8, 8, 16, 16, cv2.BORDER_CONSTANT, value=255)


def _oval_band(ellipse: tuple[float, float, float, float, float], start: float, end: float,
               height: int) -> tuple[np.ndarray, np.ndarray]:
    """Sample points of an oval's name band from ``start`` to ``end`` (``_sample``'s angles):
    ``height`` rows at a fixed depth inside the rim, rim side first, and columns evenly spaced
    along the band's middle. An oval's characters stand on its normals at one depth all
    round; the scaled ellipses a ring is read on would shear them and cut the band deeper at
    the ends of the long axis than at its top."""
    cx, cy, a, b, rot = ellipse
    radius = (a + b) / 2
    depths = np.linspace(1 - _BAND[1], 1 - _BAND[0], height) * radius
    middle = float(depths.mean())
    t = np.linspace(start, end, 721) - rot
    nx, ny = b * np.cos(t), a * np.sin(t)  # the outward normal, in the ellipse's own frame
    norm = np.hypot(nx, ny)
    nx, ny = nx / norm, ny / norm
    mx, my = a * np.cos(t) - middle * nx, b * np.sin(t) - middle * ny
    arc = np.concatenate(([0.0], np.cumsum(np.hypot(np.diff(mx), np.diff(my)))))
    width = max(8, round(float(arc[-1])))
    even = np.interp(np.linspace(0, arc[-1], width), arc, t)  # evenly along the band
    nx, ny = b * np.cos(even), a * np.sin(even)
    norm = np.hypot(nx, ny)
    nx, ny = nx / norm, ny / norm
    u = a * np.cos(even)[None, :] - depths[:, None] * nx[None, :]
    v = b * np.sin(even)[None, :] - depths[:, None] * ny[None, :]
    c, s = math.cos(rot), math.sin(rot)
    return (cx + u * c - v * s).astype(np.float32), (cy + u * s + v * c).astype(np.float32)


def _read(engine: RapidEngine, strip: np.ndarray) -> tuple[str, float]:
    text, score = engine.read_line(strip)
    text = _NAME_CHARS.sub("", text)
    if sum(1 for ch in text if "\u3400" <= ch <= "\u9fff") < 2:
        return "", 0.0
    return text, float(score)


def read_seal_text(bgr: np.ndarray, seal: Seal, engine: RapidEngine) -> tuple[str, float]:
    """The organisation's name along the upper arc of a round or oval seal (in the columns of a
    square one, ``_read_square``), and the recogniser's score (0..1); ("", 0.0) for rectangular
    chops, cut seals and unreadable ones.

    The name is looked for opposite the widest gap in the ring text, so that the unwrap starts
    in that gap whichever way the stamp was turned; when that reading is weak, the seal's top
    (where an upright stamp's name is), the 240 degrees over the top and then the bottom (a
    stamp set upside down) are read too, and the surest reading is kept. A round colour ring
    is read in the page's lightness with the black print over it filled in; an oval one still
    read weakly is read once more with the print filled in.
    """
    read = read_seal(bgr, seal, engine)
    return read.text, read.text_score


def read_seal(bgr: np.ndarray, seal: Seal, engine: RapidEngine,
              names: Sequence[str] = ()) -> Seal:
    """``seal`` with its ring read (as ``read_seal_text``) and, for each of ``names`` the ring
    can be compared with, how well that name explains the ring (``name_fit``), and the same for
    the sister names of the name that explains it best (``sister_fit``)."""
    if seal.shape not in (SealShape.ROUND, SealShape.OVAL, SealShape.SQUARE) or not seal.complete:
        return replace(seal, text="", text_score=0.0, fits=())
    height, width = bgr.shape[:2]
    box = seal.box.pad(max(4, round(0.06 * max(seal.box.w, seal.box.h))), width, height)
    roi = bgr[box.y:box.y2, box.x:box.x2]
    if roi.size == 0 or min(roi.shape[:2]) < 40:
        return replace(seal, text="", text_score=0.0, fits=())
    ink = _ink_image(roi, seal, (box.x, box.y))
    if seal.shape is SealShape.SQUARE:
        if seal.color in ("red", "blue") and roi.ndim == 3:
            ink = _colour_without_print(roi, ink)  # a table's rules would split its rows
        at = (seal.box.x - box.x, seal.box.y - box.y, seal.box.w, seal.box.h)
        return _with_reading(seal, engine, names, *_read_square(engine, ink, at, bool(names)))
    ellipse = _outline(ink, seal, (box.x, box.y))
    # A round colour ring is read in the page's lightness, the print over it filled in: its
    # colour alone is too coarse on a heavy scan (``_sharp_ink``).
    sharp = seal.shape is SealShape.ROUND and seal.color in ("red", "blue") and roi.ndim == 3
    if sharp:
        ink = _colour_without_print(roi, _sharp_ink(roi, seal))
    if ellipse[2] <= 0 or ellipse[3] <= 0:
        return replace(seal, text="", text_score=0.0, fits=())
    up = -math.pi / 2  # image angles: y points down
    over_top = (up - math.radians(120), up + math.radians(120))
    spans = list(dict.fromkeys([_span(ink, ellipse, up), over_top,
                                _span(ink, ellipse, up + math.pi)]))
    gap = _gap_below(ink, ellipse)
    if gap is not None and abs((math.degrees(gap - up) + 180) % 360 - 180) < 180 - _GAP_TURN_DEG:
        spans.insert(0, _span(ink, ellipse, gap - math.pi))
    # With no gap anywhere in the ring text (a heavy copy fills it with specks, or the seal's
    # code runs across it), nothing says which way up the stamp was set: over the top of an
    # upside-down stamp the recogniser reads the name's two ends, round the gap, as surely as
    # the whole name. Every way round is then read, and a whole name beats part of one.
    whole = gap is None and spans[0] == over_top
    best, likeliest = _read_spans(engine, ink, ellipse, spans, bool(names), whole)
    if (0 < likeliest.score < _REREAD_BELOW and seal.color in ("red", "blue") and roi.ndim == 3
            and not sharp):
        # A weak ring is often one that black print crosses (a cover's table): where the print
        # lies over the ring, the stroke's colour is lost. Read it again with the print filled
        # in from the ink around it, where the weak reading started.
        clear = _colour_without_print(roi, ink)
        again, likelier = _read_spans(engine, clear, ellipse, [likeliest.span], bool(names))
        best = max(best, again, key=_sureness)
        likeliest = max(likeliest, likelier, key=lambda r: r.score)
    return _with_reading(seal, engine, names, best, likeliest)


def _with_reading(seal: Seal, engine: RapidEngine, names: Sequence[str],
                  best: tuple[str, float], likeliest: _Raw) -> Seal:
    """``seal`` with the surest reading reported (where sure enough) and ``names`` fitted to
    the recogniser's likeliest output, as ``read_seal`` says."""
    text, score = best if best[1] >= MIN_TEXT_SCORE else ("", 0.0)
    fits: list[tuple[str, float]] = []
    raw, raw_score, likeliest_probs = likeliest.text, likeliest.score, likeliest.probs
    wanted = [n for n in dict.fromkeys(names) if _fits_reading(n, raw, raw_score)]
    if likeliest_probs is not None and wanted:
        totals = {n: _fit_totals(likeliest_probs, engine.classes, n) for n in wanted}
        fits = [(n, round(_fit(totals[n]), 3)) for n in wanted]
        # Sisters only of the name the ring fits best: the others are other bodies' names
        # whatever their sisters say, and each fit is a few passes over the recogniser's output.
        closest = max(fits, key=lambda nf: nf[1])[0]
        fits += [(s, round(_sister_fit(totals[closest], _fit_totals(
            likeliest_probs, engine.classes, s)), 3))
            for s in sister_names(closest) if s not in wanted]
    return replace(seal, text=text, text_score=score, fits=tuple(fits))


@dataclass(frozen=True)
class _Raw:
    """The recogniser's reading of one strip, before any is reported: its text and score, its
    CTC output (None where no names are fitted) and the span unwrapped."""

    text: str = ""
    score: float = 0.0
    probs: np.ndarray | None = None
    span: tuple[float, float] = (0.0, 0.0)


def _read_spans(
    engine: RapidEngine, ink: np.ndarray, ellipse: tuple[float, float, float, float, float],
    spans: Sequence[tuple[float, float]], with_probs: bool, whole: bool = False,
) -> tuple[tuple[str, float], _Raw]:
    """The surest reading of the spans in turn (stopping at a sure one), and the recogniser's
    likeliest output: the names are fitted to the strip the recogniser liked best, even where
    its reading was too weak to report, as a wrong name fits a legible ring badly however the
    letters came out. ``whole``: every span is read, and of the sure readings the one with
    the most characters is the surest (then the likeliest output is that strip's)."""
    best: tuple[str, float] = ("", 0.0)
    likeliest = _Raw()
    for span in spans:
        strip = _strip(ink, ellipse, *span)
        if with_probs:
            raw, raw_score, probs = engine.read_line_probs(strip)
        else:
            (raw, raw_score), probs = engine.read_line(strip), None
        text = _NAME_CHARS.sub("", raw)
        reading = (text, float(raw_score)) if _chinese(text) >= 2 else ("", 0.0)
        if whole and _sure(reading):
            if _longer(reading, best):
                best, likeliest = reading, _Raw(raw, float(raw_score), probs, span)
            continue
        if whole and _sure(best):
            continue  # an unsure reading does not displace a sure one
        if raw_score > likeliest.score:
            likeliest = _Raw(raw, float(raw_score), probs, span)
        best = max(best, reading, key=_sureness)
        if _sure(best) and not whole:
            break
    return best, likeliest


def _longer(reading: tuple[str, float], than: tuple[str, float]) -> bool:
    """Whether a sure ``reading`` beats ``than``: ``than`` is not sure, or it holds fewer
    characters, or as many less surely."""
    if not _sure(than):
        return True
    return (_chinese(reading[0]), reading[1]) > (_chinese(than[0]), than[1])


def _sure(reading: tuple[str, float]) -> bool:
    """Whether ``reading`` is sure enough, and long enough to be a name, to stop looking."""
    return reading[1] >= SURE_TEXT_SCORE and _chinese(reading[0]) >= _NAME_MIN_CHARS


def _sureness(reading: tuple[str, float]) -> tuple[bool, float]:
    """How readings are ranked: one long enough to be a name first, then by score. A strip
    that caught only the ring's end (有限公司 past a chop over the rest) is read surely, but
    names nobody."""
    return _chinese(reading[0]) >= _NAME_MIN_CHARS, reading[1]


def _chinese(text: str) -> int:
    return sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")


def _read_square(engine: RapidEngine, ink: np.ndarray, at: tuple[int, int, int, int],
                 with_probs: bool) -> tuple[tuple[str, float], _Raw]:
    """The surest reading of the square seal whose box in ``ink`` is ``at`` (x, y, w, h), and
    the recogniser's likeliest output, as ``_read_spans`` gives them for a ring. The seal is
    read as it lies and, when that is weak, upside down (a page scanned the wrong way up)."""
    square = _upright_square(ink, at)
    best: tuple[str, float] = ("", 0.0)
    likeliest = _Raw()
    if square is None:
        return best, likeliest
    for quarters in _SQUARE_TURNS:
        turned = np.rot90(square, quarters)
        for grid in [None, *_square_grids(turned)]:
            line = _square_line(turned, grid)
            if line is None:
                continue
            reading, raw = _read_line(engine, line, with_probs)
            best = max(best, reading, key=_sureness)
            likeliest = max(likeliest, raw, key=lambda r: r.score)
            if _sure(best):
                return best, likeliest
    return best, likeliest


def _read_line(engine: RapidEngine, line: np.ndarray, with_probs: bool
               ) -> tuple[tuple[str, float], _Raw]:
    """The reading of one line image (("", 0.0) unless it holds two Chinese characters), and
    the recogniser's raw output."""
    if with_probs:
        raw, raw_score, probs = engine.read_line_probs(line)
    else:
        (raw, raw_score), probs = engine.read_line(line), None
    text = _NAME_CHARS.sub("", raw)
    chinese = sum(1 for ch in text if "\u3400" <= ch <= "\u9fff")
    return (text, float(raw_score)) if chinese >= 2 else ("", 0.0), _Raw(
        raw, float(raw_score), probs)


def _inked(ink: np.ndarray) -> np.ndarray:
    """Where ``ink`` (black on white) is inked: darker than Otsu's cut, as a faded seal's
    strokes are a mid gray, but never at paper's shade."""
    cut, _ = cv2.threshold(ink, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    inked: np.ndarray = ink < min(cut, _PAPER)
    return inked


def _upright_square(ink: np.ndarray, at: tuple[int, int, int, int]) -> np.ndarray | None:
    """The inside of the inner frame of the square seal whose box in ``ink`` (black on white)
    is ``at``, turned upright (to the nearest quarter turn); None where no frame is found.

    The square's turn is the one at which its ink's rows and columns are sharpest (the frame's
    four lines and the columns of characters); its centre and size follow from the detector's
    box, which a turned square touches at its four corners. Other ink inside the box (a chop's
    frame and words, a page's print) would pull a rectangle fitted round the ink.
    """
    x, y, w, h = at
    inked = _inked(ink[y:y + h, x:x + w]).astype(np.uint8)
    if min(w, h) < 24 or not inked.any():
        return None
    angle = _square_turn(inked)
    theta = math.radians(angle)
    side = round((w + h) / 2 / (abs(math.cos(theta)) + abs(math.sin(theta))))
    if side < 24:
        return None
    cx, cy = x + w / 2, y + h / 2
    turn = np.asarray(cv2.getRotationMatrix2D((cx, cy), angle, 1.0), np.float64)
    turn[:, 2] += np.array([side / 2 - cx, side / 2 - cy])  # the seal's centre to the middle
    upright = cv2.warpAffine(ink, turn, (side, side), flags=cv2.INTER_LINEAR, borderValue=255)
    return _inside_frame(upright)


def _square_turn(inked: np.ndarray) -> float:
    """The turn (degrees, -45..45, as ``cv2.getRotationMatrix2D`` takes it) that sets the
    square seal whose ink is ``inked`` (0/1) upright: the one whose row and column
    projections are sharpest, found to a degree, then to a quarter of one."""
    scale = min(1.0, 96 / max(inked.shape))
    small = cv2.resize(inked * np.uint8(255), None, fx=scale, fy=scale,
                       interpolation=cv2.INTER_AREA) if scale < 1 else inked * np.uint8(255)
    size = round(1.5 * max(small.shape))  # room for the corners as it turns
    pad = cv2.copyMakeBorder(small, (size - small.shape[0]) // 2,
                             size - small.shape[0] - (size - small.shape[0]) // 2,
                             (size - small.shape[1]) // 2,
                             size - small.shape[1] - (size - small.shape[1]) // 2,
                             cv2.BORDER_CONSTANT, value=0).astype(np.float32)
    middle = (size / 2, size / 2)

    def sharpness(angle: float) -> float:
        turned = cv2.warpAffine(pad, cv2.getRotationMatrix2D(middle, angle, 1.0), (size, size),
                                flags=cv2.INTER_LINEAR)
        return float((turned.sum(axis=0) ** 2).sum() + (turned.sum(axis=1) ** 2).sum())

    best = max(np.arange(-45.0, 45.0, 1.0), key=sharpness)
    return float(max(best + np.arange(-0.75, 1.0, 0.25), key=sharpness))


def _inside_frame(square: np.ndarray) -> np.ndarray | None:
    """What lies inside a square seal's frame lines: the innermost line (a row or column
    mostly inked) in the outer ``_FRAME_SHARE`` of any side, and as deep on every side, as the
    frame is the same all round and worn ink or print can hide its inner line on one."""
    side = square.shape[0]
    reach = max(2, round(_FRAME_SHARE * side))
    inked = _inked(square)
    depths = [int(lines.max()) + 2 for profile in (inked.mean(axis=1), inked.mean(axis=0))
              for edge in (profile[:reach], profile[::-1][:reach])
              if (lines := np.nonzero(edge > 0.5)[0]).size]
    depth = max(depths, default=reach)
    if side - 2 * depth < 16:
        return None
    inside: np.ndarray = square[depth:side - depth, depth:side - depth]
    return inside


def _square_line(square: np.ndarray, grid: tuple[int, int] | None = None
                 ) -> np.ndarray | None:
    """A square seal's characters (``square``: the ink inside its frame, upright, black on
    white) laid out in reading order in one line, columns right to left and each top to
    bottom; None where no column is found. Each character is scaled to a square, which also
    widens the narrow characters of a seal with more rows than columns again. The cells are
    found by the ink's projections, or with ``grid`` (rows, columns) cut evenly."""
    inked = _inked(square) & ~_long_lines(_inked(square))
    if grid is not None:
        rows, columns = (_even(square.shape[i], grid[i]) for i in (0, 1))
    else:
        # Rows are found across all columns, where one character's own gap (监, 二) is filled
        # by its neighbours'; the last column may stop short, leaving its lower cells blank.
        rows = _pieces(inked.sum(axis=1))
        if not rows:
            return None
        # A column of left-and-right characters (所, 研) in faint ink shows gaps as wide as
        # those between columns; a column is at least as wide as a row is high, or its
        # characters would be squeezed, which the rows tell.
        height = float(np.percentile([b - a for a, b in rows], 75))
        columns = _pieces(inked.sum(axis=0), height)
    cells = [square[top:bottom, left:right] for left, right in reversed(columns)
             for top, bottom in rows if inked[top:bottom, left:right].mean() > _BLANK_CELL]
    if not cells:
        return None
    size = _STRIP_HEIGHT - 16
    gap = np.full((size, size // 6), 255, np.uint8)
    parts = [p for cell in cells for p in (
        cv2.resize(cell, (size, size), interpolation=cv2.INTER_AREA), gap)]
    line = np.hstack(parts[:-1])
    return cv2.copyMakeBorder(line, 16, 16, 16, 16, cv2.BORDER_CONSTANT, value=255)


def _even(length: int, count: int) -> list[tuple[int, int]]:
    edges = np.linspace(0, length, count + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in pairwise(edges)]


def _square_grids(square: np.ndarray) -> list[tuple[int, int]]:
    """Even grids (rows, columns) to cut a square seal's inside into where its projections
    failed (a chop's words bridge the gaps between columns): a seal's name fills rows and
    columns evenly, as many rows as the projections found, or four (a name of 12-16
    characters), and as many columns or one fewer."""
    rows = len(_pieces(_inked(square).sum(axis=1)))
    counts = dict.fromkeys([rows if 2 <= rows <= 6 else 4, 4])
    return [(r, c) for r in counts for c in (r, r - 1)]


def _long_lines(inked: np.ndarray) -> np.ndarray:
    """Straight strokes in ``inked`` longer than ``_LINE_SHARE`` of its side, and their edges:
    no character has one, but the frame of a chop stamped across the seal does, and it would
    fill the gaps between rows and columns."""
    length = max(8, round(_LINE_SHARE * max(inked.shape)))
    mask = inked.astype(np.uint8)
    # A chop is stamped a few degrees off the seal's square: its lines drift across rows or
    # columns, so they are looked for in the ink thickened across them, then kept where inked.
    drift = max(1, round(length * math.tan(math.radians(_LINE_TILT_DEG)))) | 1
    across = (cv2.dilate(mask, np.ones((drift, 1), np.uint8)),
              cv2.dilate(mask, np.ones((1, drift), np.uint8)))
    lines = np.maximum(
        cv2.morphologyEx(across[0], cv2.MORPH_OPEN, np.ones((1, length), np.uint8)),
        cv2.morphologyEx(across[1], cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))) & mask
    found: np.ndarray = cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0
    return found


def _pieces(profile: np.ndarray, least: float = 0.0) -> list[tuple[int, int]]:
    """(start, end) of each inked stretch of ``profile`` (ink per row or column), gaps of
    paper between; a stretch much shorter than the typical one is part of a character split
    by its own gap (a column of 川 alone) and is joined to the nearer neighbour, unless the
    two together would be too long for one character (一 next to its neighbour). A character
    is taken to be as long as the typical stretch, and at least ``least``."""
    inked = profile > max(1.0, _GAP_INK * float(profile.max(initial=0)))
    edges = np.diff(np.concatenate(([0], inked.astype(np.int8), [0])))
    pieces = [(int(a), int(b)) for a, b in zip(np.nonzero(edges == 1)[0],
                                              np.nonzero(edges == -1)[0], strict=True)]
    if not pieces:
        return []
    size = max(least, float(np.percentile([b - a for a, b in pieces], 75)))  # split: short
    pieces = _joined(pieces, size)
    # What is still short is no character: a speck, or a remnant of the frame.
    pieces = [(a, b) for a, b in pieces if b - a >= _PIECE_SHARE * size]
    return _split_long(pieces) if pieces else []


def _split_long(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``pieces`` with each as long as two or more typical ones cut evenly: the gap between
    two characters that other ink (a chop's words) bridges."""
    typical = float(np.median([b - a for a, b in pieces]))
    cut: list[tuple[int, int]] = []
    for a, b in pieces:
        parts = max(1, round((b - a) / typical))
        edges = np.linspace(a, b, parts + 1).round().astype(int)
        cut += [(int(x), int(y)) for x, y in pairwise(edges)]
    return cut


def _joined(pieces: list[tuple[int, int]], size: float) -> list[tuple[int, int]]:
    """``pieces`` with each one much shorter than ``size`` joined to its nearer neighbour,
    shortest first, where the two together are not too long for one character."""
    pieces = list(pieces)
    joined = True
    while joined and len(pieces) > 1:
        joined = False
        for short in sorted(range(len(pieces)), key=lambda i: pieces[i][1] - pieces[i][0]):
            if pieces[short][1] - pieces[short][0] >= _PIECE_SHARE * size:
                break
            gaps = [pieces[short][0] - pieces[short - 1][1] if short > 0 else np.inf,
                    pieces[short + 1][0] - pieces[short][1] if short + 1 < len(pieces)
                    else np.inf]
            low, high = sorted((short, short - 1 if gaps[0] <= gaps[1] else short + 1))
            if pieces[high][1] - pieces[low][0] <= _PIECE_MAX * size:
                pieces[low:high + 1] = [(pieces[low][0], pieces[high][1])]
                joined = True
                break
    return pieces


def sister_names(name: str) -> tuple[str, ...]:
    """The names one kind-of-body word (``BODY_WORDS``) away from ``name``, such as
    长沙传感器研究院有限公司 for 长沙传感器研究所有限公司: other bodies' names that a ring shows by a
    character or two, which a reading's overall score cannot tell from a misread."""
    sisters: list[str] = []
    for pair in BODY_WORDS:
        for old, new in (pair, pair[::-1]):
            start = name.find(old)
            while start >= 0:
                sisters.append(name[:start] + new + name[start + len(old):])
                start = name.find(old, start + 1)
    return tuple(dict.fromkeys(sisters))


def _fits_reading(name: str, reading: str, score: float) -> bool:
    """Whether a fit of ``name`` would say anything: the recogniser was fairly sure of a
    reading about as long as the name. A strip that caught only part of the ring (the unwrap
    started inside the name) or a smudge fits the right name as badly as a wrong one."""
    want = canonical_text(name)
    return bool(want) and score >= FIT_MIN_SCORE and (
        len(canonical_text(reading)) >= FIT_MIN_COVER * len(want))


def _ctc_inside(log_probs: np.ndarray, likeliest: np.ndarray, labels: Sequence[int]) -> float:
    """log P that the line is some free text, then ``labels`` (CTC paths, blanks between), then
    free text again; "free" frames count at their likeliest class, as the best reading does.
    ``log_probs`` has the blank's column, then one column per label."""
    frames = log_probs.shape[0]
    states = np.array([0, *(x for i in range(len(labels)) for x in (i + 1, 0))])
    size = len(states)
    ids = np.array([0, *(x for label in labels for x in (label, 0))])
    skip = np.zeros(size, bool)
    skip[2:] = (ids[2:] != 0) & (ids[2:] != ids[:-2])
    alpha = np.full(size, -np.inf)
    alpha[0], alpha[1] = log_probs[0, 0], log_probs[0, states[1]]
    before, after = float(likeliest[0]), -np.inf
    for t in range(1, frames):
        prev = alpha
        step = prev.copy()
        step[1:] = np.logaddexp(step[1:], prev[:-1])
        jump = np.full(size, -np.inf)
        jump[2:] = np.where(skip[2:], prev[:-2], -np.inf)
        step = np.logaddexp(step, jump)
        step[:2] = np.logaddexp(step[:2], before)
        after = float(np.logaddexp(after, np.logaddexp(prev[-1], prev[-2])) + likeliest[t])
        before += float(likeliest[t])
        alpha = step + log_probs[t, states]
    return float(np.logaddexp(after, np.logaddexp(alpha[-1], alpha[-2])))


def name_fit(probs: np.ndarray, classes: Mapping[str, int], name: str) -> float:
    """How well ``name`` explains a line, from the recogniser's CTC output (``probs``, frames x
    classes, class 0 the blank): the log-likelihood of the name read there, against the
    likeliest reading, per character of the name; about 0 when the name is what the recogniser
    reads, more negative the worse it fits. A ring's ends lose or gain characters (the star,
    the gap), so up to two characters may be missing at either end, at a cost each."""
    return _fit(_fit_totals(probs, classes, name))


def sister_fit(probs: np.ndarray, classes: Mapping[str, int], name: str, sister: str) -> float:
    """How well ``sister``, a name one kind-of-body word away from ``name`` (``sister_names``),
    explains a line, on ``name_fit``'s scale: ``name``'s fit, raised or lowered by how much
    likelier the sister's word is than the name's where the line is read with the ends that suit
    the sister best. Two ``name_fit``s would let a free end hide the word: 研究院 fits a ring
    ending 研究所 by losing its last character, at a cost of 1 only."""
    return _sister_fit(_fit_totals(probs, classes, name), _fit_totals(probs, classes, sister))


# For each number of characters lost at the start and at the end, the log-likelihood of a name
# so read against the likeliest reading, less the losses' cost; and the name's length.
_Totals = tuple[dict[tuple[int, int], float], int]


def _fit(totals: _Totals) -> float:
    by_ends, count = totals
    return max(by_ends.values()) / count if by_ends else _NO_FIT


def _sister_fit(own: _Totals, theirs: _Totals) -> float:
    if not own[0] or own[0].keys() != theirs[0].keys():
        return _NO_FIT
    ends = max(theirs[0], key=lambda lost: theirs[0][lost])
    return _fit(own) + (theirs[0][ends] - own[0][ends]) / own[1]


def _fit_totals(probs: np.ndarray, classes: Mapping[str, int], name: str) -> _Totals:
    """``name``'s ``_Totals``; none where the name has no character the recogniser knows."""
    chars = [ch for ch in canonical_text(name) if ch in classes]
    ids = [classes[ch] for ch in chars]
    if probs.size == 0 or not ids:
        return {}, 0
    tiny = np.float32(1e-12)
    likeliest = np.log(np.maximum(probs.max(axis=1), tiny)).astype(np.float64)
    read = float(likeliest.sum())
    count = len(ids)
    # A character counts in any of its forms: the recogniser prints 測 and 檢 for 测 and 检.
    each = [probs[:, [classes[f] for f in (ch, *TRADITIONAL_FORMS.get(ch, ())) if f in classes]]
            .sum(axis=1) for ch in chars]
    logs = np.log(np.maximum(np.stack([probs[:, 0], *each], axis=1), tiny)).astype(np.float64)
    totals: dict[tuple[int, int], float] = {}
    for lost_first in range(_FIT_FREE_ENDS + 1):
        for lost_last in range(_FIT_FREE_ENDS + 1):
            inside = ids[lost_first:count - lost_last]
            if not inside or lost_first + lost_last > _FIT_MAX_LOST:
                continue
            columns = logs[:, [0, *range(1 + lost_first, 1 + count - lost_last)]]
            totals[lost_first, lost_last] = (_ctc_inside(columns, likeliest, inside) - read
                                             - _FIT_LOST_COST * (lost_first + lost_last))
    return totals, count


def match_organisation(text: str, candidates: Sequence[str]) -> tuple[str | None, float]:
    """The candidate the seal's text names, and the similarity (0..1).

    None when no candidate reaches ``MIN_MATCH`` or when the two best are too close to tell
    apart (a seal must not be credited to the wrong one of two similar names).
    """
    key = canonical_text(text)
    if not key or not candidates:
        return None, 0.0
    scored = sorted(
        ((fuzz.ratio(key, canonical_text(c)) / 100.0, c) for c in candidates),
        key=lambda pair: -pair[0],
    )
    best_score, best = scored[0]
    if best_score < MIN_MATCH:
        return None, best_score
    if len(scored) > 1 and best_score < 1.0 and best_score - scored[1][0] < MIN_MARGIN:
        return None, best_score
    return best, best_score
