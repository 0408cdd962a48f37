"""Importing records: nothing is overwritten, identical records add nothing, a bad file adds
nothing at all."""

from __future__ import annotations

import copy
import csv
import io
from concurrent.futures import ThreadPoolExecutor

import pytest

from intake.errors import DatabaseError, RecordError
from intake.record import record_from_dict
from intake.records_io import parse_records
from storage.db import Database


def _changed(record, **identity):
    data = copy.deepcopy(record.data)
    data["identity"].update(identity)
    return record_from_dict(data)


def test_importing_the_same_records_twice_adds_no_versions(db, records):
    first = db.import_records("2021", records, actor="secretariat", source="records.json")
    assert (first.labs_created, first.versions_added, first.unchanged) == (6, 6, 0)
    again = db.import_records("2021", records, actor="secretariat", source="records.json")
    assert (again.labs_created, again.versions_added, again.unchanged) == (0, 0, 6)
    assert db.lab_ids("2021") == sorted(r.lab_id for r in records)
    assert all(len(db.record_versions("2021", r.lab_id)) == 1 for r in records)


def test_a_changed_record_adds_version_2_and_keeps_version_1(db, records):
    db.import_records("2021", records, actor="secretariat", source="april.json")
    original = records[2]
    changed = _changed(original, credit_code="91330106MAPY046K64",
                       lab_name="国家某某产品质量控制和技术评价实验室")
    batch = [*records[:2], changed, *records[3:]]

    result = db.import_records("2021", batch, actor="secretariat", source="may.json")

    assert (result.versions_added, result.unchanged, result.added) == (1, 5, ((original.lab_id, 2),))
    v1, v2 = db.record_versions("2021", original.lab_id)
    assert (v1.version, v1.data, v1.sha256, v1.source) == (1, original.data, original.sha256, "april.json")
    assert (v2.version, v2.data, v2.sha256, v2.source) == (2, changed.data, changed.sha256, "may.json")
    assert db.latest_record("2021", original.lab_id).record() == changed


def test_the_stored_record_is_the_imported_record_byte_for_byte(db, records):
    db.import_records("2021", records, actor="secretariat", source="records.json")
    for record in records:
        stored = db.latest_record("2021", record.lab_id)
        # PostgreSQL keeps JSONB: the record read back must hash to the same sha256.
        assert record_from_dict(stored.data).sha256 == record.sha256 == stored.sha256


def test_an_import_with_one_bad_row_imports_nothing(db, records):
    db.import_records("2021", records[:3], actor="secretariat", source="april.json")
    rows = [_flat(r.data) for r in records]
    rows[4]["identity.credit_code"] = "NOT-A-CODE"
    with pytest.raises(RecordError) as caught:
        parse_records(_csv(rows), "may.csv", "2021")

    message = str(caught.value)
    assert f"line 6 ({records[4].lab_id}): identity.credit_code" in message
    assert "1 of 6 records are bad" in message
    assert db.lab_ids("2021") == sorted(r.lab_id for r in records[:3])


def test_an_import_that_fails_in_the_database_keeps_nothing(db, records, monkeypatch):
    def fail(*_args, **_kwargs):
        raise RuntimeError("disk full")

    db.ensure_campaign("2021", actor="secretariat")
    # The audit entry is the import's last write: when it fails, no lab or record may stay.
    monkeypatch.setattr(Database, "_audit", staticmethod(fail))
    with pytest.raises(RuntimeError, match="disk full"):
        db.import_records("2021", records, actor="secretariat", source="records.json")
    monkeypatch.undo()
    assert db.lab_ids("2021") == []
    assert [e.action for e in db.audit_entries()] == ["campaign.create"]


def test_records_of_another_campaign_are_refused(db, records):
    with pytest.raises(RecordError, match="campaign 2021, not 2022"):
        db.import_records("2022", records, actor="secretariat", source="records.json")
    assert db.lab_ids("2022") == []


def test_a_lab_without_records_is_named(db):
    with pytest.raises(RecordError, match="no record of L2021-404 in campaign 2021"):
        db.latest_record("2021", "L2021-404")


def test_two_imports_at_once_add_each_version_once(db, database_url, records):
    def run(_):
        other = Database(database_url)
        try:
            return other.import_records("2021", records, actor="secretariat", source="r.json")
        finally:
            other.dispose()

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(run, range(2)))

    assert sorted(r.versions_added for r in results) == [0, 6]
    assert all(len(db.record_versions("2021", r.lab_id)) == 1 for r in records)


def test_an_unmigrated_database_refuses_the_import_with_one_line(database_url, records):
    database = Database(database_url)
    try:
        with pytest.raises(DatabaseError) as caught:
            database.import_records("2021", records, actor="secretariat", source="r.json")
    finally:
        database.dispose()
    assert "not been migrated" in str(caught.value)
    assert "\n" not in str(caught.value)


def _flat(data, prefix=""):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _csv(rows):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")
