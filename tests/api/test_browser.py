"""The UI in a real browser (Debian's chromium driven by Playwright) against the real service
started as `dossier serve`: log in, upload a scanned dossier, watch its review's progress (also
across a reload), open the report, dismiss a finding with a reason and find it in the audit
trail. Leaves a screenshot of the report page in docs/ui-report.png."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

from samples.generate import generate_batch

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = ROOT / "docs" / "ui-report.png"
CAMPAIGN = "2021"
PASSWORD = "browser-2021"
REVIEW_SECONDS = 240  # a dossier's real OCR takes 20-40 s on two cores; leave room for CI


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`dossier serve` on a free port, its data in a temporary folder; yields the base URL and
    the lab dossiers generated for it (the online records already imported over the API)."""
    root = tmp_path_factory.mktemp("browser")
    manifest = generate_batch(root / "samples", labs=2, seed=2021, degrade="light",
                              discrepancies=2, campaign=CAMPAIGN)
    port = _free_port()
    env = {**os.environ,
           "DOSSIER_DATA_DIR": str(root / "var"),
           "DOSSIER_DATABASE__URL": f"sqlite:///{root / 'dossier.db'}",
           "DOSSIER_STORAGE__ROOT": str(root / "objects"),
           "DOSSIER_API__PORT": str(port),
           "DOSSIER_API__BOOTSTRAP_USERS": f"sec:{PASSWORD}:secretariat;rev:{PASSWORD}:reviewer",
           "DOSSIER_OCR__WORKERS": "2"}
    log = (root / "serve.log").open("wb")
    process = subprocess.Popen([str(Path(sys.executable).parent / "dossier"), "serve"],
                               env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, root / "serve.log")
        records = [json.loads((root / "samples" / lab["lab_id"] / "record.json").read_text("utf-8"))
                   for lab in manifest["labs"]]
        with httpx.Client(base_url=base, timeout=60) as api:
            token = api.post("/api/login", json={"username": "sec", "password": PASSWORD}
                             ).json()["token"]
            answer = api.post(f"/api/campaigns/{CAMPAIGN}/records",
                              headers={"Authorization": f"Bearer {token}"},
                              files={"file": ("records.json", json.dumps(records, ensure_ascii=False)
                                              .encode(), "application/json")})
            assert answer.status_code == 200, answer.text
        yield base, root / "samples", manifest
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"dossier serve exited: {log.read_text('utf-8', 'replace')[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail("dossier serve did not answer within 60 s")


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        pytest.fail("chromium is not installed: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            yield chromium
        finally:
            chromium.close()


def test_upload_watch_the_review_and_dismiss_a_finding(server, browser):
    from playwright.sync_api import expect

    base, samples, manifest = server
    # The lab with discrepancies: its report has findings to dismiss.
    lab = next(lab["lab_id"] for lab in manifest["labs"] if not lab["clean"])
    files = sorted((samples / lab).glob("*.pdf"))
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)

    # A stranger is sent to the log-in page, and back where they were going after it.
    page.goto(f"{base}/campaigns/{CAMPAIGN}/labs/{lab}")
    expect(page).to_have_url(f"{base}/login?next=%2Fcampaigns%2F{CAMPAIGN}%2Flabs%2F{lab}")
    page.fill("input[name=username]", "sec")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/campaigns/{CAMPAIGN}/labs/{lab}")
    expect(page.locator("#no-dossiers")).to_be_visible()

    # Upload the dossier's scans; the new dossier appears with a live progress bar.
    page.set_input_files("#upload-form input[name=files]", [str(f) for f in files])
    page.click("#upload-form button[type=submit]")
    job = page.locator(".dossier .job").first
    expect(job).to_have_attribute("data-job", re.compile(r"^\d+$"), timeout=60_000)
    expect(job).to_have_attribute("data-state", "running", timeout=60_000)
    expect(job.locator(".job-stage")).to_have_text("识别页面", timeout=60_000)
    expect(job.locator(".job-pages")).to_have_text(re.compile(rf"^[1-9]\d*/{_pages(files)} 页$"),
                                                   timeout=60_000)

    # A reload shows the stored progress, not an empty bar, and keeps following it.
    page.reload()
    job = page.locator(".dossier .job").first
    expect(job.locator(".bar")).to_have_attribute("aria-valuenow", re.compile(r"^[1-9]\d*$"))
    expect(job).to_have_attribute("data-state", "done", timeout=REVIEW_SECONDS * 1000)
    expect(job.locator(".bar")).to_have_attribute("aria-valuenow", "100")
    expect(job.locator(".job-pages")).to_have_text(f"{_pages(files)}/{_pages(files)} 页")

    # The report: the verdict, and a failed finding to dismiss.
    job.locator(".job-report").click()
    expect(page.locator(".banner")).to_contain_text("形式审查结论")
    report_url = page.url.split("#")[0]
    finding = page.locator("article.finding.st-fail").first
    expect(finding).to_be_visible()
    finding_id = finding.get_attribute("id")
    expect(finding.locator(".crop img")).to_have_js_property("complete", True)
    finding.locator("input[value=dismiss]").check()
    reason = "原件核对无误，识别误差"
    finding.locator("input[name=reason]").fill(reason)
    finding.locator("button[type=submit]").click()
    page.wait_for_url(f"{report_url}#{finding_id}")

    decided = page.locator(f"#{finding_id}")
    expect(decided.locator(".chip.d-dismiss").first).to_have_text("已驳回")
    trail = decided.locator("details.history")
    expect(trail).to_contain_text(reason)
    expect(trail).to_contain_text("驳回")
    expect(trail).to_contain_text("sec")

    # The page viewer switches pages without a reload.
    key = page.locator(".page-link:not(.current)").first.get_attribute("data-page")
    other = page.locator(f'.page-link[data-page="{key}"]')
    other.click()
    expect(other).to_have_class(re.compile(r"\bcurrent\b"))
    expect(page.locator(".page-link.current")).to_have_count(1)
    expect(page.locator("[data-viewer-image]")).to_have_attribute(
        "src", other.get_attribute("data-src") or "")
    expect(page.locator("[data-viewer-image]")).to_have_js_property("complete", True)

    # The screenshot the README shows: the report page as a reviewer first sees it.
    page.goto(report_url)
    page.wait_for_load_state("networkidle")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))
    assert problems == []


def test_a_batch_is_mapped_to_its_lab_confirmed_and_followed(server, browser, tmp_path):
    from playwright.sync_api import expect

    base, samples, manifest = server
    lab = next(lab["lab_id"] for lab in manifest["labs"] if lab["clean"])
    batch = tmp_path / "batch.zip"
    with zipfile.ZipFile(batch, "w") as zf:
        for path in sorted((samples / lab).glob("*.pdf")):
            zf.write(path, f"{lab}-{path.name}")
    page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{base}/login?next=/campaigns/{CAMPAIGN}/upload")
    page.fill("input[name=username]", "sec")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/campaigns/{CAMPAIGN}/upload")

    page.set_input_files("#batch-form input[name=files]", str(batch))
    page.click("#batch-form button[type=submit]")
    choices = page.locator("#batch-confirm select[name=lab]")
    expect(choices).to_have_count(5, timeout=60_000)
    for i in range(5):
        expect(choices.nth(i)).to_have_value(lab)
    # The reviewer may correct a proposal: leave the letter out.
    choices.nth(0).select_option("")
    page.click("#batch-confirm button[type=submit]")
    job = page.locator("#batch-step-3 .job")
    expect(job).to_have_count(1)
    expect(page.locator("#batch-step-3 .dossier")).not_to_contain_text("letter.pdf")
    expect(job).to_have_attribute("data-state", "running", timeout=60_000)

    # The dashboard shows the lab under review, with its live progress bar.
    page.goto(f"{base}/campaigns/{CAMPAIGN}?q={lab}")
    row = page.locator(f'tr[data-lab="{lab}"]')
    expect(row.locator(".job")).to_have_attribute("data-state", re.compile("running|done"))
    assert problems == []


def _pages(files: list[Path]) -> int:
    import pypdfium2

    total = 0
    for path in files:
        pdf = pypdfium2.PdfDocument(str(path))
        total += len(pdf)
        pdf.close()
    return total
