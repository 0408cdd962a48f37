"""Generate a batch of sample dossiers: records, printed and scanned volumes, opinions, the
associations' letters, and the truth that says where everything is.

Same arguments, same bytes: every random choice comes from a stream seeded by the batch seed
and the lab's (or the letter's) position, and every writer is deterministic.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import random
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from intake import fields
from samples import attachments, fonts, layout, scan, seals
from samples import record as online
from samples.discrepancies import PRINTOUT_KINDS, Cycler, PaperPlan, parse_kinds, plan_lab
from samples.layout import MM, PageSpec, SealSpot
from samples.pdf import Overlay, image_pdf, vector_pdf

GENERATOR = "dossier-intake samples 1"
LAB_FILES = ("record.json", "volume-1.pdf", "volume-2.pdf", "opinion-1.pdf", "opinion-2.pdf",
             "letter.pdf", "truth.json", "online.pdf")
# The online system's own printout of the form, beside the scans when asked for: not a file
# of the dossier, so it is not in the manifest's list of files.
ONLINE_FILE = "online.pdf"


@dataclass(frozen=True)
class Settings:
    labs: int
    seed: int
    degrade: str
    gray: bool
    discrepancies: int
    kinds: tuple[str, ...] | None
    dpi: int
    campaign: str
    text_layer: bool
    online: bool = False


def generate_batch(
    out: Path,
    *,
    labs: int,
    seed: int,
    degrade: str = "light",
    gray: bool = False,
    discrepancies: int = 0,
    kinds: Sequence[str] | None = None,
    dpi: int = 200,
    campaign: str = "2021",
    text_layer: bool = False,
    workers: int | None = None,
    online: bool | None = None,
    seal_shapes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Write ``labs`` dossiers under ``out`` (one folder per lab id) and ``out/manifest.json``.

    ``discrepancies=K`` gives every other lab (the 2nd, 4th, ...) K discrepancies of ``kinds``
    (None: field_mismatch only, cycling through field kinds and fields; ["all"]: every kind);
    the rest are clean. ``online`` writes the online system's printout of the form as
    ``online.pdf`` beside each dossier (None: when a printout kind is asked for).
    ``seal_shapes`` sets the legal entities' seal shapes, lab by lab, in turn (["round", "oval",
    "square"]: the 1st, 4th, ... lab's seal is round, the 2nd's oval, ...); None draws them
    (mostly round). Returns the manifest.
    """
    _check_arguments(labs, degrade, dpi, discrepancies, campaign, seal_shapes)
    wanted = parse_kinds(kinds)
    if online is None:
        online = bool(discrepancies) and any(k in PRINTOUT_KINDS for k in wanted)
    settings = Settings(labs, seed, degrade, gray, discrepancies,
                        tuple(kinds) if kinds else None, dpi, campaign, text_layer, online)
    fonts.register()  # convert the fonts once, before any worker needs them

    batch = plan_batch(labs=labs, seed=seed, campaign=campaign, discrepancies=discrepancies,
                       kinds=kinds, seal_shapes=seal_shapes)
    records = [lab.record for lab in batch.labs]
    plans = [lab.plan for lab in batch.labs]
    out.mkdir(parents=True, exist_ok=True)
    lab_jobs = [_LabJob(i, lab.record, lab.profile, lab.plan, settings, out)
                for i, lab in enumerate(batch.labs)]
    letter_jobs = [_LetterJob(spec, settings) for spec in batch.letters]
    workers = workers if workers is not None else min(2, os.cpu_count() or 1)
    if workers > 1 and labs > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            letter_futures = [pool.submit(_render_letter, job) for job in letter_jobs]
            lab_results = list(pool.map(_render_lab, lab_jobs))
            letter_results = [f.result() for f in letter_futures]
    else:
        letter_results = [_render_letter(job) for job in letter_jobs]
        lab_results = [_render_lab(job) for job in lab_jobs]

    by_association = {r["association"]: r for r in letter_results}
    manifest_labs = []
    for rec, plan, truth in zip(records, plans, lab_results, strict=True):
        letter = by_association[rec["identity"]["association"]]
        lab_dir = out / rec["lab_id"]
        (lab_dir / "letter.pdf").write_bytes(letter["pdf"])
        _add_letter_truth(truth, letter, rec["lab_id"])
        _write_json(lab_dir / "truth.json", truth)
        manifest_labs.append({
            "lab_id": rec["lab_id"],
            "dir": rec["lab_id"],
            "lab_name": rec["identity"]["lab_name"],
            "association": rec["identity"]["association"],
            "clean": not plan.injections,
            "files": ["record.json", *(d["file"] for d in truth["documents"]), "truth.json"],
            "discrepancies": [{"id": i.id, "kind": i.kind, "field": i.field}
                              for i in plan.injections],
        })
    manifest = {
        "schema_version": "1",
        "generator": GENERATOR,
        "seed": seed,
        "campaign": campaign,
        "settings": {
            "labs": labs, "degrade": degrade, "gray": gray, "discrepancies": discrepancies,
            "kinds": list(wanted) if discrepancies else [], "dpi": dpi,
            "text_layer": text_layer, "online": online,
            # Only when set, so that a batch with drawn shapes keeps its bytes.
            **({"seal_shapes": list(seal_shapes)} if seal_shapes else {}),
        },
        "labs": manifest_labs,
        "letters": [{"association": r["association"], "labs": sorted(r["lab_ids"]),
                     "sha256": hashlib.sha256(r["pdf"]).hexdigest()} for r in letter_results],
    }
    _write_json(out / "manifest.json", manifest)
    return manifest


def _check_arguments(labs: int, degrade: str, dpi: int, discrepancies: int,
                     campaign: str, seal_shapes: Sequence[str] | None = None) -> None:
    if labs < 1:
        raise ValueError("labs must be at least 1")
    if degrade not in scan.LEVELS:
        raise ValueError(f"degrade must be one of {scan.LEVELS}, not {degrade!r}")
    if not 72 <= dpi <= 600:
        raise ValueError("dpi must be between 72 and 600")
    if discrepancies < 0:
        raise ValueError("discrepancies must be 0 or more")
    if not (len(campaign) == 4 and campaign.isdigit()):
        raise ValueError(f"campaign must be a year such as 2021, not {campaign!r}")
    if seal_shapes is not None and not seal_shapes:
        raise ValueError("seal_shapes must name at least one shape, or be None")
    for shape in seal_shapes or ():
        if shape not in online.SEAL_SHAPES:
            raise ValueError(f"seal shape must be one of {online.SEAL_SHAPES}, not {shape!r}")


@dataclass(frozen=True)
class PlannedLab:
    record: dict[str, Any]  # the online record (after expired_certificate, if injected)
    profile: online.LabProfile
    plan: PaperPlan  # what the paper prints where it differs from the record


@dataclass(frozen=True)
class PlannedBatch:
    labs: list[PlannedLab]
    letters: list[online.LetterSpec]


def plan_batch(*, labs: int, seed: int, campaign: str = "2021", discrepancies: int = 0,
               kinds: Sequence[str] | None = None,
               seal_shapes: Sequence[str] | None = None) -> PlannedBatch:
    """Everything ``generate_batch`` decides before printing: records, letters, discrepancy
    plans. Cheap (no rendering), so tests that only need records can call it directly."""
    profiles, records, letters = _make_records(labs, seed, campaign, seal_shapes)
    cycler = Cycler(parse_kinds(kinds), campaign)
    planned = []
    for index, (profile, rec) in enumerate(zip(profiles, records, strict=True)):
        plan = plan_lab(rec, profile, discrepancies if index % 2 == 1 else 0, cycler,
                        random.Random(f"{seed}/plan/{index}"))
        problems = online.record_problems(rec)
        if problems:
            raise AssertionError(f"generated record {rec['lab_id']} is invalid: {problems}")
        planned.append(PlannedLab(rec, profile, plan))
    return PlannedBatch(planned, letters)


def _make_records(labs: int, seed: int, campaign: str,
                  seal_shapes: Sequence[str] | None = None) -> tuple[
        list[online.LabProfile], list[dict[str, Any]], list[online.LetterSpec]]:
    """Every lab's profile and record, and one letter per association in the batch."""
    batch_rng = random.Random(f"{seed}/batch")
    profiles: list[online.LabProfile] = []
    records: list[dict[str, Any]] = []
    for index, slot in enumerate(online.assign_labs(labs, batch_rng)):
        profile, rec = online.make_profile_and_record(
            random.Random(f"{seed}/record/{index}"), lab_id=f"L{campaign}-{index + 1:03d}",
            campaign=campaign, association=slot.association, domain=slot.domain,
            city=slot.city, name_suffix=slot.suffix,
            seal_shape=seal_shapes[index % len(seal_shapes)] if seal_shapes else None)
        profiles.append(profile)
        records.append(rec)
    letters = []
    for association in dict.fromkeys(p.association for p in profiles):
        members = [i for i, p in enumerate(profiles) if p.association == association]
        online.set_association_date([records[i] for i in members], batch_rng)
        letters.append(online.make_letter(
            association, [records[i] for i in members], {profiles[i].domain for i in members},
            campaign, random.Random(f"{seed}/letter/{association.name}")))
    return profiles, records, letters


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# Printing and scanning one document ----------------------------------------------------------


@dataclass
class _Rendered:
    pdf: bytes
    document: dict[str, Any]
    fields: list[dict[str, Any]]
    seals: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    boxes: dict[tuple[int, str, str], dict[str, Any]]  # (page, where, key) -> field entry


def _seal_image(spot: SealSpot, dpi: int, rng: random.Random, gray: bool) -> Image.Image:
    width_px = max(16, round(spot.width_mm * MM * dpi / 72))
    image = seals.draw_seal(spot.organisation, diameter_px=width_px, rng=rng, shape=spot.shape,
                            color=spot.color, bottom_text=spot.bottom_text, faded=spot.faded)
    image = seals.rotate(image, spot.rotation)
    if gray:
        rgba = np.asarray(image).copy()
        luma = (rgba[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114])).round()
        rgba[..., 0] = rgba[..., 1] = rgba[..., 2] = luma.astype(np.uint8)
        image = Image.fromarray(rgba)
    return image


def _render(pages: list[PageSpec], name: str, role: str, copy: int | None, settings: Settings,
            rng: random.Random, *, upside_down: int | None = None,
            spoiled: tuple[int, str] | None = None,
            streams: dict[int, random.Random] | None = None) -> _Rendered:
    """Print ``pages`` as the digital printout or as a scan, and locate everything on them.
    ``spoiled`` (page index, how) scans one page too badly to judge (``scan.spoil``).
    ``streams`` (page index -> stream) draws those pages' seals and scan from their own
    stream instead of ``rng``, so adding such a page leaves the others as they were."""
    dpi = settings.dpi
    scale = dpi / 72
    width, height = scan.page_size_px(dpi)
    own = streams or {}
    images = [[_seal_image(spot, dpi, own.get(index, rng), settings.gray)
               for spot in page.seals] for index, page in enumerate(pages)]
    matrices: list[np.ndarray] = []
    page_info: list[dict[str, Any]] = []
    hulls: list[list[np.ndarray]] = []
    title = f"{fields.FORM_TITLE} {name}"
    if settings.text_layer:
        overlays = []
        for index, page in enumerate(pages):
            hulls.append([])
            for spot, image in zip(page.seals, images[index], strict=True):
                overlays.append(Overlay(index, spot.cx, spot.cy, image, dpi))
                cx, cy = spot.cx * scale, spot.cy * scale
                x0, y0 = round(cx - image.width / 2), round(cy - image.height / 2)
                hulls[-1].append(seals.ink_hull(image) + np.array((x0, y0)))
            matrices.append(np.array([[scale, 0, 0], [0, scale, 0]], dtype=np.float64))
            page_info.append({"page": index + 1, "kind": page.kind, "form_page": page.form_page,
                              "rotation": 0, "skew": 0.0})
        pdf = vector_pdf(pages, title=title, overlays=overlays, gray=settings.gray)
    else:
        base = vector_pdf(pages, title=title)
        jpegs = []
        sizes: dict[int, tuple[int, int]] = {}
        for index, (page, raster) in enumerate(zip(pages, scan.rasterise(base, dpi),
                                                    strict=True)):
            hulls.append([])
            for spot, image in zip(page.seals, images[index], strict=True):
                cx, cy = spot.cx * scale, spot.cy * scale
                seals.multiply(raster, image, cx, cy)
                x0, y0 = round(cx - image.width / 2), round(cy - image.height / 2)
                hulls[-1].append(seals.ink_hull(image) + np.array((x0, y0)))
            result = scan.degrade(raster, settings.degrade,
                                  np.random.default_rng(own.get(index, rng).getrandbits(64)),
                                  dpi=dpi,
                                  upside_down=index == upside_down, gray=settings.gray)
            jpegs.append(_scanned_jpeg(result.image, settings.degrade, dpi,
                                       spoiled[1] if spoiled and spoiled[0] == index else None,
                                       index, sizes))
            pixel = np.array([[scale, 0, 0], [0, scale, 0], [0, 0, 1]], dtype=np.float64)
            matrices.append(result.matrix @ pixel)
            page_info.append({"page": index + 1, "kind": page.kind, "form_page": page.form_page,
                              "rotation": result.rotation, "skew": round(result.skew, 3)})
        pdf = image_pdf(jpegs, width_px=width, height_px=height, gray=settings.gray, title=title,
                        sizes=sizes)

    document = {"file": name, "role": role, "copy": copy, "pages": len(pages), "dpi": dpi,
                "text_layer": settings.text_layer, "width_px": width, "height_px": height,
                "sha256": hashlib.sha256(pdf).hexdigest(), "page_info": page_info}
    rendered = _Rendered(pdf, document, [], [], [], {})

    def box(index: int, rect: tuple[float, float, float, float]) -> list[int]:
        return scan.transform_box(matrices[index], rect, width, height)

    for index, page in enumerate(pages):
        for row in page.fields:
            entry = {
                "key": row.key, "label": row.label, "where": row.where,
                "printed": row.printed, "expected": row.expected,
                "differs": row.printed != row.expected,
                "document": name, "page": index + 1, "form_page": page.form_page, "copy": copy,
                "box": box(index, row.value_box), "cell_box": box(index, row.cell_box),
                "label_box": box(index, row.label_box),
            }
            rendered.fields.append(entry)
            rendered.boxes[index, row.where, row.key] = entry
        for spot, hull in zip(page.seals, hulls[index], strict=True):
            points = scan.transform_points(_pixel_matrix(matrices[index], scale), hull)
            inside = bool(len(points)) and bool(
                (points[:, 0] >= 0).all() and (points[:, 0] < width).all()
                and (points[:, 1] >= 0).all() and (points[:, 1] < height).all())
            entry = {
                "document": name, "page": index + 1, "copy": copy,
                "box": scan.bounding_box(points, width, height) if len(points) else None,
                "organisation": spot.organisation, "role": spot.role, "shape": spot.shape,
                "color": "gray" if settings.gray else "red", "faded": spot.faded,
                "complete": inside, "slot": spot.slot,
            }
            if spot.expected:
                entry["expected_organisation"] = spot.expected
            rendered.seals.append(entry)
        for note in page.notes:
            located = {"document": name, "page": index + 1, "copy": copy}
            for key, value in note.items():
                located[key] = box(index, value) if key.endswith("box") else value
            rendered.notes.append(located)
    return rendered


def _mark(page: PageSpec, what: str, rng: random.Random) -> None:
    """Draw a pen mark on ``page`` and note where: a signature in the top margin, a tick in
    the right margin, a small boxed figure in the left, a note by the footer. Strokes, not
    text: a text layer does not show them."""
    (w_mm, h_mm), (cx, cy) = {
        "signature": ((34, 11), (rng.uniform(50, 160), rng.uniform(9, 11))),
        "tick": ((6, 6), (rng.uniform(197, 202), rng.uniform(40, 250))),
        "figure": ((12, 12), (rng.uniform(9, 11), rng.uniform(40, 250))),
        "note": ((18, 6), (rng.uniform(30, 50), 282)),
    }[what]
    x0, y0 = (cx - w_mm / 2) * MM, (cy - h_mm / 2) * MM
    w, h = w_mm * MM, h_mm * MM
    ink = rng.choice(((0.1, 0.14, 0.47), (0.12, 0.12, 0.12)))  # blue or black ballpoint
    stroke = 0.5 * MM
    if what == "tick":
        points = [(0.1, 0.55), (0.4, 0.9), (0.95, 0.1)]
    elif what == "figure":
        page.items.append(layout.Frame(x0, y0, w, h, width=stroke, color=ink))
        points = [(0.0, 1.0), (0.5, rng.uniform(0.2, 0.5)), (1.0, 0.6)]
    else:  # handwriting: loops along a baseline
        loops, phase = (7 if what == "signature" else 5), rng.uniform(0, 0.4)
        tall = [rng.uniform(0.25, 0.4) for _ in range(loops * 12 + 1)]
        points = [(0.05 + 0.9 * (i / 12) / loops + 0.04 * math.cos(math.pi * i / 6),
                   0.5 + tall[i] * math.sin(math.pi * i / 6 + phase))
                  for i in range(loops * 12 + 1)]
    page.items += [layout.Rule(x0 + a[0] * w, y0 + a[1] * h, x0 + b[0] * w, y0 + b[1] * h,
                               width=stroke, color=ink) for a, b in itertools.pairwise(points)]
    page.notes.append({"type": "mark", "what": what, "box": (x0, y0, w, h)})


def _scanned_jpeg(image: np.ndarray, level: str, dpi: int, spoil: str | None, index: int,
                  sizes: dict[int, tuple[int, int]]) -> bytes:
    """The page's JPEG; a spoiled page's pixel size goes into ``sizes`` when it changes."""
    if spoil is None:
        return scan.jpeg(image, level, dpi)
    image, page_dpi = scan.spoil(image, spoil, dpi)
    sizes[index] = (image.shape[1], image.shape[0])
    return scan.jpeg(image, level, page_dpi)


def _pixel_matrix(matrix: np.ndarray, scale: float) -> np.ndarray:
    """The map from printed-page pixels (not points) to scan pixels."""
    out = matrix.copy()
    out[:, :2] = matrix[:, :2] / scale
    return out


# One lab -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LabJob:
    index: int
    rec: dict[str, Any]
    profile: online.LabProfile
    plan: PaperPlan
    settings: Settings
    out: Path


def _render_lab(job: _LabJob) -> dict[str, Any]:
    rec, profile, plan, settings = job.rec, job.profile, job.plan, job.settings
    rng = random.Random(f"{settings.seed}/paper/{job.index}")
    campaign = settings.campaign
    total = layout.form_page_count(rec, campaign)
    recommending_color = online.seal_color(rng)
    licence = attachments.make_licence(rec, profile, random.Random(f"{settings.seed}/licence/"
                                                                    f"{job.index}"), plan.licence)
    rendered: list[_Rendered] = []
    # The paper may print a text the online record does not have (printout_altered).
    printed_rec = rec if plan.description is None else {
        **rec, "support": {**rec["support"], "description": plan.description}}
    for copy in (1, 2):
        paper = plan.paper(copy)
        pages = [layout.cover_page(printed_rec, campaign, total, profile, paper, rng)]
        pages += layout.body_pages(printed_rec, campaign, total, profile, paper, rng)
        dropped = {plan.paper_missing_page, plan.missing_form_page if copy == 1 else None}
        pages = [p for p in pages if p.form_page not in dropped]
        spoiled = None
        if copy in plan.spoiled:
            form_page, how = plan.spoiled[copy]
            spoiled = next(((i, how) for i, p in enumerate(pages) if p.form_page == form_page),
                           None)
        pages += [attachments.cma_certificate(rec, profile, rng, plan.certificates.get("cma")),
                  attachments.cnas_certificate(rec, profile, rng, plan.certificates.get("cnas"))]
        upside_down = rng.randrange(len(pages)) if settings.degrade == "heavy" \
            and not settings.text_layer else None
        # The licence comes last, drawn from its own streams: every other page is as before.
        streams = {len(pages): random.Random(f"{settings.seed}/licence/{job.index}/{copy}")}
        pages.append(attachments.licence_page(rec, profile, licence, streams[len(pages)]))
        if copy in plan.marks:
            form_page, what = plan.marks[copy]
            # Its own random stream, so a batch without marks is drawn as it always was.
            _mark(next(p for p in pages if p.form_page == form_page), what,
                  random.Random(f"{settings.seed}/mark/{job.index}"))
        rendered.append(_render(pages, f"volume-{copy}.pdf", "volume", copy, settings, rng,
                                upside_down=upside_down, spoiled=spoiled, streams=streams))
        if not plan.opinion_missing:
            seal = paper.seals.get("approval", rec["identity"]["recommending_unit"])
            approval = layout.approval_page(rec, total, plan.opinion_text, seal,
                                            recommending_color, rng,
                                            seal_off=copy in plan.seal_off)
            rendered.append(_render([approval], f"opinion-{copy}.pdf", "opinion", copy,
                                    settings, rng))

    lab_dir = job.out / rec["lab_id"]
    lab_dir.mkdir(parents=True, exist_ok=True)
    for stale in LAB_FILES:  # a folder reused from an earlier batch keeps none of its files
        (lab_dir / stale).unlink(missing_ok=True)
    _write_json(lab_dir / "record.json", rec)
    for item in rendered:
        (lab_dir / item.document["file"]).write_bytes(item.pdf)
    online_pdf = _online_printout(job, total) if settings.online else None
    if online_pdf is not None:
        (lab_dir / ONLINE_FILE).write_bytes(online_pdf.pdf)

    truth: dict[str, Any] = {
        "schema_version": "1",
        "generator": GENERATOR,
        "lab_id": rec["lab_id"],
        "campaign": campaign,
        "seed": settings.seed,
        "settings": {k: v for k, v in asdict(settings).items() if k not in ("labs",)},
        "clean": not plan.injections,
        "form_pages": total,
        "documents": [item.document for item in rendered],
        "fields": [f for item in rendered for f in item.fields],
        "seals": [s for item in rendered for s in item.seals],
        "opinions": [_strip(n) for item in rendered for n in item.notes if n["type"] == "opinion"],
        "certificates": [_strip(n) for item in rendered for n in item.notes
                         if n["type"] == "certificate"],
        "commitments": [_strip(n) for item in rendered for n in item.notes
                        if n["type"] == "commitment_date"],
        "licences": [_strip(n) for item in rendered for n in item.notes if n["type"] == "licence"],
        "discrepancies": _locate(plan, rendered),
    }
    if online_pdf is not None:
        truth["online"] = online_pdf.document
    return truth


def _online_printout(job: _LabJob, total: int) -> _Rendered:
    """The form as the online system prints it: the record's values, a text layer, no seals,
    every page but the one a printout_page_added discrepancy leaves out. Its own random stream,
    so asking for it changes no other file."""
    rec, settings = job.rec, job.settings
    rng = random.Random(f"{settings.seed}/online/{job.index}")
    unsealed = layout.PaperValues(printed={}, seals={"cover": None, "commitment": None})
    pages = [layout.cover_page(rec, settings.campaign, total, job.profile, unsealed, rng)]
    pages += layout.body_pages(rec, settings.campaign, total, job.profile, unsealed, rng)
    pages = [p for p in pages if p.form_page != job.plan.printout_missing_page]
    printout = replace(settings, text_layer=True, gray=False)
    return _render(pages, ONLINE_FILE, "online", None, printout, rng)


def _strip(note: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in note.items() if k != "type"}


def _locate(plan: PaperPlan, rendered: list[_Rendered]) -> list[dict[str, Any]]:
    """Each injection, once per place on paper that shows it."""
    docs = {item.document["file"]: item for item in rendered}
    out = []
    for injection in plan.injections:
        base = {"id": injection.id, "kind": injection.kind, "field": injection.field,
                "label": injection.label, "expected": injection.expected,
                "printed": injection.printed, "detail": injection.detail}
        for copy in injection.copies:
            entry = {**base, "document": None, "page": None, "copy": copy, "box": None}
            if injection.kind == "licence_differs":  # the licence copy, where it differs
                item = docs[f"volume-{copy}.pdf"]
                note = next(n for n in item.notes if n["type"] == "licence")
                part = next(iter(plan.licence))
                entry.update(document=item.document["file"], page=note["page"],
                             box=note[f"{part}_box"])
            elif injection.field is not None:
                item = docs[f"volume-{copy}.pdf"]
                located = next(v for (_, where, key), v in item.boxes.items()
                               if where == injection.where and key == injection.field)
                entry.update(document=located["document"], page=located["page"],
                             form_page=located["form_page"], box=located["box"])
            elif injection.kind == "copy_image_differs":
                item = docs[f"volume-{copy}.pdf"]
                note = next(n for n in item.notes if n["type"] == "mark")
                entry.update(document=item.document["file"], page=note["page"],
                             form_page=injection.form_page, box=note["box"])
            elif injection.kind in ("missing_page", "printout_page_missing"):
                entry.update(document=f"volume-{copy}.pdf", form_page=injection.form_page)
            elif injection.form_page is not None:  # a page that is there, but not as it should be
                item = docs[f"volume-{copy}.pdf"]
                entry.update(document=item.document["file"], form_page=injection.form_page,
                             page=next((p["page"] for p in item.document["page_info"]
                                        if p["form_page"] == injection.form_page), None))
            elif injection.certificate is not None:  # the certificate copy, where it differs
                item = docs[f"volume-{copy}.pdf"]
                note = next(n for n in item.notes if n["type"] == "certificate"
                            and n["certificate"] == injection.certificate)
                part = next(iter(plan.certificates[injection.certificate]))
                entry.update(document=item.document["file"], page=note["page"],
                             box=note[f"{part}_box"])
            elif injection.kind == "missing_opinion":
                entry["document"] = f"opinion-{copy}.pdf"
            elif injection.kind == "opinion_disagrees":
                item = docs[f"opinion-{copy}.pdf"]
                entry.update(document=item.document["file"], page=1,
                             box=next(n["box"] for n in item.notes if n["type"] == "opinion"))
            elif injection.slot == "cover":
                item = docs[f"volume-{copy}.pdf"]
                seal = next((s for s in item.seals if s["slot"] == "cover"), None)
                cell = item.boxes[0, "cover", "identity.legal_entity"]["cell_box"]
                entry.update(document=item.document["file"], page=1,
                             box=seal["box"] if seal else cell)
            else:
                item = docs[f"opinion-{copy}.pdf"]
                seal = next((s for s in item.seals if s["slot"] == "approval"), None)
                note = next(n for n in item.notes if n["type"] == "opinion")
                entry.update(document=item.document["file"], page=1,
                             box=seal["box"] if seal else note["date_box"])
            out.append(entry)
    return out


# Letters ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _LetterJob:
    spec: online.LetterSpec
    settings: Settings


def _render_letter(job: _LetterJob) -> dict[str, Any]:
    spec, settings = job.spec, job.settings
    rng = random.Random(f"{settings.seed}/letter-paper/{spec.association.name}")
    page = attachments.letter_page(spec, settings.campaign, rng)
    item = _render([page], "letter.pdf", "letter", None, settings, rng)
    return {
        "association": spec.association.name,
        "lab_ids": [row.lab_id for row in spec.rows if row.lab_id],
        "pdf": item.pdf,
        "document": item.document,
        "seals": item.seals,
        "notes": item.notes,
    }


def _add_letter_truth(truth: dict[str, Any], letter: dict[str, Any], lab_id: str) -> None:
    truth["documents"].append(letter["document"])
    truth["seals"] += letter["seals"]
    head = next(n for n in letter["notes"] if n["type"] == "letter")
    rows = [_strip(n) for n in letter["notes"] if n["type"] == "letter_row"]
    truth["letter"] = {
        **_strip(head),
        "association": letter["association"],
        "rows": rows,
        "lab_row": next((r["row"] for r in rows if r["lab_id"] == lab_id), None),
    }
