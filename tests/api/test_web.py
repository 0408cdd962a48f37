"""The Chinese UI's pages, on a campaign of two labs reviewed for real from their text layers
(no OCR, seconds each): log-in, the dashboard, a unit's scope, a reviewer's decisions."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.auth import hash_password
from api.service import receive, submit
from intake.pipeline import ReviewOptions
from intake.record import record_from_dict
from intake.settings import Settings
from samples.generate import generate_batch
from storage.db import Database, JobState
from storage.db.models import Role
from storage.local import LocalStore

CAMPAIGN = "2021"
PASSWORD = "password-2021"


class Campaign:
    """Two labs of different recommending units; the second one's dossier has discrepancies."""

    def __init__(self, root: Path) -> None:
        manifest = generate_batch(root / "batch", labs=2, seed=21, text_layer=True,
                                  discrepancies=1)
        self.db = Database(f"sqlite:///{root / 'dossier.db'}")
        self.db.migrate()
        self.store = LocalStore(root / "objects")
        self.settings = Settings(data_dir=root, database={"url": f"sqlite:///{root / 'dossier.db'}"},
                                 storage={"root": root / "objects"})
        records = [json.loads((root / "batch" / lab["lab_id"] / "record.json").read_text("utf-8"))
                   for lab in manifest["labs"]]
        self.db.import_records(CAMPAIGN, [record_from_dict(r) for r in records], actor="test",
                               source="records.json")
        self.labs = [r["lab_id"] for r in records]
        self.units = [r["identity"]["recommending_unit"] for r in records]
        assert self.units[0] != self.units[1]
        self.reports = []
        self.files = [sorted((root / "batch" / lab_id).glob("*.pdf")) for lab_id in self.labs]
        for lab_id, files in zip(self.labs, self.files, strict=True):
            done = submit(files, campaign=CAMPAIGN, lab_id=lab_id, db=self.db, store=self.store,
                          options=ReviewOptions(workers=1), verifier=None, actor="user:sec")
            self.reports.append(done.report.id)
        assert self.db.report(self.reports[1]).verdict == "fail"
        for name, role, unit in (("sec", Role.SECRETARIAT, None), ("rev", Role.REVIEWER, None),
                                 ("unit", Role.UNIT, self.units[0])):
            self.db.add_user(name, password_hash=hash_password(PASSWORD), role=role,
                             display_name=f"{name} 的名字", unit=unit, actor="test")
        self.app = create_app(self.settings, db=self.db, store=self.store, worker=False)

    def client(self, user: str | None = None) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        if user:
            answer = client.post("/login", data={"username": user, "password": PASSWORD,
                                                 "next": "/"})
            assert answer.status_code == 303, answer.text
        return client


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    made = Campaign(tmp_path_factory.mktemp("web"))
    yield made
    made.db.dispose()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the page has no CSRF field"
    return found.group(1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


# Log-in ---------------------------------------------------------------------------------------

def test_every_page_sends_a_stranger_to_the_log_in_page(campaign):
    client = campaign.client()
    for path in ("/", f"/campaigns/{CAMPAIGN}", f"/reports/{campaign.reports[0]}",
                 f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[0]}"):
        answer = client.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")
    answer = client.get(f"/campaigns/{CAMPAIGN}?q=x")
    assert answer.headers["location"] == "/login?next=" + quote(f"/campaigns/{CAMPAIGN}?q=x",
                                                                  safe="")


def test_logging_in_leads_to_the_page_asked_for(campaign):
    client = campaign.client()
    form = client.get(f"/login?next=/campaigns/{CAMPAIGN}")
    assert form.status_code == 200
    assert "登录" in form.text
    assert f'value="/campaigns/{CAMPAIGN}"' in form.text
    answer = client.post("/login", data={"username": "rev", "password": PASSWORD,
                                         "next": f"/campaigns/{CAMPAIGN}"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/campaigns/{CAMPAIGN}"
    home = client.get("/")
    assert home.headers["location"] == f"/campaigns/{CAMPAIGN}"
    page = client.get(f"/campaigns/{CAMPAIGN}")
    assert "rev 的名字" in page.text
    assert "审查人员" in page.text


def test_log_in_never_leads_to_another_site(campaign):
    client = campaign.client()
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = client.post("/login", data={"username": "rev", "password": PASSWORD,
                                             "next": target})
        assert answer.headers["location"] == "/"


def test_a_wrong_password_is_told_in_chinese_and_lets_no_one_in(campaign):
    client = campaign.client()
    answer = client.post("/login", data={"username": "rev", "password": "wrong-one",
                                         "next": "/"})
    assert answer.status_code == 401
    assert "用户名或密码错误" in answer.text
    assert "dossier_session" not in answer.headers.get("set-cookie", "")
    assert client.get("/").status_code == 303


def test_too_many_failed_log_ins_are_refused_for_a_while(campaign):
    # An app of its own: the limiter counts failures per client address, and every test
    # client has the same one.
    client = TestClient(create_app(campaign.settings, db=campaign.db, store=campaign.store,
                                   worker=False), follow_redirects=False)
    for _ in range(campaign.settings.api.login_attempts):
        client.post("/login", data={"username": "sec", "password": "wrong-one"})
    answer = client.post("/login", data={"username": "sec", "password": PASSWORD})
    assert answer.status_code == 429
    assert "登录失败次数过多" in answer.text
    assert "秒后再试" in answer.text


def test_log_out_needs_the_csrf_token_and_ends_the_session(campaign):
    client = campaign.client("rev")
    page = client.get(f"/campaigns/{CAMPAIGN}").text
    assert client.post("/logout").status_code == 403
    assert client.get(f"/campaigns/{CAMPAIGN}").status_code == 200
    answer = client.post("/logout", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login"
    assert client.get(f"/campaigns/{CAMPAIGN}").status_code == 303


def test_before_any_campaign_the_secretariat_is_offered_the_records_import(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    db.migrate()
    db.add_user("sec", password_hash=hash_password(PASSWORD), role=Role.SECRETARIAT,
                display_name="秘书处", actor="test")
    settings = Settings(data_dir=tmp_path, database={"url": f"sqlite:///{tmp_path / 'empty.db'}"},
                        storage={"root": tmp_path / "objects"})
    client = TestClient(create_app(settings, db=db, store=LocalStore(tmp_path / "objects"),
                                   worker=False), follow_redirects=False)
    client.post("/login", data={"username": "sec", "password": PASSWORD})
    page = client.get("/")
    assert page.status_code == 200
    assert "尚无复核批次" in page.text
    assert "data-records" in page.text
    assert 'name="campaign"' in page.text
    db.dispose()


# The dashboard --------------------------------------------------------------------------------

def test_the_dashboard_shows_every_lab_with_stage_verdict_and_open_findings(campaign):
    page = campaign.client("sec").get(f"/campaigns/{CAMPAIGN}")
    assert page.status_code == 200
    text = text_of(page.text)
    for lab_id in campaign.labs:
        assert lab_id in text
    failing = re.search(rf'<tr data-lab="{campaign.labs[1]}">(.*?)</tr>', page.text, re.S)
    assert failing
    row = text_of(failing.group(1))
    assert "待复核" in row
    assert "未通过" in row
    assert f"/reports/{campaign.reports[1]}" in failing.group(1)
    assert f"/api/campaigns/{CAMPAIGN}/findings.xlsx" in page.text
    assert f"/campaigns/{CAMPAIGN}/upload" in page.text
    assert "data-records" in page.text  # the secretariat imports the online records here


def test_the_dashboard_filters_and_searches_on_the_server(campaign):
    client = campaign.client("rev")
    failing = client.get(f"/campaigns/{CAMPAIGN}", params={"verdict": "fail"}).text
    assert f'data-lab="{campaign.labs[1]}"' in failing
    assert f'data-lab="{campaign.labs[0]}"' not in failing
    found = client.get(f"/campaigns/{CAMPAIGN}", params={"q": campaign.labs[0].lower()}).text
    assert f'data-lab="{campaign.labs[0]}"' in found
    assert f'data-lab="{campaign.labs[1]}"' not in found
    none = client.get(f"/campaigns/{CAMPAIGN}", params={"stage": "running"}).text
    assert "没有符合条件的实验室" in none
    # A reviewer neither uploads nor imports records.
    assert f"/campaigns/{CAMPAIGN}/upload" not in found
    assert "data-records" not in found


def test_an_unknown_campaign_is_the_not_found_page(campaign):
    answer = campaign.client("sec").get("/campaigns/1999")
    assert answer.status_code == 404
    assert "未找到" in answer.text


# A recommending unit's scope ------------------------------------------------------------------

def test_a_unit_sees_only_its_own_labs(campaign):
    page = campaign.client("unit").get(f"/campaigns/{CAMPAIGN}").text
    assert f'data-lab="{campaign.labs[0]}"' in page
    assert campaign.labs[1] not in page
    assert campaign.units[1] not in page


def test_a_unit_gets_the_not_found_page_for_another_units_lab_and_report(campaign):
    client = campaign.client("unit")
    for path in (f"/reports/{campaign.reports[1]}",
                 f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[1]}"):
        answer = client.get(path)
        assert answer.status_code == 404
        assert "未找到，或您无权查看" in answer.text
        assert campaign.labs[1] not in answer.text  # not even which lab a report is of
    # ... the same answer as for a report that does not exist.
    assert client.get("/reports/99999").status_code == 404


def test_a_malformed_address_is_the_bad_input_page_not_a_server_error(campaign):
    client = campaign.client("rev")
    for path in ("/reports/abc", "/reports/99999999999999999999", "/reports/0",
                 f"/reports/{campaign.reports[1]}?page=x"):
        answer = client.get(path)
        assert answer.status_code == 400, path
        assert "输入有误" in answer.text


def test_a_unit_reads_its_own_report_but_has_no_decision_form(campaign):
    page = campaign.client("unit").get(f"/reports/{campaign.reports[0]}")
    assert page.status_code == 200
    assert "/findings/0/decision" not in page.text
    assert 'name="reason"' not in page.text


def test_a_unit_may_not_decide_even_by_posting_the_form(campaign):
    client = campaign.client("unit")
    token = csrf_of(client.get(f"/campaigns/{CAMPAIGN}").text)
    answer = client.post(f"/reports/{campaign.reports[0]}/findings/0/decision",
                         data={"csrf_token": token, "decision": "dismiss", "reason": "x"})
    assert answer.status_code == 403
    assert campaign.db.dispositions(campaign.reports[0]) == []


# The lab page and uploads ---------------------------------------------------------------------

def test_the_lab_page_lists_the_dossier_with_its_finished_job_and_report(campaign):
    page = campaign.client("sec").get(f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[1]}").text
    job = re.search(r'<div class="job[^"]*" data-job="(\d+)" data-state="(\w+)"', page)
    assert job
    assert job.group(2) == "done"
    assert 'style="width: 100%"' in page
    assert f'href="/reports/{campaign.reports[1]}"' in page
    assert "正式" in page
    assert 'name="precheck"' in page
    assert 'type="checkbox"' in page
    assert f'data-upload="/api/campaigns/{CAMPAIGN}/labs/{campaign.labs[1]}/dossiers"' in page


def test_a_running_jobs_stored_progress_is_what_the_page_shows(campaign):
    """A reload draws the bar where the job is, before any event arrives."""
    received = receive(campaign.files[0], campaign=CAMPAIGN, lab_id=campaign.labs[0],
                       db=campaign.db, store=campaign.store, options=ReviewOptions(workers=1),
                       actor="user:unit", precheck=True)
    total = campaign.db.job(received.job_id).pages_total
    campaign.db.update_job(received.job_id, state=JobState.RUNNING, stage="read", progress=0.5,
                           pages_done=6)
    client = campaign.client("unit")
    page = client.get(f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[0]}").text
    block = re.search(rf'<article class="dossier is-precheck">(?:(?!</article>).)*'
                      rf'data-job="{received.job_id}" data-state="running".*?</article>', page, re.S)
    assert block, "no running precheck on the lab page"
    assert "预审" in block.group(0)
    assert 'style="width: 50%"' in block.group(0)
    assert "识别页面" in block.group(0)
    assert f"6/{total} 页" in block.group(0)
    # The official submission's stage is not the precheck's; the dashboard counts it apart.
    row = re.search(rf'<tr data-lab="{campaign.labs[0]}">(.*?)</tr>',
                    client.get(f"/campaigns/{CAMPAIGN}").text, re.S)
    assert row
    assert "已完成" in text_of(row.group(1))
    assert "1 次" in text_of(row.group(1))


def test_a_units_upload_form_is_always_a_precheck_and_a_reviewer_has_none(campaign):
    unit_page = campaign.client("unit").get(f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[0]}")
    assert 'type="checkbox" name="precheck"' not in unit_page.text
    assert "均作为<b>预审</b>" in unit_page.text
    reviewer_page = campaign.client("rev").get(f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[0]}")
    assert 'id="upload-form"' not in reviewer_page.text


def test_only_the_secretariat_has_the_batch_upload_page(campaign):
    page = campaign.client("sec").get(f"/campaigns/{CAMPAIGN}/upload")
    assert page.status_code == 200
    assert f'data-batch="/api/campaigns/{CAMPAIGN}/batches"' in page.text
    for lab_id in campaign.labs:
        assert f'<option value="{lab_id}">' in page.text
    assert campaign.client("rev").get(f"/campaigns/{CAMPAIGN}/upload").status_code == 403
    assert campaign.client("unit").get(f"/campaigns/{CAMPAIGN}/upload").status_code == 403


# The report page ------------------------------------------------------------------------------

def test_the_report_page_shows_each_failed_finding_with_both_values_and_its_evidence(campaign):
    client = campaign.client("rev")
    report_id = campaign.reports[1]
    page = client.get(f"/reports/{report_id}").text
    data = campaign.db.report(report_id).data
    assert "未通过" in page
    failed = [(i, f) for i, f in enumerate(data["findings"]) if f["status"] == "fail"]
    assert failed
    for index, finding in failed:
        card = re.search(rf'<article [^>]*id="finding-{index}">(.*?)</article>', page, re.S)
        assert card, f"no card for finding {index}"
        body = card.group(1)
        assert html.escape(finding["title"]) in body
        if finding.get("expected") and finding.get("found"):
            plain = text_of(body).replace(" ", "")
            assert finding["expected"].replace(" ", "") in plain
            assert finding["found"].replace(" ", "") in plain
            assert "<mark>" in body  # the difference is marked
        crop = f"/api/reports/{report_id}/findings/{index}/crop.jpg"
        assert f'src="{crop}" loading="lazy"' in body
    crop = client.get(f"/api/reports/{report_id}/findings/{failed[0][0]}/crop.jpg")
    assert crop.status_code == 200
    assert crop.content[:2] == b"\xff\xd8"
    viewer = re.search(r'data-viewer-image src="([^"]+)"', page)
    assert viewer
    assert viewer.group(1).endswith("?boxes=true")
    assert client.get(html.unescape(viewer.group(1))).headers["content-type"] == "image/jpeg"
    for link in ("html", "pdf", "notice", "notice.pdf"):
        assert f'href="/api/reports/{report_id}/{link}"' in page


def test_the_page_viewer_shows_the_page_asked_for(campaign):
    page = campaign.client("rev").get(f"/reports/{campaign.reports[1]}",
                                      params={"doc": 0, "page": 1}).text
    assert f'data-viewer-image src="/api/reports/{campaign.reports[1]}/pages/0/1.jpg' in page


def test_a_dismissal_with_its_reason_shows_in_the_findings_audit_trail(campaign):
    client = campaign.client("rev")
    report_id = campaign.reports[1]
    page = client.get(f"/reports/{report_id}").text
    answer = client.post(f"/reports/{report_id}/findings/1/decision",
                         data={"csrf_token": csrf_of(page), "decision": "dismiss",
                               "reason": "扫描件模糊，人工核对一致"})
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/reports/{report_id}#finding-1"
    page = client.get(f"/reports/{report_id}").text
    card = re.search(r'<article [^>]*id="finding-1">(.*?)</article>', page, re.S)
    assert card
    history = re.search(r'<details class="history".*?</details>', card.group(1), re.S)
    assert history
    trail = text_of(history.group(0))
    assert "驳回" in trail
    assert "扫描件模糊，人工核对一致" in trail
    assert "rev 的名字" in trail
    assert "已驳回" in text_of(card.group(1))
    # The same decision is what the API and the audit log hold.
    audit = client.get(f"/api/reports/{report_id}/audit").json()
    assert any(e["action"] == "finding.dismiss" and e["detail"]["reason"] ==
               "扫描件模糊，人工核对一致" for e in audit)
    # A later decision counts; the earlier one stays in the trail.
    client.post(f"/reports/{report_id}/findings/1/decision",
                data={"csrf_token": csrf_of(page), "decision": "confirm", "reason": "复核后确认"})
    page = client.get(f"/reports/{report_id}").text
    card = re.search(r'<article [^>]*id="finding-1">(.*?)</article>', page, re.S)
    assert card
    text = text_of(card.group(1))
    assert "已确认" in text
    assert "复核后确认" in text
    assert "扫描件模糊，人工核对一致" in text


def test_a_decision_without_the_csrf_token_is_refused(campaign):
    client = campaign.client("rev")
    report_id = campaign.reports[1]
    before = len(campaign.db.dispositions(report_id))
    for token in (None, "not-the-token"):
        data = {"decision": "dismiss", "reason": "伪造的请求"}
        if token:
            data["csrf_token"] = token
        answer = client.post(f"/reports/{report_id}/findings/0/decision", data=data)
        assert answer.status_code == 403
        assert "CSRF" in answer.text
    assert len(campaign.db.dispositions(report_id)) == before


def test_a_decision_needs_a_reason(campaign):
    client = campaign.client("sec")
    report_id = campaign.reports[1]
    before = len(campaign.db.dispositions(report_id))
    token = csrf_of(client.get(f"/reports/{report_id}").text)
    answer = client.post(f"/reports/{report_id}/findings/0/decision",
                         data={"csrf_token": token, "decision": "dismiss", "reason": "  "})
    assert answer.status_code == 400
    assert "输入有误" in answer.text
    assert len(campaign.db.dispositions(report_id)) == before


def test_pages_run_no_inline_script(campaign):
    """The Content-Security-Policy allows only the site's own script files."""
    client = campaign.client("sec")
    for path in (f"/campaigns/{CAMPAIGN}", f"/reports/{campaign.reports[1]}",
                 f"/campaigns/{CAMPAIGN}/labs/{campaign.labs[0]}", f"/campaigns/{CAMPAIGN}/upload"):
        page = client.get(path).text
        assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page) == []
        assert " on" + "click=" not in page
    js = re.search(r'<script src="(/static/app\.js\?v=\w+)"', page)
    assert js
    assert client.get(js.group(1)).status_code == 200
