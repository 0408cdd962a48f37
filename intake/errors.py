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


class UnsupportedFileError(InputError):
    code = "unsupported_file"


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


# CLI exit codes: 2 is for input the user can fix, 3 for a broken installation or tool.
EXIT_CODES: dict[type[IntakeError], int] = {
    IntakeError: 1,
    InputError: 2,
    UnsupportedFileError: 2,
    CorruptFileError: 2,
    EncryptedFileError: 2,
    FileTooLargeError: 2,
    RecordError: 2,
    ToolError: 3,
    ToolMissingError: 3,
    ToolTimeoutError: 3,
}


def exit_code(error: IntakeError) -> int:
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return 1
