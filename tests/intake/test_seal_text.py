"""Reading a seal's ring where scans make it hard: a gray photocopy whose seal lies over the
form's table, its black print running through the ring text, and stamps set turned, whose
name must still be read from its first character to its last."""

from __future__ import annotations

import pytest

from intake.checks.seals_present import READ_SURE
from intake.normalize import canonical_text
from intake.ocr.rapid import RapidEngine
from intake.seal_text import match_organisation, read_seal_text
from intake.seals import detect_seals
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
