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


def test_a_character_of_a_name_read_as_a_digit_is_left_to_a_reviewer():
    # Seen on a gray photocopy: RapidOCR read 量 as 4 and was sure; tesseract read 基.
    record = "国家新型墙体材料产品质量控制和技术评价实验室"
    readings = (Reading("国家新型墙体材料产品质基控制和技术评价实验室", 28, "tesseract"),
                Reading("国家新型墙体材料产品质4控制和技术评价实验室", 99, "rapidocr:cell"))
    assert judge(NAME, record, readings)[0] is Status.UNCERTAIN


def test_a_character_read_as_a_digit_still_fails_beside_a_changed_word():
    # 铁西区 printed as 浑南区 is a misprint whatever else the engine slipped on.
    address = FieldSpec("identity.address", "通讯地址", FieldKind.TEXT, "一")
    record = "辽宁省沈阳市铁西区兴华北街86号"
    readings = (Reading("辽宁省沈阳市浑南区兴华北街86号", 40, "tesseract"),
                Reading("辽宁省沈阳市浑南区兴华北街8G号", 99, "rapidocr:cell"))
    assert judge(address, record, readings)[0] is Status.FAIL


def test_both_engines_reading_the_same_digit_fail():
    record = "国家新型墙体材料产品质量控制和技术评价实验室"
    printed = "国家新型墙体材料产品质4控制和技术评价实验室"
    readings = (Reading(printed, 80, "tesseract"), Reading(printed, 99, "rapidocr:cell"))
    assert judge(NAME, record, readings)[0] is Status.FAIL
