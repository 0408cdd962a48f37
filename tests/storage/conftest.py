"""Fixtures for the storage tests: both stores, and one real S3 server per test worker."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.local import LocalStore
from storage.objects import ObjectStore
from tests.storage.seaweed import Seaweed, start_seaweed


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """Each backend in turn; the S3 one on a bucket of its own, created by the store on first use."""
    if request.param == "local":
        return LocalStore(tmp_path / "objects")
    server: Seaweed = request.getfixturevalue("seaweed")
    return server.store(f"t-{secrets.token_hex(6)}")
