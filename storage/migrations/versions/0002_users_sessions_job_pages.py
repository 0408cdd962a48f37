"""Users and their sessions (the web service's log-in), and a job's progress by page.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NOW = sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.CheckConstraint("role IN ('secretariat', 'reviewer', 'unit')",
                           name=op.f("ck_app_user_role")),
        sa.CheckConstraint("role != 'unit' OR unit IS NOT NULL", name=op.f("ck_app_user_unit_named")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "app_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"],
                                name=op.f("fk_app_session_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_session")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_app_session_token_sha256")),
    )
    op.create_index(op.f("ix_app_session_user_id"), "app_session", ["user_id"])
    for column in ("pages_done", "pages_total", "attempts"):
        op.add_column("job", sa.Column(column, sa.Integer(), nullable=False,
                                       server_default=sa.text("0")))
    op.add_column("job", sa.Column("created_by", sa.String(200), nullable=False,
                                   server_default=sa.text("''")))
    op.create_index(op.f("ix_job_state"), "job", ["state"])


def downgrade() -> None:
    op.drop_index(op.f("ix_job_state"), table_name="job")
    with op.batch_alter_table("job") as batch:
        for column in ("created_by", "attempts", "pages_total", "pages_done"):
            batch.drop_column(column)
    op.drop_index(op.f("ix_app_session_user_id"), table_name="app_session")
    op.drop_table("app_session")
    op.drop_table("app_user")
