"""What the API tests share: a generated batch, settings for a service in a temporary
folder, log-in and polling helpers."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from intake.settings import Settings
from samples.generate import generate_batch

PASSWORD = "correct-horse-1"
CAMPAIGN = "2021"


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("batch")
    manifest = generate_batch(root, labs=3, seed=11, text_layer=True, discrepancies=2,
                              online=True)
    labs = []
    for lab in manifest["labs"]:
        record = json.loads((root / lab["lab_id"] / "record.json").read_text("utf-8"))
        labs.append({"lab_id": lab["lab_id"], "dir": root / lab["lab_id"],
                     "unit": record["identity"]["recommending_unit"], "record": record})
    assert labs[0]["unit"] != labs[1]["unit"]
    records = root / "records.json"
    records.write_text(json.dumps([lab["record"] for lab in labs], ensure_ascii=False), "utf-8")
    return {"root": root, "labs": labs, "records": records}


def _settings(tmp: Path, batch: dict[str, Any]) -> Settings:
    labs = batch["labs"]
    users = ";".join([f"sec:{PASSWORD}:secretariat", f"rev:{PASSWORD}:reviewer",
                      f"unit1:{PASSWORD}:unit:{labs[0]['unit']}",
                      f"unit2:{PASSWORD}:unit:{labs[1]['unit']}"])
    return Settings(data_dir=tmp, database={"url": f"sqlite:///{tmp}/dossier.db"},
                    storage={"root": tmp / "objects"}, ocr={"workers": 1},
                    api={"bootstrap_users": users})


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, batch: dict[str, Any]):
    tmp = tmp_path_factory.mktemp("service")
    app = create_app(_settings(tmp, batch), make_verifier=lambda: None)
    with TestClient(app) as client:
        token = _login(client, "sec")
        response = client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(token),
                               files={"file": ("records.json", batch["records"].read_bytes())})
        assert response.status_code == 200, response.text
        yield {"app": app, "client": client, "tmp": tmp}


def _login(client: TestClient, name: str, password: str = PASSWORD) -> str:
    response = client.post("/api/login", json={"username": name, "password": password})
    assert response.status_code == 200, response.text
    client.cookies.clear()  # tests speak with bearer tokens unless they test the cookie
    return str(response.json()["token"])


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _files(lab: dict[str, Any]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "application/pdf"))
            for p in sorted(lab["dir"].glob("*.pdf")) if p.name != "online.pdf"]


def _wait(client: TestClient, token: str, job_id: int, timeout: float = 120) -> dict[str, Any]:
    """The job once it has finished; a 503 while the database is away is waited out."""
    deadline = time.monotonic() + timeout
    job: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = client.get(f"/api/jobs/{job_id}", headers=_bearer(token))
        if response.status_code != 503:
            assert response.status_code == 200, response.text
            job = response.json()
            if job["state"] in ("done", "failed"):
                return job
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {job}")
