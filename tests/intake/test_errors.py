import inspect

from intake import errors


def _error_classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, errors.IntakeError)]


def test_every_error_class_has_its_own_exit_code_and_a_stable_code():
    codes = set()
    for cls in _error_classes():
        assert cls in errors.EXIT_CODES, cls
        assert cls.code not in codes or cls is errors.IntakeError, cls
        codes.add(cls.code)


def test_input_errors_exit_2_and_tool_errors_exit_3():
    assert errors.exit_code(errors.EncryptedFileError("x", subject="a.pdf")) == 2
    assert errors.exit_code(errors.RecordError("x")) == 2
    assert errors.exit_code(errors.ToolTimeoutError("x")) == 3


def test_the_message_names_the_subject():
    err = errors.CorruptFileError("the PDF is truncated", subject="volume-1.pdf")
    assert str(err) == "volume-1.pdf: the PDF is truncated"
