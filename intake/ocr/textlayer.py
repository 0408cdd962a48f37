"""The one wrapper around pdfplumber: a PDF page's own text layer, when it can be trusted.

A page's layer is used instead of OCR only when it reads as real text, decided page by page
(as OCRmyPDF decides whether to skip or redo a page): no text, unmapped glyphs ("(cid:12)"),
mojibake, characters that do not run left to right, or an invisible OCR layer that is garbage
all mean "no usable layer" and the page is read by OCR instead.
"""

from __future__ import annotations

import logging
import re
import statistics
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfparser import PDFSyntaxError
from pdfminer.psparser import PSException

from intake import pdf
from intake.errors import EncryptedFileError, ToolMissingError
from intake.model import Box, Line, Word
from intake.normalize import join_words

log = logging.getLogger(__name__)

MIN_CHARS = 4  # fewer visible characters than this is a blank page, not a layer
MAX_UNMAPPED = 0.1  # share of characters without a Unicode meaning
MIN_UPRIGHT = 0.8  # share of characters running left to right, upright
MIN_CJK_COMMON = 0.6  # share of Chinese characters among the 3755 most common (GB2312 level 1)
MIN_CJK_OCR = 0.3  # share of Chinese an invisible OCR layer over these Chinese forms must have

_CID = re.compile(r"^\(cid:\d+\)$")


MIN_VERSION = (0, 11)


def probe() -> str:
    """pdfplumber's version; ToolMissingError if it is too old for this module."""
    version = str(pdfplumber.__version__)
    parts = tuple(int(p) if p.isdigit() else 0 for p in version.split(".")[:2])
    if parts < MIN_VERSION:
        raise ToolMissingError(
            f"pdfplumber {version} is too old, {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer is "
            "needed: pip install -U 'pdfplumber>=0.11,<0.12'", subject="pdfplumber")
    return version


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF


def _is_common_hanzi(ch: str) -> bool:
    """One of the 3755 level-1 characters of GB 2312, which make up almost all of any text."""
    try:
        code = ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return len(code) == 2 and 0xB0 <= code[0] <= 0xD7


def _is_unmapped(text: str) -> bool:
    """A glyph the PDF gives no usable Unicode for, or one it maps to mojibake."""
    if _CID.match(text):
        return True
    for ch in text:
        cat = unicodedata.category(ch)
        if ch == "\ufffd" or cat in ("Co", "Cs", "Cn") or (cat == "Cc" and ch not in "\t\n\r"):
            return True
        # Accented Latin letters are what a Chinese font without a usable ToUnicode map turns
        # into (GBK bytes read as Latin-1); these forms never print them.
        if 0xC0 <= ord(ch) <= 0x24F and ch not in "×÷":
            return True
    return False


def _runs_left_to_right(char: dict[str, Any]) -> bool:
    matrix = char.get("matrix")
    if not matrix:
        return bool(char.get("upright", True))
    a, b = float(matrix[0]), float(matrix[1])
    return a > 0 and abs(b) <= 0.2 * a


@dataclass(frozen=True)
class LayerQuality:
    """Whether a page's text layer is usable, and why; for logs and tests."""

    chars: int
    unmapped: float  # share of glyphs without a usable Unicode meaning
    upright: float  # share of glyphs running left to right
    cjk: float  # share of Chinese among letters and digits
    cjk_common: float  # share of common characters among the Chinese ones
    invisible: bool  # the layer is drawn invisibly over a scan: someone's OCR
    usable: bool
    reason: str


def assess(chars: list[dict[str, Any]], *, invisible: bool) -> LayerQuality:
    """Judge a page's characters (pdfplumber's dicts): is this real, readable text?"""
    texts = [str(c.get("text", "")) for c in chars if not str(c.get("text", "")).isspace()]
    n = len(texts)
    unmapped = sum(_is_unmapped(t) for t in texts) / n if n else 0.0
    upright = (sum(_runs_left_to_right(c) for c in chars if not str(c.get("text", "")).isspace())
               / n if n else 0.0)
    letters = [ch for t in texts if not _CID.match(t) for ch in t if ch.isalnum()]
    cjk_chars = [ch for ch in letters if _is_cjk(ch)]
    cjk = len(cjk_chars) / len(letters) if letters else 0.0
    common = (sum(_is_common_hanzi(ch) for ch in cjk_chars) / len(cjk_chars)
              if cjk_chars else 0.0)

    def verdict(usable: bool, reason: str) -> LayerQuality:
        return LayerQuality(n, unmapped, upright, cjk, common, invisible, usable, reason)

    if n < MIN_CHARS:
        return verdict(False, "no text")
    if unmapped > MAX_UNMAPPED:
        return verdict(False, f"{unmapped:.0%} of the characters have no Unicode meaning")
    if upright < MIN_UPRIGHT:
        return verdict(False, f"only {upright:.0%} of the characters run left to right")
    if cjk_chars and common < MIN_CJK_COMMON:
        return verdict(False, f"only {common:.0%} of the Chinese characters are common ones")
    if invisible and cjk < MIN_CJK_OCR:
        # An English-only OCR of a Chinese scan reads as Latin noise ("TMF ert HERES"); an
        # English page read again by our own OCR loses nothing but a second.
        return verdict(False, f"an invisible OCR layer with {cjk:.0%} Chinese")
    return verdict(True, "ok")


# Lines ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Glyph:
    text: str
    box: Box
    space: bool


def _glyphs(chars: list[dict[str, Any]], origin: tuple[float, float], scale: float,
            ) -> list[_Glyph]:
    ox, oy = origin
    out = []
    for c in chars:
        x0 = round((float(c["x0"]) - ox) * scale)
        x1 = round((float(c["x1"]) - ox) * scale)
        y0 = round((float(c["top"]) - oy) * scale)
        y1 = round((float(c["bottom"]) - oy) * scale)
        text = str(c["text"])
        out.append(_Glyph(text, Box(x0, y0, max(1, x1 - x0), max(1, y1 - y0)), text.isspace()))
    return out


def _rows(glyphs: list[_Glyph]) -> list[list[_Glyph]]:
    """Group glyphs into text lines: glyphs whose vertical centres lie within half a
    character height of the line's."""
    if not glyphs:
        return []
    height = statistics.median(g.box.h for g in glyphs)
    rows: list[list[_Glyph]] = []
    centres: list[float] = []
    for g in sorted(glyphs, key=lambda g: g.box.center[1]):
        cy = g.box.center[1]
        if rows and abs(cy - centres[-1]) <= 0.5 * height:
            rows[-1].append(g)
            centres[-1] = statistics.fmean(x.box.center[1] for x in rows[-1])
        else:
            rows.append([g])
            centres.append(cy)
    return [sorted(r, key=lambda g: g.box.x) for r in rows]


def _words(row: list[_Glyph]) -> list[Word]:
    """Words as tesseract gives them: each Chinese character (and full-width sign) alone,
    runs of Latin letters, digits and ASCII signs whole ("021-65493333"), split where the
    PDF has a space or leaves a gap as wide as one."""
    words: list[Word] = []
    run: list[_Glyph] = []

    def flush() -> None:
        if run:
            text = "".join(g.text for g in run)
            words.append(Word(text, Box.union_of([g.box for g in run]), 100.0))
            run.clear()

    for g in row:
        if g.space:
            flush()
            continue
        single = not g.text.isascii() or _CID.match(g.text) is not None
        if run and (single or g.box.x - run[-1].box.x2 > 0.15 * g.box.h):
            flush()
        if single:
            run.append(g)
            flush()
        else:
            run.append(g)
    flush()
    return words


def _line(words: list[Word]) -> Line | None:
    text = join_words([w.text for w in words])
    if not text:
        return None
    return Line(text=text, box=Box.union_of([w.box for w in words]), conf=100.0,
                words=tuple(words))


def page_words(path: Path, number: int, dpi: int) -> list[Line] | None:
    """The page's text layer as Lines in pixels of the page rendered at ``dpi``, top to
    bottom; None when the page has no usable layer and must be read by OCR."""
    with pdf.open_pdf(path) as doc:
        modes = doc.text_modes(number)
    if not modes.visible and not modes.invisible:
        # A scan: no text to judge. pdfplumber would parse the whole file to find that out.
        log.info("%s page %d: text layer not used: no text", path.name, number)
        return None
    try:
        with pdfplumber.open(path, pages=[number]) as doc:
            page = doc.pages[0]
            chars = list(page.chars)
            origin = (float(page.cropbox[0]), float(page.cropbox[1]))
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise EncryptedFileError(
            "the PDF is protected by a password: save or print it again without a password "
            "and upload that file", subject=path.name) from exc
    except (PDFSyntaxError, PSException, ValueError, KeyError, TypeError, IndexError) as exc:
        # pdfium opened and rendered this page; OCR can still read it.
        log.warning("%s page %d: text layer unreadable (%s); the page will be OCR'd",
                    path.name, number, exc)
        return None
    quality = assess(chars, invisible=modes.invisible > modes.visible)
    if not quality.usable:
        log.info("%s page %d: text layer not used: %s", path.name, number, quality.reason)
        return None
    glyphs = _glyphs([c for c in chars if _runs_left_to_right(c) or str(c["text"]).isspace()],
                     origin, dpi / 72)
    lines = [line for row in _rows(glyphs) if (line := _line(_words(row)))]
    return lines or None
