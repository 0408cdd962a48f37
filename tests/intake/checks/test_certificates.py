"""Certificate copies against the record: number, holder, validity, a copy for each certificate,
and the certificate in force (ground 2); misreadings are left to a reviewer, never failed."""

from dataclasses import replace
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.checks import certificates as rule
from intake.checks import run_checks
from intake.checks.campaign import Campaign
from intake.model import Box, Line, PageKind, Status, Verdict
from intake.verdict import summarise

from .conftest import approval, certificate, certificate_text, form_copy, letter


def _dossier(record_data, cma1=None, cnas1=None, cma2=None, cnas2=None, skip=()):
    """Both volumes, each with its CMA and CNAS copy (text as given, else as the record)."""
    texts = {(1, "cma"): cma1, (1, "cnas"): cnas1, (2, "cma"): cma2, (2, "cnas"): cnas2}
    results = []
    for copy in (1, 2):
        results += form_copy(record_data, copy)
        results += [certificate(record_data, key, copy, text=texts[copy, key])
                    for key in ("cma", "cnas") if (copy, key) not in skip]
    return [*results, approval(1), approval(2), letter(record_data["identity"]["lab_name"])]


def _copies(findings, status=None):
    return [f for f in findings if f.rule == "certificate.copy"
            and (status is None or f.status is status)]


def test_copies_that_show_the_record_pass(record, record_data):
    findings = rule.check(_dossier(record_data), record)
    assert [(f.rule, f.status) for f in findings] == [
        ("certificate.copy", Status.PASS), ("certificate.in_force", Status.PASS)] * 4
    assert {f.location.document for f in findings} == {"volume-1.pdf", "volume-2.pdf"}


def test_a_copy_of_another_certificate_fails_on_its_page_with_both_numbers(record, record_data):
    other = certificate_text(record_data, "cnas", number="CNAS L8817")
    findings = rule.check(_dossier(record_data, cnas2=other), record)
    [bad] = _copies(findings, Status.FAIL)
    assert (bad.location.document, bad.location.page) == ("volume-2.pdf", 5)
    assert (bad.field, bad.expected, bad.found) == (
        "qualifications.cnas.number", "CNAS L0234", "CNAS L8817")
    assert "CNAS L8817" in bad.message
    assert bad.location.box is not None


def test_a_number_misread_by_a_digit_is_for_a_reviewer_not_a_failure(record, record_data):
    # CNAS L0234 printed once, one digit misread
    misread = certificate_text(record_data, "cnas", number="CNAS L0284")
    findings = rule.check(_dossier(record_data, cnas1=misread), record)
    assert not _copies(findings, Status.FAIL)
    [unsure] = _copies(findings, Status.UNCERTAIN)
    assert unsure.found == "CNAS L0284"
    assert unsure.evidence["checks"]["证书编号"]["status"] == "uncertain"


def test_a_cnas_l_read_as_lo_before_the_digits_is_the_record_s_number(record, record_data):
    # No five-digit CNAS number opens with 0: the O is the engine's.
    text = certificate_text(record_data, "cnas", number="CNAS LO0234")
    assert {f.status for f in rule.check(_dossier(record_data, cnas2=text), record)} == {
        Status.PASS}


def test_both_prints_of_a_cma_number_reading_another_number_fail(record, record_data):
    # The number under 证书编号 and under the CMA mark, two sizes and faces, read alike.
    other = certificate_text(record_data, "cma", number="201719128456")
    [bad] = _copies(rule.check(_dossier(record_data, cma2=other), record), Status.FAIL)
    assert (bad.location.document, bad.found) == ("volume-2.pdf", "201719128456")


def test_a_number_not_read_at_all_is_uncertain(record, record_data):
    text = certificate_text(record_data, "cnas").replace("(注册号: CNAS L0234)", "(注册号: 吕阳")
    [unsure] = _copies(rule.check(_dossier(record_data, cnas1=text), record), Status.UNCERTAIN)
    assert "证书编号未能识别" in unsure.message


def test_a_certificate_of_another_body_fails_and_a_misread_character_does_not(
        record, record_data):
    other = certificate_text(record_data, "cma", holder="江苏苏电检测技术股份有限公司")
    misread = certificate_text(record_data, "cma", holder="上海国缆捡测股份有限公司")
    findings = rule.check(_dossier(record_data, cma1=other, cma2=misread), record)
    [bad] = _copies(findings, Status.FAIL)
    assert (bad.location.document, bad.found) == ("volume-1.pdf", "江苏苏电检测技术股份有限公司")
    assert bad.expected == record_data["identity"]["legal_entity"]
    assert [f.status for f in _copies(findings) if f.location.document == "volume-2.pdf"] == [
        Status.PASS, Status.PASS]


def test_an_older_certificate_lapsed_before_the_application_fails_ground_2(record, record_data):
    old = certificate_text(record_data, "cma", valid_until="2020-01-14")
    findings = run_checks(_dossier(record_data, cma1=old, cma2=old), record)
    bad = {(f.rule, f.location.document) for f in findings if f.status is Status.FAIL}
    assert bad == {("certificate.copy", "volume-1.pdf"), ("certificate.copy", "volume-2.pdf"),
                   ("certificate.in_force", "volume-1.pdf"),
                   ("certificate.in_force", "volume-2.pdf")}
    copy = next(f for f in findings if f.rule == "certificate.copy" and f.status is Status.FAIL)
    assert (copy.expected, copy.found) == ("2023年6月30日", "2020年1月14日")
    summary = summarise(findings)
    assert summary.verdict is Verdict.FAIL
    assert [g.number for g in summary.grounds] == [2]


def test_a_later_date_than_the_record_asks_a_reviewer(record, record_data):
    renewed = certificate_text(record_data, "cnas", valid_until="2030-03-31")
    findings = rule.check(_dossier(record_data, cnas1=renewed, cnas2=renewed), record)
    assert {f.status for f in _copies(findings) if f.evidence["certificate"] == "cnas"} == {
        Status.UNCERTAIN}


def test_a_date_read_with_a_bracket_for_a_one_is_the_record_s(record, record_data):
    record.data["qualifications"]["cnas"]["valid_until"] = "2024-01-15"
    record_data["qualifications"]["cnas"]["valid_until"] = "2024-01-15"
    text = certificate_text(record_data, "cnas").replace("2024年1月15日", "2024年]月15日")
    findings = rule.check(_dossier(record_data, cnas1=text), record)
    assert {f.status for f in findings} == {Status.PASS}


def test_an_unreadable_date_is_confirmed_by_the_other_volume_or_left_to_a_reviewer(
        record, record_data):
    smudged = (certificate_text(record_data, "cma")
               .replace("有效期至: 2023年6月30日", "有效期至:人二仙]]日")
               .replace("发证日期: 2017年7月1日", "发证日期: 20吕7仙"))
    one = rule.check(_dossier(record_data, cma2=smudged), record)
    assert {f.status for f in one} == {Status.PASS}
    confirmed = next(f for f in _copies(one) if f.location.document == "volume-2.pdf"
                     and f.evidence["certificate"] == "cma")
    assert confirmed.evidence["checks"]["有效期至"]["confirmed_by"] == ["volume-1.pdf", 4]
    both = rule.check(_dossier(record_data, cma1=smudged, cma2=smudged), record)
    assert [f.status for f in _copies(both) if f.evidence["certificate"] == "cma"] == [
        Status.UNCERTAIN, Status.UNCERTAIN]


def test_an_unreadable_date_is_implied_by_the_issue_date_of_a_six_year_certificate(
        record, record_data):
    smudged = certificate_text(record_data, "cma").replace("有效期至: 2023年6月30日", "有效期至:人二仙]]日")
    findings = rule.check(_dossier(record_data, cma1=smudged, cma2=smudged), record)
    assert {f.status for f in findings} == {Status.PASS}
    first = _copies(findings)[0]
    assert first.evidence["checks"]["有效期至"]["by_issue_date"] == "2017-07-01"
    assert "由发证日期2017年7月1日按证书有效期6年推算" in first.message
    # An issue date that makes another validity says nothing of the record's.
    renewed = smudged.replace("发证日期: 2017年7月1日", "发证日期: 2018年7月1日")
    assert {f.status for f in _copies(rule.check(_dossier(record_data, cma1=renewed,
                                                          cma2=renewed), record))
            if f.evidence["certificate"] == "cma"} == {Status.UNCERTAIN}


def test_a_date_read_loosely_on_one_volume_fails_where_the_other_reads_it_surely(
        record, record_data):
    old = certificate_text(record_data, "cnas", valid_until="2019-12-23")
    loose = old.replace("2019年12月23日", "2019御12月2311")  # only its digits are legible
    findings = rule.check(_dossier(record_data, cnas1=loose, cnas2=old), record)
    bad = [f for f in _copies(findings, Status.FAIL) if f.evidence["certificate"] == "cnas"]
    assert [(f.location.document, f.found) for f in bad] == [
        ("volume-1.pdf", "2019年12月23日"), ("volume-2.pdf", "2019年12月23日")]
    assert bad[0].evidence["checks"]["有效期至"]["confirmed_by"] == ["volume-2.pdf", 5]
    alone = rule.check(_dossier(record_data, cnas1=loose), record)
    assert not _copies(alone, Status.FAIL)


def _reread(result, pieces):
    """The verifier's own reading of a certificate page: (text, x, y) pieces in page pixels."""
    lines = tuple(Line(text, Box(x, y, 180, 40), 95.0) for text, x, y in pieces)
    return replace(result, page=replace(result.page, reread=lines))


def _smudged_cma(record_data):
    """The CMA copy with its validity and issue dates under the issuing body's seal."""
    return (certificate_text(record_data, "cma")
            .replace("有效期至: 2023年6月30日", "有效期至:人二仙]]日")
            .replace("发证日期: 2017年7月1日", "发证日期: 20吕7仙"))


def test_a_date_under_the_seal_is_read_in_the_verifier_s_reading(record, record_data):
    results = _dossier(record_data, cma1=_smudged_cma(record_data),
                       cma2=_smudged_cma(record_data))
    # The label and the date found as two pieces of one printed line, the seal taken out.
    pieces = [("有效期至：", 1000, 1600), ("2023年6月30日", 1190, 1604)]
    results = [_reread(r, pieces) if r.page.kind_detail == "cma" else r for r in results]
    findings = [f for f in _copies(rule.check(results, record))
                if f.evidence["certificate"] == "cma"]
    assert [f.status for f in findings] == [Status.PASS, Status.PASS]
    date_read = findings[0].evidence["checks"]["有效期至"]
    assert (date_read["found"], date_read["box"]) == ("2023年6月30日", [1000, 1600, 370, 44])


def test_an_earlier_date_under_the_seal_fails_when_the_verifier_reads_it(record, record_data):
    results = _dossier(record_data, cma1=_smudged_cma(record_data),
                       cma2=_smudged_cma(record_data))
    pieces = [("有效期至：2019年12月23日", 1000, 1600)]
    results = [_reread(r, pieces) if r.page.kind_detail == "cma" else r for r in results]
    findings = run_checks(results, record)
    bad = [f for f in findings if f.status is Status.FAIL and f.rule.startswith("certificate.")]
    assert {(f.rule, f.location.document, f.found) for f in bad} == {
        ("certificate.copy", "volume-1.pdf", "2019年12月23日"),
        ("certificate.copy", "volume-2.pdf", "2019年12月23日"),
        ("certificate.in_force", "volume-1.pdf", "2019-12-23"),
        ("certificate.in_force", "volume-2.pdf", "2019-12-23")}


def test_a_year_no_certificate_shows_is_a_misread_and_the_verifier_s_reading_decides(
        record, record_data):
    old = certificate_text(record_data, "cnas", valid_until="2019-12-23")
    misread = old.replace("有效期至: 2019年12月23日", "有效期特5019年12月23昌")  # 2 read as 5
    results = _dossier(record_data, cnas1=misread, cnas2=old)
    pieces = [("有效期至：2019年12月23日", 1000, 1600)]
    results = [_reread(r, pieces) if r.page.kind_detail == "cnas" and r.copy == 1 else r
               for r in results]
    bad = [f for f in _copies(rule.check(results, record), Status.FAIL)
           if f.evidence["certificate"] == "cnas"]
    assert [(f.location.document, f.found) for f in bad] == [
        ("volume-1.pdf", "2019年12月23日"), ("volume-2.pdf", "2019年12月23日")]
    assert bad[0].evidence["checks"]["有效期至"]["confirmed_by"] is None  # read on its own page


def test_a_clean_copy_whose_year_is_misread_does_not_fail(record, record_data):
    clean = certificate_text(record_data, "cnas")
    misread = clean.replace("有效期至: 2024年3月31日", "有效期至: 5024年3月31日")
    findings = rule.check(_dossier(record_data, cnas1=misread, cnas2=misread), record)
    assert not [f for f in findings if f.status is Status.FAIL]
    no_issue_date = misread.replace("签发日期: 2018年4月1日\n", "")
    findings = rule.check(_dossier(record_data, cnas1=no_issue_date), record)
    assert {f.status for f in findings} == {Status.PASS}  # the other volume's copy shows it
    assert "5024" not in "".join(f.message for f in findings)


def test_a_number_the_page_pass_garbled_is_read_in_the_verifier_s_reading(record, record_data):
    garbled = certificate_text(record_data, "cnas").replace("(注册号: CNAS L0234)", "(注册号: 吕阳")
    results = _dossier(record_data, cnas1=garbled, cnas2=garbled)
    assert {f.status for f in _copies(rule.check(results, record))} == {
        Status.PASS, Status.UNCERTAIN}
    pieces = [("（注册号：CNAS L0234）", 600, 700)]
    results = [_reread(r, pieces) if r.page.kind_detail == "cnas" else r for r in results]
    assert {f.status for f in _copies(rule.check(results, record))} == {Status.PASS}


def test_another_body_read_apart_by_both_engines_fails_a_garbled_holder_does_not(
        record, record_data):
    # The page pass and the verifier garble the other body's name each its own way: the two
    # readings do not agree, but each is far from the holder's name.
    other = certificate_text(record_data, "cma", holder="机械荆业第七钱完所")
    results = _dossier(record_data, cma1=other)
    results = [_reread(r, [("名称：机械工业第七研究所", 300, 900)])
               if r.page.kind_detail == "cma" and r.copy == 1 else r for r in results]
    [bad] = _copies(rule.check(results, record), Status.FAIL)
    assert (bad.location.document, bad.field) == ("volume-1.pdf", "identity.legal_entity")
    # A page pass's reading mixed with Latin letters and digits names nobody: the verifier's
    # reading of printed characters is judged.
    garbled = certificate_text(record_data, "cma", holder="陕西省橡胶制LU1D质其监督检验研究了")
    results = _dossier(record_data, cma1=garbled)
    results = [_reread(r, [("名称：陕西省橡胶制品产品质量监督检验研究院", 300, 900)])
               if r.page.kind_detail == "cma" and r.copy == 1 else r for r in results]
    [bad] = _copies(rule.check(results, record), Status.FAIL)
    assert bad.found == "陕西省橡胶制品产品质量监督检验研究院"
    # The holder's own name misread by both, one of them near it: for a reviewer at most.
    misread = certificate_text(record_data, "cma", holder="上海国缆检测股份有限公可")
    results = _dossier(record_data, cma1=misread, cma2=misread)
    results = [_reread(r, [("名称：上海国览捡测股份有限公司", 300, 900)])
               if r.page.kind_detail == "cma" else r for r in results]
    assert not _copies(rule.check(results, record), Status.FAIL)


def test_a_page_the_page_pass_shows_whole_is_settled_and_others_are_not(record, record_data):
    clean = certificate(record_data, "cma", 1)
    assert rule.settled(clean, record)
    assert not rule.settled(certificate(record_data, "cma", 1, text=_smudged_cma(record_data)),
                            record)
    other = certificate_text(record_data, "cnas", number="CNAS L8817")
    assert not rule.settled(certificate(record_data, "cnas", 1, text=other), record)
    # A licence is not judged against the record: nothing to read again.
    licence = replace(clean, page=replace(clean.page, kind_detail="licence"))
    assert rule.settled(licence, record)
    assert clean.page.kind is PageKind.CERTIFICATE


def test_a_certificate_missing_from_a_volume_is_named(record, record_data):
    findings = rule.check(_dossier(record_data, skip=((2, "cnas"),)), record)
    [bad] = _copies(findings, Status.FAIL)
    assert bad.evidence == {"copy": 2, "certificate": "cnas"}
    assert "第2份未附实验室认可（CNAS）证书复印件" in bad.message
    assert bad.expected == "CNAS L0234"


def test_a_dossier_with_no_certificate_recognised_asks_a_reviewer(record, record_data):
    results = [*form_copy(record_data, 1), *form_copy(record_data, 2)]
    findings = rule.check(results, record)
    assert [(f.status, f.evidence["certificate"]) for f in findings] == [
        (Status.UNCERTAIN, "cma"), (Status.UNCERTAIN, "cnas")]


def test_on_the_campaign_s_review_date_a_certificate_lapsed_since_fails(
        record, record_data, monkeypatch):
    review = Campaign("2021", "", None, date(2023, 9, 1), (), {})
    monkeypatch.setattr(rule, "campaign_config", lambda campaign: review)
    findings = rule.check(_dossier(record_data), record)
    lapsed = [f for f in findings if f.rule == "certificate.in_force" and f.status is Status.FAIL]
    # The CMA runs to 2023-06-30: valid when the lab applied, lapsed by the review.
    assert {(f.field, f.found) for f in lapsed} == {("qualifications.cma.valid_until",
                                                     "2023-06-30")}
    assert "评审日期2023年9月1日" in lapsed[0].message


def test_the_pages_a_volume_binds_are_its_copy_whatever_the_reader_numbered(
        record, record_data):
    # The reader numbers only form and approval pages by copy: a certificate page of the
    # second volume may come with copy 1.
    results = [replace(r, copy=1) if r.page.kind_detail else r for r in _dossier(record_data)]
    assert {f.status for f in rule.check(results, record)} == {Status.PASS}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fixtures only read
@given(st.text(max_size=300), st.sampled_from(["cma", "cnas", "licence", ""]))
def test_any_text_on_a_certificate_page_gives_findings_never_an_error(record, record_data,
                                                                      text, kind):
    page = certificate(record_data, "cma", 1, text=text)
    page = replace(page, page=replace(page.page, kind_detail=kind))
    for f in rule.check([*form_copy(record_data, 1), page], record):
        assert isinstance(f.status, Status)
        assert f.rule in rule.RULES
