"""A page that must be rescanned is a question for a reviewer, and so is what failed on it."""

from dataclasses import replace

from intake.checks import run_checks
from intake.model import ScanQuality, Status
from tests.intake.checks.conftest import approval, form_copy, letter

SHARP = ScanQuality(edge_mm=0.13, paper=245.0, contrast=180.0, scan_dpi=200)
BLURRED = ScanQuality(edge_mm=0.31, paper=245.0, contrast=150.0, scan_dpi=200)
DARK = ScanQuality(edge_mm=0.13, paper=98.0, contrast=60.0, scan_dpi=200)
COARSE = ScanQuality(edge_mm=0.21, paper=245.0, contrast=170.0, scan_dpi=75)


def _scanned(results, bad=None, quality=BLURRED):
    """Every page scanned sharp, except (document, page) ``bad``."""
    out = []
    for r in results:
        q = quality if (r.page.document, r.page.number) == bad else SHARP
        out.append(replace(r, page=replace(r.page, quality=q)))
    return out


def _dossier(record_data, copy2=None):
    return [*form_copy(record_data, 1), *form_copy(record_data, 2, overrides=copy2),
            approval(1), approval(2), letter(record_data["identity"]["lab_name"])]


def test_sharp_pages_pass(record, record_data):
    findings = run_checks(_scanned(_dossier(record_data)), record)
    scan = [f for f in findings if f.rule == "scan.quality"]
    assert [f.status for f in scan] == [Status.PASS]


def test_each_bad_page_asks_for_a_rescan_with_its_reason(record, record_data):
    for quality, reason in ((BLURRED, "模糊"), (DARK, "过暗"), (COARSE, "分辨率不足")):
        findings = run_checks(_scanned(_dossier(record_data), ("volume-2.pdf", 3), quality),
                              record)
        scan = [f for f in findings if f.rule == "scan.quality"]
        assert len(scan) == 1
        assert scan[0].status is Status.UNCERTAIN
        assert "需重新扫描" in scan[0].message
        assert reason in scan[0].message
        assert (scan[0].location.document, scan[0].location.page) == ("volume-2.pdf", 3)


def test_a_mismatch_on_a_page_nobody_can_read_is_uncertain(record, record_data):
    # The first field of page 3 reads otherwise in copy 2.
    spec_key = form_copy(record_data, 2)[2].fields[0].key
    wrong = {spec_key: "上海某某检测有限公司"}
    sharp = run_checks(_scanned(_dossier(record_data, wrong)), record)
    on_page = [f for f in sharp if f.location and f.location.document == "volume-2.pdf"
               and f.location.page == 3 and f.status is Status.FAIL]
    assert on_page, "the mismatch fails on a sharp page"

    failed = {(f.rule, f.field) for f in on_page}
    blurred = run_checks(_scanned(_dossier(record_data, wrong), ("volume-2.pdf", 3)), record)
    on_page = [f for f in blurred if f.location and f.location.document == "volume-2.pdf"
               and f.location.page == 3 and (f.rule, f.field) in failed]
    assert {(f.rule, f.field) for f in on_page} == failed
    assert all(f.status is Status.UNCERTAIN for f in on_page)
    assert all("需重新扫描" in f.message for f in on_page)
    assert not [f for f in blurred if f.status is Status.FAIL and f.field == spec_key]


def test_a_page_read_from_a_text_layer_is_not_judged(record, record_data):
    findings = run_checks(_dossier(record_data), record)  # no page has a quality
    assert not [f for f in findings if f.rule == "scan.quality"]
