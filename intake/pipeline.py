"""The review pipeline: a flat list of stages over pages, then over the dossier.

Page stages (``read_page``) take a picklable ``PageTask`` and return a ``PageResult``, so pages
run in a process pool here and on other machines later. Dossier stages (verification, checks,
verdict) run once all pages are read.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from intake import layout, load, prepare
from intake.checks import run_checks
from intake.errors import InputError, IntakeError
from intake.dossier import PageResult
from intake.extract import approval_opinion, classify, footer_numbers, labelled_values
from intake.fields import all_labels, format_value, record_value
from intake.model import (
    Box,
    Document,
    Field,
    Location,
    Page,
    PageKind,
    Reading,
    Report,
    TextSource,
)
from intake.normalize import canonical, clean_ocr_text
from intake.ocr import tesseract, textlayer
from intake.record import Record
from intake.seals import detect_seals
from intake.verdict import verdict_of

ReadCrop = Callable[[np.ndarray], tuple[str, float]]


@dataclass(frozen=True)
class PageTask:
    """Everything one page needs, picklable: a worker anywhere can run it."""

    path: str
    kind: str  # DocumentKind value
    document: str
    number: int
    campaign: str
    expected: dict[str, str]  # field key -> record value as printed, to know what to re-read
    dpi: int | None = None
    lang: str = "chi_sim"
    timeout: float = 120.0
    max_pixels: int = 120_000_000
    image_dir: str | None = None  # keep the upright page image here, for evidence


def _upright(bgr: np.ndarray) -> tuple[np.ndarray, int, float]:
    """Turn the page upright and straight: (image, rotation applied, skew corrected)."""
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    _, rotation = prepare.orient(gray)
    if rotation:
        code = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180,
                270: cv2.ROTATE_90_COUNTERCLOCKWISE}[rotation]
        bgr = cv2.rotate(bgr, code)
        gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    _, angle = prepare.deskew(gray)
    if abs(angle) > 0.05:
        bgr = prepare.rotate_bound(bgr, angle)
    return bgr, rotation, angle


def read_page(task: PageTask) -> PageResult:
    """Render, straighten, find seals and rules, read text, and pick out the fields."""
    started = time.perf_counter()
    kind = load.DocumentKind(task.kind)
    bgr, dpi = load.render_page(Path(task.path), kind, task.number, dpi=task.dpi,
                                max_pixels=task.max_pixels)
    layer = textlayer.page_words(Path(task.path), task.number, dpi) if kind == "pdf" else None
    rotation, skew = 0, 0.0
    if layer is None:
        bgr, rotation, skew = _upright(bgr)
    seals = detect_seals(bgr, dpi)
    gray = prepare.remove_red_ink(bgr) if prepare.is_color(bgr) else cv2.cvtColor(
        bgr, cv2.COLOR_BGR2GRAY)
    grid = layout.find_grid(gray, dpi)
    if layer is not None:
        lines, source = layer, TextSource.TEXT_LAYER
    else:
        lines = tesseract.ocr_lines(layout.erase_rules(gray, grid.rules), lang=task.lang,
                                    timeout=task.timeout)
        source = TextSource.TESSERACT
    cells, outside = layout.fill_cells(grid.cells, lines)
    footer = footer_numbers(outside)
    page_kind = classify("\n".join(ln.text for ln in outside), cells, footer)
    height, width = gray.shape
    image_path = None
    if task.image_dir:
        image_path = str(Path(task.image_dir) / f"{_slug(task.document)}-p{task.number}.jpg")
        cv2.imwrite(image_path, bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    page = Page(
        document=task.document, number=task.number, width=width, height=height, dpi=dpi,
        rotation=rotation, skew=skew, text_source=source, kind=page_kind, lines=tuple(outside),
        cells=cells, seals=tuple(seals), footer=footer,
        seconds=time.perf_counter() - started,
    )
    fields = tuple(
        Field(
            key=lv.spec.key, label=lv.spec.label, text=clean_ocr_text(lv.value.text),
            location=Location(task.document, task.number, lv.value.box),
            readings=(Reading(clean_ocr_text(lv.value.text), lv.value.conf, source.value),),
        )
        for lv in labelled_values(cells, all_labels(task.campaign))
    ) if page_kind is PageKind.FORM else ()
    opinion = approval_opinion(cells) if page_kind is PageKind.APPROVAL else None
    return PageResult(page, fields, opinion, image_path)


def _slug(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:12]


def _safe_read_page(task: PageTask) -> PageResult:
    """A page that cannot be read becomes a result with its error, not a lost dossier."""
    try:
        return read_page(task)
    except IntakeError as exc:
        return PageResult(Page(task.document, task.number, 0, 0, 0), error=exc.message)


def _init_worker() -> None:
    # Pages already run one per core; tesseract's and onnxruntime's own threads only contend.
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    cv2.setNumThreads(1)


def read_pages(tasks: Sequence[PageTask], workers: int) -> Iterator[PageResult]:
    """Read pages in ``workers`` processes, yielding results in task order."""
    if workers <= 1 or len(tasks) <= 1:
        _init_worker()
        yield from (_safe_read_page(t) for t in tasks)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_init_worker) as pool:
        yield from pool.map(_safe_read_page, tasks, chunksize=1)


# Dossier stages ----------------------------------------------------------------------------


def assign_copies(results: list[PageResult]) -> list[PageResult]:
    """Number the bound copies: a form page numbered no higher than the one before it opens
    the next copy (likewise for approval pages).

    Copies are told apart by the pages' own numbering, not by file names, so a copy with a
    page missing still counts as one copy.
    """
    previous: dict[PageKind, int] = {}
    copy: dict[PageKind, int] = {}
    out: list[PageResult] = []
    for result in results:
        page = result.page
        number = 1
        if page.kind in (PageKind.FORM, PageKind.APPROVAL) and page.footer is not None:
            n = page.footer[0]
            if page.kind not in copy or n <= previous[page.kind]:
                copy[page.kind] = copy.get(page.kind, 0) + 1
            previous[page.kind] = n
            number = copy[page.kind]
        elif page.kind in copy:
            number = copy[page.kind]
        fields = tuple(replace(f, copy=number) for f in result.fields)
        out.append(replace(result, fields=fields, copy=number))
    return out


def expected_values(record: Record) -> dict[str, str]:
    """The record's value of every catalogue field, as the online system prints it."""
    values = {}
    for spec in all_labels(record.campaign).values():
        value = record_value(record.data, spec.key)
        if value is not None:
            values[spec.key] = format_value(spec, value)
    return values


def verify_fields(
    results: list[PageResult], record: Record, read_crop: ReadCrop | None
) -> list[PageResult]:
    """Re-read, from its cell crop and with the precise engine, every field that did not verify.

    The field keeps every reading, so a check can tell a mismatch both engines agree on from
    one they disagree about.
    """
    if read_crop is None:
        return results
    specs = {s.key: s for s in all_labels(record.campaign).values()}
    expected = expected_values(record)
    out = []
    for result in results:
        if result.image is None or not result.fields:
            out.append(result)
            continue
        todo = [f for f in result.fields if f.key in expected and result.page.text_source
                is not TextSource.TEXT_LAYER and canonical(specs[f.key].kind, f.text,
                specs[f.key].places) != canonical(specs[f.key].kind, expected[f.key],
                specs[f.key].places)]
        if not todo:
            out.append(result)
            continue
        page_image = cv2.imread(result.image)
        fields = []
        for f in result.fields:
            if f in todo and f.location.box is not None:
                crop = _cell_crop(page_image, f.location.box, result.page.dpi)
                text, conf = read_crop(crop)
                reading = Reading(clean_ocr_text(text), conf, "rapidocr:cell")
                f = replace(f, readings=(*f.readings, reading))
            fields.append(f)
        out.append(replace(result, fields=tuple(fields)))
    return out


def _cell_crop(image: np.ndarray, box: Box, dpi: int) -> np.ndarray:
    """The inside of a cell, clear of its rules."""
    inset = max(2, round(dpi * 0.6 / 25.4))
    x0, y0 = box.x + inset, box.y + inset
    x1, y1 = box.x2 - inset, box.y2 - inset
    crop = image[y0:y1, x0:x1]
    return prepare.remove_red_ink(crop) if prepare.is_color(crop) else crop


# The whole path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOptions:
    campaign_dpi: int | None = None
    lang: str = "chi_sim"
    workers: int = 1
    timeout: float = 120.0
    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 120_000_000
    image_dir: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def open_documents(paths: Sequence[Path], options: ReviewOptions) -> list[Document]:
    """Validate every file before any work starts, so bad input fails fast and whole."""
    if not paths:
        raise InputError("no files given: name the scanned dossier's files")
    documents = []
    names: set[str] = set()
    for path in paths:
        doc = load.open_document(path, max_bytes=options.max_bytes, max_pages=options.max_pages,
                                 max_pixels=options.max_pixels)
        if doc.name in names:
            doc = replace(doc, name=str(path))
        names.add(doc.name)
        documents.append(doc)
    return documents


def review(
    paths: Sequence[Path],
    record: Record,
    options: ReviewOptions,
    read_crop: ReadCrop | None = None,
    progress: Callable[[PageResult], None] | None = None,
) -> tuple[Report, list[PageResult]]:
    """Review one lab's dossier: every file given, against the lab's online record."""
    started = time.perf_counter()
    documents = open_documents(paths, options)
    expected = expected_values(record)
    tasks = [
        PageTask(path=str(path), kind=doc.kind.value, document=doc.name, number=n,
                 campaign=record.campaign, expected=expected, dpi=options.campaign_dpi,
                 lang=options.lang, timeout=options.timeout, max_pixels=options.max_pixels,
                 image_dir=str(options.image_dir) if options.image_dir else None)
        for path, doc in zip(paths, documents, strict=True)
        for n in range(1, doc.page_count + 1)
    ]
    results = []
    for result in read_pages(tasks, options.workers):
        results.append(result)
        if progress:
            progress(result)
    results = assign_copies(results)
    results = verify_fields(results, record, read_crop)
    findings = run_checks(results, record)
    report = Report(
        lab_id=record.lab_id, lab_name=record.lab_name, campaign=record.campaign,
        verdict=verdict_of(findings), findings=tuple(findings), documents=tuple(documents),
        pages=tuple(r.page for r in results), record_sha256=record.sha256,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 2),
    )
    return report, results
