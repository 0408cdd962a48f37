"""The database: campaigns, labs, versioned records, dossiers, documents, jobs, reports,
reviewers' decisions and the append-only audit log, on SQLite (embedded) or PostgreSQL.

``migrate(url)`` brings a database to this version's schema; ``Database(url)`` performs the
operations, each in one transaction.
"""

from storage.db.engine import database_url, display_url, make_engine
from storage.db.models import Decision, JobState
from storage.db.repository import (
    AuditEntry,
    Database,
    Disposition,
    ImportResult,
    JobStatus,
    StoredRecord,
    StoredReport,
)
from storage.db.schema import current_revision, head_revision, migrate

__all__ = [
    "AuditEntry", "Database", "Decision", "Disposition", "ImportResult", "JobState", "JobStatus",
    "StoredRecord", "StoredReport", "current_revision", "database_url", "display_url",
    "head_revision", "make_engine", "migrate",
]
