"""Seal impressions: shapes, ink, determinism, multiply compositing."""

from __future__ import annotations

import random

import numpy as np
import pytest
from PIL import Image

from samples.seals import draw_seal, ink_hull, multiply, rotate

NAME = "上海国缆检测股份有限公司"


def _alpha(image: Image.Image) -> np.ndarray:
    return np.asarray(image.getchannel("A"), dtype=np.float32) / 255.0


@pytest.mark.parametrize(("shape", "ratio"), [("round", 1.0), ("oval", 0.75), ("square", 1.0),
                                              ("rectangle", 0.32)])
def test_shapes_have_their_size_and_ink(shape: str, ratio: float) -> None:
    seal = draw_seal(NAME, diameter_px=300, rng=random.Random(1), shape=shape)
    assert seal.mode == "RGBA"
    alpha = _alpha(seal)
    ys, xs = np.nonzero(alpha > 0.1)
    assert 290 <= xs.max() - xs.min() <= 306
    assert abs((ys.max() - ys.min()) - 300 * ratio) <= 8
    assert 0.05 < (alpha > 0.1).mean() < 0.6  # ink, not a filled disc


def test_round_seal_has_ring_star_and_name_band() -> None:
    seal = draw_seal(NAME, diameter_px=330, rng=random.Random(2))
    alpha = _alpha(seal)
    h, w = alpha.shape
    cy, cx = h // 2, w // 2
    assert alpha[cy - 5:cy + 5, cx - 5:cx + 5].mean() > 0.5  # the star's centre
    assert alpha[cy, cx - 163:cx - 158].max() > 0.4  # the ring, at the left edge
    assert alpha[cy - 125:cy - 95, cx - 20:cx + 20].mean() > 0.1  # characters along the top
    assert alpha[cy + 60:cy + 100, cx - 20:cx + 20].mean() < 0.05  # nothing below the star


def test_same_rng_same_seal_and_ink_varies() -> None:
    a = np.asarray(draw_seal(NAME, diameter_px=200, rng=random.Random(7)))
    b = np.asarray(draw_seal(NAME, diameter_px=200, rng=random.Random(7)))
    c = np.asarray(draw_seal(NAME, diameter_px=200, rng=random.Random(8)))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    inked = a[..., 3][a[..., 3] > 20]
    assert inked.std() > 15  # uneven ink, not a flat stamp


def test_faded_and_colour() -> None:
    strong = draw_seal(NAME, diameter_px=200, rng=random.Random(3))
    faded = draw_seal(NAME, diameter_px=200, rng=random.Random(3), faded=True)
    assert _alpha(faded).mean() < 0.75 * _alpha(strong).mean()
    gray = draw_seal(NAME, diameter_px=200, rng=random.Random(3), color=(90, 90, 90))
    rgb = np.asarray(gray)[..., :3]
    assert (rgb == 90).all()
    assert tuple(np.asarray(strong)[0, 0, :3]) == (210, 30, 40)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="shape"):
        draw_seal(NAME, diameter_px=200, rng=random.Random(1), shape="star")
    with pytest.raises(ValueError, match="diameter"):
        draw_seal(NAME, diameter_px=8, rng=random.Random(1))


def test_multiply_lets_text_show_through() -> None:
    page = np.full((400, 400, 3), 255, dtype=np.uint8)
    page[195:205, 50:350] = 0  # a black text stroke under the seal
    seal = rotate(draw_seal(NAME, diameter_px=300, rng=random.Random(4)), 15)
    multiply(page, seal, 200, 200)
    assert (page[195:205, 150:250] < 40).all()  # still black under the ink
    red = page[..., 0].astype(int) - page[..., 1].astype(int)
    assert (red > 80).sum() > 2000
    hull = ink_hull(seal)
    assert hull.shape[1] == 2
    assert hull[:, 0].max() - hull[:, 0].min() > 280
