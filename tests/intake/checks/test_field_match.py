"""How one printed field is judged from the engines' readings (``field_match.judge``)."""

from intake.checks.field_match import judge
from intake.fields import FieldKind, FieldSpec
from intake.model import Reading, Status

NAME = FieldSpec("identity.lab_name", "实验室名称", FieldKind.NAME, "一")
RECORD = "国家建筑卫生陶瓷产品质量检验检测中心"


def test_a_sure_reading_that_lost_a_character_the_other_engine_saw_does_not_fail():
    # Seen on a gray photocopy: tesseract misread one character, RapidOCR dropped 量 and was
    # sure of it. The paper is not shown to differ; a reviewer looks.
    readings = (Reading("国家建筑卫生陶瓷产品质量检验枪测中心", 71, "tesseract"),
                Reading("国家建筑卫生陶瓷产品质检验检测中心", 100, "rapidocr:cell"))
    assert judge(NAME, RECORD, readings) == (Status.UNCERTAIN, readings[-1].text)


def test_a_sure_reading_of_another_length_fails_when_the_other_engine_sees_that_length_too():
    # The name printed without 量: both engines read one character fewer than the record.
    printed = "国家建筑卫生陶瓷产品质检验检测中心"
    readings = (Reading("国家建筑卫生陶瓷产品质检验枪测中心", 71, "tesseract"),
                Reading(printed, 100, "rapidocr:cell"))
    assert judge(NAME, RECORD, readings) == (Status.FAIL, printed)


def test_a_sure_reading_of_the_record_length_still_fails_alone():
    # One character changed on paper; tesseract garbled the value's length.
    printed = "国家建筑卫生陶瓷产品质量检验检定中心"
    readings = (Reading("国家建筑卫生陶瓷产品质量检验中心", 40, "tesseract"),
                Reading(printed, 99, "rapidocr:cell"))
    assert judge(NAME, RECORD, readings) == (Status.FAIL, printed)
