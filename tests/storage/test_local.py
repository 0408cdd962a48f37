"""storage.local: what the embedded store promises on disk beyond the common contract."""

from __future__ import annotations

import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from intake.errors import (
    ObjectKeyError,
    StorageIntegrityError,
    StorageUnavailableError,
    StorageUnsupportedError,
)
from storage.local import LocalStore


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_originals_are_read_only_on_disk_and_no_temporary_file_remains(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    stored = store.put_original(io.BytesIO(b"volume"), name="v.pdf")
    store.put_original(io.BytesIO(b"volume"), name="v-again.pdf")
    key = store.put_derived(stored.sha256, "pages/0001.png", b"page")
    store.put_derived(stored.sha256, "pages/0001.png", b"page again")

    mode = (tmp_path / "objects" / stored.key).stat().st_mode
    assert stat.S_IMODE(mode) & 0o222 == 0
    assert _files(tmp_path / "objects") == sorted([stored.key, key])


def test_a_damaged_original_is_refused_on_reading_and_not_overwritten(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    data = b"the original volume"
    stored = store.put_original(io.BytesIO(data), name="a.pdf")
    path = tmp_path / "objects" / stored.key
    path.chmod(0o644)
    path.write_bytes(b"the damaged volume!")

    for call in (lambda: store.get_bytes(stored.key),
                 lambda: store.open(stored.key).read(),
                 lambda: store.download(stored.key, tmp_path / "out.pdf"),
                 lambda: store.put_original(io.BytesIO(data), name="a.pdf")):
        with pytest.raises(StorageIntegrityError, match="backup") as caught:
            call()
        assert caught.value.subject == stored.key
    assert not (tmp_path / "out.pdf").exists()
    assert path.read_bytes() == b"the damaged volume!"
    assert _files(tmp_path / "objects") == [stored.key]


def test_no_key_reads_a_file_beside_the_root(tmp_path: Path) -> None:
    (tmp_path / "credentials.txt").write_text("do not serve me")
    store = LocalStore(tmp_path / "objects")
    store.probe()

    for key in ("../credentials.txt", "originals/../../credentials.txt", str(tmp_path / "credentials.txt")):
        with pytest.raises(ObjectKeyError):
            store.get_bytes(key)


def test_links_need_the_s3_backend(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    stored = store.put_original(io.BytesIO(b"x"), name="x.pdf")

    with pytest.raises(StorageUnsupportedError, match="S3 backend"):
        store.presigned_url(stored.key, timedelta(minutes=15))


def test_a_root_that_cannot_be_written_fails_the_probe(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    store = LocalStore(tmp_path / "a-file" / "objects")

    with pytest.raises(StorageUnavailableError) as caught:
        store.probe()
    assert caught.value.subject == str(tmp_path / "a-file" / "objects")
    with pytest.raises(StorageUnavailableError):
        store.put_original(io.BytesIO(b"x"), name="x.pdf")


def test_a_derived_name_cannot_be_both_a_file_and_a_folder(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    stored = store.put_original(io.BytesIO(b"x"), name="x.pdf")
    store.put_derived(stored.sha256, "pages", b"a file")
    store.put_derived(stored.sha256, "crops/seal-1.png", b"a crop")

    with pytest.raises(ObjectKeyError, match="both a file and a folder"):
        store.put_derived(stored.sha256, "pages/0001.png", b"page")
    with pytest.raises(ObjectKeyError, match="both a file and a folder"):
        store.put_derived(stored.sha256, "crops", b"x")


def test_the_root_does_not_move_with_the_working_directory(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    store = LocalStore(Path("var/objects"))
    stored = store.put_original(io.BytesIO(b"x"), name="x.pdf")
    monkeypatch.chdir(os.sep)

    assert store.get_bytes(stored.key) == b"x"
    assert (tmp_path / "var" / "objects" / stored.key).is_file()
