"""The database's tables as typed SQLAlchemy models.

Natural keys from the online system are ``code`` (a campaign's year, a lab's ``lab_id`` such as
``L2021-003``); every table also has an integer ``id`` that foreign keys point at. Rows that
record what was received or decided (record versions, reports, dispositions, the audit log) are
only ever added: a new record version or report version is a new row.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSONB on PostgreSQL (indexable, queryable); JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC, timezone-aware in Python on both databases (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("a naive datetime cannot be stored; use an aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONType,
                                                      datetime: UTCDateTime}


def _created_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, server_default=text("CURRENT_TIMESTAMP"))


def _updated_at() -> Mapped[datetime]:
    return mapped_column(default=utcnow, onupdate=utcnow, server_default=text("CURRENT_TIMESTAMP"))


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Role(StrEnum):
    SECRETARIAT = "secretariat"  # 秘书处: everything
    REVIEWER = "reviewer"  # 审查人员: reads every report, confirms or dismisses findings
    UNIT = "unit"  # 推荐单位: its own labs only; prechecks


class Decision(StrEnum):
    CONFIRM = "confirm"  # the reviewer agrees with the finding
    DISMISS = "dismiss"  # the reviewer overrules it


def _in(column: str, values: type[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(v.value) for v in values)})"


class CampaignRow(Base):
    """One review campaign (复核), e.g. 2021, with its settings and its roster of labs."""

    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the year, "2021"
    name: Mapped[str] = mapped_column(String(200))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = _created_at()

    labs: Mapped[list[LabRow]] = relationship(back_populates="campaign", order_by="LabRow.code")


class LabRow(Base):
    """A lab on a campaign's roster; its names are those of its latest record version."""

    __tablename__ = "lab"
    __table_args__ = (UniqueConstraint("campaign_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    code: Mapped[str] = mapped_column(String(32))  # the record's lab_id, "L2021-003"
    name: Mapped[str] = mapped_column(String(200))
    recommending_unit: Mapped[str] = mapped_column(String(200))
    association: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    campaign: Mapped[CampaignRow] = relationship(back_populates="labs")
    records: Mapped[list[RecordRow]] = relationship(
        back_populates="lab", order_by="RecordRow.version")


class RecordRow(Base):
    """One version of a lab's online record, exactly as imported."""

    __tablename__ = "record"
    __table_args__ = (
        UniqueConstraint("lab_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("lab.id"))
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]]
    sha256: Mapped[str] = mapped_column(String(64))  # intake.record.Record.sha256 of data
    source: Mapped[str] = mapped_column(String(500))  # the file it was imported from
    imported_by: Mapped[str] = mapped_column(String(200))
    imported_at: Mapped[datetime] = _created_at()

    lab: Mapped[LabRow] = relationship(back_populates="records")


class DossierRow(Base):
    """One lab's paper package as received: the lab's submission to the secretariat, or a
    recommending unit's precheck (a trial run, not an official submission)."""

    __tablename__ = "dossier"

    id: Mapped[int] = mapped_column(primary_key=True)
    lab_id: Mapped[int] = mapped_column(ForeignKey("lab.id"), index=True)
    precheck: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()

    lab: Mapped[LabRow] = relationship()
    documents: Mapped[list[DocumentRow]] = relationship(
        back_populates="dossier", order_by="DocumentRow.id")


class DocumentRow(Base):
    """One uploaded file of a dossier; its bytes live in the object store under storage_key."""

    __tablename__ = "document"
    __table_args__ = (
        UniqueConstraint("dossier_id", "name"),
        CheckConstraint("kind IN ('pdf', 'tiff', 'jpeg', 'png')", name="kind"),
        CheckConstraint("size >= 0", name="size_not_negative"),
        CheckConstraint("pages IS NULL OR pages >= 0", name="pages_not_negative"),
        CheckConstraint("role IN ('scan', 'online')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    name: Mapped[str] = mapped_column(String(255))
    # scan: the paper as scanned; online: the online system's own printout of the form
    role: Mapped[str] = mapped_column(String(16), default="scan", server_default=text("'scan'"))
    sha256: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # intake.model.DocumentKind
    size: Mapped[int] = mapped_column(BigInteger)
    pages: Mapped[int | None] = mapped_column(Integer)  # None until the file has been read
    storage_key: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = _created_at()

    dossier: Mapped[DossierRow] = relationship(back_populates="documents")


class JobRow(Base):
    """A unit of background work (reviewing a dossier) and how far it has got."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint(_in("state", JobState), name="state"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="progress_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # "review"
    dossier_id: Mapped[int | None] = mapped_column(ForeignKey("dossier.id"), index=True)
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    stage: Mapped[str | None] = mapped_column(String(64))
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    pages_total: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_by: Mapped[str] = mapped_column(String(200), default="", server_default=text("''"))
    error_code: Mapped[str | None] = mapped_column(String(64))  # intake.errors code
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


report_document = Table(
    "report_document",
    Base.metadata,
    Column("report_id", ForeignKey("report.id"), primary_key=True),
    Column("document_id", ForeignKey("document.id"), primary_key=True, index=True),
)


class ReportRow(Base):
    """One version of a dossier's report, tied to the record version and documents it judged."""

    __tablename__ = "report"
    __table_args__ = (
        UniqueConstraint("dossier_id", "version"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint("verdict IN ('pass', 'fail', 'review')", name="verdict"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"))
    version: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int] = mapped_column(ForeignKey("record.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id"), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # intake.model.Verdict
    data: Mapped[dict[str, Any]]  # intake.report.report_json
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()

    dossier: Mapped[DossierRow] = relationship()
    record: Mapped[RecordRow] = relationship()
    documents: Mapped[list[DocumentRow]] = relationship(
        secondary=report_document, order_by="DocumentRow.id")


class DispositionRow(Base):
    """A reviewer's decision on one finding of a report; the latest one per finding counts."""

    __tablename__ = "finding_disposition"
    __table_args__ = (
        CheckConstraint(_in("decision", Decision), name="decision"),
        CheckConstraint("finding_index IS NOT NULL OR rule IS NOT NULL", name="finding_named"),
        CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("report.id"), index=True)
    finding_index: Mapped[int | None] = mapped_column(Integer)  # into the report's findings
    rule: Mapped[str | None] = mapped_column(String(64))
    field: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _created_at()


class AuditRow(Base):
    """Who did what to which subject, and when. The database refuses UPDATE and DELETE here."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_at", "subject", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = _created_at()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))  # e.g. "campaign:2021", "dossier:12"
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)



class UserRow(Base):
    """Someone who logs in: secretariat staff, a reviewer, or a recommending unit's account,
    which sees only the labs whose recommending unit is ``unit``."""

    __tablename__ = "app_user"
    __table_args__ = (
        CheckConstraint(_in("role", Role), name="role"),
        CheckConstraint("role != 'unit' OR unit IS NOT NULL", name="unit_named"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    unit: Mapped[str | None] = mapped_column(String(200))  # the recommending unit's name
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = _created_at()


class SessionRow(Base):
    """A logged-in session: only the token's SHA-256 is kept, never the token."""

    __tablename__ = "app_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)

    user: Mapped[UserRow] = relationship()


class PageState(StrEnum):
    RUNNING = "running"
    DONE = "done"


class JobPageRow(Base):
    """One page of a job as read by a distributed worker (storage.db.pages): the truth about
    which pages are done. One row per page, so a page read twice is still counted once."""

    __tablename__ = "job_page"
    __table_args__ = (
        UniqueConstraint("job_id", "document_id", "page"),
        CheckConstraint(_in("state", PageState), name="state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), index=True)
    page: Mapped[int] = mapped_column(Integer)  # 1-based within its document
    state: Mapped[str] = mapped_column(String(16), default=PageState.RUNNING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=1)  # reads started, redeliveries too
    result_key: Mapped[str | None] = mapped_column(String(500))  # the PageResult JSON in the store
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
