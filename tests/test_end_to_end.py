"""The whole path on generated dossiers: real rendering, real tesseract and RapidOCR.

The acceptance test of the product's main job: every clean dossier passes, and every field
discrepancy injected into the paper is reported as a failing finding on that field.
"""

import json
import subprocess
import sys

import pytest

from intake.cli import make_verifier
from intake.model import Status, Verdict
from intake.pipeline import ReviewOptions, review
from intake.record import load_record
from intake.report import report_json
from samples.evaluate import score_report
from samples.generate import generate_batch

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    manifest = generate_batch(out, labs=4, seed=11, degrade="light", discrepancies=2)
    return out, manifest


@pytest.fixture(scope="module")
def reviewed(batch, tmp_path_factory):
    out, manifest = batch
    verifier = make_verifier("rapidocr")
    reports = {}
    for lab in manifest["labs"]:
        lab_dir = out / lab["lab_id"]
        files = sorted(lab_dir.glob("*.pdf"))
        images = tmp_path_factory.mktemp(lab["lab_id"])
        report, _ = review(files, load_record(lab_dir / "record.json"),
                           ReviewOptions(workers=2, image_dir=images), verifier)
        truth = json.loads((lab_dir / "truth.json").read_text(encoding="utf-8"))
        reports[lab["lab_id"]] = (report, report_json(report), truth)
    return reports


def test_every_clean_dossier_passes(reviewed):
    clean = [(r, t) for r, _, t in reviewed.values() if not t["discrepancies"]]
    assert len(clean) == 2
    for report, _ in clean:
        problems = [(f.rule, f.field, f.found) for f in report.findings
                    if f.status is not Status.PASS]
        assert report.verdict is Verdict.PASS, problems


def test_every_injected_field_discrepancy_fails_on_its_field(reviewed):
    injected = 0
    for _, data, truth in reviewed.values():
        score = score_report(data, truth)
        injected += score.injected
        assert score.missed == []
        assert score.alarms == []
    assert injected >= 4


def test_failing_findings_show_record_and_paper_values_and_where(reviewed):
    for report, _, truth in reviewed.values():
        printed = {d["field"]: d["printed"] for d in truth["discrepancies"]}
        for f in report.findings:
            if f.rule == "field.match" and f.status is Status.FAIL:
                assert f.expected != f.found
                assert f.location is not None
                assert f.location.box is not None
                assert f.location.document.startswith("volume-")
                assert f.field in printed


def test_the_report_is_complete_and_sorted(reviewed):
    for report, data, _ in reviewed.values():
        kinds = {p["kind"] for p in data["pages"]}
        assert {"form", "approval", "letter"} <= kinds
        statuses = [f["status"] for f in data["findings"]]
        assert statuses == sorted(statuses, key=["fail", "uncertain", "pass"].index)
        assert data["summary"]["fail"] == statuses.count("fail")
        assert data["verdict"] == report.verdict.value


def _dossier(*args, **kwargs):
    return subprocess.run([sys.executable, "-m", "intake.cli", *args], capture_output=True,
                          text=True, timeout=600, check=False, **kwargs)


def test_cli_prints_exactly_the_report_json_and_writes_html(batch, tmp_path):
    out, manifest = batch
    lab = next(lab for lab in manifest["labs"] if lab["clean"])
    lab_dir = out / lab["lab_id"]
    files = [str(p) for p in sorted(lab_dir.glob("*.pdf"))]
    result = _dossier("review", "--record", str(lab_dir / "record.json"), *files, "--json",
                      "--out", str(tmp_path / "r"), "--verify", "tesseract")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["lab_id"] == lab["lab_id"]
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "形式审查报告" in html
    assert lab["lab_name"] in html


def test_cli_refuses_bad_input_with_exit_2_and_one_line(batch, tmp_path):
    out, manifest = batch
    lab_dir = out / manifest["labs"][0]["lab_id"]
    fake = tmp_path / "scan.pdf"
    fake.write_text("this is not a scan", encoding="utf-8")
    result = _dossier("review", "--record", str(lab_dir / "record.json"), str(fake))
    assert result.returncode == 2
    assert "scan.pdf" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

    bad_record = tmp_path / "record.json"
    bad_record.write_text('{"lab_id": 3}', encoding="utf-8")
    result = _dossier("review", "--record", str(bad_record), str(lab_dir / "volume-1.pdf"))
    assert result.returncode == 2
    assert "record" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
