"""Alembic's environment: migrations run on the connection ``storage.db.migrate`` hands over,
or, for ``alembic upgrade --sql``, as SQL text for the URL in the configuration."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

from storage.db.engine import make_engine
from storage.db.models import Base

# Held for the migration's transaction, so that two processes starting at once migrate in turn
# (SQLite needs none: the migration's transaction takes the write lock at BEGIN).
POSTGRES_LOCK_KEY = 0x646F7373  # "doss"


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite alters tables by copying them; our engine makes its DDL transactional.
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
        compare_type=True,
    )


def run_offline() -> None:
    context.configure(url=context.config.get_main_option("sqlalchemy.url"),
                      target_metadata=Base.metadata, literal_binds=True,
                      dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database: use storage.db.migrate(url), or set sqlalchemy.url")
    engine = make_engine(url)
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
