"""The one wrapper around the S3 client (the MinIO SDK): an S3-compatible bucket as object store.

Nothing else imports ``minio``. Every server or network failure leaves this module as one of our
StorageError classes. Each request has a timeout (connect, and each read) and at most two quick
retries of a refused connection, so a stopped server is reported in seconds, not minutes.
Originals are hashed before they are sent (their key is their hash), are only written when their
key is free, and carry their hash as metadata; a file that changes while it is sent is removed
again and refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import mimetypes
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast
from urllib.parse import quote

import urllib3
from minio import Minio
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from pydantic import SecretStr

from intake.errors import (
    InputError,
    ObjectNotFoundError,
    StorageAuthError,
    StorageError,
    StorageIntegrityError,
    StorageUnavailableError,
)
from storage.objects import (
    CHUNK,
    ObjectInfo,
    ReadsWhole,
    StoredObject,
    StoreProbe,
    VerifyingReader,
    check_key,
    check_prefix,
    copy_hashing,
    derived_key,
    derived_prefix,
    original_key,
    original_sha256,
    source_reader,
)

DEFAULT_PART_SIZE = 16 * 1024 * 1024  # multipart above this; S3 wants 5 MiB to 5 GiB a part
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_LINK_LIFETIME = timedelta(days=7)  # the SigV4 limit for presigned links
_SHA_META = "sha256"  # user metadata: x-amz-meta-sha256
_NAME_META = "original-name"  # the first name the original arrived under, percent-encoded
_NOT_FOUND = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound", "NoSuchUpload"}
_AUTH = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken",
         "ExpiredToken", "AuthorizationHeaderMalformed", "MissingSecurityHeader",
         "AccountProblem", "AllAccessDisabled", "InvalidSecurity", "RequestTimeTooSkewed"}
_BUSY = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "XMinioServerNotInitialized"}


class S3Store(ReadsWhole):
    """Objects in one bucket of an S3-compatible server (MinIO, SeaweedFS, Ceph, AWS...)."""

    def __init__(self, endpoint: str, access_key: str, secret_key: SecretStr, bucket: str, *,
                 secure: bool = False, region: str | None = None, timeout: float = 30.0,
                 part_size: int = DEFAULT_PART_SIZE) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (the S3 minimum)")
        self.endpoint = endpoint
        self.bucket = bucket
        self.part_size = part_size
        self._where = f"s3://{bucket} at {'https' if secure else 'http'}://{endpoint}"
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=timeout, read=timeout),
            maxsize=10,
            # A refused connection is retried twice at once; a read that timed out is not (the
            # server is hung, and waiting again only doubles the wait). 5xx answers come back to
            # the SDK, which raises them, and they are reported as "unavailable".
            retries=urllib3.Retry(total=2, connect=2, read=0, backoff_factor=0.2,
                                  status_forcelist=[502, 503, 504], raise_on_status=False),
        )
        try:
            self._client = Minio(endpoint, access_key=access_key,
                                 secret_key=secret_key.get_secret_value(), secure=secure,
                                 region=region, http_client=http)
        except ValueError as exc:
            raise StorageError(f"cannot use this S3 endpoint: {exc}; set DOSSIER_STORAGE__ENDPOINT "
                               "to host:port", subject=endpoint) from exc
        self._bucket_ready = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3Store({self._where!r})"

    # --- errors ----------------------------------------------------------------------------------

    def _error(self, exc: BaseException, subject: str) -> StorageError:
        """Our error for anything the SDK or the network raised while working on ``subject``."""
        if isinstance(exc, StorageError):
            return exc
        if isinstance(exc, S3Error):
            detail = f"{exc.code}: {exc.message}" if exc.message else str(exc.code)
            if exc.code in _NOT_FOUND:
                what = (f"the bucket {self.bucket!r} does not exist" if exc.code == "NoSuchBucket"
                        else "no such object")
                return ObjectNotFoundError(f"{what} in {self._where}", subject=subject)
            if exc.code in _AUTH:
                return StorageAuthError(
                    f"{self._where} refused the request ({detail}); check DOSSIER_STORAGE__ACCESS_KEY, "
                    "DOSSIER_STORAGE__SECRET_KEY and the key's permissions on the bucket",
                    subject=subject)
            if exc.code in _BUSY:
                return StorageUnavailableError(f"{self._where} is not available ({detail}); retry "
                                               "later", subject=subject)
            return StorageError(f"{self._where} refused the request ({detail})", subject=subject)
        if isinstance(exc, ServerError):
            return StorageUnavailableError(
                f"{self._where} failed with HTTP {exc.status_code}; retry later or check the server",
                subject=subject)
        if isinstance(exc, InvalidResponseError):
            return StorageUnavailableError(
                f"{self._where} did not answer as an S3 server ({str(exc)[:200]}); check "
                "DOSSIER_STORAGE__ENDPOINT", subject=subject)
        if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
            return StorageUnavailableError(
                f"cannot reach {self._where}: {_network_reason(exc)}; check that the server runs "
                "and DOSSIER_STORAGE__ENDPOINT", subject=subject)
        if isinstance(exc, MinioException | ValueError):
            return StorageError(f"{self._where}: {exc}", subject=subject)
        raise exc

    @contextlib.contextmanager
    def _translated(self, subject: str) -> Iterator[None]:
        try:
            yield
        except (MinioException, urllib3.exceptions.HTTPError, OSError, ValueError) as exc:
            raise self._error(exc, subject) from exc

    def _ensure_bucket(self) -> None:
        """Create the bucket on first use (once per store; cheap afterwards)."""
        if self._bucket_ready:
            return
        with self._lock, self._translated(self.bucket):
            if not self._bucket_ready:
                if not self._client.bucket_exists(self.bucket):
                    try:
                        self._client.make_bucket(self.bucket)
                    except S3Error as exc:  # another worker made it first
                        if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                            raise
                self._bucket_ready = True

    # --- writing ---------------------------------------------------------------------------------

    def put_original(self, source: Path | BinaryIO, *, name: str) -> StoredObject:
        with _rereadable(source, name) as stream:
            begin = stream.tell()
            sha256, size = copy_hashing(_HashingReader(stream, name).read, lambda _chunk: None)
            key = original_key(sha256)
            self._ensure_bucket()
            existing = self._head(key)
            if existing is not None:
                if existing.info.size != size or existing.recorded_sha256 != sha256:
                    raise StorageIntegrityError(
                        f"an object is already stored under this original's key but it does not "
                        f"hold these bytes (size {existing.info.size}, recorded hash "
                        f"{existing.recorded_sha256 or 'none'}); it was not overwritten. Restore it "
                        "from a backup: the file just sent is intact and has exactly that hash",
                        subject=key)
                return StoredObject(key=key, sha256=sha256, size=size, created=False)
            stream.seek(begin)
            sent = _HashingReader(stream, name)
            with self._translated(key):
                self._client.put_object(
                    self.bucket, key, cast(BinaryIO, sent), length=size, part_size=self.part_size,
                    content_type=_content_type(name), num_parallel_uploads=1,
                    metadata={_SHA_META: sha256, _NAME_META: quote(name, safe="")})
            if sent.hexdigest() != sha256:
                # The file changed between hashing and sending: what was sent is not the original,
                # and it was created by this call, so removing it loses nothing.
                with contextlib.suppress(MinioException, urllib3.exceptions.HTTPError, OSError):
                    self._client.remove_object(self.bucket, key)
                raise StorageIntegrityError(
                    "the file changed while it was being stored, so what arrived does not match "
                    "its hash; nothing was kept. Send the file again once it is complete",
                    subject=name)
            return StoredObject(key=key, sha256=sha256, size=size, created=True)

    def put_derived(self, original_sha256: str, name: str, data: bytes | Path) -> str:
        key = derived_key(original_sha256, name)
        self._ensure_bucket()
        if self._head(original_key(original_sha256)) is None:
            raise ObjectNotFoundError(
                f"no original is stored with hash {original_sha256}, so {name!r} has nothing to be "
                "derived from; store the original first", subject=key)
        with _rereadable(io.BytesIO(data) if isinstance(data, bytes) else data, name) as stream:
            size = stream.seek(0, io.SEEK_END)
            stream.seek(0)
            with self._translated(key):
                self._client.put_object(
                    self.bucket, key, cast(BinaryIO, _HashingReader(stream, name)), length=size,
                    part_size=self.part_size, content_type=_content_type(name), num_parallel_uploads=1)
        return key

    def delete_derived(self, original_sha256: str) -> int:
        prefix = derived_prefix(original_sha256)
        keys = [info.key for info in self.list(prefix)]
        for key in keys:  # one by one: every S3 server has DeleteObject, not all have DeleteObjects
            if not key.startswith(prefix):  # never anything else, whatever the server listed
                raise StorageError("the server listed an object outside the requested prefix",
                                   subject=key)
            with self._translated(key):
                self._client.remove_object(self.bucket, key)
        return len(keys)

    # --- reading ---------------------------------------------------------------------------------

    def open(self, key: str) -> BinaryIO:
        check_key(key)
        self._ensure_bucket()
        with self._translated(key):
            response = self._client.get_object(self.bucket, key)

        def release() -> None:
            response.close()
            response.release_conn()

        def translate(exc: BaseException) -> BaseException:
            if isinstance(exc, MinioException | urllib3.exceptions.HTTPError | OSError):
                return self._error(exc, key)
            return exc

        raw = VerifyingReader(key, response.read, release, original_sha256(key), translate)
        return io.BufferedReader(raw, buffer_size=CHUNK)

    def _head(self, key: str) -> _Head | None:
        """The object's info and recorded hash; None if there is no such object."""
        self._ensure_bucket()
        try:
            with self._translated(key):
                obj = self._client.stat_object(self.bucket, key)
        except ObjectNotFoundError:
            return None
        recorded = (obj.metadata or {}).get(f"x-amz-meta-{_SHA_META}")
        info = ObjectInfo(key=key, size=obj.size or 0, sha256=original_sha256(key),
                          modified=_utc(obj.last_modified))
        return _Head(info=info, recorded_sha256=str(recorded) if recorded else None)

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        head = self._head(key)
        if head is None:
            raise ObjectNotFoundError(f"no such object in {self._where}", subject=key)
        return head.info

    def exists(self, key: str) -> bool:
        check_key(key)
        return self._head(key) is not None

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        self._ensure_bucket()
        objects = self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True)
        while True:
            with self._translated(prefix or self.bucket):  # pages are fetched as we iterate
                obj = next(objects, None)
            if obj is None:
                return
            if obj.is_dir or obj.object_name is None:
                continue
            key = obj.object_name
            yield ObjectInfo(key=key, size=obj.size or 0, sha256=original_sha256(key),
                             modified=_utc(obj.last_modified))

    # --- links and health ------------------------------------------------------------------------

    def presigned_url(self, key: str, expires: timedelta) -> str:
        """A GET link valid for ``expires`` (1 s to 7 days), for an object that exists now."""
        if not timedelta(seconds=1) <= expires <= MAX_LINK_LIFETIME:
            raise ValueError(f"a link can live from 1 second to 7 days, not {expires}")
        self.stat(key)  # a link to nothing would only fail later, in someone's browser
        with self._translated(key):
            return self._client.presigned_get_object(self.bucket, key, expires=expires)

    def probe(self) -> StoreProbe:
        """The server answers, accepts our key, and the bucket exists (it is created if not)."""
        self._bucket_ready = False
        self._ensure_bucket()
        return StoreProbe(backend="s3", location=self._where)


@dataclass(frozen=True)
class _Head:
    info: ObjectInfo
    recorded_sha256: str | None  # x-amz-meta-sha256, written with every original


class _HashingReader(io.RawIOBase):
    """A source as the SDK reads it, hashed as it passes (to prove what was sent)."""

    def __init__(self, stream: BinaryIO, name: str) -> None:
        super().__init__()
        self._stream = stream
        self._name = name
        self._digest = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        try:
            chunk = self._stream.read(-1 if size is None else size)
        except OSError as exc:
            raise InputError(f"could not read the file to store: {exc.strerror or exc}; nothing "
                             "was stored, send the file again", subject=self._name) from exc
        self._digest.update(chunk)
        return chunk

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


@contextlib.contextmanager
def _rereadable(source: Path | BinaryIO, name: str) -> Iterator[BinaryIO]:
    """A stream that can be read twice (hash, then send): the file itself, or a spooled copy."""
    if isinstance(source, Path):
        try:
            handle = source.open("rb")
        except OSError as exc:
            raise InputError(f"could not read the file to store: {exc.strerror or exc}",
                             subject=name) from exc
        with handle:
            yield handle
        return
    try:
        seekable = source.seekable()
    except (AttributeError, OSError, ValueError):
        seekable = False
    if seekable:
        yield source
        return
    with tempfile.TemporaryFile(prefix="dossier-upload-") as spool:
        with source_reader(source, name) as read:
            copy_hashing(read, spool.write)
        spool.seek(0)
        yield spool


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _utc(value: datetime | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _network_reason(exc: BaseException) -> str:
    """The innermost reason urllib3 gives (e.g. 'Connection refused', 'read timed out')."""
    reason: BaseException | None = exc
    while isinstance(reason, urllib3.exceptions.MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    text = str(reason)
    if "Connection refused" in text:
        return "connection refused"
    if isinstance(reason, urllib3.exceptions.TimeoutError) or "timed out" in text:
        return "no answer in time"
    return text[:200]
