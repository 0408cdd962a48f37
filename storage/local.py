"""The embedded object store: a directory tree (``var/objects`` by default), no server needed.

Originals are written once through a temporary file and a hard link, which fails rather than
replace an existing file, then made read-only; derived files are replaced with ``os.replace``.
Names starting with '.' are the store's own (``.incoming/``, temporary files): no key reaches them.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from intake.errors import (
    ObjectKeyError,
    ObjectNotFoundError,
    StorageAuthError,
    StorageError,
    StorageIntegrityError,
    StorageUnavailableError,
    StorageUnsupportedError,
)
from storage.objects import (
    CHUNK,
    DERIVED,
    ObjectInfo,
    ReadsWhole,
    StoredObject,
    StoreProbe,
    VerifyingReader,
    check_key,
    check_prefix,
    check_sha256,
    copy_hashing,
    derived_key,
    derived_prefix,
    fsync_dir,
    original_key,
    original_sha256,
    source_reader,
)

_INCOMING = ".incoming"  # originals are received here, under a temporary name, before their hash is known
_READ_ONLY = 0o444


def _os_error(exc: OSError, subject: str, action: str) -> StorageError:
    """Our error for a file-system failure while ``action`` (e.g. 'reading') ``subject``."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        return StorageAuthError(
            f"permission denied while {action} ({reason}); give the service's user read and write "
            "access to the storage directory", subject=subject)
    if exc.errno in {errno.ENOSPC, errno.EDQUOT}:
        return StorageUnavailableError(
            f"the disk is full while {action}; free space or move DOSSIER_STORAGE__ROOT",
            subject=subject)
    return StorageUnavailableError(f"{action} failed: {reason}; check the storage directory's disk",
                                   subject=subject)


def _modified(stat: os.stat_result) -> datetime:
    return datetime.fromtimestamp(stat.st_mtime, UTC)


class LocalStore(ReadsWhole):
    """Objects as files under ``root``; see the module docstring for the write discipline."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).absolute()  # a later chdir must not move the store

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    # --- writing ---------------------------------------------------------------------------------

    def put_original(self, source: Path | BinaryIO, *, name: str) -> StoredObject:
        incoming = self.root / _INCOMING
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=incoming, prefix=".tmp-")
        except OSError as exc:
            raise _os_error(exc, str(self.root), "preparing to store an original") from exc
        tmp = Path(tmp_name)
        try:
            try:
                with os.fdopen(fd, "wb") as out, source_reader(source, name) as read:
                    sha256, size = copy_hashing(read, out.write)
                    out.flush()
                    os.fsync(out.fileno())
                tmp.chmod(_READ_ONLY)
            except OSError as exc:
                raise _os_error(exc, name, "writing the original") from exc
            key = original_key(sha256)
            final = self._path(key)
            try:
                final.parent.mkdir(parents=True, exist_ok=True)
                created = self._link_new(tmp, final)
            except OSError as exc:
                raise _os_error(exc, key, "storing the original") from exc
            if not created:
                self._check_same(final, key, sha256, size)
            return StoredObject(key=key, sha256=sha256, size=size, created=created)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()

    @staticmethod
    def _link_new(tmp: Path, final: Path) -> bool:
        """Give ``tmp`` the name ``final`` unless that name exists; True if it was new."""
        try:
            os.link(tmp, final)  # atomic, and never replaces: the guarantee originals rest on
        except FileExistsError:
            return False
        except OSError as exc:
            if exc.errno not in {errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK}:
                raise
            # A file system without hard links: check, then rename (a narrow race, same bytes).
            if final.exists():
                return False
            os.rename(tmp, final)
        fsync_dir(final.parent)
        return True

    def _check_same(self, final: Path, key: str, sha256: str, size: int) -> None:
        """An original with this hash exists: make sure it still holds these bytes."""
        try:
            with final.open("rb") as existing:
                actual, actual_size = copy_hashing(existing.read, lambda _chunk: None)
        except OSError as exc:
            raise _os_error(exc, key, "checking the stored original") from exc
        if (actual, actual_size) != (sha256, size):
            raise StorageIntegrityError(
                "an original with this file's hash is already stored but its bytes differ (damaged "
                "or replaced behind the service's back); it was not overwritten. Restore it from a "
                "backup: the file just sent is intact and has exactly that hash", subject=key)

    def put_derived(self, original_sha256: str, name: str, data: bytes | Path) -> str:
        key = derived_key(original_sha256, name)
        original = self._path(original_key(original_sha256))
        if not original.is_file():
            raise ObjectNotFoundError(
                f"no original is stored with hash {original_sha256}, so {name!r} has nothing to be "
                "derived from; store the original first", subject=key)
        final = self._path(key)
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(dir=final.parent, prefix=".tmp-")
        except (NotADirectoryError, FileExistsError) as exc:
            raise ObjectKeyError(
                "a part of this name is already a derived file; on the local backend a name cannot "
                "be both a file and a folder", subject=key) from exc
        except OSError as exc:
            raise _os_error(exc, key, "writing a derived file") from exc
        try:
            try:
                with os.fdopen(fd, "wb") as out:
                    if isinstance(data, bytes):
                        out.write(data)
                    else:
                        with source_reader(data, name) as read:
                            copy_hashing(read, out.write)
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(tmp_name, final)
                fsync_dir(final.parent)
            except IsADirectoryError as exc:
                raise ObjectKeyError(
                    "this name is already a folder of derived files; on the local backend a name "
                    "cannot be both a file and a folder", subject=key) from exc
            except OSError as exc:
                raise _os_error(exc, key, "writing a derived file") from exc
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
        return key

    def delete_derived(self, original_sha256: str) -> int:
        check_sha256(original_sha256)
        directory = self.root / DERIVED / original_sha256
        if not directory.is_dir():
            return 0
        count = sum(1 for info in self.list(derived_prefix(original_sha256)))
        try:
            shutil.rmtree(directory)
        except OSError as exc:
            raise _os_error(exc, str(directory), "deleting derived files") from exc
        return count

    # --- reading ---------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFoundError("no such object in the local store", subject=key) from exc
        except OSError as exc:
            raise _os_error(exc, key, "opening") from exc

        def translate(exc: BaseException) -> BaseException:
            return _os_error(exc, key, "reading") if isinstance(exc, OSError) else exc

        raw = VerifyingReader(key, handle.read, handle.close, original_sha256(key), translate)
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFoundError("no such object in the local store", subject=key) from exc
        except OSError as exc:
            raise _os_error(exc, key, "looking up") from exc
        if not path.is_file():
            raise ObjectNotFoundError("this is a folder of objects, not an object", subject=key)
        return ObjectInfo(key=key, size=st.st_size, sha256=original_sha256(key), modified=_modified(st))

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFoundError:
            return False
        return True

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        base = prefix.rpartition("/")[0]
        start = self.root.joinpath(*base.split("/")) if base else self.root
        found: list[ObjectInfo] = []

        def fail(exc: OSError) -> None:
            if not isinstance(exc, FileNotFoundError | NotADirectoryError):
                raise _os_error(exc, prefix or str(self.root), "listing")

        for dirpath, dirnames, filenames in os.walk(start, onerror=fail):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for filename in filenames:
                if filename.startswith("."):
                    continue
                key = filename if rel == "." else f"{rel}/{filename}"
                if not key.startswith(prefix):
                    continue
                try:
                    st = os.stat(os.path.join(dirpath, filename))
                except FileNotFoundError:
                    continue  # deleted while listing
                except OSError as exc:
                    raise _os_error(exc, key, "listing") from exc
                found.append(ObjectInfo(key=key, size=st.st_size, sha256=original_sha256(key),
                                        modified=_modified(st)))
        found.sort(key=lambda info: info.key)
        yield from found

    # --- links and health ------------------------------------------------------------------------

    def presigned_url(self, key: str, expires: timedelta) -> str:
        check_key(key)
        raise StorageUnsupportedError(
            "expiring download links need the S3 backend (DOSSIER_STORAGE__BACKEND=s3); with the "
            "local backend, serve the object through the API (ObjectStore.open)", subject=key)

    def probe(self) -> StoreProbe:
        """The root exists (it is created) and a file can be written, synced and removed in it."""
        incoming = self.root / _INCOMING
        try:
            incoming.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=incoming, prefix=".probe-") as handle:
                handle.write(b"probe")
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise _os_error(exc, str(self.root), "writing a test file") from exc
        return StoreProbe(backend="local", location=str(self.root))
