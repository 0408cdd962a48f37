"""The ledger of a job's pages that distributed workers share: a page counted once however
often it is read, the last page seen exactly once, lost jobs found again (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import threading
import time

import pytest
from sqlalchemy import text

from intake.model import Document, DocumentKind
from storage.db import JobState
from storage.db.pages import PageLedger


@pytest.fixture
def job(db, records):
    db.import_records("2021", records[:1], actor="t", source="t")
    dossier = db.add_dossier("2021", records[0].lab_id, actor="t")
    doc = Document("volume-1.pdf", hashlib.sha256(b"v1").hexdigest(), 2, DocumentKind.PDF, 3)
    document_id = db.add_document(dossier, doc, storage_key="originals/x", actor="t")
    job_id = db.add_job("review", dossier_id=dossier, actor="t")
    db.update_job(job_id, pages_total=3)
    return job_id, document_id


def test_a_page_read_twice_is_counted_once_and_the_last_page_is_seen(db, job):
    job_id, doc = job
    ledger = PageLedger(db)
    assert ledger.begin(job_id, doc, 1).attempts == 1
    first = ledger.done(job_id, doc, 1, result_key="k1")
    assert (first.done, first.total, first.newly, first.complete) == (1, 3, True, False)
    again = ledger.done(job_id, doc, 1, result_key="other")  # a duplicate delivery
    assert (again.done, again.newly) == (1, False)
    assert ledger.begin(job_id, doc, 1).done
    ledger.done(job_id, doc, 2, result_key="k2")
    last = ledger.done(job_id, doc, 3, result_key="k3")
    assert last.complete
    assert last.newly
    assert ledger.done_pages(job_id) == {(doc, 1): "k1", (doc, 2): "k2", (doc, 3): "k3"}
    assert db.job(job_id).pages_done == 3


def test_a_page_started_again_counts_its_attempts_unless_another_worker_has_it(db, job):
    job_id, doc = job
    ledger = PageLedger(db)
    ledger.begin(job_id, doc, 2)
    assert ledger.begin(job_id, doc, 2, busy_seconds=60).busy  # someone is reading it now
    assert ledger.begin(job_id, doc, 2, busy_seconds=0).attempts == 2  # that one died
    assert ledger.attempts(job_id) == {(doc, 2): 2}


def test_a_page_whose_result_is_lost_is_forgotten_and_read_again(db, job):
    job_id, doc = job
    ledger = PageLedger(db)
    ledger.done(job_id, doc, 1, result_key="k1")
    ledger.forget(job_id, doc, 1)
    assert ledger.done_pages(job_id) == {}
    assert db.job(job_id).pages_done == 0
    assert not ledger.begin(job_id, doc, 1).done


def test_jobs_nothing_has_moved_are_found_once(db, job):
    job_id, _doc = job
    ledger = PageLedger(db)
    assert ledger.stalled(60) == []
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE job SET updated_at = :t WHERE id = :id"),
                           {"t": "2020-01-01 00:00:00+00:00", "id": job_id})
    assert ledger.stalled(60) == [job_id]
    assert ledger.stalled(60) == []  # touched: not sent again by the next look
    db.update_job(job_id, state=JobState.FAILED, error="x", error_code="x")
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE job SET updated_at = :t WHERE id = :id"),
                           {"t": "2020-01-01 00:00:00+00:00", "id": job_id})
    assert ledger.stalled(60) == []  # finished jobs are left alone


# SQLite has no gather lock (one machine, one gatherer): PostgreSQL only.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_the_gather_lock_lets_one_worker_in_at_a_time(db, job):
    job_id, _doc = job
    ledger = PageLedger(db)
    inside: list[str] = []

    def second() -> None:
        with ledger.gather_lock(job_id):
            inside.append("second")

    with ledger.gather_lock(job_id):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        inside.append("first")
    thread.join(10)
    assert inside == ["first", "second"]
