"""The application service: a dossier received, kept, reviewed and its report kept.

This is where the pipeline meets the object store and the database; the web routes, the
worker and the CLI call it, and nothing below it knows about either.

A review is two steps so that it can run in the background: ``receive`` checks and keeps the
files and queues a job; ``run_job`` reviews what was kept and keeps the report. ``submit``
does both at once (the CLI).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

from intake.dossier import PageResult
from intake.errors import DatabaseError, InputError, NotFoundError, StorageUnavailableError
from intake.model import Document
from intake.pipeline import ReviewOptions, Verifier, open_documents, open_online, review
from intake.report import report_from_json, report_html, report_json
from storage.db import Database, JobState
from storage.db.repository import StoredReport
from storage.objects import ObjectStore, StoredObject, derived_key

log = logging.getLogger(__name__)

PAGE_IMAGE = "pages/{number}.jpg"
REVIEW_JOB = "review"

# Stages a review job passes through, as stored on the job and shown to the user.
STAGES = {
    "queued": "排队等待",
    "fetch": "取回原件",
    "read": "识别页面",
    "verify": "复核识别",
    "checks": "规则检查",
    "save": "保存报告",
    "done": "完成",
    "failed": "失败",
}
# Share of a job's progress bar each stage ends at; reading pages fills most of it.
_STAGE_END = {"fetch": 0.03, "read": 0.85, "verify": 0.93, "checks": 0.97, "save": 1.0}


@dataclass(frozen=True)
class Received:
    dossier_id: int
    job_id: int
    originals: tuple[StoredObject, ...]
    documents: tuple[Document, ...]


@dataclass(frozen=True)
class Reviewed:
    report: StoredReport
    data: dict[str, Any]  # the report JSON
    html: str  # the HTML report as rendered when the review ran


@dataclass(frozen=True)
class Submission:
    """What one review of a dossier left behind."""

    dossier_id: int
    report: StoredReport
    originals: tuple[StoredObject, ...]
    data: dict[str, Any]
    html: str


def receive(
    files: Sequence[Path],
    *,
    campaign: str,
    lab_id: str,
    db: Database,
    store: ObjectStore,
    options: ReviewOptions,
    actor: str,
    precheck: bool = False,
    online: Path | None = None,
) -> Received:
    """Check every file, keep the originals, record the dossier and queue its review.

    Every file is checked before anything is stored, so a bad file leaves nothing behind. The
    originals are content-addressed: sending the same file again stores nothing new. The lab
    must have a record: a review without the online record to compare with is refused now,
    not when the job runs. ``online`` is the online system's own PDF of the form, when sent:
    the paper is compared with it page by page.
    """
    db.latest_record(campaign, lab_id)
    documents = open_documents(files, options)
    printout = open_online(online, options) if online is not None else None
    if printout is not None and printout.name in {d.name for d in documents}:
        printout = replace(printout, name=f"网上系统打印版-{printout.name}")
    originals = tuple(store.put_original(path, name=doc.name)
                      for path, doc in zip(files, documents, strict=True))
    kept_online = (store.put_original(online, name=printout.name)
                   if online is not None and printout is not None else None)
    dossier_id = db.add_dossier(campaign, lab_id, actor=actor, precheck=precheck)
    for doc, kept in zip(documents, originals, strict=True):
        db.add_document(dossier_id, doc, storage_key=kept.key, actor=actor)
    if printout is not None and kept_online is not None:
        db.add_document(dossier_id, printout, storage_key=kept_online.key, actor=actor,
                        role="online")
    job_id = db.add_job(REVIEW_JOB, dossier_id=dossier_id, actor=actor)
    total = sum(doc.page_count for doc in documents)
    db.update_job(job_id, stage="queued", pages_total=total, actor=actor)
    return Received(dossier_id, job_id, originals, tuple(documents))


# Faults that pass: the database restarting, the store not answering for a while.
TRANSIENT = (DatabaseError, StorageUnavailableError)
TRANSIENT_SECONDS = 300.0
T = TypeVar("T")


def retry_transient(call: Callable[[], T], *, what: str,
                       seconds: float = TRANSIENT_SECONDS) -> T:
    """``call()``, again and again with back-off while the database or the store is away,
    for at most ``seconds``; then the last error."""
    deadline = time.monotonic() + seconds
    delay = 0.5
    while True:
        try:
            return call()
        except TRANSIENT as exc:
            if time.monotonic() + delay > deadline:
                raise
            log.warning("%s failed (%s); trying again in %.1f s", what, exc.code, delay)
            time.sleep(delay)
            delay = min(delay * 2, 15.0)


class JobProgress:
    """Writes a job's stage and page count to the database as the review goes on. Progress is
    best effort: a database that is away for a moment does not stop the review."""

    def __init__(self, db: Database, job_id: int, total: int) -> None:
        self.db, self.job_id, self.total, self.done = db, job_id, max(total, 1), 0

    def _write(self, **changes: Any) -> None:
        try:
            self.db.update_job(self.job_id, **changes)
        except DatabaseError as exc:
            log.warning("job %s: progress not recorded (%s)", self.job_id, exc.code)

    def stage(self, stage: str) -> None:
        start = {"read": _STAGE_END["fetch"], "verify": _STAGE_END["read"],
                 "checks": _STAGE_END["verify"], "save": _STAGE_END["checks"]}.get(stage, 0.0)
        self._write(stage=stage, progress=start)

    def page(self, _result: PageResult) -> None:
        self.done += 1
        share = _STAGE_END["fetch"] + (_STAGE_END["read"] - _STAGE_END["fetch"]) * min(
            1.0, self.done / self.total)
        self._write(progress=share, pages_done=self.done)


def run_job(
    job_id: int,
    *,
    db: Database,
    store: ObjectStore,
    options: ReviewOptions,
    verifier: Verifier | None,
    actor: str = "worker",
) -> Reviewed:
    """Review a received dossier from its kept originals and keep the report.

    Idempotent: a job whose report was already kept (a worker that died after saving it) is
    marked done with that report, not reviewed twice.
    """
    job = db.job(job_id)
    if job.dossier_id is None:
        raise InputError(f"job {job_id} names no dossier", subject=f"job:{job_id}")
    existing = db.report_of_job(job_id)
    if existing is not None:
        stored = db.report(existing)
        if not job.finished:
            db.update_job(job_id, state=JobState.DONE, stage="done", actor=actor)
        return Reviewed(stored, stored.data, render_stored_report(stored.id, db=db, store=store))
    if job.state == JobState.QUEUED:
        db.update_job(job_id, state=JobState.RUNNING, actor=actor)
    dossier = db.dossier(job.dossier_id)
    stored_record = db.latest_record(dossier.lab.campaign, dossier.lab.lab_id)
    progress = JobProgress(db, job_id, sum(pages or 0 for *_, pages in dossier.documents))
    progress.stage("fetch")
    with tempfile.TemporaryDirectory(prefix="dossier-job-") as tmp:
        folder, pages = Path(tmp) / "originals", Path(tmp) / "pages"
        folder.mkdir()
        pages.mkdir()
        paths = []
        for document_id, name, sha256, _pages in dossier.documents:
            target = folder / name
            store.download(_original_key(db, document_id, sha256, store), target)
            paths.append(target)
        online = None
        if dossier.online is not None:
            online_id, _name, online_sha256, _pages = dossier.online
            online = Path(tmp) / "online.pdf"
            store.download(_original_key(db, online_id, online_sha256, store), online)
        progress.stage("read")
        report, results = review(paths, stored_record.record(),
                                 replace(options, image_dir=pages), verifier,
                                 progress=progress.page, on_stage=progress.stage, online=online)
        progress.stage("save")
        html = retry_transient(lambda: _keep_page_images_and_render(report, results, store),
                               what=f"job {job_id}: keeping the page images")
    data = report_json(report)

    def keep_report() -> StoredReport:
        done = db.report_of_job(job_id)  # kept by an attempt whose answer was lost
        if done is not None:
            return db.report(done)
        return db.add_report(dossier.id, record_id=stored_record.id,
                             document_ids=[d[0] for d in dossier.documents], data=data,
                             actor=actor, job_id=job_id)

    stored = retry_transient(keep_report, what=f"job {job_id}: keeping the report")
    retry_transient(lambda: db.update_job(job_id, state=JobState.DONE, stage="done", actor=actor),
                    what=f"job {job_id}: marking it done")
    return Reviewed(stored, data, html)


def _original_key(db: Database, document_id: int, sha256: str, store: ObjectStore) -> str:
    key = db.document_key(document_id)
    if not store.exists(key):
        raise NotFoundError(f"the original of document {document_id} is missing from the "
                            "store", subject=key)
    return key


def _keep_page_images_and_render(report: Any, results: Sequence[PageResult],
                                 store: ObjectStore) -> str:
    by_name = {doc.name: doc for doc in report.documents}
    images = {}
    for result in results:
        if result.image:
            store.put_derived(by_name[result.page.document].sha256,
                              PAGE_IMAGE.format(number=result.page.number), Path(result.image))
            images[(result.page.document, result.page.number)] = result.image
    return report_html(report, images)


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
    on_job: Callable[[int], None] | None = None,
    online: Path | None = None,
) -> Submission:
    """Receive a lab's files and review them now, against the lab's latest stored record."""
    received = receive(files, campaign=campaign, lab_id=lab_id, db=db, store=store,
                       options=options, actor=actor, precheck=precheck, online=online)
    if on_job:
        on_job(received.job_id)
    try:
        reviewed = run_job(received.job_id, db=db, store=store, options=options,
                           verifier=verifier, actor=actor)
    except Exception as exc:
        fail_job(db, received.job_id, exc, actor=actor)
        raise
    return Submission(received.dossier_id, reviewed.report, received.originals, reviewed.data,
                      reviewed.html)


def fail_job(db: Database, job_id: int, exc: BaseException, *, actor: str = "worker") -> None:
    """Record why a job failed; the message is ours (never a file's contents)."""
    from intake.errors import IntakeError

    if isinstance(exc, IntakeError):
        code, message = exc.code, str(exc)
    else:
        code, message = "internal_error", f"unexpected {type(exc).__name__}; see the server log"
        log.exception("job %s failed", job_id, exc_info=exc)
    with contextlib.suppress(InputError):  # it finished meanwhile
        db.update_job(job_id, state=JobState.FAILED, stage="failed", error_code=code,
                      error=message, actor=actor)


def page_image(report_id: int, document: str, number: int, *, db: Database,
               store: ObjectStore, target: Path) -> Path:
    """Fetch the kept image of one page of a report into ``target``."""
    data = db.report(report_id).data
    docs = {d["name"]: d for d in data.get("documents", [])}
    if document not in docs:
        raise NotFoundError(f"the report has no document {document!r}", subject=document)
    key = derived_key(docs[document]["sha256"], PAGE_IMAGE.format(number=number))
    if not store.exists(key):
        raise NotFoundError(f"no image of page {number} of {document} is kept", subject=key)
    store.download(key, target)
    return target


@contextlib.contextmanager
def kept_page_images(data: dict[str, Any], store: ObjectStore) -> Iterator[dict[tuple[str, int], str]]:
    """The kept images of a report's pages, fetched into a temporary folder for as long as the
    block runs: (document, page) -> file. Pages whose image was not kept are left out."""
    documents = {d["name"]: d["sha256"] for d in data.get("documents", [])}
    with tempfile.TemporaryDirectory(prefix="dossier-pages-") as tmp:
        images: dict[tuple[str, int], str] = {}
        for page in data.get("pages", []):
            sha256 = documents[page["document"]]
            key = derived_key(sha256, PAGE_IMAGE.format(number=page["page"]))
            if store.exists(key):
                target = Path(tmp) / f"{sha256}-{page['page']}.jpg"
                store.download(key, target)
                images[(page["document"], page["page"])] = str(target)
        yield images


def render_stored_report(report_id: int, *, db: Database, store: ObjectStore) -> str:
    """The HTML report rebuilt from what is stored alone: the report JSON and the page images."""
    data = db.report(report_id).data
    with kept_page_images(data, store) as images:
        return report_html(report_from_json(data), images)
