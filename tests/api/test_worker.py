"""The embedded worker gives up on a job that keeps being interrupted, and says why."""

from pathlib import Path

from api.worker import MAX_ATTEMPTS, EmbeddedWorker
from intake.pipeline import ReviewOptions
from storage.db import Database
from storage.local import LocalStore


def test_a_job_interrupted_too_often_fails_with_its_reason(tmp_path: Path):
    db = Database(f"sqlite:///{tmp_path}/dossier.db")
    db.migrate()
    job_id = db.add_job("review", actor="test")
    for _ in range(MAX_ATTEMPTS):  # taken, then the service stopped mid-review, each time
        assert db.claim_job() is not None
        db.requeue_job(job_id, reason="restart")
    worker = EmbeddedWorker(db, LocalStore(tmp_path / "objects"), ReviewOptions(),
                            make_verifier=lambda: None)
    assert worker.run_once()
    job = db.job(job_id)
    assert job.state == "failed"
    assert job.error_code == "tool_failed"
    assert f"interrupted {MAX_ATTEMPTS} times" in (job.error or "")
    db.dispose()
