"""What the web service costs on top of the review itself, in the same run.

    .venv/bin/python -m bench.service --labs 3 --degrade light

For each generated dossier, the anchor is ``intake.pipeline.review`` called directly (what
``dossier review`` does); the service path is an upload over HTTP to the running application
(FastAPI in process, SQLite, local store, the embedded worker), waiting for the job to finish:
receive (check and keep the originals), review, keep the page images and the report. Reported:
seconds per dossier each way (median), the ratio, the time to the first progress event, and the
time to open the dashboard and a report page once reviewed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from intake.cli import make_verifier
from intake.pipeline import ReviewOptions, review
from intake.record import load_record
from intake.settings import Settings
from samples.generate import generate_batch

PASSWORD = "bench-password-1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--labs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=41)
    parser.add_argument("--degrade", default="light")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--verify", default="rapidocr")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp_name:
        tmp = Path(tmp_name)
        manifest = generate_batch(tmp / "samples", labs=args.labs, seed=args.seed,
                                  degrade=args.degrade)
        labs = [tmp / "samples" / lab["lab_id"] for lab in manifest["labs"]]
        verifier = make_verifier(args.verify)
        settings = Settings(data_dir=tmp, database={"url": f"sqlite:///{tmp}/dossier.db"},
                            storage={"root": tmp / "objects"}, ocr={"workers": args.workers},
                            api={"bootstrap_users": f"sec:{PASSWORD}:secretariat"})
        records = [json.loads((lab / "record.json").read_text("utf-8")) for lab in labs]
        direct, served, first_event, pages = [], [], [], []
        with TestClient(create_app(settings, make_verifier=lambda: verifier)) as client:
            token = client.post("/api/login", json={"username": "sec", "password": PASSWORD}
                                ).json()["token"]
            auth = {"Authorization": f"Bearer {token}"}
            client.post("/api/campaigns/2021/records", headers=auth, files={
                "file": ("records.json", json.dumps(records, ensure_ascii=False).encode())})
            report_ids = []
            # Each dossier both ways, one right after the other, so that a busy moment of the
            # machine weighs on both.
            for lab in labs:
                started = time.perf_counter()
                review(sorted(lab.glob("*.pdf")), load_record(lab / "record.json"),
                       ReviewOptions(workers=args.workers, image_dir=tmp), verifier)
                direct.append(time.perf_counter() - started)
                files = [("files", (p.name, p.read_bytes(), "application/pdf"))
                         for p in sorted(lab.glob("*.pdf"))]
                started = time.perf_counter()
                job = client.post(f"/api/campaigns/2021/labs/{lab.name}/dossiers",
                                  headers=auth, files=files).json()
                seen_first = None
                while True:
                    state: dict[str, Any] = client.get(f"/api/jobs/{job['job_id']}",
                                                       headers=auth).json()
                    if seen_first is None and state["pages_done"] > 0:
                        seen_first = time.perf_counter() - started
                    if state["state"] in ("done", "failed"):
                        break
                    time.sleep(0.05)
                served.append(time.perf_counter() - started)
                first_event.append(seen_first or served[-1])
                pages.append(state["pages_total"])
                report_ids.append(state["report_id"])
            started = time.perf_counter()
            client.get("/campaigns/2021", headers=auth)
            client.get("/api/campaigns/2021/labs", headers=auth)
            dashboard = time.perf_counter() - started
            started = time.perf_counter()
            client.get(f"/reports/{report_ids[-1]}", headers=auth)
            client.get(f"/api/reports/{report_ids[-1]}", headers=auth)
            report_page = time.perf_counter() - started
    d, s = statistics.median(direct), statistics.median(served)
    print(f"| dossiers | {len(labs)} ({sum(pages)} pages, degrade {args.degrade}, "
          f"{args.workers} workers) |")
    print(f"| review() directly, median s/dossier (anchor) | {d:.1f} |")
    print(f"| upload → report over HTTP, median s/dossier | {s:.1f} |")
    ratios = [b / a for a, b in zip(direct, served, strict=True)]
    print(f"| ratio service / direct, median of per-dossier ratios | "
          f"{statistics.median(ratios):.2f} ({', '.join(f'{r:.2f}' for r in ratios)}) |")
    print(f"| first page done after upload, median s | {statistics.median(first_event):.1f} |")
    print(f"| dashboard (page + JSON), s | {dashboard:.2f} |")
    print(f"| report page (page + JSON), s | {report_page:.2f} |")


if __name__ == "__main__":
    main()
