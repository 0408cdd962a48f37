"""The object store's one interface, its result types, and the key rules both backends share.

Originals (the dossier files as received) are content-addressed and never replaced or deleted;
derived objects (rendered pages, OCR output, crops, reports) live beside their original under
``derived/<sha256>/`` and can be rebuilt, so they may be replaced or deleted.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from intake.errors import InputError, ObjectKeyError, StorageIntegrityError

CHUNK = 1024 * 1024  # read and hash in pieces of this size: a 500 MB scan never sits in memory
MAX_KEY_BYTES = 1024  # the S3 limit, applied to both backends so a key works on either
ORIGINALS = "originals"
DERIVED = "derived"
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ORIGINAL_KEY = re.compile(rf"{ORIGINALS}/([0-9a-f]{{2}})/([0-9a-f]{{64}})")
_KEY_RULES = ("keys are relative paths of '/'-separated names; a name may not be empty, start "
              "with '.', or contain '\\', NUL or control characters")


@dataclass(frozen=True)
class StoredObject:
    """What ``put_original`` did: ``created`` is False when the same bytes were already kept."""

    key: str
    sha256: str
    size: int
    created: bool


@dataclass(frozen=True)
class ObjectInfo:
    """One stored object. ``sha256`` is known for originals (it is their key), None for derived."""

    key: str
    size: int
    sha256: str | None
    modified: datetime  # timezone-aware, UTC


@dataclass(frozen=True)
class StoreProbe:
    """What /health shows: which backend, and where (a directory or endpoint/bucket)."""

    backend: str
    location: str


class ObjectStore(Protocol):
    """Where dossier files and everything made from them are kept (local files or S3)."""

    def put_original(self, source: Path | BinaryIO, *, name: str) -> StoredObject:
        """Keep a received file; the same bytes twice are kept once (``created=False``)."""
        ...

    def put_derived(self, original_sha256: str, name: str, data: bytes | Path) -> str:
        """Keep (or replace) ``derived/<original_sha256>/<name>``; returns its key."""
        ...

    def get_bytes(self, key: str) -> bytes:
        """The whole object; an original's bytes are checked against its hash."""
        ...

    def open(self, key: str) -> BinaryIO:
        """A stream of the object; an original is checked against its hash when read to the end."""
        ...

    def download(self, key: str, dest: Path) -> None:
        """Write the object to ``dest`` atomically; an original is checked before ``dest`` appears."""
        ...

    def stat(self, key: str) -> ObjectInfo: ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order."""
        ...

    def delete_derived(self, original_sha256: str) -> int:
        """Delete everything derived from one original (never the original); how many objects."""
        ...

    def presigned_url(self, key: str, expires: timedelta) -> str:
        """A link that lets a browser fetch the object without credentials until it expires."""
        ...

    def probe(self) -> StoreProbe:
        """Check the store can be written (creating the bucket or directory); raise if not."""
        ...


def check_sha256(value: str) -> str:
    if not isinstance(value, str) or not _SHA256.fullmatch(value):
        raise ObjectKeyError(f"{value!r} is not a SHA-256 hex digest (64 lower-case hex digits); "
                             "pass the sha256 of a StoredObject", subject="sha256")
    return value


def check_key(key: str, *, what: str = "object key") -> str:
    """``key`` if it is a safe relative key, else ObjectKeyError (nothing may escape the store)."""
    if not isinstance(key, str) or not key:
        raise ObjectKeyError(f"an empty {what}; {_KEY_RULES}", subject=repr(key))
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise ObjectKeyError(f"the {what} is longer than {MAX_KEY_BYTES} bytes; use a shorter name",
                             subject=key[:80] + "…")
    problem = None
    if key.startswith("/"):
        problem = "it is absolute (starts with '/')"
    elif "\\" in key:
        problem = "it contains a backslash"
    elif any(ord(c) < 0x20 or ord(c) == 0x7F for c in key):
        problem = "it contains NUL or another control character"
    else:
        for part in key.split("/"):
            if not part:
                problem = "it has an empty name (a '//' or a trailing '/')"
            elif part in {".", ".."}:
                problem = f"it contains {part!r}"
            elif part.startswith("."):
                problem = f"the name {part!r} starts with '.' (reserved for the store's own files)"
            if problem:
                break
    if problem:
        raise ObjectKeyError(f"refused {what}: {problem}; {_KEY_RULES}", subject=repr(key))
    return key


def check_prefix(prefix: str) -> str:
    """A listing prefix: empty, a key, or a key followed by '/'."""
    if prefix == "":
        return prefix
    check_key(prefix.removesuffix("/"), what="listing prefix")
    return prefix


def original_key(sha256: str) -> str:
    check_sha256(sha256)
    return f"{ORIGINALS}/{sha256[:2]}/{sha256}"


def derived_prefix(original_sha256: str) -> str:
    return f"{DERIVED}/{check_sha256(original_sha256)}/"


def derived_key(original_sha256: str, name: str) -> str:
    return derived_prefix(original_sha256) + check_key(name, what="derived object name")


def original_sha256(key: str) -> str | None:
    """The hash an original's key promises; None for any other key."""
    m = _ORIGINAL_KEY.fullmatch(key)
    return m[2] if m and m[2].startswith(m[1]) else None


def is_original_key(key: str) -> bool:
    """True for anything under ``originals/``: such keys are never written except by content."""
    return key == ORIGINALS or key.startswith(ORIGINALS + "/")


def copy_hashing(read: Callable[[int], bytes], write: Callable[[bytes], object]) -> tuple[str, int]:
    """Copy in chunks until ``read`` is exhausted; the SHA-256 and size of what passed."""
    digest = hashlib.sha256()
    size = 0
    while chunk := read(CHUNK):
        digest.update(chunk)
        write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def integrity_error(key: str, actual: str) -> StorageIntegrityError:
    return StorageIntegrityError(
        f"the stored bytes hash to {actual[:12]}…, not to the hash the original's key promises: the "
        "copy in the store is damaged or was replaced behind the service's back. It was not used; "
        "restore the object from a backup or from the sender's file", subject=key)


class VerifyingReader(io.RawIOBase):
    """A raw stream that hashes what passes and, at the end, refuses bytes that do not match.

    ``translate`` turns the backend's own read errors into ours; ``release`` frees the backend's
    handle (a file, or an HTTP connection) when the stream is closed.
    """

    def __init__(self, key: str, read: Callable[[int], bytes], release: Callable[[], None],
                 expected_sha256: str | None,
                 translate: Callable[[BaseException], BaseException] | None = None) -> None:
        super().__init__()
        self._key = key
        self._read = read
        self._release = release
        self._expected = expected_sha256
        self._translate = translate
        self._digest = hashlib.sha256()
        self._done = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._done:
            return 0
        try:
            chunk = self._read(len(buffer))
        except Exception as exc:
            if self._translate is None:
                raise
            raise self._translate(exc) from exc
        if not chunk:
            self._done = True
            actual = self._digest.hexdigest()
            if self._expected is not None and actual != self._expected:
                raise integrity_error(self._key, actual)
            return 0
        self._digest.update(chunk)
        buffer[: len(chunk)] = chunk
        return len(chunk)

    def readall(self) -> bytes:
        # RawIOBase's own readall reads 8 KiB at a time; whole-object reads go a chunk at a time.
        whole = bytearray()
        buffer = bytearray(CHUNK)
        while count := self.readinto(memoryview(buffer)):
            whole += buffer[:count]
        return bytes(whole)

    def close(self) -> None:
        if not self.closed:
            try:
                self._release()
            finally:
                super().close()


@contextlib.contextmanager
def source_reader(source: Path | BinaryIO, name: str) -> Iterator[Callable[[int], bytes]]:
    """``read(n)`` over a file to be stored; a failure to read it is the caller's InputError."""
    def fail(exc: OSError) -> InputError:
        return InputError(f"could not read the file to store: {exc.strerror or exc}; nothing was "
                          "stored, send the file again", subject=name)

    if isinstance(source, Path):
        try:
            handle = source.open("rb")
        except OSError as exc:
            raise fail(exc) from exc
        stream: BinaryIO = handle
    else:
        handle = None
        stream = source

    def read(size: int) -> bytes:
        try:
            return stream.read(size)
        except OSError as exc:
            raise fail(exc) from exc

    try:
        yield read
    finally:
        if handle is not None:
            handle.close()


def fsync_dir(directory: Path) -> None:
    """Make a rename or link in ``directory`` survive a power cut."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomically(dest: Path, read: Callable[[int], bytes]) -> None:
    """Copy ``read`` into ``dest`` through a temporary file beside it: ``dest`` appears whole or not.

    Errors of ``read`` (e.g. a hash mismatch at the end) leave ``dest`` as it was.
    """
    try:
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", subject=str(dest)) from exc
    try:
        with os.fdopen(fd, "wb") as out:
            copy_hashing(read, out.write)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, dest)
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror or exc}", subject=str(dest)) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class ReadsWhole:
    """``get_bytes`` and ``download`` for a store, from its own verifying ``open``."""

    def open(self, key: str) -> BinaryIO:
        raise NotImplementedError

    def get_bytes(self, key: str) -> bytes:
        with self.open(key) as stream:
            return stream.read()

    def download(self, key: str, dest: Path) -> None:
        with self.open(key) as stream:
            write_file_atomically(dest, stream.read)
