"""The one wrapper around tesseract: page lines, one cell's text, orientation, and a probe.

Tesseract runs as a child process with the image on stdin (uncompressed PNM, so nothing is
written to disk), a hard timeout and ``OMP_THREAD_LIMIT=1``: pages are read in parallel
processes, and tesseract's own OpenMP threads only make that slower. The ``tesseract`` binary is
called directly rather than through pytesseract, which runs it with the parent's environment
and cannot set that variable without changing ``os.environ`` for the whole process.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

import cv2
import numpy as np

from intake.errors import ToolError, ToolMissingError, ToolTimeoutError
from intake.model import Box, Line, Word
from intake.normalize import join_words

TESSERACT = "tesseract"
INSTALL_HINT = "install it with: apt-get install tesseract-ocr tesseract-ocr-chi-sim"
MIN_VERSION = (4, 1)  # LSTM engine and character whitelists for it
# Page segmentation mode for whole pages: 11, "sparse text", reads every chunk of text on
# its own. Measured on prepared pages (rules erased, paper evened out) of generated dossiers
# at 200 dpi (bench/prepare_bench.py): fields found 98-99 % with psm 11, 96-99 % with psm 4
# and 6, 88-94 % with psm 3; all four take the same time (about 0.8 s an A4 page on an idle
# core). psm 4 and 6 join a table row into one line and garble multi-line cells (the
# association letter's lab names); psm 11 keeps a label and its value apart.
DEFAULT_PAGE_PSM = 11
_CELL_PAD = 8  # white border around a cell crop: tesseract misreads glyphs touching the edge


@dataclass(frozen=True)
class TesseractInfo:
    version: str
    languages: tuple[str, ...]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_THREAD_LIMIT": "1"}


def _run(args: list[str], *, stdin: bytes | None, timeout: float, what: str) -> str:
    """Run tesseract with ``args``; its stdout as text, or our error saying what failed."""
    try:
        proc = subprocess.run(
            [TESSERACT, *args], input=stdin, capture_output=True, timeout=timeout, env=_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolMissingError(f"the tesseract program is not installed; {INSTALL_HINT}",
                               subject="tesseract") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolTimeoutError(
            f"{what} took longer than {timeout:g} s and was stopped; retry with a longer timeout "
            "or a smaller image", subject="tesseract") from exc
    except OSError as exc:
        raise ToolError(f"could not start tesseract for {what}: {exc}", subject="tesseract") from exc
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise ToolError(
            f"{what} failed with exit code {proc.returncode}: {' / '.join(detail) or 'no message'}",
            subject="tesseract")
    return proc.stdout.decode("utf-8", "replace")


def probe(timeout: float = 10) -> TesseractInfo:
    """Tesseract's version and languages; ToolMissingError if it or chi_sim is not there."""
    out = _run(["--version"], stdin=None, timeout=timeout, what="tesseract --version")
    m = re.search(r"tesseract\s+v?(\d+)\.(\d+)(\S*)", out)
    if not m:
        raise ToolError(f"cannot read the version in {out[:80]!r}", subject="tesseract")
    version = f"{m[1]}.{m[2]}{m[3]}"
    if (int(m[1]), int(m[2])) < MIN_VERSION:
        raise ToolMissingError(
            f"tesseract {version} is too old, {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer is "
            f"needed; {INSTALL_HINT}", subject="tesseract")
    listing = _run(["--list-langs"], stdin=None, timeout=timeout, what="tesseract --list-langs")
    languages = tuple(sorted(
        line.strip() for line in listing.splitlines()[1:] if line.strip() and " " not in line))
    if "chi_sim" not in languages:
        raise ToolMissingError(
            f"tesseract has no Simplified Chinese model (chi_sim) among {', '.join(languages)}; "
            f"{INSTALL_HINT}", subject="tesseract")
    return TesseractInfo(version=version, languages=languages)


def _pnm(image: np.ndarray) -> bytes:
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"expected a non-empty uint8 gray or BGR image, got {image.dtype} "
                         f"{image.shape}")
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"expected 3 channels (BGR), got {image.shape[2]}")
    ok, buf = cv2.imencode(".pgm" if image.ndim == 2 else ".ppm", image)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape}")
    return buf.tobytes()


@dataclass(frozen=True)
class _TsvWord:
    key: tuple[int, int, int]  # block, paragraph, line
    text: str
    box: Box
    conf: float


def _tsv_words(tsv: str) -> list[_TsvWord]:
    words = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t", 11)
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        conf = float(cols[10])
        if not text or conf < 0:
            continue
        left, top, width, height = (int(c) for c in cols[6:10])
        words.append(_TsvWord((int(cols[2]), int(cols[3]), int(cols[4])), text,
                              Box(left, top, width, height), min(100.0, conf)))
    return words


def _tsv(image: np.ndarray, *, lang: str, psm: int, timeout: float, dpi: int | None,
         extra: list[str], what: str) -> list[_TsvWord]:
    args = ["stdin", "stdout", "-l", lang, "--psm", str(psm)]
    if dpi:
        args += ["--dpi", str(dpi)]
    tsv = _run([*args, *extra, "tsv"], stdin=_pnm(image), timeout=timeout, what=what)
    return _tsv_words(tsv)


def _scaled(word: _TsvWord, f: float) -> _TsvWord:
    b = word.box
    x, y = round(b.x * f), round(b.y * f)
    return _TsvWord(word.key, word.text,
                    Box(x, y, max(1, round(b.x2 * f) - x), max(1, round(b.y2 * f) - y)), word.conf)


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF
            or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF)


def _segments(text: str) -> list[str]:
    """A word cut where tesseract glued characters: each Chinese character alone, Latin and
    digit runs whole ("2025年" -> "2025", "年")."""
    parts: list[str] = []
    for ch in text:
        if _is_cjk(ch) or not parts or _is_cjk(parts[-1][-1]):
            parts.append(ch)
        else:
            parts[-1] += ch
    return parts


def _split(word: _TsvWord, right: int | None) -> list[Word]:
    """Character-level Words from one tesseract word, its box shared out by width.

    Tesseract's box for a glued word sometimes reaches over the words after it; it is cut
    back to where the next word starts.
    """
    box = word.box
    if right is not None and box.x < right < box.x2:
        box = Box(box.x, box.y, right - box.x, box.h)
    parts = _segments(word.text)
    if len(parts) == 1:
        return [Word(word.text, box, word.conf)]
    weights = [1.0 if _is_cjk(p[0]) else 0.55 * len(p) for p in parts]
    total = sum(weights)
    words, x = [], float(box.x)
    for part, weight in zip(parts, weights, strict=True):
        w = box.w * weight / total
        words.append(Word(part, Box(round(x), box.y, max(1, round(x + w) - round(x)), box.h),
                          word.conf))
        x += w
    return words


def ocr_lines(image: np.ndarray, *, lang: str = "chi_sim", psm: int = DEFAULT_PAGE_PSM,
              timeout: float = 60, dpi: int | None = None, scale: float = 1.0) -> list[Line]:
    """The text lines tesseract reads on a page image, top to bottom.

    Each line keeps its words as Words the way the text layer gives them: each Chinese
    character alone (tesseract now and then glues two; they are cut apart), Latin and digit
    runs whole. Boxes are in ``image``'s pixels, confidences 0..100, text cleaned of the
    spaces OCR puts between Chinese characters. ``scale`` < 1: a copy that much smaller is
    read (tesseract's time grows with the pixels), its boxes scaled back to ``image``'s.
    """
    what = f"reading a {image.shape[1]}x{image.shape[0]} page ({lang}, psm {psm})"
    if scale < 1.0:
        small = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        found = [_scaled(w, 1.0 / scale) for w in _tsv(
            np.asarray(small, dtype=np.uint8), lang=lang, psm=psm, timeout=timeout,
            dpi=round(dpi * scale) if dpi else None, extra=[], what=what)]
    else:
        found = _tsv(image, lang=lang, psm=psm, timeout=timeout, dpi=dpi, extra=[], what=what)
    grouped: dict[tuple[int, int, int], list[_TsvWord]] = {}
    for w in found:
        grouped.setdefault(w.key, []).append(w)
    lines = []
    for members in grouped.values():
        text = join_words([w.text for w in members])
        if not text:
            continue
        words: list[Word] = []
        for i, w in enumerate(members):
            right = members[i + 1].box.x if i + 1 < len(members) else None
            words.extend(_split(w, right))
        lines.append(Line(
            text=text,
            box=Box.union_of([w.box for w in members]),
            conf=sum(w.conf for w in members) / len(members),
            words=tuple(words),
        ))
    lines.sort(key=lambda ln: (ln.box.y, ln.box.x))
    return lines


def ocr_text(image: np.ndarray, *, lang: str = "chi_sim", psm: int = 7, timeout: float = 30,
             whitelist: str | None = None) -> tuple[str, float]:
    """The text in one cell crop and its mean word confidence; ("", 0.0) when nothing is read."""
    padded = cv2.copyMakeBorder(image, _CELL_PAD, _CELL_PAD, _CELL_PAD, _CELL_PAD,
                                cv2.BORDER_CONSTANT, value=(255, 255, 255))
    extra = ["-c", f"tessedit_char_whitelist={whitelist}"] if whitelist else []
    words = _tsv(padded, lang=lang, psm=psm, timeout=timeout, dpi=None, extra=extra,
                 what=f"reading a {image.shape[1]}x{image.shape[0]} cell ({lang}, psm {psm})")
    if not words:
        return "", 0.0
    return join_words([w.text for w in words]), sum(w.conf for w in words) / len(words)


_OSD_ROTATE = re.compile(r"Rotate:\s*(\d+)")
_OSD_CONF = re.compile(r"Orientation confidence:\s*([\d.]+)")


def osd(image: np.ndarray, timeout: float = 20, *, min_conf: float = 1.0) -> int | None:
    """Degrees to turn the page clockwise to make it upright (0/90/180/270), or None if unsure.

    None when tesseract finds too little text or its orientation confidence is below
    ``min_conf``.
    """
    try:
        out = _run(["stdin", "stdout", "--psm", "0", "-l", "osd"], stdin=_pnm(image),
                   timeout=timeout, what="orientation detection (osd)")
    except ToolError as exc:
        # A page with little text is no failure: there is just nothing to tell from.
        if type(exc) is ToolError and "Too few characters" in exc.message:
            return None
        raise
    rotate, conf = _OSD_ROTATE.search(out), _OSD_CONF.search(out)
    if not rotate or not conf or float(conf[1]) < min_conf:
        return None
    return int(rotate[1]) % 360
