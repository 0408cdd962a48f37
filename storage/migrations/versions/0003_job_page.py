"""Pages of a job read by distributed workers: which are done, how often each was started.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "job_page",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("result_key", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("state IN ('running', 'done')", name=op.f("ck_job_page_state")),
        sa.ForeignKeyConstraint(["job_id"], ["job.id"], name=op.f("fk_job_page_job_id_job")),
        sa.ForeignKeyConstraint(["document_id"], ["document.id"],
                                name=op.f("fk_job_page_document_id_document")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_page")),
        sa.UniqueConstraint("job_id", "document_id", "page",
                            name=op.f("uq_job_page_job_id_document_id_page")),
    )
    op.create_index(op.f("ix_job_page_document_id"), "job_page", ["document_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_page_document_id"), table_name="job_page")
    op.drop_table("job_page")
