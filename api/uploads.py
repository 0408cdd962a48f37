"""Uploads: request size limits, safe file names, zips opened without trusting them, and
batches whose files are matched to labs by name and by what their first page says.

Nothing here keeps anything for good: files land in a temporary folder (or a batch's staging
folder) and only ``service.receive`` keeps originals, after every file has been checked.
"""

from __future__ import annotations

import json
import re
import secrets
import shutil
import stat
import tempfile
import unicodedata
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any
from urllib.parse import quote

from fastapi import UploadFile
from rapidfuzz import fuzz
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.errors import (
    FileTooLargeError,
    InputError,
    IntakeError,
    NotFoundError,
    UnsafeArchiveError,
)
from intake.pipeline import ReviewOptions
from intake.settings import Settings
from storage.db.repository import Lab

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 1024 * 1024
MAX_NAME = 180
ZIP_MAX_RATIO = 200  # a member that inflates more than this is a bomb, not a scan
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
OCR_PROPOSALS = 30  # files whose first page is read to find their lab (the rest by name only)


def request_limit(settings: Settings) -> int:
    """The largest request body accepted: the most files of the largest size, plus form
    overhead. Beyond it the request is cut off with 413 before it fills the disk."""
    return settings.limits.max_bytes * 4 + 1024 * 1024


class BodyLimit:
    """ASGI middleware: a request whose body grows past ``limit`` bytes is answered 413."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send, self.limit)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLargeError
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLargeError:
            if not started:
                await _too_large(send, self.limit)


class _BodyTooLargeError(Exception):
    pass


async def _too_large(send: Send, limit: int) -> None:
    body = json.dumps({"error": {
        "code": "file_too_large", "subject": None,
        "message": f"the upload is larger than {limit // (1024 * 1024)} MiB; send fewer or "
                   "smaller files at a time",
        "message_zh": "上传内容超出大小限制，请分批或压缩后上传"}}, ensure_ascii=False).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def safe_name(name: str | None) -> str:
    """A file name that is only a name: no folders, no control characters, not too long,
    Unicode-normalised (a name sent in GBK arrives here already decoded)."""
    raw = unicodedata.normalize("NFC", name or "")
    base = PureWindowsPath(PurePosixPath(raw).name).name
    cleaned = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip(" .")
    if not cleaned:
        cleaned = "file"
    if len(cleaned) > MAX_NAME:
        stem, dot, ext = cleaned.rpartition(".")
        cleaned = (stem[:MAX_NAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 8 \
            else cleaned[:MAX_NAME]
    return cleaned


def unique_name(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    stem, dot, ext = name.rpartition(".")
    while candidate.lower() in taken:
        n += 1
        candidate = f"{stem}-{n}.{ext}" if dot else f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


def attachment(name: str) -> dict[str, str]:
    """A Content-Disposition that keeps a Chinese file name (RFC 6266 / 5987)."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "download"
    return {"Content-Disposition":
            f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"}


def read_limited(upload: UploadFile, name: str, limit: int) -> bytes:
    data = upload.file.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(f"the file is larger than {limit // (1024 * 1024)} MiB",
                                subject=name)
    return data


def _copy_limited(upload: UploadFile, target: Path, name: str, limit: int) -> None:
    size = 0
    with target.open("wb") as out:
        while chunk := upload.file.read(CHUNK):
            size += len(chunk)
            if size > limit:
                raise FileTooLargeError(
                    f"the file is larger than the limit of {limit // (1024 * 1024)} MiB; split "
                    "the scan or lower its resolution", subject=name)
            out.write(chunk)


@contextmanager
def saved(files: Sequence[UploadFile], settings: Settings) -> Iterator[list[Path]]:
    """The uploaded files in a temporary folder under their own (safe, unique) names; the
    folder is gone afterwards whatever happens."""
    if not files:
        raise InputError("no files were sent: choose the dossier's scans")
    if len(files) > settings.api.max_upload_files:
        raise InputError(f"{len(files)} files at once; at most {settings.api.max_upload_files}")
    with tempfile.TemporaryDirectory(prefix="dossier-upload-") as tmp:
        taken: set[str] = set()
        paths = []
        for upload in files:
            name = unique_name(safe_name(upload.filename), taken)
            target = Path(tmp) / name
            _copy_limited(upload, target, name, settings.limits.max_bytes)
            paths.append(target)
        yield paths


@contextmanager
def saved_one(upload: UploadFile | None, settings: Settings) -> Iterator[Path | None]:
    """One optional uploaded file (the online system's printout) in a temporary folder of its
    own; None when nothing was sent (a form's empty file input sends a nameless part)."""
    if upload is None or not upload.filename:
        yield None
        return
    with saved([upload], settings) as (path,):
        yield path


# Zips ---------------------------------------------------------------------------------------

def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name as its author wrote it: zips made on Chinese Windows store GBK
    without saying so (no UTF-8 flag), which Python reads as cp437."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gbk")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def extract_zip(path: Path, into: Path, *, zip_name: str, max_bytes: int, max_files: int,
                taken: set[str]) -> list[Path]:
    """The files inside a zip, refusing the whole zip for a member that would escape the
    folder (``../``, absolute, drive letters), a link, or that inflates like a bomb."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        from intake.errors import CorruptFileError

        raise CorruptFileError(f"the zip cannot be opened ({exc})", subject=zip_name) from None
    out: list[Path] = []
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        if len(members) > max_files:
            raise InputError(f"the zip holds {len(members)} files; at most {max_files}",
                             subject=zip_name)
        total = 0
        for info in members:
            name = _member_name(info)
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", name):
                raise UnsafeArchiveError(f"the member {name!r} points outside the zip (an absolute or "
                                 "../ path); the zip is refused", subject=zip_name)
            if stat.S_ISLNK(info.external_attr >> 16):
                raise UnsafeArchiveError(f"the member {name!r} is a link; the zip is refused",
                                 subject=zip_name)
            total += info.file_size
            if info.file_size > max_bytes or total > max_bytes * max(1, max_files):
                raise FileTooLargeError(f"the member {name!r} inflates to {info.file_size} bytes, "
                                        "beyond the file size limit", subject=zip_name)
            if info.compress_size and info.file_size / info.compress_size > ZIP_MAX_RATIO \
                    and info.file_size > 10 * CHUNK:
                raise FileTooLargeError(f"the member {name!r} inflates {info.file_size // info.compress_size}"
                                        " times: a zip bomb, refused", subject=zip_name)
            # The folder inside the zip often names the lab: keep it in the name.
            label = "-".join(safe_name(p) for p in parts)
            target = into / unique_name(safe_name(label), taken)
            written = 0
            try:
                with archive.open(info) as src, target.open("wb") as dst:
                    while chunk := src.read(CHUNK):
                        written += len(chunk)
                        if written > info.file_size or written > max_bytes:
                            raise FileTooLargeError(f"the member {name!r} inflates beyond its "
                                                    "declared size", subject=zip_name)
                        dst.write(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                from intake.errors import CorruptFileError

                raise CorruptFileError(f"the member {name!r} cannot be read ({exc})",
                                       subject=zip_name) from None
            out.append(target)
    return out


# Batches ------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return re.sub(r"[\s()（）_\-.]+", "", unicodedata.normalize("NFKC", text)).lower()


def propose_by_name(name: str, labs: Sequence[Lab]) -> tuple[str | None, str]:
    norm = _norm(name)
    for lab in labs:
        if _norm(lab.lab_id) in norm:
            return lab.lab_id, "文件名含实验室编号"
    best, score = None, 0.0
    for lab in labs:
        s = fuzz.partial_ratio(_norm(lab.name), norm)
        if s > score:
            best, score = lab, s
    if best is not None and score >= 90 and len(_norm(best.name)) >= 4:
        return best.lab_id, "文件名含实验室名称"
    return None, ""


def propose_by_content(path: Path, labs: Sequence[Lab], options: ReviewOptions) -> tuple[
        str | None, str]:
    """Read the file's first page and look for a lab's name in it."""
    from intake.load import detect_kind
    from intake.pipeline import PageTask, read_page

    try:
        kind = detect_kind(path)
        result = read_page(PageTask(path=str(path), kind=kind.value, document=path.name,
                                    number=1, campaign="", dpi=150, lang=options.lang,
                                    psm=options.psm, timeout=options.timeout,
                                    max_pixels=options.max_pixels, image_dir=None))
    except (IntakeError, ValueError, OSError):
        return None, ""
    page = result.page
    text = _norm("".join([ln.text for ln in page.lines]
                         + [c.text for c in page.cells if getattr(c, "text", None)]))
    best, score = None, 0.0
    for lab in labs:
        s = fuzz.partial_ratio(_norm(lab.name), text)
        if s > score:
            best, score = lab, s
    if best is not None and score >= 85:
        return best.lab_id, f"首页识别出实验室名称（相似度 {score:.0f}）"
    return None, ""


def stage_batch(files: Sequence[UploadFile], campaign: str, labs: Sequence[Lab],
                settings: Settings, staging: Path, *, actor: str,
                options: ReviewOptions) -> dict[str, Any]:
    """Keep a batch's files in a staging folder and propose a lab for each."""
    if not files:
        raise InputError("no files were sent")
    batch_id = secrets.token_urlsafe(18)
    folder = staging / batch_id
    folder.mkdir(parents=True)
    try:
        taken: set[str] = set()
        paths: list[Path] = []
        for upload in files:
            name = unique_name(safe_name(upload.filename), taken)
            target = folder / f".upload-{len(paths)}"
            _copy_limited(upload, target, name, settings.limits.max_bytes)
            with target.open("rb") as fh:
                is_zip = fh.read(4) == b"PK\x03\x04"
            if is_zip:
                paths += extract_zip(target, folder, zip_name=name,
                                     max_bytes=settings.limits.max_bytes,
                                     max_files=settings.api.max_upload_files, taken=taken)
                target.unlink()
            else:
                final = folder / name
                target.rename(final)
                paths.append(final)
        if len(paths) > settings.api.max_upload_files:
            raise InputError(f"{len(paths)} files in one batch; at most "
                             f"{settings.api.max_upload_files}")
        proposals = []
        read = 0
        for path in paths:
            lab_id, why = propose_by_name(path.name, labs)
            if lab_id is None and read < OCR_PROPOSALS:
                read += 1
                lab_id, why = propose_by_content(path, labs, options)
            proposals.append({"file": path.name, "size": path.stat().st_size,
                              "lab_id": lab_id, "reason": why or "未能识别，请选择"})
        manifest = {"batch_id": batch_id, "campaign": campaign, "actor": actor,
                    "files": proposals}
        (folder / "batch.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return {**manifest, "labs": [{"lab_id": lab.lab_id, "name": lab.name} for lab in labs]}


def load_batch(staging: Path, batch_id: str) -> dict[str, Any]:
    if not BATCH_ID.match(batch_id) or not (staging / batch_id / "batch.json").is_file():
        raise NotFoundError(f"there is no batch {batch_id[:64]!r}; upload the files again")
    data: dict[str, Any] = json.loads((staging / batch_id / "batch.json").read_text("utf-8"))
    data["folder"] = str(staging / batch_id)
    return data


def group_assignments(staged: dict[str, Any], assignments: Sequence[tuple[str, str | None]],
                      ) -> dict[str, list[Path]]:
    known = {f["file"] for f in staged["files"]}
    groups: dict[str, list[Path]] = {}
    for file, lab_id in assignments:
        if file not in known:
            raise InputError(f"the batch has no file {file!r}", subject=staged["batch_id"])
        if lab_id:
            groups.setdefault(lab_id, []).append(Path(staged["folder"]) / file)
    if not groups:
        raise InputError("no file is assigned to a lab", subject=staged["batch_id"])
    return groups


def drop_batch(staging: Path, batch_id: str) -> None:
    if BATCH_ID.match(batch_id):
        shutil.rmtree(staging / batch_id, ignore_errors=True)
