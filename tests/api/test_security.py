"""Who may reach what, and what leaks: every route needs a log-in but log-in and health, the
headers a browser needs, passwords hashed, sessions that end, nothing secret in the logs, and no
route that changes the audit log."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import CAMPAIGN, PASSWORD, _bearer, _files, _login, _settings, _wait

PUBLIC = {("POST", "/api/login"), ("GET", "/health")}


def _concrete(path: str) -> str:
    return (path.replace("{campaign}", CAMPAIGN).replace("{lab_id}", "L2021-001")
            .replace("{batch_id}", "x" * 24).replace("{document}", "0").replace("{number}", "1")
            .replace("{index}", "0")
            .replace("{report_id}", "1").replace("{job_id}", "1").replace("{dossier_id}", "1")
            .replace("{document_id}", "1"))


def test_every_route_but_log_in_and_health_needs_a_log_in(service):
    client = service["client"]
    client.cookies.clear()
    paths = client.get("/api/openapi.json").json()["paths"]
    checked = 0
    for path, operations in paths.items():
        for method in operations:
            if (method.upper(), path) in PUBLIC:
                continue
            response = client.request(method.upper(), _concrete(path),
                                      headers={"Accept": "application/json"})
            assert response.status_code in (401, 303, 307), (method, path, response.status_code)
            if response.status_code != 401:
                assert response.headers["location"].startswith("/login")
            checked += 1
    assert checked >= 25


def test_responses_carry_the_security_headers(service):
    response = service["client"].get("/health")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["referrer-policy"] == "same-origin"


def test_passwords_are_kept_as_argon2_hashes(service):
    found = service["app"].state.services.db.user_credentials("sec")
    assert found is not None
    _, stored = found
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_the_session_cookie_is_http_only_and_same_site(service):
    response = service["client"].post("/api/login", json={"username": "rev", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    service["client"].cookies.clear()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_a_session_ends_when_it_expires(tmp_path: Path, batch: dict[str, Any]):
    settings = _settings(tmp_path, batch)
    settings.api.session_hours = 1.5 / 3600  # one and a half seconds
    with TestClient(create_app(settings, make_verifier=lambda: None, worker=False)) as client:
        token = _login(client, "rev")
        assert client.get("/api/me", headers=_bearer(token)).status_code == 200
        time.sleep(2)
        assert client.get("/api/me", headers=_bearer(token)).status_code == 401


def test_no_route_can_change_the_audit_log(service):
    client = service["client"]
    sec = _login(client, "sec")
    paths = client.get("/api/openapi.json").json()["paths"]
    for path, operations in paths.items():
        if "audit" in path:
            assert set(operations) == {"get"}, path
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, "/api/audit", headers=_bearer(sec)).status_code == 405
    before = client.get("/api/audit", headers=_bearer(sec)).json()
    client.request("DELETE", "/api/audit", headers=_bearer(sec))
    after = client.get("/api/audit", headers=_bearer(sec)).json()
    assert after[: len(before)] == before


def test_neither_passwords_tokens_nor_file_contents_reach_the_log(
        service, batch, caplog: pytest.LogCaptureFixture):
    client = service["client"]
    lab = batch["labs"][2]
    marker = "统一社会信用代码"
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/login", json={"username": "sec", "password": PASSWORD})
        token = response.json()["token"]
        client.cookies.clear()
        bad = client.post("/api/login", json={"username": "sec", "password": "wrong-" + PASSWORD})
        assert bad.status_code == 401
        upload = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                             headers=_bearer(token), files=_files(lab))
        _wait(client, token, upload.json()["job_id"])
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert PASSWORD not in text
    assert token not in text
    assert marker not in text
