"""The database suite runs on SQLite and on real PostgreSQL (127.0.0.1:5432, user postgres).

Each test session (each xdist worker) creates a database of its own on the server, named after
the worker, the process and a random suffix, and drops it at the end; each test gets a fresh
schema in it. PostgreSQL being down fails these tests with a message saying so: never a skip.
"""

from __future__ import annotations

import itertools
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from intake.record import Record, record_from_dict
from samples.generate import plan_batch
from storage.db import Database

POSTGRES_ADMIN_URL = os.environ.get(
    "DOSSIER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_schemas = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """The URL of a database of this session's own, dropped when the session ends."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"dossier_test_{worker}_{os.getpid()}_{secrets.token_hex(4)}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    unreachable = None
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except OperationalError as exc:
        unreachable = str(exc.orig).strip().splitlines()[0]
    if unreachable:
        admin.dispose()
        pytest.fail(
            f"PostgreSQL is needed for these tests and is not reachable at {POSTGRES_ADMIN_URL} "
            f"({unreachable}). Start it (pg_ctlcluster --skip-systemctl-redirect VERSION main start) "
            "or point DOSSIER_TEST_POSTGRES_URL at one.", pytrace=False)
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> str:
    """An empty database: a new SQLite file, or a new schema in this session's PostgreSQL
    database (reached through search_path, as a deployment with its own schema would)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/dossier.db"
    base = request.getfixturevalue("postgres_database")
    schema = f"t{next(_schemas)}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
    finally:
        admin.dispose()
    return make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}) \
        .render_as_string(hide_password=False)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A migrated database."""
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def records() -> list[Record]:
    """Six realistic records of campaign 2021."""
    return [record_from_dict(lab.record) for lab in plan_batch(labs=6, seed=11).labs]
