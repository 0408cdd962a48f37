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
    assert classify("一、实验室基本信息", form_cells, (2, 5)).kind is PageKind.FORM
    assert classify("审批情况", _row(0, "主管单位审批意见", "同意"), (5, 5)).kind is PageKind.APPROVAL
    assert classify("关于实验室复核初审确认意见的函 中国电器工业协会", (), None).kind is PageKind.LETTER
    assert classify("检验检测机构资质认定证书", (), None).kind is PageKind.CERTIFICATE
    assert classify("", (), None).kind is PageKind.BLANK
    assert classify("某某产品检测报告，共计十二项检测结果均为合格，特此说明。", (), None).kind \
        is PageKind.ATTACHMENT


def test_the_approval_page_keeps_its_footer_and_its_confidence():
    page = classify("审批情况\n第 5 页 共 5 页", _row(0, "主管单位审批意见", "同意"), (5, 5))
    assert (page.kind, page.confidence) == (PageKind.APPROVAL, 1.0)


# What a grey photocopy of the association's letter reads like after a heavy scan: the red
# headline is grey and garbled, 函 and 协会 are misread; the body still says 初审确认.
GRAY_LETTER = ("中国纺织工业联FT2中纺联.2021,40生关于工业产品质基控制和技术评价实验室人复核初审确认意见的肯"
               "开业产品质基控制和技术评价实驻守帮家技术委员会秘闻处:根据.2021特工业产质时控制和技术评价"
               "实图室侯核工作方案要求,我会组织对本行业所属的3家实竹宝复核申请材料进行了了初审傅认,"
               "推荐单位初审意见明确,门意通过初审确认特此时鼎亡")


def test_a_grey_letter_is_known_from_its_words():
    page = classify(GRAY_LETTER, (), None)
    assert page.kind is PageKind.LETTER
    assert page.confidence >= 0.8


def test_certificates_say_their_type():
    cma = classify("CMA\n检验检测机构\n资质认定证书\n证书编号：201719123456\n许可使用标志", (), None)
    cnas = classify("中国合格评定国家认可委员会\n认 可 证 书\nCERTIFICATE OF ACCREDITATION\n"
                    "（注册号：CNAS L0234）\n兹证明：", (), None)
    licence = classify("营业执照\n统一社会信用代码 91350100M000100Y43\n法定代表人 王明\n经营范围 检测",
                       (), None)
    assert [(p.kind, p.detail) for p in (cma, cnas, licence)] == [
        (PageKind.CERTIFICATE, "cma"), (PageKind.CERTIFICATE, "cnas"),
        (PageKind.CERTIFICATE, "licence")]


def test_a_form_page_naming_a_certificate_is_still_a_form_page():
    text = "二、实验室资质情况\n三、软硬件设施和人员情况\n第 2 页 共 5 页"
    cells = (*_row(0, "资质认定证书有效期至", "2023年6月30日"),
             *_row(1, "实验室认可（CNAS）证书编号", "CNAS L0234"),
             *_row(2, "实验室认可证书有效期至", "2024年3月31日"))
    page = classify(text, cells, (2, 5))
    assert (page.kind, page.detail) == (PageKind.FORM, "2,3")
    assert page.confidence >= 0.9


def test_the_cover_is_told_from_the_body():
    cover = classify("工业产品质量控制和技术评价实验室复核申报信息表（2021年）\n第1页共5页",
                     (*_row(0, "实验室名称", "x"), *_row(1, "填报日期", "2021年3月13日")), (1, 5))
    assert cover.detail == "cover"


def test_too_little_text_is_not_a_guess():
    page = classify("8 3", (), None)
    assert page.kind in (PageKind.BLANK, PageKind.UNKNOWN)
    assert page.confidence <= 0.5


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


def test_the_opinion_date_is_cut_from_the_seal_line_it_shares():
    opinion = approval_opinion(_row(0, "主管单位审批意见", "同意推荐。\n（盖章）2021年4月20日"))
    assert opinion is not None
    assert (opinion.text, opinion.date_text) == ("同意推荐。", "2021年4月20日")


def test_a_date_in_the_sentence_is_not_taken_for_the_signature_date():
    opinion = approval_opinion(_row(0, "主管单位审批意见",
                                    "经2021年4月18日专家会审查，同意。\n（盖章）\n二〇二一年四月二十日"))
    assert opinion is not None
    assert opinion.date_text == "二〇二一年四月二十日"
    assert opinion.text == "经2021年4月18日专家会审查，同意。"
