"""intake.load: file kinds by bytes, validation with actionable errors, one page at a time."""

from __future__ import annotations

import hashlib
import io
import shutil
import struct
import subprocess
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from intake import load
from intake.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    InputError,
    UnsupportedFileError,
)
from intake.model import Document, DocumentKind
from tests.intake.pagedraw import form_page, ink_box, text_image

LIMITS = {"max_bytes": 50 * 2**20, "max_pages": 50, "max_pixels": 60_000_000}


def _open(path: Path, **limits: int) -> Document:
    return load.open_document(path, **{**LIMITS, **limits})


def _vector_pdf(path: Path, pages: int = 1) -> Path:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4)
    for n in range(1, pages + 1):
        c.setFont("STSong-Light", 16)
        c.drawString(72, 760, f"第 {n} 页 实验室名称")
        c.showPage()
    c.save()
    return path


def _scan_pdf(path: Path, dpi: int) -> Path:
    page = form_page(dpi).convert("L")
    page.save(path, resolution=dpi)
    return path


def _png_bytes(image: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, "PNG", **params)
    return buf.getvalue()


# Kinds by bytes ----------------------------------------------------------------------------


def test_each_accepted_kind_is_recognised_with_its_pages(tmp_path: Path) -> None:
    pdf = _vector_pdf(tmp_path / "form.pdf", pages=3)
    tiff = tmp_path / "scan.tif"
    pages = [text_image(f"第{n}页", 40).convert("L") for n in (1, 2, 3, 4)]
    pages[0].save(tiff, save_all=True, append_images=pages[1:], compression="tiff_lzw")
    jpeg = tmp_path / "photo.jpg"
    text_image("实验室", 40).save(jpeg, quality=90)
    png = tmp_path / "page.png"
    text_image("实验室", 40).save(png)

    for path, kind, count in ((pdf, DocumentKind.PDF, 3), (tiff, DocumentKind.TIFF, 4),
                              (jpeg, DocumentKind.JPEG, 1), (png, DocumentKind.PNG, 1)):
        doc = _open(path)
        assert (doc.kind, doc.page_count, doc.name) == (kind, count, path.name)
        assert doc.size == path.stat().st_size
        assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_kind_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    fake_pdf = tmp_path / "申报书.pdf"
    text_image("实验室", 40).save(fake_pdf, "PNG")
    assert _open(fake_pdf).kind is DocumentKind.PNG

    fake_png = tmp_path / "scan.png"
    fake_png.write_text("实验室名称：国家电线电缆产品质量检验检测中心\n", encoding="utf-8")
    with pytest.raises(UnsupportedFileError) as info:
        _open(fake_png)
    err = info.value
    assert err.subject == "scan.png"
    assert "plain text" in err.message
    assert ".png" in err.message
    assert "PDF, TIFF, JPEG or PNG" in err.message


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"GIF89a" + bytes(40), "GIF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(40), "Office"),
        (b"\x00\x00\x00\x18ftypheic" + bytes(40), "HEIC"),
        (b"<!DOCTYPE html><html><body>upload</body></html>", "web page"),
        (bytes(range(256)) * 4, "unrecognised binary"),
    ],
)
def test_unsupported_content_is_named(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "upload.pdf"
    path.write_bytes(content)
    with pytest.raises(UnsupportedFileError, match=words):
        _open(path)


def test_a_word_document_is_called_one(tmp_path: Path) -> None:
    path = tmp_path / "申报书.pdf"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(UnsupportedFileError, match=r"Word document \(.docx\)"):
        _open(path)


def test_pdf_header_after_leading_junk_is_still_a_pdf(tmp_path: Path) -> None:
    src = _vector_pdf(tmp_path / "a.pdf")
    path = tmp_path / "junk.pdf"
    path.write_bytes(b"\r\n\r\n" + src.read_bytes())
    assert load.detect_kind(path) is DocumentKind.PDF


# Damaged, protected, too large ------------------------------------------------------------


def test_zero_byte_file_is_corrupt_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty") as info:
        _open(path)
    assert info.value.subject == "empty.pdf"
    assert "upload it again" in info.value.message


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        _open(tmp_path / "nowhere.pdf")


def test_truncated_pdf_is_corrupt(tmp_path: Path) -> None:
    whole = _scan_pdf(tmp_path / "whole.pdf", 150).read_bytes()
    for keep in (len(whole) // 2, len(whole) - 40):
        path = tmp_path / f"cut{keep}.pdf"
        path.write_bytes(whole[:keep])
        with pytest.raises(CorruptFileError) as info:
            _open(path)
        assert info.value.subject == path.name
        assert "again" in info.value.message


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF"])
def test_truncated_image_is_corrupt(tmp_path: Path, fmt: str) -> None:
    buf = io.BytesIO()
    form_page(100).convert("L").save(buf, fmt)
    path = tmp_path / f"cut.{fmt.lower()}"
    path.write_bytes(buf.getvalue()[: len(buf.getvalue()) * 2 // 3])
    with pytest.raises(CorruptFileError, match=r"damaged|cut off"):
        _open(path)


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    plain = _vector_pdf(tmp_path / "plain.pdf")
    locked = tmp_path / "locked.pdf"
    subprocess.run(["qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--", str(plain),
                    str(locked)], check=True)
    with pytest.raises(EncryptedFileError, match="password") as info:
        _open(locked)
    assert info.value.subject == "locked.pdf"
    with pytest.raises(EncryptedFileError):
        load.render_page(locked, DocumentKind.PDF, 1)


@pytest.mark.skipif(shutil.which("qpdf") is None, reason="qpdf is not installed")
def test_pdf_with_only_an_owner_password_opens(tmp_path: Path) -> None:
    plain = _vector_pdf(tmp_path / "plain.pdf")
    restricted = tmp_path / "restricted.pdf"
    subprocess.run(["qpdf", "--encrypt", "", "owner-pw", "256", "--print=none", "--",
                    str(plain), str(restricted)], check=True)
    assert _open(restricted).page_count == 1
    image, _ = load.render_page(restricted, DocumentKind.PDF, 1)
    assert ink_box(image) is not None


def test_limits_on_bytes_pages_and_pixels(tmp_path: Path) -> None:
    pdf = _vector_pdf(tmp_path / "long.pdf", pages=5)
    with pytest.raises(FileTooLargeError, match="5 pages"):
        _open(pdf, max_pages=4)
    with pytest.raises(FileTooLargeError, match="MB"):
        _open(pdf, max_bytes=100)
    big = tmp_path / "big.png"
    Image.new("1", (4000, 3000), 1).save(big)
    with pytest.raises(FileTooLargeError, match="4000 x 3000"):
        _open(big, max_pixels=10_000_000)
    scan = _scan_pdf(tmp_path / "scan.pdf", 300)
    with pytest.raises(FileTooLargeError, match="page 1"):
        _open(scan, max_pixels=5_000_000)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    # A PNG that claims 40000 x 40000 pixels in a few hundred bytes.
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 1, 0, 0, 0, 0)
    data = (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
            + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 5001 * 10)) + _png_chunk(b"IEND", b""))
    path = tmp_path / "bomb.png"
    path.write_bytes(data)
    with pytest.raises(FileTooLargeError):
        _open(path, max_pixels=10**10)
    with pytest.raises(FileTooLargeError):
        _open(path)


# Rendering ---------------------------------------------------------------------------------


def test_scanned_pdf_renders_at_its_own_resolution(tmp_path: Path) -> None:
    for dpi, expected in ((300, 300), (100, 150), (600, 400)):
        path = _scan_pdf(tmp_path / f"scan{dpi}.pdf", dpi)
        image, used = load.render_page(path, DocumentKind.PDF, 1)
        assert used == expected
        assert image.dtype == np.uint8
        assert image.shape[2] == 3
        assert abs(image.shape[1] - round(8.27 * expected)) <= 2


def test_scan_stored_in_strips_and_a_page_with_a_logo(tmp_path: Path) -> None:
    from reportlab.lib.utils import ImageReader

    page = form_page(300).convert("L")
    strips = tmp_path / "strips.pdf"
    c = canvas.Canvas(str(strips), pagesize=A4)
    height = page.height // 4
    for i in range(4):
        band = page.crop((0, i * height, page.width, (i + 1) * height))
        buf = io.BytesIO()
        band.save(buf, "PNG")
        c.drawImage(ImageReader(buf), 0, A4[1] - (i + 1) * A4[1] / 4, width=A4[0],
                    height=A4[1] / 4)
    c.showPage()
    c.save()
    assert load.render_page(strips, DocumentKind.PDF, 1)[1] == 300

    logo = tmp_path / "logo.pdf"
    c = canvas.Canvas(str(logo), pagesize=A4)
    buf = io.BytesIO()
    text_image("中心", 60).save(buf, "PNG")
    c.drawImage(ImageReader(buf), 72, 700, width=100, height=40)
    c.drawString(72, 650, "Printed form with a small logo")
    c.showPage()
    c.save()
    assert load.render_page(logo, DocumentKind.PDF, 1)[1] == 200


def test_vector_pdf_renders_at_200_or_as_asked(tmp_path: Path) -> None:
    path = _vector_pdf(tmp_path / "form.pdf", pages=2)
    image, dpi = load.render_page(path, DocumentKind.PDF, 2)
    assert dpi == 200
    assert abs(image.shape[0] - A4[1] / 72 * 200) <= 1
    assert abs(image.shape[1] - A4[0] / 72 * 200) <= 1
    assert ink_box(image) is not None
    image, dpi = load.render_page(path, DocumentKind.PDF, 1, dpi=100)
    assert dpi == 100
    assert abs(image.shape[0] - A4[1] / 72 * 100) <= 1


def test_render_lowers_dpi_to_stay_within_max_pixels(tmp_path: Path) -> None:
    path = _vector_pdf(tmp_path / "form.pdf")
    image, dpi = load.render_page(path, DocumentKind.PDF, 1, dpi=300, max_pixels=4_000_000)
    assert dpi < 300
    assert image.shape[0] * image.shape[1] <= 4_000_000


def test_pages_are_one_based(tmp_path: Path) -> None:
    path = _vector_pdf(tmp_path / "form.pdf", pages=2)
    with pytest.raises(ValueError, match="page 0"):
        load.render_page(path, DocumentKind.PDF, 0)
    with pytest.raises(ValueError, match="page 3"):
        load.render_page(path, DocumentKind.PDF, 3)


def test_multipage_tiff_renders_the_page_asked_for(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    blank = Image.new("L", (400, 300), 255)
    marked = blank.copy()
    marked.paste(0, (300, 200, 360, 260))
    blank.save(path, save_all=True, append_images=[marked, blank], compression="tiff_lzw",
               dpi=(300, 300))
    assert _open(path).page_count == 3
    first, _ = load.render_page(path, DocumentKind.TIFF, 1)
    second, dpi = load.render_page(path, DocumentKind.TIFF, 2)
    assert ink_box(first) is None
    assert ink_box(second) == (300, 200, 359, 259)
    assert dpi == 200  # 400 px at "300 dpi" is no sheet of paper: not trusted


def test_bilevel_group4_tiff_at_300_dpi(tmp_path: Path) -> None:
    path = tmp_path / "fax.tif"
    form_page(300).convert("1").save(path, compression="group4", dpi=(300, 300))
    image, dpi = load.render_page(path, DocumentKind.TIFF, 1)
    assert dpi == 300
    assert image.shape == (round(11.69 * 300), round(8.27 * 300), 3)
    assert set(np.unique(image)) <= {0, 255}


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    # A phone photo stored sideways with "rotate 90 clockwise to view" (orientation 6).
    stored = Image.new("RGB", (300, 200), "white")
    stored.paste((0, 0, 0), (0, 0, 30, 30))  # top left as stored
    exif = Image.Exif()
    exif[0x0112] = 6
    path = tmp_path / "photo.jpg"
    stored.save(path, exif=exif, quality=95)
    image, _ = load.render_page(path, DocumentKind.JPEG, 1)
    assert image.shape[:2] == (300, 200)
    box = ink_box(image)
    assert box is not None
    assert box[0] > 150  # the stored top-left corner is now top right
    assert box[1] < 20


def test_cmyk_jpeg_comes_out_bgr(tmp_path: Path) -> None:
    path = tmp_path / "cmyk.jpg"
    img = Image.new("CMYK", (120, 80), (0, 0, 0, 0))
    img.paste((0, 255, 255, 0), (10, 10, 50, 50))  # red in CMYK
    img.save(path, quality=95)
    image, _ = load.render_page(path, DocumentKind.JPEG, 1)
    b, g, r = (int(v) for v in image[30, 30])
    assert r > 200
    assert max(g, b) < 60
    assert image[70, 100].min() > 240


def test_sixteen_bit_gray_png_keeps_its_levels(tmp_path: Path) -> None:
    values = np.full((60, 80), 65535, dtype=np.uint16)
    values[20:40, 20:60] = 16384  # a quarter of full scale: dark gray
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    image, _ = load.render_page(path, DocumentKind.PNG, 1)
    assert image[0, 0].tolist() == [255, 255, 255]
    assert 60 <= int(image[30, 30, 0]) <= 68


def test_twelve_bit_data_in_sixteen_bits_is_not_black(tmp_path: Path) -> None:
    values = np.full((60, 80), 4095, dtype=np.uint16)
    values[20:40, 20:60] = 0
    path = tmp_path / "twelve.png"
    Image.fromarray(values).save(path)
    image, _ = load.render_page(path, DocumentKind.PNG, 1)
    assert int(image[0, 0, 0]) == 255
    assert int(image[30, 30, 0]) == 0


def test_palette_png_with_transparency_is_on_white(tmp_path: Path) -> None:
    img = Image.new("P", (50, 40), 0)
    img.putpalette([0, 0, 0, 200, 0, 0] + [0, 0, 0] * 254)
    img.paste(1, (10, 10, 20, 20))
    path = tmp_path / "pal.png"
    path.write_bytes(_png_bytes(img, transparency=0))
    image, _ = load.render_page(path, DocumentKind.PNG, 1)
    assert image[0, 0].tolist() == [255, 255, 255]  # transparent index over white paper
    assert image[15, 15].tolist() == [0, 0, 200]  # BGR of the red palette entry


def test_image_dpi_from_metadata_or_a4_or_200(tmp_path: Path) -> None:
    a4_300 = form_page(300).convert("L")
    with_dpi = tmp_path / "with.png"
    a4_300.save(with_dpi, dpi=(300, 300))
    camera = tmp_path / "camera.jpg"
    a4_300.save(camera, dpi=(72, 72))
    bare = tmp_path / "bare.png"
    Image.new("L", (900, 500), 255).save(bare)
    assert load.render_page(with_dpi, DocumentKind.PNG, 1)[1] == 300
    assert load.render_page(camera, DocumentKind.JPEG, 1)[1] == 300  # A4-shaped: 3508 / 11.69
    assert load.render_page(bare, DocumentKind.PNG, 1)[1] == 200


def test_pdf_probe_reports_pdfium() -> None:
    from intake import pdf

    info = pdf.probe()
    assert int(info.version.split(".")[0]) >= 4
    assert info.pdfium_build > 0
