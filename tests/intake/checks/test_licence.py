"""The business licence copy against the record: its name and credit code, and 营业期限 not run
out on the review date; what a page does not show clearly is left to a reviewer, never failed."""

from intake.checks import licence as rule
from intake.checks import run_checks
from intake.codes import make_credit_code
from intake.dossier import PageResult
from intake.model import Box, Cell, Line, Page, PageKind, Status

from .conftest import approval, certificate, form_copy, letter

OTHER_CODE = make_credit_code("91", "350100", "MA2Y7K3R")  # valid, another body's


def licence_text(record, *, name=None, code=None, term="2003年5月18日至长期"):
    """A licence copy's text as tesseract reads it inside the licence's border."""
    identity = record["identity"]
    return (f"统一社会信用代码 {code or identity['credit_code']}\n营 业 执 照\n(副 本)\n"
            f"名 称 {name or identity['legal_entity']}\n类 型 股份有限公司(非上市、自然人投资或控股)\n"
            f"法定代表人 李建国\n经营范围 检验检测服务;质检技术服务;计量服务\n注册资本 5000万元人民币\n"
            f"成立日期 2003年5月18日\n营业期限 {term}\n住 所 {identity['address']}\n"
            "登记机关 上海市市场监督管理局\n2019年8月9日")


def licence_page(record, copy, text=None, reread=()):
    cell = Cell(0, 0, Box(180, 190, 1300, 1990), licence_text(record) if text is None else text,
                40.0)
    lines = tuple(Line(t, Box(200, 300 + 40 * n, 900, 36), 95.0) for n, t in enumerate(reread))
    return PageResult(Page(f"volume-{copy}.pdf", 6, 1654, 2339, 200,
                           kind=PageKind.CERTIFICATE, kind_confidence=1.0,
                           kind_detail="licence", cells=(cell,), reread=lines), copy=copy)


def _dossier(record_data, page1=None, page2=None):
    results = []
    for copy, licence in ((1, page1), (2, page2)):
        results += form_copy(record_data, copy)
        results += [certificate(record_data, key, copy) for key in ("cma", "cnas")]
        results.append(licence or licence_page(record_data, copy))
    return [*results, approval(1), approval(2), letter(record_data["identity"]["lab_name"])]


def _licence(findings, status=None):
    return [f for f in findings if f.rule == "certificate.licence"
            and (status is None or f.status is status)]


def _statuses(record, record_data, **pages):
    """The licence findings' statuses, volume 1's first, for a dossier with these pages."""
    return [f.status for f in _licence(rule.check(_dossier(record_data, **pages), record))]


def test_a_licence_that_shows_the_record_passes_in_each_volume(record, record_data):
    findings = run_checks(_dossier(record_data), record)
    mine = _licence(findings)
    assert [(f.status, f.location.document) for f in mine] == [
        (Status.PASS, "volume-1.pdf"), (Status.PASS, "volume-2.pdf")]
    assert not [f for f in findings if f.status is not Status.PASS]


def test_another_body_s_valid_credit_code_fails_with_both_codes(record, record_data):
    other = licence_page(record_data, 2, licence_text(record_data, code=OTHER_CODE))
    [bad] = _licence(rule.check(_dossier(record_data, page2=other), record), Status.FAIL)
    assert (bad.location.document, bad.location.page) == ("volume-2.pdf", 6)
    assert (bad.field, bad.expected, bad.found) == (
        "identity.credit_code", "91350100M000100Y43", OTHER_CODE)
    assert OTHER_CODE in bad.message


def test_a_code_misread_by_one_character_is_for_a_reviewer(record, record_data):
    # one character misread: the check character no longer fits, the licence is not wrong
    misread = licence_page(record_data, 1, licence_text(record_data, code="91350100M000108Y43"))
    findings = rule.check(_dossier(record_data, page1=misread), record)
    assert not _licence(findings, Status.FAIL)
    [unsure] = _licence(findings, Status.UNCERTAIN)
    assert unsure.found == "91350100M000108Y43"
    assert "校验码" in unsure.message


def test_another_body_s_name_fails(record, record_data):
    other = licence_page(record_data, 1, licence_text(record_data, name="杭州中测检验检测有限公司"))
    [bad] = _licence(rule.check(_dossier(record_data, page1=other), record), Status.FAIL)
    assert (bad.field, bad.found) == ("identity.legal_entity", "杭州中测检验检测有限公司")
    assert bad.evidence["checks"]["名称"]["similarity"] < 70


def test_a_name_misread_by_a_character_passes(record, record_data):
    misread = licence_page(record_data, 1, licence_text(record_data, name="上海国缆检测股伤有限公司"))
    assert {f.status for f in _licence(rule.check(_dossier(record_data, page1=misread),
                                                  record))} == {Status.PASS}


def test_a_term_that_ran_out_before_the_lab_applied_fails_when_read_twice(record, record_data):
    lapsed = "2000年1月5日至2020年1月4日"
    text = licence_text(record_data, term=lapsed)
    twice = licence_page(record_data, 2, text, reread=[f"营业期限 {lapsed}"])
    [bad] = _licence(rule.check(_dossier(record_data, page2=twice), record), Status.FAIL)
    assert bad.found == "2020-01-04"
    assert "已届满" in bad.message
    assert "2021年3月25日" in bad.message
    # Read once only, a misread digit could make it lapsed: a reviewer looks.
    once = licence_page(record_data, 2, text)
    assert _statuses(record, record_data, page2=once) == [Status.PASS, Status.UNCERTAIN]


def test_a_lapsed_term_read_by_its_digits_once_and_as_printed_once_fails(record, record_data):
    # The page pass read 2019年]月26日 (digits only), the re-read 2019年1月26日 as printed: the
    # same day twice, by two engines. Two different days, one of them by digits, stay unsure.
    garbled = licence_text(record_data, term="1978年5月25日至2019年]月26日")
    alike = licence_page(record_data, 2, garbled, reread=["营业期限 1978年5月25日至2019年1月26日"])
    [bad] = _licence(rule.check(_dossier(record_data, page2=alike), record), Status.FAIL)
    assert bad.found == "2019-01-26"
    unlike = licence_page(record_data, 2, garbled, reread=["营业期限 1978年5月25日至2019年7月26日"])
    assert _statuses(record, record_data, page2=unlike) == [Status.PASS, Status.UNCERTAIN]


def test_a_term_running_past_the_review_passes(record, record_data):
    later = licence_page(record_data, 1, licence_text(record_data, term="2003年5月18日至2033年5月17日"))
    assert {f.status for f in _licence(rule.check(_dossier(record_data, page1=later),
                                                  record))} == {Status.PASS}


def test_an_illegible_licence_is_uncertain_never_failed(record, record_data):
    blurred = licence_page(record_data, 1, "营业执照\n名 称 上海\n统一社会\n营业期")
    [unsure] = _licence(rule.check(_dossier(record_data, page1=blurred), record),
                        Status.UNCERTAIN)
    assert unsure.location.document == "volume-1.pdf"
    assert {c["status"] for c in unsure.evidence["checks"].values()} == {"uncertain"}


def test_the_label_and_value_read_as_two_lines_are_one_field(record, record_data):
    text = licence_text(record_data).replace("营业期限 ", "营业期限\n").replace("名 称 ", "名 称\n")
    assert {f.status for f in _licence(rule.check(
        _dossier(record_data, page1=licence_page(record_data, 1, text)), record))} == {Status.PASS}


def test_a_page_the_page_pass_did_not_settle_is_read_again(record, record_data):
    clean = licence_page(record_data, 1)
    assert rule.settled(clean, record)
    lapsed = licence_page(record_data, 1, licence_text(record_data, term="2000年1月5日至2020年1月4日"))
    assert not rule.settled(lapsed, record)
    # a CMA page is not this rule's to settle
    cma = certificate(record_data, "cma", 1, text="资质认定证书")
    assert rule.settled(cma, record)


def test_a_dossier_without_a_licence_has_no_licence_finding(record, clean_results):
    assert _licence(run_checks(clean_results, record)) == []


def test_the_rereading_settles_what_the_page_pass_misread(record, record_data):
    misread = licence_text(record_data, code="91350100M000108Y43")
    page = licence_page(record_data, 1, misread,
                        reread=[f"统一社会信用代码 {record_data['identity']['credit_code']}"])
    assert {f.status for f in _licence(rule.check(_dossier(record_data, page1=page),
                                                  record))} == {Status.PASS}


def test_another_body_s_name_of_the_same_pattern_fails_when_both_readings_agree(record,
                                                                                  record_data):
    # 广州 for 上海: the rest of the name is the record's (ratio 83), yet a printed line does
    # not garble its first two characters as a seal's ring does; the page pass read the label
    # with a stray mark (名，称)
    other = "广州国缆检测股份有限公司"
    text = licence_text(record_data).replace(f"名 称 {record_data['identity']['legal_entity']}",
                                             f"名，称 {other}")
    twice = licence_page(record_data, 2, text, reread=[f"名称{other}"])
    [bad] = _licence(rule.check(_dossier(record_data, page2=twice), record), Status.FAIL)
    assert (bad.location.document, bad.field, bad.found) == (
        "volume-2.pdf", "identity.legal_entity", other)
    assert "与网上系统不一致" in bad.message
    # read once only, it is for a reviewer
    once = licence_page(record_data, 2, text)
    assert _statuses(record, record_data, page2=once) == [Status.PASS, Status.UNCERTAIN]


def test_the_record_s_name_misread_differently_by_each_reading_never_fails(record, record_data):
    # each engine misread the place differently: the readings do not agree on another body
    text = licence_text(record_data, name="止海国缆检测股份有限公司")
    page = licence_page(record_data, 1, text, reread=["名称上梅国缆检测股份有限公司"])
    assert not _licence(rule.check(_dossier(record_data, page1=page), record), Status.FAIL)
    # and one reading with the record's name passes, whatever the other reads
    page = licence_page(record_data, 1, licence_text(record_data, name="广州国缆检测股份有限公司"),
                        reread=[f"名称{record_data['identity']['legal_entity']}"])
    assert {f.status for f in _licence(rule.check(_dossier(record_data, page1=page),
                                                  record))} == {Status.PASS}
