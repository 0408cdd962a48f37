"""Fake read pages for rule tests: the seam between reading and checking."""

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from intake.dossier import PageResult
from intake.extract import Opinion
from intake.fields import form_fields, format_value, record_value
from intake.model import Box, Cell, Field, Location, Page, PageKind, Reading, Seal, SealShape
from intake.record import record_from_dict

RECORD = {
    "schema_version": "1", "campaign": "2021", "lab_id": "L2021-001",
    "identity": {
        "lab_name": "国家电线电缆产品质量控制和技术评价实验室",
        "legal_entity": "上海国缆检测股份有限公司", "credit_code": "91350100M000100Y43",
        "address": "上海市普陀区武宁路505号", "postcode": "200063", "industry": "电线电缆",
        "recommending_unit": "上海市经济和信息化委员会", "association": "中国电器工业协会",
        "contact": {"name": "王明", "phone": "021-62574990", "email": "lab@example.cn"},
    },
    "qualifications": {"cma": {"number": "201719123456", "valid_until": "2023-06-30"},
                       "cnas": {"number": "CNAS L0234", "valid_until": "2024-03-31"}},
    "resources": {"equipment_total": 356, "equipment_leading": 120,
                  "equipment_leading_ratio": 33.7, "equipment_value": 5230.5,
                  "staff_total": 85, "staff_senior": 50, "staff_senior_ratio": 58.8},
    "business": {"total_reports": 15230, "public_service_reports": 1234},
    "quality_reports": {"2018": 2, "2019": 3, "2020": 2},
    "services": {"diagnoses": 45, "improvements": 12, "solutions_adopted": 6},
    "influence": {"national_tasks": 3, "research_results": 8, "own_projects": 5,
                  "joint_projects": 4, "conferences": 2, "trainings": 10, "standards": 7},
    "support": {"funding": 300.0, "description": "地方政府给予专项经费支持。"},
    "opinions": {
        "recommending_unit": {"text": "同意该实验室通过初审。", "date": "2021-04-20",
                              "agree": True},
        "association": {"text": "同意", "date": "2021-05-10", "agree": True}},
    "workflow": {"confirmed": "2021-03-01", "submitted": "2021-03-25",
                 "preliminary_reviewed": "2021-04-20", "association_confirmed": "2021-05-10"},
}


# Where ``approval`` stamps its seal: over the signature at the foot of the opinion's cell.
ON_OPINION = (1000, 850)


def seal(x=300, y=300, text="", text_score=0.0):
    return Seal(Box(x, y, 330, 330), SealShape.ROUND, "red", True, 0.95, text, text_score)


def page(doc, number, kind, footer=None, seals=(), text=""):
    from intake.model import Line
    lines = (Line(text, Box(0, 0, 10, 10), 90.0),) if text else ()
    return Page(doc, number, 1654, 2339, 200, kind=kind, footer=footer, seals=tuple(seals),
                lines=lines)


def form_copy(record, copy, *, total=5, overrides=None, skip_pages=()):
    """One bound copy as read: cover, three body pages with every field, declaration seal."""
    overrides = overrides or {}
    doc = f"volume-{copy}.pdf"
    specs = form_fields(record["campaign"])
    chunks = [specs[:15], specs[15:27], specs[27:]]
    results = []
    for n in range(1, total):
        if n in skip_pages:
            continue
        if n == 1:
            results.append(PageResult(page(doc, n, PageKind.FORM, (1, total), [seal()]),
                                      copy=copy))
            continue
        fields = []
        for i, spec in enumerate(chunks[n - 2]):
            value = overrides.get(spec.key, format_value(spec, record_value(record, spec.key)))
            fields.append(Field(spec.key, spec.label, value,
                                Location(doc, n, Box(600, 200 + 70 * i, 800, 70)), copy,
                                (Reading(value, 95.0, "tesseract"),)))
        declaration = "本单位承诺所填报内容真实、准确、有效。归属法人单位（盖章）" if n == total - 1 else ""
        seals = [seal()] if declaration else []
        results.append(PageResult(page(doc, n, PageKind.FORM, (n, total), seals, declaration),
                                  tuple(fields), copy=copy))
    return results


def approval(copy, total=5, text="同意该实验室通过初审。", date="2021年4月20日", seals=True):
    doc = f"opinion-{copy}.pdf"
    opinion = Opinion(text, date, Box(600, 300, 800, 900))
    stamped = [seal(*ON_OPINION)] if seals else []
    return PageResult(page(doc, 1, PageKind.APPROVAL, (total, total), stamped),
                      opinion=opinion, copy=copy)


def certificate_text(record, key, *, number=None, holder=None, valid_until=None):
    """A certificate copy's text as tesseract reads it inside the certificate's border."""
    held = record["qualifications"][key]
    number = number or held["number"]
    holder = holder or record["identity"]["legal_entity"]
    until = date.fromisoformat(valid_until or held["valid_until"])
    y, m, d = until.year, until.month, until.day
    # issued six years before the day after the validity ends, as certificates run
    start = until + timedelta(days=1)
    issued = f"{start.year - 6}年{start.month}月{start.day}日"
    if key == "cma":
        return (f"CMA\n检验检测机构\n资质认定证书\n证书编号: {number}\n名称:{holder}\n"
                f"地址:{record['identity']['address']}\n你机构对外出具检验检测报告或证书的法律责任由"
                f"{holder[:5]}\n{holder[5:]}承担。\n许可使用标志发证日期: {issued}\n"
                f"有效期至: {y}年{m}月{d}日\nCMA\n{number}\n发证机关:上海市市场监督管理局")
    return (f"中国合格评定国家认可委员会\n认可证书\nCERTIFICATE OF ACCREDITATION\n"
            f"(注册号: {number})\n兹证明:\n{holder}\n{record['identity']['address']}\n"
            f"符合ISO/IEC 17025:2017(CNAS-\nCL01《检测和校准实验室能力认可准则》)的要求\n"
            f"签发日期: {issued}\n有效期至: {y}年{m}月{d}日\n"
            f"初次认可日期: 2010年6月20日\n中国合格评定国家认可委员会")


def certificate(record, key, copy, *, text=None, number=4):
    """A certificate copy bound after the form: its text inside the border's one cell."""
    doc = f"volume-{copy}.pdf"
    cell = Cell(0, 0, Box(180, 190, 1300, 1990), text or certificate_text(record, key), 40.0)
    return PageResult(Page(doc, number + (key == "cnas"), 1654, 2339, 200,
                           kind=PageKind.CERTIFICATE, kind_confidence=1.0, kind_detail=key,
                           cells=(cell,)), copy=copy)


def letter(lab_name, seals=True):
    return PageResult(page("letter.pdf", 1, PageKind.LETTER, None, [seal()] if seals else [],
                           f"关于实验室复核初审确认意见的函 {lab_name} 同意"))


@pytest.fixture
def record_data():
    return json.loads(json.dumps(RECORD))


@pytest.fixture
def record(record_data, monkeypatch):
    # The real schema is tested in tests/intake/test_record.py; rules only need the data.
    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    return record_from_dict(record_data)


@pytest.fixture
def clean_results(record_data):
    return [*form_copy(record_data, 1),
            *(certificate(record_data, key, 1) for key in ("cma", "cnas")),
            *form_copy(record_data, 2),
            *(certificate(record_data, key, 2) for key in ("cma", "cnas")),
            approval(1), approval(2), letter(record_data["identity"]["lab_name"])]


__all__ = ["Path", "approval", "certificate", "certificate_text", "form_copy", "letter", "seal"]
