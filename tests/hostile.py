"""Hostile and broken input, made in code: each case is a file a lab or a unit might send, on
purpose or not, and what the service must do with it."""

from __future__ import annotations

import io
import struct
import subprocess
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas


@dataclass(frozen=True)
class Case:
    id: str
    title: str  # what the file is (Chinese, for the table)
    build: Callable[[Path], tuple[str, bytes]]  # (file name, bytes)
    refused: bool  # True: refused with ``code``; False: accepted and reviewed
    code: str | None = None


def text_pdf(pages: int = 1) -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for n in range(pages):
        pdf.setFont("STSong-Light", 14)
        pdf.drawString(72, 760, f"复核申报信息表 第 {n + 1} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def raw_pdf(objects: list[bytes]) -> bytes:
    """A PDF from its objects (1-based, object 1 the catalog), with a correct xref."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


PAGE_OBJECTS = [b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]


def _zero(_: Path) -> tuple[str, bytes]:
    return "空文件.pdf", b""


def _truncated(_: Path) -> tuple[str, bytes]:
    whole = text_pdf(3)
    return "第一册-截断.pdf", whole[: len(whole) // 2]


def _broken_xref(_: Path) -> tuple[str, bytes]:
    whole = text_pdf(2)
    start = whole.rindex(b"startxref")
    xref = whole.rindex(b"xref", 0, start)
    garbled = whole[:xref] + b"xref\n0 1\n9999999999 65535 f \n" + whole[whole.index(
        b"trailer", xref):]
    return "第一册-交叉引用表损坏.pdf", garbled


def _encrypted(user_password: str) -> Callable[[Path], tuple[str, bytes]]:
    def build(tmp: Path) -> tuple[str, bytes]:
        plain, locked = tmp / "plain.pdf", tmp / f"locked-{bool(user_password)}.pdf"
        plain.write_bytes(text_pdf())
        subprocess.run(["qpdf", "--encrypt", user_password, "owner-pw", "256", "--print=none",
                        "--", str(plain), str(locked)], check=True)
        return ("加密-打开密码.pdf" if user_password else "加密-仅权限密码.pdf"), locked.read_bytes()
    return build


def _javascript(_: Path) -> tuple[str, bytes]:
    return "带脚本.pdf", raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>", *PAGE_OBJECTS,
        b"<< /Names [(open) 5 0 R] >>", b"<< /S /JavaScript /JS (app.alert\\('hi'\\);) >>"])


def _embedded_file(_: Path) -> tuple[str, bytes]:
    return "带附件.pdf", raw_pdf([
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles 4 0 R >> >>", *PAGE_OBJECTS,
        b"<< /Names [(setup.exe) 5 0 R] >>",
        b"<< /Type /Filespec /F (setup.exe) /EF << /F 6 0 R >> >>",
        b"<< /Type /EmbeddedFile /Length 5 >>\nstream\nMZ\x90\x00\x03\nendstream"])


def _many_pages(tmp: Path) -> tuple[str, bytes]:
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument.new()
    for _ in range(5000):
        doc.new_page(595, 842).close()
    path = tmp / "5000.pdf"
    doc.save(str(path))
    doc.close()
    return "五千页.pdf", path.read_bytes()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _png(width: int, height: int, idat: bytes) -> bytes:
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _huge_image(_: Path) -> tuple[str, bytes]:
    return "三万像素见方.png", _png(30_000, 30_000, zlib.compress(b"\x00" * 30_001))


def _bomb(_: Path) -> tuple[str, bytes]:
    # 12000 x 12000 gray pixels, all white: 144 MB when decoded, about 140 KB as sent.
    width = height = 12_000
    packer = zlib.compressobj(6)
    row = b"\x00" + b"\xff" * width
    body = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    return "解压炸弹.png", _png(width, height, body)


def _tiff_with_a_corrupt_page(_: Path) -> tuple[str, bytes]:
    pages = [Image.new("L", (800, 1100), 255) for _ in range(3)]
    buffer = io.BytesIO()
    pages[0].save(buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_lzw")
    data = bytearray(buffer.getvalue())
    # Point the third page's strip offsets past the end of the file.
    ifd = struct.unpack("<I", data[4:8])[0]
    for _ in range(2):
        count = struct.unpack("<H", data[ifd:ifd + 2])[0]
        ifd = struct.unpack("<I", data[ifd + 2 + count * 12: ifd + 6 + count * 12])[0]
    count = struct.unpack("<H", data[ifd:ifd + 2])[0]
    for n in range(count):
        entry = ifd + 2 + n * 12
        if struct.unpack("<H", data[entry:entry + 2])[0] == 273:  # StripOffsets
            data[entry + 8:entry + 12] = struct.pack("<I", len(data) + 10_000_000)
    return "多页扫描-第三页损坏.tif", bytes(data)


def _scan_like(mode: str = "RGB") -> Image.Image:
    rng = np.random.default_rng(1)
    page = np.full((1100, 800), 250, np.uint8)
    page[200:204, 100:700] = 20
    page += rng.integers(0, 5, page.shape, dtype=np.uint8)
    return Image.fromarray(page).convert(mode)


def _cmyk(_: Path) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    _scan_like("CMYK").save(buffer, "JPEG", dpi=(100, 100))
    return "CMYK扫描.jpg", buffer.getvalue()


def _sixteen_bit(_: Path) -> tuple[str, bytes]:
    page = np.asarray(_scan_like("L"), dtype=np.uint16) * 257
    buffer = io.BytesIO()
    Image.fromarray(page).save(buffer, "PNG")
    return "16位灰度.png", buffer.getvalue()


def _exif_rotated(_: Path) -> tuple[str, bytes]:
    image = _scan_like().rotate(90, expand=True)
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to view
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, dpi=(100, 100))
    return "手机拍照-EXIF旋转.jpg", buffer.getvalue()


def _not_a_pdf(_: Path) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return "名为PDF的Word文档.pdf", buffer.getvalue()


def _control_characters(_: Path) -> tuple[str, bytes]:
    return "第\x07一册\x1b[31m\r\n.pdf", text_pdf()


CASES = [
    Case("zero_byte", "空文件（0 字节）", _zero, True, "corrupt_file"),
    Case("truncated_pdf", "截断的 PDF", _truncated, True, "corrupt_file"),
    Case("broken_xref", "交叉引用表损坏的 PDF（可修复）", _broken_xref, False),
    Case("encrypted_user", "加密 PDF（有打开密码）", _encrypted("user-pw"), True, "encrypted_file"),
    Case("encrypted_owner", "加密 PDF（仅权限密码）", _encrypted(""), False),
    Case("javascript", "带 JavaScript 的 PDF", _javascript, True, "active_content"),
    Case("embedded_file", "带嵌入文件的 PDF", _embedded_file, True, "active_content"),
    Case("five_thousand_pages", "5000 页的 PDF", _many_pages, True, "file_too_large"),
    Case("huge_image", "30000×30000 像素的图像", _huge_image, True, "file_too_large"),
    Case("decompression_bomb", "解压炸弹（1.44 亿像素，约 140 KB 文件）", _bomb, True,
         "file_too_large"),
    Case("tiff_corrupt_page", "第三页损坏的多页 TIFF", _tiff_with_a_corrupt_page, True,
         "corrupt_file"),
    Case("cmyk_jpeg", "CMYK JPEG", _cmyk, False),
    Case("sixteen_bit_png", "16 位灰度 PNG", _sixteen_bit, False),
    Case("exif_rotated", "EXIF 旋转的手机照片", _exif_rotated, False),
    Case("not_a_pdf", "名为 .pdf 实为 Word 文档", _not_a_pdf, True, "unsupported_file"),
    Case("control_characters", "文件名含控制字符", _control_characters, False),
]
