"""``dossier records import``: what the secretariat sees when it imports a campaign's records."""

from __future__ import annotations

import copy
import csv
import json

from intake.cli import main
from storage.db import Database


def _write_csv(path, records):
    rows = [_flat(r.data) for r in records]
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _flat(data, prefix=""):
    out = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value).lower() if isinstance(value, bool) else value
    return out


def test_import_prints_what_it_added_and_a_second_run_adds_nothing(database_url, records, tmp_path,
                                                                   capsys):
    path = tmp_path / "records.csv"
    _write_csv(path, records)

    assert main(["records", "import", str(path), "--campaign", "2021", "--database", database_url]) == 0
    assert "6 labs created, 6 record versions added, 0 unchanged" in capsys.readouterr().out

    assert main(["records", "import", str(path), "--campaign", "2021", "--database", database_url]) == 0
    assert "0 labs created, 0 record versions added, 6 unchanged" in capsys.readouterr().out

    changed = copy.deepcopy(records[3].data)
    changed["resources"]["staff_total"] += 1
    json_path = tmp_path / "records.json"
    json_path.write_text(json.dumps({"records": [changed]}, ensure_ascii=False), encoding="utf-8")
    assert main(["records", "import", str(json_path), "--campaign", "2021",
                 "--database", database_url]) == 0
    assert "0 labs created, 1 record versions added, 0 unchanged" in capsys.readouterr().out


def test_a_bad_file_exits_2_with_one_line_naming_the_row_and_imports_nothing(
        database_url, records, tmp_path, capsys):
    path = tmp_path / "records.csv"
    _write_csv(path, records)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    lines[3] = lines[3].replace(records[2].data["qualifications"]["cma"]["valid_until"], "2023-02-30")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    code = main(["records", "import", str(path), "--campaign", "2021", "--database", database_url])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1
    assert f"line 4 ({records[2].lab_id}): qualifications.cma.valid_until: '2023-02-30' is not a date" in err
    database = Database(database_url)
    try:
        database.migrate()  # the import stopped before touching the database
        assert database.lab_ids("2021") == []
    finally:
        database.dispose()


def test_an_unreachable_database_exits_3_with_one_line(records, tmp_path, capsys):
    path = tmp_path / "records.csv"
    _write_csv(path, records)
    code = main(["records", "import", str(path), "--campaign", "2021",
                 "--database", "postgresql://postgres:secret@127.0.0.1:1/dossier"])
    err = capsys.readouterr().err
    assert code == 3
    assert err.count("\n") == 1
    assert "cannot be migrated" in err
    assert "secret" not in err


def test_the_database_comes_from_the_settings(records, tmp_path, capsys, monkeypatch):
    path = tmp_path / "records.csv"
    _write_csv(path, records)
    monkeypatch.setenv("DOSSIER_DATABASE__URL", f"sqlite:///{tmp_path}/from-env.db")
    assert main(["records", "import", str(path), "--campaign", "2021"]) == 0
    assert "from-env.db" in capsys.readouterr().out
    assert (tmp_path / "from-env.db").exists()
