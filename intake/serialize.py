"""A page's result as JSON and back, whole: what a worker that read the page hands, through
the object store, to the worker that gathers the dossier.

Unlike the report JSON this keeps everything the dossier stages use (lines, words, cells,
readings, the opinion), and it comes back equal to what was written: floats are written as
Python writes them, which reads back to the same number.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from typing import Any

from intake.dossier import PageResult
from intake.extract import Opinion
from intake.model import (
    Box,
    Cell,
    Field,
    Line,
    Location,
    Page,
    PageInk,
    PageKind,
    Reading,
    ScanQuality,
    Seal,
    SealPlace,
    SealShape,
    TextSource,
    Word,
)

VERSION = 1


def _box(box: Box) -> list[int]:
    return [box.x, box.y, box.w, box.h]


def _box_of(data: list[int]) -> Box:
    x, y, w, h = data
    return Box(int(x), int(y), int(w), int(h))


def _line(line: Line) -> dict[str, Any]:
    return {"text": line.text, "box": _box(line.box), "conf": line.conf,
            "words": [{"text": w.text, "box": _box(w.box), "conf": w.conf} for w in line.words]}


def _line_of(data: dict[str, Any]) -> Line:
    return Line(data["text"], _box_of(data["box"]), data["conf"],
                tuple(Word(w["text"], _box_of(w["box"]), w["conf"]) for w in data["words"]))


def _page(page: Page) -> dict[str, Any]:
    return {
        "document": page.document, "number": page.number, "width": page.width,
        "height": page.height, "dpi": page.dpi, "rotation": page.rotation, "skew": page.skew,
        "text_source": page.text_source.value, "kind": page.kind.value,
        "kind_confidence": page.kind_confidence, "kind_detail": page.kind_detail,
        "lines": [_line(ln) for ln in page.lines],
        "reread": [_line(ln) for ln in page.reread],
        "cells": [{"row": c.row, "col": c.col, "box": _box(c.box), "text": c.text, "conf": c.conf,
                   "table": c.table} for c in page.cells],
        "seals": [{"box": _box(s.box), "shape": s.shape.value, "color": s.color,
                   "complete": s.complete, "score": s.score, "text": s.text,
                   "text_score": s.text_score, "fits": [list(f) for f in s.fits],
                   "place": s.place.value, "on": list(s.on)}
                  for s in page.seals],
        "footer": list(page.footer) if page.footer is not None else None,
        "seconds": page.seconds,
        "quality": None if page.quality is None else dataclasses.asdict(page.quality),
    }


def _page_of(data: dict[str, Any]) -> Page:
    footer = data["footer"]
    return Page(
        document=data["document"], number=data["number"], width=data["width"],
        height=data["height"], dpi=data["dpi"], rotation=data["rotation"], skew=data["skew"],
        text_source=TextSource(data["text_source"]), kind=PageKind(data["kind"]),
        kind_confidence=data.get("kind_confidence", 0.0), kind_detail=data.get("kind_detail", ""),
        lines=tuple(_line_of(ln) for ln in data["lines"]),
        reread=tuple(_line_of(ln) for ln in data.get("reread", ())),
        cells=tuple(Cell(c["row"], c["col"], _box_of(c["box"]), c["text"], c["conf"], c["table"])
                    for c in data["cells"]),
        seals=tuple(Seal(_box_of(s["box"]), SealShape(s["shape"]), s["color"], s["complete"],
                         s["score"], s["text"], s["text_score"],
                         tuple((str(n), float(f)) for n, f in s.get("fits", ())),
                         SealPlace(s.get("place", SealPlace.UNKNOWN)),
                         tuple(str(t) for t in s.get("on", ())))
                    for s in data["seals"]),
        footer=(footer[0], footer[1]) if footer is not None else None,
        seconds=data["seconds"],
        quality=ScanQuality(**data["quality"]) if data.get("quality") else None,
    )


def _field(f: Field) -> dict[str, Any]:
    box = f.location.box
    return {"key": f.key, "label": f.label, "text": f.text, "copy": f.copy,
            "location": {"document": f.location.document, "page": f.location.page,
                         "box": _box(box) if box is not None else None},
            "readings": [{"text": r.text, "conf": r.conf, "source": r.source} for r in f.readings]}


def _field_of(data: dict[str, Any]) -> Field:
    loc = data["location"]
    return Field(
        key=data["key"], label=data["label"], text=data["text"], copy=data["copy"],
        location=Location(loc["document"], loc["page"],
                          _box_of(loc["box"]) if loc["box"] is not None else None),
        readings=tuple(Reading(r["text"], r["conf"], r["source"]) for r in data["readings"]))


def page_result_json(result: PageResult) -> dict[str, Any]:
    opinion = result.opinion
    return {
        "version": VERSION,
        "page": _page(result.page),
        "fields": [_field(f) for f in result.fields],
        "opinion": None if opinion is None else {
            "text": opinion.text, "date_text": opinion.date_text, "box": _box(opinion.box),
            "whole": opinion.whole},
        "image": result.image,
        "error": result.error,
        "copy": result.copy,
        "ink": None if result.ink is None else {
            "dpi": result.ink.dpi, "width": result.ink.width, "height": result.ink.height,
            "data": base64.b64encode(result.ink.data).decode("ascii")},
    }


def page_result_from_json(data: dict[str, Any]) -> PageResult:
    if data.get("version") != VERSION:
        raise ValueError(f"page result version {data.get('version')!r} is not {VERSION}")
    opinion = data["opinion"]
    return PageResult(
        page=_page_of(data["page"]),
        fields=tuple(_field_of(f) for f in data["fields"]),
        opinion=None if opinion is None else Opinion(opinion["text"], opinion["date_text"],
                                                     _box_of(opinion["box"]),
                                                     opinion.get("whole", False)),
        image=data["image"],
        error=data["error"],
        copy=data["copy"],
        ink=_ink_of(data.get("ink")),
    )


def _ink_of(data: dict[str, Any] | None) -> PageInk | None:
    if data is None:
        return None
    return PageInk(data["dpi"], data["width"], data["height"], base64.b64decode(data["data"]))


def dumps(result: PageResult) -> bytes:
    return json.dumps(page_result_json(result), ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def loads(data: bytes) -> PageResult:
    return page_result_from_json(json.loads(data.decode("utf-8")))
