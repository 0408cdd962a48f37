"""Engines for the two databases we run on: SQLite embedded (WAL, foreign keys, busy timeout)
and PostgreSQL through psycopg 3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError

from intake.errors import DatabaseError

# Seconds a writer waits for another writer's lock before SQLite gives up.
SQLITE_BUSY_TIMEOUT = 30.0
# Execution option that makes a SQLite transaction take the write lock at BEGIN: a deferred
# transaction that reads, then writes, fails at once with "database is locked" when another
# writer committed in between, whatever the busy timeout.
SQLITE_BEGIN = "sqlite_begin"


def database_url(url: str) -> URL:
    """Parse ``url``; plain ``postgresql://`` (and ``postgres://``) means psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise DatabaseError("the database URL cannot be parsed; expected sqlite:///PATH or "
                            "postgresql://USER@HOST/DATABASE", subject="database.url") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseError(f"{parsed.get_backend_name()} is not supported; use sqlite:///PATH "
                            "or postgresql://USER@HOST/DATABASE", subject="database.url")
    return parsed


def display_url(url: str | URL) -> str:
    """The URL as it may be shown to a user: any password hidden."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except ArgumentError:
        return "database.url"
    return parsed.render_as_string(hide_password=True)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``; a SQLite file's folder is created when missing."""
    parsed = database_url(url)
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT}, **kwargs)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # The driver's own transaction handling is off: _sqlite_begin emits BEGIN, so DDL is
    # transactional too (a migration that fails leaves nothing half done).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    finally:
        cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")
