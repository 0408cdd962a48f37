"""The bench's scoring: a discrepancy counts as caught only when a rule meant for it fails."""

from samples.evaluate import Score, score_report


def _finding(rule, status, field=None, copy=1):
    return {"rule": rule, "status": status, "field": field, "message": f"{rule} {status}",
            "evidence": {"copy": copy}}


TRUTH = {"discrepancies": [
    {"kind": "field_mismatch", "field": "identity.lab_name"},
    {"kind": "missing_seal", "document": "opinion-1.pdf"},
    {"kind": "annual_reports_missing"},
]}


def test_each_kind_is_caught_by_its_own_rules_only():
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "identity.lab_name", 1),
        _finding("field.match", "fail", "identity.lab_name", 2),
        _finding("seal.recommending_unit", "fail"),
        _finding("ground.annual_reports", "uncertain"),  # sent to a human, not caught
        _finding("pages.complete", "fail"),  # nothing injected explains it
        _finding("opinion.agrees", "pass"),
    ]}
    s = Score()
    s.add(score_report(report, TRUTH))
    assert s.kind_injected == {"field_mismatch": 1, "missing_seal": 1, "annual_reports_missing": 1}
    assert s.kind_detected == {"field_mismatch": 1, "missing_seal": 1}
    assert len(s.rule_alarms) == 1
    assert "pages.complete" in s.rule_alarms[0]
    assert s.rule_checks == 4
    assert any("annual_reports_missing" in m for m in s.missed)


def test_a_field_discrepancy_caught_on_another_field_is_missed():
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "identity.address", 1)]}
    s = score_report(report, {"discrepancies": [TRUTH["discrepancies"][0]]})
    assert s.kind_detected["field_mismatch"] == 0
    assert s.false_alarms == 1


def test_a_field_changed_by_a_ratio_discrepancy_is_not_a_false_alarm():
    truth = {"discrepancies": [{"kind": "ratio_mismatch",
                                "field": "resources.staff_senior_ratio", "document": "volume-1.pdf"}]}
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "resources.staff_senior_ratio", 1),
        _finding("ratio.consistent", "fail", "resources.staff_senior_ratio", 1)]}
    s = score_report(report, truth)
    assert s.false_alarms == 0
    assert s.kind_detected["ratio_mismatch"] == 1


def test_a_changed_credit_code_failing_its_check_character_is_expected():
    truth = {"discrepancies": [{"kind": "field_mismatch", "field": "identity.credit_code"}]}
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "identity.credit_code", 1),
        _finding("code.credit_check", "fail")]}
    assert score_report(report, truth).rule_alarms == []


def _on_page(rule, status, document, page):
    return {**_finding(rule, status), "location": {"document": document, "page": page}}


def test_a_bad_scan_is_caught_by_a_rescan_finding_on_its_page():
    truth = {"discrepancies": [{"kind": "bad_scan", "document": "volume-2.pdf", "page": 3}]}
    elsewhere = {"lab_id": "L1", "verdict": "review", "findings": [
        _on_page("scan.quality", "uncertain", "volume-2.pdf", 2)]}
    assert score_report(elsewhere, truth).kind_detected["bad_scan"] == 0
    there = {"lab_id": "L1", "verdict": "review", "findings": [
        _on_page("scan.quality", "uncertain", "volume-2.pdf", 3)]}
    s = score_report(there, truth)
    assert s.kind_detected["bad_scan"] == 1
    assert s.rule_alarms == []


def test_a_rescan_asked_for_a_good_page_is_a_false_alarm():
    report = {"lab_id": "L1", "verdict": "review", "findings": [
        _on_page("scan.quality", "uncertain", "volume-1.pdf", 2)]}
    s = score_report(report, {"discrepancies": []})
    assert len(s.rule_alarms) == 1
    assert "scan.quality" in s.rule_alarms[0]


def test_a_changed_value_may_also_differ_from_the_printout():
    truth = {"discrepancies": [{"kind": "field_mismatch", "field": "identity.lab_name"}]}
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "identity.lab_name", 1),
        _finding("printout.same", "fail")]}
    assert score_report(report, truth).rule_alarms == []


def test_a_seal_discrepancy_is_caught_only_on_its_own_page():
    truth = {"discrepancies": [{"kind": "wrong_seal", "document": "volume-1.pdf", "page": 1}]}
    elsewhere = {**_finding("seal.legal_entity", "fail"),
                 "location": {"document": "volume-2.pdf", "page": 1}}
    s = score_report({"lab_id": "L1", "verdict": "fail", "findings": [elsewhere]}, truth)
    assert s.kind_detected["wrong_seal"] == 0
    assert len(s.rule_alarms) == 1  # and the seal failing on the other copy is unexplained
    here = {**elsewhere, "location": {"document": "volume-1.pdf", "page": 1}}
    s = score_report({"lab_id": "L1", "verdict": "fail", "findings": [here]}, truth)
    assert s.kind_detected["wrong_seal"] == 1
    assert s.rule_alarms == []


def test_a_count_printed_otherwise_puts_its_ratio_out_of_step_as_expected():
    truth = {"discrepancies": [{"kind": "field_mismatch", "field": "resources.equipment_total"}]}
    report = {"lab_id": "L1", "verdict": "fail", "findings": [
        _finding("field.match", "fail", "resources.equipment_total", 1),
        _finding("ratio.consistent", "fail", "resources.equipment_leading_ratio", 1)]}
    s = score_report(report, truth)
    assert s.rule_alarms == []
