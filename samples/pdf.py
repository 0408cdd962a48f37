"""PDF writers: the vector printout (reportlab, with a text layer) and the image-only scan.

Both are byte-for-byte deterministic: reportlab runs in invariant mode, and the scan writer
is a plain PDF 1.4 writer with no dates or random ids.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from samples import fonts
from samples.layout import PAGE_H, PAGE_W, Frame, PageSpec, Rule, Text

PRODUCER = "dossier-intake samples"


@dataclass(frozen=True)
class Overlay:
    """A raster drawn over a vector page (a seal in a digital printout): centre in points."""

    page: int  # 0-based page index
    cx: float
    cy: float
    image: Image.Image  # RGBA
    dpi: int


def _gray(color: tuple[float, float, float]) -> tuple[float, float, float]:
    y = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    return (y, y, y)


def vector_pdf(pages: Sequence[PageSpec], *, title: str, overlays: Sequence[Overlay] = (),
               gray: bool = False) -> bytes:
    """Draw ``pages`` with reportlab; seal ``overlays`` are multiplied over the page."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    fonts.register()
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    c.setTitle(title)
    c.setAuthor("")
    c.setCreator(PRODUCER)
    c.setProducer(PRODUCER)
    tone = _gray if gray else (lambda col: col)
    for index, page in enumerate(pages):
        for item in page.items:
            if isinstance(item, Text):
                c.setFillColorRGB(*tone(item.color))
                c.setFont(item.font, item.size)
                c.drawString(item.x, PAGE_H - item.baseline, item.text)
            elif isinstance(item, Rule):
                c.setStrokeColorRGB(*tone(item.color))
                c.setLineWidth(item.width)
                c.line(item.x1, PAGE_H - item.y1, item.x2, PAGE_H - item.y2)
            elif isinstance(item, Frame):
                c.setStrokeColorRGB(*tone(item.color))
                c.setLineWidth(item.width)
                if item.fill is not None:
                    c.setFillColorRGB(*tone(item.fill))
                c.rect(item.x, PAGE_H - item.y - item.h, item.w, item.h, stroke=1,
                       fill=int(item.fill is not None))
        for overlay in overlays:
            if overlay.page != index:
                continue
            w = overlay.image.width * 72 / overlay.dpi
            h = overlay.image.height * 72 / overlay.dpi
            c.saveState()
            c.setBlendMode("Multiply")
            c.drawImage(ImageReader(overlay.image), overlay.cx - w / 2,
                        PAGE_H - overlay.cy - h / 2, w, h, mask="auto")
            c.restoreState()
        c.showPage()
    c.save()
    return buf.getvalue()


def image_pdf(jpegs: Sequence[bytes], *, width_px: int, height_px: int, gray: bool,
              title: str, sizes: dict[int, tuple[int, int]] | None = None) -> bytes:
    """An image-only PDF: one full-page JPEG per A4 page, nothing else. ``sizes`` gives the
    pixel size of a page (by 0-based index) scanned at another resolution."""
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the pages object exists
    pages_ref = add(b"")
    info = add(b"<< /Producer " + _pdf_string(PRODUCER) + b" /Title " + _pdf_string(title)
               + b" >>")
    kids = []
    space = b"/DeviceGray" if gray else b"/DeviceRGB"
    w, h = f"{PAGE_W:.4f}".encode(), f"{PAGE_H:.4f}".encode()
    for index, data in enumerate(jpegs):
        px_w, px_h = (sizes or {}).get(index, (width_px, height_px))
        image = add(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s "
                    b"/BitsPerComponent 8 /Filter /DCTDecode /Length %d >>\nstream\n"
                    % (px_w, px_h, space, len(data)) + data + b"\nendstream")
        content = b"q " + w + b" 0 0 " + h + b" 0 0 cm /Im0 Do Q"
        stream = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        kids.append(add(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %s %s] "
                        b"/Resources << /XObject << /Im0 %d 0 R >> >> /Contents %d 0 R >>"
                        % (pages_ref, w, h, image, stream)))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_ref
    objects[pages_ref - 1] = (b"<< /Type /Pages /Kids [" + b" ".join(b"%d 0 R" % k for k in kids)
                              + b"] /Count %d >>" % len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, info, xref))
    return out.getvalue()


def _pdf_string(text: str) -> bytes:
    """A PDF text string: UTF-16BE with BOM, hex-encoded, so any title is safe."""
    return b"<FEFF" + text.encode("utf-16-be").hex().upper().encode() + b">"
