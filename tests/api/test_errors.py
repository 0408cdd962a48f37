import inspect

from api.errors import HTTP_STATUS, MESSAGE_ZH, error_body, http_status
from intake import errors


def _error_classes():
    return [c for _, c in inspect.getmembers(errors, inspect.isclass)
            if issubclass(c, errors.IntakeError)]


def test_every_error_class_has_an_http_status_and_a_chinese_message():
    for cls in _error_classes():
        assert cls in HTTP_STATUS, cls
        assert cls.code in MESSAGE_ZH, cls


def test_input_errors_are_4xx_and_service_errors_5xx():
    for cls in _error_classes():
        status = http_status(cls("x"))
        if issubclass(cls, errors.InputError):
            assert 400 <= status < 500, cls
        elif cls is errors.ObjectNotFoundError:  # a page image not kept: the asked-for is absent
            assert status == 404
        elif cls is not errors.IntakeError:
            assert status >= 500, cls


def test_the_answer_names_the_file_in_both_languages():
    body = error_body(errors.EncryptedFileError("the PDF is protected", subject="第一册.pdf"))
    assert body["error"]["subject"] == "第一册.pdf"
    assert "第一册.pdf" in body["error"]["message"]
    assert "加密" in body["error"]["message_zh"]
