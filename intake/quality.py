"""Scan quality of one page, measured cheaply: is the page too blurred, too dark or scanned
at too low a resolution for its reading to be judged?

Sharpness is the width of the text's edges in millimetres of paper, so a page upsampled from
a coarse scan reads as soft as it is. The thresholds below were measured on generated pages.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from intake import pdf
from intake.model import DocumentKind, ScanQuality

# Measured on 180 generated pages (none, light and heavy; colour and grey; 200 dpi): clean
# scans' edges are 0.10-0.13 mm wide, heavily worn ones 0.15-0.18 mm, and none is flagged. A
# page blurred by 2 px measures 0.21-0.24 (still read), one spoiled by 3.5 px 0.31-0.35.
BLURRED_MM = 0.25
# Paper (the 95th percentile of brightness) darker than this: worn scans keep it above 210,
# a page scanned far too dark (40 % of white) has it near 100.
DARK_PAPER = 150
# A scan coarser than this draws a 10.5 pt character in fewer than 14 pixels. Judged from the
# resolution the file states: a PDF renders a coarse scan at 150 dpi or more, smoothly.
LOW_DPI = 100

REASONS = {"blurred": "模糊", "dark": "过暗", "low_resolution": "分辨率不足"}

_GRID = 8  # the page is cut into 8 x 8 tiles; sharpness is measured on the inkiest
_TILES = 6


def measure_page(image: np.ndarray, dpi: int, path: Path, kind: DocumentKind,
                 number: int) -> ScanQuality:
    """A rendered page's quality; a PDF page's scan resolution is read from the file, an
    image file's is the ``dpi`` it was rendered at (its own)."""
    scan_dpi = None
    if kind is DocumentKind.PDF:
        with pdf.open_pdf(path) as document:
            scan_dpi = document.page_info(number).scan_dpi()
    return measure(image, dpi, scan_dpi)


def measure(image: np.ndarray, dpi: int, scan_dpi: float | None = None) -> ScanQuality:
    """Measure a page's sharpness, brightness and contrast. ``image`` (BGR or grey) is the page
    as rendered at ``dpi``; ``scan_dpi`` is the resolution it was scanned at, when known.

    Only every 8th pixel and six tiles are looked at: a few milliseconds a page.
    """
    small = _gray(image[::_GRID, ::_GRID])
    ink, paper = _percentiles(small, (0.02, 0.95))
    return ScanQuality(
        edge_mm=_edge_width_mm(image, small, dpi, paper - ink),
        paper=round(paper, 1), contrast=round(paper - ink, 1),
        scan_dpi=round(scan_dpi) if scan_dpi else dpi,
    )


def _percentiles(gray: np.ndarray, shares: tuple[float, float]) -> tuple[float, float]:
    counts = np.cumsum(np.bincount(gray.ravel(), minlength=256))
    low, high = (int(np.searchsorted(counts, share * counts[-1])) for share in shares)
    return float(low), float(high)


def _gray(image: np.ndarray) -> np.ndarray:
    image = np.ascontiguousarray(image)
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image,
                      dtype=np.uint8)


def _edge_width_mm(image: np.ndarray, small: np.ndarray, dpi: int,
                   contrast: float) -> float | None:
    """How wide a step from ink to paper is, in mm, over the tiles with the most going on: a
    blurred step ``s`` pixels wide has a steepest slope of about 0.8 / s of its height. None on
    a page without text edges."""
    height, width = image.shape[:2]
    th, tw = height // _GRID, width // _GRID
    rows, cols = small.shape[0] // _GRID, small.shape[1] // _GRID
    if th < 8 or tw < 8 or rows < 1 or cols < 1:
        return None
    blocks = small[:rows * _GRID, :cols * _GRID].astype(np.float32)
    spread = blocks.reshape(_GRID, rows, _GRID, cols).std(axis=(1, 3))
    size = max(3, round(dpi / 25.4)) | 1  # a 1 mm window holds a whole edge
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (size, size))
    floor = max(60.0, 0.5 * contrast)
    ratios = []
    for index in np.argsort(spread.ravel())[::-1][:_TILES]:
        by, bx = divmod(int(index), _GRID)
        y, x = by * th + th // 4, bx * tw + tw // 4  # the tile's middle half is enough
        tile = _gray(image[y:y + th // 2, x:x + tw // 2])
        local = cv2.dilate(tile, kernel).astype(np.float32) - cv2.erode(tile, kernel)
        gx = cv2.Sobel(tile, cv2.CV_32F, 1, 0, ksize=3)
        gy = cv2.Sobel(tile, cv2.CV_32F, 0, 1, ksize=3)
        edges = local > floor
        if np.count_nonzero(edges) > 50:
            ratios.append(cv2.magnitude(gx, gy)[edges] / (4.0 * local[edges]))
    if not ratios:
        return None
    steepest = float(np.percentile(np.concatenate(ratios), 90))
    return round(0.8 / steepest * 25.4 / dpi, 3) if steepest > 0 else None


def problems(quality: ScanQuality) -> list[str]:
    """Why a page cannot be judged (keys of ``REASONS``); empty when it can."""
    found = []
    if quality.scan_dpi < LOW_DPI:
        found.append("low_resolution")
    elif quality.edge_mm is not None and quality.edge_mm > BLURRED_MM:
        found.append("blurred")  # a coarse scan is soft too: say the cause, not both
    if quality.paper < DARK_PAPER:
        found.append("dark")
    return found
