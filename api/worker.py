"""The embedded worker: a thread in the service's process that takes queued jobs from the
database one at a time and runs them (each review uses the page process pool itself).

The database is the queue: a job is claimed by an update that only one worker can win, and
jobs left ``running`` by a process that stopped are queued again when a worker starts, so a
restart loses nothing and a reload of the page shows the stored progress.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from api import service
from intake.errors import ToolError
from intake.pipeline import ReviewOptions, Verifier
from storage.db import Database
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


class EmbeddedWorker:
    def __init__(self, db: Database, store: ObjectStore, options: ReviewOptions,
                 make_verifier: Callable[[], Verifier | None], *, poll_seconds: float = 1.0) -> None:
        self.db, self.store, self.options = db, store, options
        self._make_verifier = make_verifier
        self._verifier: Verifier | None = None
        self._verifier_loaded = False
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.busy = False

    def start(self) -> None:
        requeued = self.db.requeue_running()
        if requeued:
            log.info("jobs %s were running when the service stopped; queued again", requeued)
        self._thread = threading.Thread(target=self._loop, name="dossier-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def verifier(self) -> Verifier | None:
        if not self._verifier_loaded:  # the precise engine's models load once, on first use
            self._verifier = self._make_verifier()
            self._verifier_loaded = True
        return self._verifier

    def run_once(self) -> bool:
        """Run the next queued job; False when there was none."""
        job = self.db.claim_job((service.REVIEW_JOB,))
        if job is None:
            return False
        self.busy = True
        try:
            if job.attempts > MAX_ATTEMPTS:
                service.fail_job(self.db, job.id, ToolError(
                    f"the review was interrupted {job.attempts - 1} times (the service stopped "
                    "or crashed while reading it); it is not tried again: upload the files again "
                    "or ask the administrator to look at the server log", subject=f"job:{job.id}"))
                return True
            service.run_job(job.id, db=self.db, store=self.store, options=self.options,
                            verifier=self.verifier())
        except service.TRANSIENT as exc:
            # The database or the store went away before the work could be kept: the job goes
            # back to the queue once they answer again, and runs again (idempotently).
            reason = exc.code
            log.warning("job %s interrupted (%s); queued again when the service is back",
                        job.id, reason)
            service.retry_transient(
                lambda: self.db.requeue_job(job.id, reason=reason),
                what=f"job {job.id}: queueing it again", seconds=float("inf"))
        except Exception as exc:  # noqa: BLE001 - a failed job is recorded; the worker goes on
            service.fail_job(self.db, job.id, exc)
        finally:
            self.busy = False
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.run_once()
            except Exception:
                log.exception("the worker could not take a job; trying again")
                ran = False
            if not ran:
                self._wake.wait(self.poll_seconds)
                self._wake.clear()
