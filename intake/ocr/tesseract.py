"""The one wrapper around tesseract: page lines, one cell's text, orientation, and a probe.

Pages and cells are read in this process through tesseract's C library (``libtesseract``,
the one the ``tesseract`` program runs on), its model loaded once per process and language:
a child process per read paid its start and the model's load again (about 0.2 CPU s of a
0.8 s page). Where the library cannot be loaded, the ``tesseract`` program is run instead, with
the image on stdin (uncompressed PNM, nothing written to disk) and a hard timeout; the probe
and orientation detection always run the program. Both ways read the same TSV from the same
pixels with the same options, so they give the same words.

Tesseract's OpenMP threads are held to one (``OMP_THREAD_LIMIT=1``): pages are read in
parallel processes, and more threads only make that slower. The variable is set for the child
process, and around the library's load (OpenMP reads it once, then) without changing the
caller's environment; pytesseract would do neither.
"""

from __future__ import annotations

import atexit
import ctypes
import math
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import cv2
import numpy as np

from intake.errors import ToolError, ToolMissingError, ToolTimeoutError
from intake.model import Box, Line, Word
from intake.normalize import join_words

TESSERACT = "tesseract"
LIBRARY = "libtesseract.so.5"  # Debian's tesseract-ocr package; its C API (capi.h)
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


def _checked(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or 0 in image.shape[:2]:
        raise ValueError(f"expected a non-empty uint8 gray or BGR image, got {image.dtype} "
                         f"{image.shape}")
    if image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"expected 3 channels (BGR), got {image.shape[2]}")
    return image


def _pnm(image: np.ndarray) -> bytes:
    image = _checked(image)
    ok, buf = cv2.imencode(".pgm" if image.ndim == 2 else ".ppm", image)
    if not ok:
        raise ValueError(f"cannot encode an image of shape {image.shape}")
    return buf.tobytes()


@contextmanager
def _one_openmp_thread() -> Iterator[None]:
    """OMP_THREAD_LIMIT=1 while the library (and OpenMP with it) loads, then as it was."""
    before = os.environ.get("OMP_THREAD_LIMIT")
    os.environ["OMP_THREAD_LIMIT"] = "1"
    try:
        yield
    finally:
        if before is None:
            del os.environ["OMP_THREAD_LIMIT"]
        else:
            os.environ["OMP_THREAD_LIMIT"] = before


def _load_library(name: str) -> ctypes.CDLL | None:
    """tesseract's C library with the argument types of the calls used, or None when it is
    not installed or lacks one of them (then the program is run)."""
    try:
        with _one_openmp_thread():
            lib = ctypes.CDLL(name)
        handle, number, string = ctypes.c_void_p, ctypes.c_int, ctypes.c_char_p
        signatures: dict[str, tuple[list[type], type | None]] = {
            "TessBaseAPICreate": ([], handle),
            "TessBaseAPISetVariable": ([handle, string, string], number),
            "TessBaseAPIInit3": ([handle, string, string], number),
            "TessBaseAPISetPageSegMode": ([handle, number], None),
            "TessBaseAPISetImage": ([handle, handle, number, number, number, number], None),
            "TessBaseAPIRecognize": ([handle, handle], number),
            "TessBaseAPIGetTsvText": ([handle, number], handle),
            "TessDeleteText": ([handle], None),
            "TessBaseAPIClear": ([handle], None),
            "TessBaseAPIEnd": ([handle], None),
            "TessBaseAPIDelete": ([handle], None),
            "TessMonitorCreate": ([], handle),
            "TessMonitorSetDeadlineMSecs": ([handle, number], None),
            "TessMonitorDelete": ([handle], None),
        }
        for fn, (args, result) in signatures.items():
            call = getattr(lib, fn)
            call.argtypes, call.restype = args, result
    except (OSError, AttributeError):
        return None
    return lib


class _Engine:
    """One language's model loaded in this process; reads one image at a time."""

    def __init__(self, lib: ctypes.CDLL, lang: str) -> None:
        self._lib = lib
        self._lock = threading.Lock()  # the API is not safe to share between threads
        self._api = lib.TessBaseAPICreate()
        # Its warnings ("Estimating resolution as ...") are no failure; the program's went
        # to a pipe nobody read unless it failed.
        lib.TessBaseAPISetVariable(self._api, b"debug_file", os.devnull.encode())
        if lib.TessBaseAPIInit3(self._api, None, lang.encode()) != 0:
            self.close()
            raise ToolError(f"tesseract could not load its {lang} model; is the language "
                            f"installed? {INSTALL_HINT}", subject="tesseract")

    def tsv(self, image: np.ndarray, *, psm: int, dpi: int | None, whitelist: str | None,
            timeout: float, what: str) -> str:
        """Tesseract's TSV for ``image``, as ``tesseract - - --psm .. tsv`` prints it but for
        the header line."""
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)  # the library takes RGB
        pixels = np.ascontiguousarray(image)
        lib, api = self._lib, self._api
        with self._lock:
            # Every option a read sets is set on every read: the engine outlives it.
            lib.TessBaseAPISetPageSegMode(api, psm)
            lib.TessBaseAPISetVariable(api, b"user_defined_dpi", str(dpi or 0).encode())
            lib.TessBaseAPISetVariable(api, b"tessedit_char_whitelist",
                                       (whitelist or "").encode())
            lib.TessBaseAPISetImage(api, pixels.ctypes.data, pixels.shape[1], pixels.shape[0],
                                    1 if pixels.ndim == 2 else 3, pixels.strides[0])
            monitor = lib.TessMonitorCreate()
            try:
                # The clock starts before the deadline does, and the deadline is rounded up:
                # a read the deadline stopped has always taken ``timeout`` by this clock.
                started = time.monotonic()
                lib.TessMonitorSetDeadlineMSecs(monitor, max(1, math.ceil(timeout * 1000)))
                # The deadline is checked between words: layout analysis runs to its end.
                if lib.TessBaseAPIRecognize(api, monitor) != 0:
                    if time.monotonic() - started >= timeout:
                        raise ToolTimeoutError(
                            f"{what} took longer than {timeout:g} s and was stopped; retry "
                            "with a longer timeout or a smaller image", subject="tesseract")
                    raise ToolError(f"{what} failed in the tesseract library",
                                    subject="tesseract")
                text = lib.TessBaseAPIGetTsvText(api, 0)
                if not text:
                    raise ToolError(f"{what} gave no result", subject="tesseract")
                try:
                    return ctypes.string_at(text).decode("utf-8", "replace")
                finally:
                    lib.TessDeleteText(text)
            finally:
                lib.TessMonitorDelete(monitor)
                lib.TessBaseAPIClear(api)

    def close(self) -> None:
        if self._api:
            self._lib.TessBaseAPIEnd(self._api)
            self._lib.TessBaseAPIDelete(self._api)
            self._api = None


class _Engines:
    """The engines of this process, by language, loaded at their first read. A process
    forked from one holding engines loads its own (the copies' threads and locks are not
    its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid = -1
        self._lib: ctypes.CDLL | None = None
        self._by_lang: dict[str, _Engine] = {}

    def get(self, lang: str) -> _Engine | None:
        """The engine for ``lang``; None when the library cannot be loaded."""
        with self._lock:
            if self._pid != os.getpid():
                self._pid, self._by_lang = os.getpid(), {}
                self._lib = _load_library(LIBRARY)
            if self._lib is None:
                return None
            if lang not in self._by_lang:
                self._by_lang[lang] = _Engine(self._lib, lang)
            return self._by_lang[lang]

    def close(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                for engine in self._by_lang.values():
                    engine.close()
            self._pid, self._lib, self._by_lang = -1, None, {}


_engines = _Engines()
# At exit rather than in the library's own destructors, which complain of the model's parts
# still in use.
atexit.register(_engines.close)


@dataclass(frozen=True)
class _TsvWord:
    key: tuple[int, int, int]  # block, paragraph, line
    text: str
    box: Box
    conf: float


def _tsv_words(tsv: str) -> list[_TsvWord]:
    words = []
    for row in tsv.splitlines():  # the header line, when there is one, is no word's
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
         whitelist: str | None, what: str) -> list[_TsvWord]:
    image = _checked(image)
    engine = _engines.get(lang)
    if engine is not None:
        return _tsv_words(engine.tsv(image, psm=psm, dpi=dpi, whitelist=whitelist,
                                     timeout=timeout, what=what))
    args = ["stdin", "stdout", "-l", lang, "--psm", str(psm)]
    if dpi:
        args += ["--dpi", str(dpi)]
    if whitelist:
        args += ["-c", f"tessedit_char_whitelist={whitelist}"]
    tsv = _run([*args, "tsv"], stdin=_pnm(image), timeout=timeout, what=what)
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
            dpi=round(dpi * scale) if dpi else None, whitelist=None, what=what)]
    else:
        found = _tsv(image, lang=lang, psm=psm, timeout=timeout, dpi=dpi, whitelist=None,
                     what=what)
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
    words = _tsv(padded, lang=lang, psm=psm, timeout=timeout, dpi=None, whitelist=whitelist,
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
