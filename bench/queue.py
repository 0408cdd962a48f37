"""Distributed mode: pages reviewed per minute with 1 and 2 worker processes (the scaling).

    .venv/bin/python -m bench.queue                       # 2 scanned dossiers, 1 then 2 workers
    .venv/bin/python -m bench.queue --labs 1 --workers 1 2 4

Each run is the whole path on real services on loopback: the dossiers are received (PostgreSQL,
a local object store the workers share), their jobs sent to Redis (db 14, a key prefix of the
run's own), and `dossier worker --concurrency 1` processes read the pages and gather the
reports (RapidOCR verifying). Pages per minute = pages of all dossiers over the time from the
first job sent to the last report kept, so it includes the gather step, which runs once per
dossier on one worker. Every run starts with cold workers (a fresh data dir: originals fetched
again, RapidOCR loaded again), as a newly added machine would.

Results go to bench/out/queue.json.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from api import service, tasks
from intake.pipeline import ReviewOptions
from intake.record import record_from_dict
from intake.settings import settings_with
from samples.generate import generate_batch
from storage.db import Database
from storage.local import LocalStore

ADMIN_URL = os.environ.get("DOSSIER_TEST_POSTGRES_URL",
                           "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BROKER = os.environ.get("DOSSIER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
DOSSIER = Path(sys.executable).with_name("dossier")
OUT = Path(__file__).with_name("out") / "queue.json"


def _env(tmp: Path, url: str, token: str) -> dict[str, str]:
    return {
        "DOSSIER_MODE": "distributed", "DOSSIER_DATABASE__URL": url,
        "DOSSIER_STORAGE__BACKEND": "local", "DOSSIER_STORAGE__ROOT": str(tmp / "objects"),
        "DOSSIER_OCR__VERIFY_ENGINE": "rapidocr", "DOSSIER_QUEUE__BROKER_URL": BROKER,
        "DOSSIER_QUEUE__NAME": f"bench-{token}", "DOSSIER_QUEUE__KEY_PREFIX": f"bench-{token}:",
        "DOSSIER_QUEUE__VISIBILITY_TIMEOUT": "600",
    }


def _start_workers(count: int, env: dict[str, str], tmp: Path) -> list[subprocess.Popen[bytes]]:
    workers = []
    for i in range(count):
        data = tmp / f"worker-{i}"
        data.mkdir()
        with (tmp / f"worker-{i}.log").open("wb") as log:
            workers.append(subprocess.Popen(
                [str(DOSSIER), "worker", "--concurrency", "1", "--name", f"bench{i}",
                 "--loglevel", "warning"],
                env={**os.environ, **env, "DOSSIER_DATA_DIR": str(data)},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
    time.sleep(5)  # started before the clock runs: a worker's start is not page work
    return workers


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for process in workers:
        os.killpg(process.pid, signal.SIGTERM)
    for process in workers:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run(labs: list[dict[str, Any]], workers: int, base: Path) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix=f"queue-{workers}-", dir=base))
    token = secrets.token_hex(4)
    name = f"dossier_bench_{token}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN_URL).set(database=name, drivername="postgresql").render_as_string(
        hide_password=False)
    env = _env(tmp, url, token)
    settings = settings_with(env)
    db = Database(url)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        db.migrate()
        db.import_records("2021", [record_from_dict(lab["record"]) for lab in labs],
                          actor="bench", source="bench")
        tasks.configure(settings)
        processes = _start_workers(workers, env, tmp)
        received = [service.receive(lab["files"], campaign="2021", lab_id=lab["lab_id"], db=db,
                                    store=LocalStore(tmp / "objects"), options=ReviewOptions(),
                                    actor="bench") for lab in labs]
        began = time.monotonic()
        for r in received:
            tasks.enqueue(r.job_id)
        pages = sum(d.page_count for r in received for d in r.documents)
        while True:
            jobs = [db.job(r.job_id) for r in received]
            if all(j.finished for j in jobs):
                break
            if time.monotonic() - began > 3600:
                raise RuntimeError("the run took over an hour")
            time.sleep(0.5)
        seconds = time.monotonic() - began
        failed = [j.id for j in jobs if j.state != "done"]
        if failed:
            raise RuntimeError(f"jobs {failed} failed: {[j.error for j in jobs]}")
        page_seconds = [p["seconds"] for r in received
                        for p in db.report(db.report_of_job(r.job_id) or 0).data["pages"]]
        return {"workers": workers, "dossiers": len(labs), "pages": pages,
                "seconds": round(seconds, 1), "pages_per_minute": round(pages / seconds * 60, 1),
                "median_page_seconds": round(sorted(page_seconds)[len(page_seconds) // 2], 2),
                "load_average": [round(x, 2) for x in os.getloadavg()]}
    finally:
        _stop(processes)
        db.dispose()
        keys = redis.Redis.from_url(BROKER)
        for key in keys.scan_iter(match=f"bench-{token}:*"):
            keys.delete(key)
        keys.close()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", type=int, default=2, help="scanned dossiers per run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        base = Path(tmp)
        generate_batch(base / "samples", labs=args.labs, seed=args.seed, degrade="light")
        labs = []
        for lab_dir in sorted(p for p in (base / "samples").iterdir() if p.is_dir()):
            labs.append({"lab_id": lab_dir.name, "files": sorted(lab_dir.glob("*.pdf")),
                         "record": json.loads((lab_dir / "record.json").read_text("utf-8"))})
        runs = []
        for count in args.workers:
            result = run(labs, count, base)
            print(json.dumps(result), flush=True)
            runs.append(result)
    one = next((r for r in runs if r["workers"] == 1), None)
    summary: dict[str, Any] = {"cores": os.cpu_count(), "runs": runs}
    if one:
        summary["scaling"] = {str(r["workers"]): round(r["pages_per_minute"]
                                                       / one["pages_per_minute"], 2)
                              for r in runs}
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary.get("scaling", {})))


if __name__ == "__main__":
    main()
