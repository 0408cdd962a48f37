"""Reading a seal's ring where scans make it hard: a gray photocopy whose seal lies over the
form's table, its black print running through the ring text, and stamps set turned, whose
name must still be read from its first character to its last; and a square seal's columns."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from intake.checks.seals_present import (
    FIT_RIGHT,
    FIT_WRONG,
    READ_SURE,
    SISTER_DOUBT,
    SISTER_OTHER,
    _judge_seal,
)
from intake.model import Box, Location, Seal, SealShape, Status
from intake.normalize import canonical_text
from intake.ocr.rapid import RapidEngine
from intake.seal_text import (
    _colour_without_print,
    _ink_image,
    match_organisation,
    name_fit,
    read_seal,
    read_seal_text,
    sister_fit,
    sister_names,
)
from intake.seals import detect_seals
from samples.scan import degrade, jpeg
from samples.seals import rotate
from tests.intake.test_seals import (
    DPI,
    MM,
    ORGANISATIONS,
    bgr,
    only,
    page_rgb,
    photocopy,
    seal,
    stamp,
)


@pytest.fixture(scope="module")
def engine() -> RapidEngine:
    return RapidEngine()


@pytest.mark.parametrize(("x_mm", "y_mm", "seed"), [(110, 75, 7), (100, 120, 2), (60, 70, 0)])
def test_gray_seal_over_the_forms_table_is_read_surely_enough_to_judge(
    engine: RapidEngine, x_mm: float, y_mm: float, seed: int
) -> None:
    # On a photocopy the table's text is as gray as the seal, only darker; read through it,
    # the ring gave a few right characters among wrong ones, too unsure for the seal rule.
    name = ORGANISATIONS[seed % len(ORGANISATIONS)]
    page = page_rgb()
    stamp(page, seal(name, seed=seed), x_mm * MM, y_mm * MM)
    image = photocopy(page)
    text, score = read_seal_text(image, only(detect_seals(image, DPI)), engine)
    assert match_organisation(text, ORGANISATIONS)[0] == name, text
    assert score >= READ_SURE, text


@pytest.mark.parametrize("turn", [90, 150, -100])
def test_a_turned_stamp_is_read_from_the_gap_between_its_names_ends(
    engine: RapidEngine, turn: float
) -> None:
    # Read from the wrong place, the name came out cut (市产品…, …检测技术) or wrapped round
    # (测技术研究院…天津).
    name = ORGANISATIONS[2]
    page = page_rgb()
    stamp(page, rotate(seal(name, seed=5, bottom_text="检验专用章"), turn), 120 * MM, 180 * MM)
    image = bgr(page)
    text, _ = read_seal_text(image, only(detect_seals(image, DPI)), engine)
    key = canonical_text(text)
    assert key.startswith(canonical_text(name[:3])), text
    assert canonical_text(name[-3:]) in key, text
    assert match_organisation(text, ORGANISATIONS)[0] == name, text


@pytest.mark.parametrize(("org", "seed"), [(0, 0), (2, 22), (3, 31)])
def test_an_upside_down_stamp_on_a_heavy_copy_is_read_whole(
    engine: RapidEngine, org: int, seed: int
) -> None:
    # The seal's code runs along the top of a stamp set upside down and a heavy copy's specks
    # fill the rest of the gap: no gap is found, and over the top the recogniser read the
    # name's two ends round the code (有限公司成都电) as surely as the whole name underneath.
    name = ORGANISATIONS[org]
    page = page_rgb()
    stamp(page, rotate(seal(name, seed=seed, bottom_text="3201050012345"), 180),
          120 * MM, 180 * MM)
    scan = degrade(page, "heavy", np.random.default_rng(seed % 10), dpi=DPI, gray=True).image
    image = scan if scan.ndim == 2 else bgr(scan)
    found = [s for s in detect_seals(image, DPI) if s.shape is SealShape.ROUND]
    assert len(found) == 1
    text, _ = read_seal_text(image, found[0], engine)
    assert match_organisation(text, ORGANISATIONS)[0] == name, text
    assert canonical_text(text).startswith(canonical_text(name[:2])), text


def test_a_seals_ring_fits_its_owners_name_and_not_another_bodys(engine: RapidEngine) -> None:
    # Read unsurely, a ring's text alone cannot tell a misread from another body's seal. The
    # fit does: another province's body fits badly enough to fail, a sister body differing by
    # one word (检验 for 检测) too badly to pass as the owner's. (The ring's ends are free, so
    # 研究所 for 研究院 at the very end is told by ``sister_fit``, below.)
    owner = "天津市产品质量监督检测技术研究院"
    sister, elsewhere = "天津市产品质量监督检验技术研究院", "北京市产品质量监督检验研究院"
    page = page_rgb()
    stamp(page, seal(owner, seed=3), 100 * MM, 120 * MM)
    image = bgr(page)
    read = read_seal(image, only(detect_seals(image, DPI)), engine, (owner, sister, elsewhere))
    fits = dict(read.fits)
    assert fits[owner] >= FIT_RIGHT, read
    assert fits[sister] < FIT_RIGHT, read
    assert fits[elsewhere] <= FIT_WRONG, read


@pytest.mark.parametrize(("name", "turn", "gray"), [
    (ORGANISATIONS[2], 0, False),  # 16 characters: four columns of four
    ("广州市计量检测技术研究院", -12, True),  # 12: three columns of four, a photocopy
    ("长沙传感器研究所有限公司", 8, False),
    ("张建国印", 15, False),  # a person's seal: two columns of two
])
def test_a_square_seals_name_is_read_right_column_first_top_to_bottom(
    engine: RapidEngine, name: str, turn: float, gray: bool
) -> None:
    # A square seal's name stands in columns read from the right; unread, its owner was never
    # matched.
    page = page_rgb()
    stamp(page, rotate(seal(name, mm=30, shape="square", seed=4), turn), 110 * MM, 150 * MM)
    image = photocopy(page) if gray else bgr(page)
    found = only(detect_seals(image, DPI))
    assert found.shape is SealShape.SQUARE
    read = read_seal(image, found, engine, (*ORGANISATIONS, name))
    assert match_organisation(read.text, (*ORGANISATIONS, name))[0] == name, read.text
    assert max(read.fits, key=lambda nf: nf[1])[0] == name, read.fits


def test_a_square_seal_on_a_page_scanned_upside_down_is_read_the_right_way_up(
    engine: RapidEngine,
) -> None:
    name = ORGANISATIONS[3]
    page = page_rgb()
    stamp(page, rotate(seal(name, mm=30, shape="square", seed=2), 176), 110 * MM, 150 * MM)
    image = bgr(page)
    text, _ = read_seal_text(image, only(detect_seals(image, DPI)), engine)
    assert canonical_text(text).startswith(canonical_text(name[:4])), text
    assert match_organisation(text, ORGANISATIONS)[0] == name, text


@pytest.mark.parametrize("seed", [1, 3])
def test_a_square_seal_under_a_copy_chops_frame_is_still_read(engine: RapidEngine, seed: int
                                                               ) -> None:
    # On a certificate copy the 复印件与原件一致 chop's frame runs through the square's rows
    # and columns, bridging the gaps they are found by.
    name = ORGANISATIONS[seed]
    page = page_rgb()
    stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=31), 3),
          70 * MM, 200 * MM)
    square = stamp(page, seal(name, mm=30, shape="square", seed=seed), 94 * MM, 194 * MM)
    image = bgr(page)
    found = max(detect_seals(image, DPI), key=lambda s: s.box.iou(square))
    text, _ = read_seal_text(image, found, engine)
    assert match_organisation(text, ORGANISATIONS)[0] == name, text


@pytest.mark.parametrize(("seed", "turn", "gray"), [(3, 0, True), (0, -10, False)])
def test_a_square_seal_under_a_copy_chop_is_read_on_a_gray_copy_and_stamped_turned(
    engine: RapidEngine, seed: int, turn: float, gray: bool
) -> None:
    # The chop's frame and words inside the seal's box pulled the rectangle fitted round its
    # ink off the square, and a chop turned against the square hid the gaps between its rows;
    # on a gray copy the seal's own ink was taken for print and painted out.
    name = ORGANISATIONS[seed]
    page = page_rgb()
    stamp(page, rotate(seal("复印件与原件一致", mm=46, shape="rectangle", seed=31), 3),
          70 * MM, 200 * MM)
    square = stamp(page, rotate(seal(name, mm=30, shape="square", seed=seed), turn),
                   94 * MM, 194 * MM)
    image = photocopy(page) if gray else bgr(page)
    found = max(detect_seals(image, DPI), key=lambda s: s.box.iou(square))
    text, _ = read_seal_text(image, found, engine)
    assert match_organisation(text, ORGANISATIONS)[0] == name, text


def _sure_of(path: list[int], classes: int = 7) -> np.ndarray:
    """CTC frames of a recogniser sure of ``path`` (class 0 the blank)."""
    probs = np.full((len(path), classes), 0.001, np.float32)
    probs[np.arange(len(path)), path] = 0.994
    return probs / probs.sum(axis=1, keepdims=True)


def test_name_fit_charges_a_changed_character_inside_more_than_one_lost_at_an_end() -> None:
    # The ring's gap or star hides a first character (乙丙丁己 read for 甲乙丙丁己); another
    # body's name differs inside (甲乙戊丁己).
    classes = {"甲": 1, "乙": 2, "丙": 3, "丁": 4, "戊": 5, "己": 6}
    whole = _sure_of([1, 0, 2, 0, 3, 0, 4, 0, 6, 0])
    lost_first = _sure_of([0, 0, 2, 0, 3, 0, 4, 0, 6, 0])
    name = "甲乙丙丁己"
    assert name_fit(whole, classes, name) > -0.1
    assert name_fit(lost_first, classes, name) > name_fit(whole, classes, "甲乙戊丁己")
    assert name_fit(whole, classes, "戊戊戊戊戊") < FIT_WRONG


def test_name_fit_takes_a_traditional_form_for_the_character() -> None:
    # RapidOCR prints 檢測 for 检测 on some rings: the owner's name still fits.
    classes = {"质": 1, "質": 2, "量": 3, "检": 4, "檢": 5, "测": 6, "測": 7, "验": 8, "站": 9}
    traditional = _sure_of([2, 0, 3, 0, 5, 0, 7, 0, 9, 0], classes=10)  # 質量檢測站
    assert name_fit(traditional, classes, "质量检测站") > -0.1
    assert name_fit(traditional, classes, "质量检验站") < name_fit(traditional, classes, "质量检测站") - 0.2


def test_sister_fit_does_not_let_the_rings_end_hide_a_changed_last_word() -> None:
    # 甲乙丙丁所 read where the owner is 甲乙丙丁院: name_fit lets the owner lose 院 at the end
    # for a small cost; sister_fit compares the two words where the line shows one of them.
    classes = {"甲": 1, "乙": 2, "丙": 3, "丁": 4, "院": 5, "所": 6}
    owner, sister = "甲乙丙丁院", "甲乙丙丁所"
    sisters_ring = _sure_of([1, 0, 2, 0, 3, 0, 4, 0, 6, 0])
    assert name_fit(sisters_ring, classes, owner) > FIT_RIGHT  # the end takes the blame
    odds = (sister_fit(sisters_ring, classes, owner, sister)
            - name_fit(sisters_ring, classes, owner)) * len(owner)
    assert odds >= SISTER_OTHER
    # A ring that lost its last character says nothing either way; the owner's says the owner.
    end_lost = _sure_of([1, 0, 2, 0, 3, 0, 4, 0, 0, 0])
    assert sister_fit(end_lost, classes, owner, sister) == pytest.approx(
        name_fit(end_lost, classes, owner))
    owners_ring = _sure_of([1, 0, 2, 0, 3, 0, 4, 0, 5, 0])
    assert sister_fit(owners_ring, classes, owner, sister) <= name_fit(
        owners_ring, classes, owner)


def test_sister_names_change_one_kind_of_body_word() -> None:
    assert set(sister_names("长沙传感器研究所有限公司")) == {
        "长沙传感器研究院有限公司", "长沙传感器研究所有限中心"}
    assert "机电工业第二研究所" in sister_names("机械工业第二研究所")
    assert sister_names("中国轻工业联合会") == ()


@pytest.mark.parametrize(("stamped", "owner"), [
    ("长沙传感器研究院有限公司", "长沙传感器研究所有限公司"),  # 院/所 before 有限公司
    ("杭州信测检验技术股份有限公司", "杭州信测检测技术股份有限公司"),
    ("机电工业第二研究所", "机械工业第二研究所"),  # within the ring's free start
    ("北京市产品质量监督检验研究所", "北京市产品质量监督检验研究院"),  # at its free end
])
def test_a_sister_bodys_ring_fits_the_sister_far_better_and_the_owners_does_not(
    engine: RapidEngine, stamped: str, owner: str
) -> None:
    # Read surely, the two names differ by one character, which the ring's text alone takes
    # for a misread; the recogniser's output is sure which word the ring shows.
    assert stamped in sister_names(owner)

    def odds(ring: str) -> float:
        """How much likelier the stamped sister body's word is than the owner's, in all."""
        page = page_rgb()
        stamp(page, seal(ring, seed=3), 100 * MM, 120 * MM)
        image = bgr(page)
        fits = dict(read_seal(image, only(detect_seals(image, DPI)), engine, (owner,)).fits)
        return (fits[stamped] - fits[owner]) * len(owner)

    assert odds(stamped) >= SISTER_OTHER
    assert odds(owner) < SISTER_DOUBT


def test_black_print_across_a_red_stroke_leaves_no_hole_in_the_seals_ink() -> None:
    # Where a cover's black table text crosses the ring the stroke's colour is lost, which cut
    # the ring's characters into pieces; a weakly read colour ring is read again with the print
    # filled in from the ink around it, and print on bare paper becomes paper.
    page = np.full((120, 120, 3), 235, np.uint8)
    page[50:62, 10:110] = (40, 30, 200)  # a red stroke (BGR)
    page[:, 58:62] = (25, 25, 25)  # black print across it, and across the paper
    ring = Seal(Box(0, 0, 120, 120), SealShape.ROUND, "red", True, 0.9)
    ink = _ink_image(page, ring, (0, 0))
    assert ink[56, 60] > 200  # the hole the print leaves in the stroke
    clear = _colour_without_print(page, ink)
    assert clear[56, 60] < 100
    assert clear[20, 60] > 200
    assert clear[100, 60] > 200
    assert (clear[56, 30], clear[20, 30]) == (ink[56, 30], ink[20, 30])  # the rest as it was


def _heavy_scan(page: np.ndarray, seed: int) -> np.ndarray:
    """``page`` scanned as the heavy batches are: skewed, blurred, noisy, and saved as a JPEG
    of quality 60, which keeps the colour at half the resolution of the lightness."""
    scan = degrade(page, "heavy", np.random.default_rng(seed), dpi=DPI)
    decoded = Image.open(io.BytesIO(jpeg(scan.image, "heavy", DPI))).convert("RGB")
    return bgr(np.asarray(decoded))


@pytest.mark.parametrize(("x_mm", "y_mm", "seed"), [(100, 120, 2), (60, 70, 3)])
def test_a_faded_sister_bodys_seal_on_a_heavy_scan_fails_and_the_owners_passes(
    engine: RapidEngine, x_mm: float, y_mm: float, seed: int
) -> None:
    # In the seal's colour alone, blurred and halved by the JPEG, a faded ring's strokes ran
    # together: neither ring was read, and the sister body's (检验 for 检测) passed as stamped.
    owner, sister = "南京中科检测技术股份有限公司", "南京中科检验技术股份有限公司"

    def judged(ring: str) -> Status:
        page = page_rgb()
        stamp(page, seal(ring, seed=seed, faded=True), x_mm * MM, y_mm * MM)
        image = _heavy_scan(page, seed)
        read = read_seal(image, only(detect_seals(image, DPI)), engine, (owner,))
        return _judge_seal("seal.legal_entity", owner, (read,), Location("volume-1.pdf", 1),
                           "第1份封面").status

    assert judged(sister) is Status.FAIL
    assert judged(owner) is Status.PASS
