"""The one wrapper around RapidOCR (PP-OCR models on ONNX Runtime): probe, load once, read.

Nothing else imports ``rapidocr``. The models are the ones shipped inside the wheel; the engine is
pointed at those files explicitly, so rapidocr never reaches for the network.

Threads: one ONNX Runtime intra-op thread by default, because pages run in parallel processes.
Timeouts: inference runs in-process and ONNX Runtime offers no way to interrupt a session run from
rapidocr's API, so the per-page time limit is enforced by the worker pool that owns the process;
this wrapper bounds the work instead (detection runs on an image whose long side is at most
``det_side`` pixels).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from intake.errors import ToolError, ToolMissingError
from intake.model import Box, Line, Word
from intake.normalize import clean_ocr_text

TOOL = "rapidocr"
MIN_VERSION = (3, 4)
_LOGGER_NAME = "RapidOCR"  # rapidocr's own logger; it logs every call at INFO by default


@dataclass(frozen=True)
class RapidInfo:
    """What is installed: versions and the model files the engine will load."""

    version: str
    onnxruntime: str
    det_model: Path
    rec_model: Path
    cls_model: Path | None


@dataclass(frozen=True)
class LoadStats:
    """What loading the engine cost in this process."""

    seconds: float
    rss_mb: float | None  # resident set size after loading; None where it cannot be read


def _version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in version.split(".")[:2]:
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def _pick(models: Path, pattern: str) -> Path | None:
    found = sorted(models.glob(pattern))
    return found[-1] if found else None


def probe(model_dir: Path | None = None) -> RapidInfo:
    """Say whether RapidOCR, ONNX Runtime and the bundled models are usable, without loading them.

    Raises ToolMissingError with what to install when anything is missing or too old.
    """
    try:
        version = metadata.version("rapidocr")
        ort_version = metadata.version("onnxruntime")
    except metadata.PackageNotFoundError as exc:
        raise ToolMissingError(
            f"{exc.name} is not installed: pip install 'rapidocr>=3.4,<4' onnxruntime",
            subject=TOOL,
        ) from exc
    if _version_tuple(version) < MIN_VERSION:
        raise ToolMissingError(
            f"rapidocr {version} is too old; version 3.4 or newer is required", subject=TOOL
        )
    if model_dir is None:
        try:
            import rapidocr
        except ImportError as exc:
            raise ToolMissingError(f"rapidocr cannot be imported: {exc}", subject=TOOL) from exc
        model_dir = Path(rapidocr.__file__).resolve().parent / "models"
    det = _pick(model_dir, "*det*.onnx")
    rec = _pick(model_dir, "*rec*.onnx")
    if det is None or rec is None:
        raise ToolMissingError(
            f"no detection and recognition models (*.onnx) in {model_dir}; reinstall the "
            "rapidocr wheel, which ships them (this product never downloads models)",
            subject=TOOL,
        )
    return RapidInfo(version, ort_version, det, rec, _pick(model_dir, "*cls*.onnx"))


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * 4096 / 2**20


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.dtype != np.uint8:
        raise ValueError(f"expected a uint8 image, got {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 3:
        return image
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    raise ValueError(f"expected a gray, BGR or BGRA image, got shape {image.shape}")


def _quad_box(quad: Any, width: int, height: int) -> Box:
    pts = np.asarray(quad, dtype=np.float64).reshape(-1, 2)
    x0 = max(0, int(np.floor(pts[:, 0].min())))
    y0 = max(0, int(np.floor(pts[:, 1].min())))
    x1 = min(width, int(np.ceil(pts[:, 0].max())))
    y1 = min(height, int(np.ceil(pts[:, 1].max())))
    return Box(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def _stands_alone(ch: str) -> bool:
    """Chinese characters and full-width punctuation are words of their own."""
    return ("\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"
            or "\u3000" <= ch <= "\u303f" or "\uff00" <= ch <= "\uffef")


def _words(chars: Any, width: int, height: int) -> tuple[Word, ...]:
    """Group rapidocr's per-character boxes: each Chinese character (or full-width mark) is a
    word, runs of Latin letters, digits and ASCII marks are one."""
    words: list[Word] = []
    run: list[tuple[str, float, Box]] = []

    def flush() -> None:
        if run:
            words.append(Word(
                "".join(c for c, _, _ in run),
                Box.union_of([b for _, _, b in run]),
                100.0 * min(s for _, s, _ in run),
            ))
            run.clear()

    for item in chars or ():
        if len(item) != 3 or item[2] is None:
            continue
        text, score, quad = str(item[0]), float(item[1]), item[2]
        box = _quad_box(quad, width, height)
        if not text.strip():
            flush()
        elif _stands_alone(text):
            flush()
            words.append(Word(text, box, 100.0 * score))
        else:
            run.append((text, score, box))
    flush()
    return tuple(words)


class RapidEngine:
    """One loaded RapidOCR engine. Construct it once per process; construction loads the models.

    ``threads``: ONNX Runtime intra-op threads (1 when pages run in parallel processes).
    ``det_side``: detection runs with the image's long side scaled down to at most this many
    pixels (1280 keeps 9 pt text at 200 dpi detectable and an A4 detection under half a second).
    ``det_scale``: and to at most this share of its size, so that a crop of a page (a table, an
    opinion cell) is searched at the scale a whole page is, not at full resolution: detection
    costs by the pixel, and 0.55 is where an A4 page at 200 dpi meets ``det_side``.
    ``min_score``: lines the recogniser is less sure of (0..1) are dropped by ``ocr_lines``.
    """

    def __init__(
        self,
        *,
        threads: int = 1,
        det_side: int = 1280,
        det_scale: float = 0.55,
        min_score: float = 0.5,
        model_dir: Path | None = None,
    ) -> None:
        start = time.perf_counter()
        self._det_side, self._det_scale = det_side, det_scale
        self._classes: dict[str, int] | None = None
        self.info = probe(model_dir)
        # rapidocr logs each empty detection as a warning; a page with no text is not news.
        logging.getLogger(_LOGGER_NAME).setLevel(logging.ERROR)
        try:
            from rapidocr import LoadImageError, RapidOCR
            from rapidocr.inference_engine.onnxruntime import ONNXRuntimeError

            self._errors: tuple[type[Exception], ...] = (
                LoadImageError, ONNXRuntimeError, RuntimeError, ValueError, OSError,
            )

            params: dict[str, Any] = {
                "Global.log_level": "error",
                "Global.use_cls": False,  # pages arrive upright: orientation is fixed upstream
                "Global.text_score": min_score,
                "Global.max_side_len": 10_000,  # we bound detection with det_side instead
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                "Det.model_path": str(self.info.det_model),
                "Det.limit_type": "max",
                "Det.limit_side_len": det_side,
                "Rec.model_path": str(self.info.rec_model),
                # Padding a batch of lines to the widest one costs more than it saves on CPU.
                "Rec.rec_batch_num": 1,
            }
            if self.info.cls_model is not None:
                params["Cls.model_path"] = str(self.info.cls_model)
            self._ocr = RapidOCR(params=params)
            # rapidocr loads each model on first use; load both now so the cost is paid here.
            blank = np.full((64, 256, 3), 255, np.uint8)
            self._ocr(blank, use_det=True, use_cls=False, use_rec=True)
            self._ocr(blank, use_det=False, use_cls=False, use_rec=True)
        except ImportError as exc:
            raise ToolMissingError(f"rapidocr cannot be imported: {exc}", subject=TOOL) from exc
        except (RuntimeError, ValueError, OSError) as exc:
            raise ToolError(f"the OCR models could not be loaded: {exc}", subject=TOOL) from exc
        self.load = LoadStats(time.perf_counter() - start, _rss_mb())

    def _run(self, image: np.ndarray, *, det: bool, words: bool = False) -> Any:
        if det:
            # rapidocr reads its detector's side limit on each call; ours depends on the image.
            detector = getattr(self._ocr, "text_det", None)
            if detector is not None:
                detector.limit_side_len = max(
                    32, min(self._det_side, round(max(image.shape[:2]) * self._det_scale)))
        # Every flag is passed on every call: rapidocr keeps the last call's flags as state.
        try:
            return self._ocr(
                image, use_det=det, use_cls=False, use_rec=True, return_word_box=words
            )
        except self._errors as exc:
            raise ToolError(f"recognition failed: {exc}", subject=TOOL) from exc

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        """Recognise one line of text filling ``image`` (no detection); text and score 0..1."""
        bgr = _as_bgr(image)
        if bgr.shape[0] < 2 or bgr.shape[1] < 2:
            return "", 0.0
        result = self._run(bgr, det=False)
        txts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if not txts or not scores:
            return "", 0.0
        text = clean_ocr_text(str(txts[0]))
        return (text, float(scores[0])) if text else ("", 0.0)

    def read_line_probs(self, image: np.ndarray) -> tuple[str, float, np.ndarray]:
        """``read_line`` with the recogniser's raw CTC output it was decoded from: class
        probabilities per frame (frames x classes, float32; class 0 is CTC's blank, the others
        are in ``classes``). Lets a caller ask how well a given text explains the line, which
        the best reading alone does not say."""
        bgr = _as_bgr(image)
        rec = getattr(self._ocr, "text_rec", None)
        if rec is None:
            raise ToolError("this rapidocr has no text recogniser to score with", subject=TOOL)
        _, height, width = rec.rec_image_shape
        ratio = max(width / height, bgr.shape[1] / max(1, bgr.shape[0]))
        try:
            preds = np.asarray(rec.session(rec.resize_norm_img(bgr, ratio)[None]
                                           .astype(np.float32)))
            lines, _ = rec.postprocess_op(preds, False, wh_ratio_list=[bgr.shape[1] / max(
                1, bgr.shape[0])], max_wh_ratio=ratio)
        except self._errors as exc:
            raise ToolError(f"recognition failed: {exc}", subject=TOOL) from exc
        text = clean_ocr_text(str(lines[0][0]))
        return (text, float(lines[0][1]) if text else 0.0, preds[0])

    @property
    def classes(self) -> dict[str, int]:
        """Each character's class in ``read_line_probs``' output."""
        if self._classes is None:
            rec = getattr(self._ocr, "text_rec", None)
            characters = rec.postprocess_op.character if rec is not None else ()
            self._classes = {ch: i for i, ch in enumerate(characters) if i > 0}
        return self._classes

    def ocr_lines(self, image: np.ndarray, *, words: bool = False) -> list[Line]:
        """Detect and read the text lines of a page or region; boxes in ``image``'s pixels.

        ``conf`` is 0..100 like every Line and Word. ``words=True`` also returns per-word boxes
        (each Chinese character a word, runs of Latin letters and digits one word).
        """
        bgr = _as_bgr(image)
        height, width = bgr.shape[:2]
        if height < 8 or width < 8:
            return []
        result = self._run(bgr, det=True, words=words)
        boxes = getattr(result, "boxes", None)
        txts = getattr(result, "txts", None)
        scores = getattr(result, "scores", None)
        if boxes is None or txts is None or scores is None:
            return []
        word_results = getattr(result, "word_results", ()) if words else ()
        lines: list[Line] = []
        for i, (quad, raw, score) in enumerate(zip(boxes, txts, scores, strict=True)):
            text = clean_ocr_text(str(raw))
            if not text:
                continue
            chars = word_results[i] if i < len(word_results) else ()
            lines.append(Line(
                text=text,
                box=_quad_box(quad, width, height),
                conf=100.0 * float(score),
                words=_words(chars, width, height) if words else (),
            ))
        return lines


@lru_cache(maxsize=1)
def default_engine() -> RapidEngine:
    """The process's engine with default settings, created on first use (never at import).

    A worker process calls this once at start-up; ``default_engine.cache_clear()`` drops it.
    """
    return RapidEngine()


def read_line(image: np.ndarray, engine: RapidEngine | None = None) -> tuple[str, float]:
    """Recognition only, on a crop holding one line: (text, score 0..1); ("", 0.0) if none."""
    return (engine or default_engine()).read_line(image)


def ocr_lines(
    image: np.ndarray, engine: RapidEngine | None = None, *, words: bool = False
) -> list[Line]:
    """Detection and recognition over a page or region; boxes in ``image``'s pixels."""
    return (engine or default_engine()).ocr_lines(image, words=words)
