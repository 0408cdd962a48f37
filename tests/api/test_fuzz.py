"""schemathesis against the service's own OpenAPI schema: whatever a client sends that the
schema admits (and much that it does not), the answer is never a 5xx."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app, ensure_bootstrap_users
from api.auth import LoginLimiter, log_in
from intake.record import record_from_dict
from intake.settings import Settings
from samples.generate import plan_batch
from storage.db import Database

_tmp = Path(tempfile.mkdtemp(prefix="dossier-fuzz-"))
atexit.register(shutil.rmtree, _tmp, True)
SETTINGS = Settings(data_dir=_tmp, database={"url": f"sqlite:///{_tmp}/dossier.db"},
                    storage={"root": _tmp / "objects"}, ocr={"workers": 1},
                    api={"bootstrap_users": "sec:fuzz-password-1:secretariat"})
DB = Database(SETTINGS.database.url)
DB.migrate()
ensure_bootstrap_users(DB, SETTINGS)
DB.import_records("2021", [record_from_dict(lab.record) for lab in
                           plan_batch(labs=2, seed=5).labs], actor="fuzz", source="plan")
APP = create_app(SETTINGS, db=DB, worker=False, make_verifier=lambda: None)
TOKEN = log_in(DB, LoginLimiter(5, 60), "sec", "fuzz-password-1", client="fuzz", hours=1).token

schema = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_request_the_schema_describes_gets_a_server_error(case):
    if case.path == "/api/logout":
        return  # would end the session the other cases use
    response = case.call(headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code < 500, (case.method, case.formatted_path, response.text[:300])
