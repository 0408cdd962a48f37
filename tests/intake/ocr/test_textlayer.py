"""intake.ocr.textlayer: a PDF's own text, in page pixels, only when it is real text."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from intake import load
from intake.model import DocumentKind
from intake.ocr import textlayer
from tests.intake.pagedraw import (
    cid_garbage_pdf,
    form_page,
    ink_box,
    latin_pdf,
    mojibake_pdf,
)

FONT = "STSong-Light"


@pytest.fixture(scope="module", autouse=True)
def _cid_font() -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))


def _printout(path: Path, lines: list[tuple[float, float, str]], size: float = 14) -> Path:
    """A digital printout: each (x, y) in points from the top left, drawn in a CJK font."""
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, size)
    for x, y, text in lines:
        c.drawString(x, A4[1] - y, text)
    c.showPage()
    c.save()
    return path


def _scan_with_layer(path: Path, text: str, *, invisible: bool = True) -> Path:
    """A scanned page (an image) with a text layer laid over it, as scanners' OCR writes."""
    buf = io.BytesIO()
    form_page(100).convert("L").save(buf, "PNG")
    c = canvas.Canvas(str(path), pagesize=A4)
    c.drawImage(ImageReader(io.BytesIO(buf.getvalue())), 0, 0, width=A4[0], height=A4[1])
    t = c.beginText(72, A4[1] - 100)
    t.setFont(FONT, 12)
    if invisible:
        t.setTextRenderMode(3)
    for line in text.splitlines():
        t.textLine(line)
    c.drawText(t)
    c.showPage()
    c.save()
    return path


def test_printout_text_comes_back_as_lines_in_page_pixels(tmp_path: Path) -> None:
    path = _printout(tmp_path / "form.pdf", [
        (72, 100, "实验室名称：国家电线电缆产品质量检验检测中心"),
        (72, 140, "统一社会信用代码 913100001322011589"),
    ])
    image, dpi = load.render_page(path, DocumentKind.PDF, 1)
    lines = textlayer.page_words(path, 1, dpi)
    assert lines is not None
    assert [ln.text for ln in lines] == ["实验室名称：国家电线电缆产品质量检验检测中心",
                                         "统一社会信用代码913100001322011589"]
    first = lines[0]
    assert first.conf == 100.0
    assert [w.text for w in first.words][:5] == ["实", "验", "室", "名", "称"]
    assert [w.text for w in lines[1].words][-1] == "913100001322011589"
    # The layer's boxes sit on the rendered ink (a glyph's box is its em square).
    ink = ink_box(image[: round(125 * dpi / 72)])
    assert ink is not None
    assert abs(first.box.x - ink[0]) <= 6
    assert abs(first.box.x2 - ink[2]) <= 6
    assert first.box.y - 6 <= ink[1] <= first.box.y2


def test_boxes_scale_with_the_dpi_asked_for(tmp_path: Path) -> None:
    path = _printout(tmp_path / "form.pdf", [(100, 200, "推荐单位")])
    at_100 = textlayer.page_words(path, 1, 100)
    at_300 = textlayer.page_words(path, 1, 300)
    assert at_100 is not None
    assert at_300 is not None
    a, b = at_100[0].box, at_300[0].box
    assert abs(b.x - 3 * a.x) <= 3
    assert abs(b.w - 3 * a.w) <= 3
    assert abs(a.x - 100 * 100 / 72) <= 2


def test_spaces_between_chinese_characters_are_removed(tmp_path: Path) -> None:
    path = _printout(tmp_path / "spaced.pdf", [(72, 100, "主 管 单 位 审 批 意 见"),
                                                (72, 140, "CNAS L1234 有效期 2025 年"),
                                                (72, 180, "电话：021-65493333")])
    lines = textlayer.page_words(path, 1, 200)
    assert lines is not None
    assert [ln.text for ln in lines] == ["主管单位审批意见", "CNAS L1234有效期2025年",
                                         "电话：021-65493333"]
    assert [w.text for w in lines[2].words] == ["电", "话", "：", "021-65493333"]


def test_cropped_and_offset_pages_map_to_the_rendered_pixels(tmp_path: Path) -> None:
    for name, data in (
        ("crop.pdf", latin_pdf("Cropped page", cropbox=(50, 100, 545, 742), at=(100, 600))),
        ("offset.pdf", latin_pdf("Offset media", mediabox=(0, 100, 595, 942), at=(100, 700))),
    ):
        path = tmp_path / name
        path.write_bytes(data)
        image, dpi = load.render_page(path, DocumentKind.PDF, 1)
        lines = textlayer.page_words(path, 1, dpi)
        ink = ink_box(image)
        assert lines is not None
        assert ink is not None
        assert abs(lines[0].box.x - ink[0]) <= 6, name
        assert lines[0].box.y <= ink[1] <= lines[0].box.y + 20, name


def test_unmapped_glyphs_mean_no_layer(tmp_path: Path) -> None:
    path = tmp_path / "cid.pdf"
    path.write_bytes(cid_garbage_pdf())
    assert textlayer.page_words(path, 1, 200) is None


def test_mojibake_means_no_layer(tmp_path: Path) -> None:
    path = tmp_path / "moji.pdf"
    path.write_bytes(mojibake_pdf())
    assert textlayer.page_words(path, 1, 200) is None


def test_image_only_scan_has_no_layer(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    form_page(150).convert("L").save(path, resolution=150)
    assert textlayer.page_words(path, 1, 150) is None


def test_invisible_ocr_layer_is_used_when_it_reads_as_chinese(tmp_path: Path) -> None:
    path = _scan_with_layer(tmp_path / "good.pdf", "实验室名称国家电线电缆产品质量检验检测中心\n"
                                                   "归属法人单位上海电缆研究所有限公司")
    lines = textlayer.page_words(path, 1, 200)
    assert lines is not None
    assert lines[1].text == "归属法人单位上海电缆研究所有限公司"


def test_invisible_ocr_layer_of_latin_noise_is_not_used(tmp_path: Path) -> None:
    # What an English-only OCR makes of a Chinese form.
    noise = "TMF ert\nSa AS HERES BIAS\n28 5S KA LWA\nAUS RMERS ofiiale BET LSS"
    path = _scan_with_layer(tmp_path / "noise.pdf", noise)
    assert textlayer.page_words(path, 1, 200) is None
    # The same letters printed visibly are the page's own text, and are kept.
    visible = _scan_with_layer(tmp_path / "visible.pdf", noise, invisible=False)
    assert textlayer.page_words(visible, 1, 200) is not None


def test_rare_character_noise_is_not_used(tmp_path: Path) -> None:
    rare = "鬱龘靐齉爩麤貜讟钃饢鸜灪" * 2
    path = _printout(tmp_path / "rare.pdf", [(72, 100, rare)])
    assert textlayer.page_words(path, 1, 200) is None


def test_text_that_does_not_run_left_to_right_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "turned.pdf"
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont(FONT, 14)
    c.saveState()
    c.translate(300, 400)
    c.rotate(180)
    c.drawString(0, 0, "倒置页面上的文字不能直接用")
    c.restoreState()
    c.showPage()
    c.save()
    assert textlayer.page_words(path, 1, 200) is None


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_tesseract_pdf_layers_real_and_garbage(tmp_path: Path) -> None:
    """The layers tesseract itself writes: chi_sim reads the form, eng turns it into noise."""
    image = tmp_path / "form.png"
    form_page(200).convert("L").save(image, dpi=(200, 200))
    results = {}
    for lang in ("chi_sim", "eng"):
        base = tmp_path / lang
        subprocess.run(["tesseract", str(image), str(base), "-l", lang, "--psm", "4", "pdf"],
                       check=True, capture_output=True, env={"OMP_THREAD_LIMIT": "1",
                                                             "PATH": "/usr/bin:/bin"})
        results[lang] = textlayer.page_words(base.with_suffix(".pdf"), 1, 200)
    assert results["eng"] is None
    chinese = results["chi_sim"]
    assert chinese is not None
    assert any("统一社会信用代码" in ln.text for ln in chinese)


def test_assess_reports_why() -> None:
    chars = [{"text": "(cid:12)", "matrix": (1, 0, 0, 1, 0, 0)}] * 10
    quality = textlayer.assess(chars, invisible=False)
    assert not quality.usable
    assert "Unicode" in quality.reason
    assert textlayer.assess([], invisible=False).reason == "no text"



def test_probe_reports_the_version() -> None:
    assert textlayer.probe().startswith("0.")
