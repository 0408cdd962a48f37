"""Distributed mode: reviews run as Celery tasks on a Redis broker, by any number of
``dossier worker`` processes on any number of machines.

A job is three kinds of task. ``start`` sends one ``page`` task for every page not yet read;
each ``page`` task reads its page from the kept original, keeps the page image and the
``PageResult`` (JSON) in the object store and marks the page done in ``job_page``; the task that
marks the last page sends ``gather``, which runs the dossier stages (``finish_review``, the same
code as the embedded review) and keeps the report.

The database is the truth: a task only reads and records what it finds there, so a task run
twice, or after another's death, does its part at most once (``job_page`` counts a page once;
the gather step holds a lock and finds a kept report). Messages are acknowledged after the task
(``acks_late``): those of a worker that dies are handed out again after the visibility timeout,
or at once when only its pool process died (``task_reject_on_worker_lost``). Messages lost with
the broker are made good from the database: workers send again jobs that nothing has moved for
``queue.stall_seconds``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import redis.exceptions
from celery import Celery, Task, bootsteps
from kombu.exceptions import OperationalError as BrokerError
from kombu.transport import redis as redis_transport
from kombu.transport import virtual

from api import service
from api.app import review_options
from intake import load, serialize
from intake.errors import DatabaseError, InputError, ObjectNotFoundError, StorageUnavailableError
from intake.model import TextSource
from intake.pipeline import (
    PageTask,
    ReviewOptions,
    Verifier,
    _init_worker,
    _safe_read_page,
    finish_review,
    open_documents,
    read_online,
)
from intake.report import report_json
from intake.settings import Settings
from storage import open_store
from storage.db import Database, JobState
from storage.db.pages import PageLedger
from storage.objects import ObjectStore, derived_key

log = logging.getLogger(__name__)

# Worth trying again after a pause: the store or the database was briefly away.
TRANSIENT = (StorageUnavailableError, DatabaseError)
PAGE_RESULT = "jobs/{job}/page-{number}.json"  # derived from the page's original
ACTOR = "worker"



class _QoS(redis_transport.QoS):
    """Kombu's Redis QoS, except that a message whose ack (or requeue) cannot reach the broker
    is still let go of here. Kept counted, it would hold the worker's one prefetch slot for
    ever: the worker would never ask for another message, never notice the broker had gone,
    and never reconnect (seen with a Redis restart). Its entry on the broker, if the broker
    kept it, comes back after the visibility timeout; tasks are idempotent."""

    def ack(self, delivery_tag: Any) -> None:
        try:
            super().ack(delivery_tag)  # type: ignore[no-untyped-call]
        except _BROKER_DOWN:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]
            raise

    def reject(self, delivery_tag: Any, requeue: bool = False) -> None:
        try:
            super().reject(delivery_tag, requeue=requeue)  # type: ignore[no-untyped-call]
        except _BROKER_DOWN:
            virtual.QoS.ack(self, delivery_tag)  # type: ignore[no-untyped-call]
            raise


class _Channel(redis_transport.Channel):
    QoS = _QoS


class RedisTransport(redis_transport.Transport):
    """The broker's transport (``broker_transport``): kombu's Redis one with ``_QoS``."""

    Channel = _Channel


_BROKER_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)

START, PAGE, GATHER = "dossier.start", "dossier.page", "dossier.gather"
_app: Celery | None = None
_settings: Settings | None = None


def configure(settings: Settings) -> Celery:
    """The Celery app for the settings' broker and queue, its tasks registered; made at the
    edge (the worker's entry point, the API's start), again only when the settings change."""
    global _app, _settings
    if _app is not None:
        _app.close()  # its broker connections belong to the old settings
    app = Celery("dossier", set_as_current=False)
    queue = settings.queue
    transport: dict[str, Any] = {
        "visibility_timeout": queue.visibility_timeout,
        # Look for the tasks of dead workers every restore_seconds, not every 10 x that.
        "unacked_restore_interval": queue.restore_seconds,
        "unacked_restore_throttle": 1,
    }
    if queue.key_prefix:
        transport["global_keyprefix"] = queue.key_prefix
    app.conf.update(
        broker_url=queue.broker_url.get_secret_value(),
        broker_transport=f"{__name__}:RedisTransport",
        broker_transport_options=transport,
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,  # a broker that restarts is waited for
        task_default_queue=queue.name,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # a worker holds one task beyond those it runs
        task_ignore_result=True,  # results live in the database and the store
        task_serializer="json",
        accept_content=["json"],
        task_publish_retry=True,
        task_publish_retry_policy={"max_retries": 5, "interval_start": 0.2,
                                   "interval_step": 0.5, "interval_max": 2.0},
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no pidbox queues left behind on the broker
        enable_utc=True,
    )
    app.task(bind=True, name=START, max_retries=None)(_start_task)
    # A page past its limit (a tool that hangs beyond its own timeout) has its pool process
    # killed; the page is then tried again, and given up after queue.page_attempts.
    app.task(bind=True, name=PAGE, max_retries=None,
             time_limit=settings.limits.seconds_per_page * 3 + 60)(_page_task)
    app.task(bind=True, name=GATHER, max_retries=None)(_gather_task)
    app.steps["worker"].add(Sweeper)
    _app, _settings = app, settings
    return app


def _send(task: str, *args: Any) -> None:
    app = _app or configure(Settings())
    app.tasks[task].apply_async(args)


def broker_probe(settings: Settings) -> str:
    """For /health: the broker answers, or a StorageUnavailableError-like message."""
    url = settings.queue.broker_url.get_secret_value()
    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
    except _BROKER_DOWN as exc:
        from intake.errors import ToolError

        raise ToolError(f"the broker does not answer ({type(exc).__name__})",
                        subject="queue.broker_url") from None
    finally:
        client.close()
    return f"redis, queue {settings.queue.name}"


def enqueue(job_id: int) -> None:
    """Hand a queued job to the workers (``Services.dispatch`` in distributed mode). A broker
    that cannot be reached loses nothing: the job is queued in the database, and the workers'
    sweep sends it once the broker is back."""
    try:
        _send(START, job_id)
    except (BrokerError, OSError) as exc:
        log.warning("job %s could not be sent to the broker (%s); the workers' sweep will "
                    "send it", job_id, exc)


# One worker process's adapters -------------------------------------------------------------


@dataclass
class _Worker:
    settings: Settings
    db: Database
    store: ObjectStore
    options: ReviewOptions
    ledger: PageLedger
    cache: Path
    pid: int = field(default_factory=os.getpid)
    _verifier: Verifier | None = None
    _verifier_loaded: bool = False
    _kinds: dict[str, str] = field(default_factory=dict)

    def verifier(self) -> Verifier | None:
        if not self._verifier_loaded:  # the precise engine's models: once per process
            from intake.cli import make_verifier

            self._verifier = make_verifier(self.settings.ocr.verify_engine)
            self._verifier_loaded = True
        return self._verifier

    def original(self, name: str, sha256: str, key: str) -> Path:
        """The original, fetched once per machine into the cache (under its own name, which
        the review reports it by)."""
        if Path(name).name != name or name in ("", ".", ".."):
            raise InputError(f"the document name {name!r} cannot be a file name", subject=key)
        target = self.cache / sha256 / name
        if not target.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.{os.getpid()}.part")
            self.store.download(key, partial)
            partial.replace(target)  # atomic: other processes see the whole file or none
        return target

    def kind(self, path: Path, sha256: str) -> str:
        if sha256 not in self._kinds:
            self._kinds[sha256] = load.open_document(
                path, max_bytes=self.options.max_bytes, max_pages=self.options.max_pages,
                max_pixels=self.options.max_pixels).kind.value
        return self._kinds[sha256]


_context: _Worker | None = None
_inherited: list[_Worker] = []  # a forked parent's; never used, never closed (its sockets)


def context() -> _Worker:
    global _context  # noqa: PLW0603 - one set of adapters per process, made on first use
    if _context is not None and _context.pid == os.getpid():
        return _context
    if _context is not None:
        _inherited.append(_context)
    settings = _settings or Settings()
    _init_worker()  # one page at a time per process: OCR libraries' own threads only contend
    db = Database(settings.database.url)
    _context = _Worker(settings=settings, db=db, store=open_store(settings),
                       options=review_options(settings), ledger=PageLedger(db),
                       cache=settings.data_dir / "cache" / "originals")
    return _context


# Tasks ---------------------------------------------------------------------------------------


def _guarded(task: Task, job_id: int, work: Callable[[], None]) -> None:
    """Run a task's work: a transient error is retried with back-off, anything else (or a
    transient one that keeps coming) fails the job with its reason; other jobs go on."""
    ctx = context()
    try:
        work()
    except TRANSIENT as exc:
        retries = int(task.request.retries or 0)
        if retries < ctx.settings.queue.retries:
            delay = min(ctx.settings.queue.retry_backoff_max, 2 ** retries)
            log.warning("job %s: %s; trying again in %s s", job_id, exc, delay)
            raise task.retry(exc=exc, countdown=delay * random.uniform(0.8, 1.2)) from exc
        _fail(ctx, job_id, exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the job; the worker goes on
        _fail(ctx, job_id, exc)


def _fail(ctx: _Worker, job_id: int, exc: BaseException) -> None:
    try:
        service.fail_job(ctx.db, job_id, exc, actor=ACTOR)
    except DatabaseError:
        # The job stays running in the database; the sweep sends it again later.
        log.exception("job %s failed (%s) and the failure could not be recorded", job_id, exc)


def _start(job_id: int) -> None:
    """Send the pages of a job not yet read; the gather step when none is left."""
    ctx = context()
    job = ctx.db.job(job_id)
    if job.finished:
        return
    if job.dossier_id is None:
        raise InputError(f"job {job_id} names no dossier", subject=f"job:{job_id}")
    if ctx.db.report_of_job(job_id) is not None:
        _send(GATHER, job_id)
        return
    if job.state == JobState.QUEUED:
        ctx.db.update_job(job_id, state=JobState.RUNNING, stage="read",
                          progress=service._STAGE_END["fetch"], actor=ACTOR)
    dossier = ctx.db.dossier(job.dossier_id)
    campaign = ctx.db.latest_record(dossier.lab.campaign, dossier.lab.lab_id).record().campaign
    done = ctx.ledger.done_pages(job_id)
    missing = [(document_id, number)
               for document_id, pages in _page_counts(ctx, dossier.documents)
               for number in range(1, pages + 1) if (document_id, number) not in done]
    if not missing:
        _send(GATHER, job_id)
        return
    for document_id, number in missing:
        _send(PAGE, job_id, document_id, number, campaign)


def _page_counts(ctx: _Worker, documents: tuple[tuple[int, str, str, int | None], ...]
                 ) -> list[tuple[int, int]]:
    counts = []
    for document_id, name, sha256, kept in documents:
        pages = kept
        if pages is None:  # not counted when received: open the original
            path = ctx.original(name, sha256, ctx.db.document_key(document_id))
            pages = load.open_document(path, max_bytes=ctx.options.max_bytes,
                                       max_pages=ctx.options.max_pages,
                                       max_pixels=ctx.options.max_pixels).page_count
        counts.append((document_id, pages))
    return counts


def _read(job_id: int, document_id: int, number: int, campaign: str) -> None:
    """Read one page, keep its image and result, and count it done."""
    ctx = context()
    job = ctx.db.job(job_id)
    if job.finished or job.dossier_id is None:
        return
    begun = ctx.ledger.begin(job_id, document_id, number,
                             busy_seconds=ctx.settings.queue.visibility_timeout / 2)
    if begun.busy:
        return  # another worker is reading it now; if that one dies, its message comes back
    documents = {d[0]: d for d in ctx.db.dossier(job.dossier_id).documents}
    _, name, sha256, _pages = documents[document_id]
    result_key = derived_key(sha256, PAGE_RESULT.format(job=job_id, number=number))
    if not begun.done:
        if begun.attempts > ctx.settings.queue.page_attempts:
            raise InputError(f"page {number} of {name} stopped the worker reading it "
                             f"{begun.attempts - 1} times; it is not read again",
                             subject=f"job:{job_id}")
        path = ctx.original(name, sha256, ctx.db.document_key(document_id))
        options = ctx.options
        with tempfile.TemporaryDirectory(prefix="dossier-page-") as tmp:
            result = _safe_read_page(PageTask(
                path=str(path), kind=ctx.kind(path, sha256), document=name, number=number,
                campaign=campaign, dpi=options.campaign_dpi, lang=options.lang, psm=options.psm,
                timeout=options.timeout, max_pixels=options.max_pixels, image_dir=tmp))
            image_key = None
            if result.image:
                image_key = ctx.store.put_derived(
                    sha256, service.PAGE_IMAGE.format(number=number), Path(result.image))
            result_key = ctx.store.put_derived(
                sha256, PAGE_RESULT.format(job=job_id, number=number),
                serialize.dumps(replace(result, image=image_key)))
    counted = ctx.ledger.done(job_id, document_id, number, result_key=result_key)
    if counted.newly:
        share = service._STAGE_END["fetch"] + (
            service._STAGE_END["read"] - service._STAGE_END["fetch"]) * min(
            1.0, counted.done / max(1, counted.total))
        with contextlib.suppress(InputError):  # finished meanwhile
            ctx.db.update_job(job_id, stage="read", progress=share, actor=ACTOR)
    if counted.complete:
        _send(GATHER, job_id)


def _gather(job_id: int) -> None:
    """Every page is read: the dossier stages, then the report kept and the job done."""
    ctx = context()
    with ctx.ledger.gather_lock(job_id):
        job = ctx.db.job(job_id)
        if job.finished or job.dossier_id is None:
            return
        if ctx.db.report_of_job(job_id) is not None:  # kept by a gather that died after
            ctx.db.update_job(job_id, state=JobState.DONE, stage="done", actor=ACTOR)
            return
        dossier = ctx.db.dossier(job.dossier_id)
        stored_record = ctx.db.latest_record(dossier.lab.campaign, dossier.lab.lab_id)
        done = ctx.ledger.done_pages(job_id)
        pages = [(document_id, name, sha256, number)
                 for (document_id, count), (_, name, sha256, _p) in zip(
                     _page_counts(ctx, dossier.documents), dossier.documents, strict=True)
                 for number in range(1, count + 1)]
        missing = [(d, n) for d, _, _, n in pages if (d, n) not in done]
        if missing:  # sent too early (cannot happen through the ledger); start sends them
            _send(START, job_id)
            return
        progress = service.JobProgress(ctx.db, job_id, len(pages))
        paths = [ctx.original(name, sha256, ctx.db.document_key(document_id))
                 for document_id, name, sha256, _pages in dossier.documents]
        documents = open_documents(paths, ctx.options)
        with tempfile.TemporaryDirectory(prefix="dossier-gather-") as tmp:
            results = []
            lost = []
            for document_id, _name, _sha256, number in pages:
                try:
                    result = serialize.loads(ctx.store.get_bytes(done[(document_id, number)]))
                except ObjectNotFoundError:
                    lost.append((document_id, number))
                    continue
                if result.image and result.page.text_source is not TextSource.TEXT_LAYER:
                    local = Path(tmp) / f"{document_id}-{number}.jpg"
                    ctx.store.download(result.image, local)
                    result = replace(result, image=str(local))
                else:  # the dossier stages look at no image of a text-layer page
                    result = replace(result, image=None)
                results.append(result)
            if lost:  # read again
                for document_id, number in lost:
                    ctx.ledger.forget(job_id, document_id, number)
                _send(START, job_id)
                return
            started = time.perf_counter() - (
                datetime.now(UTC) - (job.started_at or job.created_at)).total_seconds()
            printout = None
            if dossier.online is not None:  # the online system's PDF: its text layer, quickly
                online_id, name, sha256, _pages = dossier.online
                printout = read_online(ctx.original(name, sha256, ctx.db.document_key(online_id)),
                                       stored_record.record(), replace(ctx.options, workers=1))
            report, _results = finish_review(results, stored_record.record(), documents,
                                             ctx.verifier(), started, on_stage=progress.stage,
                                             online=printout)
        progress.stage("save")
        ctx.db.add_report(dossier.id, record_id=stored_record.id,
                          document_ids=[d[0] for d in dossier.documents], data=report_json(report),
                          actor=ACTOR, job_id=job_id)
        ctx.db.update_job(job_id, state=JobState.DONE, stage="done", actor=ACTOR)


def _start_task(task: Task, job_id: int) -> None:
    _guarded(task, job_id, lambda: _start(job_id))


def _page_task(task: Task, job_id: int, document_id: int, number: int, campaign: str) -> None:
    _guarded(task, job_id, lambda: _read(job_id, document_id, number, campaign))


def _gather_task(task: Task, job_id: int) -> None:
    _guarded(task, job_id, lambda: _gather(job_id))




# The sweep: jobs whose messages were lost are sent again ----------------------------------


def sweep() -> list[int]:
    """Send again the jobs that nothing has moved for ``queue.stall_seconds``."""
    ctx = context()
    try:
        stalled = ctx.ledger.stalled(ctx.settings.queue.stall_seconds)
    except DatabaseError as exc:
        log.warning("the sweep could not read the jobs: %s", exc)
        return []
    for job_id in stalled:
        log.info("job %s has not moved for %s s; sending it again", job_id,
                 ctx.settings.queue.stall_seconds)
        enqueue(job_id)
    return stalled


class Sweeper(bootsteps.StartStopStep):  # type: ignore[misc]
    """Runs ``sweep`` in the worker's main process, on its timer, from start-up on."""

    requires: ClassVar[set[str]] = {"celery.worker.components:Timer"}

    def __init__(self, worker: Any, **kwargs: Any) -> None:
        super().__init__(worker, **kwargs)
        self.tref: Any = None

    def start(self, worker: Any) -> None:
        interval = (_settings or Settings()).queue.sweep_seconds
        self.tref = worker.timer.call_repeatedly(interval, sweep, priority=10)

    def stop(self, worker: Any) -> None:
        if self.tref is not None:
            self.tref.cancel()

