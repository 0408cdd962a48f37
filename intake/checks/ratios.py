"""A printed share agrees with the printed counts it is made of: 领先水平设备比例 with the
equipment counts, 中高级职称人员比例 with the staff counts (on paper and in the record)."""

from __future__ import annotations

from decimal import Decimal

from intake.checks.field_match import judge
from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.fields import FieldSpec, all_labels, format_value, record_value
from intake.model import Field, Finding, PageKind, Status
from intake.normalize import parse_decimal, parse_ratio, percent
from intake.record import Record

CLAUSE = ("四、重点复核内容（二）：实验室装备达到国内或行业领先水平的比例、中高级以上职称的实验室"
          "人员比例；六（五）形式审查：材料的格式")
RULES = {"ratio.consistent": ("比例与所填数量相符", CLAUSE)}
# (part, total, share, what the share is of)
RATIOS = (
    ("resources.equipment_leading", "resources.equipment_total",
     "resources.equipment_leading_ratio", "领先水平设备比例"),
    ("resources.staff_senior", "resources.staff_total",
     "resources.staff_senior_ratio", "中高级职称人员比例"),
)
# A share truncated instead of rounded is off by at most one printed place: not a contradiction.
TOLERANCE = Decimal("0.1")


def _agrees(part: Decimal, total: Decimal, share: Decimal) -> tuple[bool, Decimal | None]:
    computed = percent(part, total)
    if computed is None:
        return share == 0, computed
    return part <= total and abs(computed - share) <= TOLERANCE, computed


def check(results: list[PageResult], record: Record) -> list[Finding]:
    specs = {s.key: s for s in all_labels(record.campaign).values()}
    findings = [f for keys in RATIOS if (f := _record_finding(record, *keys)) is not None]
    for copy, pages in copies_of(results, PageKind.FORM).items():
        printed = {f.key: f for r in pages for f in r.fields}
        for part_key, total_key, share_key, what in RATIOS:
            fields = [printed.get(k) for k in (part_key, total_key, share_key)]
            if any(f is None for f in fields):
                continue  # a row not read is the field rules' business
            read = [_value(specs[f.key], f, record) for f in fields if f is not None]
            part, total, share = (v for v, _ in read)
            if part is None or total is None or share is None:
                continue
            sure = all(s for _, s in read)
            findings.append(_paper_finding(copy, what, part, total, share, sure, fields[2]))
    return findings


def _value(spec: FieldSpec, field: Field, record: Record) -> tuple[Decimal | None, bool]:
    """The paper's value of a field (the record's where a reading verifies it) and whether the
    reading is firm enough to fail a lab on."""
    stored = record_value(record.data, spec.key)
    expected = format_value(spec, stored) if stored is not None else ""
    readings = field.readings
    if not readings:
        return None, False
    status, text = judge(spec, expected, readings) if expected else (Status.UNCERTAIN,
                                                                     readings[-1].text)
    parse = parse_ratio if spec.kind.value == "percent" else parse_decimal
    return parse(text), status is not Status.UNCERTAIN


def _paper_finding(copy: int, what: str, part: Decimal, total: Decimal, share: Decimal,
                   sure: bool, share_field: Field | None) -> Finding:
    ok, computed = _agrees(part, total, share)
    where = share_field.location if share_field else None
    evidence = {"copy": copy, "part": str(part), "total": str(total), "share": str(share),
                "computed": str(computed) if computed is not None else None}
    shown = f"{computed}%" if computed is not None else "（总数为0，无法计算）"
    if ok:
        return finding(RULES, "ratio.consistent", Status.PASS,
                       f"第{copy}份{what}{share}%与所填数量{part}/{total}相符。", where,
                       field=share_field.key if share_field else None, expected=shown,
                       found=f"{share}%", evidence=evidence)
    status = Status.FAIL if sure else Status.UNCERTAIN
    tail = "两者不符。" if sure else "可能是识别错误，请人工核对。"
    return finding(RULES, "ratio.consistent", status,
                   f"第{copy}份{what}填写为{share}%，按所填数量{part}/{total}应为{shown}，{tail}",
                   where, field=share_field.key if share_field else None, expected=shown,
                   found=f"{share}%", evidence=evidence)


def _record_finding(record: Record, part_key: str, total_key: str, share_key: str,
                    what: str) -> Finding | None:
    values = [record_value(record.data, k) for k in (part_key, total_key, share_key)]
    if any(v is None for v in values):
        return None
    part, total, share = (Decimal(str(v)) for v in values)
    ok, computed = _agrees(part, total, share)
    if ok:
        return None  # the paper's findings speak for the record when they verify against it
    shown = f"{computed}%" if computed is not None else "（总数为0，无法计算）"
    return finding(RULES, "ratio.consistent", Status.FAIL,
                   f"网上填报的{what}为{share}%，按网上填报的数量{part}/{total}应为{shown}，"
                   "两者不符。", field=share_key,
                   expected=shown, found=f"{share}%", evidence={"where": "record"})
