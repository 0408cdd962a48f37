"""Accuracy and cost of page preparation and of tesseract's page modes.

    .venv/bin/python -m bench.prepare_bench forms      # drawn A4 form pages, every turn and lean
    .venv/bin/python -m bench.prepare_bench samples    # a generated dossier (samples.generate)

Prints tables; asserts nothing (timings do not belong in tests). Seconds are wall time on
this machine with one tesseract thread (OMP_THREAD_LIMIT=1), one page at a time.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import cv2
import numpy as np

from intake import load, prepare
from intake.normalize import canonical_text
from intake.ocr import tesseract, textlayer
from tests.intake.pagedraw import FORM_ROWS, form_page, rotate_page, to_bgr

T = TypeVar("T")
PSMS = (3, 4, 6, 11)


def _timed(fn: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def char_recall(text: str, truth: str) -> float:
    pool = list(text.replace(" ", ""))
    hit = 0
    for ch in truth.replace(" ", ""):
        if ch in pool:
            pool.remove(ch)
            hit += 1
    return hit / max(1, len(truth.replace(" ", "")))


def forms(dpi: int = 200) -> None:
    base = form_page(dpi)
    gray = cv2.cvtColor(to_bgr(base), cv2.COLOR_BGR2GRAY)
    truth = "".join(a + b for a, b in FORM_ROWS)
    print(f"## tesseract page modes, drawn A4 form at {dpi} dpi")
    for name, img in (("ruled", gray), ("rules removed", prepare.remove_rules(gray))):
        for psm in PSMS:
            runs = [_timed(lambda p=psm, i=img: tesseract.ocr_lines(i, psm=p, dpi=dpi))
                    for _ in range(2)]
            text = "\n".join(ln.text for ln in runs[0][0])
            print(f"psm {psm} {name:14s} {min(t for _, t in runs):5.2f} s/page  "
                  f"char recall {char_recall(text, truth):.3f}")

    print("\n## orient and deskew, drawn form: every quarter turn x leans -4..5 degrees")
    ok_rot = ok_skew = n = 0
    errors, t_orient, t_osd, ok_osd, t_deskew = [], [], [], 0, []
    for arrived in (0, 90, 180, 270):
        for lean in (-4.0, -2.5, 0.0, 1.0, 3.0, 5.0):
            page = prepare.turn(cv2.cvtColor(to_bgr(rotate_page(base, lean)),
                                             cv2.COLOR_BGR2GRAY), arrived)
            (turned, rotation), dt = _timed(lambda p=page: prepare.orient(p))
            t_orient.append(dt)
            osd, dt = _timed(lambda p=page: tesseract.osd(p))
            t_osd.append(dt)
            (_, applied), dt = _timed(lambda p=turned: prepare.deskew(p))
            t_deskew.append(dt)
            want = (360 - arrived) % 360
            n += 1
            ok_rot += rotation == want
            ok_osd += osd == want
            errors.append(abs(applied + lean))
            ok_skew += errors[-1] <= 0.2
    print(f"orient: {ok_rot}/{n} right, median {statistics.median(t_orient):.2f} s/page")
    print(f"tesseract osd (for comparison): {ok_osd}/{n} right, "
          f"median {statistics.median(t_osd):.2f} s/page")
    print(f"deskew: {ok_skew}/{n} within 0.2 deg, mean error {np.mean(errors):.3f}, "
          f"max {max(errors):.3f} deg, median {statistics.median(t_deskew) * 1000:.0f} ms/page")


def _page_truth(truth: dict[str, Any]) -> dict[tuple[str, int], dict[str, Any]]:
    pages: dict[tuple[str, int], dict[str, Any]] = {}
    for doc in truth["documents"]:
        for info in doc["page_info"]:
            pages[(doc["file"], info["page"])] = {**info, "values": []}
    for f in truth["fields"]:
        if (f["document"], f["page"]) in pages:
            pages[(f["document"], f["page"])]["values"].append(f["printed"])
    return pages


def samples(degrade: str = "heavy", seed: int = 1) -> None:
    from samples.generate import generate_batch

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        generate_batch(out, labs=1, seed=seed, degrade=degrade)
        lab = next(p for p in out.iterdir() if p.is_dir())
        truth = json.loads((lab / "truth.json").read_text(encoding="utf-8"))
        pages = _page_truth(truth)
        times: dict[str, list[float]] = defaultdict(list)
        found: dict[int, list[float]] = defaultdict(list)
        rows = []
        for doc in truth["documents"]:
            path = lab / doc["file"]
            document, dt = _timed(lambda p=path: load.open_document(
                p, max_bytes=2**30, max_pages=500, max_pixels=120_000_000))
            times["open_document"].append(dt / document.page_count)
            for number in range(1, document.page_count + 1):
                info = pages[(doc["file"], number)]
                (bgr, dpi), dt = _timed(lambda p=path, n=number, k=document.kind:
                                        load.render_page(p, k, n))
                times["render_page"].append(dt)
                layer, dt = _timed(lambda p=path, n=number, d=dpi: textlayer.page_words(p, n, d))
                times["textlayer"].append(dt)
                color, dt = _timed(lambda b=bgr: prepare.is_color(b))
                times["is_color"].append(dt)
                gray, dt = _timed(lambda b=bgr: prepare.remove_red_ink(b))
                times["remove_red_ink"].append(dt)
                gray, dt = _timed(lambda g=gray: prepare.flatten(g))
                times["flatten"].append(dt)
                (turned, rotation), dt = _timed(lambda g=gray: prepare.orient(g))
                times["orient"].append(dt)
                # The pipeline's way: no orientation read, the page read settles up or down.
                (read, _), dt = _timed(lambda b=bgr: prepare.read_upright(
                    prepare.prepare(b, defer_flip=True)))
                times["prepare(defer_flip) + read_upright"].append(dt)
                (_, _), dt = _timed(lambda b=bgr: prepare.read_upright(prepare.prepare(b)))
                times["prepare + read"].append(dt)
                osd, dt = _timed(lambda g=gray: tesseract.osd(g))
                times["osd"].append(dt)
                (straight, skew), dt = _timed(lambda g=turned: prepare.deskew(g))
                times["deskew"].append(dt)
                clean, dt = _timed(lambda g=straight: prepare.remove_rules(g))
                times["remove_rules"].append(dt)
                recall = {}
                for psm in PSMS:
                    lines, dt = _timed(lambda c=clean, p=psm, d=dpi: tesseract.ocr_lines(
                        c, psm=p, dpi=d))
                    times[f"ocr_lines psm {psm}"].append(dt)
                    text = canonical_text("".join(ln.text for ln in lines))
                    values = [canonical_text(v) for v in info["values"]]
                    if values:
                        recall[psm] = sum(v in text for v in values) / len(values)
                        found[psm].append(recall[psm])
                want_rot = info["rotation"]
                rows.append((doc["file"], number, info["kind"], want_rot, rotation, osd,
                             info["skew"], skew, color, layer is not None, recall,
                             read.rotation))
        print(f"## generated dossier, degrade={degrade}, seed={seed}, {len(rows)} pages, "
              f"{truth['documents'][0]['dpi']} dpi")
        print("file            page kind        rot want/got/osd/read  skew want->turn   colour "
              "layer  fields found psm3/4/6/11")
        for r in rows:
            rec = "/".join(f"{r[10][p]:.2f}" for p in PSMS) if r[10] else "-"
            print(f"{r[0]:15s} {r[1]:4d} {r[2]:11s} {r[3]:4d}/{r[4]:3d}/{r[5]!s:4s}/{r[11]:3d}  "
                  f"{r[6]:+6.2f} -> {r[7]:+6.2f}  {r[8]!s:6s} {r[9]!s:5s}  {rec}")
        ok_rot = sum(r[3] == r[4] for r in rows)
        ok_osd = sum(r[3] == r[5] for r in rows)
        ok_read = sum(r[3] == r[11] for r in rows)
        errs = [abs(r[6] + r[7]) for r in rows]
        print(f"orient right {ok_rot}/{len(rows)}; read_upright right {ok_read}/{len(rows)}; "
              f"osd right {ok_osd}/{len(rows)}; deskew error "
              f"mean {np.mean(errs):.3f} max {max(errs):.3f} deg")
        for psm in PSMS:
            if found[psm]:
                print(f"psm {psm}: fields found {np.mean(found[psm]):.3f} "
                      f"(pages with fields: {len(found[psm])})")
        print("median seconds per page:")
        for name, values in times.items():
            print(f"  {name:18s} {statistics.median(values):6.3f}  (max {max(values):.3f})")


if __name__ == "__main__":
    what = sys.argv[1:] or ["forms", "samples"]
    if "forms" in what:
        forms()
    if "samples" in what:
        samples("heavy")
        samples("light", seed=2)
