import json

import pytest

from intake.errors import RecordError
from intake.record import load_record
from samples.generate import plan_batch


@pytest.fixture
def good_record():
    return plan_batch(labs=1, seed=5).labs[0].record


def test_a_generated_record_loads(tmp_path, good_record):
    path = tmp_path / "record.json"
    path.write_text(json.dumps(good_record, ensure_ascii=False), encoding="utf-8")
    record = load_record(path)
    assert record.lab_id == good_record["lab_id"]
    assert len(record.sha256) == 64


@pytest.mark.parametrize(
    ("content", "says"),
    [(b"", "empty"), (b"{not json", "not valid UTF-8 JSON"), (b"\xff\xfe\x00", "not valid"),
     (b"[]", "schema")],
)
def test_unusable_record_files_are_refused_with_the_reason(tmp_path, content, says):
    path = tmp_path / "record.json"
    path.write_bytes(content)
    with pytest.raises(RecordError, match=says) as err:
        load_record(path)
    assert str(path) in str(err.value)


def test_a_schema_violation_names_the_field(tmp_path, good_record):
    good_record["identity"]["credit_code"] = 12345
    del good_record["resources"]["staff_total"]
    path = tmp_path / "record.json"
    path.write_text(json.dumps(good_record, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(RecordError) as err:
        load_record(path)
    assert "identity.credit_code" in err.value.message
    assert "staff_total" in err.value.message


def test_a_missing_record_file_says_so(tmp_path):
    with pytest.raises(RecordError, match="does not exist"):
        load_record(tmp_path / "nope.json")
