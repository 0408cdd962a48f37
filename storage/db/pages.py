"""Which pages of a job distributed workers have read: the database's truth for fanning a
dossier's pages out over workers and gathering them into one report.

Every operation on a job's pages first locks the job's row, so the page operations of one job
happen one after another (they are tiny): two workers finishing the last two pages cannot both
miss, or both see, the moment the last page is done.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from intake.errors import DatabaseError, NotFoundError
from storage.db.engine import SQLITE_BEGIN
from storage.db.models import JobPageRow, JobRow, JobState, PageState, utcnow
from storage.db.repository import Database
from storage.db.schema import first_line

# pg_advisory_lock(key, job id): the gather step of one job runs in one worker at a time.
GATHER_LOCK_KEY = 0x67617468  # "gath"


@dataclass(frozen=True)
class PageStart:
    done: bool  # read already: nothing to do
    attempts: int  # reads of this page started so far, this one included
    busy: bool = False  # another worker started reading it a moment ago: leave it to that one


@dataclass(frozen=True)
class PagesDone:
    done: int
    total: int
    newly: bool  # this call marked the page done (False: it was done already)

    @property
    def complete(self) -> bool:
        return self.done >= self.total


class PageLedger:
    """The ``job_page`` table of one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._write_engine = db.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database failed: {first_line(exc)}",
                                subject=self.db.url) from exc

    @staticmethod
    def _lock_job(session: Session, job_id: int) -> JobRow:
        job = session.scalar(select(JobRow).where(JobRow.id == job_id).with_for_update())
        if job is None:
            raise NotFoundError(f"there is no job {job_id}", subject=f"job:{job_id}")
        return job

    def begin(self, job_id: int, document_id: int, page: int, *,
              busy_seconds: float = 0.0) -> PageStart:
        """A worker starts reading a page: counted, so a page that keeps killing its worker
        can be given up on. A page another worker started less than ``busy_seconds`` ago is
        left to it (a duplicate message), not counted."""
        with self._write() as session:
            self._lock_job(session, job_id)
            row = session.scalar(select(JobPageRow).where(
                JobPageRow.job_id == job_id, JobPageRow.document_id == document_id,
                JobPageRow.page == page))
            if row is None:
                session.add(JobPageRow(job_id=job_id, document_id=document_id, page=page,
                                       state=PageState.RUNNING.value, attempts=1))
                return PageStart(done=False, attempts=1)
            if row.state == PageState.DONE.value:
                return PageStart(done=True, attempts=row.attempts)
            if row.updated_at > utcnow() - timedelta(seconds=busy_seconds):
                return PageStart(done=False, attempts=row.attempts, busy=True)
            row.attempts += 1
            return PageStart(done=False, attempts=row.attempts)

    def done(self, job_id: int, document_id: int, page: int, *, result_key: str) -> PagesDone:
        """Mark a page read (its result kept at ``result_key``) and count the job's pages."""
        with self._write() as session:
            job = self._lock_job(session, job_id)
            row = session.scalar(select(JobPageRow).where(
                JobPageRow.job_id == job_id, JobPageRow.document_id == document_id,
                JobPageRow.page == page))
            newly = row is None or row.state != PageState.DONE.value
            if row is None:
                session.add(JobPageRow(job_id=job_id, document_id=document_id, page=page,
                                       state=PageState.DONE.value, result_key=result_key))
            elif newly:
                row.state, row.result_key = PageState.DONE.value, result_key
            session.flush()
            done = session.scalar(select(func.count()).select_from(JobPageRow).where(
                JobPageRow.job_id == job_id, JobPageRow.state == PageState.DONE.value)) or 0
            if newly:
                job.pages_done = done
            return PagesDone(done=done, total=job.pages_total, newly=newly)

    def done_pages(self, job_id: int) -> dict[tuple[int, int], str]:
        """(document id, page) -> result key of every page of the job read so far."""
        with self._write() as session:
            rows = session.execute(select(JobPageRow.document_id, JobPageRow.page,
                                          JobPageRow.result_key).where(
                JobPageRow.job_id == job_id, JobPageRow.state == PageState.DONE.value))
            return {(d, p): key or "" for d, p, key in rows}

    def attempts(self, job_id: int) -> dict[tuple[int, int], int]:
        with self._write() as session:
            rows = session.execute(select(JobPageRow.document_id, JobPageRow.page,
                                          JobPageRow.attempts).where(JobPageRow.job_id == job_id))
            return {(d, p): n for d, p, n in rows}

    def forget(self, job_id: int, document_id: int, page: int) -> None:
        """A page whose kept result is gone is read again."""
        with self._write() as session:
            job = self._lock_job(session, job_id)
            session.execute(delete(JobPageRow).where(
                JobPageRow.job_id == job_id, JobPageRow.document_id == document_id,
                JobPageRow.page == page))
            job.pages_done = max(0, job.pages_done - 1)

    def stalled(self, seconds: float, *, kind: str = "review") -> list[int]:
        """Jobs queued or running that nothing has moved for ``seconds`` (their tasks were lost
        with a broker that restarted empty, say). Each is touched, so that of several workers
        looking at once only one sends it again, and not again for ``seconds``."""
        cutoff = utcnow() - timedelta(seconds=seconds)
        with self._write() as session:
            jobs = list(session.scalars(select(JobRow).where(
                JobRow.kind == kind,
                JobRow.state.in_((JobState.QUEUED.value, JobState.RUNNING.value)),
                JobRow.updated_at < cutoff).order_by(JobRow.id)
                .with_for_update(skip_locked=True)))
            for job in jobs:
                job.updated_at = utcnow()
            return [job.id for job in jobs]

    @contextmanager
    def gather_lock(self, job_id: int) -> Iterator[None]:
        """Held while one worker gathers a job's pages into its report, so a redelivered or
        duplicated gather waits and then finds the report kept. PostgreSQL releases the lock
        when the holder's connection drops (a killed worker). SQLite, one machine only, has
        no such lock: there the gather is not guarded."""
        if self.db.engine.dialect.name != "postgresql":
            yield
            return
        try:
            connection = self.db.engine.connect()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database failed: {first_line(exc)}",
                                subject=self.db.url) from exc
        key = {"key": GATHER_LOCK_KEY, "job": job_id}
        try:
            connection.execute(text("SELECT pg_advisory_lock(CAST(:key AS integer), "
                                    "CAST(:job AS integer))"), key)
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(CAST(:key AS integer), "
                                        "CAST(:job AS integer))"), key)
                connection.commit()
        except SQLAlchemyError as exc:
            raise DatabaseError(f"the database failed: {first_line(exc)}",
                                subject=self.db.url) from exc
        finally:
            connection.close()
