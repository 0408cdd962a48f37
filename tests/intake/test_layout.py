import numpy as np
from PIL import Image, ImageDraw, ImageFont

from intake.layout import erase_rules, fill_cells, find_grid
from intake.model import Box, Line, Word

FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
DPI = 200


def _form(rows=4, skew=0.0):
    """A page with one 2-column ruled table of ``rows`` rows, text in each cell."""
    img = Image.new("L", (1654, 2339), 255)
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 30)
    left, mid, right, top, row_h = 160, 700, 1494, 400, 72
    for r in range(rows + 1):
        draw.line([(left, top + r * row_h), (right, top + r * row_h)], fill=0, width=3)
    for x in (left, mid, right):
        draw.line([(x, top), (x, top + rows * row_h)], fill=0, width=3)
    for r in range(rows):
        draw.text((left + 14, top + r * row_h + 18), f"标签{r}", font=font, fill=0)
        draw.text((mid + 14, top + r * row_h + 18), f"数值{r}", font=font, fill=0)
    draw.text((700, 2200), "第 2 页 共 5 页", font=font, fill=0)
    if skew:
        img = img.rotate(skew, fillcolor=255, resample=Image.BICUBIC)
    return np.array(img)


def test_cells_of_a_ruled_table_are_found_in_reading_order():
    grid = find_grid(_form(rows=4), DPI)
    assert [(c.row, c.col) for c in grid.cells] == [(r, c) for r in range(4) for c in (0, 1)]
    first = grid.cells[0].box
    assert abs(first.x - 160) < 8
    assert abs(first.y - 400) < 8
    assert abs(first.w - 540) < 12
    assert abs(first.h - 72) < 12


def test_a_slightly_skewed_table_still_yields_every_cell():
    grid = find_grid(_form(rows=6, skew=0.3), DPI)
    assert len(grid.cells) == 12


def test_erasing_rules_keeps_the_text():
    page = _form(rows=2)
    grid = find_grid(page, DPI)
    clean = erase_rules(page, grid.rules)
    rule_row = clean[400, 200:1400]
    assert (rule_row > 200).all()  # the top rule is gone
    text_region = clean[418:460, 175:300]
    assert (text_region < 128).sum() > 200  # "标签0" is still there


def test_words_land_in_the_cell_holding_their_centre():
    grid = find_grid(_form(rows=2), DPI)
    words = (Word("数", Box(720, 490, 30, 32), 90), Word("值", Box(752, 490, 30, 32), 90),
             Word("1", Box(784, 490, 18, 32), 90))
    lines = [Line("数值1", Box(720, 490, 82, 32), 90, words),
             Line("第2页共5页", Box(700, 2200, 300, 40), 95)]
    cells, outside = fill_cells(grid.cells, lines)
    assert next(c for c in cells if (c.row, c.col) == (1, 1)).text == "数值1"
    assert [ln.text for ln in outside] == ["第2页共5页"]
