"""Seals on gray pages the way worn photocopies bring them: a seal over a form's table, its
ring text blurred into its ring, and the table's cells beside it, which are not chops; a chop
under a seal with a line of print below it; a thick pen circle round dense text, which is not
a seal; a gray page stored as colour; a legal entity's oval seal with the date printed
across it, a faint one, and one stamped over a cover's table; a square seal over that table;
a chop with its end under a turned square seal."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from intake.model import Box, Seal, SealShape
from intake.seals import (
    GRAY_MIN_SCORE,
    _any_seal_in,
    _Axes,
    _fit_circle,
    _ring_at,
    _traced_oval,
    detect_seals,
)
from samples.seals import rotate
from tests.intake.pagedraw import font
from tests.intake.test_seals import (
    DPI,
    MM,
    ORGANISATIONS,
    chop_under_seal,
    only,
    page_rgb,
    photocopy,
    seal,
    stamp,
)


def worn_copy(rgb: np.ndarray, blur_mm: float = 0.3) -> np.ndarray:
    """A worn photocopy: gray, strokes spread by a blur of ``blur_mm``, as BGR."""
    return np.asarray(cv2.GaussianBlur(photocopy(rgb), (0, 0), blur_mm * MM))


@pytest.mark.parametrize(("x_mm", "y_mm", "seed", "blur_mm"),
                         [(130, 120, 3, 0.3), (110, 75, 7, 0.45), (130, 120, 3, 0.6)])
def test_blurred_gray_seal_over_the_forms_table_is_found(
    x_mm: float, y_mm: float, seed: int, blur_mm: float
) -> None:
    # Stamped across the table's rules and text; blurred, the ring text runs into the ring.
    page = page_rgb()
    truth = stamp(page, seal(ORGANISATIONS[seed % 5], seed=seed), x_mm * MM, y_mm * MM)
    found = only(detect_seals(worn_copy(page, blur_mm), DPI))
    assert found.shape is SealShape.ROUND
    assert found.box.iou(truth) >= 0.7


@pytest.mark.parametrize(("x_mm", "y_mm"), [(165, 100), (150, 80), (100, 120), (60, 70)])
def test_table_cells_beside_a_gray_seal_are_not_chops(x_mm: float, y_mm: float) -> None:
    # Round a seal the paper cannot be seen, so a cell's rules running on under it do not
    # count against the cell being a chop; the cell's other corners must then show none.
    page = page_rgb()
    truth = stamp(page, seal(ORGANISATIONS[1], seed=4), x_mm * MM, y_mm * MM)
    for copy in (photocopy(page), worn_copy(page, 0.3)):
        assert only(detect_seals(copy, DPI)).box.iou(truth) >= 0.9


def test_gray_chop_under_a_seal_with_print_just_below_is_found() -> None:
    # The seal covers part of the paper round the chop and a line of print runs 2 mm under
    # it: the chop is judged on the paper that can be seen.
    page = page_rgb()
    chop, over = chop_under_seal(page, 70 * MM, 215 * MM)
    img = Image.fromarray(page)
    ImageDraw.Draw(img).text((chop.x, chop.y2 + 2 * MM), "本证书由国家认证认可监督管理委员会",
                             font=font(round(4 * MM)), fill="black", anchor="lt")
    found = detect_seals(photocopy(np.asarray(img)), DPI)
    rect = max(found, key=lambda s: s.box.iou(chop))
    assert rect.shape is SealShape.RECTANGLE
    assert rect.box.iou(chop) >= 0.7
    assert max(s.box.iou(over) for s in found) >= 0.7
    assert len(found) == 2, found


def test_thick_pen_circle_round_dense_gray_text_is_not_a_seal() -> None:
    # A felt pen circle 46 mm across, 1 mm wide, round a block of text, on a worn copy.
    page = page_rgb()
    img = Image.fromarray(page)
    draw = ImageDraw.Draw(img)
    cx, cy, r = 105 * MM, 235 * MM, 23 * MM
    for k in range(7):
        draw.text((cx - 20 * MM, cy - 18 * MM + k * 5.5 * MM), "检验检测能力范围见证书附件",
                  font=font(round(4.2 * MM)), fill="black")
    points = [(cx + r * (1 + 0.04 * math.sin(3 * t)) * math.cos(t), cy + 0.92 * r * math.sin(t))
              for t in np.linspace(0, 2.05 * math.pi, 240)]
    draw.line(points, fill=(70, 70, 70), width=round(1.0 * MM), joint="curve")
    assert detect_seals(worn_copy(np.asarray(img)), DPI) == []


def test_gray_page_stored_as_colour_gives_what_the_gray_page_gives() -> None:
    page = page_rgb()
    stamp(page, seal(ORGANISATIONS[1], seed=11), 140 * MM, 215 * MM)
    chop_under_seal(page, 70 * MM, 215 * MM)
    copy = photocopy(page)
    as_colour = detect_seals(copy, DPI)
    assert len(as_colour) == 3
    assert as_colour == detect_seals(cv2.cvtColor(copy, cv2.COLOR_BGR2GRAY), DPI)


@pytest.mark.parametrize(("x_mm", "y_mm", "seed", "turn"),
                         [(140, 240, 2, -12), (60, 250, 5, 15), (150, 200, 4, 0)])
def test_gray_oval_seal_with_the_date_across_it_is_found_as_an_oval(
    x_mm: float, y_mm: float, seed: int, turn: float
) -> None:
    # The 承诺及签章页 of a photocopied dossier: Hough's circle lies between the oval's axes,
    # on neither its ring nor its text.
    page = page_rgb()
    oval = rotate(seal(ORGANISATIONS[seed % 5], mm=40, seed=seed, shape="oval"), turn)
    truth = stamp(page, oval, x_mm * MM, y_mm * MM)
    img = Image.fromarray(page)
    ImageDraw.Draw(img).text(((x_mm - 20) * MM, (y_mm + 3) * MM), "2021年3月22日",
                             font=font(round(5 * MM)), fill="black")
    for copy in (photocopy(np.asarray(img)), worn_copy(np.asarray(img), 0.3)):
        found = only(detect_seals(copy, DPI))
        assert found.shape is SealShape.OVAL
        assert found.box.iou(truth) >= 0.85


@pytest.mark.parametrize(("x_mm", "y_mm", "seed", "turn", "level"),
                         [(140, 240, 3, -12, 195), (150, 200, 3, 0, 175),
                          (150, 200, 5, 0, 150)])
def test_faint_gray_oval_seal_is_found_as_an_oval(
    x_mm: float, y_mm: float, seed: int, turn: float, level: int
) -> None:
    # A pale impression copied gray, the date across it: its ring shows whole only in the
    # faint ink, and Hough's circle can lie on its short axis.
    page = page_rgb()
    gray = (level, level, level)
    oval = rotate(seal(ORGANISATIONS[seed % 5], mm=40, seed=seed, shape="oval", color=gray), turn)
    truth = stamp(page, oval, x_mm * MM, y_mm * MM)
    img = Image.fromarray(page)
    ImageDraw.Draw(img).text(((x_mm - 20) * MM, (y_mm + 3) * MM), "2021年3月22日",
                             font=font(round(5 * MM)), fill="black")
    found = only(detect_seals(photocopy(np.asarray(img)), DPI))
    assert found.shape is SealShape.OVAL
    assert found.box.iou(truth) >= 0.85


def test_gray_seal_mostly_off_the_page_is_not_reported() -> None:
    # Half a ring in a page of gray text proves too little; the whole seal is found.
    whole, cut = page_rgb(), page_rgb()
    truth = stamp(whole, seal(ORGANISATIONS[2], seed=5), 40 * MM, 150 * MM)
    assert only(detect_seals(photocopy(whole), DPI)).box.iou(truth) >= 0.9
    stamp(cut, seal(ORGANISATIONS[2], seed=5), 2 * MM, 150 * MM)
    assert detect_seals(photocopy(cut), DPI) == []


def test_circle_fit_recovers_a_ring_from_part_of_its_arc_and_refuses_a_line() -> None:
    # The ring test refits every Hough circle on the ink it finds: a third of a ring, unevenly
    # spaced and a little off the line, must give back the ring; points on one line, nothing.
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0.3, 0.3 + 2 * math.pi / 3, 60))
    pts = np.stack([312.4 + 57.5 * np.cos(t), 188.9 + 57.5 * np.sin(t)], 1)
    fit = _fit_circle(pts + rng.normal(0.0, 0.3, pts.shape))
    assert fit == pytest.approx((312.4, 188.9, 57.5), abs=1.0)
    line = np.stack([np.arange(10.0), 2 * np.arange(10.0) + 5], 1)
    assert _fit_circle(line) is None


@pytest.mark.parametrize(("seed", "turn"), [(1, 6), (2, -4), (3, 0)])
def test_gray_square_seal_with_a_chop_across_it_is_found_as_a_square(
    seed: int, turn: float
) -> None:
    # A certificate copy: the chop crosses the square's side and a line of print runs under
    # it, so no two of the square's sides are clear enough to pair as a chop's long sides are.
    page = page_rgb()
    stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=31), 2),
          70 * MM, 200 * MM)
    square = rotate(seal(ORGANISATIONS[seed], mm=33, shape="square", seed=seed), turn)
    truth = stamp(page, square, 100 * MM, 196 * MM)
    img = Image.fromarray(page)
    ImageDraw.Draw(img).text((60 * MM, truth.y2 + 1 * MM), "本证书由国家认证认可监督管理委员会监制",
                             font=font(round(4 * MM)), fill="black", anchor="lt")
    found = detect_seals(photocopy(np.asarray(img)), DPI)
    by_square = max(found, key=lambda s: s.box.iou(truth))
    assert by_square.shape is SealShape.SQUARE
    assert by_square.box.iou(truth) >= 0.8


def assert_chop_and_square(found: list[Seal], chop: Box, square: Box, chop_iou: float) -> None:
    """Two seals found: the square where it was stamped, and the chop as a rectangle at
    ``chop_iou`` or better."""
    assert len(found) == 2, found
    assert max(s.box.iou(square) for s in found) >= 0.8
    rect = max(found, key=lambda s: s.box.iou(chop))
    assert rect.shape is SealShape.RECTANGLE
    assert rect.box.iou(chop) >= chop_iou


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_gray_chop_under_a_square_seal_is_found_with_it(seed: int) -> None:
    # The square over the chop's end inks the paper round the chop, as a ring over it does.
    page = page_rgb()
    chop = stamp(page, seal("复印件与原件一致", mm=46, shape="rectangle", seed=31),
                 70 * MM, 200 * MM)
    square = stamp(page, seal(ORGANISATIONS[seed], mm=33, shape="square", seed=seed),
                   98 * MM, 192 * MM)
    assert_chop_and_square(detect_seals(photocopy(page), DPI), chop, square, 0.7)


@pytest.mark.parametrize("turn", [7, 12])
def test_gray_chop_with_its_end_under_a_turned_square_is_found(turn: float) -> None:
    # The square's text and turned sides carry the chop's lines on past its hidden end (too
    # long a chop); the part beside the square is what can be framed, ended by the square.
    page = page_rgb()
    chop = stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=31), 3),
                 70 * MM, 200 * MM)
    square = stamp(page, rotate(seal(ORGANISATIONS[4], mm=33, shape="square", seed=4), turn),
                   90 * MM, 192 * MM)
    assert_chop_and_square(detect_seals(photocopy(page), DPI), chop, square, 0.5)


@pytest.mark.parametrize(("seed", "level", "turn"),
                         [(1, 175, 0), (1, 175, -8), (2, 175, 0), (4, 150, 0)])
def test_faint_gray_oval_fitted_to_its_inner_line_is_found(
    seed: int, level: int, turn: float
) -> None:
    # An oval seal has a thin second line inside its ring; on a pale copy the first fit can
    # settle on it, where the ring's profile fails.
    page = page_rgb()
    gray = (level, level, level)
    oval = rotate(seal(ORGANISATIONS[seed % 5], mm=40, seed=seed, shape="oval", color=gray), turn)
    truth = stamp(page, oval, 120 * MM, 200 * MM)
    found = only(detect_seals(photocopy(page), DPI))
    assert found.shape is SealShape.OVAL
    assert found.box.iou(truth) >= 0.85


def cover_table(rgb: np.ndarray, top_mm: float) -> None:
    """A cover's table: ruled rows 12 mm apart, each with a line of 5 mm print across it."""
    img = Image.fromarray(rgb)
    draw = ImageDraw.Draw(img)
    rows = ("检验检测机构（电线电缆）产品质量控制和技术评价实验室", "某某电线电缆研究所有限公司",
            "中国机械工业集团有限公司", "二〇二一年三月二十二日申请资质认定")
    for k, text in enumerate(rows):
        y = (top_mm + 12 * k) * MM
        draw.line([(20 * MM, y), (190 * MM, y)], fill="black", width=max(1, round(0.3 * MM)))
        draw.text((25 * MM, y + 3.5 * MM), text, font=font(round(5 * MM)), fill="black")
    draw.line([(20 * MM, (top_mm + 48) * MM), (190 * MM, (top_mm + 48) * MM)], fill="black",
              width=max(1, round(0.3 * MM)))
    rgb[:] = np.asarray(img)


def cover_page() -> np.ndarray:
    """A form page with a cover's table (rows from 108 mm) on clear paper."""
    page = page_rgb()
    page[int(100 * MM):int(170 * MM)] = 255
    cover_table(page, 108)
    return page


@pytest.mark.parametrize(("x_mm", "seed", "level"),
                         [(110, 1, 150), (95, 2, 175), (125, 4, 130), (95, 2, 190)])
def test_gray_oval_seal_over_a_covers_table_is_found_as_an_oval(
    x_mm: float, seed: int, level: int
) -> None:
    # Over the table the rows of print are as dense round the ring as its ring text, and
    # Hough puts no circle near the oval's centre: the print has to be taken out first. A
    # pale seal (190) shows little ring text, and Hough's centre millimetres off its star.
    page = cover_page()
    oval = seal(ORGANISATIONS[seed % 5], mm=40, seed=seed, shape="oval",
                color=(level, level, level))
    truth = stamp(page, oval, x_mm * MM, 132 * MM)
    found = only(detect_seals(photocopy(page), DPI))
    assert found.shape is SealShape.OVAL
    assert found.box.iou(truth) >= 0.85


def gray_copy_with_white_patch(rgb: np.ndarray, seed: int) -> np.ndarray:
    """A dim gray copy (paper about 215, scan noise) with a 42 mm patch whiter than its paper
    (correction fluid, a pasted slip) at (80, 150) mm."""
    gray = cv2.cvtColor(photocopy(rgb), cv2.COLOR_BGR2GRAY).astype(np.float32)
    noise = np.random.default_rng(seed).normal(0, 5, gray.shape)
    out = np.clip(gray * 0.85 + noise, 0, 255).astype(np.uint8)
    out[round(150 * MM):round(192 * MM), round(80 * MM):round(122 * MM)] = 255
    return out


@pytest.mark.parametrize(("corner_mm", "seed"), [(80, 0), (122, 1), (80, 2)])
def test_pen_circle_over_a_white_patchs_corner_is_not_a_seal(corner_mm: float, seed: int) -> None:
    # Round a patch whiter than the page, the paper is darker than the patch by as much as
    # faint seal ink is darker than paper: measured against the patch, it all looked like ink,
    # a star in the middle of the pen circle included.
    page = gray_copy_with_white_patch(page_rgb(), seed)
    cx, cy, r = corner_mm * MM, 145 * MM, 15 * MM
    ring = np.array([(cx + r * math.cos(t), cy + 0.92 * r * math.sin(t))
                     for t in np.linspace(0, 2 * math.pi, 200)], np.int32)
    cv2.polylines(page, [ring], True, 80, round(0.5 * MM), cv2.LINE_AA)
    assert detect_seals(page, DPI) == []


def test_gray_seal_beside_a_white_patch_is_still_found() -> None:
    rgb = page_rgb()
    truth = stamp(rgb, seal(ORGANISATIONS[1], seed=4), 150 * MM, 240 * MM)
    assert only(detect_seals(gray_copy_with_white_patch(rgb, 0), DPI)).box.iou(truth) >= 0.9


@pytest.mark.parametrize(("dx", "dy", "r"),
                         [(0, 0, 52), (10, 10, 52), (-8, 12, 52), (12, -6, 52), (10, 0, 34),
                          (10, 0, 30)])
def test_oval_ring_is_traced_past_the_print_beside_it(dx: int, dy: int, r: float) -> None:
    # A ring (60 x 45 px half axes, 4 px thick) with a row of print just under it and a chop's
    # text across its lower left, all in the outermost ink some rays meet; Hough's centre up
    # to 14 px off, its radius down to half the long axis. The ring is the one line that runs
    # on round the seal, looked for out to 78 px (an oval seal's long half axis and more).
    mask = np.zeros((320, 320), np.uint8)
    cv2.ellipse(mask, (160, 150), (60, 45), 0, 0, 360, 255, 4)
    for x in range(40, 300, 9):
        cv2.rectangle(mask, (x, 203), (x + 5, 213), 255, -1)
    for x in range(10, 120, 9):
        cv2.rectangle(mask, (x, 170), (x + 5, 180), 255, -1)
    oval = _traced_oval(mask, 160.0 + dx, 150.0 + dy, r, 78.0)
    assert oval is not None
    assert abs(oval.cx - 160) <= 2
    assert abs(oval.cy - 150) <= 2
    assert abs(max(oval.a, oval.b) - 61) <= 2
    assert abs(min(oval.a, oval.b) - 46) <= 2


@pytest.mark.parametrize(("x_mm", "seed", "turn"), [(95, 4, 4), (130, 4, 0), (130, 4, 4)])
def test_gray_square_seal_over_a_covers_table_is_found_as_a_square(
    x_mm: float, seed: int, turn: float
) -> None:
    # The rows of print run into the square's sides and on past its corners, as one band
    # with them, where a cell's rules would run on clear of the print.
    page = cover_page()
    square = rotate(seal(ORGANISATIONS[seed % 5], mm=30, seed=seed, shape="square",
                         color=(150, 150, 150)), turn)
    truth = stamp(page, square, x_mm * MM, 132 * MM)
    found = only(detect_seals(photocopy(page), DPI))
    assert found.shape is SealShape.SQUARE
    assert found.box.iou(truth) >= 0.85


def ring_with_sparse_text(star: bool, marks: int) -> np.ndarray:
    """A ring 60 px in radius (a 40 mm seal at 3 px/mm), ``marks`` radial strokes of ring text
    (each about 1.5 % of the band) and, with ``star``, a solid star at its centre."""
    mask = np.zeros((300, 300), np.uint8)
    cv2.circle(mask, (150, 150), 60, 255, 4)
    if star:
        points = [(150 + (22 if k % 2 == 0 else 11) * math.sin(k * math.pi / 5),
                   150 - (22 if k % 2 == 0 else 11) * math.cos(k * math.pi / 5)) for k in range(10)]
        cv2.fillPoly(mask, [np.array(points, np.int32)], 255)
    for k in range(marks):
        t = 2 * math.pi * k / marks
        for rr in range(34, 51, 2):
            cv2.circle(mask, (round(150 + rr * math.cos(t)), round(150 + rr * math.sin(t))), 2,
                       255, -1)
    return mask


@pytest.mark.parametrize(("star", "marks", "ring"), [(True, 7, True), (True, 6, True),
                                                      (True, 5, False), (False, 7, False)])
def test_faded_ring_text_counts_only_round_a_solid_star(star: bool, marks: int, ring: bool) -> None:
    # A faded seal's ring text can show only 0.08-0.11 more ink than the paper outside it; a
    # solid star at the centre and a clean ring line carry it. A pen circle has no star, and
    # needs the 0.12 of a legible stamp.
    mask = ring_with_sparse_text(star, marks)
    found = _ring_at(mask, cv2.dilate(mask, np.ones((3, 3), np.uint8)), 150.0, 150.0, 60.0, 3.0,
                     mask)
    assert found is not None
    assert (found.score >= GRAY_MIN_SCORE) is ring


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (3, 2000), (2000, 3), (1, 1, 3)])
def test_an_image_smaller_than_a_seal_has_none_and_no_error(shape: tuple[int, ...]) -> None:
    # A 1 x 1 image (an upload that is a pixel) broke the gray search's shrink.
    for value in (0, 128, 255):
        assert detect_seals(np.full(shape, value, np.uint8), 150) == []


def test_a_seal_is_looked_for_only_where_the_stretch_lies() -> None:
    covered = np.zeros((200, 300), np.uint8)
    cv2.circle(covered, (250, 100), 30, 255, -1)
    level, turned = _Axes(0.0), _Axes(math.radians(30))
    assert _any_seal_in(level, covered, 150, 225, 90, 110)  # reaches the seal's edge
    assert not _any_seal_in(level, covered, 20, 200, 90, 110)
    assert not _any_seal_in(turned, covered, 20, 120, 0, 20)
    assert not _any_seal_in(level, covered, 400, 500, 90, 110)  # off the page
