"""Seal impressions (公章) as RGBA images: ring, name along the arc, star, ink texture.

``draw_seal`` is public: the seal detector's tests draw seals with it, so its signature is
stable. The image is the ink only (colour everywhere, density in alpha); composite it over a
page with ``multiply`` so printed text shows through, as it does under real stamp-pad ink.
"""

from __future__ import annotations

import math
import random

import cv2
import numpy as np
from PIL import Image, ImageChops, ImageDraw

from samples import fonts

SHAPES = ("round", "oval", "square", "rectangle")
OVAL_RATIO = 0.75  # height / width of an oval seal (40 x 30 mm)
RECTANGLE_RATIO = 0.32  # height / width of a rectangular chop such as 复印件与原件一致
_SUPERSAMPLE = 2


def draw_seal(
    organisation: str,
    *,
    diameter_px: int,
    rng: random.Random,
    shape: str = "round",
    color: tuple[int, int, int] = (210, 30, 40),
    bottom_text: str = "",
    faded: bool = False,
) -> Image.Image:
    """One impression of ``organisation``'s seal, ``diameter_px`` wide (its largest extent).

    round: name along the upper arc (about 220-260 degrees), five-pointed star in the centre,
    ``bottom_text`` under the star (digits run along the lower arc, as seal codes do);
    oval: ``diameter_px`` x 0.75 of it, double ring; square: the name in columns read right to
    left; rectangle: a framed line of text (a chop such as 复印件与原件一致).
    The image is ``diameter_px`` plus a small margin on each side, the seal centred in it.
    """
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {SHAPES}, not {shape!r}")
    if diameter_px < 16:
        raise ValueError("diameter_px must be at least 16")
    s = _SUPERSAMPLE
    width = diameter_px * s
    height = {"round": width, "square": width, "oval": round(width * OVAL_RATIO),
              "rectangle": round(width * RECTANGLE_RATIO)}[shape]
    pad = max(4, diameter_px // 25) * s
    mask = Image.new("L", (width + 2 * pad, height + 2 * pad), 0)
    box = (pad, pad, pad + width, pad + height)
    chars = [c for c in organisation if not c.isspace()]
    if shape == "round":
        _round(mask, box, chars, bottom_text)
    elif shape == "oval":
        _oval(mask, box, chars, bottom_text)
    elif shape == "square":
        _square(mask, box, chars)
    else:
        _rectangle(mask, box, chars)
    nrng = np.random.default_rng(rng.getrandbits(64))
    alpha = _ink(np.asarray(mask, dtype=np.float32) / 255.0, nrng, s, faded)
    ink = _faded_color(color) if faded else color
    rgba = np.empty((*alpha.shape, 4), dtype=np.uint8)
    rgba[..., 0], rgba[..., 1], rgba[..., 2] = ink
    rgba[..., 3] = np.clip(alpha * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return Image.fromarray(rgba)


def _faded_color(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """Old or thin stamp-pad ink: paler and pinker."""
    r, g, b = color
    return (min(255, r + 20), g + (255 - g) * 2 // 5, b + (255 - b) * 2 // 5)


# Geometry ------------------------------------------------------------------------------------


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        a = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(a), cy + r * math.sin(a)))
    draw.polygon(points, fill=255)


def _glyph(char: str, size: float, width: float | None = None, bold: bool = True) -> Image.Image:
    """One character as a grey mask, squeezed to ``width`` when given."""
    font = fonts.pil_font(fonts.SERIF_BOLD if bold else fonts.SERIF, max(4, round(size)))
    side = max(8, round(size * 1.3))
    img = Image.new("L", (side, side), 0)
    ImageDraw.Draw(img).text((side / 2, side / 2), char, fill=255, font=font, anchor="mm")
    if width is not None and width < size:
        img = img.resize((max(2, round(side * width / size)), side), Image.Resampling.LANCZOS)
    return img


def _paste(mask: Image.Image, glyph: Image.Image, cx: float, cy: float, angle: float = 0.0) -> None:
    """Put ``glyph`` centred at (cx, cy), turned ``angle`` degrees clockwise."""
    if angle:
        glyph = glyph.rotate(-angle, resample=Image.Resampling.BICUBIC, expand=True)
    x = round(cx - glyph.width / 2)
    y = round(cy - glyph.height / 2)
    region = mask.crop((x, y, x + glyph.width, y + glyph.height))
    mask.paste(ImageChops.lighter(region, glyph), (x, y))


def _arc_positions(a: float, b: float, span_deg: float, n: int, bottom: bool = False
                   ) -> list[tuple[float, float, float]]:
    """n points spaced evenly by arc length over ``span_deg`` of an ellipse's upper (or lower)
    arc, centred on the top (bottom); each (dx, dy, angle of the outward normal, clockwise)."""
    half = math.radians(span_deg) / 2
    t = np.linspace(-half, half, 721)
    xs, ys = a * np.sin(t), -b * np.cos(t)
    seg = np.hypot(np.diff(xs), np.diff(ys))
    arc = np.concatenate(([0.0], np.cumsum(seg)))
    targets = (np.arange(n) + 0.5) / n * arc[-1]
    out = []
    for theta in np.interp(targets, arc, t):
        dx, dy = a * math.sin(theta), -b * math.cos(theta)
        angle = math.degrees(math.atan2(math.sin(theta) / a, math.cos(theta) / b))
        if bottom:  # the lower arc, read left to right, letters' feet toward the rim
            out.append((dx, -dy, -angle))
        else:
            out.append((dx, dy, angle))
    return out


def _arc_text(mask: Image.Image, chars: list[str], cx: float, cy: float, a: float, b: float,
              size: float, span_deg: float, bottom: bool = False) -> None:
    if not chars:
        return
    n = len(chars)
    arc_len = _ellipse_arc_length(a, b, span_deg)
    pitch = arc_len / n
    width = min(size, pitch * 0.9)
    if width < size * 0.55:  # long names: smaller as well as narrower, as seal cutters do
        size = pitch * 0.9 / 0.55
        width = size * 0.55
    for char, (dx, dy, angle) in zip(chars, _arc_positions(a, b, span_deg, n, bottom),
                                     strict=True):
        _paste(mask, _glyph(char, size, width), cx + dx, cy + dy, angle)


def _ellipse_arc_length(a: float, b: float, span_deg: float) -> float:
    half = math.radians(span_deg) / 2
    t = np.linspace(-half, half, 721)
    return float(np.hypot(np.diff(a * np.sin(t)), np.diff(b * np.cos(t))).sum())


def _span(n: int) -> float:
    return float(min(260, max(220, 196 + 4.5 * n)))


def _round(mask: Image.Image, box: tuple[int, int, int, int], chars: list[str],
           bottom_text: str) -> None:
    draw = ImageDraw.Draw(mask)
    x0, y0, x1, y1 = box
    w = x1 - x0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ring = max(2, round(w * 0.034))
    draw.ellipse(box, outline=255, width=ring)
    size = w * 0.15
    r = w / 2 - ring - w * 0.022 - size / 2
    _arc_text(mask, chars, cx, cy, r, r, size, _span(len(chars)))
    _star(draw, cx, cy - (w * 0.01 if bottom_text else 0.0), w * 0.165)
    _bottom(mask, bottom_text, cx, cy, w / 2 - ring, w / 2 - ring, w)


def _bottom(mask: Image.Image, text: str, cx: float, cy: float, a: float, b: float,
            w: float) -> None:
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return
    if all(c.isdigit() for c in chars):  # a seal code: small digits along the lower arc
        size = w * 0.055
        _arc_text(mask, chars, cx, cy, a - size * 0.9, b - size * 0.9, size,
                  min(110.0, 7.5 * len(chars)), bottom=True)
        return
    size = min(w * 0.1, w * 0.52 / len(chars))
    pitch = size * 1.02
    x = cx - pitch * (len(chars) - 1) / 2
    for char in chars:
        _paste(mask, _glyph(char, size), x, cy + b * 0.55)
        x += pitch


def _oval(mask: Image.Image, box: tuple[int, int, int, int], chars: list[str],
          bottom_text: str) -> None:
    draw = ImageDraw.Draw(mask)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    ring = max(2, round(w * 0.026))
    draw.ellipse(box, outline=255, width=ring)
    inset = round(w * 0.042)
    draw.ellipse((x0 + inset, y0 + inset, x1 - inset, y1 - inset), outline=255,
                 width=max(1, round(w * 0.008)))
    size = h * 0.16
    a = w / 2 - inset - w * 0.018 - size / 2
    b = h / 2 - inset - w * 0.018 - size / 2
    _arc_text(mask, chars, cx, cy, a, b, size, min(250.0, _span(len(chars)) - 10))
    _star(draw, cx, cy, h * 0.13)
    _bottom(mask, bottom_text, cx, cy, a, b, w)


def _square(mask: Image.Image, box: tuple[int, int, int, int], chars: list[str]) -> None:
    draw = ImageDraw.Draw(mask)
    x0, y0, x1, y1 = box
    w = x1 - x0
    ring = max(2, round(w * 0.05))
    draw.rectangle(box, outline=255, width=ring)
    inset = ring + round(w * 0.025)
    draw.rectangle((x0 + inset, y0 + inset, x1 - inset, y1 - inset), outline=255,
                   width=max(1, round(w * 0.01)))
    n = max(1, len(chars))
    rows = math.ceil(math.sqrt(n))
    cols = math.ceil(n / rows)
    inner = w - 2 * inset - 2 * round(w * 0.03)
    cell_w, cell_h = inner / cols, inner / rows
    left = x0 + inset + round(w * 0.03)
    top = y0 + inset + round(w * 0.03)
    for i, char in enumerate(chars):
        col, row = divmod(i, rows)
        cx = left + inner - (col + 0.5) * cell_w  # columns read right to left
        cy = top + (row + 0.5) * cell_h
        glyph = _glyph(char, cell_h * 0.95)
        glyph = glyph.resize((max(2, round(glyph.width * min(1.0, cell_w / cell_h))),
                              glyph.height), Image.Resampling.LANCZOS)
        _paste(mask, glyph, cx, cy)


def _rectangle(mask: Image.Image, box: tuple[int, int, int, int], chars: list[str]) -> None:
    draw = ImageDraw.Draw(mask)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    draw.rectangle(box, outline=255, width=max(2, round(h * 0.07)))
    n = max(1, len(chars))
    size = min(h * 0.6, (w - h * 0.5) / n)
    pitch = (w - h * 0.5) / n
    x = x0 + h * 0.25 + pitch / 2
    for char in chars:
        _paste(mask, _glyph(char, size), x, (y0 + y1) / 2)
        x += pitch


# Ink -------------------------------------------------------------------------------------------


def _smooth_field(nrng: np.random.Generator, shape: tuple[int, int], cells: int, low: float,
                  high: float) -> np.ndarray:
    small = nrng.uniform(low, high, size=(cells, cells)).astype(np.float32)
    return cv2.resize(small, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)


def _ink(mask: np.ndarray, nrng: np.random.Generator, s: int, faded: bool) -> np.ndarray:
    """Stamp-pad ink from a sharp mask: rough edges, uneven density, specks without ink."""
    # Rough edges: wobble the mask's threshold with smooth noise before sampling down.
    soft = cv2.GaussianBlur(mask, (0, 0), 0.9 * s)
    noise = cv2.GaussianBlur(nrng.standard_normal(mask.shape).astype(np.float32), (0, 0), 1.2 * s)
    rough = np.clip((soft + noise * 0.55 - 0.5) * 3.0 + 0.5, 0.0, 1.0)
    h, w = mask.shape[0] // s, mask.shape[1] // s
    alpha = cv2.resize(rough, (w, h), interpolation=cv2.INTER_AREA)
    # Uneven density: a blotchy field times a pressure ramp across the seal.
    alpha *= _smooth_field(nrng, (h, w), 6, 0.62, 1.0)
    angle = nrng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    ramp = (xx / w - 0.5) * math.cos(angle) + (yy / h - 0.5) * math.sin(angle)
    alpha *= np.float32(1.0) - np.float32(nrng.uniform(0.1, 0.35)) * (ramp + np.float32(0.5))
    # Specks where the ink did not take.
    specks = np.asarray(cv2.GaussianBlur(nrng.standard_normal((h, w)).astype(np.float32),
                                         (0, 0), 1.1), dtype=np.float32)
    specks = specks / max(float(specks.std()), 1e-6)
    alpha = alpha * np.clip((specks + 2.1) * 1.5, 0.15, 1.0)
    strength = float(nrng.uniform(0.86, 1.0)) * (float(nrng.uniform(0.45, 0.6)) if faded else 1.0)
    return np.asarray(np.clip(alpha * (strength * 1.15), 0.0, 1.0), dtype=np.float32)


def rotate(seal: Image.Image, degrees: float) -> Image.Image:
    """The seal turned ``degrees`` counter-clockwise, canvas grown to fit."""
    return seal.rotate(degrees, resample=Image.Resampling.BICUBIC, expand=True)


def ink_hull(seal: Image.Image, threshold: int = 24) -> np.ndarray:
    """Convex hull (N x 2 float, image pixels) of where the seal left visible ink."""
    alpha = np.asarray(seal.getchannel("A"))
    points = cv2.findNonZero((alpha >= threshold).astype(np.uint8))
    if points is None:
        return np.zeros((0, 2), dtype=np.float32)
    return cv2.convexHull(points).reshape(-1, 2).astype(np.float32)


def multiply(page: np.ndarray, seal: Image.Image, cx: float, cy: float) -> None:
    """Multiply ``seal`` over the RGB ``page`` array in place, centred at (cx, cy) pixels."""
    rgba = np.asarray(seal, dtype=np.float32)
    h, w = rgba.shape[:2]
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    px0, py0 = max(0, x0), max(0, y0)
    px1, py1 = min(page.shape[1], x0 + w), min(page.shape[0], y0 + h)
    if px0 >= px1 or py0 >= py1:
        return
    patch = rgba[py0 - y0:py1 - y0, px0 - x0:px1 - x0]
    a = patch[..., 3:4] / 255.0
    factor = 1.0 - a * (1.0 - patch[..., :3] / 255.0)
    region = page[py0:py1, px0:px1].astype(np.float32)
    page[py0:py1, px0:px1] = np.clip(region * factor + 0.5, 0, 255).astype(np.uint8)
