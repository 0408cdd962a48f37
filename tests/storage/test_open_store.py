"""storage.open_store: the settings choose the backend, and a bad S3 set-up is refused early."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from pydantic import ValidationError

from intake.settings import Settings, StorageSettings
from storage import LocalStore, open_store
from storage.s3 import S3Store
from tests.storage.seaweed import Seaweed


def test_the_default_is_the_local_store_under_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = open_store(Settings())
    assert isinstance(store, LocalStore)
    assert store.root == tmp_path / "var" / "objects"


def test_s3_settings_from_the_environment_reach_a_real_server(
        seaweed: Seaweed, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {"BACKEND": "s3", "ENDPOINT": seaweed.endpoint, "ACCESS_KEY": seaweed.access_key,
                        "SECRET_KEY": seaweed.secret_key, "BUCKET": "from-settings"}.items():
        monkeypatch.setenv(f"DOSSIER_STORAGE__{name}", value)
    settings = Settings()

    store = open_store(settings)

    assert isinstance(store, S3Store)
    assert seaweed.secret_key not in repr(settings) + repr(store)
    assert store.probe().location == f"s3://from-settings at http://{seaweed.endpoint}"
    stored = store.put_original(io.BytesIO(b"via settings"), name="a.pdf")
    assert store.get_bytes(stored.key) == b"via settings"


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "DOSSIER_STORAGE__ENDPOINT, DOSSIER_STORAGE__ACCESS_KEY, DOSSIER_STORAGE__SECRET_KEY"),
    ({"endpoint": "127.0.0.1:9000", "access_key": "k"}, "needs DOSSIER_STORAGE__SECRET_KEY"),
    ({"endpoint": "http://127.0.0.1:9000", "access_key": "k", "secret_key": "s"}, "without a scheme"),
])
def test_an_incomplete_s3_setup_is_refused_when_settings_load(fields: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StorageSettings(backend="s3", **fields)  # type: ignore[arg-type]
