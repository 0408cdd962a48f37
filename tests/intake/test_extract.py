from intake.extract import (
    approval_opinion,
    classify,
    footer_numbers,
    labelled_values,
    opinion_agrees,
)
from intake.fields import printed_fields
from intake.model import Box, Cell, Line, PageKind


def _line(text, y=100):
    return Line(text, Box(100, y, 400, 30), 90.0)


def _row(row, label, value, table=0, y=0):
    top = 200 + 70 * row + y
    return (Cell(row, 0, Box(100, top, 500, 70), label, 90.0, table),
            Cell(row, 1, Box(600, top, 800, 70), value, 90.0, table))


def test_footer_is_read_from_the_bottom_line_even_when_spaced_or_full_width():
    lines = [_line("第 1 页 共 5 页（正文引用）", 100), _line("第 ３ 页 共 ５ 页", 2200)]
    assert footer_numbers(lines) == (3, 5)
    assert footer_numbers([_line("第 9 页 共 5 页", 2200)]) is None


def test_labels_misread_by_a_character_still_find_their_field():
    cells = (*_row(0, "统一社会信用代码", "91350100M000100Y43"),
             *_row(1, "仪器设备总欻", "356 台（套）"),
             *_row(2, "备注", "无"))
    found = {lv.spec.key: lv.value.text for lv in labelled_values(cells, printed_fields("2021"))}
    assert found == {"identity.credit_code": "91350100M000100Y43",
                     "resources.equipment_total": "356 台（套）"}


def test_quality_report_years_follow_the_campaign():
    cells = _row(0, "2020年度产品质量分析报告", "3 份")
    assert labelled_values(cells, printed_fields("2021"))[0].spec.key == "quality_reports.2020"
    assert labelled_values(cells, printed_fields("2025")) == []


def test_page_kinds():
    form_cells = _row(0, "实验室名称", "x")
    assert classify("一、实验室基本信息", form_cells, (2, 5)) is PageKind.FORM
    assert classify("审批情况", _row(0, "主管单位审批意见", "同意"), None) is PageKind.APPROVAL
    assert classify("关于实验室复核初审确认意见的函 中国电器工业协会", (), None) is PageKind.LETTER
    assert classify("检验检测机构资质认定证书", (), None) is PageKind.CERTIFICATE
    assert classify("", (), None) is PageKind.BLANK


def test_the_opinion_is_split_from_seal_line_and_date():
    cells = _row(0, "主管单位审批意见",
                 "同意该实验室通过初审。\n推荐单位（盖章）\n2021年4月20日")
    opinion = approval_opinion(cells)
    assert opinion is not None
    assert opinion.text == "同意该实验室通过初审。"
    assert opinion.date_text == "2021年4月20日"


def test_refusals_are_not_agreement():
    assert opinion_agrees("同意该实验室通过初审。") is True
    assert opinion_agrees("不同意该实验室通过初审。") is False
    assert opinion_agrees("经审查，该实验室未通过初审") is False
    assert opinion_agrees("材料已收到") is None


def test_a_garbled_label_between_two_known_rows_takes_the_field_between_them():
    cells = (*_row(0, "实验室人员总数", "85 人"), *_row(1, "中高■■■人员粼", "50 人"),
             *_row(2, "中高级职称人员比例", "58.8%"))
    keys = [lv.spec.key for lv in labelled_values(cells, printed_fields("2021"))]
    assert keys == ["resources.staff_total", "resources.staff_senior",
                    "resources.staff_senior_ratio"]
