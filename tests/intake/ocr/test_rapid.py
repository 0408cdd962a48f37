"""The RapidOCR wrapper, on the real engine and the models shipped in the wheel (no network)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from intake.errors import ToolMissingError
from intake.model import Box
from intake.ocr import rapid
from tests.intake.pagedraw import font, text_image, to_bgr

LINES = ("实验室名称：北京市产品质量监督检验研究院", "统一社会信用代码：12110000400000000X",
         "中高级职称人员占比 62.5%")


@pytest.fixture(scope="module")
def engine() -> rapid.RapidEngine:
    return rapid.RapidEngine()


def test_probe_reports_version_and_the_bundled_models() -> None:
    info = rapid.probe()
    major, minor = (int(p) for p in info.version.split(".")[:2])
    assert (major, minor) >= (3, 4)
    assert info.det_model.is_file()
    assert info.rec_model.is_file()
    assert info.det_model.suffix == ".onnx"


def test_probe_without_models_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(ToolMissingError) as caught:
        rapid.probe(tmp_path)
    assert caught.value.code == "tool_missing"
    assert str(tmp_path) in caught.value.message


def test_importing_the_wrapper_loads_nothing() -> None:
    code = ("import sys, intake.ocr.rapid; "
            "sys.exit(1 if any(m.startswith(('rapidocr', 'onnxruntime')) for m in sys.modules) "
            "else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_engine_reports_what_loading_cost(engine: rapid.RapidEngine) -> None:
    assert engine.load.seconds > 0
    assert engine.load.rss_mb is None or engine.load.rss_mb > 50


def test_read_line_reads_one_line(engine: rapid.RapidEngine) -> None:
    text, score = engine.read_line(to_bgr(text_image(LINES[0], 40)))
    assert text == LINES[0]
    assert 0.8 <= score <= 1.0


def test_read_line_accepts_gray_and_cleans_spaces(engine: rapid.RapidEngine) -> None:
    gray = np.asarray(text_image("检验 检测 中心", 40).convert("L"))
    text, _ = engine.read_line(gray)
    assert text == "检验检测中心"  # clean_ocr_text drops spaces between Chinese characters


def test_read_line_on_blank_or_tiny_images_reads_nothing(engine: rapid.RapidEngine) -> None:
    assert engine.read_line(np.full((48, 300, 3), 255, np.uint8)) == ("", 0.0)
    assert engine.read_line(np.zeros((1, 1, 3), np.uint8)) == ("", 0.0)


def test_module_functions_use_the_process_engine() -> None:
    rapid.default_engine.cache_clear()
    try:
        first = rapid.default_engine()
        assert rapid.default_engine() is first
        text, _ = rapid.read_line(to_bgr(text_image("中国电器工业协会", 40)))
        assert text == "中国电器工业协会"
    finally:
        rapid.default_engine.cache_clear()


def region_with_lines(dpi: int = 200) -> tuple[np.ndarray, list[Box]]:
    """A strip of a page at ``dpi`` with LINES printed at known places, and where they are."""
    width, height = round(7 * dpi), round(2.2 * dpi)
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    f = font(round(12 * dpi / 72))
    boxes = []
    for i, line in enumerate(LINES):
        x, y = round(0.5 * dpi), round((0.3 + 0.6 * i) * dpi)
        draw.text((x, y), line, font=f, fill="black")
        x0, y0, x1, y1 = draw.textbbox((x, y), line, font=f)
        boxes.append(Box(x0, y0, x1 - x0, y1 - y0))
    return to_bgr(img), boxes


def test_ocr_lines_finds_each_line_where_it_is_printed(engine: rapid.RapidEngine) -> None:
    image, boxes = region_with_lines()
    lines = engine.ocr_lines(image)
    assert [ln.text.replace(" ", "") for ln in lines] == [t.replace(" ", "") for t in LINES]
    for line, box in zip(lines, boxes, strict=True):
        assert line.box.iou(box) >= 0.6
        assert 50 <= line.conf <= 100
        assert line.words == ()


def test_ocr_lines_can_return_word_boxes_inside_the_line(engine: rapid.RapidEngine) -> None:
    image, _ = region_with_lines()
    lines = engine.ocr_lines(image, words=True)
    code_line = lines[1]
    words = [w.text for w in code_line.words]
    assert "12110000400000000X" in "".join(words)
    assert any(w.text.startswith("121100") for w in code_line.words)  # Latin runs stay whole
    for word in code_line.words:
        assert code_line.box.pad(4, 10_000, 10_000).intersection(word.box) == word.box.w * word.box.h


def test_ocr_lines_on_an_empty_image_is_empty(engine: rapid.RapidEngine) -> None:
    assert engine.ocr_lines(np.full((400, 600, 3), 255, np.uint8)) == []
    assert engine.ocr_lines(np.full((4, 4, 3), 255, np.uint8)) == []


def test_images_that_are_not_pictures_are_refused(engine: rapid.RapidEngine) -> None:
    with pytest.raises(ValueError, match="uint8"):
        engine.read_line(np.zeros((40, 200, 3), np.float32))
    with pytest.raises(ValueError, match="shape"):
        engine.ocr_lines(np.zeros((40, 200, 2), np.uint8))
