"""What the dashboard and the report page show, gathered from the database in a few queries:
each lab's workflow stage, verdict and open findings; a report with its reviewers' decisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from intake.report import summary_of
from storage.db import Database, JobState, JobStatus
from storage.db.repository import Disposition, Dossier, Lab, StoredReport

STAGE_ZH = {
    "not_received": "未收到材料",
    "queued": "排队中",
    "running": "审查中",
    "failed": "审查失败",
    "to_review": "待复核",
    "done": "已完成",
}
VERDICT_ZH = {"pass": "通过", "fail": "未通过", "review": "需人工复核"}
DECISION_ZH = {"confirm": "确认", "dismiss": "驳回"}


@dataclass(frozen=True)
class LabSummary:
    lab: Lab
    stage: str  # a key of STAGE_ZH
    verdict: str | None
    open_findings: int
    report_id: int | None
    dossier_id: int | None
    job: JobStatus | None
    prechecks: int
    precheck_report_id: int | None
    precheck_verdict: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "lab_id": self.lab.lab_id, "name": self.lab.name,
            "recommending_unit": self.lab.recommending_unit, "association": self.lab.association,
            "stage": self.stage, "stage_zh": STAGE_ZH[self.stage], "verdict": self.verdict,
            "open_findings": self.open_findings, "report_id": self.report_id,
            "dossier_id": self.dossier_id, "job": job_json(self.job) if self.job else None,
            "prechecks": self.prechecks, "precheck_report_id": self.precheck_report_id,
            "precheck_verdict": self.precheck_verdict,
        }


def job_json(job: JobStatus) -> dict[str, Any]:
    from api.service import STAGES

    return {
        "id": job.id, "dossier_id": job.dossier_id, "state": job.state, "stage": job.stage,
        "stage_zh": STAGES.get(job.stage or "", job.stage), "progress": round(job.progress, 4),
        "pages_done": job.pages_done, "pages_total": job.pages_total, "attempts": job.attempts,
        "error_code": job.error_code, "error": job.error,
        "created_at": _iso(job.created_at), "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
    }


def _iso(at: datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at else None


def latest_decisions(dispositions: list[Disposition]) -> dict[int, Disposition]:
    """The decision that counts for each finding index: the latest."""
    out: dict[int, Disposition] = {}
    for d in dispositions:
        if d.finding_index is not None:
            out[d.finding_index] = d
    return out


def open_findings(report: StoredReport, decisions: dict[int, Disposition]) -> int:
    return sum(1 for i, f in enumerate(report.data.get("findings", []))
               if f.get("status") != "pass" and i not in decisions)


def lab_summaries(db: Database, campaign: str, *, unit: str | None) -> list[LabSummary]:
    labs = db.labs(campaign, unit=unit)
    dossiers = db.dossiers(campaign, unit=unit)
    reports = db.latest_reports([d.id for d in dossiers])
    decisions = db.dispositions_of([r.id for r in reports.values()])
    jobs = db.jobs(dossier_ids=[d.id for d in dossiers], limit=100_000)
    latest_job: dict[int, JobStatus] = {}
    for each in jobs:  # newest first
        if each.dossier_id is not None:
            latest_job.setdefault(each.dossier_id, each)
    by_lab: dict[str, list[Dossier]] = {}
    for dossier in dossiers:  # newest first
        by_lab.setdefault(dossier.lab.lab_id, []).append(dossier)
    out = []
    for lab in labs:
        mine = by_lab.get(lab.lab_id, [])
        official = next((d for d in mine if not d.precheck), None)
        prechecks = [d for d in mine if d.precheck]
        pre_report = next((reports[d.id] for d in prechecks if d.id in reports), None)
        stage, verdict, open_count, report_id = "not_received", None, 0, None
        job: JobStatus | None = None
        if official is not None:
            job = latest_job.get(official.id)
            report = reports.get(official.id)
            if report is not None:
                report_id, verdict = report.id, report.verdict
                open_count = open_findings(report, latest_decisions(decisions[report.id]))
                stage = "to_review" if open_count else "done"
            if job is not None and job.state in (JobState.QUEUED, JobState.RUNNING):
                stage = job.state
            elif report is None and job is not None and job.state == JobState.FAILED:
                stage = "failed"
            elif report is None:
                stage = "queued"
        out.append(LabSummary(lab, stage, verdict, open_count, report_id,
                              official.id if official else None, job, len(prechecks),
                              pre_report.id if pre_report else None,
                              pre_report.verdict if pre_report else None))
    return out


@dataclass(frozen=True)
class ReportView:
    report: StoredReport
    dossier: Dossier
    decisions: dict[int, Disposition]
    history: list[Disposition] = field(default_factory=list)

    @property
    def summary(self) -> dict[str, Any]:
        """The verdict's headline and paragraph (rebuilt for a report stored without one)."""
        return summary_of(self.report.data)

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.report.id, "version": self.report.version,
            "dossier_id": self.dossier.id, "precheck": self.dossier.precheck,
            "campaign": self.dossier.lab.campaign, "lab_id": self.dossier.lab.lab_id,
            "record_version": self.report.record_version,
            "created_at": _iso(self.report.created_at), "created_by": self.report.created_by,
            "report": self.report.data,
            "decisions": {str(i): disposition_json(d) for i, d in self.decisions.items()},
            "history": [disposition_json(d) for d in self.history],
        }


def disposition_json(d: Disposition) -> dict[str, Any]:
    return {"id": d.id, "finding_index": d.finding_index, "rule": d.rule, "field": d.field,
            "decision": d.decision, "decision_zh": DECISION_ZH.get(d.decision, d.decision),
            "reason": d.reason, "reviewer": d.reviewer, "at": _iso(d.created_at)}


def report_view(db: Database, report_id: int) -> ReportView:
    report = db.report(report_id)
    dossier = db.dossier(report.dossier_id)
    history = db.dispositions(report_id)
    return ReportView(report, dossier, latest_decisions(history), history)
