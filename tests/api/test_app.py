"""The web API, end to end in one process: real SQLite, real local store, the embedded worker
reviewing real generated dossiers (text-layer PDFs, so no OCR time), every route tried by
every role, and a recommending unit that reaches for another unit's data gets 404."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.support import CAMPAIGN, PASSWORD, _bearer, _files, _login, _settings, _wait


@pytest.fixture(scope="module")
def reviewed(service: dict[str, Any], batch: dict[str, Any]) -> dict[str, Any]:
    """Lab 1 and lab 2 (with discrepancies) uploaded by the secretariat and reviewed."""
    client = service["client"]
    sec = _login(client, "sec")
    out = {}
    for lab in batch["labs"][:2]:
        response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                               headers=_bearer(sec), files=_files(lab))
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/api/jobs/{response.json()['job_id']}"
        job = _wait(client, sec, response.json()["job_id"])
        assert job["state"] == "done", job
        assert job["pages_done"] == job["pages_total"] > 0
        out[lab["lab_id"]] = {"job": job, "report_id": job["report_id"],
                              "dossier_id": response.json()["dossier_id"]}
    return out


# Log-in and sessions ----------------------------------------------------------------------

def test_health_needs_no_login_and_says_what_works(service):
    body = service["client"].get("/health").json()
    assert body["status"] == "ok"
    assert body["worker"] == "embedded"
    assert body["tesseract"]


def test_without_a_login_every_data_route_answers_401_in_both_languages(service):
    client = service["client"]
    for path in ("/api/me", f"/api/campaigns/{CAMPAIGN}/labs", "/api/reports/1", "/api/jobs/1",
                 "/api/reports/1/pages/0/1.jpg", f"/api/campaigns/{CAMPAIGN}/findings.xlsx",
                 "/api/audit", "/api/users"):
        response = client.get(path)
        assert response.status_code == 401, path
        error = response.json()["error"]
        assert error["code"] == "not_authenticated"
        assert "登录" in error["message_zh"]


def test_a_wrong_password_is_refused_and_repeated_failures_are_rate_limited(service):
    client = service["client"]
    for _ in range(5):
        assert client.post("/api/login", json={"username": "rev-x", "password": "nope"}
                           ).status_code == 401
    response = client.post("/api/login", json={"username": "rev-x", "password": "nope"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_logout_ends_the_session(service):
    client = service["client"]
    token = _login(client, "rev")
    assert client.get("/api/me", headers=_bearer(token)).json()["role"] == "reviewer"
    assert client.post("/api/logout", headers=_bearer(token)).status_code == 200
    assert client.get("/api/me", headers=_bearer(token)).status_code == 401


def test_a_cookie_session_must_send_its_csrf_token_to_change_anything(service, reviewed, batch):
    client = service["client"]
    response = client.post("/api/login", json={"username": "rev", "password": PASSWORD})
    csrf = response.json()["csrf_token"]
    report_id = reviewed[batch["labs"][1]["lab_id"]]["report_id"]
    url = f"/api/reports/{report_id}/findings/0/decision"
    body = {"decision": "confirm", "reason": "核对纸质材料，确属不一致"}
    try:
        refused = client.post(url, json=body)
        assert refused.status_code == 403
        assert "CSRF" in refused.json()["error"]["message"]
        assert client.post(url, json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    finally:
        client.cookies.clear()


# Records import over HTTP ------------------------------------------------------------------

def test_only_the_secretariat_imports_records_and_a_bad_row_is_named(service, batch):
    client = service["client"]
    rev = _login(client, "rev")
    response = client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(rev),
                           files={"file": ("records.json", batch["records"].read_bytes())})
    assert response.status_code == 403
    sec = _login(client, "sec")
    broken = [dict(lab["record"]) for lab in batch["labs"]]
    broken[1] = {**broken[1], "identity": {**broken[1]["identity"], "credit_code": 12}}
    response = client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(sec),
                           files={"file": ("records.json",
                                           json.dumps(broken, ensure_ascii=False).encode())})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "bad_record"
    assert "credit_code" in error["message"]
    assert error["subject"] == "records.json"


# Upload, jobs, reports --------------------------------------------------------------------

def test_an_uploaded_dossier_is_reviewed_in_the_background_and_its_report_served(
        service, reviewed, batch):
    client = service["client"]
    sec = _login(client, "sec")
    clean, dirty = (reviewed[lab["lab_id"]]["report_id"] for lab in batch["labs"][:2])
    assert client.get(f"/api/reports/{clean}", headers=_bearer(sec)).json()["report"][
        "verdict"] == "pass"
    report = client.get(f"/api/reports/{dirty}", headers=_bearer(sec)).json()
    assert report["report"]["verdict"] == "fail"
    assert report["precheck"] is False
    html = client.get(f"/api/reports/{dirty}/html", headers=_bearer(sec))
    assert html.status_code == 200
    assert batch["labs"][1]["record"]["identity"]["lab_name"] in html.text
    pdf = client.get(f"/api/reports/{dirty}/pdf", headers=_bearer(sec))
    assert pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    notice = client.get(f"/api/reports/{dirty}/notice", headers=_bearer(sec))
    assert "请核实" in notice.text
    page = client.get(f"/api/reports/{dirty}/pages/0/1.jpg?boxes=true", headers=_bearer(sec))
    assert page.headers["content-type"] == "image/jpeg"
    assert page.content[:2] == b"\xff\xd8"
    failing = next(i for i, f in enumerate(report["report"]["findings"])
                   if f["status"] == "fail" and f["location"] and f["location"]["box"])
    crop = client.get(f"/api/reports/{dirty}/findings/{failing}/crop.jpg", headers=_bearer(sec))
    assert crop.content[:2] == b"\xff\xd8"


def test_the_job_streams_its_progress_as_server_sent_events(service, reviewed, batch):
    client = service["client"]
    sec = _login(client, "sec")
    job_id = reviewed[batch["labs"][0]["lab_id"]]["job"]["id"]
    with client.stream("GET", f"/api/jobs/{job_id}/events", headers=_bearer(sec)) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        text = "".join(stream.iter_text())
    events = [block for block in text.split("\n\n") if block.startswith("event:")]
    assert events[-1].startswith("event: end")
    final = json.loads(events[-1].split("data: ", 1)[1])
    assert final["state"] == "done"
    assert final["report_id"] == reviewed[batch["labs"][0]["lab_id"]]["report_id"]


def test_the_dashboard_lists_every_lab_with_its_stage_and_filters(service, reviewed, batch):
    client = service["client"]
    sec = _login(client, "sec")
    labs = client.get(f"/api/campaigns/{CAMPAIGN}/labs", headers=_bearer(sec)).json()
    by_id = {lab["lab_id"]: lab for lab in labs}
    assert set(by_id) == {lab["lab_id"] for lab in batch["labs"]}
    third = batch["labs"][2]["lab_id"]
    assert by_id[third]["stage"] == "not_received"
    dirty = by_id[batch["labs"][1]["lab_id"]]
    assert dirty["verdict"] == "fail"
    assert dirty["open_findings"] >= 1 or dirty["stage"] == "done"
    failed = client.get(f"/api/campaigns/{CAMPAIGN}/labs?verdict=fail", headers=_bearer(sec))
    assert [lab["lab_id"] for lab in failed.json()] == [batch["labs"][1]["lab_id"]]
    name = batch["labs"][0]["record"]["identity"]["lab_name"]
    found = client.get(f"/api/campaigns/{CAMPAIGN}/labs", params={"q": name[2:8]},
                       headers=_bearer(sec)).json()
    assert batch["labs"][0]["lab_id"] in [lab["lab_id"] for lab in found]


def test_the_campaign_export_has_a_row_per_finding(service, reviewed, batch):
    from openpyxl import load_workbook

    client = service["client"]
    sec = _login(client, "sec")
    response = client.get(f"/api/campaigns/{CAMPAIGN}/findings.xlsx", headers=_bearer(sec))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    summary = [row for row in book["汇总"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert {row[0] for row in summary} == {lab["lab_id"] for lab in batch["labs"]}
    problems = list(book["问题清单"].iter_rows(min_row=2, values_only=True))
    assert any(row[0] == batch["labs"][1]["lab_id"] for row in problems)


def test_a_reviewer_dismisses_a_finding_with_a_reason_and_it_is_in_the_audit_trail(
        service, reviewed, batch):
    client = service["client"]
    rev = _login(client, "rev")
    report_id = reviewed[batch["labs"][1]["lab_id"]]["report_id"]
    url = f"/api/reports/{report_id}/findings/1/decision"
    assert client.post(url, json={"decision": "dismiss", "reason": ""},
                       headers=_bearer(rev)).status_code == 422
    made = client.post(url, json={"decision": "dismiss", "reason": "扫描件字迹清晰，与网上一致"},
                       headers=_bearer(rev))
    assert made.status_code == 201
    assert made.json()["decision_zh"] == "驳回"
    report = client.get(f"/api/reports/{report_id}", headers=_bearer(rev)).json()
    assert report["decisions"]["1"]["reason"] == "扫描件字迹清晰，与网上一致"
    trail = client.get(f"/api/reports/{report_id}/audit", headers=_bearer(rev)).json()
    dismissal = [e for e in trail if e["action"] == "finding.dismiss"]
    assert dismissal
    assert dismissal[-1]["actor"] == "user:rev"
    assert dismissal[-1]["detail"]["reason"] == "扫描件字迹清晰，与网上一致"


def test_roles_reviewers_do_not_upload_and_units_do_not_decide(service, reviewed, batch):
    client = service["client"]
    lab = batch["labs"][0]
    rev = _login(client, "rev")
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(rev), files=_files(lab))
    assert response.status_code == 403
    unit = _login(client, "unit1")
    report_id = reviewed[lab["lab_id"]]["report_id"]
    response = client.post(f"/api/reports/{report_id}/findings/0/decision",
                           json={"decision": "dismiss", "reason": "x"}, headers=_bearer(unit))
    assert response.status_code == 403
    for path in ("/api/users", "/api/audit", "/api/jobs"):
        assert client.get(path, headers=_bearer(unit)).status_code == 403, path


def test_a_unit_sees_only_its_own_labs_and_gets_404_for_anything_of_another_unit(
        service, reviewed, batch):
    client = service["client"]
    own, other = batch["labs"][0], batch["labs"][1]
    unit = _login(client, "unit1")
    labs = client.get(f"/api/campaigns/{CAMPAIGN}/labs", headers=_bearer(unit)).json()
    assert {lab["lab_id"] for lab in labs} == {
        lab["lab_id"] for lab in batch["labs"] if lab["unit"] == own["unit"]}
    theirs = reviewed[other["lab_id"]]
    mine = reviewed[own["lab_id"]]
    assert client.get(f"/api/reports/{mine['report_id']}", headers=_bearer(unit)
                      ).status_code == 200
    for path in (f"/api/reports/{theirs['report_id']}",
                 f"/api/reports/{theirs['report_id']}/html",
                 f"/api/reports/{theirs['report_id']}/pdf",
                 f"/api/reports/{theirs['report_id']}/notice",
                 f"/api/reports/{theirs['report_id']}/pages/0/1.jpg",
                 f"/api/reports/{theirs['report_id']}/findings/0/crop.jpg",
                 f"/api/reports/{theirs['report_id']}/audit",
                 f"/api/jobs/{theirs['job']['id']}",
                 f"/api/jobs/{theirs['job']['id']}/events",
                 f"/api/dossiers/{theirs['dossier_id']}/documents/1",
                 f"/api/campaigns/{CAMPAIGN}/labs/{other['lab_id']}"):
        response = client.get(path, headers=_bearer(unit))
        assert response.status_code == 404, path
        assert other["record"]["identity"]["lab_name"] not in response.text
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{other['lab_id']}/dossiers",
                           headers=_bearer(unit), files=_files(other))
    assert response.status_code == 404
    book = client.get(f"/api/campaigns/{CAMPAIGN}/findings.xlsx", headers=_bearer(unit))
    assert other["lab_id"].encode() not in book.content  # the sheets are zipped XML
    from openpyxl import load_workbook

    rows = load_workbook(io.BytesIO(book.content))["汇总"].iter_rows(min_row=2, values_only=True)
    assert other["lab_id"] not in {row[0] for row in rows}


def test_a_units_upload_is_a_precheck_never_the_official_submission(service, reviewed, batch):
    client = service["client"]
    lab = batch["labs"][0]
    unit = _login(client, "unit1")
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(unit), files=_files(lab), data={"precheck": "false"})
    assert response.status_code == 202
    assert response.json()["precheck"] is True
    job = _wait(client, unit, response.json()["job_id"])
    assert job["state"] == "done"
    assert client.get(f"/api/reports/{job['report_id']}", headers=_bearer(unit)
                      ).json()["precheck"] is True
    summary = {s["lab_id"]: s for s in client.get(
        f"/api/campaigns/{CAMPAIGN}/labs", headers=_bearer(unit)).json()}[lab["lab_id"]]
    assert summary["report_id"] == reviewed[lab["lab_id"]]["report_id"]  # official unchanged
    assert summary["prechecks"] == 1
    assert summary["precheck_report_id"] == job["report_id"]


def test_a_bad_file_is_refused_with_its_name_and_nothing_is_kept(service, batch):
    client = service["client"]
    sec = _login(client, "sec")
    lab = batch["labs"][2]
    objects = service["tmp"] / "objects"
    kept_before = sorted(p for p in objects.rglob("*") if p.is_file())
    before = client.get(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}",
                        headers=_bearer(sec)).json()
    files = [*_files(lab), ("files", ("附件-扫描件.pdf", b"this is not a PDF at all", "application/pdf"))]
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(sec), files=files)
    assert response.status_code in (415, 422)
    error = response.json()["error"]
    assert error["subject"] == "附件-扫描件.pdf"
    assert error["message_zh"]
    after = client.get(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}",
                       headers=_bearer(sec)).json()
    assert after["dossiers"] == before["dossiers"]
    refusals = [e for e in client.get("/api/audit", headers=_bearer(sec)).json()
                if e["action"] == "upload.refused"]
    assert refusals
    assert "附件-扫描件.pdf" in refusals[-1]["detail"]["files"]
    assert sorted(p for p in objects.rglob("*") if p.is_file()) == kept_before


def test_the_original_is_served_byte_for_byte_to_those_who_may_see_it(service, reviewed, batch):
    client = service["client"]
    sec = _login(client, "sec")
    lab = batch["labs"][0]
    info = client.get(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}", headers=_bearer(sec)).json()
    dossier = next(d for d in info["dossiers"] if d["id"] == reviewed[lab["lab_id"]]["dossier_id"])
    document = dossier["documents"][0]
    response = client.get(f"/api/dossiers/{dossier['id']}/documents/{document['id']}",
                          headers=_bearer(sec))
    assert response.content == (lab["dir"] / document["name"]).read_bytes()


def _online(lab: dict[str, Any]) -> tuple[str, bytes, str]:
    return ("online.pdf", (lab["dir"] / "online.pdf").read_bytes(), "application/pdf")


def test_the_online_printout_sent_with_the_scans_is_compared_page_by_page(service, batch):
    client = service["client"]
    sec = _login(client, "sec")
    own, other = batch["labs"][0], batch["labs"][1]
    outcomes = {}
    for printout_of in (own, other):
        response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{own['lab_id']}/dossiers",
                               headers=_bearer(sec), data={"precheck": "true"},
                               files=[*_files(own), ("online", _online(printout_of))])
        assert response.status_code == 202, response.text
        dossier_id = response.json()["dossier_id"]
        job = _wait(client, sec, response.json()["job_id"])
        assert job["state"] == "done", job
        report = client.get(f"/api/reports/{job['report_id']}", headers=_bearer(sec)).json()
        outcomes[printout_of["lab_id"]] = [f for f in report["report"]["findings"]
                                           if f["rule"] == "printout.same"]
    # Its own printout matches the paper; another lab's printout differs on the pages where
    # the two labs' values differ, and the finding says which page.
    assert [f["status"] for f in outcomes[own["lab_id"]]] == ["pass"]
    altered = [f for f in outcomes[other["lab_id"]] if f["status"] == "fail"]
    assert altered
    assert all(f["location"]["page"] >= 1 for f in altered)
    assert any("网上系统打印件" in f["message"] for f in altered)
    # The printout is kept with the dossier and served as sent.
    info = client.get(f"/api/campaigns/{CAMPAIGN}/labs/{own['lab_id']}", headers=_bearer(sec))
    dossier = next(d for d in info.json()["dossiers"] if d["id"] == dossier_id)
    assert dossier["online"]["name"] == "online.pdf"
    assert all(d["name"] != "online.pdf" for d in dossier["documents"])
    kept = client.get(f"/api/dossiers/{dossier['id']}/documents/{dossier['online']['id']}",
                      headers=_bearer(sec))
    assert kept.content == (other["dir"] / "online.pdf").read_bytes()


def test_a_scan_sent_as_the_online_printout_is_refused_with_what_to_send(service, batch):
    from PIL import Image

    client = service["client"]
    sec = _login(client, "sec")
    lab = batch["labs"][0]
    scan = io.BytesIO()
    Image.new("RGB", (600, 800), "white").save(scan, format="PDF", resolution=100)
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(sec),
                           files=[*_files(lab), ("online", ("打印版.pdf", scan.getvalue(),
                                                            "application/pdf"))])
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["subject"] == "打印版.pdf"
    assert "text layer" in error["message"]
    assert "扫描件" in error["message_zh"]
    # The lab page's form sends an empty file part when no printout was chosen: no printout.
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(sec), data={"precheck": "true"},
                           files=[*_files(lab), ("online", ("", b"", "application/octet-stream"))])
    assert response.status_code == 202, response.text


# Batches ------------------------------------------------------------------------------------

def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_batch_zip_is_matched_to_labs_by_name_and_confirmed_into_jobs(service, batch):
    client = service["client"]
    sec = _login(client, "sec")
    lab = batch["labs"][2]
    entries = {f"{lab['lab_id']}/{name}": data for _field, (name, data, _type) in _files(lab)}
    entries["说明.pdf"] = next(iter(entries.values()))
    response = client.post(f"/api/campaigns/{CAMPAIGN}/batches", headers=_bearer(sec),
                           files=[("files", ("第一批.zip", _zip(entries), "application/zip"))])
    assert response.status_code == 201, response.text
    staged = response.json()
    proposals = {f["file"]: f["lab_id"] for f in staged["files"]}
    assert len(proposals) == len(entries)
    named = [f for f in proposals if f.startswith(lab["lab_id"])]
    assert len(named) == len(entries) - 1
    assert all(proposals[f] == lab["lab_id"] for f in named)
    assignments = [{"file": f, "lab_id": lab["lab_id"] if f in named else None} for f in proposals]
    confirmed = client.post(f"/api/batches/{staged['batch_id']}", headers=_bearer(sec),
                            json={"assignments": assignments})
    assert confirmed.status_code == 202, confirmed.text
    (job,) = confirmed.json()["jobs"]
    assert job["lab_id"] == lab["lab_id"]
    assert len(job["files"]) == len(named)
    assert _wait(client, sec, job["job_id"])["state"] == "done"
    again = client.post(f"/api/batches/{staged['batch_id']}", headers=_bearer(sec),
                        json={"assignments": assignments})
    assert again.status_code == 404


@pytest.mark.parametrize("member", ["../../etc/cron.d/x.pdf", "/etc/passwd", "C:/windows/x.pdf"])
def test_a_zip_whose_member_escapes_its_folder_is_refused_whole(service, member):
    client = service["client"]
    sec = _login(client, "sec")
    response = client.post(f"/api/campaigns/{CAMPAIGN}/batches", headers=_bearer(sec),
                           files=[("files", ("evil.zip", _zip({member: b"%PDF-1.4"}),
                                             "application/zip"))])
    assert response.status_code == 400
    assert response.json()["error"]["subject"] == "evil.zip"
    assert not any((service["tmp"] / "batches").glob("*/batch.json")) or all(
        member not in p.read_text("utf-8") for p in (service["tmp"] / "batches").glob("*/batch.json"))


def test_a_zip_bomb_is_refused(service):
    client = service["client"]
    sec = _login(client, "sec")
    bomb = _zip({"big.pdf": b"\0" * (64 * 1024 * 1024)})
    assert len(bomb) < 200_000
    response = client.post(f"/api/campaigns/{CAMPAIGN}/batches", headers=_bearer(sec),
                           files=[("files", ("bomb.zip", bomb, "application/zip"))])
    assert response.status_code == 413
    assert response.json()["error"]["subject"] == "bomb.zip"


# Restart ------------------------------------------------------------------------------------

def test_a_job_left_running_by_a_stopped_service_is_finished_after_a_restart(
        tmp_path: Path, batch: dict[str, Any]):
    settings = _settings(tmp_path, batch)
    lab = batch["labs"][0]
    app = create_app(settings, make_verifier=lambda: None, worker=False)
    with TestClient(app) as client:
        sec = _login(client, "sec")
        client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(sec),
                    files={"file": ("records.json", batch["records"].read_bytes())})
        job_id = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                             headers=_bearer(sec), files=_files(lab)).json()["job_id"]
        services = app.state.services
        claimed = services.db.claim_job()  # a worker takes it, then the service stops
        assert claimed is not None
        assert claimed.id == job_id
        assert client.get(f"/api/jobs/{job_id}", headers=_bearer(sec)).json()["state"] == "running"
    restarted = create_app(settings, make_verifier=lambda: None)
    with TestClient(restarted) as client:
        sec = _login(client, "sec")
        job = _wait(client, sec, job_id)
        assert job["state"] == "done"
        assert job["attempts"] == 2
        assert job["report_id"] is not None


def test_the_openapi_schema_is_published(service):
    schema = service["client"].get("/api/openapi.json").json()
    assert "/api/campaigns/{campaign}/labs/{lab_id}/dossiers" in schema["paths"]
