"""Uploaded files in: what each one is (by its bytes, not its name), whether it can be read,
and its pages as images, one page at a time.

Accepted: PDF, TIFF (multi-page too), JPEG and PNG. Everything else is refused with a message
that says what the bytes look like, so a lab knows what to send instead.
"""

from __future__ import annotations

import hashlib
import math
import struct
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from intake import pdf
from intake.errors import (
    ActiveContentError,
    CorruptFileError,
    FileTooLargeError,
    InputError,
    UnsupportedFileError,
)
from intake.model import Document, DocumentKind

__all__ = [
    "DEFAULT_DPI",
    "DEFAULT_MAX_PIXELS",
    "DocumentKind",
    "detect_kind",
    "open_document",
    "render_page",
]

ACCEPTED = "PDF, TIFF, JPEG or PNG"
DEFAULT_DPI = 200  # vector pages, and images that do not say their resolution
SCAN_DPI_RANGE = (150, 400)  # a PDF scan is read at its own resolution, within these bounds
MIN_RENDER_DPI = 72  # below this a page is too large to read, not worth a blurry try
DEFAULT_MAX_PIXELS = 120_000_000
_HEAD = 2048
_CHUNK = 1 << 20
_A4_LONG_IN, _A4_SHORT_IN = 11.69, 8.27
_PAPER_LONG_IN = (5.0, 17.5)  # A5 to A3 and a bit: a page this size is plausibly what was scanned
_PLAUSIBLE_DPI = (100, 1200)

# What PIL raises on damaged or cut-off image data.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, struct.error, zlib.error,
                  IndexError, KeyError)


# Kind by bytes --------------------------------------------------------------------------------


def sniff(head: bytes) -> DocumentKind | None:
    """The accepted kind these first bytes of a file begin, or None."""
    if b"%PDF-" in head[:1024]:  # readers accept a PDF header anywhere in the first 1 KiB
        return DocumentKind.PDF
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return DocumentKind.TIFF
    if head[:3] == b"\xff\xd8\xff":
        return DocumentKind.JPEG
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return DocumentKind.PNG
    return None


def _zip_content(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return "a ZIP archive (damaged)"
    if any(n.startswith("word/") for n in names):
        return "a Word document (.docx)"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (.xlsx)"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint file (.pptx)"
    if any(n.upper() == "OFD.XML" for n in names):
        return "an OFD document"
    return "a ZIP archive"


_DESCRIPTIONS: tuple[tuple[int, bytes, str], ...] = (
    (0, b"GIF87a", "a GIF image"),
    (0, b"GIF89a", "a GIF image"),
    (0, b"BM", "a BMP image"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (0, b"\xffO\xffQ", "a JPEG 2000 image"),
    (0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
     "an old Microsoft Office or WPS document (.doc, .xls, .wps)"),
    (0, b"Rar!", "a RAR archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (0, b"\x1f\x8b", "a gzip archive"),
    (0, b"{\\rtf", "an RTF document"),
    (0, b"%!PS", "a PostScript file"),
    (0, b"AT&TFORM", "a DjVu document"),
    (0, b"\x00\x00\x01\x00", "an icon (.ico)"),
)


def _describe_text(head: bytes) -> str | None:
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html")):
        return "a web page (HTML)"
    if text.startswith(b"<"):
        return "XML or HTML text"
    for encoding in ("utf-8", "gb18030"):
        try:
            decoded = head.decode(encoding)
        except UnicodeDecodeError:
            continue
        printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in decoded)
        if printable >= 0.95 * len(decoded):
            return "plain text"
    return None


_HEIF_BRANDS = (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1")


def describe(head: bytes, path: Path | None = None) -> str:
    """What a file's first bytes look like, in words a user knows."""
    if not head:
        return "empty"
    if head[:4] == b"PK\x03\x04":
        return _zip_content(path) if path else "a ZIP archive"
    for offset, magic, what in _DESCRIPTIONS:
        if head[offset:offset + len(magic)] == magic:
            return what
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if head[4:8] == b"ftyp":
        if head[8:12] in _HEIF_BRANDS:
            return "a HEIC photo (as phones save them)"
        return "an AVIF image" if head[8:12] == b"avif" else "a video or MP4-family file"
    return _describe_text(head) or (
        "unrecognised binary data (it begins " + head[:8].hex(" ") + ")")


def _head(path: Path) -> bytes:
    with path.open("rb") as f:
        return f.read(_HEAD)


def detect_kind(path: Path) -> DocumentKind:
    """The file's kind by its bytes; UnsupportedFileError saying what it is otherwise."""
    head = _head(path)
    if not head:
        raise _empty(path)
    kind = sniff(head)
    if kind is None:
        what = describe(head, path)
        named = f" although its name ends in {path.suffix}" if path.suffix else ""
        raise UnsupportedFileError(
            f"the file's content is {what}{named}, not a {ACCEPTED} scan: save or scan the "
            f"pages as {ACCEPTED} and upload that file", subject=path.name)
    return kind


def _empty(path: Path) -> CorruptFileError:
    return CorruptFileError(
        "the file is empty (0 bytes): the scan or the upload did not complete; upload it again",
        subject=path.name)


# Opening --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _too_many_pixels(name: str, number: int, width: int, height: int,
                     max_pixels: int) -> FileTooLargeError:
    return FileTooLargeError(
        f"page {number} is an image of {width} x {height} pixels "
        f"({width * height / 1e6:.0f} million), more than the {max_pixels / 1e6:.0f} million a "
        "page may have: scan at 300 dpi or less and upload again", subject=name)


def _pdf_tail_ok(path: Path, size: int) -> bool:
    """A whole PDF ends with %%EOF within its last 1 KiB (trailing blanks aside)."""
    with path.open("rb") as f:
        f.seek(max(0, size - 4096))
        tail = f.read().rstrip(b"\x00\r\n\t \x1a")
    return b"%%EOF" in tail[-1024:]


def _check_pdf(path: Path, size: int, max_pages: int, max_pixels: int) -> int:
    with pdf.open_pdf(path) as doc:
        count = doc.page_count
        if count == 0:
            raise CorruptFileError("the PDF has no pages: export or scan it again",
                                   subject=path.name)
        if count > max_pages:
            raise _too_many_pages(path.name, count, max_pages)
        active = doc.active_content()
        if active:
            raise ActiveContentError(
                f"the PDF carries {' and '.join(active)}; a scanned or printed dossier needs "
                "none: print it to PDF again (or scan the paper) and upload that file",
                subject=path.name)
        if not _pdf_tail_ok(path, size):
            raise CorruptFileError(
                "the PDF is cut off (it does not end with the %%EOF marker): the upload or "
                "export did not complete; upload the whole file again", subject=path.name)
        for number in range(1, count + 1):
            for image in doc.page_info(number).images:
                if image.pixels > max_pixels:
                    raise _too_many_pixels(path.name, number, image.px_width, image.px_height,
                                           max_pixels)
    return count


def _too_many_pages(name: str, count: int, max_pages: int) -> FileTooLargeError:
    return FileTooLargeError(
        f"the file has {count} pages, more than the {max_pages} one file may have: split it "
        "into several files and upload each", subject=name)


@contextmanager
def _open_image(path: Path, kind: DocumentKind, max_pixels: int) -> Iterator[Image.Image]:
    """PIL's image, with its bomb check translated and our own pixel limit applied instead."""
    try:
        with warnings.catch_warnings():
            # Our max_pixels is the limit; PIL's own warning below its hard stop is noise.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(path)
    except Image.DecompressionBombError as exc:
        raise FileTooLargeError(
            f"the {kind.value.upper()} image is too large to open safely ({exc}): scan at 300 "
            "dpi or less and upload again", subject=path.name) from exc
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(
            f"the {kind.value.upper()} image cannot be read ({exc}): the file is damaged; scan "
            "or save it again and upload the new file", subject=path.name) from exc
    try:
        yield image
    finally:
        image.close()


def _frames(image: Image.Image, kind: DocumentKind) -> int:
    # Only TIFF holds pages; a JPEG's extra frames (MPO previews) and APNG frames are not pages.
    return int(getattr(image, "n_frames", 1)) if kind is DocumentKind.TIFF else 1


def _load_frame(image: Image.Image, path: Path, kind: DocumentKind, number: int,
                max_pixels: int) -> None:
    """Decode page ``number`` of an open image, or say why it cannot be."""
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            warnings.simplefilter("always", UserWarning)
            if number > 1:
                image.seek(number - 1)
            width, height = image.size
            if width * height > max_pixels:
                raise _too_many_pixels(path.name, number, width, height, max_pixels)
            image.load()
        # PIL reports a page whose tables or data lie past the end of the file as a warning
        # and hands back a blank page: that page is damaged, not blank.
        truncated = [w for w in caught if any(
            word in str(w.message).lower() for word in ("truncated", "unable to read", "eof"))]
        if truncated:
            raise CorruptFileError(
                f"page {number} of the {kind.value.upper()} image is cut off or damaged "
                f"({truncated[0].message}); scan or save it again and upload the new file",
                subject=path.name)
    except Image.DecompressionBombError as exc:
        raise FileTooLargeError(f"page {number} is too large to decode safely ({exc}): scan "
                                "at 300 dpi or less", subject=path.name) from exc
    except _DECODE_ERRORS as exc:
        raise CorruptFileError(
            f"page {number} of the {kind.value.upper()} image cannot be decoded ({exc}): the "
            "file is damaged or cut off; scan or save it again and upload the new file",
            subject=path.name) from exc


def _check_image(path: Path, kind: DocumentKind, max_pages: int, max_pixels: int) -> int:
    with _open_image(path, kind, max_pixels) as image:
        try:
            count = _frames(image, kind)
        except _DECODE_ERRORS as exc:
            raise CorruptFileError(
                f"the TIFF's page list is damaged ({exc}): scan or save it again",
                subject=path.name) from exc
        if count > max_pages:
            raise _too_many_pages(path.name, count, max_pages)
        # Decode every page now, one at a time, so a damaged page fails the upload, not a
        # review half done.
        for number in range(1, count + 1):
            _load_frame(image, path, kind, number, max_pixels)
    return count


def open_document(path: Path, *, max_bytes: int, max_pages: int, max_pixels: int) -> Document:
    """Identify and validate one uploaded file; its pages are not rendered.

    Raises UnsupportedFileError, CorruptFileError, EncryptedFileError or FileTooLargeError
    with a message that names the file, says what is wrong and what to do.
    """
    try:
        size = path.stat().st_size
        is_file = path.is_file()
    except OSError as exc:
        raise InputError(f"the file cannot be read ({exc.strerror}): check its path",
                         subject=path.name) from exc
    if not is_file:
        raise InputError("this is not a file (a folder or a device?): name the scanned file",
                         subject=path.name)
    if size == 0:
        raise _empty(path)
    if size > max_bytes:
        raise FileTooLargeError(
            f"the file is {size / 2**20:.1f} MB, more than the {max_bytes / 2**20:.0f} MB a "
            "file may be: split it into several files, or scan at 300 dpi or less in gray or "
            "black and white", subject=path.name)
    kind = detect_kind(path)
    if kind is DocumentKind.PDF:
        count = _check_pdf(path, size, max_pages, max_pixels)
    else:
        count = _check_image(path, kind, max_pages, max_pixels)
    return Document(name=path.name, sha256=_sha256(path), size=size, kind=kind,
                    page_count=count)


# Rendering ------------------------------------------------------------------------------------


def render_page(path: Path, kind: DocumentKind, number: int, *, dpi: int | None = None,
                max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, int]:
    """Page ``number`` (1-based) as a BGR uint8 image, and the dpi it is at.

    PDF: at ``dpi``; with None, at the scan's own resolution when the page is one scanned
    image (clamped to 150..400), else 200. The dpi is lowered if the page would exceed
    ``max_pixels``. Image files: the file's own pixels, EXIF orientation applied; the dpi
    is the file's own when it is plausible for a sheet of paper, else estimated for A4, else
    200 (``dpi`` is ignored).
    """
    if kind is DocumentKind.PDF:
        return _render_pdf(path, number, dpi, max_pixels)
    return _render_image(path, kind, number, max_pixels)


def _render_pdf(path: Path, number: int, dpi: int | None,
                max_pixels: int) -> tuple[np.ndarray, int]:
    with pdf.open_pdf(path) as doc:
        info = doc.page_info(number)
        width, height = info.width, info.height
        for image in info.images:
            if image.pixels > max_pixels:
                raise _too_many_pixels(path.name, number, image.px_width, image.px_height,
                                       max_pixels)
        if dpi is None:
            native = info.scan_dpi()
            lo, hi = SCAN_DPI_RANGE
            dpi = min(hi, max(lo, round(native))) if native else DEFAULT_DPI
        area_in = (width / 72) * (height / 72)
        if area_in * dpi * dpi > max_pixels:
            dpi = math.floor(math.sqrt(max_pixels / area_in))
            if dpi < MIN_RENDER_DPI:
                raise FileTooLargeError(
                    f"page {number} is {width / 72 * 2.54:.0f} x {height / 72 * 2.54:.0f} cm, "
                    "too large to read: export it at A4 or A3 size", subject=path.name)
        return doc.render(number, dpi), dpi


def _render_image(path: Path, kind: DocumentKind, number: int,
                  max_pixels: int) -> tuple[np.ndarray, int]:
    with _open_image(path, kind, max_pixels) as image:
        count = _frames(image, kind)
        if not 1 <= number <= count:
            raise ValueError(f"{path.name} has {count} pages, asked for page {number}")
        _load_frame(image, path, kind, number, max_pixels)
        dpi = _image_dpi(image)
        try:
            upright = ImageOps.exif_transpose(image)
        except _DECODE_ERRORS:
            upright = image  # unreadable EXIF: keep the pixels as stored
        return to_bgr(upright), dpi


def _image_dpi(image: Image.Image) -> int:
    width, height = image.size
    long_px, short_px = max(width, height), min(width, height)
    found = image.info.get("dpi")
    try:
        stated = float(found[0]) if found else 0.0
    except (TypeError, ValueError, IndexError):
        stated = 0.0
    lo, hi = _PAPER_LONG_IN
    if stated > 0 and lo <= long_px / stated <= hi:
        return round(stated)
    # No resolution, or a placeholder such as a camera's 72: if the picture is A4-shaped,
    # it is most likely an A4 sheet.
    if short_px and abs(long_px / short_px - _A4_LONG_IN / _A4_SHORT_IN) < 0.1:
        estimate = round(long_px / _A4_LONG_IN)
        if _PLAUSIBLE_DPI[0] <= estimate <= _PLAUSIBLE_DPI[1]:
            return estimate
    return DEFAULT_DPI


def _to_8bit(values: np.ndarray) -> np.ndarray:
    """Integer or float samples of any depth to 0..255, by the depth the data actually uses
    (a 12-bit scan in a 16-bit file must not come out black)."""
    if values.dtype.kind == "f":
        top = float(np.nanmax(values)) if values.size else 0.0
        scaled = values * 255.0 if top <= 1.0 else values
        return np.clip(np.nan_to_num(scaled), 0, 255).astype(np.uint8)
    values = np.clip(values.astype(np.int64), 0, None)
    shift = max(0, int(values.max()).bit_length() - 8) if values.size else 0
    return (values >> shift).astype(np.uint8)


def to_bgr(image: Image.Image) -> np.ndarray:
    """Any PIL page image as BGR uint8: gray, bilevel, palette, CMYK, 16-bit and alpha
    (laid on white paper) all converted."""
    mode = image.mode
    if mode in ("I", "F") or mode.startswith("I;16"):
        gray = _to_8bit(np.asarray(image))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    if mode in ("1", "L"):
        gray = np.asarray(image.convert("L"))
        return np.ascontiguousarray(np.repeat(gray[:, :, None], 3, axis=2))
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        mode == "P" and "transparency" in image.info)
    if has_alpha:
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(paper, rgba).convert("RGB")
    else:
        rgb = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(rgb)[:, :, ::-1])
