"""The audit log is append-only, and the database itself enforces it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from storage.db.models import AuditRow


def test_the_audit_log_refuses_update_and_delete(db):
    db.audit(actor="reviewer-li", action="report.view", subject="report:1", detail={"ip": "127.0.0.1"})
    before = db.audit_entries()

    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor = 'someone-else'"))
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
    with pytest.raises(DBAPIError, match="append-only"), Session(db.engine) as session, session.begin():
        session.delete(session.scalars(select(AuditRow)).one())
    if db.engine.dialect.name == "postgresql":  # SQLite has no TRUNCATE
        with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as connection:
            connection.execute(text("TRUNCATE audit_log"))

    assert db.audit_entries() == before


def test_every_change_leaves_an_audit_entry_with_who_and_when(db, records):
    db.import_records("2021", records, actor="cli:secretariat", source="april.json")
    db.import_records("2021", records, actor="cli:secretariat", source="april.json")
    entries = db.audit_entries("campaign:2021")
    assert [e.action for e in entries] == ["campaign.create", "records.import", "records.import"]
    first, second = entries[1], entries[2]
    assert first.actor == "cli:secretariat"
    assert (first.detail["versions_added"], second.detail["versions_added"]) == (6, 0)
    assert first.detail["source"] == "april.json"
    assert first.at.tzinfo is not None
    assert first.at <= second.at
