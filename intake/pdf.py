"""The one wrapper around pdfium (pypdfium2): open, count and measure pages, render them.

Nothing else imports pypdfium2. pdfium is not thread-safe: use one ``PdfFile`` per thread,
which is what a process per page gives. Page numbers are 1-based; sizes are PDF points
(1/72 inch) as the page is displayed, its /Rotate applied.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from intake.errors import CorruptFileError, EncryptedFileError, InputError, ToolMissingError

# A page is "one scanned image" when its images cover this share of it at one resolution
# (a scan stored as horizontal strips still counts).
_FULL_PAGE = 0.85
_SAME_DPI = 1.05


MIN_VERSION = (4, 30)


@dataclass(frozen=True)
class PdfiumInfo:
    version: str  # pypdfium2's
    pdfium_build: int  # the pdfium (Chromium) build it ships


def probe() -> PdfiumInfo:
    """pypdfium2's version and its pdfium build; ToolMissingError if it is too old."""
    info = pdfium.version.PYPDFIUM_INFO
    version = str(info)
    if (int(info.major), int(info.minor)) < MIN_VERSION:
        raise ToolMissingError(
            f"pypdfium2 {version} is too old, {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer is "
            "needed: pip install -U 'pypdfium2>=4.30'", subject="pypdfium2")
    return PdfiumInfo(version=version, pdfium_build=int(pdfium.version.PDFIUM_INFO.build))


@dataclass(frozen=True)
class PageImage:
    """An image drawn on a page: its own pixels and where it lands, in points."""

    px_width: int
    px_height: int
    width_pt: float
    height_pt: float

    @property
    def pixels(self) -> int:
        return self.px_width * self.px_height

    @property
    def dpi(self) -> float:
        """Its resolution on the page (rotation-proof: from areas, not sides)."""
        area_in = (self.width_pt / 72) * (self.height_pt / 72)
        return math.sqrt(self.pixels / area_in) if area_in > 0 else 0.0


@dataclass(frozen=True)
class PageInfo:
    """A page's displayed size in points and the images drawn on it."""

    width: float
    height: float
    images: tuple[PageImage, ...]

    def scan_dpi(self) -> float | None:
        """The scan's resolution when the page is one scanned image (or a scan stored in
        strips at one resolution), else None."""
        area = self.width * self.height
        images = [im for im in self.images if im.pixels > 0]
        if not images or area <= 0:
            return None
        if sum(im.width_pt * im.height_pt for im in images) < _FULL_PAGE * area:
            return None
        dpis = [im.dpi for im in images if im.width_pt * im.height_pt > 0.02 * area]
        if not dpis or max(dpis) > _SAME_DPI * min(dpis):
            return None
        return sum(dpis) / len(dpis)


@dataclass(frozen=True)
class TextModes:
    """How a page's text objects are drawn: visible, or invisible (render mode 3, an OCR
    layer laid over a scan)."""

    visible: int
    invisible: int


def _translate(exc: pdfium.PdfiumError, name: str) -> InputError:
    code = getattr(exc, "err_code", None)
    if code in (pdfium_c.FPDF_ERR_PASSWORD, pdfium_c.FPDF_ERR_SECURITY):
        return EncryptedFileError(
            "the PDF is protected by a password and cannot be opened: save or print it again "
            "without a password (document security off) and upload that file", subject=name)
    if code == pdfium_c.FPDF_ERR_FILE:
        return CorruptFileError("the file cannot be read from disk: upload it again",
                                subject=name)
    return CorruptFileError(
        "the PDF is damaged and cannot be opened (its structure is broken or it was cut off "
        "during upload): export or scan it again and upload the new file", subject=name)


class PdfFile:
    """An open PDF; close it (or use ``with``) to free pdfium's memory."""

    def __init__(self, path: Path) -> None:
        self.name = path.name
        try:
            self._doc = pdfium.PdfDocument(str(path))
        except pdfium.PdfiumError as exc:
            raise _translate(exc, self.name) from exc
        # Filled-in form fields of a printed form are drawn only with a form environment;
        # without one the page is still drawn, less its fields.
        with contextlib.suppress(pdfium.PdfiumError):
            self._doc.init_forms()
        self.page_count = len(self._doc)

    def __enter__(self) -> PdfFile:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self._doc.close()

    def _page(self, number: int) -> pdfium.PdfPage:
        if not 1 <= number <= self.page_count:
            raise ValueError(f"{self.name} has {self.page_count} pages, asked for page {number}")
        try:
            return self._doc[number - 1]
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(
                f"page {number} is damaged and cannot be read: export or scan the file again",
                subject=self.name) from exc

    def active_content(self) -> list[str]:
        """What the PDF carries besides pages: JavaScript actions and embedded files. A scan or
        a form printed to PDF needs neither (pdfium here runs no script; they are refused so
        that nothing passes on what a reviewer's viewer might run or open)."""
        found = []
        scripts = pdfium_c.FPDFDoc_GetJavaScriptActionCount(self._doc.raw)
        if scripts > 0:
            found.append(f"{scripts} JavaScript action(s)")
        attachments = self._doc.count_attachments()
        if attachments > 0:
            found.append(f"{attachments} embedded file(s)")
        return found

    def page_info(self, number: int) -> PageInfo:
        """Size and images of a page; loading it finds a damaged page before any work."""
        page = self._page(number)
        try:
            width, height = page.get_size()
            images = []
            # Images drawn directly on the page; a scan wrapped in a form object is missed.
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=0):
                px_w, px_h = obj.get_px_size()
                left, bottom, right, top = obj.get_bounds()
                images.append(PageImage(int(px_w), int(px_h), float(right - left),
                                        float(top - bottom)))
            return PageInfo(float(width), float(height), tuple(images))
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(
                f"page {number} cannot be read: export or scan the file again",
                subject=self.name) from exc
        finally:
            page.close()

    def text_modes(self, number: int) -> TextModes:
        """How many of a page's text objects are drawn visibly and how many invisibly."""
        page = self._page(number)
        try:
            visible = invisible = 0
            for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_TEXT]):
                mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
                if mode == pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                    invisible += 1
                else:
                    visible += 1
            return TextModes(visible, invisible)
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(
                f"the text on page {number} cannot be read: export or scan the file again",
                subject=self.name) from exc
        finally:
            page.close()

    def render(self, number: int, dpi: float) -> np.ndarray:
        """The page at ``dpi`` as a BGR uint8 image, white where nothing is drawn."""
        page = self._page(number)
        try:
            bitmap = page.render(scale=dpi / 72, fill_color=(255, 255, 255, 255),
                                 may_draw_forms=True)
            try:
                image = np.array(bitmap.to_numpy(), dtype=np.uint8, copy=True)
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise CorruptFileError(
                f"page {number} cannot be rendered: export or scan the file again",
                subject=self.name) from exc
        finally:
            page.close()
        if image.ndim == 2:
            return np.repeat(image[:, :, None], 3, axis=2)
        return np.ascontiguousarray(image[:, :, :3])


def open_pdf(path: Path) -> PdfFile:
    """Open a PDF; EncryptedFileError if it needs a password, CorruptFileError if damaged."""
    return PdfFile(path)
