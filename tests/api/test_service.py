"""A dossier kept, reviewed and its report kept: on local files with SQLite (the embedded
default) and on the real S3 server with PostgreSQL (production)."""

import hashlib
import json
from pathlib import Path

import pytest

from api.service import render_stored_report, submit
from intake.errors import CorruptFileError
from intake.pipeline import ReviewOptions
from intake.record import record_from_dict
from samples.generate import generate_batch
from storage.db import Database


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch")
    manifest = generate_batch(out, labs=2, seed=21, text_layer=True, discrepancies=1)
    lab = next(lab for lab in manifest["labs"] if not lab["clean"])
    return out / lab["lab_id"]


@pytest.fixture
def backends(database_url, store):
    """Every pairing: local files or the S3 server, with SQLite or PostgreSQL."""
    db = Database(database_url)
    db.migrate()
    yield db, store
    db.dispose()


def _files(lab_dir: Path) -> list[Path]:
    return sorted(lab_dir.glob("*.pdf"))


def _run(lab_dir, db, store):
    record = json.loads((lab_dir / "record.json").read_text(encoding="utf-8"))
    db.import_records(record["campaign"], [record_from_dict(record)], actor="秘书处",
                      source="record.json")
    return record, submit(_files(lab_dir), campaign=record["campaign"], lab_id=record["lab_id"],
                          db=db, store=store, options=ReviewOptions(workers=1), verifier=None,
                          actor="秘书处")


def test_a_report_renders_again_identically_from_what_is_stored(lab, backends):
    db, store = backends
    _, first = _run(lab, db, store)
    assert first.data["verdict"] == "fail"
    assert render_stored_report(first.report.id, db=db, store=store) == first.html
    assert "data:image/jpeg;base64," in first.html


def test_sending_the_same_files_again_stores_no_new_original(lab, backends):
    db, store = backends
    _, first = _run(lab, db, store)
    originals = sorted(o.key for o in store.list("originals/"))
    _, second = _run(lab, db, store)
    assert [o.created for o in first.originals] == [True] * len(first.originals)
    assert [o.created for o in second.originals] == [False] * len(second.originals)
    assert sorted(o.key for o in store.list("originals/")) == originals
    assert second.report.record_version == first.report.record_version == 1


def test_the_originals_bytes_are_exactly_what_was_sent(lab, backends):
    db, store = backends
    _, first = _run(lab, db, store)
    for path, kept in zip(_files(lab), first.originals, strict=True):
        body = store.get_bytes(kept.key)
        assert hashlib.sha256(body).hexdigest() == kept.sha256
        assert body == path.read_bytes()


def test_a_bad_file_stores_nothing(lab, backends, tmp_path):
    db, store = backends
    record = json.loads((lab / "record.json").read_text(encoding="utf-8"))
    db.import_records(record["campaign"], [record_from_dict(record)], actor="秘书处",
                      source="record.json")
    broken = tmp_path / "volume-3.pdf"
    broken.write_bytes(_files(lab)[0].read_bytes()[:5000])
    with pytest.raises(CorruptFileError, match=r"volume-3\.pdf"):
        submit([*_files(lab), broken], campaign=record["campaign"], lab_id=record["lab_id"],
               db=db, store=store, options=ReviewOptions(workers=1), verifier=None, actor="秘书处")
    assert list(store.list("originals/")) == []
