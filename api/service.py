"""The application service: a dossier received, kept, reviewed and its report kept.

This is where the pipeline meets the object store and the database; the web routes and the
CLI call it, and nothing below it knows about either.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from intake.model import Document
from intake.pipeline import ReviewOptions, Verifier, open_documents, review
from intake.report import report_from_json, report_html, report_json
from storage.db import Database
from storage.db.repository import StoredReport
from storage.objects import ObjectStore, StoredObject, derived_key

PAGE_IMAGE = "pages/{number}.jpg"


@dataclass(frozen=True)
class Submission:
    """What one review of a dossier left behind."""

    dossier_id: int
    report: StoredReport
    originals: tuple[StoredObject, ...]
    data: dict[str, Any]  # the report JSON
    html: str  # the HTML report as rendered when the review ran


def submit(
    files: Sequence[Path],
    *,
    campaign: str,
    lab_id: str,
    db: Database,
    store: ObjectStore,
    options: ReviewOptions,
    verifier: Verifier | None,
    actor: str,
    precheck: bool = False,
) -> Submission:
    """Keep a lab's files, review them against the lab's latest stored record, keep the report.

    Every file is checked before anything is stored, so a bad file leaves nothing behind. The
    originals are content-addressed: sending the same file again stores nothing new.
    """
    stored_record = db.latest_record(campaign, lab_id)
    documents = open_documents(files, options)
    originals = tuple(store.put_original(path, name=doc.name)
                      for path, doc in zip(files, documents, strict=True))
    dossier_id = db.add_dossier(campaign, lab_id, actor=actor, precheck=precheck)
    document_ids = [db.add_document(dossier_id, doc, storage_key=kept.key, actor=actor)
                    for doc, kept in zip(documents, originals, strict=True)]
    with tempfile.TemporaryDirectory(prefix="dossier-pages-") as tmp:
        report, results = review(files, stored_record.record(),
                                 replace(options, image_dir=Path(tmp)), verifier)
        by_name = {doc.name: doc for doc in report.documents}
        images = {}
        for result in results:
            if result.image:
                store.put_derived(by_name[result.page.document].sha256,
                                  PAGE_IMAGE.format(number=result.page.number),
                                  Path(result.image))
                images[(result.page.document, result.page.number)] = result.image
        html = report_html(report, images)
    data = report_json(report)
    stored = db.add_report(dossier_id, record_id=stored_record.id, document_ids=document_ids,
                           data=data, actor=actor)
    return Submission(dossier_id, stored, originals, data, html)


def render_stored_report(report_id: int, *, db: Database, store: ObjectStore) -> str:
    """The HTML report rebuilt from what is stored alone: the report JSON and the page images."""
    data = db.report(report_id).data
    report = report_from_json(data)
    documents: dict[str, Document] = {doc.name: doc for doc in report.documents}
    with tempfile.TemporaryDirectory(prefix="dossier-render-") as tmp:
        images: dict[tuple[str, int], str] = {}
        for page in report.pages:
            key = derived_key(documents[page.document].sha256,
                              PAGE_IMAGE.format(number=page.number))
            if store.exists(key):
                target = Path(tmp) / f"{documents[page.document].sha256}-{page.number}.jpg"
                store.download(key, target)
                images[(page.document, page.number)] = str(target)
        return report_html(report, images)
