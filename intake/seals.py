"""Find official seals (公章) on a page image: red or blue ink on colour scans, rings on gray copies.

Pure OpenCV and numpy. Colour pages: an ink mask per seal colour at a working resolution of
``WORK_PX_PER_MM``, one region per stamp, then shape hypotheses (ellipse, circles, rectangle) each
tested for the evidence a stamp leaves: an unbroken border line at the hypothesised outline, ink
inside it (ring text, star), a plausible size in millimetres. Gray pages (photocopies, where the
seal is as gray as the text) get a Hough search for circles, kept only when the ring profile test
passes (on the ink, or for a faded seal on fainter ink), a second search for oval seals stamped
over print with the black print taken out (their ring fitted to its outermost ink, or traced
round the seal where print lies beside it), and a search for rectangular frames (复印件与原件一致
chops, square seals) among the loops of thick ink, judged on the paper round them that the rings
found leave visible; there a missed faint seal is preferred to a false one. The paper level that
ink is measured against ignores patches whiter than the page.

Boxes are returned in the input image's pixels; a seal cut by the page edge (half seals at the
binding, 骑缝章) has ``complete=False`` and the box of its visible part.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from intake.model import Box, Seal, SealShape

Rect = tuple[int, int, int, int]  # x, y, w, h in working pixels

WORK_PX_PER_MM = 2.5  # colour detection resolution (~64 dpi): a 1 mm seal ring is 2-3 px
GRAY_PX_PER_MM = 3.0  # gray detection resolution: rings must be told from 0.4 mm text strokes
GRAY_CANDIDATES = 8  # Hough circles tested per size band on a gray page
GRAY_MIN_PEAK = 0.8  # share of the ring line that must be inked on a gray page
GRAY_MIN_SCORE = 0.7  # on gray pages a false circle costs more than a missed faint seal
GRAY_INK = 45  # how much darker than the paper a pixel must be to count as ink
# A faded (pink) seal comes out of a photocopy as light gray, 20-45 levels under the paper: a
# circle that fails on the ink is judged again on this fainter ink, with the same ring test.
GRAY_FAINT_INK = 20

# Sizes in millimetres: round 公章 38-45, oval 40 x 30, square 20-45; personal seals go to 15.
MIN_SEAL_MM = 15.0
MAX_SEAL_MM = 60.0
TYPICAL_MM = (28.0, 48.0)
MAX_OVAL_RATIO = 1.7
OVAL_MIN_RATIO = 1.2  # oval seals are 40 x 30 mm or longer; a pen circle is seldom so long
MAX_RECT_RATIO = 3.6  # 复印件与原件一致 chops are about 45 x 15 mm
MIN_SCORE = 0.6  # below this a hypothesis is not reported (scribbles score 0.5-0.6)
# A stamp's ring is cut 1-1.5 mm wide; a pen line is 0.3-0.7 mm (up to ~1.1 mm once a scan has
# blurred it). Ovals' rings are thinner (~1 mm), so only small round outlines, where the pen
# marks are (a number circled, a loop of a signature), must show a stamp's ring width.
MIN_RING_MM = 1.2
PEN_MAX_MM = 25.0
MIN_WHOLE_RING = 0.9  # share of a wholly visible outline (ring, frame) on one thin line

# Ink colours in OpenCV HSV (H 0..180): red wraps round 0; faded pink keeps its hue and loses
# saturation, so weakly coloured pixels count as ink only next to clearly coloured ones.
_HUES: dict[str, tuple[tuple[int, int], ...]] = {"red": ((0, 10), (155, 180)), "blue": ((95, 130),)}
_MIN_VALUE = 120  # every ink test: darker than this is black print, not seal ink
_STRONG_SAT = 30
_WEAK_SAT = 15
_NEAR_MM = 2.0
# Faded ring text keeps little colour once JPEG has averaged its chroma over 2 x 2 pixels and
# bilinear resampling or the shrink to the working resolution has mixed it with paper. Inside a
# hypothesised outline (never for finding one) fainter colour near the ink counts as text.
# Warm paper (hue 8-19, saturation up to 16 on heavy scans) is kept out by narrower hues.
_SOFT_SAT = 10
_SOFT_NEAR_MM = 4.0
_SOFT_HUES: dict[str, tuple[tuple[int, int], ...]] = {"red": ((0, 5), (160, 180)),
                                                      "blue": ((100, 125),)}

_ANGLES = np.linspace(0.0, 2 * np.pi, 180, endpoint=False)
_COS, _SIN = np.cos(_ANGLES), np.sin(_ANGLES)  # every outline test walks these angles
_RING_SCALES = np.linspace(0.84, 1.06, 12)
_THIN_SCALES = np.linspace(0.86, 1.04, 19)
_BAND_SCALES = np.linspace(0.5, 0.8, 8)  # where the organisation's name runs


def _hue_lut(hues: tuple[tuple[int, int], ...]) -> np.ndarray:
    lut = np.zeros(256, np.uint8)
    for lo, hi in hues:
        lut[lo:hi + 1] = 255
    return lut


_HUE_LUTS = {hues: _hue_lut(hues) for hues in (*_HUES.values(), *_SOFT_HUES.values())}


@dataclass(frozen=True)
class _Planes:
    """An HSV image as its hue and saturation planes and the value test every ink colour
    shares: one plane test and a table look-up per mask instead of a 3-channel range test."""

    hue: np.ndarray
    sat: np.ndarray
    bright: np.ndarray  # 255 where the value reaches _MIN_VALUE
    bright_hues: dict[tuple[tuple[int, int], ...], np.ndarray] = field(
        default_factory=dict, compare=False)  # bright pixels of each set of hues asked for

    @classmethod
    def of(cls, hsv: np.ndarray) -> _Planes:
        hue, sat, val = cv2.split(hsv)
        bright = cv2.threshold(val, _MIN_VALUE - 1, 255, cv2.THRESH_BINARY)[1]
        return cls(np.asarray(hue), np.asarray(sat), np.asarray(bright))

    def colour(self, hues: tuple[tuple[int, int], ...], min_sat: int,
               within: tuple[slice, slice] | None = None) -> np.ndarray:
        """255 where the hue is in one of ``hues``, saturation >= ``min_sat`` and bright
        (only the part ``within``, rows and columns, if given)."""
        in_hue = self.bright_hues.get(hues)
        if in_hue is None:
            lut = _HUE_LUTS.get(hues)
            in_hue = np.asarray(cv2.bitwise_and(
                cv2.LUT(self.hue, lut if lut is not None else _hue_lut(hues)), self.bright))
            self.bright_hues[hues] = in_hue
        sat_plane = self.sat if within is None else self.sat[within]
        sat = cv2.threshold(sat_plane, min_sat - 1, 255, cv2.THRESH_BINARY)[1]
        return np.asarray(cv2.bitwise_and(in_hue if within is None else in_hue[within], sat))


def _ink_mask(
    planes: _Planes, color: str, px_per_mm: float, weak_sat: int = _WEAK_SAT,
    near_mm: float = _NEAR_MM, hues: tuple[tuple[int, int], ...] | None = None,
) -> np.ndarray:
    """Ink of one seal colour (uint8 0/255): clearly coloured pixels, and weakly coloured ones
    (saturation from ``weak_sat``) within ``near_mm`` of those."""
    strong = planes.colour(_HUES[color] if hues is None else hues, _STRONG_SAT)
    x, y, w, h = cv2.boundingRect(strong)
    if not w:
        return strong  # weak colour counts only near strong colour
    # Only within k of the strong colour can anything be added: the rest stays as it is.
    k = max(3, round(near_mm * px_per_mm) | 1)
    within = (slice(max(0, y - k), y + h + k), slice(max(0, x - k), x + w + k))
    weak = planes.colour(_HUES[color] if hues is None else hues, weak_sat, within)
    near = cv2.dilate(strong[within], cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    out = strong.copy()
    out[within] = cv2.bitwise_or(strong[within], cv2.bitwise_and(weak, near))
    return out


def seal_color_mask(bgr: np.ndarray, dpi: int = 200) -> np.ndarray:
    """Pixels of red or blue seal ink (uint8 0/255, the image's size); zeros for a gray image.

    Used to lift seal ink off a page before OCR. Where a seal covers black text the pixels are
    dark, not red, so the text under a seal is kept. ``dpi`` sizes the neighbourhood in which
    faded (pink) pixels count as ink.
    """
    if bgr.ndim == 2 or (bgr.ndim == 3 and bgr.shape[2] == 1):
        return np.zeros(bgr.shape[:2], np.uint8)
    planes = _Planes.of(cv2.cvtColor(np.ascontiguousarray(bgr[:, :, :3]), cv2.COLOR_BGR2HSV))
    px_per_mm = dpi / 25.4
    return np.asarray(cv2.bitwise_or(_ink_mask(planes, "red", px_per_mm),
                                     _ink_mask(planes, "blue", px_per_mm)))


def _downscale(image: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """Shrink by about ``scale``: exact halvings (OpenCV's fast area path, which needs even
    sizes: an odd last row or column is dropped), then one linear step.

    Returns the image and the scale applied (input pixel x maps to x * scale).
    """
    if scale >= 1.0:
        return image, 1.0
    out, done = image, 1.0
    while done * 0.5 >= scale * 0.999 and min(out.shape[:2]) >= 8:
        h2, w2 = out.shape[0] // 2, out.shape[1] // 2
        out = cv2.resize(out[:2 * h2, :2 * w2], (w2, h2), interpolation=cv2.INTER_AREA)
        done *= 0.5
    if scale < done * 0.98:
        f = scale / done
        size = (max(1, round(out.shape[1] * f)), max(1, round(out.shape[0] * f)))
        out = cv2.resize(out, size, interpolation=cv2.INTER_LINEAR)
        done *= f
    return out, done


# Shape hypotheses ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Outline:
    """An ellipse (rect=False) or a rotated rectangle (rect=True) in working pixels.

    ``a``, ``b`` are half axes / half sides; ``angle`` in radians, the rotation of the ``a`` axis.
    """

    cx: float
    cy: float
    a: float
    b: float
    angle: float
    rect: bool = False

    def points(
        self, scales: np.ndarray, angles: np.ndarray = _ANGLES
    ) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the outline scaled by each of ``scales``: arrays of shape (scales, angles)."""
        c, s = (_COS, _SIN) if angles is _ANGLES else (np.cos(angles), np.sin(angles))
        if self.rect:
            # Walk the rectangle's perimeter by angle from the centre (the ray's exit point).
            k = 1.0 / np.maximum(np.abs(c) / self.a, np.abs(s) / self.b)
            u, v = k * c, k * s
        else:
            u, v = self.a * c, self.b * s
        ca, sa = math.cos(self.angle), math.sin(self.angle)
        x = self.cx + scales[:, None] * (u * ca - v * sa)[None, :]
        y = self.cy + scales[:, None] * (u * sa + v * ca)[None, :]
        return x, y

    def extent(self) -> tuple[float, float, float, float]:
        """Axis-aligned bounds (x0, y0, x1, y1)."""
        c, s = abs(math.cos(self.angle)), abs(math.sin(self.angle))
        if self.rect:
            hw, hh = self.a * c + self.b * s, self.a * s + self.b * c
        else:
            hw = math.hypot(self.a * c, self.b * s)
            hh = math.hypot(self.a * s, self.b * c)
        return self.cx - hw, self.cy - hh, self.cx + hw, self.cy + hh

    def draw(self, mask: np.ndarray, scale: float = 1.0, value: int = 255) -> None:
        x, y = self.points(np.array([scale]), np.linspace(0, 2 * np.pi, 72, endpoint=False))
        poly = np.stack([x[0], y[0]], axis=1).round().astype(np.int32)
        cv2.fillPoly(mask, [poly], value)


@dataclass(frozen=True)
class _Evidence:
    outline: _Outline
    ring: float  # share of the visible outline with ink within the ring band
    thin: float  # best share of the outline with ink on one thin line (an unbroken border)
    band: float  # share of the visible angles with ink inside the border (ring text)
    inner: float  # share of ink pixels inside, off the border (ring text, star)
    visible: float  # share of the outline that can be seen (on the page, not under another seal)
    size_mm: float
    ratio: float
    score: float


def _rejected(outline: _Outline, ring: float = 0.0, visible: float = 0.0) -> _Evidence:
    return _Evidence(outline, ring, 0.0, 0.0, 0.0, visible, 0.0, 0.0, 0.0)


def _lookup(
    mask: np.ndarray, x: np.ndarray, y: np.ndarray, blocked: np.ndarray | None = None,
    *, many: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ink at each sample point (nearest pixel), and whether the point can be seen at all: it
    is on the image and not under ``blocked``. ``mask`` is 0/255.

    ``many``: the number of points that picks how they are read (cv2.remap from 2,000 on),
    by default ``x.size``. Lookups joined into one pass the size of each part, so that the
    joined lookup reads every point as the part alone would (remap's float32 coordinates can
    round the other way at half a pixel)."""
    if (x.size if many is None else many) >= 2000 and blocked is None:
        return _remap_lookup(mask, x, y)
    h, w = mask.shape
    xi, yi = np.rint(x).astype(np.intp), np.rint(y).astype(np.intp)
    # Unsigned, a negative index is too large: one comparison per axis.
    valid = (xi.view(np.uintp) < w) & (yi.view(np.uintp) < h)
    if blocked is None and valid.all():  # the common case: one flat read, nothing to mask
        return np.ravel(mask).take(yi * w + xi) > 0, valid
    if not valid.all():  # points off the image read pixel (0, 0), then count as not seen
        xi, yi = np.where(valid, xi, 0), np.where(valid, yi, 0)
    if blocked is not None:
        valid &= blocked[yi, xi] == 0
    return (mask[yi, xi] > 0) & valid, valid


def _share(flags: np.ndarray | np.bool_) -> float:
    """The share of true values: ``flags.mean()`` without its set-up, which the ring and frame
    tests would pay thousands of times a page."""
    return np.count_nonzero(flags) / flags.size


def _remap_lookup(mask: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``_lookup`` for many points: cv2.remap samples in C (points off the image read 1)."""
    if x.shape != y.shape:
        x, y = np.broadcast_arrays(x, y)
    shape, n = x.shape, x.size
    cols = n if n < 32767 else 4096  # remap's maps are 2-D and under 32767 wide
    pad = (-n) % cols
    mx, my = x.astype(np.float32).ravel(), y.astype(np.float32).ravel()
    if pad:
        mx, my = np.pad(mx, (0, pad)), np.pad(my, (0, pad))
    got = cv2.remap(mask, mx.reshape(-1, cols), my.reshape(-1, cols), cv2.INTER_NEAREST,
                    borderMode=cv2.BORDER_CONSTANT, borderValue=1)
    got = np.asarray(got).ravel()[:n].reshape(shape)
    return got > 1, got != 1


def _ramp(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _size_score(size_mm: float) -> float:
    lo, hi = TYPICAL_MM
    if size_mm < lo:
        return _ramp(size_mm, MIN_SEAL_MM, lo) * 0.6 + 0.4
    if size_mm > hi:
        return 1.0 - _ramp(size_mm, hi, MAX_SEAL_MM) * 0.6
    return 1.0


_GRID = np.linspace(-0.8, 0.8, 36)
_GRID_U, _GRID_V = np.meshgrid(_GRID, _GRID)
_IN_DISK = _GRID_U**2 + _GRID_V**2 <= 0.8**2


def _evidence(
    ink: np.ndarray,
    wide: np.ndarray,
    soft: np.ndarray,
    outline: _Outline,
    px_per_mm: float,
    blocked: np.ndarray | None = None,
) -> _Evidence:
    """How far the ink bears out a stamp with this outline (``wide`` = ink dilated by 1 px;
    ``soft`` = ink plus fainter colour near it, for the text inside the border).

    Points off the page or under ``blocked`` (seals already accepted) do not count either way.
    """
    hit, valid = _lookup(ink, *outline.points(_RING_SCALES), blocked)
    col_valid = valid.all(axis=0)
    visible = float(col_valid.mean())
    if visible < 0.25:
        return _rejected(outline, visible=visible)
    ring = float(np.any(hit, axis=0)[col_valid].mean())
    if ring < 0.6:
        return _rejected(outline, ring, visible)
    thin_hit, _ = _lookup(wide, *outline.points(_THIN_SCALES))
    thin = float(thin_hit[:, col_valid].mean(axis=1).max())
    band_hit, band_valid = _lookup(soft, *outline.points(_BAND_SCALES), blocked)
    band_cols = band_valid.all(axis=0)
    band = float(np.any(band_hit, axis=0)[band_cols].mean()) if band_cols.sum() >= 20 else 0.0
    ca, sa = math.cos(outline.angle), math.sin(outline.angle)
    inside = np.ones_like(_IN_DISK) if outline.rect else _IN_DISK
    u, v = _GRID_U[inside] * outline.a, _GRID_V[inside] * outline.b
    in_hit, in_valid = _lookup(soft, outline.cx + u * ca - v * sa, outline.cy + u * sa + v * ca,
                               blocked)
    inner = float(in_hit[in_valid].mean()) if in_valid.sum() >= 50 else 0.0
    big, small = max(outline.a, outline.b), min(outline.a, outline.b)
    size_mm = 2 * big / px_per_mm
    ratio = big / max(small, 1e-6)
    max_ratio = MAX_RECT_RATIO if outline.rect else MAX_OVAL_RATIO
    # A frame's one line of text reaches fewer rays from the centre than a ring's name does;
    # under another seal, what shows of a ring may be mostly the gap below its name.
    min_band = 0.3 if outline.rect or blocked is not None else 0.45
    if outline.rect and max(outline.a, outline.b) > 1.8 * min(outline.a, outline.b):
        min_band = 0.15  # a chop's line of text stays clear of its long sides' band
    if outline.rect and blocked is not None:
        min_band = 0.0  # its one line may be all under the other seal
    # A stamp's ring is cut in one piece: where all of it shows, one thin ellipse follows it
    # nearly all round (0.94 and more on generated scans, heavy ones too). None follows a
    # circle drawn by hand with a signature run across it (0.69-0.81), nor the end of a chop
    # under a seal taken for a small ring (0.85-0.88).
    broken_ring = not outline.rect and visible >= 0.9 and thin < MIN_WHOLE_RING
    # A frame is cut in one piece too: wholly visible, chops showed ink round 0.90 of it and
    # more, and one thin line along 0.89 and more (heavy scans). A pen circle run across a red
    # headline and its rule joins them into one region, where a few bold characters, bounded
    # by their tops and feet, look like a chop full of text: neither reached 0.9 (0.67-0.89).
    broken_ring |= (outline.rect and visible >= 0.9
                    and max(ring, thin) < MIN_WHOLE_RING)
    # A square seal's name fills it in columns; blurred, its ink covers up to 0.64 of it.
    max_inner = 0.72 if outline.rect and ratio <= 1.2 else 0.6
    if (
        broken_ring or thin < 0.45 or band < min_band or inner < 0.035 or inner > max_inner
        or not MIN_SEAL_MM <= size_mm <= MAX_SEAL_MM or ratio > max_ratio
        or 2 * small / px_per_mm < MIN_SEAL_MM * 0.6
    ):
        score = 0.0
    else:
        score = (
            0.25 * _ramp(ring, 0.6, 0.95)
            + 0.25 * _ramp(thin, 0.45, 0.85)
            + 0.15 * _ramp(band, min_band, min_band + 0.25 + 1e-9)
            + 0.15 * _ramp(inner, 0.035, 0.10)
            + 0.20 * _size_score(size_mm)
        )
    return _Evidence(outline, ring, thin, band, inner, visible, size_mm, ratio, score)


def _fit_circle(pts: np.ndarray) -> tuple[float, float, float] | None:
    """Least-squares (Kasa) circle through points; stable on a half arc, unlike an ellipse."""
    return _circle_through(pts[:, 0].astype(np.float64), pts[:, 1].astype(np.float64))


def _circle_through(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """``_fit_circle`` on the points' x and y (float64), which a ring test has at hand."""
    if len(x) < 8:
        return None
    mx, my = float(x.mean()), float(y.mean())
    x, y = x - mx, y - my  # centred, the normal equations are well conditioned
    z = x * x + y * y
    # The 3 x 3 normal equations solved by Cramer's rule: a ring test fits thousands of
    # circles, and a general solver costs more in its set-up than in its arithmetic.
    sxx, sxy, syy = float(x @ x), float(x @ y), float(y @ y)
    sx, sy, n = float(x.sum()), float(y.sum()), float(len(x))
    bx, by, bz = float(x @ z), float(y @ z), float(z.sum())
    det = _det3(sxx, sxy, sx, sxy, syy, sy, sx, sy, n)
    if det == 0:
        return None  # all points on a line
    a = _det3(bx, sxy, sx, by, syy, sy, bz, sy, n) / det
    b = _det3(sxx, bx, sx, sxy, by, sy, sx, bz, n) / det
    c = _det3(sxx, sxy, bx, sxy, syy, by, sx, sy, bz) / det
    cx, cy = a / 2, b / 2
    r2 = c + cx**2 + cy**2
    return (cx + mx, cy + my, math.sqrt(r2)) if r2 > 0 else None


def _det3(a: float, b: float, c: float, d: float, e: float, f: float, g: float, h: float,
          i: float) -> float:
    """The determinant of the 3 x 3 matrix with rows (a, b, c), (d, e, f), (g, h, i)."""
    return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)


def _ransac_circles(
    pts: np.ndarray, r_min: float, r_max: float, seed: int, max_circles: int = 3
) -> list[tuple[float, float, float]]:
    """Circles along an outer contour: two overlapping stamps give two arcs of two circles.

    A circle is kept when its inliers cover at least a quarter of its circumference.
    """
    rng = np.random.default_rng(seed)
    step = max(1, len(pts) // 160)
    pts = pts[::step]
    per_px = 0.9 / step  # contour points per pixel of arc, after thinning
    found: list[tuple[float, float, float]] = []
    rest = pts.astype(np.float64)
    for _ in range(max_circles):
        if len(rest) < 20:
            break
        idx = rng.integers(0, len(rest), size=(150, 3))
        p1, p2, p3 = rest[idx[:, 0]], rest[idx[:, 1]], rest[idx[:, 2]]
        # Circumcentre of each triple.
        ax, ay, bx, by, qx, qy = p1[:, 0], p1[:, 1], p2[:, 0], p2[:, 1], p3[:, 0], p3[:, 1]
        d = 2 * (ax * (by - qy) + bx * (qy - ay) + qx * (ay - by))
        ok = np.abs(d) > 1e-6
        d = np.where(ok, d, 1.0)
        ux = ((ax**2 + ay**2) * (by - qy) + (bx**2 + by**2) * (qy - ay)
              + (qx**2 + qy**2) * (ay - by)) / d
        uy = ((ax**2 + ay**2) * (qx - bx) + (bx**2 + by**2) * (ax - qx)
              + (qx**2 + qy**2) * (bx - ax)) / d
        r = np.hypot(ax - ux, ay - uy)
        ok &= (r >= r_min) & (r <= r_max)
        if not ok.any():
            break
        ux, uy, r = ux[ok], uy[ok], r[ok]
        dist = np.abs(np.hypot(rest[None, :, 0] - ux[:, None], rest[None, :, 1] - uy[:, None])
                      - r[:, None])
        tol = np.maximum(1.5, 0.04 * r)[:, None]
        counts = (dist < tol).sum(axis=1)
        best = int(np.argmax(counts))
        inliers = dist[best] < tol[best]
        if counts[best] < 0.25 * 2 * np.pi * r[best] * per_px:
            break
        fit = _fit_circle(rest[inliers]) or (float(ux[best]), float(uy[best]), float(r[best]))
        found.append(fit)
        rest = rest[~inliers]
    return found


def _bounding(contour: np.ndarray) -> Rect:
    x, y, w, h = cv2.boundingRect(contour)
    return (int(x), int(y), int(w), int(h))


@dataclass(frozen=True)
class _Region:
    """One connected stretch of seal-coloured ink: its outer contour and what bounds it."""

    contour: np.ndarray
    pts: np.ndarray  # contour points that belong to a stamp's outline (not page edge, not taken)
    usable: np.ndarray  # per contour point: is it one of ``pts``
    page_cut: bool  # the page edge cuts it
    cut: bool  # the page edge or an accepted seal cuts it
    rect: Rect


def _region(contour: np.ndarray, shape: tuple[int, int], taken: np.ndarray | None) -> _Region:
    h, w = shape
    pts = contour.reshape(-1, 2)
    usable = (pts[:, 0] > 1) & (pts[:, 0] < w - 2) & (pts[:, 1] > 1) & (pts[:, 1] < h - 2)
    page_cut = not bool(usable.all())
    if taken is not None:
        usable &= taken[pts[:, 1], pts[:, 0]] == 0
    return _Region(contour, pts[usable], usable, page_cut, not bool(usable.all()),
                   _bounding(contour))


def _first_outlines(region: _Region, r_min: float, r_max: float) -> list[_Outline]:
    """The one-stamp explanations of a region: its ellipse, its rectangle, or for a cut region
    the circle (and where a seal, not the page, cuts it, the ellipse) through what shows."""
    pts = region.pts
    outlines: list[_Outline] = []
    if region.cut:
        circle = _fit_circle(pts)
        if circle and r_min * 0.8 <= circle[2] <= r_max * 1.2:
            outlines.append(_Outline(circle[0], circle[1], circle[2], circle[2], 0.0))
        # Under another seal, enough of an oval's outline shows for an ellipse; at the page
        # edge an ellipse through half an outline is anyone's guess, so stamps there are round.
        if not region.page_cut and len(pts) >= 0.6 * len(region.usable):
            outlines.append(_fit_ellipse(pts))
        return outlines
    (rx, ry), (rw, rh), rang = cv2.minAreaRect(region.contour)
    fill = cv2.contourArea(region.contour) / (rw * rh) if rw * rh > 0 else 0.0
    if fill >= 0.8:  # a disk fills pi/4 of its box, a square stamp nearly all of it
        outlines.append(_Outline(rx, ry, rw / 2, rh / 2, math.radians(rang), rect=True))
    if fill < 0.92:
        outlines.append(_fit_ellipse(pts))
    return outlines


def _fit_ellipse(pts: np.ndarray) -> _Outline:
    (cx, cy), (ew, eh), ang = cv2.fitEllipse(pts.astype(np.float32))
    return _Outline(float(cx), float(cy), ew / 2, eh / 2, math.radians(ang))


def _more_outlines(
    region: _Region, ink: np.ndarray, wide: np.ndarray, soft: np.ndarray, px_per_mm: float,
    seed: int, ring: float, found: bool,
) -> list[_Outline]:
    """Outlines for a region that one stamp does not explain: several stamps in a heap, a stamp
    touching other red ink, a stamp cut by the page edge."""
    r_min, r_max = MIN_SEAL_MM / 2 * px_per_mm, MAX_SEAL_MM / 2 * px_per_mm
    if region.page_cut:
        # Scribbles and words fail the single-outline ring test badly; cut stamps do not.
        if ring < 0.45 and found:
            return []
        return [_Outline(cx, cy, r, r, 0.0)
                for cx, cy, r in _ransac_circles(region.pts, r_min, r_max, seed)]
    more = _window_ellipses(region.pts, r_min, r_max)
    rect = _rect_from_edges(region.contour, region.usable, px_per_mm)
    if rect is None and region.cut and len(region.pts) >= 20:
        # What shows of a chop half under a seal: its three free sides bound it, however
        # rough the ink makes each of them.
        (rx, ry), (rw, rh), rang = cv2.minAreaRect(region.pts.astype(np.float32))
        if min(rw, rh) >= 0.6 * MIN_SEAL_MM * px_per_mm:
            rect = _Outline(rx, ry, rw / 2, rh / 2, math.radians(rang), rect=True)
    # Two frames in one region (a chop across a square seal): each pair of opposite sides
    # bounds one of them.
    rects = [rect] if rect is not None else []
    paired = _rects_from_side_pairs(region.contour, region.usable, px_per_mm)
    frames: list[_Outline] = []
    for frame in rects + paired:
        longer = _extend_rect(wide, frame, px_per_mm)
        if longer is not frame:
            # The whole frame, where its far end shows, unless that explains the ink worse.
            short_score = _evidence(ink, wide, soft, frame, px_per_mm).score
            long_score = _evidence(ink, wide, soft, longer, px_per_mm).score
            frames.append(longer if long_score and long_score >= 0.9 * short_score else frame)
        else:
            frames.append(frame)
    # Words in columns or a heavy chop's words touching its sides make straight stretches
    # inside a frame: the slices they bound are no stamps of their own. Nor is a slice of a
    # chop whose words break its long sides: shorter along its sides than they are apart (a
    # square seal's sides are as long as they are apart, a chop's longer, its ends far shorter).
    # The frame round a slice must explain the ink about as well, not be the box round two
    # stamps.
    scores: dict[int, float] = {}

    def score(k: int) -> float:
        if k not in scores:
            scores[k] = _evidence(ink, wide, soft, frames[k], px_per_mm).score
        return scores[k]

    def sliced(k: int) -> bool:
        f = frames[k]
        return any(g.a * g.b > f.a * f.b and _inside(f, g, px_per_mm)
                   and score(j) >= max(MIN_SCORE, 0.9 * score(k))
                   for j, g in enumerate(frames))

    more += [f for k, f in enumerate(frames)
             if k < len(rects) or not (0.625 * f.b < f.a < 0.9 * f.b or sliced(k))]
    return more


def _inside(inner: _Outline, outer: _Outline, px_per_mm: float) -> bool:
    """Whether rectangle ``inner`` lies within rectangle ``outer`` (to a millimetre)."""
    co, so = math.cos(outer.angle), math.sin(outer.angle)
    ci, si = math.cos(inner.angle), math.sin(inner.angle)
    for du, dv in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        x = inner.cx + du * inner.a * ci - dv * inner.b * si - outer.cx
        y = inner.cy + du * inner.a * si + dv * inner.b * ci - outer.cy
        if (abs(x * co + y * so) > outer.a + px_per_mm
                or abs(-x * so + y * co) > outer.b + px_per_mm):
            return False
    return True


def _rects_from_side_pairs(
    contour: np.ndarray, usable: np.ndarray, px_per_mm: float
) -> list[_Outline]:
    """Rectangles each bounded by a pair of opposite straight stretches of an outer contour:
    facing each other (run in opposite directions round it), side by side along their length,
    a stamp's width apart. Where two frames make one region, each has such a pair."""
    pts = contour.reshape(-1, 2)
    sides = []
    # Heavy ink bulges a frame where its words touch it: looser, the sides run whole.
    for tolerance in (0.6, 1.2):
        poly = cv2.approxPolyDP(contour, tolerance * px_per_mm, True)
        poly = poly.reshape(-1, 2).astype(np.float64)
        for i in range(len(poly) if len(poly) >= 4 else 0):
            p, q = poly[i], poly[(i + 1) % len(poly)]
            length = float(np.hypot(*(q - p)))
            if length >= 6 * px_per_mm and usable[_nearest(pts, (p + q) / 2)]:
                sides.append((p, q, math.atan2(q[1] - p[1], q[0] - p[0])))
    out: list[_Outline] = []
    for i, (p1, q1, a1) in enumerate(sides):
        for p2, q2, a2 in sides[i + 1:]:
            turn = abs((a1 - a2) % (2 * math.pi) - math.pi)
            if turn > math.radians(4):
                continue
            c, s = math.cos(a1), math.sin(a1)
            u1 = sorted((p1[0] * c + p1[1] * s, q1[0] * c + q1[1] * s))
            u2 = sorted((p2[0] * c + p2[1] * s, q2[0] * c + q2[1] * s))
            v1 = (-p1[0] * s + p1[1] * c - q1[0] * s + q1[1] * c) / 2
            v2 = (-p2[0] * s + p2[1] * c - q2[0] * s + q2[1] * c) / 2
            shared = min(u1[1], u2[1]) - max(u1[0], u2[0])
            if shared < 0.5 * min(u1[1] - u1[0], u2[1] - u2[0]):
                continue
            if not 0.6 * MIN_SEAL_MM * px_per_mm <= abs(v1 - v2) <= MAX_SEAL_MM * px_per_mm:
                continue
            u0, u3 = min(u1[0], u2[0]), max(u1[1], u2[1])
            uc, vc = (u0 + u3) / 2, (v1 + v2) / 2
            rect = _Outline(uc * c - vc * s, uc * s + vc * c, (u3 - u0) / 2,
                            abs(v1 - v2) / 2, a1 % math.pi, rect=True)
            if not any(_same_frame(rect, o, px_per_mm) for o in out):
                out.append(rect)
    return out


def _nearest(pts: np.ndarray, at: np.ndarray) -> int:
    """The index of the contour point nearest (city-block) the pixel ``at`` rounds to: asked
    only of long straight stretches, not of every side of a ragged outline."""
    return int(np.abs(pts - np.rint(at).astype(int)).sum(axis=1).argmin())


def _same_frame(a: _Outline, b: _Outline, px_per_mm: float) -> bool:
    """Whether two rectangles are one (both tolerances found the same pair of sides)."""
    near = px_per_mm
    return (abs(a.cx - b.cx) < near and abs(a.cy - b.cy) < near and abs(a.a - b.a) < near
            and abs(a.b - b.b) < near and abs(a.angle - b.angle) < 0.05)


def _region_evidence(
    contour: np.ndarray,
    ink: np.ndarray,
    wide: np.ndarray,
    soft: np.ndarray,
    px_per_mm: float,
    seed: int,
    regions: list[Rect],
    taken: np.ndarray | None = None,
) -> list[_Evidence]:
    """Stamp hypotheses for one ink region (its outer contour), each with its evidence.

    Contour points on the page edge or on ``taken`` (next to an accepted seal) are not part of
    the stamp's outline and are left out of the fits.
    """
    _, _, bw, bh = _bounding(contour)
    if max(bw, bh) < 0.6 * MIN_SEAL_MM * px_per_mm or min(bw, bh) < 0.3 * MIN_SEAL_MM * px_per_mm:
        return []  # a mark, a tick
    region = _region(contour, ink.shape[:2], taken)
    if len(region.pts) < 8 or (max(bw, bh) > 1.1 * MAX_RECT_RATIO * min(bw, bh)
                               and not region.cut):
        return []  # a line of red text, a rule
    r_min, r_max = MIN_SEAL_MM / 2 * px_per_mm, MAX_SEAL_MM / 2 * px_per_mm
    found: list[_Evidence] = []
    ring = 0.0
    for outline in _first_outlines(region, r_min, r_max):
        ev = _evidence(ink, wide, soft, outline, px_per_mm)
        ring = max(ring, ev.ring)
        if ev.score > 0 and not (outline.rect and _in_text_row(ev, regions)):
            found.append(ev)
    compact = max(bw, bh) <= 1.25 * min(bw, bh) and max(bw, bh) <= TYPICAL_MM[1] * px_per_mm
    if found and found[0].score >= 0.75 and (found[0].outline.rect or compact):
        return found  # one stamp, well explained
    if max(bw, bh) < MIN_SEAL_MM * px_per_mm:
        return found
    for outline in _more_outlines(region, ink, wide, soft, px_per_mm, seed, ring, bool(found)):
        ev = _evidence(ink, wide, soft, outline, px_per_mm)
        if ev.score > 0 and not (outline.rect and _in_text_row(ev, regions)):
            found.append(ev)
    return found


def _ellipse_rho(pts: np.ndarray, e: _Outline) -> np.ndarray:
    """Each point's distance from the centre in units of the ellipse's radius that way."""
    dx, dy = pts[:, 0] - e.cx, pts[:, 1] - e.cy
    c, s = math.cos(e.angle), math.sin(e.angle)
    u, v = dx * c + dy * s, -dx * s + dy * c
    return np.sqrt((u / e.a) ** 2 + (v / e.b) ** 2)


def _window_ellipses(pts: np.ndarray, r_min: float, r_max: float) -> list[_Outline]:
    """Ellipses along an outer contour that several stamps share.

    A stretch of the contour mostly belongs to one stamp, so an ellipse is fitted to each of a
    set of stretches (a fifth and a third of the contour, at 24 starting points), and the
    ellipses that explain most contour points are kept, greedily, each point explaining one.
    """
    n = len(pts)
    if n < 40:
        return []
    fpts = pts.astype(np.float32)
    candidates: list[tuple[_Outline, np.ndarray]] = []
    for frac in (0.2, 0.35):
        length = max(8, int(n * frac))
        for start in range(0, n, max(1, n // 24)):
            seg = fpts[(start + np.arange(length)) % n]
            (cx, cy), (ew, eh), ang = cv2.fitEllipse(seg)
            a, b = ew / 2, eh / 2
            if min(a, b) < r_min * 0.6 or max(a, b) > r_max or max(a, b) > MAX_OVAL_RATIO * min(a, b):
                continue
            e = _Outline(cx, cy, a, b, math.radians(ang))
            candidates.append((e, np.abs(_ellipse_rho(fpts, e) - 1.0) < 0.06))
    out: list[_Outline] = []
    if not candidates:
        return out
    inliers_of = np.stack([inl for _, inl in candidates])  # one row per candidate
    taken = np.zeros(n, bool)
    for _ in range(3):
        counts = np.count_nonzero(inliers_of & ~taken, axis=1)
        k = int(np.argmax(counts))  # the first of the best, as a loop keeping the first would
        if counts[k] == 0:
            break
        best, best_count, best_inl = candidates[k][0], int(counts[k]), inliers_of[k]
        perimeter = math.pi * (3 * (best.a + best.b)
                               - math.sqrt((3 * best.a + best.b) * (best.a + 3 * best.b)))
        if best_count < 0.3 * 0.9 * perimeter:
            break
        inliers = fpts[best_inl & ~taken]
        if len(inliers) >= 5:
            (cx, cy), (ew, eh), ang = cv2.fitEllipse(inliers)
            refit = _Outline(cx, cy, ew / 2, eh / 2, math.radians(ang))
            if r_min * 0.6 <= min(refit.a, refit.b) and max(refit.a, refit.b) <= r_max:
                best = refit
        out.append(best)
        taken |= best_inl
    return out


def _extend_rect(wide: np.ndarray, rect: _Outline, px_per_mm: float) -> _Outline:
    """Follow a rectangle's two long frame lines into the stamp that hides its far end, up to
    a side line across them; the outline's long side is ``a`` or ``b``, whichever is longer."""
    long_is_a = rect.a >= rect.b
    half_long, half_short = (rect.a, rect.b) if long_is_a else (rect.b, rect.a)
    angle = rect.angle if long_is_a else rect.angle + math.pi / 2
    c, s = math.cos(angle), math.sin(angle)
    limit = MAX_RECT_RATIO * 2 * half_short
    across = np.linspace(-half_short, half_short, 15)
    ends = [-half_long, half_long]
    steps = np.arange(1, math.ceil(limit) + 1, dtype=np.float64)
    longest_gap = math.floor(2 * px_per_mm)  # more pixels than this without both lines: stop
    for side, sign in ((0, -1.0), (1, 1.0)):
        # Step outwards a pixel at a time: every step is sampled at once, then the walk stops
        # at the first step off the page or after too long a gap in the lines.
        us = sign * half_long + sign * steps
        xs = rect.cx + us[:, None] * c - across[None, :] * s
        ys = rect.cy + us[:, None] * s + across[None, :] * c
        hit, valid = _lookup(wide, xs, ys)
        lines = np.asarray(hit[:, [0, 1]].any(axis=1) & hit[:, [-2, -1]].any(axis=1))
        index = np.arange(len(us))
        gap = index - np.maximum.accumulate(np.where(lines, index, -1))
        stops = np.flatnonzero(~valid.all(axis=1) | (gap > longest_gap))
        stop = int(stops[0]) if len(stops) else len(us)
        sides = np.flatnonzero(lines[:stop] & (hit[:stop].mean(axis=1) >= 0.8))
        if len(sides):
            ends[side] = float(us[sides[-1]])
    if ends == [-half_long, half_long]:
        return rect
    mid = (ends[0] + ends[1]) / 2
    new_half = (ends[1] - ends[0]) / 2
    cx, cy = rect.cx + mid * c, rect.cy + mid * s
    if long_is_a:
        return _Outline(cx, cy, new_half, rect.b, rect.angle, rect=True)
    return _Outline(cx, cy, rect.a, new_half, rect.angle, rect=True)


def _rect_from_edges(
    contour: np.ndarray, usable: np.ndarray, px_per_mm: float
) -> _Outline | None:
    """A rectangular stamp whose frame shows as three or four long straight stretches of an
    outer contour it shares with another stamp (a 复印件与原件一致 chop across a seal)."""
    poly = cv2.approxPolyDP(contour, 0.6 * px_per_mm, True).reshape(-1, 2).astype(np.float64)
    if len(poly) < 3:
        return None
    pts = contour.reshape(-1, 2)
    edges: list[tuple[np.ndarray, np.ndarray, float, float]] = []
    for i in range(len(poly)):
        p, q = poly[i], poly[(i + 1) % len(poly)]
        length = float(np.hypot(*(q - p)))
        if length >= 8 * px_per_mm and usable[_nearest(pts, (p + q) / 2)]:
            edges.append((p, q, length, math.atan2(q[1] - p[1], q[0] - p[0]) % (math.pi / 2)))
    if len(edges) < 3:
        return None
    ref = max(edges, key=lambda e: e[2])[3]
    frame = [e for e in edges
             if min(abs(e[3] - ref), math.pi / 2 - abs(e[3] - ref)) < math.radians(4)]
    if len(frame) < 3:
        return None
    ends = np.array([pt for p, q, _, _ in frame for pt in (p, q)])
    c, s = math.cos(ref), math.sin(ref)
    u = ends[:, 0] * c + ends[:, 1] * s
    v = -ends[:, 0] * s + ends[:, 1] * c
    uc, vc = (u.min() + u.max()) / 2, (v.min() + v.max()) / 2
    return _Outline(uc * c - vc * s, uc * s + vc * c, (u.max() - u.min()) / 2,
                    (v.max() - v.min()) / 2, ref, rect=True)


def _classify(ev: _Evidence) -> SealShape:
    if ev.outline.rect:
        return SealShape.SQUARE if ev.ratio <= 1.2 else SealShape.RECTANGLE
    return SealShape.ROUND if ev.ratio <= 1.12 else SealShape.OVAL


def _overlap(a: _Outline, b: _Outline) -> float:
    """Intersection over union of two outlines' bounding boxes."""
    ax0, ay0, ax1, ay1 = a.extent()
    bx0, by0, bx1, by1 = b.extent()
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - iw * ih
    return iw * ih / union if union > 0 else 0.0


def _share_inside(a: _Outline, b: _Outline) -> float:
    """How much of ``a``'s bounding box lies within ``b``'s."""
    ax0, ay0, ax1, ay1 = a.extent()
    bx0, by0, bx1, by1 = b.extent()
    iw = max(0.0, min(ax1, bx1) - max(ax0, bx0))
    ih = max(0.0, min(ay1, by1) - max(ay0, by0))
    return iw * ih / max(1e-6, (ax1 - ax0) * (ay1 - ay0))


def _same_stamp(a: _Outline, b: _Outline) -> bool:
    """Two hypotheses for one stamp: much the same box, or one centred in the other (a circle
    inside a square seal). Two stamps overlap with their centres apart."""
    if _overlap(a, b) >= 0.45:
        return True
    reach = 0.35 * min(a.a, a.b, b.a, b.b) * 2
    return math.hypot(a.cx - b.cx, a.cy - b.cy) < reach


def _select(
    evidence: list[_Evidence],
    ink: np.ndarray,
    wide: np.ndarray,
    soft: np.ndarray,
    px_per_mm: float,
    blocked: np.ndarray,
    accepted: tuple[_Evidence, ...] = (),
) -> list[_Evidence]:
    """Accept hypotheses best first, after those ``accepted`` before.

    Each accepted seal blocks its area (``blocked``, updated in place), and a hypothesis that
    touches an accepted seal is judged again on what it shows outside it: a pen circle drawn
    across a stamp borrows that stamp's text, a second stamp overlapping it has text of its own.
    """
    kept: list[_Evidence] = list(accepted)
    # On a tie a frame goes first: the circle round a square seal's corners can score as well.
    for candidate in sorted(evidence, key=lambda e: (-e.score, not e.outline.rect)):
        if candidate.score < MIN_SCORE:
            break
        if any(_same_stamp(candidate.outline, k.outline) for k in kept):
            continue
        ev = candidate
        if any(_overlap(ev.outline, k.outline) > 0 for k in kept):
            ev = _evidence(ink, wide, soft, ev.outline, px_per_mm, blocked)
            if ev.score < MIN_SCORE:
                continue
        kept.append(ev)
        ev.outline.draw(blocked, 1.04)
    return kept[len(accepted):]


def _holds_fewer_than_two(region: Rect, parts: list[Rect]) -> bool:
    x, y, w, h = region
    inside = sum(1 for px, py, pw, ph in parts
                 if px >= x and py >= y and px + pw <= x + w and py + ph <= y + h)
    return inside < 2


def _in_text_row(ev: _Evidence, regions: list[Rect]) -> bool:
    """A rectangle hypothesis with two or more like-sized neighbours on its row is a word of a
    red heading (a bold 国 looks like a square seal on its own)."""
    x0, y0, x1, y1 = ev.outline.extent()
    h = y1 - y0
    cy = (y0 + y1) / 2
    neighbours = 0
    for rx, ry, rw, rh in regions:
        if rx >= x0 - 1 and rx + rw <= x1 + 1 and ry >= y0 - 1 and ry + rh <= y1 + 1:
            continue  # the region itself
        if rx <= x0 + 1 and rx + rw >= x1 - 1 and ry <= y0 + 1 and ry + rh >= y1 - 1:
            continue  # the region it is part of (a square seal with a chop across it)
        same_row = abs(ry + rh / 2 - cy) < 0.3 * h and 0.5 * h < rh < 1.5 * h
        gap = max(rx - x1, x0 - (rx + rw))
        if same_row and gap < 0.8 * h:
            neighbours += 1
    return neighbours >= 2


# Colour pages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    evidence: _Evidence
    color: str
    complete: bool


def _find_in_mask(
    ink: np.ndarray, soft: np.ndarray, px_per_mm: float, color: str
) -> list[_Found]:
    h, w = ink.shape
    wide = _grown(ink, 3)
    found: list[_Found] = []
    blocked = np.zeros_like(ink)  # accepted seals, for judging the next hypotheses
    claimed = np.zeros_like(ink)  # accepted seals with a margin, whose ink is taken away
    first: list[Rect] = []
    # Two passes: stamps whose ring holds together, then what is left, with fragments joined by a
    # wider closing and the ink of accepted seals taken away (a stamp half under another).
    for close_mm in (2.0, 5.0):
        k = max(3, round(close_mm * px_per_mm) | 1)
        work = cv2.bitwise_and(ink, cv2.bitwise_not(claimed)) if found else ink
        # An elliptic element keeps round outlines round; a square one is cheaper for the
        # wide pass, which only has to join fragments.
        element = cv2.MORPH_ELLIPSE if close_mm < 3 else cv2.MORPH_RECT
        contours = _closed_contours(work, cv2.getStructuringElement(element, (k, k)), k)
        regions = [_bounding(c) for c in contours]
        edge = _grown(claimed, 5) if found else None
        evidence: list[_Evidence] = []
        for i, contour in enumerate(contours):
            if first and _holds_fewer_than_two(regions[i], first) \
                    and not _touches(regions[i], found):
                continue  # neither joined nor cut: the first pass has judged this region
            evidence += _region_evidence(contour, ink, wide, soft, px_per_mm, i, regions, edge)
        if not first:
            first = [r for r in regions if max(r[2], r[3]) >= 1.5 * px_per_mm]
        before = tuple(f.evidence for f in found)
        for ev in _select(evidence, ink, wide, soft, px_per_mm, blocked, before):
            x0, y0, x1, y1 = ev.outline.extent()
            margin = 0.5 * px_per_mm
            complete = bool(x0 > -margin and y0 > -margin and x1 < w - 1 + margin
                            and y1 < h - 1 + margin)
            found.append(_Found(ev, color, complete))
            ev.outline.draw(claimed, 1.12)
    return _drop_parts(found)


def _grown(mask: np.ndarray, k: int) -> np.ndarray:
    """``mask`` dilated by a k x k square, worked out only round its ink (the rest stays 0)."""
    x, y, w, h = cv2.boundingRect(mask)
    out = np.zeros_like(mask)
    if w:
        within = (slice(max(0, y - k), y + h + k), slice(max(0, x - k), x + w + k))
        out[within] = cv2.dilate(mask[within], np.ones((k, k), np.uint8))
    return out


def _closed_contours(work: np.ndarray, element: np.ndarray, k: int) -> list[np.ndarray]:
    """Outer contours of ``work`` closed with ``element`` (k x k), in ``work``'s pixels.

    Closed on the ink's bounding box grown by 2 k, not the whole page: the ink is a small part
    of most pages, and beyond k of it the closing is empty, so the contours are the same."""
    x, y, w, h = cv2.boundingRect(work)
    if w == 0 or h == 0:
        return []
    x0, y0 = max(0, x - 2 * k), max(0, y - 2 * k)
    x1, y1 = min(work.shape[1], x + w + 2 * k), min(work.shape[0], y + h + 2 * k)
    closed = cv2.morphologyEx(work[y0:y1, x0:x1], cv2.MORPH_CLOSE, element)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE,
                                   offset=(x0, y0))
    return list(contours)


def _drop_parts(found: list[_Found]) -> list[_Found]:
    """Leave out a seal lying within a larger one that scores as well: black text across a
    faded ring splits it, and the first pass may take a stretch of it for a small oval before
    the second pass finds the whole ring. Stamps that overlap have their centres apart."""
    keep = []
    for f in found:
        x0, y0, x1, y1 = f.evidence.outline.extent()
        area = max(1e-6, (x1 - x0) * (y1 - y0))
        inside = False
        for g in found:
            if g is f or g.evidence.score < f.evidence.score:
                continue
            gx0, gy0, gx1, gy1 = g.evidence.outline.extent()
            iw = max(0.0, min(x1, gx1) - max(x0, gx0))
            ih = max(0.0, min(y1, gy1) - max(y0, gy0))
            if iw * ih >= 0.8 * area and (gx1 - gx0) * (gy1 - gy0) >= 1.3 * area:
                inside = True
                break
        if not inside:
            keep.append(f)
    return keep


def _touches(region: Rect, found: list[_Found]) -> bool:
    """Whether ``region`` reaches an accepted seal's claimed area (its outline grown by 12 %,
    whose ink was taken away: what is left of a stamp half under it ends just outside)."""
    x, y, w, h = region
    for f in found:
        x0, y0, x1, y1 = f.evidence.outline.extent()
        gx, gy = 0.08 * (x1 - x0) + 2, 0.08 * (y1 - y0) + 2
        x0, y0, x1, y1 = x0 - gx, y0 - gy, x1 + gx, y1 + gy
        if x < x1 and x0 < x + w and y < y1 and y0 < y + h:
            return True
    return False


def _refine_box(
    ink_full: np.ndarray | None, outline: _Outline, scale: float, width: int, height: int
) -> Box:
    """The seal's box in input pixels: the ink inside the outline, or the outline itself."""
    x0, y0, x1, y1 = outline.extent()
    fx0, fy0 = max(0, math.floor(x0 / scale)), max(0, math.floor(y0 / scale))
    fx1, fy1 = min(width, math.ceil(x1 / scale) + 1), min(height, math.ceil(y1 / scale) + 1)
    if ink_full is not None:
        pad = round(0.08 * max(x1 - x0, y1 - y0) / scale) + 2
        bx0, by0 = max(0, fx0 - pad), max(0, fy0 - pad)
        bx1, by1 = min(width, fx1 + pad), min(height, fy1 + pad)
        roi = ink_full[by0:by1, bx0:bx1]
        region = np.zeros_like(roi)
        grown = _Outline((outline.cx / scale) - bx0, (outline.cy / scale) - by0,
                         outline.a / scale + 2, outline.b / scale + 2, outline.angle, outline.rect)
        grown.draw(region, 1.06)
        inside = cv2.bitwise_and(roi, region)
        if cv2.countNonZero(inside) > 20:
            # The ink's extent without its outermost specks (0.2 % either way), from its counts
            # per column and per row rather than from every inked pixel's coordinates.
            lo_x, hi_x = _percentiles(cv2.reduce(inside, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S))
            lo_y, hi_y = _percentiles(cv2.reduce(inside, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S))
            return Box(bx0 + int(lo_x), by0 + int(lo_y), int(hi_x - lo_x) + 1, int(hi_y - lo_y) + 1)
    return Box(fx0, fy0, max(1, fx1 - fx0), max(1, fy1 - fy0))


def _percentiles(sums: np.ndarray) -> tuple[float, float]:
    """The 0.2nd and 99.8th percentiles (numpy's linear method) of the pixel positions
    counted in ``sums``: a 0/255 mask summed along one axis."""
    cum = np.cumsum(np.asarray(sums).ravel().astype(np.int64) // 255)
    n = int(cum[-1])
    out = []
    for q in (0.002, 0.998):
        at = q * (n - 1)
        k = math.floor(at)
        lo, hi = np.searchsorted(cum, [k, min(k + 1, n - 1)], side="right")
        t = at - k
        # numpy's lerp, so that int() of the result truncates the same way.
        out.append(float(hi - (hi - lo) * (1 - t)) if t >= 0.5 else float(lo + (hi - lo) * t))
    return out[0], out[1]


def _border_width_mm(
    roi_ink: np.ndarray, outline: _Outline, scale: float, px_per_mm: float
) -> float:
    """Width of the outline's border line at full resolution: radii (as shares of the
    outline) inked on at least half as many angles as the densest one, in millimetres."""
    full = _Outline(outline.cx / scale, outline.cy / scale, outline.a / scale,
                    outline.b / scale, outline.angle, outline.rect)
    mean_r = (full.a + full.b) / 2
    step = 0.5 / mean_r  # half a pixel
    scales = np.arange(0.88, 1.08, step)
    hit, valid = _lookup(roi_ink, *full.points(scales))
    cols = valid.all(axis=0)
    if cols.sum() < 30:
        return 0.0
    coverage = hit[:, cols].mean(axis=1)
    peak = int(np.argmax(coverage))
    strong = coverage >= 0.5 * coverage[peak]
    lo = hi = peak
    while lo > 0 and strong[lo - 1]:
        lo -= 1
    while hi < len(strong) - 1 and strong[hi + 1]:
        hi += 1
    return float((hi - lo + 1) * 0.5 / px_per_mm)


def _colour_seals(bgr: np.ndarray, planes: _Planes, scale: float, dpi: int) -> list[Seal]:
    """Seals in coloured ink; ``planes`` is the page at the working resolution, ``scale`` its
    size relative to ``bgr``."""
    height, width = bgr.shape[:2]
    px_per_mm = dpi * scale / 25.4
    seals: list[Seal] = []
    for color in _HUES:
        ink = _ink_mask(planes, color, px_per_mm)
        if cv2.countNonZero(ink) < (MIN_SEAL_MM * px_per_mm) ** 2 * 0.05:
            continue
        soft = np.asarray(cv2.bitwise_or(ink, _ink_mask(planes, color, px_per_mm, _SOFT_SAT,
                                                        _SOFT_NEAR_MM, _SOFT_HUES[color])))
        found = _find_in_mask(ink, soft, px_per_mm, color)
        if not found:
            continue
        for f in found:
            x0, y0, x1, y1 = f.evidence.outline.extent()
            pad = 0.15 * max(x1 - x0, y1 - y0)
            rx0 = max(0, math.floor((x0 - pad) / scale))
            ry0 = max(0, math.floor((y0 - pad) / scale))
            rx1 = min(width, math.ceil((x1 + pad) / scale))
            ry1 = min(height, math.ceil((y1 + pad) / scale))
            roi = _Planes.of(cv2.cvtColor(bgr[ry0:ry1, rx0:rx1], cv2.COLOR_BGR2HSV))
            roi_ink = _ink_mask(roi, color, px_per_mm / scale)
            shifted = _Outline(f.evidence.outline.cx - rx0 * scale,
                               f.evidence.outline.cy - ry0 * scale,
                               f.evidence.outline.a, f.evidence.outline.b,
                               f.evidence.outline.angle, f.evidence.outline.rect)
            box = _refine_box(roi_ink, shifted, scale, rx1 - rx0, ry1 - ry0)
            if (not f.evidence.outline.rect and f.evidence.size_mm < PEN_MAX_MM
                    and _border_width_mm(roi_ink, shifted, scale, px_per_mm / scale)
                    < MIN_RING_MM):
                continue  # a small circle drawn in pen (round a number, in a signature)
            seals.append(Seal(
                box=Box(box.x + rx0, box.y + ry0, box.w, box.h),
                shape=_classify(f.evidence),
                color=color,
                complete=f.complete,
                score=round(float(f.evidence.score), 3),
            ))
    return seals


# Gray pages ----------------------------------------------------------------------------------


def _is_achromatic(hsv: np.ndarray) -> bool:
    """True for a page without coloured ink (a photocopy, a gray scan), from its HSV image."""
    coloured = cv2.inRange(hsv, (0, 60, 60), (180, 255, 255))
    return cv2.countNonZero(coloured) < 0.0005 * coloured.size


@dataclass(frozen=True)
class _Ring:
    """A circle on a gray page and its ring profile (shares of angles with ink at a radius)."""

    cx: float
    cy: float
    r: float
    peak: float  # on the ring line
    width_mm: float
    star: float
    outside: float  # just outside the ring
    inside: float  # in the band where the ring text runs
    visible: float
    score: float
    # An oval: its half axes as multiples of ``r`` (their geometric mean) and the rotation of
    # the first one; a circle has 1, 1, 0.
    a_rel: float = 1.0
    b_rel: float = 1.0
    angle: float = 0.0

    def outline(self, r: float) -> _Outline:
        """The ring's ellipse with ``r`` in place of its mean radius."""
        return _Outline(self.cx, self.cy, self.a_rel * r, self.b_rel * r, self.angle)


_RING_ANGLES = np.linspace(0.0, 2 * np.pi, 240, endpoint=False)
_RING_COS, _RING_SIN = np.cos(_RING_ANGLES)[None, :], np.sin(_RING_ANGLES)[None, :]


_Rays = tuple[np.ndarray, np.ndarray]  # per angle of _RING_ANGLES, x and y of unit radius


def _radial_hits(
    ink: np.ndarray, cx: float, cy: float, radii: np.ndarray, every: int = 1,
    rays: _Rays | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Ink at each radius (rows) and angle of ``_RING_ANGLES[::every]`` (columns); ``rays``
    stretch the circle into an oval."""
    cos, sin = (_RING_COS, _RING_SIN) if rays is None else rays
    cos, sin = cos[:, ::every], sin[:, ::every]
    return _lookup(ink, cx + radii[:, None] * cos, cy + radii[:, None] * sin)


def _oval_rays(a_rel: float, b_rel: float, angle: float) -> _Rays:
    u, v = a_rel * _RING_COS, b_rel * _RING_SIN
    ca, sa = math.cos(angle), math.sin(angle)
    return u * ca - v * sa, u * sa + v * ca


# A faded seal's ring text can show as little as 0.08 more ink than the paper outside it (a
# legal entity's pale seal on a cover with the print taken out, a faint certification body's
# seal on a copy); its star and clean ring line must then carry the score.
_FAINT_TEXT = 0.08


def _ring_at(
    ink: np.ndarray, wide: np.ndarray, cx: float, cy: float, r: float, px_per_mm: float,
    dark: np.ndarray | None = None, oval: _Outline | None = None,
    around: np.ndarray | None = None, max_width_mm: float = 3.0, min_text: float = 0.12,
) -> _Ring | None:
    """Refine a Hough circle on the ink and measure its ring profile. ``dark``: the darker
    ink, when ``ink`` is the fainter one (on a heavy copy the faint ink is solid wherever
    text is dense, a star or not). ``oval``: an oval already fitted to the ring, measured
    as it is (radii are then multiples of its mean half axis). ``around``: the ink the
    profile round the ring line is measured on, when not ``ink`` (the page's print taken
    out, for a ring stamped over print). ``max_width_mm``: the widest ring line taken.
    ``min_text``: how much more ink the ring text's band must hold than the paper outside;
    with a solid star at the centre, a faded seal's sparse ring text (``_FAINT_TEXT``) is
    enough: a pen circle has no star, and the score must still reach its mark."""
    step = 0.5
    rays: _Rays | None = None
    a_rel = b_rel = 1.0
    angle = 0.0
    if oval is None:
        refined = _refine_circle(ink, cx, cy, r)
        if refined is None:
            return None
        cx, cy, r = refined
    else:
        cx, cy, r = oval.cx, oval.cy, math.sqrt(oval.a * oval.b)
        a_rel, b_rel, angle = oval.a / r, oval.b / r, oval.angle
        rays = _oval_rays(a_rel, b_rel, angle)
    radii = np.arange(0.5 * r, 1.32 * r, step)
    ring_zone = (radii >= 0.93 * r) & (radii <= 1.07 * r)
    # The ring line first: most circles Hough finds in text fail there, and the rest of the
    # profile is not needed for them.
    ends = _radial_hits(ink, cx, cy, radii[[0, -1]], rays=rays)[1]
    cols = ends[0] & ends[1]  # the ray is on the page
    if _share(cols) < 0.7:
        return None
    zone_hit, _ = _radial_hits(ink, cx, cy, radii[ring_zone], rays=rays)
    peak_i = int(np.argmax(zone_hit[:, cols].sum(axis=1))) + int(np.argmax(ring_zone))
    line_hit, _ = _radial_hits(wide, cx, cy, radii[peak_i:peak_i + 1], rays=rays)
    if _share(line_hit[0, cols]) < GRAY_MIN_PEAK:
        return None
    hit, valid = _radial_hits(ink if around is None else around, cx, cy, radii, rays=rays)
    cols = valid.all(axis=0)
    visible = _share(cols)
    if visible < 0.7:
        return None
    coverage = hit[:, cols].sum(axis=1) / np.count_nonzero(cols)
    peak_i = int(np.argmax(np.where(ring_zone, coverage, -1.0)))
    r = float(radii[peak_i])
    # The line itself is judged on ink grown by a pixel, which forgives a ring that is not
    # quite round; its surroundings on the ink as it is.
    line_hit, _ = _radial_hits(wide, cx, cy, np.array([r]), rays=rays)
    peak = _share(line_hit[0, cols])
    rel = radii / r
    outside = float(coverage[(rel >= 1.1) & (rel <= 1.3)].mean())
    inside = float(coverage[(rel >= 0.55) & (rel <= 0.85)].mean())
    # The star: solid ink at the centre (page text there is a fifth as dense).
    star = _core(ink, cx, cy, r)
    starred = (star if dark is None else _core(dark, cx, cy, r)) >= 0.65
    width_mm = _ring_width(coverage, peak_i, inside, starred) * step / px_per_mm
    size_mm = 2 * r / px_per_mm
    if (
        peak < GRAY_MIN_PEAK or peak - outside < 0.45
        or inside - outside < (min(min_text, _FAINT_TEXT) if starred or star >= 0.75
                               else min_text)
        or inside > 0.65 or not 0.7 <= width_mm <= max_width_mm
        or not MIN_SEAL_MM <= size_mm <= MAX_SEAL_MM
    ):
        score = 0.0
    else:
        # A stamp adds its own ring text on top of the page's text; a pen circle round a
        # paragraph does not. Its ring is wider than a pen line, and most stamps have a star.
        score = (
            0.25 * _ramp(peak, GRAY_MIN_PEAK, 0.97)
            + 0.15 * _ramp(peak - outside, 0.45, 0.8)
            + 0.20 * _ramp(inside - outside, 0.12, 0.25)
            + 0.10 * _ramp(width_mm, 0.9, 1.5)
            + 0.15 * _ramp(star, 0.3, 0.6)
            + 0.15 * _size_score(size_mm)
        )
    return _Ring(cx, cy, r, peak, width_mm, star, outside, inside, visible, score,
                 a_rel, b_rel, angle)


def _refine_circle(
    ink: np.ndarray, cx: float, cy: float, r: float
) -> tuple[float, float, float] | None:
    """A Hough circle refined twice on the ink: per angle, the ink radius nearest the guess,
    and a circle through those points (every other angle and whole pixels are enough to fit
    it). None when the ring is cut by the page edge (on a gray page the test needs the whole
    ring) or the ink does not bear a circle out."""
    for _ in range(2):
        radii = np.arange(0.85 * r, 1.15 * r, 1.0)
        hit, valid = _radial_hits(ink, cx, cy, radii, 2)
        cols = valid[0] & valid[-1]  # a ray is on the page if both its ends are
        if _share(cols) < 0.7:
            return None
        near = np.where(hit, np.abs(radii - r)[:, None], np.inf)
        ok = hit.any(axis=0) & cols
        if ok.sum() < 30:
            return None
        rr = radii[near.argmin(axis=0)[ok]]
        fit = _circle_through(cx + rr * _RING_COS[0, ::2][ok], cy + rr * _RING_SIN[0, ::2][ok])
        if fit is None or not 0.85 * r <= fit[2] <= 1.15 * r:
            return None
        cx, cy, r = fit
    return cx, cy, r


def _refine_oval(ink: np.ndarray, cx: float, cy: float, r: float,
                 outermost: bool = False) -> _Outline | None:
    """A Hough circle refined into an oval, as ``_refine_circle`` refines it into a circle,
    with an ellipse through the points. Hough puts a circle on an oval between its axes, so
    the ink is looked for further off the guess. None when the ink does not bear out an oval
    within the seal ratios. ``outermost``: at first the ink furthest out on each ray, up to
    1.45 r (Hough's circle can lie on the short axis of a faded oval, whose long axis then
    lies beyond the usual search; the ring is a stamp's outermost ink)."""
    oval = _Outline(cx, cy, r, r, 0.0)
    every = 3  # 80 rays: most Hough circles tried here are text, and fail
    for step in range(3):
        mean_r = math.sqrt(oval.a * oval.b)
        rays = _oval_rays(oval.a / mean_r, oval.b / mean_r, oval.angle)
        wide_first = outermost and step == 0
        radii = np.arange(0.8 * mean_r, (1.45 if wide_first else 1.2) * mean_r, 1.0)
        hit, valid = _radial_hits(ink, oval.cx, oval.cy, radii, every, rays)
        cols = valid[0] & valid[-1]
        if _share(cols) < 0.7:
            return None
        near = np.where(hit, (-radii if wide_first else np.abs(radii - mean_r))[:, None], np.inf)
        ok = hit.any(axis=0) & cols
        if ok.sum() < 20:
            return None
        rr = radii[near.argmin(axis=0)[ok]]
        ux, uy = rays[0][0, ::every][ok], rays[1][0, ::every][ok]
        pts = np.stack([oval.cx + rr * ux, oval.cy + rr * uy], 1)
        (fx, fy), (w, h), deg = cv2.fitEllipse(pts.astype(np.float32))
        if min(w, h) <= 0:
            return None
        # Text and table rules next to the ring pull a least-squares fit off it: fitted
        # again on the points near the first fit.
        near_fit = np.abs(_ellipse_rho(pts, _Outline(fx, fy, w / 2, h / 2,
                                                      math.radians(deg))) - 1.0) < 0.06
        if near_fit.sum() >= 20:
            (fx, fy), (w, h), deg = cv2.fitEllipse(pts[near_fit].astype(np.float32))
        if not _oval_ratio(w, h):
            return None
        if step == 0 and max(w, h) < 1.03 * min(w, h):
            return None  # round text or a round ring: the first fit already stretches an oval
        oval = _Outline(fx, fy, w / 2, h / 2, math.radians(deg))
        if not 0.8 * r <= math.sqrt(oval.a * oval.b) <= (1.4 if outermost else 1.25) * r:
            return None
    return oval


_POLISH_STEPS = np.array([[1, 0, 0, 0, 0], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0], [0, 0, 0, 1, 0],
                          [0, 0, 0, 0, 0.025]], float)
_POLISH_STEPS = np.vstack([_POLISH_STEPS, -_POLISH_STEPS])


def _polish_oval(wide: np.ndarray, oval: _Outline) -> _Outline:
    """The oval moved, stretched and turned, a pixel or a few at a time, while more of it lies
    on the ink. A fit to the ink nearest a guess settles partly on the ring text just inside
    the ring; the ring is the one unbroken line."""
    params = np.array([oval.cx, oval.cy, oval.a, oval.b, oval.angle], float)
    cos, sin = _RING_COS[0, ::2], _RING_SIN[0, ::2]

    def cover(ps: np.ndarray) -> np.ndarray:
        u, v = ps[:, 2:3] * cos, ps[:, 3:4] * sin
        ca, sa = np.cos(ps[:, 4:5]), np.sin(ps[:, 4:5])
        hit, _ = _lookup(wide, ps[:, 0:1] + u * ca - v * sa, ps[:, 1:2] + u * sa + v * ca)
        return np.asarray(hit.mean(axis=1))

    best = float(cover(params[None])[0])
    step = 4.0
    for _ in range(40):
        tries = params + step * _POLISH_STEPS
        got = cover(tries)
        i = int(np.argmax(got))
        if got[i] > best:
            params, best = tries[i], float(got[i])
        elif step > 1.0:
            step /= 2
        else:
            break
    cx, cy, a, b, angle = (float(v) for v in params)
    return _Outline(cx, cy, a, b, angle)


def _core(ink: np.ndarray, cx: float, cy: float, r: float) -> float:
    """Share of ink in the square of side 0.4 r round the centre (where a seal's star is)."""
    cy_i, cx_i, k = round(cy), round(cx), max(1, round(0.2 * r))
    core = ink[max(0, cy_i - k):cy_i + k + 1, max(0, cx_i - k):cx_i + k + 1]
    return float(core.mean() / 255) if core.size else 0.0


def _core_near(ink: np.ndarray, cx: float, cy: float, r: float) -> float:
    """The most ink ``_core`` sees round (cx, cy) moved by up to a fifth of ``r`` each way:
    over print, Hough's centre for an oval can lie millimetres off its star."""
    d = 0.2 * r
    return max(_core(ink, cx + dx, cy + dy, r) for dx in (-d, 0.0, d) for dy in (-d, 0.0, d))


def _ring_width(coverage: np.ndarray, peak_i: int, inside: float, starred: bool) -> int:
    """How many radii (profile steps) the ring line spans round its peak: those inked on at
    least half as many angles as the peak. A stamp's ring is 1-1.5 mm wide, a pen line drawn
    round a paragraph half that. Inwards the ring text of a stamp with a star can run into the
    ring (a blurred copy, text printed under the seal): there a radius counts only when it is
    inked well above the text band's level (``inside``). A pen circle has no star (in the
    darker ink); its line is measured as it is."""
    strong = coverage >= 0.5 * coverage[peak_i]
    ring_in = strong
    if starred:
        ring_in = coverage >= max(0.5 * coverage[peak_i], (coverage[peak_i] + inside) / 2)
    lo = hi = peak_i
    while lo > 0 and ring_in[lo - 1]:
        lo -= 1
    while hi < len(strong) - 1 and strong[hi + 1]:
        hi += 1
    return hi - lo + 1


def _has_star(ring: _Ring, ink: np.ndarray) -> bool:
    """Whether a ring found on the page has a seal's star at its centre: solid ink in the core,
    with paper round it (between the star's points, before the ring text). A pen circle drawn
    round a bold title or round text lines has the page's print there instead, as dense round
    the core as in it (0.45-0.58 of the core inked, 0.23-0.31 more than round it), or nothing.
    A round seal's star inks 0.6 of the core or more, 0.35 or more above its surroundings; an
    oval seal's smaller star 0.35 or more, 0.2 above them."""
    radii = np.arange(0.28 * ring.r, 0.45 * ring.r, 0.5)
    hit, valid = _radial_hits(ink, ring.cx, ring.cy, radii,
                              rays=_oval_rays(ring.a_rel, ring.b_rel, ring.angle))
    cols = valid.all(axis=0)
    gap = ring.star - (float(hit[:, cols].mean()) if cols.any() else 0.0)
    if ring.a_rel != ring.b_rel:
        return ring.star >= 0.3 or gap >= 0.1
    return ring.star >= 0.6 or gap >= 0.33


def _gray_ring(
    ink: np.ndarray, wide: np.ndarray, faint: np.ndarray, faint_wide: np.ndarray, x: float,
    y: float, r: float, px_per_mm: float,
) -> _Ring | None:
    """The ring a Hough circle stands for, judged on the ink, then (a faded seal) on the
    fainter ink; None if neither bears one out."""
    tried: list[_Ring] = []
    for attempt in range(2):
        for mask, grown in ((ink, wide), (faint, faint_wide)):
            ring = _ring_at(mask, grown, x, y, r, px_per_mm, ink)
            if ring is not None and ring.score >= GRAY_MIN_SCORE and _has_star(ring, ink):
                return ring
            if ring is not None:
                tried.append(ring)
        # Where blurred ring text runs into the ring, the refined circle can settle on the
        # text's outer edge, a little inside the ring and off its centre. A seal's star at
        # the centre says the ring is there: look again a little further out.
        starred = [t for t in tried if t.star >= 0.45 and t.peak >= GRAY_MIN_PEAK]
        if attempt or not starred:
            break
        best = max(starred, key=lambda t: t.star)
        x, y, r = best.cx, best.cy, 1.1 * best.r
    return None


def _gray_oval(
    ink: np.ndarray, wide: np.ndarray, faint: np.ndarray, faint_wide: np.ndarray, x0: float,
    y0: float, r0: float, px_per_mm: float,
) -> _Ring | None:
    """The oval ring a Hough circle that bore out no round ring stands for, judged as
    ``_gray_ring`` judges a circle; None if there is none. On an oval seal (a legal entity's,
    often) Hough's circle lies between its axes, on neither the ring nor its text."""
    # The ink first; a faded seal's ring shows whole only in the fainter ink.
    for fit_mask, fit_grown, outermost in ((ink, wide, False), (faint, faint_wide, True)):
        oval = _refine_oval(fit_mask, x0, y0, r0, outermost)
        if oval is None or max(oval.a, oval.b) < OVAL_MIN_RATIO * min(oval.a, oval.b):
            continue
        for polished in _polished_ovals(fit_grown, oval):
            if max(polished.a, polished.b) < OVAL_MIN_RATIO * min(polished.a, polished.b):
                continue
            for mask, grown in ((ink, wide), (faint, faint_wide)):
                ring = _ring_at(mask, grown, x0, y0, r0, px_per_mm, ink, polished)
                if ring is not None and ring.score >= GRAY_MIN_SCORE and _has_star(ring, ink):
                    return ring
    return None


def _polished_ovals(wide: np.ndarray, oval: _Outline) -> Iterator[_Outline]:
    """The fitted oval polished, then (if that one fails) polished again from 6 % further
    out: an oval seal has a thin second line about 1.5 mm inside its ring, and a fit to the
    ink nearest Hough's guess can settle on it, or partly on it."""
    yield _polish_oval(wide, oval)
    yield _polish_oval(wide, replace(oval, a=1.06 * oval.a, b=1.06 * oval.b))


# Hough's circle on an oval seal (40 x 30 to 45 x 30 mm) lies between its axes.
_OVAL_HOUGH_MM = (25, 47)


def _hough_rings(
    small: np.ndarray, ink: np.ndarray, wide: np.ndarray, faint: np.ndarray,
    faint_wide: np.ndarray, px_per_mm: float,
) -> list[_Ring]:
    """The rings, round and oval, that Hough circles on the gray page stand for."""
    # Hough on a further halved, smoothed image: the ring is the strongest circular edge there.
    half = cv2.GaussianBlur(cv2.resize(small, (small.shape[1] // 2, small.shape[0] // 2),
                                       interpolation=cv2.INTER_AREA), (5, 5), 1.2)
    hp = px_per_mm * half.shape[1] / small.shape[1]
    f = small.shape[1] / half.shape[1]
    rings: list[_Ring] = []
    not_round: list[tuple[float, float, float]] = []  # Hough circles of an oval seal's size
    # One Hough search per size band, so a ring of the common size is not crowded out by the
    # larger circles that text around it suggests.
    for lo_mm, hi_mm in ((15, 25), (25, 35), (35, 47), (47, 60)):
        circles = cv2.HoughCircles(
            half, cv2.HOUGH_GRADIENT, dp=1, minDist=3 * hp, param1=80, param2=20,
            minRadius=round(lo_mm / 2 * hp), maxRadius=round(hi_mm / 2 * hp),
        )
        if circles is None:
            continue
        for cx, cy, r in circles[0][:GRAY_CANDIDATES]:
            ring = _gray_ring(ink, wide, faint, faint_wide, float(cx) * f, float(cy) * f,
                              float(r) * f, px_per_mm)
            if ring is not None:
                rings.append(ring)
            elif _OVAL_HOUGH_MM[0] <= lo_mm and hi_mm <= _OVAL_HOUGH_MM[1]:
                not_round.append((float(cx) * f, float(cy) * f, float(r) * f))
    # Ovals last, and not inside a round seal found already: most circles Hough finds round
    # a seal's centre are that seal.
    round_rings = list(rings)
    for x, y, r in not_round:
        if not any(math.hypot(x - g.cx, y - g.cy) < g.r for g in round_rings):
            ring = _gray_oval(ink, wide, faint, faint_wide, x, y, r, px_per_mm)
            rings += [ring] if ring is not None else []
    return rings


_PRINT_LEVEL = 0.2  # black print: darker than this share of the paper (seal ink is lighter)


def _print_mask(gray: np.ndarray, dpi: int, small: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """Where the page's black print lies, at the detection resolution: strokes darker than a
    fifth of the paper, with their grey edges. Told apart at about 6 px/mm, where a 0.4 mm
    stroke still has a black core; at the detection resolution it blurs to a seal's grey."""
    level = _PRINT_LEVEL * _median(paper)
    dark = np.asarray(cv2.threshold(gray, level, 255, cv2.THRESH_BINARY_INV)[1])
    k = max(1, round(dpi / 150))
    if k > 1:
        dark = _any_in_blocks(dark, k)
    dark = cv2.dilate(dark, np.ones((3, 3), np.uint8))
    # A detection pixel with a sixth of it under print is print: its grey is the print's.
    share = cv2.resize(dark, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.threshold(share, 40, 255, cv2.THRESH_BINARY)[1])


def _any_in_blocks(mask: np.ndarray, k: int) -> np.ndarray:
    """A 0/255 mask shrunk k times, set where it is set anywhere in the k x k block that
    starts k // 2 pixels up and left of (k i, k j): print anywhere in the block, as a k x k
    dilation read at every k-th pixel has it. An area shrink by a whole factor is non-zero
    exactly there, at a fraction of the cost of dilating the whole page."""
    h, w = mask.shape[0] // k, mask.shape[1] // k
    a = k // 2
    shifted = cv2.copyMakeBorder(mask, a, 0, a, 0, cv2.BORDER_CONSTANT, value=0)
    mean = cv2.resize(shifted[:h * k, :w * k], (w, h), interpolation=cv2.INTER_AREA)
    return np.asarray(cv2.threshold(mean, 0, 255, cv2.THRESH_BINARY)[1])


def _median(image: np.ndarray) -> float:
    """``np.median`` of a uint8 image, read off its histogram (a partial sort of the page
    costs several times as much): of an even count, the mean of the two middle values."""
    counts = np.cumsum(cv2.calcHist([image], [0], None, [256], [0, 256]).ravel().astype(np.int64))
    low = int(np.searchsorted(counts, (image.size - 1) // 2, side="right"))
    high = int(np.searchsorted(counts, image.size // 2, side="right"))
    return (low + high) / 2


def _rings_over_print(
    small: np.ndarray, ink: np.ndarray, faint: np.ndarray, faint_wide: np.ndarray,
    dark: np.ndarray, px_per_mm: float, found: list[_Ring],
) -> list[_Ring]:
    """Oval rings stamped over print, searched again with the black print (``dark``) taken
    out of the page and of the profile round the ring, away from rings found. Over a cover's
    table the rows of 5 mm print are as dense round the ring as its ring text is, and Hough
    finds no circle near the oval's centre; on a certificate copy the page's print and a chop
    across the oval pull its fit off the ring. The ring line itself is judged on the faint
    ink as it is (it runs on through the print)."""
    clean = np.asarray(cv2.bitwise_and(faint, cv2.bitwise_not(dark)))
    clean_ink = np.asarray(cv2.bitwise_and(ink, cv2.bitwise_not(dark)))
    blank = cv2.bitwise_not(clean)  # the seals' ink alone, black on white
    half = cv2.GaussianBlur(cv2.resize(blank, (small.shape[1] // 2, small.shape[0] // 2),
                                       interpolation=cv2.INTER_AREA), (5, 5), 1.2)
    hp = px_per_mm * half.shape[1] / small.shape[1]
    f = small.shape[1] / half.shape[1]
    # Little is left on such a page to suggest circles, and a ring broken where print crossed
    # it gathers fewer votes: a lower vote threshold than on the page.
    circles = cv2.HoughCircles(
        half, cv2.HOUGH_GRADIENT, dp=1, minDist=3 * hp, param1=80, param2=15,
        minRadius=round(_OVAL_HOUGH_MM[0] / 2 * hp), maxRadius=round(_OVAL_HOUGH_MM[1] / 2 * hp),
    )
    rings: list[_Ring] = []
    if circles is None:
        return rings
    for hx, hy, hr in circles[0][:GRAY_CANDIDATES]:
        x, y, r = float(hx) * f, float(hy) * f, float(hr) * f
        if any(math.hypot(x - g.cx, y - g.cy) < g.r for g in (*found, *rings)):
            continue
        if _core_near(clean, x, y, r) < 0.08:
            continue  # no star near the centre
        ring = _oval_over_print(faint, faint_wide, (clean, clean_ink), x, y, r, px_per_mm)
        # With the print gone, a pen loop round a patch of mottled paper can show "text"
        # inside it too, and ink all over its centre; an oval seal has its star there (0.37-0.62
        # of the core seen), which leaves paper between its points.
        if ring is not None and ring.score >= GRAY_MIN_SCORE and 0.35 <= ring.star <= 0.85:
            rings.append(ring)
    return rings


def _oval_over_print(
    faint: np.ndarray, faint_wide: np.ndarray, cleaned: tuple[np.ndarray, np.ndarray],
    x: float, y: float, r: float, px_per_mm: float,
) -> _Ring | None:
    """The oval ring round a Hough circle on the print-free ink: fitted to its outermost ink,
    the faint ink first, then the ink (a heavy copy's mottled paper is faint ink), as fitted
    and 5 % out (the fit can lie on the oval's inner line). Its ring may measure up to 4 mm:
    an oval seal's ring and inner line run together on a blurred copy."""
    clean = cleaned[0]
    ring = None
    for oval in _over_print_fits(cleaned, x, y, r, px_per_mm):
        if oval is None or max(oval.a, oval.b) < OVAL_MIN_RATIO * min(oval.a, oval.b):
            continue
        for grown in (oval, replace(oval, a=1.05 * oval.a, b=1.05 * oval.b)):
            ring = _ring_at(faint, faint_wide, x, y, r, px_per_mm, clean, grown, clean, 4.0,
                            _FAINT_TEXT)
            if ring is not None and ring.score >= GRAY_MIN_SCORE:
                return ring
    return ring


_TRACED_MAX_MM = (34.0, 50.0)  # an oval traced over print: its largest short and long axes


def _over_print_fits(
    cleaned: tuple[np.ndarray, np.ndarray], x: float, y: float, r: float, px_per_mm: float,
) -> Iterator[_Outline | None]:
    """Ovals to try round a Hough circle over print, cheapest first: fitted to the outermost
    faint ink and ink, then (where print beside the ring is the outermost ink) traced along
    the ring and polished on it. A traced line can be any long line of print (a certificate's
    frame), so a traced oval must have an oval seal's size: 40 x 30 or 45 x 30 mm (GA 241),
    not much more."""
    for fit_mask in cleaned:
        yield _outermost_oval(fit_mask, x, y, r)
    traced = _traced_oval(cleaned[0], x, y, r, (_TRACED_MAX_MM[1] / 2 + 1) * px_per_mm)
    if traced is None:
        return
    oval = _polish_oval(cleaned[0], traced)
    if min(oval.a, oval.b) <= _TRACED_MAX_MM[0] / 2 * px_per_mm \
            and max(oval.a, oval.b) <= _TRACED_MAX_MM[1] / 2 * px_per_mm:
        yield oval


def _traced_oval(
    ink: np.ndarray, cx: float, cy: float, r: float, reach: float = 0.0,
) -> _Outline | None:
    """The ellipse through the ring traced round a Hough circle: in polar coordinates about
    its centre, the path across all angles (moving at most 2 px from one angle to the next)
    that stays on the most ink, with a bonus for paper just outside. Where print lies beside
    the ring (a line of text below it, a chop's text) the outermost ink is the print's; the
    ring is the one line that runs on round the whole seal. The path is looked for from half
    Hough's radius out to 1.45 of it, or to ``reach`` if that is further: on an oval seal
    Hough's circle can be 40 % smaller than the oval's long axis."""
    every = 2
    radii = np.arange(0.5 * r, max(1.45 * r, reach), 1.0)
    hit, valid = _radial_hits(ink, cx, cy, radii, every)
    if _share(valid.all(axis=0)) < 0.7:
        return None
    edge = hit.copy()
    edge[:-2] &= ~hit[2:]
    gain = hit + 0.5 * edge
    n = len(radii)
    # Each radius is reached from the best of the five radii within 2 px at the last angle
    # (on a tie, the outermost): window k of the padded totals holds radii k + 2 .. k - 2.
    cost = 0.1 * np.abs(np.arange(-2, 3))
    index = np.arange(n)
    padded = np.full(n + 4, -np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(padded, 5)[:, ::-1]  # follows padded
    total = gain[:, 0].astype(np.float64)
    back = np.zeros(gain.shape, np.intp)
    for a in range(1, gain.shape[1]):
        padded[2:-2] = total
        came = windows - cost
        best = came.argmax(axis=1)
        back[:, a] = index + 2 - best
        total = came[index, best] + gain[:, a]
    path = np.empty(gain.shape[1], np.intp)
    path[-1] = int(np.argmax(total))
    for a in range(gain.shape[1] - 1, 0, -1):
        path[a - 1] = back[path[a], a]
    on = hit[path, np.arange(gain.shape[1])]
    if _share(on) < 0.6:
        return None
    rr = radii[path][on]
    pts = np.stack([cx + rr * _RING_COS[0, ::every][on], cy + rr * _RING_SIN[0, ::every][on]],
                   1).astype(np.float32)
    fit = _fit_ellipse(pts)
    agree = np.abs(_ellipse_rho(pts, fit) - 1.0) < 0.06
    if agree.sum() < 0.5 * len(pts):
        return None
    fit = _fit_ellipse(pts[agree])
    return fit if _oval_ratio(fit.a, fit.b) else None


def _outermost_oval(ink: np.ndarray, cx: float, cy: float, r: float) -> _Outline | None:
    """The ellipse through most of the outermost ink points round a Hough circle (a seal's
    ring is its outermost ink), fitted on samples of six and refitted on the points that
    agree with the best: print left on the page beside the ring pulls a least-squares fit."""
    every = 3
    radii = np.arange(0.75 * r, 1.3 * r, 1.0)
    hit, valid = _radial_hits(ink, cx, cy, radii, every)
    ok = hit.any(axis=0) & valid[0] & valid[-1]
    if ok.sum() < 40:
        return None
    rr = radii[len(radii) - 1 - hit[::-1].argmax(axis=0)[ok]]
    pts = np.stack([cx + rr * _RING_COS[0, ::every][ok], cy + rr * _RING_SIN[0, ::every][ok]],
                   1).astype(np.float32)
    agree = _ransac_agreement(pts)
    if agree is None or np.count_nonzero(agree) < 0.45 * hit.shape[1]:
        return None
    fit = _fit_ellipse(pts[agree])
    return fit if _oval_ratio(fit.a, fit.b) else None


def _oval_ratio(a: float, b: float) -> bool:
    """Whether half axes ``a`` and ``b`` make an oval a seal can be (not flat, not too long)."""
    return min(a, b) > 0 and max(a, b) <= MAX_OVAL_RATIO * min(a, b)


_RANSAC_TRIES = 60


@functools.cache
def _ransac_samples(n: int) -> np.ndarray:
    """The indices of ``_RANSAC_TRIES`` samples of six of ``n`` points, each without
    repeats: the same for every search (the same page gives the same seals), so drawn once
    per ``n`` (drawing them cost as much as fitting them)."""
    rng = np.random.default_rng(0)
    samples = np.array([rng.choice(n, 6, replace=False) for _ in range(_RANSAC_TRIES)])
    samples.setflags(write=False)  # shared by every search
    return samples


def _ransac_agreement(pts: np.ndarray) -> np.ndarray | None:
    """Which of ``pts`` (float32) agree within 5 % with the oval fitted to a sample of six
    that most of them agree with; None if no sample gives an oval. The samples are fitted
    first and all their agreements measured at once: one at a time, the measuring cost
    more than the fits. The first of equally good fits wins, as one at a time."""
    fits = [cv2.fitEllipse(sample) for sample in pts[_ransac_samples(len(pts))]]
    ovals = [(fx, fy, w / 2, h / 2, math.radians(deg)) for (fx, fy), (w, h), deg in fits]
    ovals = [o for o in ovals if _oval_ratio(o[2], o[3])]
    if not ovals:
        return None
    # The arithmetic of _ellipse_rho, in float32 as there, for every oval in one go.
    ex, ey, ea, eb, angle = np.array(ovals, np.float64).T
    c = np.array([math.cos(t) for t in angle], np.float32)[:, None]
    s = np.array([math.sin(t) for t in angle], np.float32)[:, None]
    dx = pts[None, :, 0] - ex.astype(np.float32)[:, None]
    dy = pts[None, :, 1] - ey.astype(np.float32)[:, None]
    u, v = dx * c + dy * s, -dx * s + dy * c
    rho = np.sqrt((u / ea.astype(np.float32)[:, None]) ** 2
                  + (v / eb.astype(np.float32)[:, None]) ** 2)
    agree = np.abs(rho - 1.0) < 0.05
    counts = np.count_nonzero(agree, axis=1)
    best = int(np.argmax(counts))
    return agree[best] if counts[best] > 0 else None


_WHITE = 250  # a block of the page this white throughout is a white patch (or white paper)
_WHITE_BLOCK_MM = 2.0


def _without_white_patches(small: np.ndarray, px_per_mm: float) -> np.ndarray:
    """The page with its white patches brought down to the level of the paper round them.

    The paper level is a local maximum, which takes up anything brighter than the paper near
    it. On a gray copy, a patch whiter than the page (correction fluid, a label, a pasted
    slip) would make the paper round it all "ink", and a pen circle over its corner a seal
    with a star. A patch is a run of 2 mm blocks white throughout (scan noise leaves no such
    block on gray paper); each is given the brightest level of the blocks round it. Where
    the paper itself is white, the page is left as it is."""
    b = max(2, round(_WHITE_BLOCK_MM * px_per_mm))
    h, w = small.shape[0] // b, small.shape[1] // b
    whites = cv2.threshold(small, _WHITE - 1, 255, cv2.THRESH_BINARY)[1]
    if not h or not w or cv2.countNonZero(whites) < b * b:
        return small
    # Each block's least and brightest pixel: the filter's value at the block's centre (the
    # kernel's anchor is its centre, so a b x b kernel there spans the block).
    kernel = np.ones((b, b), np.uint8)
    at = np.s_[b // 2:h * b:b, b // 2:w * b:b]
    white = cv2.erode(small, kernel)[at] >= _WHITE
    if not white.any() or white.all():
        return small
    brightest = np.ascontiguousarray(cv2.dilate(small, kernel)[at])
    if float(np.median(brightest[~white])) >= _WHITE:
        return small  # white paper: a white patch is paper
    # The blocks along a patch's edge are part paper, part patch: their brightest is the
    # patch's, so the level is carried in from one block further out, and only their white
    # pixels are brought down.
    edged = cv2.dilate(white.astype(np.uint8), np.ones((3, 3), np.uint8))
    level = cv2.inpaint(brightest, edged, 2, cv2.INPAINT_TELEA)
    grid = np.ascontiguousarray(small[:h * b, :w * b])
    cells = grid.reshape(h, b, w, b).transpose(0, 2, 1, 3)  # a view of grid
    patch = edged.astype(bool)
    cells[patch] = np.where(cells[patch] >= _WHITE, level[patch][:, None, None], cells[patch])
    out = small.copy()
    out[:h * b, :w * b] = grid
    return out


def _gray_seals(gray: np.ndarray, dpi: int) -> list[Seal]:
    """Seals on a page without colour: Hough circles kept only when their ring profile shows a
    dense line at the radius, text inside it and less ink just outside than on it. Seals cut by
    the page edge are not looked for: half a ring in a page of gray text proves too little."""
    height, width = gray.shape[:2]
    small, scale = _downscale(gray, GRAY_PX_PER_MM * 25.4 / dpi)
    px_per_mm = dpi * scale / 25.4
    if min(small.shape[:2]) < MIN_SEAL_MM * px_per_mm:
        return []  # an image smaller than the smallest seal holds none
    # Ink is what is clearly darker than the paper around it: photocopies and scans light the
    # page unevenly, so the paper level is the local maximum over a window wider than a
    # character (and than a seal's star), smoothed.
    k = round(13 * px_per_mm) | 1
    paper = cv2.blur(cv2.dilate(_without_white_patches(small, px_per_mm),
                                cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))), (k, k))
    darker = np.asarray(cv2.subtract(paper, small))
    ink = np.asarray(cv2.threshold(darker, GRAY_INK, 255, cv2.THRESH_BINARY)[1])
    wide = cv2.dilate(ink, np.ones((3, 3), np.uint8))
    faint = np.asarray(cv2.threshold(darker, GRAY_FAINT_INK, 255, cv2.THRESH_BINARY)[1])
    faint_wide = cv2.dilate(faint, np.ones((3, 3), np.uint8))
    rings = _hough_rings(small, ink, wide, faint, faint_wide, px_per_mm)
    rings += _rings_over_print(small, ink, faint, faint_wide,
                               _print_mask(gray, dpi, small, paper), px_per_mm, rings)
    seals: list[Seal] = []
    kept: list[_Ring] = []
    for ring in sorted(rings, key=lambda g: -g.score):
        if any(math.hypot(ring.cx - k.cx, ring.cy - k.cy) < 0.7 * max(ring.r, k.r) for k in kept):
            continue
        kept.append(ring)
        # The profile's peak is the middle of the ring line; the seal ends at its outer edge.
        outline = ring.outline(ring.r + 0.5 * ring.width_mm * px_per_mm)
        x0, y0, x1, y1 = outline.extent()
        complete = bool(x0 >= 0 and y0 >= 0 and x1 < small.shape[1] and y1 < small.shape[0])
        round_ = ring.a_rel == ring.b_rel
        seals.append(Seal(box=_refine_box(None, outline, scale, width, height),
                          shape=SealShape.ROUND if round_ else SealShape.OVAL, color="gray",
                          complete=complete, score=round(float(ring.score), 3)))
    ring_outlines = [r.outline(r.r) for r in kept]
    # Where a seal lies over a chop, the chop's surroundings cannot be seen: the paper round
    # its frame is judged without the seals' disks.
    covered = np.zeros_like(ink)
    for ring in kept:
        outer = ring.r + (0.5 * ring.width_mm + 0.5) * px_per_mm
        if ring.a_rel == ring.b_rel:
            cv2.circle(covered, (round(ring.cx), round(ring.cy)), round(outer), 255, -1)
        else:
            ring.outline(outer).draw(covered)
    # Faded chops, like faded rings, come out of a photocopy light gray: the fainter ink is
    # searched too, for frames the ink did not show.
    loops = (_Loops.of(ink, px_per_mm), _Loops.of(faint, px_per_mm))
    frames, seen = _gray_frames(loops[0], px_per_mm, ring_outlines, covered)
    frames = _with_frames(frames, _gray_frames(loops[1], px_per_mm, ring_outlines, covered,
                                               seen)[0])
    frames += _chops_under_squares(loops, px_per_mm, ring_outlines, covered, frames)
    framed: list[_Outline] = []
    # Largest first: the stretch of a chop between a ring over it and the chop's far end is
    # framed too (by the ring), and lies within the whole chop.
    for frame in sorted(frames, key=lambda f: -f.outline.a * f.outline.b):
        if any(_same_stamp(frame.outline, circle) for circle in ring_outlines):
            continue  # a square seal's frame round a ring already found, or a ring's chords
        if any(_share_inside(frame.outline, t) >= 0.7 for t in framed):
            continue
        framed.append(frame.outline)
        box = _refine_box(None, frame.outline, scale, width, height)
        seals.append(Seal(box=box, shape=_classify(frame), color="gray", complete=True,
                          score=round(float(frame.score), 3)))
    return seals


def _chops_under_squares(
    loops: tuple[_Loops, _Loops], px_per_mm: float, rings: list[_Outline],
    covered: np.ndarray, frames: list[_Evidence],
) -> list[_Evidence]:
    """Frames found, on the ink and then on the fainter ink, once the square seals' areas are
    left out too, as the rings' are: a square stamped over a chop's end inks the paper round
    the chop as a ring does. Only the ink that meets a square is searched again."""
    squares = [f.outline for f in frames if _classify(f) is SealShape.SQUARE]
    if not squares:
        return []
    more = covered.copy()
    for square in squares:
        square.draw(more, 1.05)
    new: list[_Evidence] = []
    seen = None
    for loop in loops:
        found, seen = _gray_frames(loop, px_per_mm, rings, more, seen, squares)
        new = _with_frames(new, [f for f in found
                                 if not any(_same_stamp(f.outline, g.outline) for g in frames)])
    return new


def _with_frames(frames: list[_Evidence], more: list[_Evidence]) -> list[_Evidence]:
    """``frames`` and those of ``more`` that are other stamps, or the whole of a chop of which
    one of ``frames`` is only the part beside a seal (``_replaces``): the darker ink can show
    only that part, the fainter ink the whole chop."""
    out = list(frames)
    for f in more:
        same = [k for k, g in enumerate(out) if _same_stamp(f.outline, g.outline)]
        if not same:
            out.append(f)
        elif len(same) == 1 and _replaces(f.outline, out[same[0]]):
            out[same[0]] = f
    return out


def _replaces(outline: _Outline, frame: _Evidence) -> bool:
    """Whether ``outline`` is the whole of a chop of which ``frame`` is the part beside a seal
    over its end: it holds most of that frame and is at least 1.3 times its area."""
    held, whole = frame.outline, outline
    return frame.visible < 1.0 and _share_inside(held, whole) >= 0.8 \
        and whole.a * whole.b >= 1.3 * held.a * held.b


_FRAME_MM = (10.0, 45.0)  # a frame's shorter side: 复印件与原件一致 chops ~15 mm, square seals


@dataclass
class _Loops:
    """An ink mask as the frame search sees it: its thick ink (strokes thinner than ~1 mm
    taken away: text, table rules), that grown by a pixel, and the bounding boxes of the
    grown ink's loops that enclose paper, with their Hough segments once looked for: the
    search is made again on the same masks once square seals are found
    (``_chops_under_squares``), and reads all of this again."""

    ink: np.ndarray
    thick: np.ndarray
    wide: np.ndarray
    boxes: list[tuple[int, int, int, int]]
    segments: dict[int, np.ndarray | None] = field(default_factory=dict)

    @classmethod
    def of(cls, ink: np.ndarray, px_per_mm: float) -> _Loops:
        thick = cv2.morphologyEx(ink, cv2.MORPH_OPEN,
                                 cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
        wide = cv2.dilate(thick, np.ones((3, 3), np.uint8))
        # The ink is grown by a pixel first (a 1 mm frame is 3 px here, and blotchy ink breaks
        # it in places), and every component's outer boundary is taken: a chop inside a
        # certificate's printed frame is one too.
        contours, hierarchy = cv2.findContours(wide, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
        links = hierarchy[0] if hierarchy is not None else np.zeros((0, 4), np.int32)
        # A frame encloses paper: its loop has a hole several millimetres across, which a bold
        # character or a smudge of text does not.
        hole = np.zeros(len(contours))
        for i in np.nonzero(links[:, 3] >= 0)[0].tolist():
            _, _, hw, hh = _bounding(contours[i])
            hole[links[i, 3]] = max(hole[links[i, 3]], min(hw, hh))
        boxes = [_bounding(contours[i]) for i in range(len(contours))
                 if links[i, 3] < 0 and hole[i] >= 4 * px_per_mm]  # not a hole itself
        return cls(ink, thick, wide, boxes)

    def lines(self, k: int, px_per_mm: float) -> np.ndarray | None:
        """The Hough segments (x0, y0, x1, y1 in the page) of loop ``k``'s box, if any."""
        if k not in self.segments:
            x, y, w, h = self.boxes[k]
            lines = cv2.HoughLinesP(self.wide[y:y + h, x:x + w], 1, np.pi / 180,
                                    threshold=round(8 * px_per_mm),
                                    minLineLength=round(10 * px_per_mm),
                                    maxLineGap=round(px_per_mm))
            self.segments[k] = None if lines is None else (
                lines.reshape(-1, 4).astype(np.float64) + np.array([x, y, x, y], np.float64))
        return self.segments[k]


def _gray_frames(
    loops: _Loops, px_per_mm: float, rings: list[_Outline], covered: np.ndarray,
    seen: np.ndarray | None = None, near: list[_Outline] | None = None,
) -> tuple[list[_Evidence], np.ndarray]:
    """Rectangular stamps on a gray page (复印件与原件一致 chops, square seals): a frame of two
    long parallel lines about 1 mm thick, closed by two sides, with text inside it and clear
    paper just outside. Lines are found on the thick ink (``_Loops``), so only frames, rings
    and bold headings are left to pair up.

    Returns the frames and that thick ink. ``rings``: round seals found; a loop that is one of
    them alone is not searched (Hough sees its ring as many chords, in parallel pairs);
    ``covered``: their disks, left out where the paper round a frame is looked at.
    ``seen``: the thick ink of a search already made on darker ink; places mostly seen there
    are not searched again. ``near``: only loops that overlap one of these are searched.
    """
    ink, thick, wide = loops.ink, loops.thick, loops.wide
    uncovered = cv2.bitwise_not(covered)
    # The lines that run on past a frame's corners are looked for a millimetre further from
    # the seals: a seal's ring, on fainter ink, is wider than on the ink it was measured on,
    # and its edge would run on from the corner of a chop it lies over.
    k = 2 * round(px_per_mm) + 1
    clear = cv2.bitwise_not(cv2.dilate(covered, np.ones((k, k), np.uint8)))
    bare = _Bare(np.asarray(cv2.bitwise_and(ink, uncovered)),
                 np.asarray(cv2.bitwise_and(wide, clear)), covered)
    # A frame is one connected loop of thick ink at least as tall as a chop (with a seal's
    # ring when one overlaps it); lines are looked for in each such loop on its own, which
    # keeps the Hough transform off the rest of the page.
    lo_px, hi_px = 0.6 * _FRAME_MM[0] * px_per_mm, 2 * MAX_SEAL_MM * px_per_mm
    found: list[_Evidence] = []
    for i, (x, y, w, h) in enumerate(loops.boxes):
        if min(w, h) < lo_px or max(w, h) > hi_px or _within_ring(x, y, w, h, rings):
            continue
        if near is not None and not any(_boxes_meet((x, y, x + w, y + h), o.extent())
                                        for o in near):
            continue
        if seen is not None and _mostly_seen(seen, thick, uncovered, (x, y, w, h)):
            continue
        segs = loops.lines(i, px_per_mm)
        if segs is not None:
            found += _frames_in(segs, ink, wide, bare, px_per_mm, found)
    return found, thick


def _mostly_seen(seen: np.ndarray, thick: np.ndarray, uncovered: np.ndarray, box: Rect) -> bool:
    """Whether the thick ink in ``box`` was mostly seen by a search on darker ink, away from
    the seals found: a faint chop joined to a seal's ring is a small part of their loop,
    which the ring, seen on the darker ink too, would otherwise pass for."""
    x, y, w, h = box
    away = uncovered[y:y + h, x:x + w]
    return cv2.countNonZero(cv2.bitwise_and(seen[y:y + h, x:x + w], away)) \
        >= 0.9 * cv2.countNonZero(cv2.bitwise_and(thick[y:y + h, x:x + w], away))


def _boxes_meet(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    """Whether two boxes (x0, y0, x1, y1) overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _within_ring(x: int, y: int, w: int, h: int, rings: list[_Outline]) -> bool:
    """Whether the box lies within one of ``rings`` grown by a tenth."""
    for ring in rings:
        x0, y0, x1, y1 = ring.extent()
        grow = 0.1 * (x1 - x0)
        if x >= x0 - grow and y >= y0 - grow and x + w <= x1 + grow and y + h <= y1 + grow:
            return True
    return False


@dataclass(frozen=True)
class _Bare:
    """The ink (and the ink grown by a pixel, without a millimetre more round the seals)
    without the seals found, and their disks: where a seal lies over a chop, the chop's
    surroundings cannot be seen."""

    ink: np.ndarray
    wide: np.ndarray
    covered: np.ndarray


def _frames_in(
    segs: np.ndarray, ink: np.ndarray, wide: np.ndarray, bare: _Bare, px_per_mm: float,
    found: list[_Evidence],
) -> list[_Evidence]:
    """Frames whose long sides are two of ``segs`` (Hough segments of one ink loop)."""
    angles = np.arctan2(segs[:, 3] - segs[:, 1], segs[:, 2] - segs[:, 0]) % np.pi
    # A frame line has paper on at least its outer side; a run of bold or blurred characters
    # along a line of text has more text above and below it.
    sides = _side_ink(ink, segs, angles, px_per_mm)
    clear = sides.min(axis=1) <= 0.25
    segs, angles, sides = segs[clear][:40], angles[clear][:40], sides[clear][:40]
    new: list[_Evidence] = []
    for i, j in _facing_pairs(segs, angles, sides, px_per_mm):
        frame = _frame_from_pair(segs[i], segs[j], float(angles[i]), ink, wide, bare,
                                 px_per_mm, (*found, *new))
        if frame is not None:
            new.append(frame)
    for p, q, angle in (*_square_partners(segs, angles, sides, wide, px_per_mm),
                        *_chop_partners(segs, angles, sides, wide, px_per_mm)):
        frame = _frame_from_pair(p, q, angle, ink, wide, bare, px_per_mm, (*found, *new))
        if frame is not None:
            new.append(frame)
    return new


_SQUARE_MM = (20.0, 45.0)  # a square seal's side


def _square_partners(
    segs: np.ndarray, angles: np.ndarray, sides: np.ndarray, wide: np.ndarray, px_per_mm: float
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """For each long segment with paper on one side, the densest parallel line on its other
    side a square's width away, as a segment facing it. A square seal has one Hough segment
    per side at best: a chop across it, or print beside it, can leave no second one clear
    enough to pair with (a seal's thick line also gives segments a few degrees off)."""
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    offsets = np.arange(_SQUARE_MM[0] * px_per_mm, _SQUARE_MM[1] * px_per_mm, 1.0)
    partners = []
    tried: set[tuple[int, int, int]] = set()
    for k in np.flatnonzero((lengths >= _SQUARE_MM[0] * px_per_mm) & (sides.min(axis=1) <= 0.1)):
        seg, angle = segs[k], float(angles[k])
        # Towards the inked side (the square's inside): column 1 of ``sides`` is +normal.
        sign = 1.0 if sides[k, 1] > sides[k, 0] else -1.0
        nx, ny = -math.sin(angle) * sign, math.cos(angle) * sign
        d = _densest_parallel(wide, seg, nx, ny, offsets[offsets <= 1.15 * lengths[k]])
        if d is None:
            continue
        # Hough breaks a thick line into several segments, which would give the same square.
        mid = (seg[0] + seg[2]) / 2 * nx + (seg[1] + seg[3]) / 2 * ny
        place = (round(math.degrees(angle) / 2), round(mid / 4), round(d / 4))
        if place in tried:
            continue
        tried.add(place)
        partners.append((seg, seg + d * np.array([nx, ny, nx, ny]), angle))
    return partners


_CHOP_LINE_MM = 36.0  # most of a 复印件与原件一致 chop's long side (~45 mm)


def _chop_partners(
    segs: np.ndarray, angles: np.ndarray, sides: np.ndarray, wide: np.ndarray, px_per_mm: float
) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """For each long segment with paper on both sides (a chop's line: its text keeps 2 mm
    off it), the densest parallel line a chop's height away on either side, as a segment
    facing it. A seal over a chop can leave Hough only short, slanted pieces of the chop's
    other line (the ring takes the rest), none parallel enough to pair with."""
    lengths = np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])
    offsets = np.arange(_FRAME_MM[0] * px_per_mm, _SQUARE_MM[0] * px_per_mm, 1.0)
    partners = []
    for k in np.flatnonzero((lengths >= _CHOP_LINE_MM * px_per_mm) & (sides.max(axis=1) <= 0.25)):
        seg, angle = segs[k], float(angles[k])
        for sign in (-1.0, 1.0):
            nx, ny = -math.sin(angle) * sign, math.cos(angle) * sign
            d = _densest_parallel(wide, seg, nx, ny, offsets)
            if d is not None:
                partners.append((seg, seg + d * np.array([nx, ny, nx, ny]), angle))
    return partners


def _densest_parallel(
    wide: np.ndarray, seg: np.ndarray, nx: float, ny: float, offsets: np.ndarray
) -> float | None:
    """Of the lines parallel to ``seg`` at ``offsets`` along the normal (nx, ny), the distance
    to the one most inked over the middle eight tenths of the segment's length, if that is
    inked on 0.8 of it at least."""
    t = np.linspace(0.1, 0.9, 24)
    xs = seg[0] + t * (seg[2] - seg[0])
    ys = seg[1] + t * (seg[3] - seg[1])
    hit, _ = _lookup(wide, xs[None, :] + offsets[:, None] * nx, ys[None, :] + offsets[:, None] * ny)
    share = hit.mean(axis=1)
    if not len(share) or share.max() < 0.8:
        return None
    return float(offsets[int(np.argmax(share))])


def _facing_pairs(
    segs: np.ndarray, angles: np.ndarray, sides: np.ndarray, px_per_mm: float
) -> list[tuple[int, int]]:
    """Pairs (i < j, in order) of segments that could be a frame's long sides: parallel within
    3 degrees, a frame's height apart, facing each other along at least half that, and with
    little ink beside them (``sides``, from ``_side_ink``) both outside and inside."""
    if len(segs) < 2:
        return []
    i, j = np.triu_indices(len(segs), 1)
    d = np.abs(angles[i] - angles[j])
    keep = np.minimum(d, np.pi - d) <= math.radians(3)
    i, j = i[keep], j[keep]
    # Both segments' ends in the frame of the first one's direction (u along, v across).
    c, s = np.cos(angles[i])[:, None], np.sin(angles[i])[:, None]
    ex = np.concatenate([segs[i][:, 0::2], segs[j][:, 0::2]], axis=1)
    ey = np.concatenate([segs[i][:, 1::2], segs[j][:, 1::2]], axis=1)
    u, v = ex * c + ey * s, -ex * s + ey * c
    gap = np.abs((v[:, 0] + v[:, 1]) / 2 - (v[:, 2] + v[:, 3]) / 2)
    lo = np.maximum(u[:, :2].min(axis=1), u[:, 2:].min(axis=1))
    hi = np.minimum(u[:, :2].max(axis=1), u[:, 2:].max(axis=1))
    # The first segment's sides face away from (outer) and towards (inner) the second one as
    # it lies below or above it; the second's sides turn round with its direction.
    first_above = (v[:, 0] + v[:, 1]) < (v[:, 2] + v[:, 3])
    flip = np.cos(angles[i] - angles[j]) < 0
    si = np.where(first_above[:, None], sides[i], sides[i][:, ::-1])  # (outer, inner)
    sj = np.where((first_above ^ flip)[:, None], sides[j][:, ::-1], sides[j])
    outer, inner = np.stack([si[:, 0], sj[:, 0]], 1), np.stack([si[:, 1], sj[:, 1]], 1)
    # A frame has paper just outside its long sides and a margin inside them (the checks on
    # the whole frame ask 0.2 / 0.5); a segment's stretch is only part of the frame's.
    quiet = ((outer.min(axis=1) <= 0.35) & (outer.max(axis=1) <= 0.7)
             & (inner.min(axis=1) <= 0.35) & (inner.max(axis=1) <= 0.7))
    keep = ((gap >= _FRAME_MM[0] * px_per_mm) & (gap <= _FRAME_MM[1] * px_per_mm)
            & (hi - lo >= 0.5 * gap) & quiet)
    return list(zip(i[keep].tolist(), j[keep].tolist(), strict=True))


def _side_ink(
    ink: np.ndarray, segs: np.ndarray, angles: np.ndarray, px_per_mm: float
) -> np.ndarray:
    """Per segment, the share of inked points along it moved 1.5 and 2.5 mm off it to either
    side: shape (segments, 2), one column per side."""
    if not len(segs):
        return np.zeros((0, 2))
    n = np.maximum(2, np.rint(np.hypot(segs[:, 2] - segs[:, 0], segs[:, 3] - segs[:, 1])))
    # A point a pixel apart along each segment, segment after segment: ``seg`` is each
    # point's segment, ``k`` its index along it.
    counts = n.astype(np.intp)
    starts = np.cumsum(counts) - counts
    seg = np.repeat(np.arange(len(segs)), counts)
    k = np.arange(len(seg)) - starts[seg]
    t = np.minimum(k / (n[seg] - 1), 1.0)
    x = segs[seg, 0] + t * (segs[seg, 2] - segs[seg, 0])
    y = segs[seg, 1] + t * (segs[seg, 3] - segs[seg, 1])
    off = np.array([-2.5, -1.5, 1.5, 2.5])[:, None] * px_per_mm
    sin, cos = np.sin(angles)[seg], np.cos(angles)[seg]
    # Read as the segments padded to the longest one would be (``_lookup``'s ``many``).
    hit, valid = _lookup(ink, x - off * sin, y + off * cos, many=4 * len(segs) * int(n.max()))
    inked = np.add.reduceat(hit & valid, starts, axis=1, dtype=np.intp)
    shares = np.ascontiguousarray((inked / n).T)
    return np.stack([shares[:, :2].mean(axis=1), shares[:, 2:].mean(axis=1)], axis=1)


@dataclass(frozen=True)
class _Axes:
    """Page pixels seen along a frame: u along its long sides (at ``angle``), v across."""

    angle: float

    def page(self, us: np.ndarray, vs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The page's x and y of each (u, v)."""
        c, s = math.cos(self.angle), math.sin(self.angle)
        return us * c - vs * s, us * s + vs * c

    def at(self, us: np.ndarray, vs: np.ndarray, mask: np.ndarray, many: int | None = None
           ) -> np.ndarray:
        """Inked (and on the page) at each (u, v); ``many`` as for ``_lookup``."""
        # Off the page reads no ink.
        return _lookup(mask, *self.page(us, vs), many=many)[0]

    def shares(self, stretches: list[tuple[np.ndarray, np.ndarray]], mask: np.ndarray
               ) -> np.ndarray:
        """Share inked of each stretch of (u, v) points (0 for an empty one), read in one
        lookup: a frame's tests read a dozen short stretches, and each lookup has a set-up
        that costs as much as reading a few hundred points."""
        sizes = np.array([len(us) for us, _ in stretches])
        hit = self.at(np.concatenate([us for us, _ in stretches]),
                      np.concatenate([vs for _, vs in stretches]), mask, int(sizes.max()))
        counts = np.concatenate([[0], np.cumsum(hit)])
        ends = np.cumsum(sizes)
        inked = counts[ends] - counts[ends - sizes]
        shares = np.zeros(len(sizes))
        np.divide(inked, sizes, out=shares, where=sizes > 0)
        return shares


def _row(u0: float, u1: float, v: float) -> tuple[np.ndarray, np.ndarray]:
    """The (u, v) points of the stretch from u0 to u1 at v, a pixel apart."""
    us = np.arange(u0, u1, 1.0)
    return us, np.full_like(us, v)


def _column(u: float, v0: float, v1: float) -> tuple[np.ndarray, np.ndarray]:
    """The (u, v) points of the stretch from v0 to v1 at u, a pixel apart."""
    vs = np.arange(v0, v1, 1.0)
    return np.full_like(vs, u), vs


def _frame_from_pair(
    p: np.ndarray, q: np.ndarray, angle: float, ink: np.ndarray, wide: np.ndarray,
    bare: _Bare, px_per_mm: float, found: tuple[_Evidence, ...] = (),
) -> _Evidence | None:
    """The frame two parallel segments are the long sides of, if the ink bears one out and
    it is not one of the frames ``found`` already."""
    if any(f.visible == 1.0 and _on_long_sides(p, q, f.outline) for f in found):
        return None  # more pieces of a frame's lines (Hough breaks a line in several)
    ax = _Axes(angle)
    c, s = math.cos(angle), math.sin(angle)
    ends = np.array([p[:2], p[2:], q[:2], q[2:]])
    u = ends[:, 0] * c + ends[:, 1] * s
    v = -ends[:, 0] * s + ends[:, 1] * c
    vp, vq = (v[0] + v[1]) / 2, (v[2] + v[3]) / 2
    if not _FRAME_MM[0] * px_per_mm <= abs(vp - vq) <= _FRAME_MM[1] * px_per_mm:
        return None
    lo, hi = max(u[:2].min(), u[2:].min()), min(u[:2].max(), u[2:].max())
    if hi - lo < 0.5 * abs(vp - vq):
        return None  # the two lines hardly face each other
    # Each long side where its line is densest, a pixel or two off the Hough segment.
    offsets = np.arange(-3.0, 3.5, 0.5)[:, None]
    along = np.arange(lo, hi, 1.0)[None, :] + np.zeros_like(offsets)
    lines = (min(vp, vq), max(vp, vq))
    # Both sides in one lookup, each read as on its own.
    inked = ax.at(np.concatenate([along, along]),
                  np.concatenate([vv + offsets + 0 * along for vv in lines]), wide, along.size)
    best = inked.sum(axis=1).reshape(2, -1).argmax(axis=1)
    v0, v1 = (vv + float(offsets[int(k)][0]) for vv, k in zip(lines, best, strict=True))
    span, visible = _frame_ends(ax, wide, lo, hi, v0, v1, px_per_mm), 1.0
    if span is None or span[1] - span[0] > MAX_RECT_RATIO * (v1 - v0):
        under = _under_seal(ax, wide, bare, lo, hi, v0, v1, px_per_mm)
        if under is None:
            return None
        span, wide, bare = under
        # One short side is under the seal.
        visible = 1 - (v1 - v0) / (2 * (span[1] - span[0] + v1 - v0))
    u0, u1 = span
    if not v1 - v0 <= u1 - u0 <= MAX_RECT_RATIO * (v1 - v0):
        return None
    uc, vc = (u0 + u1) / 2, (v0 + v1) / 2
    outline = _Outline(uc * c - vc * s, uc * s + vc * c, (u1 - u0) / 2 + 1.5,
                       (v1 - v0) / 2 + 1.5, angle, rect=True)
    if any(_same_stamp(outline, f.outline) and not _replaces(outline, f) for f in found):
        return None  # another pair of the same lines (Hough breaks a frame line in pieces)
    judged = _frame_evidence(ax, ink, wide, bare, u0, u1, v0, v1, px_per_mm)
    if judged is None:
        return None
    frame, outside, inner = judged
    score = (0.4 * _ramp(frame, 0.75, 0.95) + 0.3 * _ramp(frame - outside, 0.45, 0.8)
             + 0.3 * _ramp(inner, 0.08, 0.2))
    return _Evidence(outline, frame, frame, inner, inner, visible, 2 * outline.a / px_per_mm,
                     outline.a / outline.b, 0.7 + 0.3 * score)


def _on_long_sides(p: np.ndarray, q: np.ndarray, frame: _Outline) -> bool:
    """Whether the midpoints of segments ``p`` and ``q`` lie on opposite long sides of
    ``frame`` (within 4 pixels of them)."""
    long_is_a = frame.a >= frame.b
    half_long, half_short = (frame.a, frame.b) if long_is_a else (frame.b, frame.a)
    angle = frame.angle if long_is_a else frame.angle + math.pi / 2
    c, s = math.cos(angle), math.sin(angle)
    signs = []
    for seg in (p, q):
        dx, dy = (seg[0] + seg[2]) / 2 - frame.cx, (seg[1] + seg[3]) / 2 - frame.cy
        u, v = dx * c + dy * s, -dx * s + dy * c
        # The outline lies 1.5 px outside the frame lines.
        if abs(u) > half_long or abs(abs(v) - (half_short - 1.5)) > 4:
            return False
        signs.append(bool(v > 0))
    return signs[0] != signs[1]


def _frame_ends(
    ax: _Axes, wide: np.ndarray, lo: float, hi: float, v0: float, v1: float, px_per_mm: float
) -> tuple[float, float] | None:
    """Where the frame's short sides are: along the long sides, as far as both lines run
    (gaps up to 2 mm), the outermost columns within 3 mm of their ends that are inked across;
    failing that, a square's sides further in (``_square_ends``)."""
    reach = min(MAX_RECT_RATIO * (v1 - v0), MAX_SEAL_MM * px_per_mm)
    us = np.arange((lo + hi) / 2 - reach, (lo + hi) / 2 + reach, 1.0)
    both = np.asarray(ax.at(us[None, :], np.array([[v0], [v1]]), wide).all(axis=0))
    mid = len(us) // 2
    if not both[mid - 2:mid + 3].any():
        return None
    gap_max = round(2 * px_per_mm)
    last = _run_end(both[mid:], gap_max) + mid
    first = mid - _run_end(both[mid::-1], gap_max)
    across = np.linspace(v0, v1, 15)
    cols = ax.at(us[first:last + 1, None], across[None, :], wide).sum(axis=1) / len(across)
    near = round(3 * px_per_mm)
    left = [k for k in range(min(near, len(cols))) if cols[k] >= 0.75]
    right = [k for k in range(max(0, len(cols) - near), len(cols)) if cols[k] >= 0.75]
    if not left or not right:
        return _square_ends(us[first:last + 1], cols, left, right, v1 - v0, px_per_mm)
    return float(us[first + left[0]]), float(us[first + right[-1]])


def _under_seal(
    ax: _Axes, wide: np.ndarray, bare: _Bare, lo: float, hi: float, v0: float, v1: float,
    px_per_mm: float,
) -> tuple[tuple[float, float], np.ndarray, _Bare] | None:
    """A frame with one end under a seal found (``_end_under_seal``), with the ink to judge it
    on: the seal's area inked, as it stands for the hidden end's side, and the strip past that
    end counted as under the seal, as the chop's lines run on there where the seal's edge
    leaves them uncovered."""
    under = _end_under_seal(ax, wide, bare.covered, lo, hi, v0, v1, px_per_mm)
    if under is None:
        return None
    u0, u1, side = under
    end, margin = (u1 if side > 0 else u0), 5 * px_per_mm
    us = np.array([end, end + side * margin, end + side * margin, end])
    vs = np.array([v0 - margin, v0 - margin, v1 + margin, v1 + margin])
    strip = [np.rint(np.stack(ax.page(us, vs), axis=1)).astype(np.int32)]
    # The strip blanked out of the ink and added to the seals' area, drawn on copies.
    ink, grown, covered = bare.ink.copy(), bare.wide.copy(), bare.covered.copy()
    cv2.fillPoly(ink, strip, 0)
    cv2.fillPoly(grown, strip, 0)
    cv2.fillPoly(covered, strip, 255)
    return (u0, u1), cv2.bitwise_or(wide, bare.covered), _Bare(ink, grown, covered)


def _end_under_seal(
    ax: _Axes, wide: np.ndarray, covered: np.ndarray, lo: float, hi: float, v0: float,
    v1: float, px_per_mm: float,
) -> tuple[float, float, float] | None:
    """A chop with one end under a seal found (``covered``): its long lines are followed
    only where no seal lies, from where they face each other. One end must close as a
    frame's does (a column inked across within 3 mm of where both lines stop); at the
    other, the first column beyond that mostly under the seal stands for the hidden end.
    Followed through the seal, the seal's own lines and text carry the chop's lines on past
    its end (too long a frame, or one ended by the seal's far side).

    Returns the two ends and the side of the hidden one (-1: the first, 1: the second)."""
    reach = min(MAX_RECT_RATIO * (v1 - v0), MAX_SEAL_MM * px_per_mm)
    us = np.arange((lo + hi) / 2 - reach, (lo + hi) / 2 + reach, 1.0)
    if not _any_seal_in(ax, covered, us[0], us[-1], v0, v1):
        return None  # no seal along the lines: neither end can be under one
    line_u, line_v = np.tile(us, 2), np.repeat([v0, v1], len(us))
    both = np.asarray((ax.at(line_u, line_v, wide) & ~ax.at(line_u, line_v, covered))
                      .reshape(2, -1).all(axis=0))
    facing = np.flatnonzero(both & (us >= lo) & (us <= hi))
    if not len(facing):
        return None
    across = np.linspace(v0, v1, 15)
    grid_u, grid_v = np.repeat(us, len(across)), np.tile(across, len(us))
    inked = ax.at(grid_u, grid_v, wide).reshape(-1, len(across)).mean(axis=1)
    hidden = ax.at(grid_u, grid_v, covered).reshape(-1, len(across)).mean(axis=1)
    start = int(facing[np.argmin(np.abs(facing - len(us) // 2))])
    gap_max, near = round(2 * px_per_mm), round(3 * px_per_mm)
    ends: list[tuple[int | None, int | None]] = []
    for step in (-1, 1):
        end = start + step * _run_end(both[start::step], gap_max)
        closed = [k for k in range(end, end - step * near, -step)
                  if 0 <= k < len(us) and inked[k] >= 0.75]
        beyond = np.flatnonzero(hidden[end::step] >= 0.75)
        ends.append((closed[0] if closed else None,
                     end + step * int(beyond[0]) if len(beyond) else None))
    (left, left_hidden), (right, right_hidden) = ends
    if left is not None and right is None and right_hidden is not None:
        return float(us[left]), float(us[right_hidden]), 1.0
    if right is not None and left is None and left_hidden is not None:
        return float(us[left_hidden]), float(us[right]), -1.0
    return None


def _any_seal_in(
    ax: _Axes, covered: np.ndarray, u0: float, u1: float, v0: float, v1: float
) -> bool:
    """Whether any pixel of ``covered`` lies in the upright box round the stretch u0..u1,
    v0..v1 (grown by a pixel for the rounding of the points read there): where there is
    none, no point of the stretch reads a seal."""
    xs, ys = ax.page(np.array([u0, u1, u0, u1]), np.array([v0, v0, v1, v1]))
    h, w = covered.shape
    x0, x1 = max(0, math.floor(xs.min()) - 1), min(w, math.ceil(xs.max()) + 2)
    y0, y1 = max(0, math.floor(ys.min()) - 1), min(h, math.ceil(ys.max()) + 2)
    return x0 < x1 and y0 < y1 and cv2.countNonZero(covered[y0:y1, x0:x1]) > 0


def _square_ends(
    us: np.ndarray, cols: np.ndarray, left: list[int], right: list[int], height: float,
    px_per_mm: float,
) -> tuple[float, float] | None:
    """A square seal's sides where a row of print runs both long lines on past a corner (a
    seal stamped over a table's rows of text): the outermost columns inked right across,
    which the columns of a seal's text are not, if they close a square."""
    whole = np.flatnonzero(cols >= 0.95)
    if not len(whole):
        return None
    u0 = float(us[left[0] if left else whole[0]])
    u1 = float(us[right[-1] if right else whole[-1]])
    return (u0, u1) if height <= u1 - u0 and _square_seal(u1 - u0, height, px_per_mm) else None


def _run_end(inked: np.ndarray, gap_max: int) -> int:
    """How far from its start ``inked`` runs on, across gaps of up to ``gap_max``: the index
    of its last inked element before a longer gap (0 if none)."""
    # Index -1 stands for the start, so a gap there counts from the first element.
    at = np.concatenate([[-1], np.flatnonzero(inked), [len(inked) + gap_max + 1]])
    stop = int(np.argmax(np.diff(at) - 1 > gap_max))
    return max(0, int(at[stop]))


def _frame_evidence(
    ax: _Axes, ink: np.ndarray, wide: np.ndarray, bare: _Bare, u0: float, u1: float,
    v0: float, v1: float, px_per_mm: float,
) -> tuple[float, float, float] | None:
    """The frame against its surroundings: lines on all four sides, paper just outside them
    and just inside the long ones, text inside, lines that end at the corners. The paper
    round it and lines running on are looked for without the seals found (``bare``), and
    most of its surroundings must be seen.

    Returns (the least inked side, the inked share just outside, the inked share inside)
    or None.
    """
    height = v1 - v0
    out_d = 2.5 * px_per_mm
    # A frame mostly under a seal is the seal's text or ring seen as lines (the test with the
    # fewest points, so made first).
    ring_u, ring_v = np.meshgrid(np.linspace(u0 - out_d, u1 + out_d, 24),
                                 np.array([v0 - out_d, v1 + out_d]))
    ring_v = np.concatenate([ring_v.ravel(), np.linspace(v0, v1, 8).repeat(2)])
    ring_u = np.concatenate([ring_u.ravel(), np.tile([u0 - out_d, u1 + out_d], 8)])
    if _share(ax.at(ring_u, ring_v, bare.covered)) > 0.5:
        return None
    sides = ax.shares([_row(u0, u1, v0), _row(u0, u1, v1),
                       _column(u0, v0, v1), _column(u1, v0, v1)], wide)
    frame = float(min(sides))
    # Paper just outside each long side (a seal half over the chop inks part of one of them)
    # and beyond the short ones. Just inside the long sides too: a chop's text keeps 2 mm off
    # its frame, a square seal's inner line is thin; rows of a paragraph run right up to any
    # line through them.
    near = ax.shares([_row(u0, u1, v0 - 1.5 * px_per_mm), _row(u0, u1, v0 - out_d),
                      _row(u0, u1, v1 + 1.5 * px_per_mm), _row(u0, u1, v1 + out_d),
                      _row(u0, u1, v0 + 1.5 * px_per_mm), _row(u0, u1, v1 - 1.5 * px_per_mm),
                      _column(u0 - out_d, v0, v1), _column(u1 + out_d, v0, v1)], bare.ink)
    out_sides = sorted(float(np.mean(near[k:k + 2])) for k in (0, 2))
    in_sides = near[4:6]
    outside = float(np.mean([*out_sides, *near[6:]]))
    gu, gv = np.meshgrid(np.linspace(u0 + 0.15 * height, u1 - 0.15 * height, 40),
                         np.linspace(v0 + 0.2 * height, v1 - 0.2 * height, 12))
    inner = _share(ax.at(gu.ravel(), gv.ravel(), ink))
    # The tests on the lines running on, with the most points, come last.
    if _square_seal(u1 - u0, height, px_per_mm):
        # A square seal's name fills it up to a thin inner line, so there is no paper just
        # inside its sides; a chop across it or print along it can ink one side's outside
        # and run on past one corner. All four sides must be whole and text must fill it.
        if frame < 0.9 or out_sides[0] > 0.2 or not 0.2 <= inner <= 0.6 \
                or _runs_on(ax, bare.ink, bare.wide, u0, u1, v0, v1, px_per_mm,
                            print_beside=True) > 1:
            return None
        return frame, outside, inner
    if (
        min(sides[:2]) < 0.85 or frame < 0.75 or frame - outside < 0.45
        or out_sides[0] > 0.2 or out_sides[1] > 0.5 or not 0.08 <= inner <= 0.6
        or min(in_sides) > 0.2 or max(in_sides) > 0.5
        or _runs_on(ax, bare.ink, bare.wide, u0, u1, v0, v1, px_per_mm) > 0
    ):
        return None
    return frame, outside, inner


def _square_seal(length: float, height: float, px_per_mm: float) -> bool:
    """Whether a frame has a square seal's shape and size."""
    return length <= 1.15 * height and height >= _SQUARE_MM[0] * px_per_mm


def _runs_on(
    ax: _Axes, ink: np.ndarray, wide: np.ndarray, u0: float, u1: float, v0: float, v1: float,
    px_per_mm: float, *, print_beside: bool = False,
) -> int:
    """How many of the frame's eight line ends run on past a corner as a line.

    A stamp's frame ends at its corners; the rules of a table run on past a cell's, as lines
    with paper on one side at least. Looked for without the seals found, so a ring over a
    chop's corner does not count (nor do a cell's rules where they run on under a seal).
    ``print_beside``: nor does a line with print along one side (ink on half its length
    1.5 mm off it): a row of text that a frame's side is stamped along (a square seal over a
    cover's table) runs on past the corner as one band with the side; a rule keeps clear of
    the text in its cells.
    """
    beyond = np.arange(1.5 * px_per_mm, 4 * px_per_mm, 1.0)
    flat, side_off = np.zeros_like(beyond), 1.5 * px_per_mm
    # The eight stretches past the corners, and the step across each of them (du, dv).
    uu = np.stack([u0 - beyond, u1 + beyond, u0 - beyond, u1 + beyond,
                   flat + u0, flat + u0, flat + u1, flat + u1])
    vv = np.stack([flat + v0, flat + v0, flat + v1, flat + v1,
                   v0 - beyond, v1 + beyond, v0 - beyond, v1 + beyond])
    du = np.array([0, 0, 0, 0, 1, 1, 1, 1])[None, :, None] * side_off
    dv = np.array([1, 1, 1, 1, 0, 0, 0, 0])[None, :, None] * side_off
    sign = np.array([-1.0, 1.0])[:, None, None]
    n = len(beyond)
    # All sixteen stretches beside them in one lookup, each read as on its own.
    beside = np.count_nonzero(ax.at(uu + sign * du, vv + sign * dv, ink, n), axis=2) / n
    line = (np.count_nonzero(ax.at(uu, vv, wide, n), axis=1) / n > 0.5) & (beside.min(axis=0) < 0.3)
    return int(np.count_nonzero(line & ~(print_beside & (beside.max(axis=0) >= 0.5))))


# Entry point ---------------------------------------------------------------------------------


def detect_seals(bgr: np.ndarray, dpi: int, *, gray: bool | None = None) -> list[Seal]:
    """The seals on one page image, best first; boxes in the image's pixels.

    ``bgr``: a BGR page (or a single-channel gray one). ``dpi``: its resolution, which turns
    millimetres into pixels. ``gray``: search for gray rings too; None decides from the page
    (a page without coloured ink is searched for gray rings).
    """
    if dpi <= 0:
        raise ValueError(f"dpi must be positive, got {dpi}")
    if bgr.ndim == 3 and bgr.shape[2] == 4:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_BGRA2BGR)
    if bgr.ndim == 3 and _all_gray(bgr):
        bgr = cv2.extractChannel(bgr, 0)  # no colour to look at: skip the colour search
    seals: list[Seal] = []
    achromatic = True
    if bgr.ndim == 3:
        small, scale = _downscale(bgr, WORK_PX_PER_MM * 25.4 / dpi)
        hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
        seals = _colour_seals(bgr, _Planes.of(hsv), scale, dpi)
        # Asked only where it decides: a page with coloured seals is not searched for gray ones.
        achromatic = gray is None and not seals and _is_achromatic(hsv)
    search_gray = gray if gray is not None else (not seals and achromatic)
    if search_gray:
        plane = bgr if bgr.ndim == 2 else cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        seals += _drop_covered(_gray_seals(plane, dpi), seals)
    return sorted(seals, key=lambda s: -s.score)


def _all_gray(bgr: np.ndarray) -> bool:
    """True for a gray page stored as colour: blue, green and red equal at every fourth pixel
    of every fourth row. A seal's ring (1 mm and wider: 6 pixels at 150 DPI) crosses that
    grid wherever it is, so no coloured seal can hide between its points."""
    sample = bgr[::4, ::4]
    return bool(np.array_equal(sample[..., 0], sample[..., 1])
                and np.array_equal(sample[..., 1], sample[..., 2]))


def _drop_covered(new: Iterable[Seal], old: list[Seal]) -> list[Seal]:
    return [s for s in new if all(s.box.iou(o.box) < 0.3 for o in old)]
