"""Test pages drawn in code: a ruled A4 form page, a red seal, skew and rotation.

Shared by the intake tests and bench/; nothing here is committed as a binary sample.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SANS = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SERIF = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
_SC = 2  # face index of "Noto ... CJK SC" inside the collections

# A page of the 复核申报信息表 as the online system prints it: label cell, value cell.
FORM_ROWS: tuple[tuple[str, str], ...] = (
    ("实验室名称", "国家电线电缆产品质量检验检测中心"),
    ("归属法人单位", "上海电缆研究所有限公司"),
    ("统一社会信用代码", "913100001322011589"),
    ("推荐单位", "上海市经济和信息化委员会"),
    ("行业协会", "中国电器工业协会"),
    ("CMA证书编号", "160012345678"),
    ("CMA有效期至", "2025年12月31日"),
    ("CNAS证书编号", "CNAS L1234"),
    ("仪器设备总数", "356台套"),
    ("国际国内先进设备", "128台套"),
    ("中高级职称人员", "87人"),
    ("公共服务检测报告", "1520份"),
    ("联系人", "王建国"),
    ("联系电话", "021-65493333"),
)
FORM_TITLE = "工业产品质量控制和技术评价实验室复核申报信息表"


def font(size: int, *, serif: bool = True) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(SERIF if serif else SANS), size, index=_SC)


def form_page(dpi: int = 200, rows: tuple[tuple[str, str], ...] = FORM_ROWS) -> Image.Image:
    """An upright A4 form page: a title and a two-column ruled table, black on white, RGB."""
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    pt = dpi / 72
    title = font(round(16 * pt))
    body = font(round(12 * pt))
    left, right = round(0.9 * dpi), width - round(0.9 * dpi)
    split = left + round(2.4 * dpi)
    y = round(1.0 * dpi)
    draw.text((width // 2, y), FORM_TITLE, font=title, fill="black", anchor="mt")
    y += round(0.6 * dpi)
    row_h = round(0.42 * dpi)
    rule = max(2, round(dpi / 100))
    top = y
    for label, value in rows:
        draw.line([(left, y), (right, y)], fill="black", width=rule)
        mid = y + row_h // 2
        draw.text((left + round(0.1 * dpi), mid), label, font=body, fill="black", anchor="lm")
        draw.text((split + round(0.1 * dpi), mid), value, font=body, fill="black", anchor="lm")
        y += row_h
    draw.line([(left, y), (right, y)], fill="black", width=rule)
    for x in (left, split, right):
        draw.line([(x, top), (x, y)], fill="black", width=rule)
    footer = font(round(10 * pt))
    draw.text((width // 2, height - round(0.8 * dpi)), "第 1 页 共 6 页", font=footer, fill="black",
              anchor="mt")
    return page


def text_image(text: str, size: int = 40, *, pad: int = 20, serif: bool = True) -> Image.Image:
    """One line of black text on white, RGB, tight around the text plus ``pad``."""
    f = font(size, serif=serif)
    x0, y0, x1, y1 = f.getbbox(text)
    img = Image.new("RGB", (x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), "white")
    ImageDraw.Draw(img).text((pad - x0, pad - y0), text, font=f, fill="black")
    return img


def red_seal(img: Image.Image, center: tuple[int, int], radius: int, name: str,
             color: tuple[int, int, int] = (220, 30, 40)) -> Image.Image:
    """Stamp a round seal: a thick red ring, the name along the ring, a star, over ``img``.

    Drawn on a layer multiplied into the page, as ink on paper: black text under it stays black.
    """
    layer = Image.new("RGB", img.size, "white")
    draw = ImageDraw.Draw(layer)
    cx, cy = center
    ring = max(3, radius // 14)
    draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], outline=color, width=ring)
    size = max(12, radius // 4)
    f = font(size, serif=False)
    n = len(name)
    span = math.radians(240)
    for i, ch in enumerate(name):
        a = math.radians(-90) - span / 2 + span * (i + 0.5) / n
        r = radius - ring - size * 0.75
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=f, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(a) - 90, resample=Image.Resampling.BICUBIC)
        x, y = round(cx + r * math.cos(a)) - size, round(cy + r * math.sin(a)) - size
        layer.paste(Image.new("RGB", glyph.size, color), (x, y), glyph)
    star = [(cx + radius * 0.28 * math.cos(math.radians(-90 + k * 144)),
             cy + radius * 0.28 * math.sin(math.radians(-90 + k * 144))) for k in range(5)]
    draw.polygon(star, fill=color)
    page = np.asarray(img, dtype=np.float32) * np.asarray(layer, dtype=np.float32) / 255.0
    return Image.fromarray(page.round().astype(np.uint8))


def rotate_page(img: Image.Image, degrees: float) -> Image.Image:
    """Turn a page counter-clockwise by ``degrees`` about its centre, white fill, same size."""
    return img.rotate(degrees, resample=Image.Resampling.BICUBIC, fillcolor="white")


def to_bgr(img: Image.Image) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(img.convert("RGB"))[:, :, ::-1])


def text_page(lines: tuple[str, ...], dpi: int = 200, size_pt: float = 12) -> Image.Image:
    """An A4 page of plain paragraphs, no rules: what a letter or an attachment looks like."""
    width, height = round(8.27 * dpi), round(11.69 * dpi)
    page = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(page)
    body = font(round(size_pt * dpi / 72))
    y = round(1.2 * dpi)
    for line in lines:
        draw.text((round(1.0 * dpi), y), line, font=body, fill="black")
        y += round(size_pt * 2.0 * dpi / 72)
    return page


LETTER_LINES: tuple[str, ...] = (
    "关于工业产品质量控制和技术评价实验室初审确认的函",
    "工业和信息化部科技司：",
    "根据复核工作方案的要求，我会组织对本行业实验室的申报材料进行了初步审查，",
    "经审查，下列实验室的材料齐全，内容真实，同意通过初审并推荐参加复核评定。",
    "一、国家电线电缆产品质量检验检测中心",
    "二、国家电器产品质量检验检测中心",
    "三、国家低压电器产品质量检验检测中心",
    "特此函告。",
    "中国电器工业协会",
    "二〇二一年五月二十日",
)


# A hand-made PDF, for what reportlab will not write: unmapped glyphs, mojibake, odd boxes.


def raw_pdf(content: bytes, *, font_dict: bytes, mediabox: tuple[int, int, int, int] = (
        0, 0, 595, 842), cropbox: tuple[int, int, int, int] | None = None,
        extra_objects: tuple[bytes, ...] = ()) -> bytes:
    """A one-page PDF whose page draws ``content`` with font /F1 = object 4 (``font_dict``).

    ``extra_objects`` become objects 6, 7, ... for fonts that need descendants.
    """
    box = b" ".join(str(v).encode() for v in mediabox)
    crop = (b" /CropBox [" + b" ".join(str(v).encode() for v in cropbox) + b"]") if cropbox \
        else b""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [" + box + b"]" + crop
        + b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        font_dict,
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content
        + b"\nendstream",
        *extra_objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


def cid_garbage_pdf() -> bytes:
    """Text in a CID font with no ToUnicode map: extractors see only "(cid:NN)"."""
    font_dict = (b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSunSubset /Encoding /Identity-H"
                 b" /DescendantFonts [6 0 R] >>")
    descendant = (b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSunSubset"
                  b" /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
                  b" /FontDescriptor 7 0 R /DW 1000 >>")
    descriptor = (b"<< /Type /FontDescriptor /FontName /SimSunSubset /Flags 4"
                  b" /FontBBox [0 -140 1000 860] /ItalicAngle 0 /Ascent 860 /Descent -140"
                  b" /CapHeight 700 /StemV 80 >>")
    glyphs = b"".join(f"{0x2000 + i * 37:04X}".encode() for i in range(24))
    content = b"BT /F1 14 Tf 72 760 Td <" + glyphs + b"> Tj 0 -30 Td <" + glyphs + b"> Tj ET"
    return raw_pdf(content, font_dict=font_dict, extra_objects=(descendant, descriptor))


def mojibake_pdf() -> bytes:
    """GBK bytes of Chinese text drawn in a Latin font: it extracts as accented Latin."""
    font_dict = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    text = "实验室名称国家电线电缆产品质量检验检测中心".encode("gbk")
    escaped = text.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    content = b"BT /F1 14 Tf 72 760 Td (" + escaped + b") Tj ET"
    return raw_pdf(content, font_dict=font_dict)


def latin_pdf(text: str, *, mediabox: tuple[int, int, int, int] = (0, 0, 595, 842),
              cropbox: tuple[int, int, int, int] | None = None, at: tuple[int, int] = (
                  72, 760), size: int = 24) -> bytes:
    """A line of ASCII text in Helvetica at ``at`` (PDF points, origin bottom left)."""
    font_dict = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
    content = f"BT /F1 {size} Tf {at[0]} {at[1]} Td ({text}) Tj ET".encode()
    return raw_pdf(content, font_dict=font_dict, mediabox=mediabox, cropbox=cropbox)


def ink_box(bgr: np.ndarray, threshold: int = 128) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of the dark pixels, or None on a blank image."""
    gray = bgr.min(axis=2) if bgr.ndim == 3 else bgr
    ys, xs = np.nonzero(gray < threshold)
    if not len(xs):
        return None
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
