"""Hostile and broken input over HTTP and on the command line: each case gets a clear,
specific answer (HTTP 4xx in Chinese and English, CLI exit 2 with one line), nothing half
stored, the refusal audited, and the service keeps working. The run writes the observed
behaviour of every case to docs/fault-table.md."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from intake.cli import main as cli
from tests.api.support import CAMPAIGN, _bearer, _files, _login, _wait
from tests.hostile import CASES, Case

TABLE = Path(__file__).resolve().parents[2] / "docs" / "fault-table.md"
OBSERVED: dict[str, dict[str, Any]] = {}


def _kept(service: dict[str, Any]) -> list[Path]:
    return sorted(p for p in (service["tmp"] / "objects").rglob("*") if p.is_file()
                  and "/derived/" not in p.as_posix())


def _observe(case_id: str, title: str, *, folder: Path | None = None, **seen: Any) -> None:
    if folder is not None:  # the table names files, not where the test run kept them
        seen = {k: v.replace(f"{folder}/", "") if isinstance(v, str) else v
                for k, v in seen.items()}
    OBSERVED.setdefault(case_id, {"title": title}).update(seen)


@pytest.fixture(scope="module", autouse=True)
def fault_table() -> Any:
    yield
    if len(OBSERVED) < len(CASES) + len(ZIP_CASES) + len(RECORD_CASES) + 1:
        return  # a partial run leaves the table as it was
    lines = [
        "# Hostile and broken input: observed behaviour",
        "",
        "Written by `tests/api/test_hostile.py` on every run from what the service and the CLI "
        "actually answered; do not edit by hand. Faults of the database and the object store are in "
        "[fault-table-services.md](fault-table-services.md). HTTP is the upload (or import, or batch) route; "
        "CLI is `dossier review` (or `dossier records import`). \"Kept nothing\" compares the "
        "object store before and after; \"audited\" looks for the refusal in the audit log.",
        "",
        "| Case | 情形 | HTTP | Code | 提示 | Message | CLI exit | CLI says | Kept nothing | Audited |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case_id, row in OBSERVED.items():
        def cell(key: str, row: dict[str, Any] = row) -> str:
            value = row.get(key, "–")
            text = "yes" if value is True else "no" if value is False else str(value)
            return text.replace("|", "\\|").replace("\n", " ")[:160]
        lines.append(f"| `{case_id}` | {cell('title')} | {cell('status')} | {cell('code')} | "
                     f"{cell('message_zh')} | {cell('message')} | {cell('cli_exit')} | "
                     f"{cell('cli_says')} | {cell('kept_nothing')} | {cell('audited')} |")
    TABLE.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sec(service: dict[str, Any]) -> str:
    return _login(service["client"], "sec")


@pytest.fixture(scope="module")
def queued_good_job(service: dict[str, Any], batch: dict[str, Any], sec: str) -> int:
    """A good dossier queued before the hostile ones: it must finish whatever they do."""
    lab = batch["labs"][0]
    response = service["client"].post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                                      headers=_bearer(sec), files=_files(lab))
    assert response.status_code == 202
    return int(response.json()["job_id"])


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_file(case: Case, service: dict[str, Any], batch: dict[str, Any], sec: str,
                      queued_good_job: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    client = service["client"]
    lab = batch["labs"][1]
    name, data = case.build(tmp_path)
    kept_before = _kept(service)
    response = client.post(f"/api/campaigns/{CAMPAIGN}/labs/{lab['lab_id']}/dossiers",
                           headers=_bearer(sec), files=[("files", (name, data, "application/pdf"))])
    body = response.json()
    seen: dict[str, Any] = {"status": response.status_code}
    if case.refused:
        assert 400 <= response.status_code < 500, body
        error = body["error"]
        assert error["code"] == case.code
        assert error["subject"]  # names the file
        assert error["message_zh"]
        assert _kept(service) == kept_before
        refusals = [e for e in client.get("/api/audit", headers=_bearer(sec)).json()
                    if e["action"] == "upload.refused" and e["detail"].get("code") == case.code]
        seen.update(code=error["code"], message_zh=error["message_zh"],
                    message=error["message"], kept_nothing=True, audited=bool(refusals))
        assert refusals
    else:
        assert response.status_code == 202, body
        job = _wait(client, sec, body["job_id"])
        assert job["state"] == "done", job
        seen.update(code="accepted", message_zh="已接收并审查", message=f"job {job['state']}",
                    kept_nothing="n/a", audited="n/a")
    # The same file on the command line.
    target = tmp_path / "cli" / (name.replace("\n", "").replace("\r", "") or "file")
    target.parent.mkdir()
    target.write_bytes(data)
    record = lab["dir"] / "record.json"
    capsys.readouterr()
    code = cli(["review", "--record", str(record), str(target), "--verify", "none",
                "--workers", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    if case.refused:
        assert code == 2
        assert len(err) == 1
        assert err[0].startswith("dossier: error: ")
    else:
        assert code == 0
    seen.update(cli_exit=code, cli_says=err[0] if err else "review written")
    _observe(case.id, case.title, folder=target.parent, **seen)


def _zip(entries: dict[str, bytes], *, gbk: bool = False) -> bytes:
    buffer = io.BytesIO()
    placeholders = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            member = name
            if gbk:  # as Windows' built-in zip writes Chinese names: GBK bytes, no UTF-8 flag
                raw = name.encode("gbk")
                member = "x" * len(raw)  # ASCII of the same length, swapped below
                placeholders[member.encode()] = raw
            archive.writestr(member, data)
    out = buffer.getvalue()
    for stand_in, raw in placeholders.items():
        out = out.replace(stand_in, raw)
    return out


ZIP_CASES = [
    ("zip_parent_path", "zip 内含 ../ 路径", {"../../etc/x.pdf": b"%PDF-1.4"}, 400),
    ("zip_absolute_path", "zip 内含绝对路径", {"/etc/passwd": b"root"}, 400),
    ("zip_bomb", "zip 炸弹（64 MiB 压缩为约 64 KiB）", {"炸弹.pdf": b"\0" * (64 * 1024 * 1024)}, 413),
]


@pytest.mark.parametrize(("case_id", "title", "entries", "status"), ZIP_CASES,
                         ids=[c[0] for c in ZIP_CASES])
def test_hostile_zip(case_id, title, entries, status, service, sec):
    client = service["client"]
    staged_before = sorted((service["tmp"] / "batches").glob("*")) if (
        service["tmp"] / "batches").exists() else []
    response = client.post(f"/api/campaigns/{CAMPAIGN}/batches", headers=_bearer(sec),
                           files=[("files", ("第一批.zip", _zip(entries), "application/zip"))])
    assert response.status_code == status
    error = response.json()["error"]
    assert error["subject"] == "第一批.zip"
    after = sorted((service["tmp"] / "batches").glob("*")) if (
        service["tmp"] / "batches").exists() else []
    assert after == staged_before
    refusals = [e for e in client.get("/api/audit", headers=_bearer(sec)).json()
                if e["action"] == "batch.refused" and e["detail"].get("code") == error["code"]]
    assert refusals
    _observe(case_id, title, status=status, code=error["code"], message_zh=error["message_zh"],
             message=error["message"], kept_nothing=True, audited=True,
             cli_exit="n/a (no zips on the command line)", cli_says="n/a")


def test_gbk_names_in_a_zip_are_read_as_chinese(service, batch, sec):
    client = service["client"]
    lab = batch["labs"][2]
    first = sorted(p for p in lab["dir"].glob("*.pdf") if p.name != "online.pdf")[0]
    response = client.post(f"/api/campaigns/{CAMPAIGN}/batches", headers=_bearer(sec),
                           files=[("files", ("批次.zip", _zip({f"{lab['lab_id']}/第一册.pdf":
                                                                first.read_bytes()}, gbk=True),
                                             "application/zip"))])
    assert response.status_code == 201, response.text
    (staged,) = response.json()["files"]
    assert staged["file"] == f"{lab['lab_id']}-第一册.pdf"
    assert staged["lab_id"] == lab["lab_id"]
    _observe("zip_gbk_names", "zip 内文件名为 GBK 编码", status=201, code="accepted",
             message_zh="文件名按 GBK 解码，已匹配实验室", message=staged["file"],
             kept_nothing="n/a", audited="n/a", cli_exit="n/a", cli_says="n/a")


RECORD_CASES = [
    ("record_empty", "空的网上申报记录文件", lambda good: b""),
    ("record_malformed", "格式错误的记录（JSON 不完整）", lambda good: good[: len(good) // 2]),
    ("record_other_campaign", "其他批次（2019）的记录",
     lambda good: good.replace(b'"campaign": "2021"', b'"campaign": "2019"')),
]


@pytest.mark.parametrize(("case_id", "title", "make"), RECORD_CASES, ids=[c[0] for c in RECORD_CASES])
def test_bad_records_are_refused_and_name_what_is_wrong(case_id, title, make, service, batch, sec,
                                                          tmp_path, capsys):
    client = service["client"]
    good = json.dumps([batch["labs"][0]["record"]], ensure_ascii=False, indent=1).encode()
    data = make(good)
    if case_id == "record_other_campaign":
        assert data != good
    response = client.post(f"/api/campaigns/{CAMPAIGN}/records", headers=_bearer(sec),
                           files={"file": ("records.json", data)})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "bad_record"
    path = tmp_path / "records.json"
    path.write_bytes(data)
    capsys.readouterr()
    code = cli(["records", "import", str(path), "--campaign", CAMPAIGN, "--database",
                f"sqlite:///{tmp_path}/cli.db"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    refusals = [e for e in client.get("/api/audit", headers=_bearer(sec)).json()
                if e["action"] == "records.refused"]
    assert refusals
    _observe(case_id, title, folder=tmp_path, status=422, code=error["code"],
             message_zh=error["message_zh"], message=error["message"], kept_nothing=True,
             audited=True, cli_exit=code, cli_says=err[0])


def test_after_all_of_it_the_service_is_healthy_and_the_good_job_finished(
        service, sec, queued_good_job):
    client = service["client"]
    assert client.get("/health").json()["status"] == "ok"
    assert _wait(client, sec, queued_good_job)["state"] == "done"
