"""Seal detection and seal reading on generated dossiers, scored against truth.json.

    .venv/bin/python -m bench.seals [--labs 4] [--dpi 150 300] [--no-names] [--turn]
                                    [--shapes round oval square round | --shapes drawn]
                                    [--detector SEALS_PY] [--against OLD_SEALS_PY]

Generates four batches (colour and gray, light and heavy), renders every page with
``intake.load.render_page`` and runs ``detect_seals`` on it as rendered (truth boxes are in that
frame). Per page kind and DPI it prints precision, recall, F1 and mean IoU (a detection matches a
truth seal at IoU >= 0.5), the median ms per page of ``detect_seals`` with the median of an
anchor (a fixed piece of OpenCV work on the same page, timed next to it) and of the ratio of
the two, which holds still when the machine is shared, and, at the first DPI,
how many complete seals had their organisation read and matched (``read_seal_text`` +
``match_organisation`` with every organisation of the batch as a candidate) and how many were
matched to a wrong one. The legal entities' seals take the shapes of ``--shapes`` lab by lab
in turn (by default round, oval, square, round, so that every shape is scored; ``drawn`` leaves
the generator's draw, mostly round), and each figure is also given per shape of seal (a
detection matched to no seal counts under the shape it was reported as). ``--turn`` also
turns every page by 0.3-3 degrees with bilinear resampling (what a deskew does) before
detecting. ``--against`` times another version of
``intake/seals.py`` (a copy of the file, e.g. from ``git show REV:intake/seals.py``) on the same
pages, interleaved with this one, and prints the median per-page time ratio this / that;
``--detector`` scores such a copy instead of ``intake/seals.py``. ``--opencv`` also adds up, page
by page, the time the detector spends inside OpenCV calls of 50 us or more (the work on whole
images and regions: Hough transforms, resizes, morphology, contours; not the thousands of
small lookups) and prints its median, in ms and in anchors: what a page would still cost if
everything else ran in no time at all.

Pages carrying only red non-seal marks (any seal found there is a false seal): the association's
letter (red headline and rules) with its seal painted out, and every page of the batch with its
seals painted out and red pen marks drawn on it (a signature, a hand-drawn circle round a
paragraph, ticks, a circled number, a line of red print), in gray on gray batches. A crop
around each false seal found there is written to ``--out`` (false-*.png), to look at.
Batches are generated once per --labs/--seed/--shapes into ``--out`` and reused.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import cv2
import numpy as np

from intake import seals
from intake.load import render_page
from intake.model import Box, DocumentKind, Seal
from intake.seals import detect_seals
from samples.generate import generate_batch
from samples.record import SEAL_SHAPES

Detect = Callable[[np.ndarray, int], list[Seal]]

BATCHES = (("colour", "light", False), ("colour", "heavy", False),
           ("gray", "light", True), ("gray", "heavy", True))
GEN_DPI = 200


@dataclass
class Tally:
    truth: int = 0
    found: int = 0
    matched: int = 0
    ious: list[float] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    anchor_ms: list[float] = field(default_factory=list)  # the anchor, on the same pages
    other_ms: list[float] = field(default_factory=list)  # --against, on the same pages
    opencv_ms: list[float] = field(default_factory=list)  # --opencv: of ms, inside OpenCV
    named: int = 0  # complete seals whose organisation was read and matched
    complete: int = 0
    wrong: int = 0
    marks_pages: int = 0  # pages with only red non-seal marks
    marks_false: int = 0  # of those, pages where a seal was reported
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)
    unnamed: list[str] = field(default_factory=list)  # complete seals not (or wrongly) named

    def line(self, name: str) -> str:
        p = self.matched / self.found if self.found else 1.0
        r = self.matched / self.truth if self.truth else 1.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        iou = statistics.mean(self.ious) if self.ious else 0.0
        ms = statistics.median(self.ms) if self.ms else 0.0
        text = (f"{name:<28} seals {self.truth:4d} found {self.found:4d} P {p:.3f} R {r:.3f} "
                f"F1 {f1:.3f} IoU {iou:.3f}")
        if self.ms:  # not on a shape's line: pages are timed, not seals
            text += f" ms/page {ms:5.1f}"
        if self.anchor_ms:
            ratios = [m / a for m, a in zip(self.ms, self.anchor_ms, strict=True) if a > 0]
            text += (f" anchor {statistics.median(self.anchor_ms):5.1f}"
                     f" ratio {statistics.median(ratios):4.2f}")
        if self.opencv_ms:
            inside = [m / a for m, a in zip(self.opencv_ms, self.anchor_ms, strict=True) if a > 0]
            text += (f" opencv {statistics.median(self.opencv_ms):5.1f}"
                     f" ({statistics.median(inside):4.2f} anchors)")
        if self.other_ms:
            against = [m / o for m, o in zip(self.ms, self.other_ms, strict=True) if o > 0]
            text += (f" against {statistics.median(self.other_ms):5.1f}"
                     f" (this/that {statistics.median(against):4.2f})")
        if self.complete:
            text += f" | named {self.named}/{self.complete} wrong {self.wrong}"
        if self.marks_pages:
            text += f" | red-marks pages with a seal {self.marks_false}/{self.marks_pages}"
        return text


def _match(found: list[Box], truth: list[Box]) -> list[tuple[int, int, float]]:
    """Greedy one-to-one matching by IoU, best pairs first, at IoU >= 0.5."""
    pairs = sorted(((f.iou(t), i, j) for i, f in enumerate(found) for j, t in enumerate(truth)),
                   reverse=True)
    used_f: set[int] = set()
    used_t: set[int] = set()
    out = []
    for iou, i, j in pairs:
        if iou < 0.5:
            break
        if i in used_f or j in used_t:
            continue
        used_f.add(i)
        used_t.add(j)
        out.append((i, j, iou))
    return out


def _turn(image: np.ndarray, boxes: list[Box], rng: random.Random) -> tuple[np.ndarray, list[Box]]:
    """Turn by 0.3-3 degrees either way with bilinear resampling; boxes go along (their
    corners' bounds, a little larger than the ink's)."""
    angle = rng.uniform(0.3, 3.0) * rng.choice((-1, 1))
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    out = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=(255, 255, 255))
    moved = []
    for b in boxes:
        # The seal is round or nearly: turn its centre, keep its size.
        cx, cy = b.x + b.w / 2, b.y + b.h / 2
        nx, ny = m @ np.array([cx, cy, 1.0])
        moved.append(Box(round(nx - b.w / 2), round(ny - b.h / 2), b.w, b.h))
    return out, moved


PEN = (30, 25, 200)  # BGR


def _red_marks(image: np.ndarray, dpi: int, rng: random.Random, gray: bool) -> np.ndarray:
    """The page with red pen marks drawn on it (their luminance on a gray page)."""
    mm = dpi / 25.4
    out = image.copy()
    h, w = out.shape[:2]
    colour = (int(0.114 * PEN[0] + 0.587 * PEN[1] + 0.299 * PEN[2]),) * 3 if gray else PEN
    pen = max(1, round(rng.uniform(0.35, 0.7) * mm))
    # A signature: loops and strokes about 45 x 15 mm.
    x, y = rng.uniform(30, 140) * mm, rng.uniform(40, 260) * mm
    pts = [(x, y)]
    for _ in range(rng.randint(15, 30)):
        x += rng.uniform(-1.5, 3.0) * mm
        y += rng.uniform(-4, 4) * mm
        pts.append((x, y))
    cv2.polylines(out, [np.array(pts, np.int32)], False, colour, pen, cv2.LINE_AA)
    # A circle drawn round a paragraph, a little out of round, sometimes not closed.
    cx, cy = rng.uniform(50, 160) * mm, rng.uniform(50, 250) * mm
    r = rng.uniform(12, 28) * mm
    t = np.linspace(0, rng.uniform(1.85, 2.1) * np.pi, 200)
    wob = 1 + 0.04 * np.sin(3 * t + rng.uniform(0, 6))
    ring = np.stack([cx + r * wob * np.cos(t), cy + 0.9 * r * wob * np.sin(t)], 1)
    cv2.polylines(out, [ring.astype(np.int32)], False, colour, pen, cv2.LINE_AA)
    # Ticks and a circled number.
    for _ in range(rng.randint(2, 6)):
        tx, ty = rng.uniform(25, 185) * mm, rng.uniform(30, 270) * mm
        tick = np.array([(tx, ty), (tx + 2 * mm, ty + 3 * mm), (tx + 6 * mm, ty - 4 * mm)])
        cv2.polylines(out, [tick.astype(np.int32)], False, colour, pen, cv2.LINE_AA)
    cv2.circle(out, (round(rng.uniform(30, 180) * mm), round(rng.uniform(30, 270) * mm)),
               round(rng.uniform(3, 6) * mm), colour, pen, cv2.LINE_AA)
    # A line of red print, headline size.
    cv2.putText(out, "NOTICE 2021-07", (round(25 * mm), round(rng.uniform(15, 30) * mm)),
                cv2.FONT_HERSHEY_DUPLEX, 3.5 * mm / 22, colour, max(2, round(1.2 * mm)),
                cv2.LINE_AA)
    del h, w
    return out


def _paint_out(image: np.ndarray, boxes: list[Box]) -> np.ndarray:
    blank = image.copy()
    for b in boxes:
        pad = round(0.05 * b.w) + 2
        blank[max(0, b.y - pad):b.y2 + pad, max(0, b.x - pad):b.x2 + pad] = 255
    return blank


def run_batch(out: Path, colour: str, degrade: str, gray: bool, labs: int, seed: int,
              dpis: list[int], engine: Any, turn: bool,
              against: ModuleType | None = None, shapes: list[str] | None = None,
              detect: Detect = detect_seals, clock: OpenCvClock | None = None
              ) -> dict[str, Tally]:
    from intake.seal_text import match_organisation, read_seal_text

    batch = out / f"{colour}-{degrade}"
    if not (batch / "manifest.json").exists():
        generate_batch(batch, labs=labs, seed=seed, degrade=degrade, gray=gray,
                       seal_shapes=shapes)
    manifest = json.loads((batch / "manifest.json").read_text(encoding="utf-8"))
    truths = [json.loads((batch / lab["dir"] / "truth.json").read_text(encoding="utf-8"))
              if "dir" in lab else
              json.loads((batch / lab["lab_id"] / "truth.json").read_text(encoding="utf-8"))
              for lab in manifest["labs"]]
    orgs = sorted({s["organisation"] for t in truths for s in t["seals"]
                   if s["role"] != "copy_stamp" and s["organisation"]})
    tallies: dict[str, Tally] = defaultdict(Tally)
    rng = random.Random(seed)
    seen_letters: set[str] = set()
    for lab, truth in zip(manifest["labs"], truths, strict=True):
        lab_dir = batch / lab["lab_id"]
        for doc in truth["documents"]:
            letter = doc["role"] == "letter"
            if letter:
                digest = doc["sha256"]
                if digest in seen_letters:
                    continue  # the same bytes in every lab of an association
                seen_letters.add(digest)
            for page in range(1, doc["pages"] + 1):
                seals = [s for s in truth["seals"]
                         if s["document"] == doc["file"] and s["page"] == page]
                for k, dpi in enumerate(dpis):
                    image, got_dpi = render_page(lab_dir / doc["file"], DocumentKind.PDF, page,
                                                 dpi=dpi)
                    f = got_dpi / GEN_DPI
                    boxes = [Box(round(s["box"][0] * f), round(s["box"][1] * f),
                                 round(s["box"][2] * f), round(s["box"][3] * f)) for s in seals]
                    if turn:
                        image, boxes = _turn(image, boxes, rng)
                    key = f"{colour} {degrade} {dpi}"
                    _score(tallies, key, image, got_dpi, boxes, seals,
                           f"{lab['lab_id']}/{doc['file']}#{page}",
                           engine if k == 0 else None, orgs, read_seal_text, match_organisation,
                           against, detect, clock)
                    # The letter without its seal (its red headline and rules remain); every
                    # page without its seals and with red pen marks.
                    blanks = [_paint_out(image, boxes)] if letter else []
                    blanks.append(_red_marks(_paint_out(image, boxes), got_dpi, rng, gray))
                    marks = tallies[f"{colour} {degrade} {dpi} red-marks"]
                    for blank in blanks:
                        found = detect(blank, got_dpi)
                        marks.marks_pages += 1
                        marks.marks_false += bool(found)
                        marks.found += len(found)
                        marks.extras += [f"{lab['lab_id']}/{doc['file']}#{page} {s.box}"
                                         for s in found]
                        for s in found:  # to look at
                            x0, y0 = max(0, s.box.x - s.box.w), max(0, s.box.y - s.box.h)
                            cv2.imwrite(str(out / f"false-{colour}-{degrade}-{dpi}-"
                                            f"{lab['lab_id']}-{doc['file']}-{page}.png"),
                                        blank[y0:s.box.y2 + s.box.h, x0:s.box.x2 + s.box.w])
    return tallies


def _anchor(image: np.ndarray) -> float:
    """Milliseconds of a fixed piece of OpenCV work on the page (HSV conversion, a 5 x 5 box
    blur, an area shrink to a third), timed next to each detection: on a shared machine the
    detector's time is read as a multiple of this rather than as an absolute figure."""
    started = time.perf_counter()
    if image.ndim == 3:
        cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    cv2.blur(image, (5, 5))
    cv2.resize(image, (image.shape[1] // 3, image.shape[0] // 3), interpolation=cv2.INTER_AREA)
    return (time.perf_counter() - started) * 1000


class OpenCvClock:
    """Stands in for ``cv2`` in a detector module and adds up the time spent in its calls of
    at least ``min_ms``: the image-scale work, which a faster language round the calls would
    not make cheaper."""

    def __init__(self, min_ms: float = 0.05) -> None:
        self.min_ms = min_ms
        self.ms = 0.0

    def __getattr__(self, name: str) -> Any:
        value = getattr(cv2, name)
        if not callable(value) or isinstance(value, type):
            return value  # constants and classes as they are

        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return value(*args, **kwargs)
            finally:
                ms = (time.perf_counter() - started) * 1000
                if ms >= self.min_ms:
                    self.ms += ms

        return timed


def _score(tallies: dict[str, Tally], key: str, image: np.ndarray, dpi: int, boxes: list[Box],
           seals: list[dict[str, Any]], where: str, engine: Any, orgs: list[str], read: Any,
           match: Any, against: ModuleType | None = None, detect: Detect = detect_seals,
           clock: OpenCvClock | None = None) -> None:
    """Score one page into ``tallies[key]`` and, seal by seal, into ``tallies[key + shape]``."""
    t = tallies[key]
    anchor_before = _anchor(image)
    if against is not None:
        started = time.perf_counter()
        against.detect_seals(image, dpi)
        t.other_ms.append((time.perf_counter() - started) * 1000)
    if clock is not None:
        clock.ms = 0.0
    started = time.perf_counter()
    found: list[Seal] = detect(image, dpi)
    t.ms.append((time.perf_counter() - started) * 1000)
    if clock is not None:
        t.opencv_ms.append(clock.ms)
    t.anchor_ms.append((anchor_before + _anchor(image)) / 2)
    pairs = _match([s.box for s in found], boxes)
    t.truth += len(boxes)
    t.found += len(found)
    t.matched += len(pairs)
    t.ious += [iou for *_, iou in pairs]
    hit = {j: i for i, j, _ in pairs}
    t.misses += [f"{where} {seals[j]['shape']} {seals[j]['role']}" for j in range(len(boxes))
                 if j not in hit]
    matched_found = {i for i, _, _ in pairs}
    t.extras += [f"{where} {found[i].box} {found[i].shape} {found[i].score:.2f}"
                 for i in range(len(found)) if i not in matched_found]
    for j, s in enumerate(seals):
        per = tallies[f"{key} {s['shape']}"]
        per.truth += 1
        if j in hit:
            per.found += 1
            per.matched += 1
            per.ious.append(next(iou for i, jj, iou in pairs if jj == j))
    for i, seal in enumerate(found):
        if i not in matched_found:
            tallies[f"{key} {seal.shape}"].found += 1
    if engine is None:
        return
    for j, s in enumerate(seals):
        if not s["complete"] or s["role"] == "copy_stamp":
            continue
        per = tallies[f"{key} {s['shape']}"]
        t.complete += 1
        per.complete += 1
        if j not in hit:
            continue
        text, _ = read(image, found[hit[j]], engine)
        name, _ = match(text, orgs)
        if name == s["organisation"]:
            t.named += 1
            per.named += 1
            continue
        if name is not None:
            t.wrong += 1
            per.wrong += 1
        t.unnamed.append(f"{where} {s['shape']} {s['role']} {s['organisation']} "
                         f"read {text!r} -> {name}")


def _order(name: str) -> tuple[str, int]:
    """A set's line, then its shapes' lines, then its red-marks line."""
    words = name.split()
    return " ".join(words[:3]), 2 if words[3:] == ["red-marks"] else len(words[3:])


def _load_against(path: Path, name: str = "seals_against") -> ModuleType:
    """Another version of intake/seals.py, loaded under its own name."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--dpi", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--out", type=Path, default=Path("bench/out/seals"))
    parser.add_argument("--no-names", action="store_true", help="skip reading the seals")
    parser.add_argument("--turn", action="store_true",
                        help="turn each page 0.3-3 degrees (bilinear) before detecting")
    parser.add_argument("--only", choices=["colour", "gray"], help="one colour of batch")
    parser.add_argument("--verbose", action="store_true", help="list misses and extra seals")
    parser.add_argument("--against", type=Path,
                        help="another intake/seals.py to time on the same pages, interleaved")
    parser.add_argument("--detector", type=Path,
                        help="score this copy of intake/seals.py instead of intake/seals.py")
    parser.add_argument("--opencv", action="store_true",
                        help="also time the detector's OpenCV calls of 50 us or more")
    parser.add_argument("--shapes", nargs="+", default=["round", "oval", "square", "round"],
                        choices=[*SEAL_SHAPES, "drawn"],
                        help="the legal entities' seal shapes, lab by lab in turn (default "
                             "round oval square round); drawn: the generator's draw")
    args = parser.parse_args()
    against = _load_against(args.against) if args.against else None
    detector = _load_against(args.detector, "seals_detector") if args.detector else seals
    detect: Detect = detector.detect_seals
    clock = None
    if args.opencv:
        # The other time on the page (numpy, Python) is measured with the clock in place,
        # which costs a microsecond a call: a few per cent on a gray page.
        clock = OpenCvClock()
        detector.cv2 = clock  # type: ignore[attr-defined]
    shapes = None if "drawn" in args.shapes else args.shapes
    engine = None
    if not args.no_names:
        from intake.ocr.rapid import RapidEngine

        engine = RapidEngine()
    out = args.out / f"labs{args.labs}-seed{args.seed}"
    if shapes:
        out = out.with_name(f"{out.name}-{'-'.join(shapes)}")
    for colour, degrade, gray in BATCHES:
        if args.only and colour != args.only:
            continue
        tallies = run_batch(out, colour, degrade, gray, args.labs, args.seed, args.dpi, engine,
                            args.turn, against, shapes, detect, clock)
        for name, tally in sorted(tallies.items(), key=lambda item: _order(item[0])):
            print(tally.line(name), flush=True)
            if args.verbose:
                for m in tally.misses:
                    print("   miss ", m)
                for e in tally.extras:
                    print("   extra", e)
                for u in tally.unnamed:
                    print("   name ", u)


if __name__ == "__main__":
    main()
