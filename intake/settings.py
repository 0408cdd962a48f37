"""Settings: one object, read from the environment (prefix ``DOSSIER_``) at the edges only.

Stages never read settings themselves; the pipeline passes them the few values they need.
Nested groups use ``__``: ``DOSSIER_LIMITS__MAX_PAGES=500``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Limits(BaseModel):
    """What one uploaded file may be; beyond these the file is refused with a clear error."""

    max_bytes: int = 512 * 1024 * 1024
    max_pages: int = 2000
    max_pixels: int = 120_000_000  # one page image; a 300-DPI A3 scan is about 17 million
    seconds_per_page: float = 120.0


class OcrSettings(BaseModel):
    lang: str = "chi_sim"
    # Sparse text: every fragment is found wherever it stands; the table's cells, not the
    # engine's layout analysis, then decide what belongs together (wrapped cells read whole).
    page_psm: int = 11
    dpi: int | None = None  # None: a scan's own resolution, 200 for vector pages
    workers: int = Field(default_factory=lambda: max(1, os.cpu_count() or 1))
    verify_engine: str = "rapidocr"  # re-reads fields that do not verify: rapidocr | tesseract


class DatabaseSettings(BaseModel):
    """Where campaigns, records, dossiers and reports are kept (a SQLAlchemy URL).

    SQLite is the embedded default; production uses ``postgresql://user@host/db`` (psycopg 3).
    """

    url: str = "sqlite:///var/dossier.db"


class StorageSettings(BaseModel):
    """Where originals and derived files are kept: a local directory, or an S3 bucket.

    ``endpoint`` is ``host:port`` without a scheme (``secure`` chooses https); ``open_store`` in
    ``storage`` is the one place that turns these into a store.
    """

    backend: Literal["local", "s3"] = "local"
    root: Path = Path("var/objects")  # the local backend's directory
    endpoint: str | None = None
    access_key: str | None = None
    secret_key: SecretStr = SecretStr("")
    bucket: str = "dossiers"
    secure: bool = False
    region: str | None = None  # None: asked of the server once per bucket
    timeout_seconds: float = Field(default=30.0, gt=0)  # connect, and each read from the server
    presign_seconds: int = Field(default=900, ge=1, le=7 * 24 * 3600)  # S3 allows at most 7 days

    @model_validator(mode="after")
    def _s3_needs_a_server(self) -> StorageSettings:
        if self.backend != "s3":
            return self
        missing = [name for name, value in (("ENDPOINT", self.endpoint),
                                            ("ACCESS_KEY", self.access_key),
                                            ("SECRET_KEY", self.secret_key.get_secret_value()))
                   if not value]
        if missing:
            raise ValueError("the s3 storage backend needs "
                             + ", ".join(f"DOSSIER_STORAGE__{m}" for m in missing))
        if self.endpoint and "://" in self.endpoint:
            raise ValueError(f"DOSSIER_STORAGE__ENDPOINT is host:port without a scheme, not "
                             f"{self.endpoint!r}; set DOSSIER_STORAGE__SECURE=true for https")
        return self


class ApiSettings(BaseModel):
    """The web service. The embedded defaults serve on loopback with the demo accounts."""

    host: str = "127.0.0.1"
    port: int = 8000
    session_hours: float = Field(default=10.0, gt=0)  # a working day; then log in again
    login_attempts: int = Field(default=5, ge=1)  # failed log-ins per name and address ...
    login_window_seconds: int = Field(default=300, ge=1)  # ... within this window, then 429
    max_upload_files: int = Field(default=200, ge=1)
    secure_cookies: bool = False  # true behind https
    # An in-process worker takes queued jobs (embedded mode); off where `dossier worker` runs.
    embedded_worker: bool = True
    # Accounts created at first start when the database has none, "name:password:role[:unit]"
    # separated by ";". Empty: none (create them with `dossier users add`).
    bootstrap_users: SecretStr = SecretStr("")


class QueueSettings(BaseModel):
    """The task queue of distributed mode: Celery on a Redis broker (api/tasks.py).

    A task held by a worker that died is handed out again once ``visibility_timeout`` seconds
    have passed since it was taken, so it must be longer than the longest task (one page, or
    gathering one dossier); a shorter one only costs duplicate work, which is idempotent.
    """

    broker_url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")
    name: str = "dossier"  # the queue's name
    key_prefix: str = ""  # prefixes every broker key: several deployments on one Redis
    visibility_timeout: int = Field(default=1800, ge=1)
    restore_seconds: int = Field(default=10, ge=1)  # how often a worker looks for such tasks
    concurrency: int | None = Field(default=None, ge=1)  # tasks at once per worker; None: cores
    retries: int = Field(default=5, ge=0)  # for a storage or database that is briefly away
    retry_backoff_max: int = Field(default=120, ge=1)  # seconds
    page_attempts: int = Field(default=3, ge=1)  # a page that stops its worker more is failed
    # A queued or running job nothing has moved for this long is sent again (its tasks were
    # lost, e.g. with a broker that restarted empty); workers look every sweep_seconds.
    stall_seconds: float = Field(default=900.0, gt=0)
    sweep_seconds: float = Field(default=60.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DOSSIER_", env_nested_delimiter="__")

    # embedded: an in-process worker and a page process pool, nothing else to run;
    # distributed: Celery workers (`dossier worker`) on a Redis broker, PostgreSQL and S3.
    mode: Literal["embedded", "distributed"] = "embedded"
    data_dir: Path = Path("var")
    limits: Limits = Limits()
    ocr: OcrSettings = OcrSettings()
    storage: StorageSettings = StorageSettings()
    database: DatabaseSettings = DatabaseSettings()
    api: ApiSettings = ApiSettings()
    queue: QueueSettings = QueueSettings()


def settings_with(env: Mapping[str, str]) -> Settings:
    """The settings as they would be read with ``env`` added to the environment (a worker's
    environment, a deployment's), without leaving it changed."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        return Settings()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
