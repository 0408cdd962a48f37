"""Migrations build the schema from an empty database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from intake.errors import DatabaseError
from storage.db import Database, current_revision, head_revision, make_engine, migrate
from storage.db.models import Base
from storage.db.schema import alembic_config

TABLES = {"campaign", "lab", "record", "dossier", "document", "job", "report", "report_document",
          "finding_disposition", "audit_log"}


def test_migrations_build_every_table_from_an_empty_database(database_url):
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        migrate(database_url)
        assert current_revision(engine) == head_revision()
        assert set(inspect(engine).get_table_names()) >= TABLES
        # The migration and the models describe the same schema: nothing left to autogenerate.
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migrating_again_keeps_the_data(db, database_url):
    campaign_id = db.ensure_campaign("2021", actor="test")
    migrate(database_url)
    assert db.ensure_campaign("2021", actor="test") == campaign_id
    assert db.check_schema() == head_revision()


def test_an_unmigrated_database_is_reported_not_used(database_url):
    database = Database(database_url)
    try:
        with pytest.raises(DatabaseError, match="empty database"):
            database.check_schema()
    finally:
        database.dispose()


def test_the_database_enforces_foreign_keys(db):
    # SQLite ignores foreign keys unless every connection turns them on.
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO document (dossier_id, name, sha256, kind, size, storage_key, created_at) "
            "VALUES (999, 'a.pdf', 'x', 'pdf', 1, 'k', CURRENT_TIMESTAMP)"))


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    database = Database(f"sqlite:///{tmp_path}/nested/dossier.db")
    try:
        database.migrate()
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert (tmp_path / "nested" / "dossier.db").exists()
    finally:
        database.dispose()


def test_an_unreachable_database_is_one_clear_error():
    with pytest.raises(DatabaseError, match="cannot be migrated") as caught:
        migrate("postgresql://postgres:secret@127.0.0.1:1/none")
    assert "secret" not in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_unsupported_database_is_named():
    with pytest.raises(DatabaseError, match="mysql is not supported"):
        make_engine("mysql://root@localhost/x")


def test_the_initial_revision_downgrades_cleanly(db, database_url):
    config = alembic_config()
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(db.engine).get_table_names()) & TABLES == set()
    migrate(database_url)
    assert db.check_schema() == head_revision()
