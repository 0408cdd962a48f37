"""OCR engines on generated pages: field exact-read rate, character error rate and speed.

    .venv/bin/python -m bench.ocr                  # accuracy (>= 30 form pages per set) + speed
    .venv/bin/python -m bench.ocr --quick          # a few pages per set, a 10-page speed run
    .venv/bin/python -m bench.ocr --pages 30 --sets light-gray --no-speed
    .venv/bin/python -m bench.ocr --no-speed --read-dpi 0,150 --no-rapid-page  # page-pass dpi
    .venv/bin/python -m bench.ocr --no-accuracy --rounds 2 --baseline ../other-checkout

Accuracy, per degradation (none/light/heavy) x colour/gray, on the form pages (cover and body)
of generated dossiers without discrepancies, every printed field against truth.json:

* ``tesseract``: the page pass alone (``pipeline.read_page``: prepare, psm 11, cells, fields);
* ``tess+rapid``: as the pipeline does, each field whose page reading does not verify is
  re-read by RapidOCR from its cell crop (``pipeline._cell_crop``); the reading that verifies,
  else RapidOCR's, stands;
* ``rapid``: RapidOCR alone, detection and recognition over the upright page (colour pages
  with red ink dropped, as the verifier sees crops), words put into the same table cells.

A field is read exactly when its comparison key (``normalize.canonical``) equals the printed
value's; CER is the Levenshtein distance between the canonical texts over the printed length
(a field not found counts as all wrong). "under seal" are the fields whose truth box overlaps
a seal's. Seconds are per form page: the page pass (render, prepare, OCR, layout), the
re-reads, and RapidOCR's detection and recognition alone.

Speed: a 40-page image-only PDF (one generated lab's documents, repeated as further bound
copies; ``--mixed``: volumes of several labs against the first lab's record), timed as a whole
``dossier review --workers 2`` (RapidOCR verifying) against plain ``tesseract`` psm 11 chi_sim
on the same pages rendered to PNG (2 processes, OMP_THREAD_LIMIT=1), and ``ocrmypdf --jobs 2``
when it is installed; peak RSS is summed over each command's process tree. ``--rounds``
repeats the floor and the review, interleaved, each ratio taken within its round (the machine
may be shared); ``--baseline`` times the review of another checkout of this tree in each
round too, for a before/after in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import psutil
from rapidfuzz.distance import Levenshtein

from intake import layout, prepare
from intake.extract import labelled_values
from intake.fields import FieldSpec, all_labels, printed_fields
from intake.model import Box, Cell
from intake.normalize import canonical, canonical_text, clean_ocr_text
from intake.pipeline import PageTask, _cell_crop, read_page

ENGINES = ("tesseract", "tess+rapid", "rapid")
FORM_PAGES_PER_LAB = 6  # two volumes of three form pages each (cover and body)
SETS = [f"{d}-{c}" for d in ("none", "light", "heavy") for c in ("colour", "gray")]


# Accuracy ------------------------------------------------------------------------------------


@dataclass
class Tally:
    fields: int = 0
    exact: int = 0
    errors: int = 0  # edit distance, summed
    chars: int = 0  # printed characters, summed
    seal_fields: int = 0
    seal_exact: int = 0
    seal_errors: int = 0
    seal_chars: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, printed: str, read: str, ok: bool, under_seal: bool) -> None:
        want, got = canonical_text(printed), canonical_text(read)
        dist = Levenshtein.distance(want, got)
        self.fields += 1
        self.exact += ok
        self.errors += dist
        self.chars += len(want)
        if under_seal:
            self.seal_fields += 1
            self.seal_exact += ok
            self.seal_errors += dist
            self.seal_chars += len(want)

    def merge(self, other: Tally) -> None:
        for name in ("fields", "exact", "errors", "chars", "seal_fields", "seal_exact",
                     "seal_errors", "seal_chars"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds


def _overlaps(a: list[int], b: list[int]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


_ENGINE: Any = None


def _rapid() -> Any:
    global _ENGINE  # noqa: PLW0603 - one engine per worker process, loaded on first use
    if _ENGINE is None:
        from intake.ocr import rapid

        _ENGINE = rapid.RapidEngine()
    return _ENGINE


@dataclass(frozen=True)
class PageJob:
    pdf: str
    page: int
    campaign: str
    truth: list[dict[str, Any]]  # the fields printed on this page
    seals: list[list[int]]  # seal boxes on this page
    image_dir: str
    read_dpi: int | None = None  # PageTask.read_dpi
    whole_rapid: bool = True  # also RapidOCR over the whole page (the "rapid" engine)


def _match(fields: Iterable[tuple[str, Box, str]], want: dict[str, Any]) -> str | None:
    """The text read for a truth field: same key, the cell holding the printed box's centre."""
    bx, by, bw, bh = want["box"]
    cx, cy = bx + bw / 2, by + bh / 2
    same = [(box, text) for key, box, text in fields if key == want["key"]]
    for box, text in same:
        if box.contains_point(cx, cy):
            return text
    return same[0][1] if len(same) == 1 else None


def _rapid_page(image: np.ndarray, cells: tuple[Cell, ...], specs: Sequence[FieldSpec]
                ) -> list[tuple[str, Box, str]]:
    """RapidOCR alone over the page, its words put into the page's table cells."""
    page = prepare.remove_red_ink(image) if prepare.is_color(image) else image
    lines = _rapid().ocr_lines(page, words=True)
    empty = tuple(Cell(c.row, c.col, c.box, table=c.table) for c in cells)
    filled, _ = layout.fill_cells(empty, lines)
    return [(lv.spec.key, lv.value.box, clean_ocr_text(lv.value.text))
            for lv in labelled_values(filled, specs)]


def measure_page(job: PageJob) -> dict[str, Tally]:
    os.environ["OMP_THREAD_LIMIT"] = "1"
    cv2.setNumThreads(1)
    specs = {s.key: s for s in all_labels(job.campaign).values()}
    started = time.perf_counter()
    result = read_page(PageTask(path=job.pdf, kind="pdf", document=Path(job.pdf).name,
                                number=job.page, campaign=job.campaign,
                                image_dir=job.image_dir, read_dpi=job.read_dpi))
    t_page = time.perf_counter() - started
    image = cv2.imread(result.image) if result.image else None
    assert image is not None, "read_page kept no page image"
    tess = [(f.key, f.location.box, f.text) for f in result.fields
            if f.location.box is not None]
    started = time.perf_counter()
    rapid_fields = _rapid_page(image, result.page.cells, printed_fields(job.campaign)
                               ) if job.whole_rapid else []
    t_rapid = time.perf_counter() - started
    tallies = {name: Tally() for name in ENGINES}
    t_reread = 0.0
    for want in job.truth:
        spec = specs[want["key"]]
        printed = want["printed"]
        key = canonical(spec.kind, printed, spec.places)
        under = any(_overlaps(want["box"], s) for s in job.seals)

        def ok(text: str, spec: FieldSpec = spec, key: str | None = key) -> bool:
            return key is not None and canonical(spec.kind, text, spec.places) == key

        text = _match(tess, want)
        first = text or ""
        tallies["tesseract"].add(printed, first, ok(first), under)
        if text is not None and not ok(first):
            box = next(b for k, b, t in tess if k == want["key"] and t == text)
            started = time.perf_counter()
            second, _ = _rapid().read_line(_cell_crop(image, box, result.page.dpi))
            t_reread += time.perf_counter() - started
            second = clean_ocr_text(second)
            tallies["tess+rapid"].add(printed, second, ok(second), under)
        else:
            tallies["tess+rapid"].add(printed, first, ok(first), under)
        if job.whole_rapid:
            alone = _match(rapid_fields, want) or ""
            tallies["rapid"].add(printed, alone, ok(alone), under)
    tallies["tesseract"].seconds.append(t_page)
    tallies["tess+rapid"].seconds.append(t_page + t_reread)
    if job.whole_rapid:
        tallies["rapid"].seconds.append(t_rapid)
    return tallies


def _jobs(out: Path, degrade: str, gray: bool, pages: int, seed: int) -> list[PageJob]:
    from samples.generate import generate_batch

    labs = max(1, math.ceil(pages / FORM_PAGES_PER_LAB))
    manifest = generate_batch(out, labs=labs, seed=seed, degrade=degrade, gray=gray,
                              discrepancies=0, workers=2)
    images = out / "pages"
    images.mkdir(exist_ok=True)
    jobs = []
    for lab in manifest["labs"]:
        lab_dir = out / lab["dir"]
        truth = json.loads((lab_dir / "truth.json").read_text(encoding="utf-8"))
        by_page: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for f in truth["fields"]:
            by_page.setdefault((f["document"], f["page"]), []).append(f)
        for (doc, page), fields in sorted(by_page.items()):
            seals = [s["box"] for s in truth["seals"]
                     if s["document"] == doc and s["page"] == page and s["box"]]
            jobs.append(PageJob(str(lab_dir / doc), page, truth["campaign"], fields, seals,
                                str(images)))
    return jobs[:max(pages, 1)]


def accuracy(sets: list[str], pages: int, seed: int, workers: int,
             read_dpis: list[int | None], whole_rapid: bool = True) -> None:
    """``read_dpis``: each page pass (``PageTask.read_dpi``) measured on the same pages."""
    rows = []
    # Generation runs its own process pool; pages are read in a fork server's workers.
    context = multiprocessing.get_context("forkserver")
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        for name in sets:
            degrade, colour = name.split("-")
            generated = _jobs(Path(tmp) / name, degrade, colour == "gray", pages, seed)
            for read_dpi in read_dpis:
                jobs = [replace(j, read_dpi=read_dpi, whole_rapid=whole_rapid)
                        for j in generated]
                totals = {e: Tally() for e in ENGINES}
                with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                    results = list(pool.map(measure_page, jobs))
                for tallies in results:
                    for e in ENGINES:
                        totals[e].merge(tallies[e])
                rows.append((degrade, colour, read_dpi, len(jobs), totals))
                print(f"{name} (read dpi {read_dpi or 'as rendered'}): {len(jobs)} pages done",
                      file=sys.stderr, flush=True)
    print(f"\n### Field reading, {pages} form pages per set (seed {seed})\n")
    print("| degrade | scan | read dpi | pages | engine | fields | exact | CER | "
          "under seal: fields | exact | CER | s/page |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for degrade, colour, read_dpi, n, totals in rows:
        for e in ENGINES:
            t = totals[e]
            if not t.fields:
                continue
            seal_cer = f"{t.seal_errors / t.seal_chars:.3f}" if t.seal_chars else "-"
            seal_exact = f"{t.seal_exact / t.seal_fields:.1%}" if t.seal_fields else "-"
            print(f"| {degrade} | {colour} | {read_dpi or '-'} | {n} | {e} | {t.fields} | "
                  f"{t.exact / max(1, t.fields):.2%} | {t.errors / max(1, t.chars):.4f} | "
                  f"{t.seal_fields} | {seal_exact} | {seal_cer} | "
                  f"{float(np.median(t.seconds)):.2f} |")


# Speed ---------------------------------------------------------------------------------------


def _tree_sample(proc: psutil.Process, cpu: dict[int, float]) -> int:
    """RSS of the process tree now; records each process's own CPU seconds so far in ``cpu``
    (by pid, the last sample standing for a process that has ended since)."""
    total = 0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for p in procs:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            total += p.memory_info().rss
            times = p.cpu_times()
            cpu[p.pid] = times.user + times.system
    return total


def run_measured(cmd: list[str], env: dict[str, str] | None = None,
                 cwd: Path | None = None) -> tuple[float, float, int, float]:
    """Wall seconds, peak RSS of the process tree in MB, the exit code, and the CPU seconds
    of the tree (sampled every 50 ms: a short-lived process's last moments are missed, alike
    for every command). CPU time compares commands on a machine other jobs share, where wall
    time does not."""
    started = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                        stderr=subprocess.PIPE)
    peak = 0
    cpu: dict[int, float] = {}
    while proc.poll() is None:
        peak = max(peak, _tree_sample(proc, cpu))
        time.sleep(0.05)
    seconds = time.perf_counter() - started
    if proc.returncode:
        err = proc.stderr.read().decode("utf-8", "replace") if proc.stderr else ""
        print(f"{cmd[0]} exited {proc.returncode}: {err[-400:]}", file=sys.stderr)
    return seconds, peak / 2**20, proc.returncode, sum(cpu.values())


def _dossier_pdf(out: Path, pages: int, seed: int, *, mixed: bool = False) -> tuple[Path, Path]:
    """An image-only PDF of ``pages`` scanned pages and the lab's record to review it against.

    One lab's dossier (volumes, opinions, the association's letter), its documents repeated
    as further bound copies until ``pages`` are reached; ``mixed``: volumes and opinions of
    several labs, all reviewed against the first lab's record (as before 2026-11-24: most of
    its fields then differ from the record, and each is re-read by the verifier).
    """
    import pypdfium2 as pdfium

    from samples.generate import generate_batch

    labs = max(1, math.ceil(pages / 12)) if mixed else 1
    manifest = generate_batch(out / "samples", labs=labs, seed=seed, degrade="light",
                              discrepancies=0, workers=2)
    names = ["volume-1.pdf", "opinion-1.pdf", "volume-2.pdf", "opinion-2.pdf"]
    files = [out / "samples" / lab["dir"] / name for lab in manifest["labs"] for name in names]
    if not mixed:
        files.append(out / "samples" / manifest["labs"][0]["dir"] / "letter.pdf")
    merged = pdfium.PdfDocument.new()
    while len(merged) < pages:
        for path in files:
            if len(merged) >= pages:
                break
            src = pdfium.PdfDocument(str(path))
            merged.import_pages(src, list(range(min(len(src), pages - len(merged)))))
        if mixed:
            break
    target = out / f"dossier-{pages}.pdf"
    merged.save(str(target))
    return target, out / "samples" / manifest["labs"][0]["dir"] / "record.json"


def speed(pages: int, seed: int, *, mixed: bool = False, rounds: int = 1,
          baseline: Path | None = None, ocrmypdf: bool = True) -> None:
    """Time the floor and the review ``rounds`` times, interleaved (the machine is shared: a
    ratio within one round is what compares); ``baseline``: another checkout of this tree whose
    review is timed in each round too (before/after a change, in one run)."""
    import pypdfium2 as pdfium

    with tempfile.TemporaryDirectory(prefix="bench-speed-") as tmp:
        out = Path(tmp)
        pdf, record = _dossier_pdf(out, pages, seed, mixed=mixed)
        n = len(pdfium.PdfDocument(str(pdf)))
        pngs = out / "png"
        pngs.mkdir()
        doc = pdfium.PdfDocument(str(pdf))
        for i in range(n):
            doc[i].render(scale=200 / 72).to_pil().convert("L").save(pngs / f"{i:03d}.png")
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        review = ["review", "--record", str(record), "--workers", "2", "--json", str(pdf)]
        commands: list[tuple[str, list[str], dict[str, str], Path | None]] = [
            ("tesseract psm 11 chi_sim, 2 processes (floor)",
             ["sh", "-c", f"ls {pngs}/*.png | xargs -P 2 -I{{}} "
              "tesseract {} stdout -l chi_sim --psm 11 > /dev/null"], env, None),
            ("dossier review --workers 2 (RapidOCR verifying)",
             [sys.executable, "-m", "intake.cli", *review], env, None),
        ]
        if baseline is not None:
            commands.append(("baseline: dossier review --workers 2",
                             [sys.executable, "-m", "intake.cli", *review],
                             {**env, "PYTHONPATH": str(baseline)}, baseline))
        rows: list[tuple[str, float, float, int, float]] = []
        for _ in range(rounds):
            for name, cmd, cmd_env, cwd in commands:
                rows.append((name, *run_measured(cmd, cmd_env, cwd)))
        if ocrmypdf and shutil.which("ocrmypdf"):
            rows.append(("ocrmypdf -l chi_sim --jobs 2 --optimize 0", *run_measured(
                ["ocrmypdf", "-l", "chi_sim", "--jobs", "2", "--optimize", "0",
                 "--output-type", "pdf", str(pdf), str(out / "ocrmypdf.pdf")], env)))
        elif ocrmypdf:
            print("ocrmypdf is not installed: its row is left out", file=sys.stderr)
    kind = "volumes and opinions of several labs, one lab's record" if mixed else "one lab"
    print(f"\n### Speed, {n}-page image-only dossier ({kind}; 200 dpi, light), 2 cores\n")
    print("| round | command | s/page | × floor | CPU s/page | CPU × floor | peak RSS MB | exit |")
    print("|---|---|---|---|---|---|---|---|")
    per_round = len(commands)
    for i, (name, seconds, rss, code, cpu) in enumerate(rows):
        r = min(i // per_round, rounds - 1)
        base, base_cpu = rows[r * per_round][1], rows[r * per_round][4]
        print(f"| {r + 1} | {name} | {seconds / n:.2f} | {seconds / base:.2f} | {cpu / n:.2f} | "
              f"{cpu / base_cpu:.2f} | {rss:.0f} | {code} |")
    if len(rows) > rounds * per_round:
        reviews = [rows[r * per_round + 1][1] for r in range(rounds)]
        print(f"\nreview / ocrmypdf time: {float(np.median(reviews)) / rows[-1][1]:.2f} "
              "(median review)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=32, help="form pages per set")
    parser.add_argument("--quick", action="store_true", help="4 pages per set, 10-page speed")
    parser.add_argument("--sets", default=",".join(SETS),
                        help=f"comma list of {', '.join(SETS)}")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--speed-pages", type=int, default=40)
    parser.add_argument("--no-speed", action="store_true")
    parser.add_argument("--no-accuracy", action="store_true")
    parser.add_argument("--mixed", action="store_true",
                        help="speed: pages of several labs against one record (the old dossier)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="speed: time the floor and the review this many times, interleaved")
    parser.add_argument("--baseline", type=Path,
                        help="speed: also time the review of the tree checked out here")
    parser.add_argument("--no-ocrmypdf", action="store_true", help="speed: leave ocrmypdf out")
    parser.add_argument("--read-dpi", default="0",
                        help="accuracy: comma list of page-pass dpis to compare (0: as rendered)")
    parser.add_argument("--no-rapid-page", action="store_true",
                        help="accuracy: leave out RapidOCR over the whole page")
    args = parser.parse_args()
    pages = 4 if args.quick else args.pages
    sets = [s for s in args.sets.split(",") if s]
    unknown = set(sets) - set(SETS)
    if unknown:
        parser.error(f"unknown sets: {', '.join(sorted(unknown))}")
    if not args.no_accuracy:
        accuracy(sets, pages, args.seed, args.workers,
                 [int(d) or None for d in args.read_dpi.split(",")],
                 whole_rapid=not args.no_rapid_page)
    if not args.no_speed:
        speed(10 if args.quick else args.speed_pages, args.seed, mixed=args.mixed,
              rounds=args.rounds, baseline=args.baseline, ocrmypdf=not args.no_ocrmypdf)


if __name__ == "__main__":
    main()
