"""The ObjectStore contract, run against both stores: local files and a real S3 server."""

from __future__ import annotations

import hashlib
import io
import os
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from intake.errors import InputError, ObjectKeyError, ObjectNotFoundError
from storage.objects import ObjectStore, derived_prefix

MiB = 1024 * 1024


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


class _Pipe(io.RawIOBase):
    """A source that can be read once, front to back (an upload body, a pipe)."""

    def __init__(self, data: bytes, *, fail_after: int | None = None) -> None:
        super().__init__()
        self._data = io.BytesIO(data)
        self._fail_after = fail_after

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def read(self, size: int | None = -1) -> bytes:
        if self._fail_after is not None and self._data.tell() >= self._fail_after:
            raise ConnectionResetError(104, "Connection reset by peer")
        return self._data.read(size)


def test_an_original_comes_back_byte_for_byte(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(200_000)
    before = datetime.now(UTC) - timedelta(minutes=1)

    stored = store.put_original(_file(tmp_path, "volume-1.pdf", data), name="volume-1.pdf")

    assert stored.sha256 == _sha(data)
    assert stored.key == f"originals/{stored.sha256[:2]}/{stored.sha256}"
    assert (stored.size, stored.created) == (len(data), True)
    assert store.get_bytes(stored.key) == data
    with store.open(stored.key) as stream:
        assert stream.read() == data
    store.download(stored.key, tmp_path / "copy.pdf")
    assert (tmp_path / "copy.pdf").read_bytes() == data
    info = store.stat(stored.key)
    assert (info.key, info.size, info.sha256) == (stored.key, len(data), stored.sha256)
    assert before <= info.modified <= datetime.now(UTC) + timedelta(minutes=1)
    assert store.exists(stored.key)
    assert [i.key for i in store.list("originals/")] == [stored.key]


def test_the_same_bytes_again_store_nothing_new(store: ObjectStore, tmp_path: Path) -> None:
    data = b"%PDF-1.7 scanned volume"
    first = store.put_original(_file(tmp_path, "a.pdf", data), name="申请材料-副本1.pdf")
    again = store.put_original(io.BytesIO(data), name="申请材料-副本2.pdf")
    piped = store.put_original(_Pipe(data), name="upload.pdf")  # type: ignore[arg-type]

    assert first.created
    assert not again.created
    assert not piped.created
    assert again.key == piped.key == first.key
    assert [i.key for i in store.list()] == [first.key]


def test_no_operation_changes_an_original(store: ObjectStore, tmp_path: Path) -> None:
    original = b"the stamped application volume, copy 1"
    kept = store.put_original(io.BytesIO(original), name="volume-1.pdf")

    other = store.put_original(io.BytesIO(b"a different scan under the same name"), name="volume-1.pdf")
    store.put_derived(kept.sha256, "pages/0001.png", b"page image")
    store.put_derived(kept.sha256, "pages/0001.png", b"page image, rendered again")
    store.put_derived(kept.sha256, "ocr.json", _file(tmp_path, "ocr.json", b"{}"))
    with pytest.raises(ObjectKeyError):
        store.put_derived(kept.sha256, "../../originals/" + kept.key.split("/", 1)[1], b"overwrite?")
    assert store.delete_derived(kept.sha256) == 2
    assert store.delete_derived(other.sha256) == 0

    assert other.key != kept.key
    assert other.created
    assert _sha(store.get_bytes(kept.key)) == kept.sha256
    assert store.get_bytes(kept.key) == original
    assert store.stat(kept.key).size == len(original)
    assert sorted(i.key for i in store.list()) == sorted([kept.key, other.key])


def test_derived_objects_sit_beside_their_original_and_can_be_rebuilt(store: ObjectStore) -> None:
    a = store.put_original(io.BytesIO(b"dossier A"), name="a.pdf")
    b = store.put_original(io.BytesIO(b"dossier B"), name="b.pdf")

    key = store.put_derived(a.sha256, "pages/0001.png", b"first render")
    store.put_derived(a.sha256, "pages/0001.png", b"second render")
    store.put_derived(a.sha256, "report.html", b"<html>")
    b_key = store.put_derived(b.sha256, "report.html", b"<html>B")

    assert key == f"derived/{a.sha256}/pages/0001.png"
    assert store.get_bytes(key) == b"second render"
    info = store.stat(key)
    assert (info.size, info.sha256) == (len(b"second render"), None)
    assert [i.key for i in store.list(derived_prefix(a.sha256))] == [
        key, f"derived/{a.sha256}/report.html"]
    assert store.delete_derived(a.sha256) == 2
    assert not store.exists(key)
    assert list(store.list(derived_prefix(a.sha256))) == []
    assert store.get_bytes(b_key) == b"<html>B"
    assert store.exists(a.key)


def test_a_derived_object_needs_its_original(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFoundError, match="store the original first"):
        store.put_derived("0" * 64, "pages/0001.png", b"orphan")
    with pytest.raises(ObjectKeyError, match="SHA-256"):
        store.put_derived("not-a-hash", "pages/0001.png", b"orphan")
    assert list(store.list()) == []


def test_a_missing_object_is_reported_as_missing(store: ObjectStore, tmp_path: Path) -> None:
    key = "derived/" + "1" * 64 + "/report.html"
    dest = tmp_path / "report.html"
    for call in (store.get_bytes, store.stat, store.open, lambda k: store.download(k, dest)):
        with pytest.raises(ObjectNotFoundError) as caught:
            call(key)
        assert caught.value.subject == key
    assert not store.exists(key)
    assert not dest.exists()


BAD_KEYS = ["", "/etc/passwd", "../outside", "originals/../../outside", "a//b", "a/", "a\\..\\b",
            "a\x00b", ".incoming/x", "derived/./x", "x" * 1100]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_a_key_that_could_escape_the_store_is_refused(store: ObjectStore, key: str) -> None:
    kept = store.put_original(io.BytesIO(b"x"), name="x.pdf")
    for call in (store.get_bytes, store.stat, store.exists, store.open,
                 lambda k: store.put_derived(kept.sha256, k, b"y"),
                 lambda k: store.presigned_url(k, timedelta(minutes=1))):
        with pytest.raises(ObjectKeyError):
            call(key)
    if key not in {"", "a/"}:  # both are fine as listing prefixes: everything, and a folder
        with pytest.raises(ObjectKeyError):
            list(store.list(key))
    assert [i.key for i in store.list()] == [kept.key]


def test_a_large_file_is_streamed_not_held_in_memory(store: ObjectStore, tmp_path: Path) -> None:
    size = 32 * MiB  # S3 holds two 5 MiB parts at once, the local store a few chunks
    source = tmp_path / "big.tif"
    digest = hashlib.sha256()
    with source.open("wb") as out:
        for _ in range(size // MiB):
            chunk = os.urandom(MiB)
            digest.update(chunk)
            out.write(chunk)

    tracemalloc.start()
    try:
        stored = store.put_original(source, name="big.tif")
        store.download(stored.key, tmp_path / "back.tif")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert (stored.sha256, stored.size) == (digest.hexdigest(), size)
    with (tmp_path / "back.tif").open("rb") as back:
        assert hashlib.file_digest(back, "sha256").hexdigest() == stored.sha256
    assert peak < size // 2, f"{peak / MiB:.1f} MiB held at once for a {size // MiB} MiB file"


def test_an_upload_that_breaks_off_leaves_nothing_behind(store: ObjectStore) -> None:
    with pytest.raises(InputError, match="could not read the file") as caught:
        store.put_original(_Pipe(os.urandom(3 * MiB), fail_after=2 * MiB),  # type: ignore[arg-type]
                           name="volume-2.pdf")
    assert caught.value.subject == "volume-2.pdf"
    assert list(store.list()) == []


def test_probe_says_which_store_answers(store: ObjectStore) -> None:
    probe = store.probe()
    assert probe.backend in {"local", "s3"}
    assert probe.location


def test_an_empty_file_is_an_original_too(store: ObjectStore) -> None:
    stored = store.put_original(io.BytesIO(b""), name="blank.pdf")
    assert (stored.size, stored.sha256) == (0, _sha(b""))
    assert store.get_bytes(stored.key) == b""
