"""Read a campaign's online records from the online system's exports (JSON, CSV, XLSX).

Plain data in, ``Record`` objects out: every row is typed by the record schema and validated
against it, and every bad row is named (its line as the user counts it, the field, the
problem) before anything is kept. CSV and XLSX have one row per lab under a header of dotted
record keys (``identity.lab_name``, ``quality_reports.2020``); see docs/record-format.md.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from intake.errors import RecordError
from intake.record import Record, record_from_dict, record_schema

MAX_PROBLEMS = 20  # problems spelt out in the error; the rest are counted

_XLSX_MAGIC = b"PK\x03\x04"
_XLS_MAGIC = b"\xd0\xcf\x11\xe0"
_TRUE = {"true", "t", "yes", "y", "1", "是", "同意", "通过"}
_FALSE = {"false", "f", "no", "n", "0", "否", "不同意", "不通过"}
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,288 or 18,650.42
_REQUIRED = re.compile(r"^'(.+)' is a required property$")


@dataclass(frozen=True)
class Problem:
    """What is wrong with one row: ``where`` is "line 4", "row 4" or "records[3]"."""

    where: str
    field: str  # dotted record key; "" for the whole row
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}" if self.field else \
            f"{self.where}: {self.message}"


@dataclass(frozen=True)
class _Row:
    where: str
    data: dict[str, Any]
    problems: tuple[Problem, ...] = ()


class _CellError(ValueError):
    pass


def read_records(path: Path, campaign: str) -> list[Record]:
    """Every record in the file at ``path``; RecordError naming every bad row otherwise."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RecordError("the records file does not exist", subject=str(path)) from None
    except OSError as exc:
        raise RecordError(f"the records file cannot be read ({exc.strerror})",
                          subject=str(path)) from None
    return parse_records(data, path.name, campaign, subject=str(path))


def parse_records(data: bytes, filename: str, campaign: str, *,
                  subject: str | None = None) -> list[Record]:
    """The records in ``data`` (an upload named ``filename``); all of them or a RecordError."""
    subject = subject or filename
    records, problems = check_records(data, filename, campaign, subject=subject)
    if problems:
        raise RecordError(describe(problems, records_total=len(records) + _rows(problems)),
                          subject=subject)
    return records


def check_records(data: bytes, filename: str, campaign: str, *,
                  subject: str | None = None) -> tuple[list[Record], list[Problem]]:
    """The good records and the problems of the bad rows. The file as a whole being unusable
    (unreadable, no records, a bad header) raises RecordError."""
    subject = subject or filename
    if not re.fullmatch(r"\d{4}", campaign):
        raise RecordError(f"the campaign must be a year such as 2021, not {campaign!r}",
                          subject="--campaign")
    rows = list(_rows_of(data, filename, subject))
    if not rows:
        raise RecordError("the file holds no records", subject=subject)
    campaigns = {row.data.get("campaign") for row in rows}
    if campaign not in campaigns and all(isinstance(c, str) for c in campaigns):
        named = ", ".join(sorted(str(c) for c in campaigns))
        raise RecordError(f"the records are for campaign {named}, but this import is for "
                          f"campaign {campaign}", subject=subject)
    records: list[Record] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for row in rows:
        lab_id = row.data.get("lab_id")
        where = f"{row.where} ({lab_id})" if isinstance(lab_id, str) and lab_id else row.where
        found = [Problem(where, p.field, p.message) for p in row.problems] or \
            _schema_problems(row.data, where)
        got = row.data.get("campaign")
        if isinstance(got, str) and got != campaign:
            found.append(Problem(where, "campaign",
                                 f"is {got}, but this import is for campaign {campaign}"))
        if isinstance(lab_id, str) and lab_id:
            if lab_id in first_seen:
                found.append(Problem(where, "lab_id", f"{lab_id} is also on {first_seen[lab_id]}"))
            first_seen.setdefault(lab_id, row.where)
        if found:
            problems.extend(found)
        else:
            records.append(record_from_dict(_canonical(row.data, record_schema()), where))
    return records, problems


def describe(problems: list[Problem], *, records_total: int) -> str:
    """One line: how many rows are bad, then each problem (up to MAX_PROBLEMS)."""
    shown = "; ".join(str(p) for p in problems[:MAX_PROBLEMS])
    more = f"; and {len(problems) - MAX_PROBLEMS} more problems" \
        if len(problems) > MAX_PROBLEMS else ""
    bad = _rows(problems)
    return (f"{bad} of {records_total} records are bad and nothing was imported; fix them and "
            f"import the file again: {shown}{more}")


def _rows(problems: list[Problem]) -> int:
    return len({p.where for p in problems})


# Formats -------------------------------------------------------------------------------------

def _rows_of(data: bytes, filename: str, subject: str) -> Iterator[_Row]:
    suffix = Path(filename).suffix.lower()
    if data.startswith(_XLS_MAGIC) or suffix == ".xls":
        raise RecordError("old .xls workbooks are not read; save the sheet as .xlsx or CSV",
                          subject=subject)
    if suffix in (".xlsx", ".xlsm") or data.startswith(_XLSX_MAGIC):
        return _xlsx_rows(data, subject)
    if suffix == ".json" or (suffix != ".csv" and data.lstrip()[:1] in (b"[", b"{")):
        return _json_rows(data, subject)
    if suffix == ".csv":
        return _table_rows(_csv_table(data, subject), "line", subject)
    raise RecordError("records are read from .json, .csv or .xlsx files", subject=subject)


def _json_rows(data: bytes, subject: str) -> Iterator[_Row]:
    try:
        parsed = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordError(f"the file is not valid UTF-8 JSON ({exc})", subject=subject) from None
    if isinstance(parsed, dict) and isinstance(parsed.get("records"), list):
        parsed = parsed["records"]
    elif isinstance(parsed, dict) and "lab_id" in parsed:
        parsed = [parsed]  # one lab's record, as `dossier review --record` takes it
    if not isinstance(parsed, list):
        raise RecordError('expected a record, a list of records, or {"records": [...]}',
                          subject=subject)
    for index, item in enumerate(parsed):
        where = f"records[{index}]"
        if isinstance(item, dict):
            yield _Row(where, item)
        else:
            yield _Row(where, {}, (Problem(where, "", "is not a record (a JSON object)"),))


def _decode(data: bytes, subject: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise RecordError("the file is neither UTF-8 nor GB18030 text", subject=subject) from None


def _csv_table(data: bytes, subject: str) -> Iterator[tuple[int, list[Any]]]:
    reader = csv.reader(io.StringIO(_decode(data, subject), newline=""))
    line = 1
    try:
        for cells in reader:
            yield line, cells
            line = reader.line_num + 1  # a quoted cell may span lines
    except csv.Error as exc:
        raise RecordError(f"line {reader.line_num}: the CSV cannot be read ({exc})",
                          subject=subject) from None


def _xlsx_rows(data: bytes, subject: str) -> Iterator[_Row]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise RecordError(f"the file is not a readable XLSX workbook ({exc})",
                          subject=subject) from None
    try:
        if not workbook.worksheets:
            raise RecordError("the workbook has no sheet", subject=subject)
        sheet = workbook.worksheets[0]
        table = ((number, list(values)) for number, values in
                 enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1))
        yield from _table_rows(table, "row", subject)
    finally:
        workbook.close()


# One row per lab under a header of dotted keys -------------------------------------------------

def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_rows(table: Iterator[tuple[int, list[Any]]], unit: str, subject: str) -> Iterator[_Row]:
    header: list[tuple[int, str, dict[str, Any]]] | None = None
    width = 0
    for number, cells in table:
        if all(_blank(c) for c in cells):
            continue
        where = f"{unit} {number}"
        if header is None:
            header, width = _header(cells, where, subject), len(cells)
            continue
        extra = [c for c in cells[width:] if not _blank(c)]
        if extra:
            yield _Row(where, {}, (Problem(where, "", f"has {len(cells)} cells, the header has "
                                                      f"{width}"),))
            continue
        data: dict[str, Any] = {}
        problems: list[Problem] = []
        for column, key, schema in header:
            value = cells[column] if column < len(cells) else None
            try:
                present, typed = _cell(value, schema)
            except _CellError as exc:
                problems.append(Problem(where, key, str(exc)))
                continue
            if present:
                _put(data, key, typed)
        yield _Row(where, data, tuple(problems))


def _header(cells: list[Any], where: str, subject: str) -> list[tuple[int, str, dict[str, Any]]]:
    columns: list[tuple[int, str, dict[str, Any]]] = []
    problems: list[str] = []
    seen: set[str] = set()
    for column, cell in enumerate(cells):
        if _blank(cell):
            continue
        key = str(cell).strip()
        schema = column_schema(key)
        if key in seen:
            problems.append(f"column {key} appears twice")
        elif schema is None:
            problems.append(f"column {key!r} is not a record key (see docs/record-format.md)")
        elif "properties" in schema or "patternProperties" in schema:
            problems.append(f"column {key} is a group; give its keys as columns, "
                            f"e.g. {key}.{next(iter(schema.get('properties', {'2020': 0})))}")
        seen.add(key)
        columns.append((column, key, schema or {}))
    if problems:
        raise RecordError(f"{where} (the header): " + "; ".join(problems), subject=subject)
    return columns


def column_schema(key: str) -> dict[str, Any] | None:
    """The record schema's node for a dotted key; None where the schema has no such key."""
    node: dict[str, Any] = record_schema()
    for part in key.split("."):
        properties = node.get("properties", {})
        if part in properties:
            node = properties[part]
            continue
        for pattern, sub in node.get("patternProperties", {}).items():
            if re.search(pattern, part):
                node = sub
                break
        else:
            return None
    return node


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    node = data
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = value


def _cell(value: Any, schema: dict[str, Any]) -> tuple[bool, Any]:
    """(present, value typed as the schema wants). Blank cells are absent, except text."""
    kind = schema.get("type", "string")
    if isinstance(value, str):
        value = value.strip()
    if _blank(value):  # text may be empty (support.description); a date or number may not
        return (True, "") if kind == "string" and "format" not in schema else (False, None)
    if kind == "string":
        return True, _text(value, schema)
    if kind == "integer":
        return True, _integer(value)
    if kind == "number":
        return True, _number(value)
    if kind == "boolean":
        return True, _boolean(value)
    raise _CellError(f"cannot be given in one cell ({kind})")  # pragma: no cover


def _text(value: Any, schema: dict[str, Any]) -> str:
    if schema.get("format") == "date":
        return _date(value)
    if isinstance(value, bool):
        raise _CellError(f"expected text, got {value}")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a number typed into a spreadsheet: 200333.0 -> 200333
    if isinstance(value, datetime | date):
        raise _CellError(f"expected text, got the date {value:%Y-%m-%d}")
    return str(value)


def _date(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    match = _DATE.match(str(value))
    if match:
        try:
            return date(*(int(g) for g in match.groups())).isoformat()
        except ValueError:
            pass
    raise _CellError(f"{value!r} is not a date (YYYY-MM-DD)")


def _integer(value: Any) -> int:
    number = _number(value)
    if not number.is_integer():
        raise _CellError(f"{value!r} is not a whole number")
    return int(number)


def _number(value: Any) -> float:
    if isinstance(value, bool | datetime | date):
        raise _CellError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = str(value).replace(" ", "")
        if _GROUPED.match(text):
            text = text.replace(",", "")
        try:
            number = float(text)
        except ValueError:
            raise _CellError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise _CellError(f"{value!r} is not a number")
    return number


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(int(value) if isinstance(value, float) and value.is_integer() else value)
    if text.strip().lower() in _TRUE:
        return True
    if text.strip().lower() in _FALSE:
        return False
    raise _CellError(f"{value!r} is not true or false (true/false, 1/0, 是/否)")


# Validation ----------------------------------------------------------------------------------

@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(record_schema())


def _schema_problems(data: dict[str, Any], where: str) -> list[Problem]:
    problems = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        path = [str(p) for p in error.absolute_path]
        message = error.message
        missing = _REQUIRED.match(message) if error.validator == "required" else None
        if missing:
            path, message = [*path, missing.group(1)], "is missing"
        elif error.instance == "":
            message = "is empty"
        problems.append(Problem(where, ".".join(path), message))
    return problems


def _canonical(value: Any, schema: dict[str, Any]) -> Any:
    """The same record whatever the format said: integers as int, numbers as float. A record
    read from JSON and from CSV then has one sha256, and importing it twice adds nothing."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            sub = schema.get("properties", {}).get(key)
            if sub is None:
                sub = next((s for p, s in schema.get("patternProperties", {}).items()
                            if re.search(p, key)), {})
            out[key] = _canonical(item, sub)
        return out
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if schema.get("type") == "integer" and float(value).is_integer():
        return int(value)
    if schema.get("type") == "number":
        return float(value)
    return value
