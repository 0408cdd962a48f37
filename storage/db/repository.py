"""The operations the importer and the API perform on the database, each one transaction that
also writes its audit entry: what is kept can always be traced to who put it there.

Reads return plain frozen dataclasses, never ORM rows, so callers hold no session.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, selectinload

from intake.errors import DatabaseError, InputError, NotFoundError, RecordError
from intake.model import Document, Verdict
from intake.record import Record
from storage.db.engine import SQLITE_BEGIN, display_url, make_engine
from storage.db.models import (
    AuditRow,
    CampaignRow,
    Decision,
    DispositionRow,
    DocumentRow,
    DossierRow,
    JobRow,
    JobState,
    LabRow,
    RecordRow,
    ReportRow,
    Role,
    SessionRow,
    UserRow,
    utcnow,
)
from storage.db.schema import current_revision, first_line, head_revision, upgrade

# Two imports of the same campaign at once may both try to add the same lab or version; the
# loser sees the unique constraint fail and runs again against what the winner committed.
IMPORT_ATTEMPTS = 3
FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)


@dataclass(frozen=True)
class ImportResult:
    campaign: str
    records: int  # records in the file
    labs_created: int
    versions_added: int
    unchanged: int  # identical to the lab's latest version: nothing added
    added: tuple[tuple[str, int], ...] = ()  # (lab_id, version) of every version added


@dataclass(frozen=True)
class StoredRecord:
    id: int
    campaign: str
    lab_id: str
    version: int
    sha256: str
    data: dict[str, Any]
    source: str
    imported_by: str
    imported_at: datetime

    def record(self) -> Record:
        return Record(data=self.data, sha256=self.sha256)


@dataclass(frozen=True)
class StoredReport:
    id: int
    dossier_id: int
    version: int
    record_id: int
    record_version: int
    document_ids: tuple[int, ...]
    verdict: str
    data: dict[str, Any]
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class Disposition:
    id: int
    report_id: int
    finding_index: int | None
    rule: str | None
    field: str | None
    decision: str
    reason: str
    reviewer: str
    created_at: datetime


@dataclass(frozen=True)
class JobStatus:
    id: int
    kind: str
    dossier_id: int | None
    state: str
    stage: str | None
    progress: float
    error_code: str | None
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    pages_done: int = 0
    pages_total: int = 0
    attempts: int = 0
    created_by: str = ""
    updated_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state in FINISHED


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    unit: str | None  # a recommending unit's name; None for the secretariat and reviewers
    active: bool


@dataclass(frozen=True)
class Lab:
    """A lab on a campaign's roster, as the service shows it."""

    id: int
    campaign: str
    lab_id: str
    name: str
    recommending_unit: str
    association: str


@dataclass(frozen=True)
class Dossier:
    id: int
    lab: Lab
    precheck: bool
    created_by: str
    created_at: datetime
    documents: tuple[tuple[int, str, str, int | None], ...]  # (id, name, sha256, pages)
    # the online system's own printout of the form, when it was sent: (id, name, sha256, pages)
    online: tuple[int, str, str, int | None] | None = None


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    detail: dict[str, Any]


def campaign_name(code: str) -> str:
    return f"{code}年工业产品质量控制和技术评价实验室复核"


class Database:
    """One database (SQLite file or PostgreSQL) and the operations on it."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.engine: Engine = make_engine(url, **engine_options)
        self.url = display_url(self.engine.url)
        # SQLite: a writing transaction takes the write lock at BEGIN (see engine.SQLITE_BEGIN).
        self._write_engine = self.engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})

    def dispose(self) -> None:
        self.engine.dispose()

    # Schema ---------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Upgrade the schema to this version's head (a no-op when it is there)."""
        upgrade(self.engine)

    def check_schema(self) -> str:
        """The schema revision; DatabaseError unless the database is at this version's head."""
        current, head = current_revision(self.engine), head_revision()
        if current != head:
            raise DatabaseError(
                f"the database schema is at {current or 'nothing (empty database)'}, this version "
                f"needs {head}; run the migrations", subject=self.url)
        return current

    # Transactions ---------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    @contextmanager
    def _write(self) -> Iterator[Session]:
        try:
            with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise self._error(exc) from exc

    def _error(self, exc: SQLAlchemyError) -> DatabaseError:
        what = "refused the change" if isinstance(exc, IntegrityError) else "failed"
        reason = first_line(exc)
        if "no such table" in reason or ("relation" in reason and "does not exist" in reason):
            reason += "; the database has not been migrated to this version's schema"
        return DatabaseError(f"the database {what}: {reason}", subject=self.url)

    @staticmethod
    def _audit(session: Session, actor: str, action: str, subject: str,
               detail: Mapping[str, Any] | None = None) -> None:
        session.add(AuditRow(actor=actor, action=action, subject=subject, detail=dict(detail or {})))

    # Campaigns and records ------------------------------------------------------------------

    def ensure_campaign(self, code: str, *, actor: str, name: str | None = None,
                        config: Mapping[str, Any] | None = None) -> int:
        """The campaign's id, creating it when it does not exist yet."""
        with self._write() as session:
            return self._campaign(session, code, actor, name, config).id

    def _campaign(self, session: Session, code: str, actor: str, name: str | None = None,
                  config: Mapping[str, Any] | None = None) -> CampaignRow:
        row = session.scalar(select(CampaignRow).where(CampaignRow.code == code))
        if row is None:
            row = CampaignRow(code=code, name=name or campaign_name(code), config=dict(config or {}))
            session.add(row)
            session.flush()
            self._audit(session, actor, "campaign.create", f"campaign:{code}",
                        {"name": row.name, "config": row.config})
        return row

    def import_records(self, campaign: str, records: Sequence[Record], *, actor: str,
                       source: str) -> ImportResult:
        """Add each record as its lab's next version unless it equals the latest one.

        All or nothing: one transaction. Nothing is ever overwritten.
        """
        seen: set[str] = set()
        for record in records:
            if record.campaign != campaign:
                raise RecordError(f"the record of {record.lab_id} is for campaign {record.campaign}, "
                                  f"not {campaign}", subject=source)
            if record.lab_id in seen:
                raise RecordError(f"{record.lab_id} appears twice", subject=source)
            seen.add(record.lab_id)
        for attempt in range(1, IMPORT_ATTEMPTS + 1):
            try:
                with self._write() as session:
                    return self._import(session, campaign, records, actor, source)
            except DatabaseError as exc:
                if not isinstance(exc.__cause__, IntegrityError) or attempt == IMPORT_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _import(self, session: Session, campaign: str, records: Sequence[Record], actor: str,
                source: str) -> ImportResult:
        campaign_row = self._campaign(session, campaign, actor)
        labs = {lab.code: lab for lab in session.scalars(
            select(LabRow).where(LabRow.campaign_id == campaign_row.id))}
        newest = (select(RecordRow.lab_id, func.max(RecordRow.version).label("version"))
                  .join(LabRow).where(LabRow.campaign_id == campaign_row.id)
                  .group_by(RecordRow.lab_id).subquery())
        latest = {row.lab_id: (row.version, row.sha256) for row in session.execute(
            select(RecordRow.lab_id, RecordRow.version, RecordRow.sha256).join(
                newest, (RecordRow.lab_id == newest.c.lab_id)
                & (RecordRow.version == newest.c.version)))}
        new_labs = [LabRow(campaign_id=campaign_row.id, code=r.lab_id, name=r.lab_name,
                           recommending_unit=r.data["identity"]["recommending_unit"],
                           association=r.data["identity"]["association"])
                    for r in records if r.lab_id not in labs]
        session.add_all(new_labs)
        session.flush()
        labs.update((lab.code, lab) for lab in new_labs)
        unchanged = 0
        added: list[tuple[str, int]] = []
        for record in records:
            identity = record.data["identity"]
            lab = labs[record.lab_id]
            version, sha256 = latest.get(lab.id, (0, None))
            if sha256 == record.sha256:
                unchanged += 1
                continue
            session.add(RecordRow(lab_id=lab.id, version=version + 1, data=record.data,
                                  sha256=record.sha256, source=source, imported_by=actor))
            lab.name = record.lab_name
            lab.recommending_unit = identity["recommending_unit"]
            lab.association = identity["association"]
            added.append((record.lab_id, version + 1))
        session.flush()
        created = len(new_labs)
        result = ImportResult(campaign=campaign, records=len(records), labs_created=created,
                              versions_added=len(added), unchanged=unchanged, added=tuple(added))
        self._audit(session, actor, "records.import", f"campaign:{campaign}", {
            "source": source, "records": len(records), "labs_created": created,
            "versions_added": len(added), "unchanged": unchanged,
            "added": [{"lab_id": lab_id, "version": v} for lab_id, v in added]})
        return result

    def record_versions(self, campaign: str, lab_id: str) -> list[StoredRecord]:
        """Every version of a lab's record, oldest first."""
        with self._read() as session:
            rows = session.scalars(
                select(RecordRow).join(LabRow).join(CampaignRow)
                .where(CampaignRow.code == campaign, LabRow.code == lab_id)
                .order_by(RecordRow.version)).all()
            return [_stored_record(row, campaign, lab_id) for row in rows]

    def latest_record(self, campaign: str, lab_id: str) -> StoredRecord:
        versions = self.record_versions(campaign, lab_id)
        if not versions:
            raise RecordError(f"no record of {lab_id} in campaign {campaign}; import the "
                              "campaign's records first", subject=lab_id)
        return versions[-1]

    def lab_ids(self, campaign: str) -> list[str]:
        """The campaign's roster, by lab_id."""
        with self._read() as session:
            return list(session.scalars(select(LabRow.code).join(CampaignRow)
                                        .where(CampaignRow.code == campaign).order_by(LabRow.code)))

    # Dossiers, documents, jobs, reports -------------------------------------------------------

    def add_dossier(self, campaign: str, lab_id: str, *, actor: str, precheck: bool = False) -> int:
        with self._write() as session:
            lab = session.scalar(select(LabRow).join(CampaignRow).where(
                CampaignRow.code == campaign, LabRow.code == lab_id))
            if lab is None:
                raise InputError(f"{lab_id} is not on the roster of campaign {campaign}; import "
                                 "its record first", subject=lab_id)
            dossier = DossierRow(lab_id=lab.id, precheck=precheck, created_by=actor)
            session.add(dossier)
            session.flush()
            self._audit(session, actor, "dossier.add", f"dossier:{dossier.id}",
                        {"campaign": campaign, "lab_id": lab_id, "precheck": precheck})
            return dossier.id

    def add_document(self, dossier_id: int, document: Document, *, storage_key: str,
                     actor: str, role: str = "scan") -> int:
        """Record one file of a dossier; ``role`` is ``scan`` (the paper) or ``online`` (the
        online system's printout of the form, compared with the paper)."""
        with self._write() as session:
            if session.get(DossierRow, dossier_id) is None:
                raise InputError(f"there is no dossier {dossier_id}", subject=document.name)
            row = DocumentRow(dossier_id=dossier_id, name=document.name, sha256=document.sha256,
                              kind=document.kind.value, size=document.size,
                              pages=document.page_count or None, storage_key=storage_key,
                              role=role)
            session.add(row)
            session.flush()
            self._audit(session, actor, "document.add", f"dossier:{dossier_id}", {
                "document_id": row.id, "name": row.name, "sha256": row.sha256, "size": row.size,
                "storage_key": storage_key, "role": role})
            return row.id

    def add_job(self, kind: str, *, actor: str, dossier_id: int | None = None) -> int:
        with self._write() as session:
            job = JobRow(kind=kind, dossier_id=dossier_id, created_by=actor)
            session.add(job)
            session.flush()
            self._audit(session, actor, "job.add", f"job:{job.id}",
                        {"kind": kind, "dossier_id": dossier_id})
            return job.id

    def update_job(self, job_id: int, *, state: JobState | None = None, stage: str | None = None,
                   progress: float | None = None, error_code: str | None = None,
                   error: str | None = None, actor: str = "worker",
                   pages_done: int | None = None, pages_total: int | None = None) -> None:
        """Record a job's progress; a change of state is audited, progress alone is not."""
        state = None if state is None else JobState(state)
        with self._write() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise NotFoundError(f"there is no job {job_id}", subject=f"job:{job_id}")
            if job.state in FINISHED:
                raise InputError(f"job {job_id} has finished ({job.state})", subject=f"job:{job_id}")
            if stage is not None:
                job.stage = stage
            if progress is not None:
                job.progress = min(1.0, max(0.0, progress))
            if pages_done is not None:
                job.pages_done = pages_done
            if pages_total is not None:
                job.pages_total = pages_total
            if error is not None:
                job.error, job.error_code = error, error_code
            if state is not None and state != job.state:
                now = utcnow()
                if state == JobState.RUNNING and job.started_at is None:
                    job.started_at = now
                if state in FINISHED:
                    job.finished_at = now
                    if state == JobState.DONE:
                        job.progress = 1.0
                self._audit(session, actor, "job.state", f"job:{job_id}",
                            {"from": job.state, "to": state.value, "error_code": error_code})
                job.state = state.value

    def job(self, job_id: int) -> JobStatus:
        with self._read() as session:
            job = session.get(JobRow, job_id)
            if job is None:
                raise NotFoundError(f"there is no job {job_id}", subject=f"job:{job_id}")
            return _job_status(job)

    def add_report(self, dossier_id: int, *, record_id: int, document_ids: Sequence[int],
                   data: Mapping[str, Any], actor: str, job_id: int | None = None) -> StoredReport:
        """Keep a report as the dossier's next version, tied to the record version and the
        documents it judged; refused when they do not belong to the dossier or the report JSON
        names another record or other files."""
        subject = f"dossier:{dossier_id}"
        verdict = str(data.get("verdict"))
        if verdict not in {v.value for v in Verdict}:
            raise InputError(f"the report's verdict {verdict!r} is not one of pass, fail, review",
                             subject=subject)
        with self._write() as session:
            dossier = session.get(DossierRow, dossier_id)
            if dossier is None:
                raise InputError(f"there is no dossier {dossier_id}", subject=subject)
            record = session.get(RecordRow, record_id)
            if record is None or record.lab_id != dossier.lab_id:
                raise InputError(f"record {record_id} is not a record of the dossier's lab",
                                 subject=subject)
            if data.get("record_sha256", record.sha256) != record.sha256:
                raise InputError(f"the report was made from another record than version "
                                 f"{record.version} (sha256 {record.sha256[:12]}…)", subject=subject)
            documents = list(session.scalars(select(DocumentRow).where(
                DocumentRow.id.in_(document_ids))))
            if len(documents) != len(set(document_ids)) or any(
                    d.dossier_id != dossier_id for d in documents):
                raise InputError("a document is not one of the dossier's documents", subject=subject)
            judged = {d.get("sha256") for d in data.get("documents", [])}
            if "documents" in data and judged != {d.sha256 for d in documents}:
                raise InputError("the report judged other files than the documents given",
                                 subject=subject)
            version = (session.scalar(select(func.max(ReportRow.version))
                                      .where(ReportRow.dossier_id == dossier_id)) or 0) + 1
            report = ReportRow(dossier_id=dossier_id, version=version, record_id=record_id,
                               job_id=job_id, verdict=verdict, data=dict(data), created_by=actor,
                               documents=documents)
            session.add(report)
            session.flush()
            self._audit(session, actor, "report.add", subject, {
                "report_id": report.id, "version": version, "record_id": record_id,
                "record_version": record.version, "document_ids": sorted(d.id for d in documents),
                "verdict": verdict})
            return _stored_report(report, record.version)

    def report(self, report_id: int) -> StoredReport:
        with self._read() as session:
            report = session.scalar(select(ReportRow).where(ReportRow.id == report_id).options(
                selectinload(ReportRow.documents), selectinload(ReportRow.record)))
            if report is None:
                raise NotFoundError(f"there is no report {report_id}", subject=f"report:{report_id}")
            return _stored_report(report, report.record.version)

    def reports(self, dossier_id: int) -> list[StoredReport]:
        """Every version of a dossier's report, oldest first."""
        with self._read() as session:
            rows = session.scalars(select(ReportRow).where(ReportRow.dossier_id == dossier_id)
                                   .order_by(ReportRow.version).options(
                selectinload(ReportRow.documents), selectinload(ReportRow.record)))
            return [_stored_report(r, r.record.version) for r in rows]

    # Reviewers' decisions and the audit log ----------------------------------------------------

    def record_disposition(self, report_id: int, *, decision: Decision, reason: str, reviewer: str,
                           finding_index: int | None = None, rule: str | None = None,
                           field: str | None = None) -> Disposition:
        """A reviewer confirms or dismisses a finding, named by its index in the report's
        findings or by rule (and field). Earlier decisions stay; the latest one counts."""
        subject = f"report:{report_id}"
        if not reason.strip():
            raise InputError("a reason is needed to confirm or dismiss a finding", subject=subject)
        if finding_index is None and rule is None:
            raise InputError("name the finding by its index or its rule", subject=subject)
        with self._write() as session:
            report = session.get(ReportRow, report_id)
            if report is None:
                raise InputError(f"there is no report {report_id}", subject=subject)
            findings: list[dict[str, Any]] = list(report.data.get("findings", []))
            if finding_index is not None:
                if not 0 <= finding_index < len(findings):
                    raise InputError(f"the report has no finding {finding_index} "
                                     f"({len(findings)} findings)", subject=subject)
                chosen = findings[finding_index]
                if (rule is not None and chosen.get("rule") != rule) or (
                        field is not None and chosen.get("field") != field):
                    raise InputError(f"finding {finding_index} is {chosen.get('rule')} on "
                                     f"{chosen.get('field')}, not {rule} on {field}", subject=subject)
            elif not any(f.get("rule") == rule and (field is None or f.get("field") == field)
                         for f in findings):
                raise InputError(f"the report has no finding of rule {rule}"
                                 + (f" on {field}" if field else ""), subject=subject)
            row = DispositionRow(report_id=report_id, finding_index=finding_index, rule=rule,
                                 field=field, decision=Decision(decision).value, reason=reason.strip(),
                                 reviewer=reviewer)
            session.add(row)
            session.flush()
            self._audit(session, reviewer, f"finding.{row.decision}", subject, {
                "disposition_id": row.id, "finding_index": finding_index, "rule": rule,
                "field": field, "reason": row.reason})
            return _disposition(row)

    def dispositions(self, report_id: int) -> list[Disposition]:
        """Every decision on the report's findings, oldest first."""
        with self._read() as session:
            rows = session.scalars(select(DispositionRow).where(DispositionRow.report_id == report_id)
                                   .order_by(DispositionRow.id))
            return [_disposition(r) for r in rows]

    def document_key(self, document_id: int) -> str:
        with self._read() as session:
            row = session.get(DocumentRow, document_id)
            if row is None:
                raise NotFoundError(f"there is no document {document_id}",
                                    subject=f"document:{document_id}")
            return row.storage_key

    # Jobs as a queue: the database is the truth about what is waiting and running ----------

    def claim_job(self, kinds: Sequence[str] = ("review",)) -> JobStatus | None:
        """Take the oldest queued job: it becomes ``running`` with one more attempt. Two workers
        never take the same job (the update only succeeds while the job is still queued)."""
        while True:
            with self._write() as session:
                job = session.scalar(select(JobRow).where(
                    JobRow.state == JobState.QUEUED.value, JobRow.kind.in_(kinds))
                    .order_by(JobRow.id).limit(1))
                if job is None:
                    return None
                claimed = session.execute(
                    update(JobRow).where(JobRow.id == job.id, JobRow.state == JobState.QUEUED.value)
                    .values(state=JobState.RUNNING.value, attempts=JobRow.attempts + 1,
                            started_at=func.coalesce(JobRow.started_at, utcnow()),
                            updated_at=utcnow()))
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    self._audit(session, "worker", "job.state", f"job:{job.id}",
                                {"from": JobState.QUEUED.value, "to": JobState.RUNNING.value})
                    session.flush()
                    session.refresh(job)
                    return _job_status(job)

    def requeue_running(self, *, actor: str = "worker") -> list[int]:
        """Jobs left ``running`` by a worker that stopped (a restart, a crash) go back to the
        queue; the work they did is redone, idempotently."""
        with self._write() as session:
            jobs = list(session.scalars(select(JobRow).where(
                JobRow.state == JobState.RUNNING.value)))
            for job in jobs:
                job.state = JobState.QUEUED.value
                job.stage = "queued"
                self._audit(session, actor, "job.requeue", f"job:{job.id}",
                            {"attempts": job.attempts})
            return [job.id for job in jobs]

    def requeue_job(self, job_id: int, *, reason: str, actor: str = "worker") -> None:
        """Put a running job back in the queue (its worker hit a passing fault)."""
        with self._write() as session:
            job = session.get(JobRow, job_id)
            if job is not None and job.state == JobState.RUNNING.value:
                job.state = JobState.QUEUED.value
                job.stage = "queued"
                self._audit(session, actor, "job.requeue", f"job:{job_id}",
                            {"attempts": job.attempts, "reason": reason})

    def jobs(self, *, dossier_ids: Sequence[int] | None = None,
             states: Sequence[str] | None = None, limit: int = 200) -> list[JobStatus]:
        with self._read() as session:
            query = select(JobRow).order_by(JobRow.id.desc()).limit(limit)
            if dossier_ids is not None:
                query = query.where(JobRow.dossier_id.in_(dossier_ids))
            if states is not None:
                query = query.where(JobRow.state.in_(states))
            return [_job_status(j) for j in session.scalars(query)]

    def report_of_job(self, job_id: int) -> int | None:
        with self._read() as session:
            return session.scalar(select(ReportRow.id).where(ReportRow.job_id == job_id)
                                  .order_by(ReportRow.id.desc()).limit(1))

    # Users and sessions -----------------------------------------------------------------------

    def add_user(self, username: str, *, password_hash: str, role: Role, display_name: str,
                 unit: str | None = None, actor: str) -> User:
        role = Role(role)
        if role == Role.UNIT and not unit:
            raise InputError("a recommending unit's account needs the unit's name",
                             subject=username)
        with self._write() as session:
            if session.scalar(select(UserRow).where(UserRow.username == username)) is not None:
                raise InputError("this user name is taken", subject=username)
            row = UserRow(username=username, display_name=display_name,
                          password_hash=password_hash, role=role.value,
                          unit=unit if role == Role.UNIT else None)
            session.add(row)
            session.flush()
            self._audit(session, actor, "user.add", f"user:{username}",
                        {"role": role.value, "unit": row.unit})
            return _user(row)

    def user_credentials(self, username: str) -> tuple[User, str] | None:
        """The user and their password hash, for the log-in; None for an unknown name."""
        with self._read() as session:
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            return None if row is None else (_user(row), row.password_hash)

    def set_password_hash(self, user_id: int, password_hash: str) -> None:
        with self._write() as session:
            row = session.get(UserRow, user_id)
            if row is not None:
                row.password_hash = password_hash

    def users(self) -> list[User]:
        with self._read() as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))]

    def add_session(self, user_id: int, *, token_sha256: str, csrf_token: str,
                    expires_at: datetime) -> None:
        with self._write() as session:
            session.add(SessionRow(user_id=user_id, token_sha256=token_sha256,
                                   csrf_token=csrf_token, expires_at=expires_at))

    def session_user(self, token_sha256: str) -> tuple[User, str] | None:
        """The user of a live session and its CSRF token; None when unknown, expired, revoked
        or the user is disabled."""
        with self._read() as session:
            row = session.scalar(select(SessionRow).where(SessionRow.token_sha256 == token_sha256)
                                 .options(selectinload(SessionRow.user)))
            if row is None or row.revoked or row.expires_at <= utcnow() or not row.user.active:
                return None
            return _user(row.user), row.csrf_token

    def revoke_session(self, token_sha256: str) -> None:
        with self._write() as session:
            row = session.scalar(select(SessionRow).where(SessionRow.token_sha256 == token_sha256))
            if row is not None:
                row.revoked = True

    # What the service shows: campaigns, labs, dossiers ----------------------------------------

    def campaigns(self) -> list[tuple[str, str]]:
        """(code, name) of every campaign, newest first."""
        with self._read() as session:
            return [(c.code, c.name) for c in session.scalars(
                select(CampaignRow).order_by(CampaignRow.code.desc()))]

    def labs(self, campaign: str, *, unit: str | None = None) -> list[Lab]:
        """The campaign's roster; only the labs ``unit`` recommends when it is given."""
        with self._read() as session:
            query = (select(LabRow).join(CampaignRow).where(CampaignRow.code == campaign)
                     .order_by(LabRow.code).options(selectinload(LabRow.campaign)))
            if unit is not None:
                query = query.where(LabRow.recommending_unit == unit)
            return [_lab(r) for r in session.scalars(query)]

    def lab(self, campaign: str, lab_id: str) -> Lab:
        with self._read() as session:
            row = session.scalar(select(LabRow).join(CampaignRow).where(
                CampaignRow.code == campaign, LabRow.code == lab_id)
                .options(selectinload(LabRow.campaign)))
            if row is None:
                raise NotFoundError(f"{lab_id} is not on the roster of campaign {campaign}",
                                    subject=lab_id)
            return _lab(row)

    def dossier(self, dossier_id: int) -> Dossier:
        with self._read() as session:
            row = session.scalar(select(DossierRow).where(DossierRow.id == dossier_id).options(
                selectinload(DossierRow.lab).selectinload(LabRow.campaign),
                selectinload(DossierRow.documents)))
            if row is None:
                raise NotFoundError(f"there is no dossier {dossier_id}",
                                    subject=f"dossier:{dossier_id}")
            return _dossier(row)

    def dossiers(self, campaign: str, *, lab_id: str | None = None,
                 unit: str | None = None) -> list[Dossier]:
        """A campaign's dossiers, newest first; of one lab, or of one unit's labs."""
        with self._read() as session:
            query = (select(DossierRow).join(LabRow).join(CampaignRow)
                     .where(CampaignRow.code == campaign).order_by(DossierRow.id.desc())
                     .options(selectinload(DossierRow.lab).selectinload(LabRow.campaign),
                              selectinload(DossierRow.documents)))
            if lab_id is not None:
                query = query.where(LabRow.code == lab_id)
            if unit is not None:
                query = query.where(LabRow.recommending_unit == unit)
            return [_dossier(r) for r in session.scalars(query)]

    def latest_reports(self, dossier_ids: Sequence[int]) -> dict[int, StoredReport]:
        """Each dossier's latest report version, by dossier id (dossiers without one are left
        out)."""
        if not dossier_ids:
            return {}
        with self._read() as session:
            newest = (select(ReportRow.dossier_id, func.max(ReportRow.version).label("v"))
                      .where(ReportRow.dossier_id.in_(dossier_ids))
                      .group_by(ReportRow.dossier_id).subquery())
            rows = session.scalars(select(ReportRow).join(newest, (
                ReportRow.dossier_id == newest.c.dossier_id) & (ReportRow.version == newest.c.v))
                .options(selectinload(ReportRow.documents), selectinload(ReportRow.record)))
            return {r.dossier_id: _stored_report(r, r.record.version) for r in rows}

    def dispositions_of(self, report_ids: Sequence[int]) -> dict[int, list[Disposition]]:
        if not report_ids:
            return {}
        with self._read() as session:
            out: dict[int, list[Disposition]] = {i: [] for i in report_ids}
            for row in session.scalars(select(DispositionRow).where(
                    DispositionRow.report_id.in_(report_ids)).order_by(DispositionRow.id)):
                out[row.report_id].append(_disposition(row))
            return out


    def audit(self, *, actor: str, action: str, subject: str,
              detail: Mapping[str, Any] | None = None) -> None:
        """Write an audit entry on its own (the operations above write theirs themselves)."""
        with self._write() as session:
            self._audit(session, actor, action, subject, detail)

    def audit_entries(self, subject: str | None = None) -> list[AuditEntry]:
        with self._read() as session:
            query = select(AuditRow).order_by(AuditRow.id)
            if subject is not None:
                query = query.where(AuditRow.subject == subject)
            return [AuditEntry(r.id, r.at, r.actor, r.action, r.subject, r.detail)
                    for r in session.scalars(query)]


def _job_status(job: JobRow) -> JobStatus:
    return JobStatus(job.id, job.kind, job.dossier_id, job.state, job.stage, job.progress,
                     job.error_code, job.error, job.created_at, job.started_at, job.finished_at,
                     job.pages_done, job.pages_total, job.attempts, job.created_by, job.updated_at)


def _user(row: UserRow) -> User:
    return User(row.id, row.username, row.display_name, Role(row.role), row.unit, row.active)


def _lab(row: LabRow) -> Lab:
    return Lab(row.id, row.campaign.code, row.code, row.name, row.recommending_unit,
               row.association)


def _dossier(row: DossierRow) -> Dossier:
    scans = tuple((d.id, d.name, d.sha256, d.pages) for d in row.documents if d.role == "scan")
    online = next(((d.id, d.name, d.sha256, d.pages) for d in row.documents
                   if d.role == "online"), None)
    return Dossier(row.id, _lab(row.lab), row.precheck, row.created_by, row.created_at, scans,
                   online)


def _stored_record(row: RecordRow, campaign: str, lab_id: str) -> StoredRecord:
    return StoredRecord(row.id, campaign, lab_id, row.version, row.sha256, row.data, row.source,
                        row.imported_by, row.imported_at)


def _stored_report(row: ReportRow, record_version: int) -> StoredReport:
    return StoredReport(row.id, row.dossier_id, row.version, row.record_id, record_version,
                        tuple(d.id for d in row.documents), row.verdict, row.data, row.created_by,
                        row.created_at)


def _disposition(row: DispositionRow) -> Disposition:
    return Disposition(row.id, row.report_id, row.finding_index, row.rule, row.field, row.decision,
                       row.reason, row.reviewer, row.created_at)
