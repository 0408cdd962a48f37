"""The scanner: rasterise printed pages, stamp seals on them, and degrade them like a scan.

Every geometric change of a page is one affine map, applied to the image and to every truth
box, so boxes stay exact after skew and rotation.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from samples.layout import MM, PAGE_H, PAGE_W

LEVELS = ("none", "light", "heavy")
# Ways one page can be scanned too badly to judge (the bad_scan discrepancy).
SPOILS = ("blurred", "dark", "low_resolution")
LOW_DPI = 75
JPEG_QUALITY = {"none": 92, "light": 85, "heavy": 60}


def page_size_px(dpi: int) -> tuple[int, int]:
    """A4 at ``dpi``: 1654 x 2339 at 200 dpi."""
    return round(PAGE_W * dpi / 72), round(PAGE_H * dpi / 72)


def rasterise(pdf: bytes, dpi: int) -> list[np.ndarray]:
    """Every page of a PDF as an RGB array of exactly ``page_size_px(dpi)``."""
    import pypdfium2 as pdfium

    width, height = page_size_px(dpi)
    document = pdfium.PdfDocument(pdf)
    pages = []
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72, rev_byteorder=True, draw_annots=False)
            array = np.array(bitmap.to_numpy()[..., :3], copy=True)
            page.close()
            canvas = np.full((height, width, 3), 255, dtype=np.uint8)
            h, w = min(height, array.shape[0]), min(width, array.shape[1])
            canvas[:h, :w] = array[:h, :w]
            pages.append(canvas)
    finally:
        document.close()
    return pages


@dataclass(frozen=True)
class Scan:
    """A degraded page and the map from printed-page pixels to its pixels."""

    image: np.ndarray  # RGB or grey, uint8
    matrix: np.ndarray  # 2 x 3 affine, printed-page pixels -> scan pixels
    skew: float  # degrees the content turned counter-clockwise (before any 180)
    rotation: int  # 180 when the page lies upside down, else 0


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return np.asarray(points @ matrix[:, :2].T + matrix[:, 2], dtype=np.float64)


def transform_box(matrix: np.ndarray, box: tuple[float, float, float, float], width: int,
                  height: int) -> list[int]:
    """The axis-aligned box around a transformed box, clipped to the page, in whole pixels."""
    x, y, w, h = box
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], dtype=np.float64)
    return bounding_box(transform_points(matrix, corners), width, height)


def bounding_box(points: np.ndarray, width: int, height: int) -> list[int]:
    x0 = max(0, math.floor(float(points[:, 0].min())))
    y0 = max(0, math.floor(float(points[:, 1].min())))
    x1 = min(width, math.ceil(float(points[:, 0].max())))
    y1 = min(height, math.ceil(float(points[:, 1].max())))
    return [x0, y0, max(0, x1 - x0), max(0, y1 - y0)]


def degrade(page: np.ndarray, level: str, nrng: np.random.Generator, *, dpi: int,
            upside_down: bool = False, gray: bool = False) -> Scan:
    """Scan a printed page: ``none`` keeps it clean; ``light`` and ``heavy`` skew, blur, add
    noise (heavy also: uneven light, photocopy contrast, toner specks); ``gray`` makes it a
    grey photocopy."""
    if level not in LEVELS:
        raise ValueError(f"degrade must be one of {LEVELS}, not {level!r}")
    height, width = page.shape[:2]
    skew = 0.0
    shift = (0.0, 0.0)
    if level == "light":
        skew = float(nrng.uniform(0.15, 1.0) * nrng.choice((-1, 1)))
        shift = (float(nrng.uniform(-1, 1)) * MM * dpi / 72, float(nrng.uniform(-1, 1)) * MM * dpi / 72)
    elif level == "heavy":
        skew = float(nrng.uniform(1.0, 3.0) * nrng.choice((-1, 1)))
        shift = (float(nrng.uniform(-3, 3)) * MM * dpi / 72, float(nrng.uniform(-3, 3)) * MM * dpi / 72)
    angle = skew + (180.0 if upside_down else 0.0)
    matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
    matrix[:, 2] += np.array(shift)
    image = page
    if angle or shift != (0.0, 0.0):
        image = cv2.warpAffine(page, matrix, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    if level != "none":
        image = _wear(image, level, nrng, dpi)
    if gray:
        image = _photocopy_gray(image, level)
    return Scan(image=image, matrix=matrix, skew=skew, rotation=180 if upside_down else 0)


def _wear(image: np.ndarray, level: str, nrng: np.random.Generator, dpi: int) -> np.ndarray:
    heavy = level == "heavy"
    height, width = image.shape[:2]
    out = cv2.GaussianBlur(image, (0, 0), (0.9 if heavy else 0.5) * dpi / 200)
    if heavy:
        # Uneven illumination: a smooth field, darker toward one side or a corner.
        small = nrng.uniform(0.76, 1.0, size=(4, 3)).astype(np.float32)
        light = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
        light = np.clip(light * 255.0, 180, 255).astype(np.uint8)
        out = cv2.multiply(out, cv2.merge([light, light, light]), scale=1 / 255)
    # Paper is never quite white under a scanner lamp; a photocopier darkens the darks and
    # washes out pale greys. Both are one tone curve per channel.
    tone = nrng.uniform(0.9, 0.96) if heavy else nrng.uniform(0.955, 0.985)
    tints = (tone, tone * nrng.uniform(0.992, 1.0), tone * nrng.uniform(0.975, 0.995))
    levels = np.arange(256, dtype=np.float32)
    curves = []
    for tint in tints:
        curve = levels * tint
        if heavy:
            curve = 255.0 * np.clip((curve / 255.0 - 0.08) / 0.86, 0.0, 1.0) ** 1.25
        curves.append(np.clip(curve + 0.5, 0, 255).astype(np.uint8))
    out = cv2.LUT(out, np.stack(curves, axis=-1).reshape(256, 1, 3))
    # Sensor noise, the same on all three channels (a scanner's is mostly in luminance);
    # stored offset by 128 so one saturating uint8 addition applies it.
    noise = nrng.standard_normal((height, width), dtype=np.float32)
    noise *= 7.0 if heavy else 2.5
    noise += 128.5
    grain = np.clip(noise, 0, 255).astype(np.uint8)
    out = cv2.addWeighted(out, 1.0, cv2.merge([grain, grain, grain]), 1.0, -128.0)
    if heavy:
        # Toner specks and a few dust marks.
        count = int(height * width * 2e-5)
        ys = nrng.integers(0, height, count)
        xs = nrng.integers(0, width, count)
        out[ys, xs] = nrng.integers(20, 120, size=(count, 1)).astype(np.uint8)
    return out


def _photocopy_gray(image: np.ndarray, level: str) -> np.ndarray:
    """A grey photocopy: red seals come out mid-grey, text stays black."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    if level != "none":
        grey = np.clip((grey.astype(np.float32) - 12.0) * 1.08 + 0.5, 0, 255).astype(np.uint8)
    return grey


def jpeg(image: np.ndarray, level: str, dpi: int) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="JPEG", quality=JPEG_QUALITY[level],
                                      optimize=False, progressive=False, dpi=(dpi, dpi))
    return buf.getvalue()


def spoil(image: np.ndarray, how: str, dpi: int) -> tuple[np.ndarray, int]:
    """A scan nobody could judge, and its resolution: strongly out of focus (3.5 px at 200 dpi),
    far too dark (paper at 40 % of white), or taken at 75 dpi."""
    if how == "blurred":
        return cv2.GaussianBlur(image, (0, 0), 3.5 * dpi / 200), dpi
    if how == "dark":
        curve = np.clip(np.arange(256, dtype=np.float32) * 0.4 + 0.5, 0, 255).astype(np.uint8)
        return cv2.LUT(image, curve), dpi
    if how == "low_resolution":
        height, width = image.shape[:2]
        size = (round(width * LOW_DPI / dpi), round(height * LOW_DPI / dpi))
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA), LOW_DPI
    raise ValueError(f"spoil must be one of {SPOILS}, not {how!r}")
