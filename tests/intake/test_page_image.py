"""Two scans of one page compared by their ink: scanning noise is not a difference, a pen mark
on one copy is, and a seal stamped anew on each copy is left out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from intake import prepare
from intake.model import Box
from intake.page_image import INK_DPI, differences, ink_array, page_ink
from tests.intake import pagedraw

DPI = 200


def _gray(img) -> np.ndarray:
    return np.asarray(img.convert("L"), dtype=np.uint8)


@pytest.fixture(scope="module")
def page() -> np.ndarray:
    return _gray(pagedraw.form_page(DPI))


def _scanned_again(gray: np.ndarray, seed: int) -> np.ndarray:
    """The same page through another scan: moved, turned a little, blurred, noisy."""
    rng = np.random.default_rng(seed)
    h, w = gray.shape
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), 0.15, 1.0)
    turn[:, 2] += (6, -4)
    out = cv2.warpAffine(gray, turn, (w, h), borderValue=255)
    out = cv2.GaussianBlur(out, (0, 0), 1.2)
    noisy = out.astype(np.float32) + rng.normal(0, 12, out.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _clean(gray: np.ndarray) -> np.ndarray:
    return prepare.remove_rules(prepare.flatten(gray))


def _tick(gray: np.ndarray, x: int, y: int) -> np.ndarray:
    out = gray.copy()
    mm = DPI / 25.4
    points = np.array([(x, y + 3 * mm), (x + 2 * mm, y + 5.5 * mm), (x + 6 * mm, y)], np.int32)
    cv2.polylines(out, [points], False, 40, thickness=round(0.5 * mm))
    return out


def _compare(one: np.ndarray, two: np.ndarray, **masks: list[Box]):
    return differences(page_ink(_clean(one), DPI), page_ink(_clean(two), DPI), DPI, DPI,
                       least_mm2=3.0, **masks)


def test_the_ink_is_small_and_at_its_own_resolution(page: np.ndarray):
    ink = page_ink(page, DPI)
    assert abs(ink.width - page.shape[1] * INK_DPI / DPI) <= 1
    assert abs(ink.height - page.shape[0] * INK_DPI / DPI) <= 1
    assert len(ink.data) < 60_000
    shares = ink_array(ink)
    assert 0.0 < float(shares.mean()) < 0.2
    assert float(shares.max()) == 1.0


def test_another_scan_of_the_same_page_shows_no_difference(page: np.ndarray):
    assert _compare(page, _scanned_again(page, 1)) == []


def test_a_tick_on_one_copy_is_found_on_that_copy_and_boxed(page: np.ndarray):
    x, y = 1560, 900  # the right margin, beside a row
    [found] = _compare(page, _scanned_again(_tick(page, x, y), 2))
    assert found.extra_in == 2
    box = found.boxes[1]
    # in copy 2's pixels, which lie (6, -4) off copy 1's
    assert box.x - 10 <= x + 6 <= box.x + box.w
    assert box.y - 10 <= y - 4 + 20 <= box.y + box.h
    assert box.w < 40 * DPI / 25.4
    assert found.mm2 > 4.0


def test_white_out_on_one_copy_is_ink_the_other_copy_has(page: np.ndarray):
    one = page.copy()
    one[560:640, 780:1400] = 255  # a value pasted over
    [found, *_] = _compare(one, _scanned_again(page, 3))
    assert found.extra_in == 2
    assert found.boxes[0].y < 640
    assert found.boxes[0].y + found.boxes[0].h > 560


def test_ink_under_either_copys_seal_is_left_out(page: np.ndarray):
    two = _scanned_again(_tick(page, 1560, 900), 4)
    seal = Box(1450, 800, 330, 330)
    assert _compare(page, two, second_masks=[seal]) == []
    assert _compare(page, two, first_masks=[seal]) == []
