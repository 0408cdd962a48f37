"""Faults of the real services the API depends on: the database going away in the middle of a
review, the S3 server stopping in the middle of an upload. The database is taken away through a
TCP proxy (the PostgreSQL server itself is shared with tests running in parallel); the S3
server is a private SeaweedFS instance, really stopped."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from api.app import create_app
from intake.pipeline import Verifier
from samples.generate import generate_batch
from storage.db import Database
from tests.api.support import CAMPAIGN, _bearer, _files, _login, _settings, _wait
from tests.proxy import Proxy
from tests.storage.db.conftest import POSTGRES_ADMIN_URL
from tests.storage.seaweed import start_seaweed

TABLE = Path(__file__).resolve().parents[2] / "docs" / "fault-table-services.md"
OBSERVED: dict[str, str] = {}


@pytest.fixture(scope="module", autouse=True)
def fault_table() -> Iterator[None]:
    yield
    if len(OBSERVED) < 2:
        return  # a partial run leaves the table as it was
    lines = ["# Faults of the services: observed behaviour", "",
             "Written by `tests/api/test_faults.py` on every run; do not edit by hand. The "
             "hostile-input cases are in [fault-table.md](fault-table.md).", "",
             "| Fault | Observed |", "|---|---|"]
    lines += [f"| {fault} | {seen} |" for fault, seen in OBSERVED.items()]
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def proxied_postgres() -> Iterator[tuple[str, Proxy]]:
    """A fresh PostgreSQL database reached through a proxy the test can cut."""
    name = f"dossier_fault_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_ADMIN_URL)
    proxy = Proxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        yield url.set(database=name, port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        proxy.close()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One scanned dossier (the OCR path, whose re-reads mark the moment of the outage)."""
    root = tmp_path_factory.mktemp("scanned")
    manifest = generate_batch(root, labs=1, seed=23, degrade="light")
    lab_id = manifest["labs"][0]["lab_id"]
    record = json.loads((root / lab_id / "record.json").read_text("utf-8"))
    records = root / "records.json"
    records.write_text(json.dumps([record], ensure_ascii=False), "utf-8")
    return {"records": records, "labs": [{"lab_id": lab_id, "dir": root / lab_id,
                                          "unit": record["identity"]["recommending_unit"]}]}


@pytest.mark.slow
def test_the_database_going_away_mid_review_delays_the_job_and_loses_nothing(
        tmp_path: Path, scanned: dict[str, Any], proxied_postgres: tuple[str, Proxy]):
    url, proxy = proxied_postgres
    settings = _settings(tmp_path, {"labs": scanned["labs"] * 2})
    settings.database.url = url
    outage = threading.Event()

    def go_away() -> None:
        # The first re-read is the moment the database goes away, for 4 seconds.
        if not outage.is_set():
            outage.set()
            proxy.cut()
            threading.Timer(4.0, proxy.restore).start()

    def read_line(_image: Any) -> tuple[str, float]:
        go_away()
        return "", 0.0

    def read_block(_image: Any) -> list[Any]:
        go_away()
        return []

    verifier = Verifier("outage", read_line=read_line, read_block=read_block)
    batch = scanned
    lab = batch["labs"][0]
    with TestClient(create_app(settings, make_verifier=lambda: verifier)) as client:
        sec = _login(client, "sec")
        client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(sec),
                    files={"file": ("records.json", batch["records"].read_bytes())})
        job_id = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                             headers=_bearer(sec), files=_files(lab)).json()["job_id"]
        job = _wait(client, sec, job_id, timeout=180)
    assert outage.is_set()
    assert job["state"] == "done", job
    assert job["pages_done"] == job["pages_total"]
    db = Database(url)
    try:
        entries = db.audit_entries()
        reports = [e for e in entries if e.action == "report.add"]
        assert len(reports) == 1  # kept once, whatever was retried
    finally:
        db.dispose()
    OBSERVED["PostgreSQL unreachable for 4 s in the middle of a review"] = (
        f"progress writes skipped while it was away; the report kept after retries; job "
        f"{job['state']}, {job['pages_done']}/{job['pages_total']} pages, 1 report, "
        f"attempts {job['attempts']}")


class StopsAfterFirstOriginal:
    """The real S3 store, and the real server stopped right after the first original is kept."""

    def __init__(self, store: Any, stop: Any) -> None:
        self._store, self._stop, self.kept = store, stop, 0

    def put_original(self, source: Any, *, name: str) -> Any:
        result = self._store.put_original(source, name=name)
        self.kept += 1
        if self.kept == 1:
            self._stop()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_the_store_stopping_mid_upload_is_a_clear_error_and_no_dossier_is_half_kept(
        tmp_path: Path, batch: dict[str, Any]):
    server = start_seaweed(tmp_path / "seaweed")
    try:
        store = StopsAfterFirstOriginal(server.store(timeout=3.0), server.stop)
        settings = _settings(tmp_path, batch)
        lab = batch["labs"][0]
        with TestClient(create_app(settings, store=store, make_verifier=lambda: None)) as client:
            sec = _login(client, "sec")
            client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(sec),
                        files={"file": ("records.json", batch["records"].read_bytes())})
            response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                                   headers=_bearer(sec), files=_files(lab))
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "storage_unavailable"
            assert "稍后重试" in error["message_zh"]
            info = client.get(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}",
                              headers=_bearer(sec)).json()
            assert info["dossiers"] == []  # no dossier, no document rows point at anything
            refusals = [e for e in client.get("/api/audit", headers=_bearer(sec)).json()
                        if e["action"] == "upload.refused"]
            assert refusals[-1]["detail"]["code"] == "storage_unavailable"
            assert client.get("/health").json()["status"] == "degraded"
            OBSERVED["S3 server stopped after the first of the dossier's files was kept"] = (
                f"HTTP 503 {error['code']} ({error['message_zh']}); no dossier or document row; "
                "refusal audited; /health says degraded; the one original already kept is a "
                "whole, content-addressed object that a later upload reuses")
    finally:
        server.stop()
