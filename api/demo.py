"""The demo the product starts with (`make run`): a generated sample batch of labs, their
online records imported, their dossiers received and queued for review, and one account per
role to look at it with."""

from __future__ import annotations

import logging
from pathlib import Path

from api.auth import hash_password
from api.service import receive
from intake.pipeline import ReviewOptions
from intake.record import load_record
from storage.db import Database
from storage.db.models import Role
from storage.objects import ObjectStore

log = logging.getLogger(__name__)

CAMPAIGN = "2021"
DEMO_PASSWORD = "demo-2021"  # printed at start-up; the demo is for a look, on loopback


def demo_accounts(unit: str) -> list[tuple[str, Role, str, str | None]]:
    return [("secretariat", Role.SECRETARIAT, "秘书处（演示）", None),
            ("reviewer", Role.REVIEWER, "审查专家（演示）", None),
            ("unit", Role.UNIT, f"{unit}（演示）", unit)]


def load_demo(db: Database, store: ObjectStore, options: ReviewOptions, folder: Path, *,
              labs: int = 4, seed: int = 2021) -> list[int]:
    """Generate and queue the sample batch unless the campaign is there already; returns the
    queued job ids (none when it was loaded before)."""
    from samples.generate import generate_batch

    if db.labs(CAMPAIGN):
        return []
    samples = folder / "samples"
    manifest = generate_batch(samples, labs=labs, seed=seed, degrade="light", discrepancies=2,
                              campaign=CAMPAIGN)
    records = [load_record(samples / lab["lab_id"] / "record.json") for lab in manifest["labs"]]
    db.import_records(CAMPAIGN, records, actor="demo", source="samples/records.json")
    if not db.users():
        unit = records[0].data["identity"]["recommending_unit"]
        for username, role, name, unit_name in demo_accounts(unit):
            db.add_user(username, password_hash=hash_password(DEMO_PASSWORD), role=role,
                        display_name=name, unit=unit_name, actor="demo")
    jobs = []
    for lab in manifest["labs"]:
        files = sorted((samples / lab["lab_id"]).glob("*.pdf"))
        jobs.append(receive(files, campaign=CAMPAIGN, lab_id=lab["lab_id"], db=db, store=store,
                            options=options, actor="demo").job_id)
    return jobs
