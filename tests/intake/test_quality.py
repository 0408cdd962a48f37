"""Scan quality: a sharp page is judged, a blurred, dark or coarse one is not."""

import cv2
import numpy as np
import pytest

from intake import quality
from tests.intake.pagedraw import form_page, to_bgr


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return to_bgr(form_page(dpi=200))


def test_a_sharp_page_can_be_judged(page: np.ndarray) -> None:
    q = quality.measure(page, 200, 200.0)
    assert q.edge_mm is not None
    assert q.edge_mm < quality.BLURRED_MM
    assert q.paper > 240
    assert quality.problems(q) == []


def test_a_blurred_page_is_blurred(page: np.ndarray) -> None:
    blurred = cv2.GaussianBlur(page, (0, 0), 3.5)
    assert quality.problems(quality.measure(blurred, 200, 200.0)) == ["blurred"]


def test_a_dark_page_is_dark(page: np.ndarray) -> None:
    dark = (page.astype(np.float32) * 0.4).astype(np.uint8)
    assert quality.problems(quality.measure(dark, 200)) == ["dark"]


def test_a_coarse_scan_is_low_resolution_not_blurred(page: np.ndarray) -> None:
    small = cv2.resize(page, None, fx=75 / 200, fy=75 / 200, interpolation=cv2.INTER_AREA)
    upsampled = cv2.resize(small, (page.shape[1] * 150 // 200, page.shape[0] * 150 // 200))
    assert quality.problems(quality.measure(upsampled, 150, 75.0)) == ["low_resolution"]


def test_a_blank_page_is_not_flagged() -> None:
    blank = np.full((2339, 1654), 246, dtype=np.uint8)
    q = quality.measure(blank, 200)
    assert q.edge_mm is None
    assert quality.problems(q) == []
