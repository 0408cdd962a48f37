"""The paper against the online system's printout: pages added, missing or altered."""

from dataclasses import replace

from intake.checks import all_rules, run_checks
from intake.checks.printout import changes
from intake.dossier import PageResult
from intake.model import Box, Line, Page, PageKind, Status

DESCRIPTION = ("2018—2020年，省经济和信息化厅将实验室建设列入工业转型升级专项，用于检测能力建设"
               "和仪器设备更新。实验室被认定为省级公共技术服务平台，享受相关税收优惠政策。")
PAGES = {
    1: "工业产品质量控制和技术评价实验室复核申报信息表实验室名称国家电线电缆产品质量控制和技术评价实验室",
    2: "一、基本情况归属法人单位上海国缆检测股份有限公司统一社会信用代码91350100M000100Y43",
    3: "三、支持情况" + DESCRIPTION,
    4: "四、承诺本单位承诺所填报内容真实、准确、有效。归属法人单位（盖章）2021年3月25日",
}


def _page(document: str, number: int, form_page: int, text: str) -> PageResult:
    line = Line(text, Box(100, 100, 1400, 60), 90.0)
    return PageResult(Page(document, number, 1654, 2339, 200, kind=PageKind.FORM,
                           footer=(form_page, 5), lines=(line,)))


def _printout(skip: int | None = None) -> list[PageResult]:
    return [_page("online.pdf", n, n, t) for n, t in PAGES.items() if n != skip]


def _paper(copy: int, texts: dict[int, str] | None = None, skip: int | None = None
           ) -> list[PageResult]:
    texts = {**PAGES, **(texts or {})}
    pages = [_page(f"volume-{copy}.pdf", i, n, t)
             for i, (n, t) in enumerate(((n, t) for n, t in texts.items() if n != skip), 1)]
    return [replace(r, copy=copy) for r in pages]


def _rule(findings):
    return [f for f in findings if f.rule == "printout.same"]


def test_the_rule_is_listed():
    assert "printout.same" in all_rules()


def test_ocr_slips_are_not_an_alteration():
    # What a scan reads: a character misread here and there, one dropped, one doubled.
    read = DESCRIPTION.replace("经济", "经齐").replace("能力", "能カ").replace("享受", "享") \
        .replace("平台", "平平台")
    assert changes(DESCRIPTION, read) == []


def test_a_replaced_phrase_is_an_alteration():
    altered = DESCRIPTION.replace("被认定为省级公共技术服务平台", "承诺复核期间暂停对外出具检验报告")
    found = changes(DESCRIPTION, altered)
    assert len(found) == 1
    assert "省级公共技术服务" in found[0].printout
    assert "暂停对外出具" in found[0].paper


def test_a_paper_like_the_printout_passes(record):
    findings = _rule(run_checks([*_paper(1), *_paper(2)], record, _printout()))
    assert [f.status for f in findings] == [Status.PASS]


def test_an_altered_page_is_named_with_its_lines(record):
    altered = {3: PAGES[3].replace("被认定为省级公共技术服务平台", "承诺复核期间暂停对外出具检验报告")}
    findings = _rule(run_checks([*_paper(1, altered), *_paper(2, altered)], record, _printout()))
    assert {(f.status, f.evidence["copy"], f.evidence["page"], f.evidence["change"])
            for f in findings} == {(Status.FAIL, 1, 3, "altered"), (Status.FAIL, 2, 3, "altered")}
    assert all("暂停对外出具" in f.message and f.evidence["lines"] for f in findings)
    assert (findings[0].location.document, findings[0].location.page) == ("volume-1.pdf", 3)


def test_a_page_missing_from_paper_and_a_page_added_to_it_are_named(record):
    findings = _rule(run_checks([*_paper(1, skip=2), *_paper(2)], record, _printout(skip=4)))
    named = {(f.evidence["copy"], f.evidence["page"], f.evidence["change"]) for f in findings}
    assert named == {(1, 2, "missing"), (1, 4, "added"), (2, 4, "added")}
    assert all(f.status is Status.FAIL for f in findings)
    added = next(f for f in findings if f.evidence["change"] == "added")
    assert "网上系统打印件中没有" in added.message


def test_an_unnumbered_page_is_matched_by_its_text(record):
    paper = _paper(1)
    paper[2] = replace(paper[2], page=replace(paper[2].page, footer=None))
    findings = _rule(run_checks([*paper, *_paper(2)], record, _printout()))
    assert [f.status for f in findings] == [Status.PASS]


def test_without_a_printout_there_is_no_comparison(record):
    assert _rule(run_checks([*_paper(1), *_paper(2)], record)) == []


def test_a_change_only_one_copy_shows_is_left_to_a_reviewer(record):
    # A stretch of a worn scan read as other characters, in copy 1 only.
    misread = {3: PAGES[3].replace("被认定为省级公共技术服务平台", "信人太不下人天和下生生不下人")}
    findings = _rule(run_checks([*_paper(1, misread), *_paper(2)], record, _printout()))
    assert [(f.status, f.evidence["copy"]) for f in findings] == [(Status.UNCERTAIN, 1)]
    assert "人工核对" in findings[0].message


def test_a_misread_field_the_precise_engine_read_right_is_no_change(record):
    from intake.model import Field, Location, Reading

    name = "国家电线电缆产品质量控制和技术评价实验室"
    misread = {1: PAGES[1].replace(name, "信人太不下人天和下生生不下人")}
    paper = [*_paper(1, misread), *_paper(2, misread)]
    assert _rule(run_checks(paper, record, _printout()))[0].status is Status.FAIL
    field = Field("identity.lab_name", "实验室名称", "信人太不下人天和下生生不下人",
                  Location("volume-1.pdf", 1), 1,
                  (Reading("信人太不下人天和下生生不下人", 40.0, "tesseract"),
                   Reading(name, 98.0, "rapidocr:cell")))
    paper = [replace(r, fields=(replace(field, location=Location(r.page.document, 1)),))
             if r.page.number == 1 else r for r in paper]
    assert [f.status for f in _rule(run_checks(paper, record, _printout()))] == [Status.PASS]
