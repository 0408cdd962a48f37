"""Whose seal is it: a ring read with a misread character is still the owner's; a ring that
names another body (another place, another brand, 研究所 for 研究院) is not. The readings are
RapidOCR's, from generated dossiers' seals read with confidence ≥ 0.9."""

from dataclasses import replace

import pytest

from intake.checks import run_checks
from intake.checks.seals_present import FIT_RIGHT, FIT_WRONG, names_other_body
from intake.model import PageKind, Status
from tests.intake.checks.conftest import approval, form_copy, letter, seal

MISREAD = [
    ("辽宁省泵产品质量监督检验研究院", "且宁省泉产品质最监督检验研究院"),  # three single slips
    ("宁波恒信检测技术股份有限公司", "宁波组信检测技术股份有限公司"),
    ("杭州中测检测技术股份有限公司", "杭州中測检澳技术股份有限公司"),
    ("辽宁省集成电路产品质量监督检验研究院", "上宁省集成电路产品质量监督检验研究"),  # ring ends
    ("浙江省软件产品产品质量监督检验研究院", "工省软件产品产品质量监督检验研究院"),
    ("天津市新能源汽车动力系统产品质量监督检验研究院", "(津市新能源汽车动力系统产品质量监督检验研究"),
    ("江苏省工业和信息化厅", "江苏省工业和信息化厅业务专用章"),
]
OTHER = [
    ("宁波恒信检测技术股份有限公司", "北京中测检测技术股份有限公司"),  # same trade, other firm
    ("江苏省涂料产品质量监督检验研究院", "江苏省涂料产品质量监督检验研究所"),  # 院 ≠ 所
    ("浙江省经济和信息化厅", "江苏省工业和信息化厅"),
    ("宁波服装研究所有限公司", "上海恒信检验检測有限公司"),
]


@pytest.mark.parametrize(("owner", "read"), MISREAD)
def test_a_misread_ring_is_still_the_owners_seal(owner, read):
    assert not names_other_body(owner, read)


@pytest.mark.parametrize(("owner", "read"), OTHER)
def test_a_ring_naming_another_body_is_another_organisations_seal(owner, read):
    assert names_other_body(owner, read)


def test_a_cover_stamped_by_a_sister_firm_fails_and_says_whose_seal_it_is(record, record_data):
    entity = record_data["identity"]["legal_entity"]
    other = entity[:-1] + ("所" if entity.endswith("院") else "院")
    results = form_copy(record_data, 1) + form_copy(record_data, 2)
    cover = results[0]
    results[0] = replace(cover, page=replace(cover.page, seals=(
        seal(text=other, text_score=0.97),)))
    results += [approval(1), approval(2), letter(record_data["identity"]["lab_name"])]
    bad = [f for f in run_checks(results, record) if f.status is Status.FAIL]
    assert [(f.rule, f.found, f.location.page) for f in bad] == [
        ("seal.legal_entity", other, 1)]


def _approval_stamped(record_data, read, fit):
    """Both copies' approval pages stamped with a ring read ``read`` unsurely (0.8), which the
    recommending unit's name fits by ``fit``."""
    unit = record_data["identity"]["recommending_unit"]
    results = form_copy(record_data, 1) + form_copy(record_data, 2)
    results += [approval(1), approval(2), letter(record_data["identity"]["lab_name"])]
    for i, result in enumerate(results):
        if result.page.kind is PageKind.APPROVAL:
            ring = replace(seal(text=read, text_score=0.8), fits=((unit, fit),))
            results[i] = replace(result, page=replace(result.page, seals=(ring,)))
    return results


def _unit_findings(findings):
    return [f for f in findings if f.rule == "seal.recommending_unit"]


def test_an_unsure_ring_that_fits_its_owner_is_a_stamped_opinion(record, record_data):
    results = _approval_stamped(record_data, "上海市经济和信息化委贝会", FIT_RIGHT + 0.3)
    found = _unit_findings(run_checks(results, record))
    assert [f.status for f in found] == [Status.PASS, Status.PASS]


def test_an_unsure_ring_that_fits_its_owner_badly_is_another_bodys_seal(record, record_data):
    # 江苏 for 上海 read unsurely: by name alone a misread, by the recogniser's own output
    # another province's seal.
    results = _approval_stamped(record_data, "江苏省经济和信息化委员会", FIT_WRONG - 2.0)
    found = _unit_findings(run_checks(results, record))
    assert [f.status for f in found] == [Status.FAIL, Status.FAIL]
    assert all(f.found == "江苏省经济和信息化委员会" for f in found)
    assert all(f.evidence["name_fit"] <= FIT_WRONG for f in found)


def test_an_unsure_ring_between_the_cuts_is_for_a_reviewer(record, record_data):
    results = _approval_stamped(record_data, "上海市经济和信息化委员会",
                                (FIT_RIGHT + FIT_WRONG) / 2)
    found = _unit_findings(run_checks(results, record))
    assert [f.status for f in found] == [Status.UNCERTAIN, Status.UNCERTAIN]


def test_a_sure_reading_is_judged_by_its_name_whatever_the_fit(record, record_data):
    results = _approval_stamped(record_data, "上海市经济和信息化委员会", FIT_WRONG - 2.0)
    for i, result in enumerate(results):
        if result.page.kind is PageKind.APPROVAL:
            ring = replace(result.page.seals[0], text_score=0.97)
            results[i] = replace(result, page=replace(result.page, seals=(ring,)))
    found = _unit_findings(run_checks(results, record))
    assert [f.status for f in found] == [Status.PASS, Status.PASS]
