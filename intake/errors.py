"""The one error tree: stable codes and messages that say what is wrong and what to do.

Exit codes (CLI) and HTTP statuses are mapped from these classes in exactly one place each:
``EXIT_CODES`` here for the CLI, ``api`` for HTTP.
"""

from __future__ import annotations


class IntakeError(Exception):
    """Base of every error this product raises on purpose."""

    code = "intake_error"

    def __init__(self, message: str, *, subject: str | None = None) -> None:
        self.subject = subject  # the file, record or setting concerned
        self.message = message
        super().__init__(f"{subject}: {message}" if subject else message)


class InputError(IntakeError):
    """The user's input cannot be used as it is; fixing the input fixes it."""

    code = "bad_input"


class NotFoundError(InputError):
    """What was asked for does not exist, or is not the asker's to see (both look the same)."""

    code = "not_found"


class AuthenticationError(InputError):
    """No valid log-in: a wrong name or password, or a session that ended."""

    code = "not_authenticated"


class PermissionDeniedError(InputError):
    """Logged in, but this role may not do this."""

    code = "forbidden"


class RateLimitedError(InputError):
    """Too many attempts; wait and try again."""

    code = "rate_limited"


class UnsupportedFileError(InputError):
    code = "unsupported_file"


class ActiveContentError(UnsupportedFileError):
    """A PDF carrying JavaScript or embedded files: no scan or printed form needs them."""

    code = "active_content"


class NotPrintoutError(UnsupportedFileError):
    """A file sent as the online system's printout that is not the system's own PDF (a scan
    of the printout, an image)."""

    code = "not_online_printout"


class UnsafeArchiveError(InputError):
    """A zip whose members would escape their folder, or are links."""

    code = "unsafe_archive"


class CorruptFileError(InputError):
    code = "corrupt_file"


class EncryptedFileError(InputError):
    code = "encrypted_file"


class FileTooLargeError(InputError):
    code = "file_too_large"


class RecordError(InputError):
    """The online record is missing, malformed or fails the record schema."""

    code = "bad_record"


class ToolError(IntakeError):
    """An external tool is missing, too old, or failed."""

    code = "tool_failed"


class ToolMissingError(ToolError):
    code = "tool_missing"


class ToolTimeoutError(ToolError):
    code = "tool_timeout"


class DatabaseError(IntakeError):
    """The database cannot be reached, is not at this version's schema, or refused a write."""

    code = "database_error"


class StorageError(IntakeError):
    """The object store (local files or S3) failed; ``subject`` names the object or the store."""

    code = "storage_error"


class ObjectNotFoundError(StorageError):
    code = "object_not_found"


class StorageAuthError(StorageError):
    """The store refused us: access denied, unknown access key, wrong secret, bad signature."""

    code = "storage_auth"


class StorageUnavailableError(StorageError):
    """The store cannot be reached or does not answer in time (refused, timed out, 5xx, disk)."""

    code = "storage_unavailable"


class StorageIntegrityError(StorageError):
    """Stored bytes do not match their hash, or an original's key holds other bytes."""

    code = "storage_integrity"


class StorageUnsupportedError(StorageError):
    """The configured backend cannot do this (e.g. expiring links need the S3 backend)."""

    code = "storage_unsupported"


class ObjectKeyError(StorageError, InputError):
    """An object key or name that could escape the store or that S3 cannot hold."""

    code = "bad_object_key"


# CLI exit codes: 2 is for input the user can fix, 3 for a broken installation or tool.
EXIT_CODES: dict[type[IntakeError], int] = {
    IntakeError: 1,
    InputError: 2,
    NotFoundError: 2,
    AuthenticationError: 2,
    PermissionDeniedError: 2,
    RateLimitedError: 2,
    UnsupportedFileError: 2,
    ActiveContentError: 2,
    NotPrintoutError: 2,
    UnsafeArchiveError: 2,
    CorruptFileError: 2,
    EncryptedFileError: 2,
    FileTooLargeError: 2,
    RecordError: 2,
    ToolError: 3,
    ToolMissingError: 3,
    ToolTimeoutError: 3,
    # The object store is a service like a tool: fixing its set-up or its data fixes these.
    StorageError: 3,
    ObjectNotFoundError: 3,
    StorageAuthError: 3,
    StorageUnavailableError: 3,
    StorageIntegrityError: 3,
    StorageUnsupportedError: 3,
    ObjectKeyError: 2,
    DatabaseError: 3,
}


def exit_code(error: IntakeError) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
