"""The review pipeline: a flat list of stages over pages, then over the dossier.

Page stages (``read_page``) take a picklable ``PageTask`` and return a ``PageResult``, so pages
run in a process pool here and on other machines later. Dossier stages (verification, checks,
verdict) run once all pages are read.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from multiprocessing import forkserver
from pathlib import Path

import cv2
import numpy as np
from rapidfuzz import fuzz

from intake import layout, load, prepare, quality
from intake.checks import certificates, licence, run_checks
from intake.checks.field_match import LONE_READING_CONF
from intake.checks.letter import distinctive_name
from intake.dossier import PageResult
from intake.errors import InputError, IntakeError, NotPrintoutError
from intake.extract import (
    Opinion,
    approval_opinion,
    classify,
    footer_numbers,
    labelled_values,
    split_opinion,
)
from intake.fields import all_labels, format_value, printed_fields, record_value
from intake.model import (
    Box,
    Document,
    Field,
    Line,
    Location,
    Page,
    PageKind,
    Reading,
    Report,
    Seal,
    TextSource,
    Word,
)
from intake.normalize import canonical, canonical_text, clean_ocr_text, parse_date
from intake.ocr import textlayer
from intake.page_image import page_ink
from intake.placement import place_seals
from intake.record import Record
from intake.seals import detect_seals
from intake.verdict import verdict_of


@dataclass(frozen=True)
class Verifier:
    """The precise engine, for the few regions that must be read right: one text line, or a
    block of lines. Confidences are 0..100."""

    name: str
    read_line: Callable[[np.ndarray], tuple[str, float]]
    read_block: Callable[[np.ndarray], list[Line]]
    # A seal read along its ring (text, score 0..1) and fitted to the organisations it may be.
    read_seal: Callable[[np.ndarray, Seal, tuple[str, ...]], Seal] | None = None
    # The page engine's reading of one cell as a block: a second opinion where the precise
    # engine reads a field otherwise than the record and the page pass read nothing usable.
    read_cell: Callable[[np.ndarray], tuple[str, float]] | None = None


@dataclass(frozen=True)
class PageTask:
    """Everything one page needs, picklable: a worker anywhere can run it."""

    path: str
    kind: str  # DocumentKind value
    document: str
    number: int
    campaign: str
    dpi: int | None = None
    lang: str = "chi_sim"
    psm: int = 11
    timeout: float = 120.0
    max_pixels: int = 120_000_000
    image_dir: str | None = None  # keep the upright page image here, for evidence
    # Tesseract reads the page scaled down to this (None: as rendered). At 150 dpi it reads
    # fields as well as at 200 and costs less (bench/RESULTS.md, "OCR engines").
    read_dpi: int | None = 150


def read_page(task: PageTask) -> PageResult:
    """Render, straighten, find seals and rules, read text, and pick out the fields."""
    started = time.perf_counter()
    kind = load.DocumentKind(task.kind)
    bgr, dpi = load.render_page(Path(task.path), kind, task.number, dpi=task.dpi,
                                max_pixels=task.max_pixels)
    layer = textlayer.page_words(Path(task.path), task.number, dpi) if kind == "pdf" else None
    scan = None if layer is not None else quality.measure_page(bgr, dpi, Path(task.path), kind,
                                                               task.number)
    if layer is None:
        # Whether the page is upside down is settled by the page read itself (one tesseract
        # run per upright page instead of two).
        prepared = prepare.prepare(bgr, timeout=task.timeout, defer_flip=True)
        prepared, lines = prepare.read_upright(
            prepared, lang=task.lang, psm=task.psm, timeout=task.timeout,
            scale=min(1.0, task.read_dpi / dpi) if task.read_dpi else 1.0)
        bgr = prepare.upright(bgr, prepared.rotation, prepared.skew)
        grid = layout.find_grid(prepared.layout, dpi)
        rotation, skew, source = prepared.rotation, prepared.skew, TextSource.TESSERACT
        gray = prepared.layout
        ink_gray = prepared.gray  # ruled lines erased: blur thins them out on one copy only
    else:
        # The text layer is in the page's own frame: nothing to turn or straighten.
        gray = np.asarray(prepare.remove_red_ink(bgr) if prepare.is_color(bgr) else cv2.cvtColor(
            bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
        grid = layout.find_grid(gray, dpi)
        lines, rotation, skew, source = layer, 0, 0.0, TextSource.TEXT_LAYER
        ink_gray = gray
    cells, outside = layout.fill_cells(grid.cells, lines)
    footer = footer_numbers(outside)
    page_class = classify("\n".join(ln.text for ln in outside), cells, footer)
    page_kind = page_class.kind
    height, width = gray.shape
    seals = place_seals(detect_seals(bgr, dpi), lines, dpi, (width, height))
    image_path = None
    if task.image_dir:
        image_path = str(Path(task.image_dir) / f"{_slug(task.document)}-p{task.number}.jpg")
        cv2.imwrite(image_path, bgr, [cv2.IMWRITE_JPEG_QUALITY, 90])
    page = Page(
        document=task.document, number=task.number, width=width, height=height, dpi=dpi,
        rotation=rotation, skew=skew, text_source=source, kind=page_kind,
        kind_confidence=page_class.confidence, kind_detail=page_class.detail, lines=tuple(outside),
        cells=cells, seals=tuple(seals), footer=footer,
        quality=scan, seconds=time.perf_counter() - started,
    )
    fields = tuple(
        Field(
            key=lv.spec.key, label=lv.spec.label, text=clean_ocr_text(lv.value.text),
            location=Location(task.document, task.number, lv.value.box),
            readings=(Reading(clean_ocr_text(lv.value.text), lv.value.conf, source.value),),
        )
        for lv in labelled_values(cells, printed_fields(task.campaign))
    ) if page_kind is PageKind.FORM else ()
    opinion = approval_opinion(cells) if page_kind is PageKind.APPROVAL else None
    if opinion is not None and source is TextSource.TESSERACT:
        words = [w for ln in lines for w in ln.words]
        opinion = replace(opinion, whole=read_whole(ink_gray, opinion.box, words, dpi))
    # Only the pages the two bound copies are compared on carry their ink (rule copies.same).
    ink = page_ink(ink_gray, dpi) if page_kind in (PageKind.FORM, PageKind.APPROVAL) else None
    return PageResult(page, fields, opinion, image_path, ink=ink)


# A word read with less confidence may be missing a character.
SURE_CONF = 60.0
# A character is about as wide as it is tall: a word much wider than its characters holds one
# the engine dropped (the 不 of 不同意 read as 同意).
_CHAR_WIDTH = 1.6


def read_whole(gray: np.ndarray, box: Box, words: Sequence[Word], dpi: int) -> bool:
    """Whether the page pass read every mark in a cell: each word read with confidence, none
    wider than its characters, and no ink outside the words. A character the engine dropped
    breaks one of these, so a reading that passes them can stand without a second engine."""
    inside = [w for w in words if box.contains_point(*w.box.center)]
    if not inside:
        return False
    size = float(np.median([w.box.h for w in inside]))
    if any(w.conf < SURE_CONF and any(ch.isalnum() for ch in w.text) for w in inside):
        return False
    if any(w.box.w > _CHAR_WIDTH * size * max(1, len(w.text)) for w in inside):
        return False
    inset = _cell_inset(dpi)
    x0, y0 = box.x + inset, box.y + inset
    ink = np.asarray(gray[y0:box.y2 - inset, x0:box.x2 - inset] < 128, dtype=np.uint8)
    margin = max(2, round(size / 6))
    for w in inside:
        ink[max(0, w.box.y - y0 - margin):max(0, w.box.y2 - y0 + margin),
            max(0, w.box.x - x0 - margin):max(0, w.box.x2 - x0 + margin)] = 0
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    # Specks and the ends of strokes poking out of a box are smaller than any character.
    return not bool((stats[1:, cv2.CC_STAT_AREA] >= size * size / 16).any())


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


def start_workers() -> multiprocessing.context.BaseContext:
    """Start the server page workers are forked from, if it is not running yet, and return
    its context. It imports the pipeline on its own: called early (before the verifier's
    models load), that import is done by the time the first pages are handed out."""
    # Never fork this process: it may hold threads (an OCR engine's, a web server's) whose
    # locks a forked child would inherit locked. The fork server is started once, clean, with
    # the pipeline already imported, so each worker starts in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["intake.pipeline"])
    forkserver.ensure_running()
    return context


def read_pages(tasks: Sequence[PageTask], workers: int) -> Iterator[PageResult]:
    """Read pages in ``workers`` processes, yielding results in task order."""
    if workers <= 1 or len(tasks) <= 1:
        _init_worker()
        yield from (_safe_read_page(t) for t in tasks)
        return
    context = start_workers()
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_init_worker) as pool:
        yield from pool.map(_safe_read_page, tasks, chunksize=1)


# Dossier stages ----------------------------------------------------------------------------


def assign_copies(results: list[PageResult]) -> list[PageResult]:
    """Number the bound copies: a form page whose number the current copy already holds, or
    a cover (page 1) after other pages, opens the next copy (likewise for approval pages).

    Copies are told apart by the pages' own numbering, not by file names, so a copy with a
    page missing still counts as one copy, one PDF may hold every copy, and pages scanned out
    of order (1, 2, 4, 3, 5) stay in their copy.
    """
    seen: dict[PageKind, set[int]] = {}
    copy: dict[PageKind, int] = {}
    out: list[PageResult] = []
    for result in results:
        page = result.page
        number = 1
        if page.kind in (PageKind.FORM, PageKind.APPROVAL) and page.footer is not None:
            n = page.footer[0]
            held = seen.get(page.kind)
            if held is None or n in held or (n == 1 and held):
                copy[page.kind] = copy.get(page.kind, 0) + 1
                held = seen[page.kind] = set()
            held.add(n)
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


def verify(
    results: list[PageResult], record: Record, verifier: Verifier | None
) -> list[PageResult]:
    """Read again, with the precise engine, what the rules judge and the fast pass got wrong
    or could not get: every field that did not verify (from its cell crop), the opinion, the
    association's letter, a certificate copy the page pass does not show the record's
    certificate on, and the name on every seal of the pages that need one.

    A field keeps every reading, so a rule can tell a mismatch both engines agree on from one
    they disagree about. Scanned pages only: a text layer is already exact.
    """
    if verifier is None:
        return results
    check = page_verifier(record, verifier)
    return [check(result) for result in results]


def page_verifier(record: Record, verifier: Verifier) -> Callable[[PageResult], PageResult]:
    """``verify`` for one page at a time, so that a page is verified as soon as it is read."""
    specs = {s.key: s for s in all_labels(record.campaign).values()}
    expected = expected_values(record)
    # The bodies whose seals the dossier must carry: a seal's ring is compared with each.
    owners = tuple(dict.fromkeys(str(record_value(record.data, f"identity.{key}") or "") for key in
                                 ("legal_entity", "recommending_unit", "association")))

    def key_of(key: str, text: str) -> str | None:
        spec = specs[key]
        return canonical(spec.kind, text, spec.places)

    def agrees(key: str, text: str) -> bool:
        return key not in expected or key_of(key, text) == key_of(key, expected[key])

    def verified(f: Field) -> bool:
        return agrees(f.key, f.text)

    def alone(f: Field) -> bool:
        """The precise engine's reading of the field stands alone against the record: the
        page pass's, unsure, reads neither the record's value nor the precise one."""
        if len(f.readings) != 2 or f.readings[0].conf >= LONE_READING_CONF:
            return False
        fast, precise = (key_of(f.key, r.text) for r in f.readings)
        return not agrees(f.key, f.readings[1].text) and fast != precise

    recorded = _RecordedOpinion.of(record)
    lab = canonical_text(record.lab_name)

    def check(result: PageResult) -> PageResult:
        page = result.page
        todo = [f for f in result.fields if not verified(f)]
        confirmed = recorded.confirmed(result.opinion) if result.opinion else None
        if confirmed is not None:
            result = replace(result, opinion=confirmed)
        opinion = result.opinion is not None and confirmed is None
        # The letter's rule asks only whether the lab is named: named whole, it is.
        letter = page.kind is PageKind.LETTER and not _names_whole(page, lab)
        wanted = (todo or opinion or letter
                  or (page.kind is PageKind.CERTIFICATE
                      and not (certificates.settled(result, record)
                               and licence.settled(result, record)))
                  or (page.seals and verifier.read_seal is not None
                      and page.kind in (PageKind.FORM, PageKind.APPROVAL, PageKind.LETTER)))
        page_image = cv2.imread(result.image) if result.image and wanted else None
        if page_image is None or page.text_source is TextSource.TEXT_LAYER:
            return result
        reread = _reread(result, todo, page_image, verifier, tuple(o for o in owners if o),
                         opinion=opinion, letter=lab if letter else "")
        return _second_opinion(reread, [f for f in reread.fields if alone(f)], page_image,
                               verifier)

    return check


# What may follow the opinion sentence in its cell: the signature line, cut or whole.
_SIGNATURE_MARKS = frozenset("推荐主管单位盖章（）()〈〉<>:： ")


@dataclass(frozen=True)
class _RecordedOpinion:
    """The recommending unit's opinion and its date as the online record holds them."""

    text: str
    day: date | None

    @classmethod
    def of(cls, record: Record) -> _RecordedOpinion:
        text = record_value(record.data, "opinions.recommending_unit.text")
        day = record_value(record.data, "opinions.recommending_unit.date")
        try:
            parsed = date.fromisoformat(str(day)) if day else None
        except ValueError:
            parsed = None
        return cls(canonical_text(str(text or "")), parsed)

    def confirmed(self, opinion: Opinion) -> Opinion | None:
        """The page pass's opinion cut to its sentence, when it read the record's sentence and
        date, every mark of the cell seen (``Opinion.whole``), and nothing after the sentence
        but the signature line (often cut, as 推荐单位〈); else None."""
        if not (opinion.whole and self.text and self.day
                and parse_date(opinion.date_text) == self.day):
            return None
        text = opinion.text
        # The longest start that reads as the record's sentence keeps its full stop.
        end = next((i for i in range(len(text), 0, -1)
                    if canonical_text(text[:i]) == self.text), None)
        if end is None or not set(text[end:]) <= _SIGNATURE_MARKS:
            return None
        return replace(opinion, text=text[:end])


def _reread(result: PageResult, todo: list[Field], image: np.ndarray,
            verifier: Verifier, owners: tuple[str, ...] = (), *, opinion: bool = True,
            letter: str = "") -> PageResult:
    """``letter``: the lab's canonical name, when the letter's page pass does not hold it."""
    page = result.page
    fields = []
    for f in result.fields:
        if f in todo and f.location.box is not None:
            text, conf = verifier.read_line(_cell_crop(image, f.location.box, page.dpi))
            reading = Reading(clean_ocr_text(text), conf, f"{verifier.name}:cell")
            fields.append(replace(f, readings=(*f.readings, reading)))
        else:
            fields.append(f)
    written = result.opinion
    if written is not None and opinion:
        lines = verifier.read_block(_cell_crop(image, written.box, page.dpi))
        reread = split_opinion(_block_text(lines), written.box)
        if reread.text:
            written = reread
    if page.kind is PageKind.LETTER and letter:
        page = (_reread_lab_cells(page, image, verifier, letter)
                or replace(page, lines=_reread_letter(page, image, verifier)))
    if page.kind is PageKind.CERTIFICATE:
        # The validity date is printed under the issuing body's seal: read with the seal out.
        page = replace(page, reread=tuple(verifier.read_block(_without_seals(image))))
    # A certificate's seals are the issuing body's and the copy's own: no rule reads their rings.
    if verifier.read_seal is not None and page.seals and page.kind is not PageKind.CERTIFICATE:
        read_seal = verifier.read_seal
        page = replace(page, seals=tuple(read_seal(image, s, owners) for s in page.seals))
    return replace(result, page=page, fields=tuple(fields), opinion=written)


def _second_opinion(result: PageResult, alone: list[Field], image: np.ndarray,
                    verifier: Verifier) -> PageResult:
    """The page engine reads again, seal out, the cells of fields the precise engine alone
    reads otherwise than the record: under a seal the page pass may read a name as "Di ru",
    and the precise engine, sure of a misread character, would fail the field on its own.
    The reading goes before the precise engine's, which stays the last word."""
    read_cell = verifier.read_cell
    if read_cell is None or not alone:
        return result

    def seconded(f: Field) -> Field:
        if f not in alone or f.location.box is None:
            return f
        text, conf = read_cell(_cell_crop(image, f.location.box, result.page.dpi))
        second = Reading(clean_ocr_text(text), conf, "tesseract:cell")
        return replace(f, readings=(f.readings[0], second, f.readings[1]))

    return replace(result, fields=tuple(seconded(f) for f in result.fields))


# How near a letter's cell, as the page pass read it, comes to the lab's distinctive name for
# the cell alone to be read again: on light and heavy scans the lab's row scored 100 (its name
# cut by the cell's wrap, not misread), every other cell 67 at most (the lab's legal entity,
# named for the same trade). One character misread in a six-character name still scores 83.
LAB_CELL_SCORE = 70.0


def _reread_lab_cells(page: Page, image: np.ndarray, verifier: Verifier,
                      lab: str) -> Page | None:
    """The letter with only the cells that may name the lab read again, when that reading
    names the lab whole; else None, for the whole table to be read again (a letter that does
    not name the lab finds no such cell, and costs and fails as before)."""
    name = distinctive_name(lab)
    near = [c for c in page.cells
            if fuzz.partial_ratio(name, canonical_text(c.text)) >= LAB_CELL_SCORE]
    if not near:
        return None
    read = {c: _read_cell_block(image, c.box, page.dpi, verifier) for c in near}
    kept = tuple(ln for ln in page.lines
                 if not any(c.box.contains_point(*ln.box.center) for c in near))
    cells = tuple(replace(c, text=_block_text(read[c])) if c in read else c for c in page.cells)
    page = replace(page, lines=(*kept, *(ln for lines in read.values() for ln in lines)),
                   cells=cells)
    return page if _names_whole(page, lab) else None


def _names_whole(page: Page, lab: str) -> bool:
    """Whether the page's text or its cells hold ``lab`` (canonical) whole."""
    return lab in canonical_text("\n".join([page.text, *(c.text for c in page.cells)]))


def _read_cell_block(image: np.ndarray, box: Box, dpi: int,
                     verifier: Verifier) -> list[Line]:
    """The lines of a cell read again, boxed in the page's pixels."""
    inset = _cell_inset(dpi)
    return [_moved(ln, inset + box.y, inset + box.x)
            for ln in verifier.read_block(_cell_crop(image, box, dpi))]


def _reread_letter(page: Page, image: np.ndarray, verifier: Verifier) -> tuple[Line, ...]:
    """A letter's table wraps long names over two lines in narrow cells: the page from its
    table down is read whole (the labs are named there); the lines above the table, its title
    and body, keep the page pass's reading. A page without a table is read whole."""
    if not page.cells:
        return tuple(verifier.read_block(image))
    top = max(0, min(c.box.y for c in page.cells) - max(2, round(page.dpi * 2 / 25.4)))
    above = tuple(ln for ln in page.lines if ln.box.y2 <= top)
    below = verifier.read_block(image[top:])
    return (*above, *(_moved(ln, top) for ln in below))


def _moved(line: Line, dy: int, dx: int = 0) -> Line:
    def shifted(box: Box) -> Box:
        return replace(box, x=box.x + dx, y=box.y + dy)

    return replace(line, box=shifted(line.box),
                   words=tuple(replace(w, box=shifted(w.box)) for w in line.words))


def _block_text(lines: list[Line]) -> str:
    """Lines of a block, top to bottom and left to right, one per text line."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: ln.box.center[1]):
        if rows and abs(line.box.center[1] - rows[-1][0].box.center[1]) < line.box.h / 2:
            rows[-1].append(line)
        else:
            rows.append([line])
    return "\n".join("".join(ln.text for ln in sorted(r, key=lambda ln: ln.box.x)) for r in rows)


def _cell_crop(image: np.ndarray, box: Box, dpi: int) -> np.ndarray:
    """The inside of a cell, clear of its rules."""
    inset = _cell_inset(dpi)
    x0, y0 = box.x + inset, box.y + inset
    x1, y1 = box.x2 - inset, box.y2 - inset
    return _without_seals(image[y0:y1, x0:x1])


def _cell_inset(dpi: int) -> int:
    """How far inside a cell's box its rules end."""
    return max(2, round(dpi * 0.6 / 25.4))


def _without_seals(image: np.ndarray) -> np.ndarray:
    """The image with the seals' ink taken out and the print under it kept: red by its colour,
    gray by its lighter ink."""
    if prepare.is_color(image):
        return prepare.remove_red_ink(image)
    if not prepare.is_gray(image):
        return image
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    return prepare.drop_gray_seals(np.asarray(gray, dtype=np.uint8))


# The whole path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewOptions:
    campaign_dpi: int | None = None
    lang: str = "chi_sim"
    psm: int = 11
    workers: int = 1
    timeout: float = 120.0
    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 120_000_000
    image_dir: Path | None = None


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
    verifier: Verifier | None = None,
    progress: Callable[[PageResult], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
    online: Path | None = None,
) -> tuple[Report, list[PageResult]]:
    """Review one lab's dossier: every file given, against the lab's online record.

    ``progress`` hears of each page as it is read; ``on_stage`` of each stage after the pages
    (``verify``, ``checks``). ``online`` is the online system's own PDF of the form, compared
    with the paper page by page when given.
    """
    started = time.perf_counter()
    documents = open_documents(paths, options)
    tasks = [
        PageTask(path=str(path), kind=doc.kind.value, document=doc.name, number=n,
                 campaign=record.campaign, dpi=options.campaign_dpi,
                 lang=options.lang, psm=options.psm, timeout=options.timeout,
                 max_pixels=options.max_pixels,
                 image_dir=str(options.image_dir) if options.image_dir else None)
        for path, doc in zip(paths, documents, strict=True)
        for n in range(1, doc.page_count + 1)
    ]
    check = page_verifier(record, verifier) if verifier is not None else None
    results = []
    for result in read_pages(tasks, options.workers):
        if progress:
            progress(result)
        # Verified here while the workers read the next pages: not all after the last one.
        results.append(check(result) if check else result)
    printout = read_online(online, record, options) if online is not None else None
    return finish_review(results, record, documents, verifier, started, on_stage=on_stage,
                         online=printout, verified=True)


def open_online(path: Path, options: ReviewOptions) -> Document:
    """The online system's printout, checked: a PDF whose pages carry the system's own text
    (a scan or a photo of the printout is refused: it would only compare OCR with OCR)."""
    (doc,) = open_documents([path], options)
    if doc.kind is not load.DocumentKind.PDF:
        raise NotPrintoutError(f"{doc.name} is not a PDF: the online system's printout is "
                               "the PDF the system produces; send that file", subject=doc.name)
    if textlayer.page_words(path, 1, 72) is None:
        raise NotPrintoutError(f"{doc.name} has no text layer on its first page: it looks like "
                               "a scan, not the online system's own PDF; download the PDF from "
                               "the online system and send that", subject=doc.name)
    return doc


def read_online(path: Path, record: Record, options: ReviewOptions) -> list[PageResult]:
    """The pages of the online system's printout, read from its text layer."""
    doc = open_online(path, options)
    tasks = [PageTask(path=str(path), kind=doc.kind.value, document=doc.name, number=n,
                      campaign=record.campaign, dpi=options.campaign_dpi,
                      timeout=options.timeout, max_pixels=options.max_pixels)
             for n in range(1, doc.page_count + 1)]
    return list(read_pages(tasks, options.workers))


def finish_review(
    results: list[PageResult],
    record: Record,
    documents: Sequence[Document],
    verifier: Verifier | None,
    started: float,
    on_stage: Callable[[str], None] | None = None,
    online: list[PageResult] | None = None,
    verified: bool = False,
) -> tuple[Report, list[PageResult]]:
    """The dossier stages once every page is read (``results`` in document and page order),
    wherever the pages were read: copies, verification, checks, the report. ``started`` is
    the ``time.perf_counter()`` the review began at; ``verified``: each page went through
    ``page_verifier`` already, as ``review`` does while the pages are read."""
    results = assign_copies(results)
    if on_stage:
        on_stage("verify")
    if not verified:
        results = verify(results, record, verifier)
    if on_stage:
        on_stage("checks")
    findings = run_checks(results, record, online)
    report = Report(
        lab_id=record.lab_id, lab_name=record.lab_name, campaign=record.campaign,
        verdict=verdict_of(findings), findings=tuple(findings), documents=tuple(documents),
        pages=tuple(r.page for r in results), record_sha256=record.sha256,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        seconds=round(time.perf_counter() - started, 2),
    )
    return report, results
