"""The online record of one lab: loaded, validated against the record schema, and read.

The schema (``samples/record.schema.json``, versioned) is the contract with the online
application system's export.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from intake.errors import RecordError

SCHEMA_RESOURCE = ("samples", "record.schema.json")


@cache
def record_schema() -> dict[str, Any]:
    package, name = SCHEMA_RESOURCE
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class Record:
    data: dict[str, Any]
    sha256: str

    @property
    def lab_id(self) -> str:
        return str(self.data["lab_id"])

    @property
    def lab_name(self) -> str:
        return str(self.data["identity"]["lab_name"])

    @property
    def campaign(self) -> str:
        return str(self.data["campaign"])


def validate_record(data: Any, subject: str) -> None:
    """Raise RecordError naming the first problems (field path and what is wrong)."""
    validator = jsonschema.Draft202012Validator(record_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        described = "; ".join(
            f"{'.'.join(str(p) for p in e.absolute_path) or '(top level)'}: {e.message}"
            for e in errors[:5]
        )
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise RecordError(
            f"the record does not match record schema v1: {described}{more}; "
            "export the lab's record again from the online system",
            subject=subject,
        )


def record_from_dict(data: Any, subject: str = "record") -> Record:
    validate_record(data, subject)
    blob = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
    return Record(data=data, sha256=hashlib.sha256(blob).hexdigest())


def load_record(path: Path) -> Record:
    """Read and validate a record JSON file."""
    subject = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise RecordError("the record file does not exist", subject=subject) from None
    except OSError as exc:
        raise RecordError(f"the record file cannot be read ({exc.strerror})",
                          subject=subject) from None
    if not raw.strip():
        raise RecordError("the record file is empty; export the lab's record again",
                          subject=subject)
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"the record is not valid UTF-8 JSON ({exc})", subject=subject) from None
    return record_from_dict(data, subject)
