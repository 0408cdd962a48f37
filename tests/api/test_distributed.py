"""Distributed mode on the real things on loopback: Celery workers started as `dossier worker`
processes, Redis, PostgreSQL and an S3 server (SeaweedFS); the report must be the embedded
one, whatever happens to a worker or to the broker on the way."""

from __future__ import annotations

import contextlib
import copy
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select

from api import service
from api.app import create_app
from intake.cli import make_verifier
from intake.pipeline import ReviewOptions
from intake.record import record_from_dict
from intake.settings import Settings, settings_with
from samples.generate import generate_batch
from storage.db import Database, database_url
from storage.db.models import JobPageRow
from storage.local import LocalStore
from tests.storage.seaweed import Seaweed

pytestmark = pytest.mark.slow

BROKER = os.environ.get("DOSSIER_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
CAMPAIGN = "2021"
PASSWORD = "correct-horse-1"
DOSSIER = Path(sys.executable).with_name("dossier")
VERIFY = "rapidocr"
# The scanned dossier: one bound copy with its approval page, and the association's letter.
SCANNED_FILES = ("volume-1.pdf", "opinion-1.pdf", "letter.pdf")


# Samples and the embedded reference --------------------------------------------------------


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("distributed-samples")
    generate_batch(root / "scans", labs=1, seed=11, degrade="light", online=True)
    scanned = root / "scans" / "L2021-001"
    generate_batch(root / "text", labs=3, seed=23, text_layer=True, discrepancies=2)
    text_labs = sorted(p for p in (root / "text").iterdir() if p.is_dir())
    return {
        "scanned": {"lab_id": "L2021-001", "files": [scanned / n for n in SCANNED_FILES],
                    "online": scanned / "online.pdf",
                    "record": json.loads((scanned / "record.json").read_text("utf-8"))},
        "text": [{"lab_id": d.name, "files": sorted(d.glob("*.pdf")),
                  "record": json.loads((d / "record.json").read_text("utf-8"))}
                 for d in text_labs],
    }


def _embedded_report(tmp: Path, lab: dict[str, Any], verify: str) -> dict[str, Any]:
    """The lab's report as embedded mode makes it: SQLite, local files, the page process pool."""
    db = Database(f"sqlite:///{tmp}/embedded.db")
    db.migrate()
    try:
        db.import_records(CAMPAIGN, [record_from_dict(lab["record"])], actor="test", source="t")
        submission = service.submit(
            lab["files"], campaign=CAMPAIGN, lab_id=lab["lab_id"], db=db,
            store=LocalStore(tmp / "objects"), options=ReviewOptions(workers=2),
            verifier=make_verifier(verify), actor="test", online=lab.get("online"))
        return submission.data
    finally:
        db.dispose()


@pytest.fixture(scope="module")
def scanned_reference(samples: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
                      ) -> dict[str, Any]:
    return _embedded_report(tmp_path_factory.mktemp("embedded-scan"), samples["scanned"], VERIFY)


def comparable(report: dict[str, Any]) -> dict[str, Any]:
    """A report without what differs between any two runs: when, and how long."""
    data = copy.deepcopy(report)
    del data["created_at"], data["seconds"]
    for page in data["pages"]:
        del page["seconds"]
    return data


# The distributed deployment ---------------------------------------------------------------


@dataclass
class Deployment:
    """Workers, and the settings they and the API share, on one queue of their own."""

    tmp: Path
    env: dict[str, str]
    database_url: str
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def settings(self, **extra: str) -> Settings:
        return settings_with({**self.env, **extra})

    def start_worker(self, name: str) -> subprocess.Popen[bytes]:
        log = (self.tmp / f"{name}.log").open("ab")
        data = self.tmp / name
        data.mkdir(exist_ok=True)
        process = subprocess.Popen(
            [str(DOSSIER), "worker", "--concurrency", "1", "--name", name, "--loglevel", "info"],
            env={**os.environ, **self.env, "DOSSIER_DATA_DIR": str(data)},
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)  # its own process group: a kill takes its pool with it
        log.close()
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen[bytes]) -> None:
        """SIGKILL the worker and its pool process: nothing is cleaned up or acknowledged."""
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)

    def stop(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.workers:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.tmp.glob("*.log")))


def _schema_url(base: str) -> str:
    from sqlalchemy.engine import make_url

    schema = f"d{secrets.token_hex(4)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        admin.dispose()
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextlib.contextmanager
def deploy(tmp: Path, postgres_database: str, seaweed: Seaweed,
           queue: dict[str, str] | None = None) -> Iterator[Deployment]:
    """A schema of its own, a bucket of its own, a queue (and broker key prefix) of its own."""
    url = _schema_url(postgres_database)
    token = secrets.token_hex(4)
    env = {
        "DOSSIER_MODE": "distributed",
        "DOSSIER_DATA_DIR": str(tmp / "api"),
        "DOSSIER_DATABASE__URL": url,
        "DOSSIER_STORAGE__BACKEND": "s3",
        "DOSSIER_STORAGE__ENDPOINT": seaweed.endpoint,
        "DOSSIER_STORAGE__ACCESS_KEY": seaweed.access_key,
        "DOSSIER_STORAGE__SECRET_KEY": seaweed.secret_key,
        "DOSSIER_STORAGE__BUCKET": f"dist-{token}",
        "DOSSIER_OCR__VERIFY_ENGINE": VERIFY,
        "DOSSIER_OCR__WORKERS": "1",
        "DOSSIER_QUEUE__BROKER_URL": BROKER,
        "DOSSIER_QUEUE__NAME": f"dossier-test-{token}",
        "DOSSIER_QUEUE__KEY_PREFIX": f"dossier-test-{token}:",
        "DOSSIER_QUEUE__RESTORE_SECONDS": "1",
        "DOSSIER_QUEUE__VISIBILITY_TIMEOUT": "60",
        "DOSSIER_QUEUE__STALL_SECONDS": "600",
        "DOSSIER_QUEUE__SWEEP_SECONDS": "1",
        "DOSSIER_QUEUE__RETRIES": "8",
        **(queue or {}),
    }
    db = Database(url)
    db.migrate()
    db.dispose()
    deployed = Deployment(tmp, env, url)
    try:
        yield deployed
    finally:
        deployed.stop()
        keys = redis.Redis.from_url(env["DOSSIER_QUEUE__BROKER_URL"])
        try:
            for key in keys.scan_iter(match=f"{env['DOSSIER_QUEUE__KEY_PREFIX']}*"):
                keys.delete(key)
        except redis.ConnectionError:
            pass
        finally:
            keys.close()


@pytest.fixture
def deployment(tmp_path: Path, postgres_database: str, seaweed: Seaweed,
               request: pytest.FixtureRequest) -> Iterator[Deployment]:
    with deploy(tmp_path, postgres_database, seaweed, getattr(request, "param", None)) as deployed:
        yield deployed


def _submit(deployment: Deployment, labs: list[dict[str, Any]],
            received_hook: Any = None) -> list[int]:
    """Receive the labs' dossiers and hand their jobs to the queue, as the API does."""
    from api import tasks

    settings = deployment.settings()
    tasks.configure(settings)
    from storage import open_store

    db = Database(deployment.database_url)
    try:
        db.import_records(CAMPAIGN, [record_from_dict(lab["record"]) for lab in labs],
                          actor="test", source="t")
        jobs = []
        for lab in labs:
            received = service.receive(lab["files"], campaign=CAMPAIGN, lab_id=lab["lab_id"],
                                       db=db, store=open_store(settings),
                                       options=ReviewOptions(), actor="test",
                                       online=lab.get("online"))
            if received_hook is not None:
                received_hook(lab, received)
            tasks.enqueue(received.job_id)
            jobs.append(received.job_id)
        return jobs
    finally:
        db.dispose()


def _wait(deployment: Deployment, job_ids: list[int], timeout: float) -> dict[int, Any]:
    db = Database(deployment.database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = {j: db.job(j) for j in job_ids}
            if all(job.finished for job in jobs.values()):
                return jobs
            time.sleep(0.25)
        raise AssertionError(f"jobs did not finish in {timeout} s: {jobs}\n{deployment.logs()}")
    finally:
        db.dispose()


def _report_of(deployment: Deployment, job_id: int) -> dict[str, Any]:
    db = Database(deployment.database_url)
    try:
        report_id = db.report_of_job(job_id)
        assert report_id is not None, deployment.logs()
        assert len(db.reports(db.job(job_id).dossier_id or 0)) == 1  # kept once, not per gather
        return db.report(report_id).data
    finally:
        db.dispose()


def _pages(deployment: Deployment, job_id: int) -> list[JobPageRow]:
    engine = create_engine(database_url(deployment.database_url))
    try:
        with engine.connect() as connection:
            return list(connection.execute(select(JobPageRow).where(JobPageRow.job_id == job_id)))
    finally:
        engine.dispose()


def _assert_every_page_counted_once(deployment: Deployment, job_id: int) -> list[Any]:
    db = Database(deployment.database_url)
    try:
        job = db.job(job_id)
    finally:
        db.dispose()
    rows = _pages(deployment, job_id)
    assert job.state == "done", (job, deployment.logs())
    assert job.pages_done == job.pages_total == len(rows) > 0
    assert {(r.document_id, r.page) for r in rows}.__len__() == len(rows)
    assert all(r.state == "done" for r in rows)
    return rows


# Tests --------------------------------------------------------------------------------------


def test_a_dossier_reviewed_by_workers_gets_the_embedded_report(
        deployment: Deployment, samples: dict[str, Any], scanned_reference: dict[str, Any]):
    """Through the API: the upload is queued on the broker, two workers read its pages and
    one gathers them; no worker runs inside the API."""
    for name in ("w1", "w2"):
        deployment.start_worker(name)
    lab = samples["scanned"]
    settings = deployment.settings(DOSSIER_API__BOOTSTRAP_USERS=f"sec:{PASSWORD}:secretariat")
    app = create_app(settings, make_verifier=lambda: None)
    with TestClient(app) as client:
        assert app.state.services.worker is None
        health = client.get("/health").json()
        assert health["worker"] == "distributed (dossier worker)"
        assert health["broker"].startswith("redis")
        token = client.post("/api/login", json={"username": "sec", "password": PASSWORD}
                            ).json()["token"]
        client.cookies.clear()
        auth = {"Authorization": f"Bearer {token}"}
        records = json.dumps([lab["record"]], ensure_ascii=False).encode("utf-8")
        response = client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=auth,
                               files={"file": ("records.json", records)})
        assert response.status_code == 200, response.text
        response = client.post(
            f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers", headers=auth,
            files=[*[("files", (p.name, p.read_bytes(), "application/pdf"))
                     for p in lab["files"]],
                   ("online", ("online.pdf", lab["online"].read_bytes(), "application/pdf"))])
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
    _wait(deployment, [job_id], timeout=300)
    rows = _assert_every_page_counted_once(deployment, job_id)
    # The gather compares the paper with the online system's printout, as embedded mode does.
    assert any(f["rule"] == "printout.same" for f in scanned_reference["findings"])
    assert comparable(_report_of(deployment, job_id)) == comparable(scanned_reference)
    # both workers read pages
    assert "dossier.page" in (deployment.tmp / "w1.log").read_text()
    assert "dossier.page" in (deployment.tmp / "w2.log").read_text()
    assert len(rows) == sum(d["pages"] for d in scanned_reference["documents"])


# A dead worker's message comes back after the visibility timeout; a message lost in the
# instant between the broker handing it out and the worker noting it (kombu's Redis transport
# has that window) is sent again by the workers' sweep of stalled jobs, made short here.
@pytest.mark.parametrize("deployment", [{"DOSSIER_QUEUE__VISIBILITY_TIMEOUT": "15",
                                         "DOSSIER_QUEUE__STALL_SECONDS": "30",
                                         "DOSSIER_QUEUE__SWEEP_SECONDS": "5"}],
                         indirect=True)
def test_a_worker_killed_mid_dossier_loses_no_page_and_counts_none_twice(
        deployment: Deployment, samples: dict[str, Any], scanned_reference: dict[str, Any]):
    victim = deployment.start_worker("victim")
    deployment.start_worker("survivor")
    (job_id,) = _submit(deployment, [samples["scanned"]])
    deadline = time.monotonic() + 240
    while True:  # kill it once pages are being read, some done and some not
        done = [r for r in _pages(deployment, job_id) if r.state == "done"]
        total = sum(d["pages"] for d in scanned_reference["documents"])
        if 2 <= len(done) < total - 1:
            break
        assert len(done) < total - 1, "the dossier was read before the worker could be killed"
        assert time.monotonic() < deadline, deployment.logs()
        time.sleep(0.1)
    deployment.kill(victim)
    _wait(deployment, [job_id], timeout=300)
    rows = _assert_every_page_counted_once(deployment, job_id)
    assert comparable(_report_of(deployment, job_id)) == comparable(scanned_reference)
    # a page the victim had begun when it died was read again, and still counted once
    assert all(r.attempts <= 2 for r in rows), deployment.logs()


@dataclass
class OwnRedis:
    port: int
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("redis-server") or "redis-server", "--port", str(self.port),
             "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        for _ in range(100):
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
            finally:
                client.close()
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis(_free_port())
    server.start()
    yield server
    server.stop()


def test_a_batch_survives_a_redis_restart(tmp_path: Path, postgres_database: str,
                                          seaweed: Seaweed, samples: dict[str, Any],
                                          own_redis: OwnRedis):
    """Redis keeps nothing on disk here: its restart loses every queued message. The workers
    reconnect, and what the database says is unfinished is sent again."""
    queue = {"DOSSIER_QUEUE__BROKER_URL": f"redis://127.0.0.1:{own_redis.port}/0",
             "DOSSIER_QUEUE__STALL_SECONDS": "4", "DOSSIER_OCR__VERIFY_ENGINE": "none"}
    with deploy(tmp_path, postgres_database, seaweed, queue) as deployed:
        for name in ("w1", "w2"):
            deployed.start_worker(name)
        labs = samples["text"]
        job_ids = _submit(deployed, labs)
        deadline = time.monotonic() + 120
        while not any(r.state == "done" for j in job_ids for r in _pages(deployed, j)):
            assert time.monotonic() < deadline, deployed.logs()
            time.sleep(0.05)
        own_redis.stop()
        unfinished = [j for j in job_ids
                      if len([r for r in _pages(deployed, j) if r.state == "done"]) == 0]
        assert unfinished, "the batch was read before Redis could be restarted"
        time.sleep(1.0)
        own_redis.start()
        jobs = _wait(deployed, job_ids, timeout=240)
        assert all(job.state == "done" for job in jobs.values()), (jobs, deployed.logs())
        for job_id in job_ids:
            _assert_every_page_counted_once(deployed, job_id)
        references = [_embedded_report(tmp_path / f"ref-{i}", lab, "none")
                      for i, lab in enumerate(labs)]
        for job_id, reference in zip(job_ids, references, strict=True):
            assert comparable(_report_of(deployed, job_id)) == comparable(reference)


def test_a_dossier_that_cannot_be_read_fails_with_its_reason_and_the_batch_goes_on(
        deployment: Deployment, samples: dict[str, Any], seaweed: Seaweed):
    labs = samples["text"][:2]
    broken = labs[0]["lab_id"]

    def lose_an_original(lab: dict[str, Any], received: Any) -> None:
        if lab["lab_id"] == broken:  # the store lost it after it was received
            seaweed.client().remove_object(deployment.env["DOSSIER_STORAGE__BUCKET"],
                                           received.originals[-1].key)

    deployment.start_worker("w1")
    job_ids = _submit(deployment, labs, lose_an_original)
    jobs = _wait(deployment, job_ids, timeout=120)
    failed, done = jobs[job_ids[0]], jobs[job_ids[1]]
    assert failed.state == "failed", deployment.logs()
    assert failed.error_code == "object_not_found", failed
    assert "originals/" in (failed.error or ""), failed.error  # says which object is missing
    assert done.state == "done", deployment.logs()
    _assert_every_page_counted_once(deployment, job_ids[1])
