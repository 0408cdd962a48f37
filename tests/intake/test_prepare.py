"""intake.prepare: colour, red seals, skew, orientation and ruled lines on generated pages."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
from PIL import Image

from intake import prepare
from intake.ocr import tesseract
from tests.intake.pagedraw import (
    LETTER_LINES,
    form_page,
    red_seal,
    rotate_page,
    text_image,
    text_page,
    to_bgr,
)

needs_tesseract = pytest.mark.skipif(shutil.which("tesseract") is None,
                                     reason="tesseract is not installed")


def _gray(image: Image.Image) -> np.ndarray:
    return np.asarray(cv2.cvtColor(to_bgr(image), cv2.COLOR_BGR2GRAY))


@pytest.fixture(scope="module")
def form() -> Image.Image:
    return form_page(200)


def _long_runs(gray: np.ndarray, length: int, threshold: int = 128) -> int:
    """How many pixels lie in horizontal or vertical dark runs at least ``length`` long."""
    ink = (gray < threshold).astype(np.uint8)
    horiz = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    vert = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((length, 1), np.uint8))
    return int(np.count_nonzero(horiz | vert))


# Colour -----------------------------------------------------------------------------------


def test_is_color_tells_a_sealed_page_from_a_gray_one(form: Image.Image) -> None:
    assert not prepare.is_color(to_bgr(form))
    assert not prepare.is_color(_gray(form))
    sealed = red_seal(form, (1200, 1800), 160, "上海电缆研究所有限公司")
    assert prepare.is_color(to_bgr(sealed))


def test_is_color_ignores_jpeg_fringes_on_a_gray_scan(tmp_path: object, form: Image.Image) -> None:
    ok, buf = cv2.imencode(".jpg", to_bgr(form), [cv2.IMWRITE_JPEG_QUALITY, 60])
    assert ok
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    assert not prepare.is_color(np.asarray(decoded))


def _sealed_opinion() -> tuple[Image.Image, str]:
    text = "同意该实验室通过初审"
    base = text_image(text, 44, pad=130)
    width, height = base.size
    return red_seal(base, (width // 2, height // 2), 115, "上海市经济和信息化委员会"), text


@needs_tesseract
def test_text_under_a_red_seal_is_read_after_red_ink_is_removed() -> None:
    sealed, text = _sealed_opinion()
    bgr = to_bgr(sealed)
    plain_gray = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
    before, _ = tesseract.ocr_text(plain_gray)
    after, conf = tesseract.ocr_text(prepare.remove_red_ink(bgr))
    assert before != text
    assert after == text
    assert conf > 80


def test_remove_red_ink_keeps_black_print_under_the_seal() -> None:
    sealed, _ = _sealed_opinion()
    bgr = to_bgr(sealed)
    black = bgr.max(axis=2) < 60  # black print, also where the seal covers it
    r = bgr[:, :, 2].astype(int)
    red = (r > 150) & (r - bgr[:, :, :2].max(axis=2) > 80)  # seal ink on bare paper
    assert black.any()
    assert red.any()
    out = prepare.remove_red_ink(bgr)
    assert out.ndim == 2
    assert out[black].max() < 80
    assert out[red].min() > 200


def _gray_sealed_opinion() -> tuple[np.ndarray, np.ndarray, str]:
    """The sealed opinion as a gray photocopy: the seal's ink comes out mid-gray."""
    sealed, text = _sealed_opinion()
    bgr = to_bgr(sealed)
    return bgr, np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)), text


def test_is_gray_tells_a_gray_scan_from_a_tinted_colour_one(form: Image.Image) -> None:
    assert prepare.is_gray(_gray(form))
    assert prepare.is_gray(cv2.cvtColor(_gray(form), cv2.COLOR_GRAY2BGR))
    tinted = to_bgr(form).astype(np.int16) + np.array([-3, 0, 2], np.int16)  # warm paper
    assert not prepare.is_gray(np.clip(tinted, 0, 255).astype(np.uint8))


def test_drop_gray_seals_keeps_print_and_whitens_seal_ink() -> None:
    bgr, gray, _ = _gray_sealed_opinion()
    black = gray < 60  # print, also where the seal covers it
    r = bgr[:, :, 2].astype(int)
    seal = (r > 150) & (r - bgr[:, :, :2].max(axis=2) > 80)  # seal ink on bare paper
    assert 60 < np.median(gray[seal]) < 180  # a gray seal: no colour, lighter than print
    out = prepare.drop_gray_seals(gray)
    assert out[black].max() < 80
    assert np.mean(out[seal] > 200) > 0.9


def test_drop_gray_seals_leaves_a_page_without_seals_alone(form: Image.Image) -> None:
    gray = _gray(form)
    ink = gray < 128
    assert np.array_equal(prepare.drop_gray_seals(gray)[ink], gray[ink])


@needs_tesseract
def test_text_under_a_gray_seal_is_read_after_the_seal_is_dropped() -> None:
    _, gray, text = _gray_sealed_opinion()
    before, _ = tesseract.ocr_text(gray)
    after, conf = tesseract.ocr_text(prepare.drop_gray_seals(gray))
    assert before != text
    assert after == text
    assert conf > 80


def test_remove_red_ink_keeps_blue_pen() -> None:
    bgr = np.full((20, 20, 3), 255, np.uint8)
    bgr[5:15, 5:15] = (180, 40, 30)  # blue ballpoint, BGR
    assert prepare.remove_red_ink(bgr)[10, 10] < 80


def _uneven_light(gray: np.ndarray) -> np.ndarray:
    """The page under a lamp that fades to one side: paper from 250 down to 150."""
    h, w = gray.shape
    light = np.linspace(1.0, 0.6, w, dtype=np.float32)[None, :] * np.ones((h, 1), np.float32)
    return np.asarray(np.clip(gray.astype(np.float32) * light * 250 / 255, 0, 255),
                      dtype=np.uint8)


def test_flatten_makes_the_paper_white_and_keeps_the_print(form: Image.Image) -> None:
    gray = _gray(form)
    dim = _uneven_light(gray)
    flat = prepare.flatten(dim)
    paper = gray == 255
    print_ = gray < 60
    assert dim[paper].min() < 160
    assert np.percentile(flat[paper], 5) > 235
    assert np.percentile(flat[print_], 95) < 110


@needs_tesseract
def test_ocr_of_a_dim_page_reads_after_flatten(form: Image.Image) -> None:
    dim = _uneven_light(_gray(form))
    before = "".join(ln.text for ln in tesseract.ocr_lines(prepare.remove_rules(dim), dpi=200))
    after = "".join(ln.text for ln in tesseract.ocr_lines(
        prepare.remove_rules(prepare.flatten(dim)), dpi=200))
    for value in ("上海市经济和信息化委员会", "021-65493333", "913100001322011589"):
        assert value not in before  # the dim side is read as noise
        assert value in after


# Skew -------------------------------------------------------------------------------------


@pytest.mark.parametrize("lean", [-5.0, -3.0, -0.6, 0.0, 1.5, 3.0, 5.0])
def test_deskew_straightens_a_ruled_page(form: Image.Image, lean: float) -> None:
    leaning = _gray(rotate_page(form, lean))
    straight, turned = prepare.deskew(leaning)
    assert abs(turned + lean) <= 0.15
    if lean:
        assert straight.shape != leaning.shape  # the canvas grew: no corner was cut off
    # The table's rules are long straight runs again (blurred a little by two turns).
    assert _long_runs(straight, 600, 200) > 0.5 * _long_runs(_gray(form), 600, 200)
    if abs(lean) >= 1:
        assert _long_runs(leaning, 600, 200) < 0.1 * _long_runs(straight, 600, 200)


def test_deskew_without_rules_uses_the_text_lines() -> None:
    page = text_page(LETTER_LINES)
    for lean in (-3.0, 3.0):
        _, turned = prepare.deskew(_gray(rotate_page(page, lean)))
        assert abs(turned + lean) <= 0.3


def test_deskew_leaves_a_straight_page_alone(form: Image.Image) -> None:
    gray = _gray(form)
    straight, turned = prepare.deskew(gray)
    assert turned == 0.0
    assert straight is gray


def test_rotate_bound_keeps_the_corners() -> None:
    image = np.zeros((100, 200), np.uint8)
    turned = prepare.rotate_bound(image, 30)
    assert turned.shape == (round(100 * np.cos(np.pi / 6) + 200 * 0.5),
                            round(200 * np.cos(np.pi / 6) + 100 * 0.5))
    assert np.count_nonzero(turned == 0) >= 0.98 * image.size


# Orientation ------------------------------------------------------------------------------


@needs_tesseract
@pytest.mark.parametrize(("arrived", "lean"), [(0, 0.0), (180, 0.0), (180, 3.0), (90, 0.0),
                                                (270, -2.0)])
def test_orient_turns_the_page_upright(form: Image.Image, arrived: int, lean: float) -> None:
    page = prepare.turn(_gray(rotate_page(form, lean)), arrived)
    upright, rotation = prepare.orient(page)
    assert rotation == (360 - arrived) % 360
    assert upright.shape == _gray(form).shape  # orient only turns; deskew straightens
    straight, _ = prepare.deskew(upright)
    title = tesseract.ocr_lines(straight[: straight.shape[0] // 4])
    assert any("复核申报信息表" in ln.text for ln in title)


@needs_tesseract
def test_orient_an_upside_down_letter() -> None:
    page = _gray(text_page(LETTER_LINES))
    _, rotation = prepare.orient(prepare.turn(page, 180))
    assert rotation == 180


@needs_tesseract
@pytest.mark.parametrize(("arrived", "lean"), [(0, 1.0), (180, -2.0), (90, 0.0), (270, 3.0)])
def test_the_page_read_settles_which_way_up(form: Image.Image, arrived: int, lean: float) -> None:
    # Without its own orientation read: the page read tells an upside-down page and rereads it.
    page = prepare.turn(to_bgr(rotate_page(form, lean)), arrived)
    deferred = prepare.prepare(page, defer_flip=True)
    assert deferred.flip_strips
    assert deferred.rotation in ((360 - arrived) % 360, (540 - arrived) % 360)
    prepared, lines = prepare.read_upright(deferred, psm=11)
    assert prepared.rotation == (360 - arrived) % 360
    assert abs(prepared.skew + lean) <= 0.15  # straightened by the lean the shape measured
    assert not prepared.flip_strips
    assert prepared.gray.shape == deferred.gray.shape
    text = "".join(ln.text for ln in lines)
    assert "上海电缆研究所有限公司" in text
    assert all(ln.box.y2 <= prepared.gray.shape[0] for ln in lines)  # nothing of the strip


@needs_tesseract
def test_the_page_read_turns_an_upside_down_letter() -> None:
    page = prepare.turn(to_bgr(text_page(LETTER_LINES)), 180)
    prepared, _ = prepare.read_upright(prepare.prepare(page, defer_flip=True))
    assert prepared.rotation == 180


@needs_tesseract
def test_an_upright_page_whose_strips_mislead_is_not_turned(monkeypatch) -> None:
    # The strips say "upside down" (as a sparse, skewed heavy scan's did); the page read both
    # ways up says otherwise, and the page stays as it is.
    monkeypatch.setattr(prepare, "_UPRIGHT_SHARE", 1.01)
    monkeypatch.setattr(prepare, "_best_read", lambda crops, timeout: len(crops))
    page = to_bgr(text_page(LETTER_LINES))
    prepared, lines = prepare.read_upright(prepare.prepare(page, defer_flip=True))
    assert prepared.rotation == 0
    assert "初审确认" in "".join(ln.text for ln in lines)


@needs_tesseract
@pytest.mark.parametrize("arrived", [0, 180])
def test_a_page_whose_square_read_misleads_is_read_the_right_way_up(
        monkeypatch, arrived: int) -> None:
    # The shape cannot tell which way the lines run and the square of text read at four
    # turns says "upside down" (as on a sparse, leaning heavy scan of an approval page): the
    # lines' direction is taken from it, which way up is left to the page read.
    monkeypatch.setattr(prepare, "_text_direction", lambda text: (None, 13.0))
    monkeypatch.setattr(prepare, "_read_orientation",
                        lambda gray, shape, timeout: (180 + arrived) % 360)
    page = prepare.turn(to_bgr(rotate_page(text_page(LETTER_LINES), 2.5)), arrived)
    deferred = prepare.prepare(page, defer_flip=True)
    assert deferred.flip_strips
    prepared, lines = prepare.read_upright(deferred)
    assert prepared.rotation == (360 - arrived) % 360
    assert "初审确认" in "".join(ln.text for ln in lines)


def test_orient_leaves_a_blank_page_alone() -> None:
    blank = np.full((1169, 827), 255, np.uint8)
    out, rotation = prepare.orient(blank)
    assert rotation == 0
    assert out is blank


def test_turn_only_in_quarter_turns() -> None:
    image = np.arange(6, dtype=np.uint8).reshape(2, 3)
    assert prepare.turn(image, 90).shape == (3, 2)
    assert prepare.turn(image, -90).tolist() == prepare.turn(image, 270).tolist()
    with pytest.raises(ValueError, match="multiple of 90"):
        prepare.turn(image, 45)


# Ruled lines ------------------------------------------------------------------------------


def test_remove_rules_erases_the_table_and_keeps_the_characters(form: Image.Image) -> None:
    gray = _gray(form)
    clean = prepare.remove_rules(gray)
    assert _long_runs(gray, 200) > 10_000
    assert _long_runs(clean, 200) == 0
    # Characters away from the rules are untouched.
    cell = (slice(495, 566), slice(190, 600))  # the label "统一社会信用代码", inside its cell
    assert np.count_nonzero(gray[cell] < 128) > 500
    assert np.array_equal(clean[cell], gray[cell])


def test_remove_rules_keeps_a_stroke_that_crosses_a_rule() -> None:
    gray = np.full((2339, 1654), 255, np.uint8)  # an A4 page at 200 dpi
    gray[1000:1003, 180:1480] = 0  # a rule
    gray[975:1025, 800:804] = 0  # a character's vertical stroke through it
    gray[1001:1013, 900:930] = 0  # a character's blob touching it from below
    clean = prepare.remove_rules(gray)
    assert clean[1001, 500] == 255  # the rule is gone
    assert (clean[975:1025, 800:804] < 128).all()  # the stroke is whole
    assert (clean[1004:1013, 900:930] < 128).all()  # the blob below the rule is kept


@needs_tesseract
def test_ocr_reads_the_form_once_rules_are_removed(form: Image.Image) -> None:
    # In one-block mode (psm 6) tesseract takes a ruled table for one big picture.
    gray = _gray(form)
    ruled = "\n".join(ln.text for ln in tesseract.ocr_lines(gray, psm=6, dpi=200))
    clean = "\n".join(ln.text for ln in tesseract.ocr_lines(prepare.remove_rules(gray), psm=6,
                                                              dpi=200))
    assert "913100001322011589" in clean
    assert "上海电缆研究所有限公司" in clean
    assert len(clean) > 1.5 * len(ruled)


# All together -----------------------------------------------------------------------------


@needs_tesseract
def test_prepare_a_sealed_upside_down_leaning_page(form: Image.Image) -> None:
    sealed = red_seal(form, (1150, 700), 170, "上海电缆研究所有限公司")
    arrived = prepare.turn(to_bgr(rotate_page(sealed, 3.0)), 180)
    prepared = prepare.prepare(arrived)
    assert prepared.was_color
    assert prepared.rotation == 180
    assert abs(prepared.skew + 3.0) <= 0.15
    assert prepared.gray.shape == prepared.layout.shape
    assert _long_runs(prepared.gray, 400) == 0
    assert _long_runs(prepared.layout, 400) > 0
    text = "\n".join(ln.text for ln in tesseract.ocr_lines(prepared.gray, dpi=200))
    assert "上海电缆研究所有限公司" in text
    # The colour original, given the same geometry, lines up with the gray page.
    colour = prepare.upright(arrived, prepared.rotation, prepared.skew)
    assert colour.shape[:2] == prepared.layout.shape
    assert prepare.is_color(colour)
