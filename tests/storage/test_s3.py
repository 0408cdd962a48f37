"""storage.s3 against a real S3 server (SeaweedFS on loopback): uploads, links, refusals, outages."""

from __future__ import annotations

import hashlib
import io
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from intake.errors import (
    ObjectNotFoundError,
    StorageAuthError,
    StorageIntegrityError,
    StorageUnavailableError,
)
from storage.s3 import S3Store
from tests.storage.seaweed import Seaweed, start_seaweed

MiB = 1024 * 1024


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # loopback only
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_the_bucket_is_created_on_first_use(seaweed: Seaweed) -> None:
    store = seaweed.store()
    assert not seaweed.client().bucket_exists(store.bucket)

    stored = store.put_original(io.BytesIO(b"first dossier"), name="a.pdf")

    assert seaweed.client().bucket_exists(store.bucket)
    assert store.get_bytes(stored.key) == b"first dossier"


def test_a_file_larger_than_a_part_goes_up_in_parts(seaweed: Seaweed, tmp_path: Path) -> None:
    data = os.urandom(12 * MiB)
    source = tmp_path / "volume-1.tif"
    source.write_bytes(data)
    store = seaweed.store(part_size=5 * MiB)

    stored = store.put_original(source, name="volume-1.tif")

    head = seaweed.client().stat_object(store.bucket, stored.key)
    assert (head.etag or "").endswith("-3")  # three parts: 5 + 5 + 2 MiB
    assert head.size == len(data)
    assert head.content_type == "image/tiff"
    assert head.metadata["x-amz-meta-sha256"] == hashlib.sha256(data).hexdigest()
    assert hashlib.sha256(store.get_bytes(stored.key)).hexdigest() == stored.sha256


def test_a_presigned_link_serves_the_bytes_until_it_expires(seaweed: Seaweed) -> None:
    store = seaweed.store()
    stored = store.put_original(io.BytesIO(b"stamped opinion page"), name="opinion.jpg")

    url = store.presigned_url(stored.key, timedelta(minutes=5))
    short = store.presigned_url(stored.key, timedelta(seconds=1))

    assert url.startswith(f"http://{seaweed.endpoint}/")
    assert _fetch(url) == (200, b"stamped opinion page")
    time.sleep(2.2)
    status, body = _fetch(short)
    assert status == 403
    assert b"stamped opinion page" not in body


def test_a_forged_link_is_refused(seaweed: Seaweed) -> None:
    store = seaweed.store()
    stored = store.put_original(io.BytesIO(b"secret dossier"), name="a.pdf")
    other = store.put_original(io.BytesIO(b"other dossier"), name="b.pdf")
    url = store.presigned_url(stored.key, timedelta(minutes=5))

    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    flipped = ("0" if signature[0] != "0" else "1") + signature[1:]
    tampered_signature = url.replace(signature, flipped)
    other_object = url.replace(stored.key, other.key)
    longer_life = url.replace("X-Amz-Expires=300", "X-Amz-Expires=604800")

    for forged in (tampered_signature, other_object, longer_life):
        assert forged != url
        status, body = _fetch(forged)
        assert status == 403, forged
        assert b"dossier" not in body


def test_a_link_to_a_missing_object_is_refused_at_once(seaweed: Seaweed) -> None:
    with pytest.raises(ObjectNotFoundError):
        seaweed.store().presigned_url("derived/" + "2" * 64 + "/report.html", timedelta(minutes=5))


@pytest.mark.parametrize("credentials", [{"secret_key": "not-the-secret"},
                                         {"access_key": "nobody"}], ids=["wrong-secret", "unknown-key"])
def test_wrong_credentials_are_refused_as_auth_errors(seaweed: Seaweed,
                                                      credentials: dict[str, str]) -> None:
    good = seaweed.store()
    stored = good.put_original(io.BytesIO(b"kept"), name="a.pdf")
    bad = seaweed.store(good.bucket, **credentials)

    for call in (lambda: bad.put_original(io.BytesIO(b"intruder"), name="x.pdf"),
                 lambda: bad.get_bytes(stored.key), lambda: bad.stat(stored.key),
                 lambda: list(bad.list()), bad.probe):
        with pytest.raises(StorageAuthError, match="DOSSIER_STORAGE__SECRET_KEY") as caught:
            call()
        assert "not-the-secret" not in str(caught.value)
        assert seaweed.secret_key not in str(caught.value)
    assert [i.key for i in good.list()] == [stored.key]


def test_an_original_replaced_behind_the_store_is_detected_and_not_overwritten(
        seaweed: Seaweed, tmp_path: Path) -> None:
    store = seaweed.store()
    data = b"the original volume"
    stored = store.put_original(io.BytesIO(data), name="a.pdf")
    seaweed.client().put_object(store.bucket, stored.key, io.BytesIO(b"a forged volume!!!!"), 19)

    for call in (lambda: store.get_bytes(stored.key),
                 lambda: store.open(stored.key).read(),
                 lambda: store.download(stored.key, tmp_path / "out.pdf"),
                 lambda: store.put_original(io.BytesIO(data), name="a.pdf")):
        with pytest.raises(StorageIntegrityError, match="backup") as caught:
            call()
        assert caught.value.subject == stored.key
    assert not (tmp_path / "out.pdf").exists()
    # Refused, not "repaired" by overwriting: what is there is for a person to investigate.
    assert seaweed.client().get_object(store.bucket, stored.key).read() == b"a forged volume!!!!"


@pytest.fixture
def stopped_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    server = start_seaweed(tmp_path_factory.mktemp("seaweed"))
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.timeout(60)
def test_a_stopped_server_is_reported_unavailable(stopped_server: Seaweed) -> None:
    store = stopped_server.store(timeout=2)
    stored = store.put_original(io.BytesIO(b"before the outage"), name="a.pdf")

    stopped_server.stop()

    for call in (lambda: store.get_bytes(stored.key), lambda: store.stat(stored.key),
                 lambda: store.exists(stored.key), lambda: list(store.list()),
                 lambda: store.put_original(io.BytesIO(b"during the outage"), name="b.pdf"),
                 store.probe):
        with pytest.raises(StorageUnavailableError, match="connection refused"):
            call()


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A port that accepts connections and never answers (a hung server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield f"127.0.0.1:{listener.getsockname()[1]}"


@pytest.mark.timeout(30)
def test_a_server_that_does_not_answer_times_out(silent_endpoint: str) -> None:
    hung = S3Store(silent_endpoint, "dossier", SecretStr("secret"), "dossiers", timeout=0.5)

    with pytest.raises(StorageUnavailableError, match="no answer in time") as caught:
        hung.stat("derived/" + "3" * 64 + "/report.html")
    assert silent_endpoint in str(caught.value)
