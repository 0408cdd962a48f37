"""Bring a database to this version's schema with Alembic, without an alembic.ini.

``migrate(url)`` upgrades to head in one transaction (PostgreSQL and, through our engine's
BEGIN, SQLite too): a migration that fails leaves the database as it was. A developer adds a
revision with ``alembic.command.revision(alembic_config(url), "message", autogenerate=True,
rev_id="0002")``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from intake.errors import DatabaseError
from storage.db.engine import SQLITE_BEGIN, display_url, make_engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package ships its revisions
        raise DatabaseError("no migrations are installed", subject=str(MIGRATIONS))
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise DatabaseError(f"the database cannot be read ({first_line(exc)})",
                            subject=display_url(engine.url)) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    try:
        with engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"the database cannot be migrated ({first_line(exc)})",
                            subject=display_url(engine.url)) from exc


def migrate(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``; a no-op when it is there already."""
    engine = make_engine(url)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()


def first_line(exc: SQLAlchemyError) -> str:
    """The driver's own message, first line only (PostgreSQL adds DETAIL and HINT lines)."""
    original = getattr(exc, "orig", None) or exc
    return str(original).strip().splitlines()[0] if str(original).strip() else type(exc).__name__
