"""The seal detector and the seal reader on pages drawn in code: seals from the sample generator's
``draw_seal`` stamped over a printed form page, and red things that are not seals."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from intake.load import render_page
from intake.model import Box, DocumentKind, Seal, SealShape
from intake.seal_text import match_organisation, read_seal_text
from intake.seals import detect_seals, seal_color_mask
from samples.generate import generate_batch
from samples.seals import draw_seal, rotate
from tests.intake.pagedraw import font, form_page

DPI = 150
MM = DPI / 25.4
RED = (210, 30, 40)
BLUE = (30, 60, 190)
PEN_RED = (200, 20, 30)

ORGANISATIONS = (
    "北京市产品质量监督检验研究院",
    "北京市产品质量监督检验院",
    "天津市产品质量监督检测技术研究院",
    "上海市质量监督检验技术研究院",
    "中国电器工业协会",
)


def page_rgb(dpi: int = DPI) -> np.ndarray:
    return np.array(form_page(dpi))


def stamp(page: np.ndarray, seal: Image.Image, cx: float, cy: float) -> Box:
    """Multiply ``seal`` into ``page`` centred at (cx, cy); the box of its ink on the page."""
    rgba = np.asarray(seal, dtype=np.float32)
    h, w = rgba.shape[:2]
    x0, y0 = round(cx - w / 2), round(cy - h / 2)
    px0, py0 = max(0, x0), max(0, y0)
    px1, py1 = min(page.shape[1], x0 + w), min(page.shape[0], y0 + h)
    patch = rgba[py0 - y0:py1 - y0, px0 - x0:px1 - x0]
    factor = 1.0 - patch[..., 3:4] / 255.0 * (1.0 - patch[..., :3] / 255.0)
    page[py0:py1, px0:px1] = np.clip(page[py0:py1, px0:px1] * factor + 0.5, 0, 255).astype(
        np.uint8)
    ys, xs = np.nonzero(patch[..., 3] > 24)
    return Box(px0 + int(xs.min()), py0 + int(ys.min()), int(xs.max() - xs.min()) + 1,
               int(ys.max() - ys.min()) + 1)


def seal(name: str = ORGANISATIONS[0], *, mm: float = 42, seed: int = 1, **kw: object) -> Image.Image:
    return draw_seal(name, diameter_px=round(mm * MM), rng=random.Random(seed), **kw)  # type: ignore[arg-type]


def bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[:, :, ::-1])


def photocopy(rgb: np.ndarray) -> np.ndarray:
    """A gray copy: seals as gray as text, a little darker overall, returned as BGR."""
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    gray = np.clip((gray - 12.0) * 1.08, 0, 255).astype(np.uint8)
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def only(seals: list[Seal]) -> Seal:
    assert len(seals) == 1, seals
    return seals[0]


# Found ----------------------------------------------------------------------------------------


def test_red_round_seal_is_found_where_it_is() -> None:
    page = page_rgb()
    truth = stamp(page, rotate(seal(bottom_text="检验专用章"), 20), 140 * MM, 200 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.8
    assert (found.shape, found.color, found.complete) == (SealShape.ROUND, "red", True)
    assert 0.5 <= found.score <= 1.0


@pytest.mark.parametrize(("shape", "mm", "expected"), [
    ("oval", 40, SealShape.OVAL),
    ("square", 24, SealShape.SQUARE),
    ("rectangle", 45, SealShape.RECTANGLE),
])
def test_other_shapes_are_found_and_named(shape: str, mm: float, expected: SealShape) -> None:
    page = page_rgb()
    name = "张建国印" if shape == "square" else ORGANISATIONS[3]
    if shape == "rectangle":
        name = "复印件与原件一致"
    truth = stamp(page, seal(name, mm=mm, shape=shape), 120 * MM, 150 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.8
    assert found.shape is expected


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_square_seal_with_a_chop_across_it_is_found_as_a_square(seed: int) -> None:
    # A certificate copy: the 复印件与原件一致 chop and a legal entity's square seal over its
    # end make one ink region, too big for one stamp.
    page = page_rgb()
    chop = stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=31), 3),
                 70 * MM, 200 * MM)
    square = stamp(page, seal(ORGANISATIONS[seed], mm=30, shape="square", seed=seed),
                   94 * MM, 194 * MM)
    found = detect_seals(bgr(page), DPI)
    assert len(found) == 2, found
    by_square = max(found, key=lambda s: s.box.iou(square))
    assert by_square.shape is SealShape.SQUARE
    assert by_square.box.iou(square) >= 0.8
    by_chop = max(found, key=lambda s: s.box.iou(chop))
    assert by_chop.shape is SealShape.RECTANGLE
    assert by_chop.box.iou(chop) >= 0.6


def test_heavily_inked_square_seal_is_found() -> None:
    # A heavy scan spreads the name's strokes until they cover most of the square's inside.
    page = page_rgb()
    image = seal(ORGANISATIONS[3], mm=30, shape="square", seed=3)
    alpha = image.getchannel("A").filter(ImageFilter.MaxFilter(3)).filter(
        ImageFilter.GaussianBlur(1))
    image.putalpha(alpha)
    truth = stamp(page, image, 120 * MM, 150 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.shape is SealShape.SQUARE
    assert found.box.iou(truth) >= 0.8


def test_blue_seal_is_found_as_blue() -> None:
    page = page_rgb()
    truth = stamp(page, seal(color=BLUE), 70 * MM, 220 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.color == "blue"
    assert found.box.iou(truth) >= 0.8


def test_faded_pink_seal_is_found() -> None:
    page = page_rgb()
    truth = stamp(page, seal(faded=True, seed=3), 120 * MM, 230 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.7


def test_boxes_are_in_the_input_images_pixels_at_any_dpi() -> None:
    dpi = 300
    page = page_rgb(dpi)
    px = dpi / 25.4
    truth = stamp(page, draw_seal(ORGANISATIONS[4], diameter_px=round(42 * px),
                                  rng=random.Random(5)), 60 * px, 240 * px)
    found = only(detect_seals(bgr(page), dpi))
    assert found.box.iou(truth) >= 0.8


def test_half_seal_at_the_binding_edge_is_marked_incomplete() -> None:
    page = page_rgb()
    whole = seal(ORGANISATIONS[2], seed=7)
    truth = stamp(page, whole, 0, 150 * MM)  # centred on the left edge: half of it on the page
    found = only(detect_seals(bgr(page), DPI))
    assert found.complete is False
    assert found.box.x == 0
    assert found.box.iou(truth) >= 0.7


def test_two_overlapping_seals_are_both_reported() -> None:
    page = page_rgb()
    first = stamp(page, seal(ORGANISATIONS[0], seed=2), 80 * MM, 200 * MM)
    second = stamp(page, rotate(seal(ORGANISATIONS[4], seed=4), -15), 105 * MM, 210 * MM)
    found = detect_seals(bgr(page), DPI)
    assert len(found) == 2
    for truth in (first, second):
        assert max(s.box.iou(truth) for s in found) >= 0.7


@pytest.mark.parametrize(("degrees", "faded", "quality"), [
    (0.3, False, 85), (1.2, True, 50), (-2.5, True, 50), (3.0, False, 40),
])
def test_seal_blurred_by_a_bilinear_turn_and_jpeg_is_found(
    degrees: float, faded: bool, quality: int
) -> None:
    # A deskew turns the page with bilinear resampling, which blends ink with paper; JPEG then
    # averages the colour over 2 x 2 pixels. Faded ring text comes out paler than the detector's
    # ink threshold, and must still count as the stamp's text.
    page = page_rgb()
    truth = stamp(page, rotate(seal(ORGANISATIONS[2], seed=2, faded=faded), 20), 120 * MM,
                  200 * MM)
    h, w = page.shape[:2]
    turn = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    turned = cv2.warpAffine(bgr(page), turn, (w, h), flags=cv2.INTER_LINEAR,
                            borderValue=(255, 255, 255))
    ok, data = cv2.imencode(".jpg", turned, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    scanned = cv2.imdecode(data, cv2.IMREAD_COLOR)
    found = only(detect_seals(scanned, DPI))
    cx, cy = turn @ np.array([truth.x + truth.w / 2, truth.y + truth.h / 2, 1.0])
    moved = Box(round(cx - truth.w / 2), round(cy - truth.h / 2), truth.w, truth.h)
    assert found.box.iou(moved) >= 0.8
    assert found.color == "red"


def test_gray_seal_on_a_photocopy_is_found() -> None:
    page = page_rgb()
    truth = stamp(page, seal(ORGANISATIONS[3], seed=9), 140 * MM, 215 * MM)
    found = only(detect_seals(photocopy(page), DPI))
    assert found.color == "gray"
    assert found.box.iou(truth) >= 0.7


def chop_under_seal(page: np.ndarray, cx: float, cy: float, **kw: object) -> tuple[Box, Box]:
    """A 复印件与原件一致 chop with a round seal half over it, as certificate copies are
    stamped: the boxes of the chop and of the seal."""
    chop = stamp(page, seal("复印件与原件一致", mm=46, shape="rectangle", seed=31, **kw), cx, cy)
    over = stamp(page, seal(ORGANISATIONS[0], seed=32, **kw), cx + 27 * MM, cy - 6 * MM)
    return chop, over


@pytest.mark.parametrize("faded", [False, True])
def test_chop_half_under_a_seal_is_found_with_it(faded: bool) -> None:
    page = page_rgb()
    chop, over = chop_under_seal(page, 70 * MM, 200 * MM, faded=faded)
    found = detect_seals(bgr(page), DPI)
    assert len(found) == 2, found
    rect = max(found, key=lambda s: s.box.iou(chop))
    assert rect.shape is SealShape.RECTANGLE
    assert rect.box.iou(chop) >= 0.7
    assert max(s.box.iou(over) for s in found) >= 0.8


def test_gray_copy_chop_is_found() -> None:
    # A faded chop comes out of a photocopy 20-40 levels under the paper, its frame broken:
    # not found yet (bench/RESULTS.md, Seals).
    page = page_rgb()
    chop, over = chop_under_seal(page, 70 * MM, 200 * MM)
    found = detect_seals(photocopy(page), DPI)
    assert len(found) == 2, found
    assert all(s.color == "gray" for s in found)
    rect = max(found, key=lambda s: s.box.iou(chop))
    assert rect.shape is SealShape.RECTANGLE
    assert rect.box.iou(chop) >= 0.7
    assert max(s.box.iou(over) for s in found) >= 0.7


def test_gray_chop_alone_is_found() -> None:
    page = page_rgb()
    chop = stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=33), -5),
                 100 * MM, 235 * MM)
    found = only(detect_seals(photocopy(page), DPI))
    assert found.shape is SealShape.RECTANGLE
    assert found.box.iou(chop) >= 0.7


def test_single_channel_gray_page_is_accepted() -> None:
    page = page_rgb()
    truth = stamp(page, seal(ORGANISATIONS[1], seed=11), 140 * MM, 215 * MM)
    gray = cv2.cvtColor(photocopy(page), cv2.COLOR_BGR2GRAY)
    found = only(detect_seals(gray, DPI))
    assert found.box.iou(truth) >= 0.7


@pytest.mark.slow
def test_chops_under_seals_on_a_heavy_scan_at_300_dpi_are_found(tmp_path: Path) -> None:
    # A generated certificate copy scanned heavy, rendered at 300 DPI: the free end of its
    # 复印件与原件一致 chop, the seal lying over the other end, was once taken for a small round
    # seal, and the chop lost.
    generate_batch(tmp_path, labs=2, seed=53, degrade="heavy")
    truth = json.loads((tmp_path / "L2021-002" / "truth.json").read_text(encoding="utf-8"))
    image, dpi = render_page(tmp_path / "L2021-002" / "volume-1.pdf", DocumentKind.PDF, 5,
                             dpi=300)
    f = dpi / 200  # the generator's resolution
    expected = [(s["shape"], Box(*(round(v * f) for v in s["box"]))) for s in truth["seals"]
                if s["document"] == "volume-1.pdf" and s["page"] == 5]
    assert "rectangle" in [shape for shape, _ in expected]
    found = detect_seals(image, dpi)
    assert len(found) == len(expected), found
    for shape, box in expected:
        best = max(found, key=lambda s: s.box.iou(box))
        assert best.box.iou(box) >= 0.8
        assert best.shape.value == shape


# Not seals ------------------------------------------------------------------------------------


def red_headline(page: np.ndarray) -> None:
    """A red-headed letter: the association's name in big red characters and a red rule."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    draw.text((page.shape[1] / 2, 12 * MM), "中国机械工业联合会文件", font=font(round(13 * MM)),
              fill=RED, anchor="mt")
    draw.line([(20 * MM, 32 * MM), (190 * MM, 32 * MM)], fill=RED, width=round(0.8 * MM))
    page[:] = np.asarray(img)


def red_handwriting(page: np.ndarray) -> None:
    """A red-pen signature with loops, and a date, about 45 x 20 mm."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    rng = random.Random(4)
    for stroke in range(7):
        x, y = (120 + stroke * 6.5) * MM, (215 + rng.uniform(0, 8)) * MM
        points = [(x, y)]
        for _ in range(12):
            x += rng.uniform(-1.5, 2.5) * MM
            y += rng.uniform(-3, 3) * MM
            points.append((x, y))
        draw.line(points, fill=PEN_RED, width=round(0.5 * MM), joint="curve")
    for k in range(3):  # loops of the pen, roughly round
        cx, cy, r = (130 + 12 * k) * MM, 240 * MM, 4 * MM
        draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=PEN_RED, width=round(0.5 * MM))
    draw.text((120 * MM, 252 * MM), "2021年3月5日", font=font(round(4 * MM)), fill=PEN_RED)
    page[:] = np.asarray(img)


def drawn_circle(page: np.ndarray) -> None:
    """A thin red circle drawn by hand round a paragraph, nothing red inside it."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    cx, cy, r = 100 * MM, 120 * MM, 21 * MM
    points = [(cx + r * (1 + 0.03 * math.sin(3 * t)) * math.cos(t), cy + r * 0.96 * math.sin(t))
              for t in np.linspace(0, 2.1 * math.pi, 240)]
    draw.line(points, fill=PEN_RED, width=max(1, round(0.5 * MM)), joint="curve")
    page[:] = np.asarray(img)


def small_marks(page: np.ndarray) -> None:
    """Red ticks and a small red circle round a number."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    for k in range(5):
        x, y = (40 + 25 * k) * MM, 250 * MM
        draw.line([(x, y), (x + 2 * MM, y + 3 * MM), (x + 6 * MM, y - 4 * MM)], fill=PEN_RED,
                  width=round(0.6 * MM))
    draw.ellipse([60 * MM, 265 * MM, 68 * MM, 273 * MM], outline=PEN_RED, width=round(0.6 * MM))
    page[:] = np.asarray(img)


@pytest.mark.parametrize("draw", [red_headline, red_handwriting, drawn_circle, small_marks])
def test_red_things_that_are_not_seals_are_rejected(draw: object) -> None:
    page = page_rgb()
    draw(page)  # type: ignore[operator]
    assert detect_seals(bgr(page), DPI) == []


@pytest.mark.parametrize("draw", [red_headline, red_handwriting, drawn_circle])
def test_a_seal_beside_red_ink_is_found_alone(draw: object) -> None:
    page = page_rgb()
    draw(page)  # type: ignore[operator]
    truth = stamp(page, seal(ORGANISATIONS[2], seed=12), 60 * MM, 200 * MM)
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.8


def signature_from(page: np.ndarray, x: float, y: float, seed: int) -> None:
    """A red-pen signature starting at (x, y) and running down to the left, about 25 mm."""
    rng = random.Random(seed)
    img = Image.fromarray(page)
    points = [(x, y)]
    for _ in range(14):
        x += rng.uniform(-2.5, 1.5) * MM
        y += rng.uniform(-2, 5) * MM
        points.append((x, y))
    ImageDraw.Draw(img).line(points, fill=PEN_RED, width=round(0.6 * MM), joint="curve")
    page[:] = np.asarray(img)


def circled_ticks(page: np.ndarray, cx: float, cy: float, seed: int) -> None:
    """A reviewer's circle drawn round two ticks, a little out of round, with a signature
    run from inside it out across its edge: about as big as a seal, with red marks inside."""
    phase = random.Random(seed).uniform(0, 6)
    r = 21 * MM
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    ts = np.linspace(0, 2 * math.pi, 200)
    wobble = 1 + 0.04 * np.sin(3 * ts + phase)
    draw.line(list(zip(cx + r * wobble * np.cos(ts), cy + 0.9 * r * wobble * np.sin(ts),
                       strict=True)), fill=PEN_RED, width=round(0.6 * MM), joint="curve")
    for dx in (-12, 2):
        x, y = cx + dx * MM, cy - 10 * MM
        draw.line([(x, y), (x + 2 * MM, y + 4 * MM), (x + 7 * MM, y - 5 * MM)], fill=PEN_RED,
                  width=round(0.6 * MM))
    page[:] = np.asarray(img)
    signature_from(page, cx + 10 * MM, cy + 2 * MM, seed)


@pytest.mark.parametrize("seed", [0, 2, 6, 13, 18])
def test_circle_drawn_round_ticks_with_a_signature_across_it_is_not_a_seal(seed: int) -> None:
    page = page_rgb()
    circled_ticks(page, 100 * MM, 150 * MM, seed)
    assert detect_seals(bgr(page), DPI) == []


@pytest.mark.parametrize("seed", [2, 7, 8, 14, 16])
def test_seal_with_a_signature_across_it_is_found(seed: int) -> None:
    page = page_rgb()
    truth = stamp(page, seal(ORGANISATIONS[1], seed=seed), 100 * MM, 150 * MM)
    signature_from(page, 110 * MM, 152 * MM, seed)
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.9


def circled_number_under_headline(page: np.ndarray, cx: float, seed: int) -> None:
    """A red-headed letter whose number a reviewer has circled in red pen: the circle, not
    closed, runs across the headline's characters above and the red rule below."""
    red_headline(page)
    rng = random.Random(seed)
    cy, r = 36 * MM, 22 * MM
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    draw.text((cx, cy), "〔2021〕48号", font=font(round(4 * MM)), fill="black", anchor="mm")
    ts = np.linspace(0, rng.uniform(1.85, 2.1) * math.pi, 200)
    wobble = 1 + 0.04 * np.sin(3 * ts + rng.uniform(0, 6))
    draw.line(list(zip(cx + r * wobble * np.cos(ts), cy + 0.9 * r * wobble * np.sin(ts),
                       strict=True)), fill=PEN_RED, width=round(0.5 * MM), joint="curve")
    page[:] = np.asarray(img)


@pytest.mark.parametrize(("cx_mm", "seed"), [(60, 0), (60, 3), (140, 1), (140, 4)])
def test_pen_circle_across_a_red_headline_is_not_a_seal(cx_mm: int, seed: int) -> None:
    page = page_rgb()
    circled_number_under_headline(page, cx_mm * MM, seed)
    assert detect_seals(bgr(page), DPI) == []


def test_pen_circle_across_a_seal_is_not_a_second_seal() -> None:
    page = page_rgb()
    truth = stamp(page, seal(seed=13), 100 * MM, 140 * MM)
    drawn_circle(page)  # centred 20 mm above the seal, crossing it
    found = only(detect_seals(bgr(page), DPI))
    assert found.box.iou(truth) >= 0.8


def test_printed_gray_page_has_no_seals() -> None:
    page = page_rgb()
    drawn_circle(page)
    assert detect_seals(photocopy(page), DPI) == []


def pen_circle_round_title(page: np.ndarray, r_mm: float) -> None:
    """A certificate copy's bold two-line title with a pen circle drawn round it: one stroke,
    a little out of round, its ends overlapping."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    cx, cy = 105 * MM, 180 * MM
    for k, line in enumerate(("检验检测机构", "资质认定证书")):
        draw.text((cx, cy + (k - 0.5) * 16 * MM), line, font=font(round(12 * MM)), fill="black",
                  anchor="mm", stroke_width=round(0.5 * MM), stroke_fill="black")
    page[:] = np.asarray(img)
    t = np.linspace(0, 2.05 * math.pi, 200)
    wob = 1 + 0.04 * np.sin(3 * t + 1.0)
    pts = np.stack([cx + r_mm * MM * wob * np.cos(t), cy + 0.9 * r_mm * MM * wob * np.sin(t)], 1)
    cv2.polylines(page, [pts.astype(np.int32)], False, PEN_RED, round(0.6 * MM), cv2.LINE_AA)


@pytest.mark.parametrize("r_mm", [18, 26])
def test_pen_circle_round_bold_print_on_a_gray_page_is_not_a_seal(r_mm: float) -> None:
    page = page_rgb()
    pen_circle_round_title(page, r_mm)
    assert detect_seals(photocopy(page), DPI) == []


def boxed_notes(page: np.ndarray) -> None:
    """Printed boxes a chop could be taken for: a ruled box round a line of bold text, and
    a table of cells the size of a chop, lines of text in them."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    x, y = 30 * MM, 235 * MM
    draw.rectangle([x, y, x + 50 * MM, y + 16 * MM], outline="black", width=round(0.4 * MM))
    draw.text((x + 25 * MM, y + 8 * MM), "以下内容须如实填写", font=font(round(6 * MM)),
              fill="black", anchor="mm")
    top = 255 * MM
    for row in range(3):
        for col in range(3):
            cx0, cy0 = (30 + 50 * col) * MM, top + row * 15 * MM
            draw.rectangle([cx0, cy0, cx0 + 50 * MM, cy0 + 15 * MM], outline="black",
                           width=round(0.5 * MM))
            draw.text((cx0 + 25 * MM, cy0 + 7.5 * MM), "检验检测能力", font=font(round(5 * MM)),
                      fill="black", anchor="mm")
    page[:] = np.asarray(img)


def test_printed_boxes_and_table_cells_on_a_gray_page_are_not_chops() -> None:
    page = page_rgb()
    boxed_notes(page)
    assert detect_seals(photocopy(page), DPI) == []


def small_pen_circles(page: np.ndarray) -> None:
    """Numbers circled in red pen, 14-17 mm across, one with a signature stroke through it."""
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    for k, (r, width) in enumerate(((7.0, 0.45), (7.8, 0.6), (8.4, 0.7))):
        cx, cy = (40 + 55 * k) * MM, 60 * MM
        draw.ellipse([cx - r * MM, cy - r * MM, cx + r * MM, cy + r * MM], outline=PEN_RED,
                     width=max(1, round(width * MM)))
        draw.text((cx, cy), str(k + 1), font=font(round(9 * MM)), fill=PEN_RED, anchor="mm")
    x, y = 148 * MM, 52 * MM
    draw.line([(x, y), (x + 8 * MM, y + 4 * MM), (x + 14 * MM, y + 2 * MM), (x + 22 * MM, y + 9 * MM)],
              fill=PEN_RED, width=round(0.6 * MM), joint="curve")
    page[:] = np.asarray(img)


def test_small_circles_drawn_in_pen_are_not_seals() -> None:
    page = page_rgb()
    small_pen_circles(page)
    assert detect_seals(bgr(page), DPI) == []


def test_blank_page_has_no_seals() -> None:
    assert detect_seals(np.full((1754, 1240, 3), 255, np.uint8), DPI) == []


# The ink mask ---------------------------------------------------------------------------------


def test_seal_color_mask_keeps_seal_ink_and_drops_black_print() -> None:
    page = page_rgb()
    truth = stamp(page, seal(), 100 * MM, 150 * MM)
    mask = seal_color_mask(bgr(page))
    assert mask.shape == page.shape[:2]
    assert mask.dtype == np.uint8
    inside = mask[truth.y:truth.y2, truth.x:truth.x2]
    assert (inside > 0).mean() > 0.1
    outside = mask.copy()
    outside[truth.y:truth.y2, truth.x:truth.x2] = 0
    assert not outside.any()  # the form's black text and rules are not seal ink
    assert not seal_color_mask(cv2.cvtColor(bgr(page), cv2.COLOR_BGR2GRAY)).any()


# Reading the seal -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine():  # type: ignore[no-untyped-def]
    from intake.ocr.rapid import RapidEngine

    return RapidEngine()


@pytest.mark.parametrize(("name", "shape", "turn"), [
    (ORGANISATIONS[0], "round", 0),
    (ORGANISATIONS[1], "round", 25),
    (ORGANISATIONS[2], "round", -20),
    (ORGANISATIONS[3], "oval", 10),
])
def test_seal_text_is_read_and_matched_among_similar_names(
    engine: object, name: str, shape: str, turn: float
) -> None:
    page = page_rgb()
    image = seal(name, seed=21, shape=shape, bottom_text="检验专用章" if shape == "round" else "")
    stamp(page, rotate(image, turn), 120 * MM, 180 * MM)
    page_bgr = bgr(page)
    found = only(detect_seals(page_bgr, DPI))
    text, score = read_seal_text(page_bgr, found, engine)  # type: ignore[arg-type]
    assert 0.5 <= score <= 1.0
    matched, similarity = match_organisation(text, ORGANISATIONS)
    assert matched == name, text
    assert similarity >= 0.75


def test_seal_without_a_readable_name_reads_empty(engine: object) -> None:
    page = page_rgb()
    stamp(page, seal("", seed=22), 120 * MM, 180 * MM)  # a ring and a star, no name
    page_bgr = bgr(page)
    found = detect_seals(page_bgr, DPI)
    target = found[0] if found else Seal(Box(round(99 * MM), round(159 * MM), round(42 * MM),
                                             round(42 * MM)), SealShape.ROUND, "red", True, 0.6)
    assert read_seal_text(page_bgr, target, engine) == ("", 0.0)  # type: ignore[arg-type]


def test_cut_and_square_seals_are_not_read(engine: object) -> None:
    page = page_rgb()
    stamp(page, seal(ORGANISATIONS[2], seed=7), 0, 150 * MM)
    page_bgr = bgr(page)
    cut = only(detect_seals(page_bgr, DPI))
    assert read_seal_text(page_bgr, cut, engine) == ("", 0.0)  # type: ignore[arg-type]
    square = Seal(cut.box, SealShape.SQUARE, "red", True, 0.9)
    assert read_seal_text(page_bgr, square, engine) == ("", 0.0)  # type: ignore[arg-type]


# Matching names -------------------------------------------------------------------------------


def test_exact_name_wins_over_a_similar_one() -> None:
    assert match_organisation("北京市产品质量监督检验院", ORGANISATIONS) == (ORGANISATIONS[1], 1.0)


def test_small_reading_errors_still_match() -> None:
    name, score = match_organisation("天津市产品质局监督检A技术研究院", ORGANISATIONS)
    assert name == ORGANISATIONS[2]
    assert 0.75 <= score < 1.0


def test_traditional_forms_and_spaces_are_folded() -> None:
    assert match_organisation("中國電器 工业協會", ORGANISATIONS)[0] == ORGANISATIONS[4]


def test_no_close_candidate_gives_none() -> None:
    assert match_organisation("浙江省经济和信息化厅", ORGANISATIONS)[0] is None
    assert match_organisation("", ORGANISATIONS) == (None, 0.0)
    assert match_organisation("中国电器工业协会", []) == (None, 0.0)


def test_a_reading_between_two_names_is_not_credited_to_either() -> None:
    # Half way between 北京市产品质量监督检验研究院 and 北京市产品质量监督检验院.
    assert match_organisation("北京市产品质量监督检验研院", ORGANISATIONS[:2])[0] is None
