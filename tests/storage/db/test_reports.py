"""Dossiers, documents, reports and reviewers' decisions: a report stays tied to the exact
record version and the files it judged, whatever is imported later."""

from __future__ import annotations

import copy
import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from intake.errors import InputError
from intake.model import Document, DocumentKind, Finding, Location, Report, Status, Verdict
from intake.record import record_from_dict
from intake.report import report_json
from storage.db import Decision, JobState


def _document(name, content):
    return Document(name=name, sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                    kind=DocumentKind.PDF, page_count=12)


def _report(record, documents, verdict=Verdict.FAIL):
    findings = (
        Finding("field.match", "字段一致", Status.FAIL, "二、（一）", "统一社会信用代码与网上填报不一致",
                field="identity.credit_code", expected=record.data["identity"]["credit_code"],
                found="91330106MAPY046K6X", location=Location(documents[0].name, 2)),
        Finding("seal.present", "盖章", Status.PASS, "三", "封面已加盖公章"),
    )
    return report_json(Report(
        lab_id=record.lab_id, lab_name=record.lab_name, campaign=record.campaign, verdict=verdict,
        findings=findings, documents=tuple(documents), pages=(), record_sha256=record.sha256,
        created_at="2021-06-01T10:00:00+08:00", seconds=12.5))


@pytest.fixture
def dossier(db, records):
    db.import_records("2021", records, actor="secretariat", source="april.json")
    lab_id = records[0].lab_id
    dossier_id = db.add_dossier("2021", lab_id, actor="secretariat")
    documents = [_document("volume-1.pdf", b"copy one"), _document("volume-2.pdf", b"copy two")]
    ids = [db.add_document(dossier_id, d, storage_key=f"originals/{d.sha256}", actor="secretariat")
           for d in documents]
    return dossier_id, documents, ids


def test_a_report_links_its_record_version_and_documents(db, records, dossier):
    dossier_id, documents, document_ids = dossier
    v1 = db.latest_record("2021", records[0].lab_id)
    stored = db.add_report(dossier_id, record_id=v1.id, document_ids=document_ids,
                           data=_report(v1.record(), documents), actor="worker")
    assert (stored.version, stored.record_version, stored.document_ids) == (1, 1, tuple(document_ids))

    # The lab's record changes afterwards: the report still points at what it judged.
    changed = copy.deepcopy(records[0].data)
    changed["identity"]["address"] = "浙江省杭州市西湖区文三路1号"
    db.import_records("2021", [record_from_dict(changed)], actor="secretariat", source="may.json")
    again = db.report(stored.id)
    assert (again.record_id, again.record_version, again.document_ids) == (v1.id, 1, tuple(document_ids))
    assert again.data == stored.data
    assert again.verdict == "fail"

    v2 = db.latest_record("2021", records[0].lab_id)
    second = db.add_report(dossier_id, record_id=v2.id, document_ids=document_ids[:1],
                           data=_report(v2.record(), documents[:1], Verdict.PASS), actor="worker")
    assert [(r.version, r.record_version, r.verdict) for r in db.reports(dossier_id)] == [
        (1, 1, "fail"), (2, 2, "pass")]
    assert second.document_ids == (document_ids[0],)


def test_a_report_cannot_be_tied_to_what_it_did_not_judge(db, records, dossier):
    dossier_id, documents, document_ids = dossier
    own = db.latest_record("2021", records[0].lab_id)
    other_lab = db.latest_record("2021", records[1].lab_id)
    data = _report(own.record(), documents)

    with pytest.raises(InputError, match="not a record of the dossier's lab"):
        db.add_report(dossier_id, record_id=other_lab.id, document_ids=document_ids, data=data,
                      actor="worker")
    with pytest.raises(InputError, match="judged other files"):
        db.add_report(dossier_id, record_id=own.id, document_ids=document_ids[:1], data=data,
                      actor="worker")
    other_dossier = db.add_dossier("2021", records[1].lab_id, actor="secretariat")
    with pytest.raises(InputError, match="not one of the dossier's documents"):
        db.add_report(other_dossier, record_id=other_lab.id, document_ids=document_ids,
                      data=_report(other_lab.record(), documents), actor="worker")
    assert db.reports(dossier_id) == []


def test_a_report_made_from_another_record_is_refused(db, records, dossier):
    dossier_id, documents, document_ids = dossier
    stored = db.latest_record("2021", records[0].lab_id)
    data = _report(records[1], documents)  # another lab's record, hence another sha256
    with pytest.raises(InputError, match="made from another record than version 1"):
        db.add_report(dossier_id, record_id=stored.id, document_ids=document_ids, data=data,
                      actor="worker")


def test_a_precheck_is_kept_apart_from_the_submission(db, records):
    db.import_records("2021", records, actor="secretariat", source="april.json")
    db.add_dossier("2021", records[0].lab_id, actor="上海市经济和信息化委员会", precheck=True)
    entries = db.audit_entries()
    assert entries[-1].action == "dossier.add"
    assert entries[-1].detail["precheck"] is True
    with pytest.raises(InputError, match="not on the roster"):
        db.add_dossier("2021", "L2021-404", actor="secretariat")


def test_a_reviewer_confirms_and_dismisses_findings_with_reasons(db, records, dossier):
    dossier_id, documents, document_ids = dossier
    v1 = db.latest_record("2021", records[0].lab_id)
    report = db.add_report(dossier_id, record_id=v1.id, document_ids=document_ids,
                           data=_report(v1.record(), documents), actor="worker")

    db.record_disposition(report.id, finding_index=0, decision=Decision.CONFIRM,
                          reason="纸质材料确与网上填报不一致", reviewer="reviewer-li")
    db.record_disposition(report.id, rule="field.match", field="identity.credit_code",
                          decision=Decision.DISMISS, reason="复核原件后确认为扫描污损",
                          reviewer="reviewer-wang")

    decisions = db.dispositions(report.id)
    assert [(d.decision, d.reviewer, d.finding_index, d.rule) for d in decisions] == [
        ("confirm", "reviewer-li", 0, None), ("dismiss", "reviewer-wang", None, "field.match")]
    assert [e.action for e in db.audit_entries(f"report:{report.id}")] == [
        "finding.confirm", "finding.dismiss"]


def test_a_decision_needs_a_reason_and_an_existing_finding(db, records, dossier):
    dossier_id, documents, document_ids = dossier
    v1 = db.latest_record("2021", records[0].lab_id)
    report = db.add_report(dossier_id, record_id=v1.id, document_ids=document_ids,
                           data=_report(v1.record(), documents), actor="worker")

    with pytest.raises(InputError, match="a reason is needed"):
        db.record_disposition(report.id, finding_index=0, decision=Decision.DISMISS, reason="  ",
                              reviewer="reviewer-li")
    with pytest.raises(InputError, match="has no finding 7"):
        db.record_disposition(report.id, finding_index=7, decision=Decision.DISMISS, reason="x",
                              reviewer="reviewer-li")
    with pytest.raises(InputError, match=r"no finding of rule letter\.present"):
        db.record_disposition(report.id, rule="letter.present", decision=Decision.DISMISS,
                              reason="x", reviewer="reviewer-li")
    # The database itself refuses a decision without a reason, whoever writes it.
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO finding_disposition (report_id, finding_index, decision, reason, reviewer, "
            "created_at) VALUES (:r, 0, 'dismiss', ' ', 'x', CURRENT_TIMESTAMP)"), {"r": report.id})
    assert db.dispositions(report.id) == []


def test_a_job_reports_its_progress_until_it_finishes(db, records, dossier):
    dossier_id, _, _ = dossier
    job_id = db.add_job("review", dossier_id=dossier_id, actor="secretariat")
    assert db.job(job_id).state == "queued"

    db.update_job(job_id, state=JobState.RUNNING, stage="ocr", progress=0.4)
    running = db.job(job_id)
    assert (running.state, running.stage, running.progress) == ("running", "ocr", 0.4)
    assert running.started_at is not None
    assert running.started_at.tzinfo is not None

    db.update_job(job_id, state=JobState.FAILED, error_code="encrypted_file", error="PDF 已加密")
    failed = db.job(job_id)
    assert (failed.state, failed.error_code, failed.error) == ("failed", "encrypted_file", "PDF 已加密")
    assert failed.finished_at >= failed.started_at
    with pytest.raises(InputError, match="has finished"):
        db.update_job(job_id, progress=0.9)
    assert [e.detail["to"] for e in db.audit_entries(f"job:{job_id}") if e.action == "job.state"] == [
        "running", "failed"]
