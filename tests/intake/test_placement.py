"""What a seal is stamped on: the signature line it is stamped over or beside, other print, or
blank paper; the lines under it, top to bottom."""

from __future__ import annotations

from intake.model import Box, Line, Seal, SealPlace, SealShape
from intake.placement import place_seals

DPI = 200
PAGE = (1654, 2339)
MM = DPI / 25.4


def _seal(x: int, y: int, size: int = 330) -> Seal:
    return Seal(Box(x, y, size, size), SealShape.ROUND, "red", True, 0.95)


def _line(text: str, x: int, y: int, w: int = 300, h: int = 40) -> Line:
    return Line(text, Box(x, y, w, h), 90.0)


def _placed(seal: Seal, lines: list[Line]) -> Seal:
    (placed,) = place_seals([seal], lines, DPI, PAGE)
    return placed


def test_a_seal_over_the_signature_line_is_on_the_signature_and_says_what_it_covers() -> None:
    lines = [_line("同意该实验室通过初审。", 700, 350, 600),
             _line("推荐单位（盖章）", 1050, 1000),
             _line("2021年4月20日", 1050, 1100)]
    placed = _placed(_seal(1000, 900), lines)
    assert placed.place is SealPlace.SIGNATURE
    assert placed.on == ("推荐单位（盖章）", "2021年4月20日")


def test_a_seal_stamped_just_beside_its_signature_line_is_on_the_signature() -> None:
    # "（公章）" 4 mm left of the seal's box: stamped beside the label, not over it.
    label = _line("法人单位（公章）", 1000 - round(4 * MM) - 300, 1100)
    placed = _placed(_seal(1000, 950), [label])
    assert placed.place is SealPlace.SIGNATURE
    assert placed.on == ()


def test_a_seal_over_other_print_or_on_blank_paper_is_told_apart() -> None:
    body = [_line("第二行正文", 200, 600, 1200), _line("第一行正文", 200, 500, 1200)]
    over = _placed(_seal(400, 420), body)
    assert over.place is SealPlace.TEXT
    assert over.on == ("第一行正文", "第二行正文")
    far_label = _line("推荐单位（盖章）", 1050, 200)  # 2 cm and more away
    blank = _placed(_seal(400, 1500), [*body, far_label])
    assert blank.place is SealPlace.BLANK
    assert blank.on == ()


def test_a_line_that_only_grazes_the_corner_of_a_round_seals_box_is_not_under_it() -> None:
    corner = _line("页脚文字", 1000 - 250, 900 + 330 - 20, 270, 40)  # ends 20 px into the box
    assert _placed(_seal(1000, 900), [corner]).place is SealPlace.BLANK
