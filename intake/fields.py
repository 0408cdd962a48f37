"""The field catalogue: which fields of the 复核申报信息表 are checked, how each is labelled
on paper, where it lives in the online record, and how its value is printed.

The sample generator prints the form from this catalogue and the extractor reads the form
back with it, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class FieldKind(StrEnum):
    TEXT = "text"  # free text compared after width/space/bracket normalisation
    NAME = "name"  # an organisation or person name
    CODE = "code"  # identifiers: certificate numbers, post code, phone
    CREDIT_CODE = "credit_code"  # 统一社会信用代码: its charset has no I, O, S, V, Z
    EMAIL = "email"
    DATE = "date"
    INT = "int"  # a count, printed with its unit
    DECIMAL = "decimal"  # an amount, e.g. 万元
    PERCENT = "percent"


@dataclass(frozen=True)
class FieldSpec:
    key: str  # dotted path into the record, e.g. "identity.credit_code"
    label: str  # the label cell's text on paper
    kind: FieldKind
    section: str  # the form section the row stands in
    unit: str = ""  # printed after the value, e.g. "台（套）"
    places: int = 0  # decimal places printed for DECIMAL / PERCENT


SECTION_COVER = "封面"
SECTION_BASIC = "一、实验室基本信息"
SECTION_QUALIFICATION = "二、实验室资质情况"
SECTION_RESOURCES = "三、软硬件设施和人员情况"
SECTION_BUSINESS = "四、核心业务开展情况"
SECTION_QUALITY = "五、支持行业或区域产品质量提升情况"
SECTION_SERVICES = "六、为企业提供质量技术服务情况"
SECTION_INFLUENCE = "七、行业影响力情况"
SECTION_SUPPORT = "八、地方政府或行业支持情况"

FORM_TITLE = "工业产品质量控制和技术评价实验室复核申报信息表"
APPROVAL_TITLE = "审批情况"
APPROVAL_LABEL = "主管单位审批意见"
SEAL_LINE = "（盖章）"

_K = FieldKind

COVER_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("identity.lab_name", "实验室名称", _K.NAME, SECTION_COVER),
    FieldSpec("identity.legal_entity", "归属法人单位（盖章）", _K.NAME, SECTION_COVER),
    FieldSpec("identity.recommending_unit", "推荐单位", _K.NAME, SECTION_COVER),
    FieldSpec("workflow.submitted", "填报日期", _K.DATE, SECTION_COVER),
)

BODY_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("identity.lab_name", "实验室名称", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.legal_entity", "归属法人单位", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.credit_code", "统一社会信用代码", _K.CREDIT_CODE, SECTION_BASIC),
    FieldSpec("identity.address", "通讯地址", _K.TEXT, SECTION_BASIC),
    FieldSpec("identity.postcode", "邮政编码", _K.CODE, SECTION_BASIC),
    FieldSpec("identity.industry", "所属行业", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.recommending_unit", "推荐单位", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.association", "所属行业协会", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.contact.name", "联系人", _K.NAME, SECTION_BASIC),
    FieldSpec("identity.contact.phone", "联系电话", _K.CODE, SECTION_BASIC),
    FieldSpec("identity.contact.email", "电子邮箱", _K.EMAIL, SECTION_BASIC),
    FieldSpec("qualifications.cma.number", "资质认定（CMA）证书编号", _K.CODE, SECTION_QUALIFICATION),
    FieldSpec("qualifications.cma.valid_until", "资质认定证书有效期至", _K.DATE, SECTION_QUALIFICATION),
    FieldSpec("qualifications.cnas.number", "实验室认可（CNAS）证书编号", _K.CODE, SECTION_QUALIFICATION),
    FieldSpec("qualifications.cnas.valid_until", "实验室认可证书有效期至", _K.DATE, SECTION_QUALIFICATION),
    FieldSpec("resources.equipment_total", "仪器设备总数", _K.INT, SECTION_RESOURCES, "台（套）"),
    FieldSpec("resources.equipment_leading", "达到国内或行业领先水平的设备数", _K.INT,
              SECTION_RESOURCES, "台（套）"),
    FieldSpec("resources.equipment_leading_ratio", "领先水平设备比例", _K.PERCENT,
              SECTION_RESOURCES, "%", 1),
    FieldSpec("resources.equipment_value", "仪器设备原值", _K.DECIMAL, SECTION_RESOURCES, "万元", 2),
    FieldSpec("resources.staff_total", "实验室人员总数", _K.INT, SECTION_RESOURCES, "人"),
    FieldSpec("resources.staff_senior", "中高级职称人员数", _K.INT, SECTION_RESOURCES, "人"),
    FieldSpec("resources.staff_senior_ratio", "中高级职称人员比例", _K.PERCENT,
              SECTION_RESOURCES, "%", 1),
    FieldSpec("business.total_reports", "出具检测或评价报告总数", _K.INT, SECTION_BUSINESS, "份"),
    FieldSpec("business.public_service_reports", "具有公共服务性质的检测或评价报告数量", _K.INT,
              SECTION_BUSINESS, "份"),
    # quality_reports.<year> rows are added per campaign by ``form_fields``.
    FieldSpec("services.diagnoses", "质量诊断服务", _K.INT, SECTION_SERVICES, "次"),
    FieldSpec("services.improvements", "质量改进项目", _K.INT, SECTION_SERVICES, "项"),
    FieldSpec("services.solutions_adopted", "共性质量技术解决方案推广应用", _K.INT,
              SECTION_SERVICES, "项"),
    FieldSpec("influence.national_tasks", "承担国家科研任务", _K.INT, SECTION_INFLUENCE, "项"),
    FieldSpec("influence.research_results", "科研成果", _K.INT, SECTION_INFLUENCE, "项"),
    FieldSpec("influence.own_projects", "自主研究课题", _K.INT, SECTION_INFLUENCE, "项"),
    FieldSpec("influence.joint_projects", "合作研究课题", _K.INT, SECTION_INFLUENCE, "项"),
    FieldSpec("influence.conferences", "举办学术会议", _K.INT, SECTION_INFLUENCE, "次"),
    FieldSpec("influence.trainings", "开展人员培训", _K.INT, SECTION_INFLUENCE, "次"),
    FieldSpec("influence.standards", "参与标准制修订", _K.INT, SECTION_INFLUENCE, "项"),
    FieldSpec("support.funding", "地方政府或行业支持经费", _K.DECIMAL, SECTION_SUPPORT, "万元", 2),
)

SECTIONS: tuple[str, ...] = (
    SECTION_BASIC, SECTION_QUALIFICATION, SECTION_RESOURCES, SECTION_BUSINESS,
    SECTION_QUALITY, SECTION_SERVICES, SECTION_INFLUENCE, SECTION_SUPPORT,
)


def quality_report_years(campaign: str) -> tuple[int, int, int]:
    """The three years before the campaign year, whose annual reports are asked for."""
    year = int(campaign[:4])
    return (year - 3, year - 2, year - 1)


def quality_report_field(year: int) -> FieldSpec:
    return FieldSpec(
        f"quality_reports.{year}", f"{year}年度产品质量分析报告", _K.INT, SECTION_QUALITY, "份"
    )


def form_fields(campaign: str) -> tuple[FieldSpec, ...]:
    """Every body field of the form for a campaign, in printed order."""
    quality = tuple(quality_report_field(y) for y in quality_report_years(campaign))
    before = tuple(f for f in BODY_FIELDS if f.section not in (SECTION_SERVICES, SECTION_INFLUENCE,
                                                                 SECTION_SUPPORT))
    after = tuple(f for f in BODY_FIELDS if f.section in (SECTION_SERVICES, SECTION_INFLUENCE,
                                                            SECTION_SUPPORT))
    return before + quality + after


def printed_fields(campaign: str) -> tuple[FieldSpec, ...]:
    """Every labelled field of the form in printed order: the cover, then the body."""
    return COVER_FIELDS + form_fields(campaign)


def all_labels(campaign: str) -> dict[str, FieldSpec]:
    """Label text -> spec, over cover and body (cover and body share some keys)."""
    specs = COVER_FIELDS + form_fields(campaign)
    return {spec.label: spec for spec in specs}


def record_value(record: dict[str, Any], key: str) -> Any:
    """The value at a dotted key of a record; None where any part is absent."""
    node: Any = record
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def format_date(value: str) -> str:
    """ISO date -> the form's printed date, e.g. 2021-04-20 -> 2021年4月20日."""
    d = date.fromisoformat(value)
    return f"{d.year}年{d.month}月{d.day}日"


def format_value(spec: FieldSpec, value: Any) -> str:
    """How the online system prints a record value in the form's value cell."""
    if value is None:
        return ""
    if spec.kind is FieldKind.DATE:
        return format_date(str(value))
    if spec.kind is FieldKind.INT:
        return f"{int(value)} {spec.unit}".strip()
    if spec.kind is FieldKind.DECIMAL:
        return f"{float(value):.{spec.places}f} {spec.unit}".strip()
    if spec.kind is FieldKind.PERCENT:
        return f"{float(value):.{spec.places}f}%"
    return str(value)
