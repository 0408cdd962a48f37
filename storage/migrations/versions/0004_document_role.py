"""A document's role in its dossier: a scan of the paper, or the online system's own printout.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False,
                                   server_default=sa.text("'scan'")))
        batch.create_check_constraint(op.f("ck_document_role"), "role IN ('scan', 'online')")


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_constraint(op.f("ck_document_role"), type_="check")
        batch.drop_column("role")
