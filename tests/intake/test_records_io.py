"""Reading a campaign's records from JSON, CSV and XLSX exports: typed by the schema, and every
bad row named as the user counts it."""

from __future__ import annotations

import copy
import csv
import io
import json
import subprocess
import sys
from datetime import datetime

import openpyxl
import pytest

from intake.errors import RecordError
from intake.record import record_from_dict
from intake.records_io import MAX_PROBLEMS, check_records, parse_records, read_records
from samples.generate import plan_batch


@pytest.fixture(scope="module")
def records():
    return [record_from_dict(lab.record) for lab in plan_batch(labs=6, seed=23).labs]


def flat(data, prefix=""):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def csv_bytes(rows, encoding="utf-8"):
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, *, excel_dates=True):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    header = list(rows[0])
    sheet.append(header)
    for row in rows:
        cells = []
        for key in header:
            value = row[key]
            if excel_dates and isinstance(value, str) and key.endswith(
                    ("valid_until", ".date", "confirmed", "submitted", "reviewed")):
                value = datetime.fromisoformat(value)  # typed into Excel as a date
            cells.append(value)
        sheet.append(cells)
    workbook.create_sheet("notes").append(["this sheet is not read"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def problem_text(data, filename, campaign="2021"):
    with pytest.raises(RecordError) as caught:
        parse_records(data, filename, campaign)
    message = str(caught.value)
    assert "\n" not in message
    return message


# Formats --------------------------------------------------------------------------------------

def test_json_as_a_list_or_under_records_reads_alike(records):
    listed = json.dumps([r.data for r in records], ensure_ascii=False).encode()
    wrapped = json.dumps({"records": [r.data for r in records]}, ensure_ascii=False).encode()
    assert parse_records(listed, "a.json", "2021") == records
    assert parse_records(wrapped, "b.json", "2021") == records


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
def test_csv_in_any_of_its_encodings_gives_back_the_very_same_records(records, encoding):
    data = csv_bytes([flat(r.data) for r in records], encoding)
    read = parse_records(data, "records.csv", "2021")
    assert [r.sha256 for r in read] == [r.sha256 for r in records]
    assert read == records


def test_xlsx_with_excel_dates_and_numbers_gives_back_the_very_same_records(records):
    read = parse_records(xlsx_bytes([flat(r.data) for r in records]), "records.xlsx", "2021")
    assert read == records


def test_read_records_reads_a_file(records, tmp_path):
    path = tmp_path / "records.xlsx"
    path.write_bytes(xlsx_bytes([flat(r.data) for r in records], excel_dates=False))
    assert read_records(path, "2021") == records


def test_cells_are_typed_as_the_schema_says(records):
    row = flat(records[0].data)
    row.update({
        "resources.equipment_total": "1,288", "resources.equipment_leading": " 463 ",
        "resources.equipment_leading_ratio": "35.9", "resources.equipment_value": "18,650.42",
        "support.funding": "850", "opinions.recommending_unit.agree": "是",
        "opinions.association.agree": "FALSE", "workflow.confirmed": "2021/3/8",
        "qualifications.cnas.valid_until": "2024年11月2日", "quality_reports.2019": "3.0",
    })
    (record,) = parse_records(csv_bytes([row]), "records.csv", "2021")
    data = record.data
    assert data["resources"]["equipment_total"] == 1288
    assert data["resources"]["equipment_leading"] == 463
    assert data["resources"]["equipment_value"] == 18650.42
    assert data["support"]["funding"] == 850.0
    assert isinstance(data["support"]["funding"], float)
    assert data["opinions"]["recommending_unit"]["agree"] is True
    assert data["opinions"]["association"]["agree"] is False
    assert data["workflow"]["confirmed"] == "2021-03-08"
    assert data["qualifications"]["cnas"]["valid_until"] == "2024-11-02"
    assert data["quality_reports"]["2019"] == 3


def test_a_number_written_as_850_or_850_0_is_the_same_record(records):
    data = copy.deepcopy(records[0].data)
    data["support"]["funding"] = 850
    as_int = parse_records(json.dumps([data]).encode(), "a.json", "2021")
    data["support"]["funding"] = 850.0
    as_float = parse_records(json.dumps([data]).encode(), "a.json", "2021")
    assert as_int[0].sha256 == as_float[0].sha256


def test_an_empty_text_cell_is_kept_where_the_schema_allows_it(records):
    row = flat(records[0].data)
    row["support.description"] = ""
    (record,) = parse_records(csv_bytes([row]), "records.csv", "2021")
    assert record.data["support"]["description"] == ""


# Bad rows ---------------------------------------------------------------------------------------

def test_every_bad_row_is_named_with_its_line_and_field(records):
    rows = [flat(r.data) for r in records]
    rows[1]["identity.credit_code"] = "91330106MAPY046K6"  # 17 characters
    rows[4]["resources.staff_total"] = "many"
    rows[4]["opinions.association.agree"] = "maybe"
    message = problem_text(csv_bytes(rows), "records.csv")

    assert message.startswith("records.csv: 2 of 6 records are bad and nothing was imported")
    assert f"line 3 ({records[1].lab_id}): identity.credit_code: '91330106MAPY046K6' does not " \
           "match" in message
    assert f"line 6 ({records[4].lab_id}): resources.staff_total: 'many' is not a number" in message
    assert f"line 6 ({records[4].lab_id}): opinions.association.agree: 'maybe' is not true or " \
           "false" in message


def test_xlsx_rows_are_named_as_excel_numbers_them(records):
    rows = [flat(r.data) for r in records]
    rows[2]["identity.postcode"] = ""
    message = problem_text(xlsx_bytes(rows), "records.xlsx")
    assert f"row 4 ({records[2].lab_id}): identity.postcode: is empty" in message


def test_a_cell_spanning_lines_does_not_shift_the_line_numbers(records):
    rows = [flat(r.data) for r in records]
    rows[0]["support.description"] = "第一行\n第二行\n第三行"
    rows[1]["identity.contact.email"] = "NOT AN EMAIL"
    message = problem_text(csv_bytes(rows), "records.csv")
    assert f"line 5 ({records[1].lab_id}): identity.contact.email" in message


def test_a_missing_column_is_named_for_every_row(records):
    rows = [flat(r.data) for r in records]
    for row in rows:
        del row["identity.credit_code"]
    message = problem_text(csv_bytes(rows), "records.csv")
    assert "6 of 6 records are bad" in message
    assert f"line 2 ({records[0].lab_id}): identity.credit_code: is missing" in message


def test_json_rows_are_named_by_index(records):
    data = [copy.deepcopy(r.data) for r in records]
    del data[3]["workflow"]["submitted"]
    data.append("not a record")
    message = problem_text(json.dumps(data).encode(), "records.json")
    assert f"records[3] ({records[3].lab_id}): workflow.submitted: is missing" in message
    assert "records[6]: is not a record" in message


def test_the_error_spells_out_a_bounded_number_of_problems(records):
    rows = []
    for index in range(30):
        row = flat(records[index % len(records)].data)
        row["lab_id"] = f"L2021-{index + 1:03d}"
        row["resources.staff_total"] = "?"
        rows.append(row)
    message = problem_text(csv_bytes(rows), "records.csv")
    assert "30 of 30 records are bad" in message
    assert message.count("is not a number") == MAX_PROBLEMS
    assert f"and {30 - MAX_PROBLEMS} more problems" in message


def test_check_records_returns_the_good_records_and_the_problems(records):
    rows = [flat(r.data) for r in records]
    rows[0]["identity.contact.phone"] = "12345"
    good, problems = check_records(csv_bytes(rows), "records.csv", "2021")
    assert good == records[1:]
    assert [(p.where, p.field) for p in problems] == [
        (f"line 2 ({records[0].lab_id})", "identity.contact.phone")]


def test_a_record_of_another_campaign_and_a_repeated_lab_are_named(records):
    data = [copy.deepcopy(r.data) for r in records]
    data[1]["campaign"] = "2020"
    data[5]["lab_id"] = data[0]["lab_id"]
    message = problem_text(json.dumps(data).encode(), "records.json")
    assert "records[1] (" in message
    assert "campaign: is 2020, but this import is for campaign 2021" in message
    assert f"records[5] ({data[0]['lab_id']}): lab_id: {data[0]['lab_id']} is also on records[0]" in message


def test_a_file_for_another_campaign_says_so_once(records):
    message = problem_text(json.dumps([r.data for r in records]).encode(), "records.json", "2022")
    assert message == "records.json: the records are for campaign 2021, but this import is for campaign 2022"


# Unusable files ---------------------------------------------------------------------------------

def test_an_unknown_column_is_refused_at_the_header(records):
    rows = [flat(r.data) for r in records]
    for row in rows:
        row["identity.lab_nmae"] = row.pop("identity.lab_name")
    message = problem_text(csv_bytes(rows), "records.csv")
    assert "line 1 (the header): column 'identity.lab_nmae' is not a record key" in message


@pytest.mark.parametrize(("data", "filename", "expected"), [
    (b"", "records.csv", "holds no records"),
    (b"[]", "records.json", "holds no records"),
    (b"{\"labs\": []}", "records.json", "expected a record, a list of records"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "records.xls", "save the sheet as .xlsx or CSV"),
    (b"PK\x03\x04broken", "records.xlsx", "not a readable XLSX workbook"),
    (b"lab_id\n", "records.txt", "read from .json, .csv or .xlsx"),
])
def test_an_unusable_file_is_one_clear_error(data, filename, expected):
    assert expected in problem_text(data, filename)


def test_a_missing_file_and_a_bad_campaign_are_named(tmp_path):
    with pytest.raises(RecordError, match="does not exist"):
        read_records(tmp_path / "nope.csv", "2021")
    with pytest.raises(RecordError, match="a year such as 2021"):
        parse_records(b"[]", "records.json", "21")


def test_intake_modules_load_without_sqlalchemy():
    code = ("import sys, intake.cli, intake.records_io; "
            "sys.exit(1 if any(m.split('.')[0] in ('sqlalchemy', 'alembic', 'psycopg') "
            "for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
