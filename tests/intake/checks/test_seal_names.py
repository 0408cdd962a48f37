"""Whose seal is it: a ring read with a misread character is still the owner's; a ring that
names another body (another place, another brand, 研究所 for 研究院) is not. The readings are
RapidOCR's, from generated dossiers' seals read with confidence ≥ 0.9."""

from dataclasses import replace

import pytest

from intake.checks import run_checks
from intake.checks.seals_present import names_other_body
from intake.model import Status
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
