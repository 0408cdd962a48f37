"""Online records (record/v1) of made-up labs, and their check against the record schema.

A record is what the online system holds; everything printed on paper is derived from it.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from importlib import resources
from typing import Any

from intake.codes import CHARSET, is_valid_credit_code, make_credit_code
from intake.fields import quality_report_years
from samples import vocab
from samples.vocab import Association, City, District

AGREE_TEXT = "同意该实验室通过初审。"
AGREE_ASSOCIATION_TEXT = "同意该实验室通过初审确认。"
DISAGREE_TEXT = "不同意该实验室通过初审。"
SEAL_SHAPES = ("round", "oval", "square")  # a legal entity's seal


@dataclass(frozen=True)
class LabProfile:
    """What the paper needs beyond the record: where the lab is and how its papers look."""

    lab_id: str
    city: City
    district: District
    association: Association
    domain: str
    public_institution: bool  # 事业单位 (credit code "12...") rather than a company ("91...")
    cnas_first: date  # 初次认可日期 on the CNAS certificate
    seal_shape: str  # the legal entity's seal: round, oval or square
    seal_code: str  # the 13-digit number some seals carry at the bottom, or ""
    seal_color: tuple[int, int, int]


@dataclass(frozen=True)
class LetterRow:
    lab_name: str
    legal_entity: str
    lab_id: str | None  # None for a lab of the association that is not in this batch


@dataclass(frozen=True)
class LetterSpec:
    """One association's confirmation letter, shared by all its labs in the batch."""

    association: Association
    number: str  # the letter's document number, e.g. 中电器协〔2021〕35号
    date: str  # ISO
    rows: tuple[LetterRow, ...]
    contact: str
    phone: str


def iso(d: date) -> str:
    return d.isoformat()


def ratio(part: int, total: int) -> float:
    """part / total as a percentage with one decimal, rounded half up as the online system does."""
    if total == 0:
        return 0.0
    value = Decimal(part * 100) / Decimal(total)
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _money(rng: random.Random, low: float, high: float) -> float:
    return round(rng.uniform(low, high), 2)


def lab_name_for(domain: str, rng: random.Random, suffix: str = "") -> str:
    product = domain if domain.endswith("产品") else f"{domain}产品"
    if rng.random() < 0.8:
        return f"国家{product}质量控制和技术评价实验室{suffix}"
    return f"工业（{domain}）产品质量控制和技术评价实验室{suffix}"


def legal_entity_for(domain: str, city: City, association: Association, rng: random.Random
                     ) -> tuple[str, bool, str]:
    """A legal entity's name, whether it is a public institution, and its e-mail slug."""
    brand, slug = rng.choice(vocab.BRANDS)
    region = city.province or city.name
    choices: list[tuple[str, bool, str]] = [
        (f"{city.short}{brand}检测技术股份有限公司", False, slug),
        (f"{city.short}{brand}检验检测有限公司", False, slug),
        (f"{region}{domain}产品质量监督检验研究院", True, f"{slug}-qi"),
        (f"{city.short}{domain}研究所有限公司", False, f"{slug}ri"),
    ]
    if association.industry in ("机械", "电工电器", "仪器仪表"):
        n = rng.randrange(1, 11)
        choices.append((f"机械工业第{vocab.ORDINALS[n - 1]}研究所", True, f"miri{n}"))
    name, public, mail = rng.choice(choices)
    return name, public, mail


def _credit_code(rng: random.Random, division: str, public: bool) -> str:
    if rng.random() < 0.5 and not public:
        body = "MA" + "".join(rng.choice(CHARSET) for _ in range(6))
    else:
        body = "".join(rng.choice("0123456789") for _ in range(8))
    code = make_credit_code("12" if public else "91", division, body)
    assert is_valid_credit_code(code), code
    return code


def _phone(rng: random.Random, city: City) -> str:
    if rng.random() < 0.25:
        return rng.choice(("139", "138", "136", "186", "158", "137")) + \
            "".join(rng.choice("0123456789") for _ in range(8))
    digits = 8 if len(city.area_code) == 3 else rng.choice((7, 8))
    first = rng.choice("2345678")
    return f"{city.area_code}-{first}" + "".join(rng.choice("0123456789")
                                                  for _ in range(digits - 1))


def _person(rng: random.Random) -> tuple[str, str]:
    surname, s_py = rng.choice(vocab.SURNAMES)
    given, g_py = rng.choice(vocab.GIVEN_NAMES)
    return surname + given, s_py + g_py


def _campaign_dates(rng: random.Random, year: int) -> tuple[date, date, date]:
    confirmed = date(year, 3, 1) + timedelta(days=rng.randrange(0, 40))
    submitted = confirmed + timedelta(days=rng.randrange(3, 21))
    reviewed = submitted + timedelta(days=rng.randrange(5, 26))
    return confirmed, submitted, reviewed


def _support_description(rng: random.Random, record: dict[str, Any], city: City,
                         funding: float, year: int) -> str:
    identity = record["identity"]
    programme = rng.choice(vocab.SUPPORT_PROGRAMMES)
    parts = [
        f"{year - 3}—{year - 1}年，{identity['recommending_unit']}将实验室建设列入{programme}，"
        f"累计安排支持经费{funding:.2f}万元，用于检测能力建设和仪器设备更新。",
    ]
    extra = [
        f"{identity['association']}组织实验室参与行业质量分析、标准制修订和质量提升活动，"
        "在行业公共服务平台建设方面给予政策支持。",
        f"{city.short}市人民政府在实验室用房、人才引进和科研项目配套等方面给予支持。",
        f"归属法人单位每年自筹资金约{rng.randrange(200, 1500)}万元，持续投入实验室建设。",
        "实验室被认定为省级公共技术服务平台，享受相关税收优惠政策。",
    ]
    parts += rng.sample(extra, rng.randrange(1, 4))
    return "".join(parts)


def make_profile_and_record(
    rng: random.Random, *, lab_id: str, campaign: str, association: Association, domain: str,
    city: City, name_suffix: str = "", seal_shape: str | None = None,
) -> tuple[LabProfile, dict[str, Any]]:
    """One lab's profile and online record; opinions.association.date and
    workflow.association_confirmed are set later, once per association, by ``set_association_date``.
    ``seal_shape`` sets the legal entity's seal shape instead of drawing it; the draw is made
    anyway, so everything else about the lab stays the same.
    """
    year = int(campaign[:4])
    district = rng.choice(city.districts)
    lab_name = lab_name_for(domain, rng, name_suffix)
    legal_entity, public, slug = legal_entity_for(domain, city, association, rng)
    draw = rng.random()
    if draw < 0.55:
        recommending = city.authority
    elif draw < 0.9:
        recommending = association.federation
    else:
        recommending = rng.choice(vocab.CENTRAL_ENTERPRISES)
    contact, contact_py = _person(rng)
    road = rng.choice(district.roads)
    address = f"{city.prefix}{district.name}{road}{rng.randrange(1, 1200)}号"
    tld = rng.choice((".com.cn", ".cn", ".com", ".org.cn"))
    email = f"{contact_py}{rng.choice(('', str(rng.randrange(1, 99)), '.lab'))}@{slug}{tld}"

    confirmed, submitted, reviewed = _campaign_dates(rng, year)
    cma_issued = date(year - rng.randrange(1, 6), rng.randrange(1, 13), rng.randrange(1, 29))
    cma_until = cma_issued.replace(year=cma_issued.year + 6) - timedelta(days=1)
    if rng.random() < 0.1:  # a few certificates run out later in the campaign year
        cma_until = submitted + timedelta(days=rng.randrange(60, 200))
    cnas_issued = date(year - rng.randrange(1, 6), rng.randrange(1, 13), rng.randrange(1, 29))
    cnas_until = cnas_issued.replace(year=cnas_issued.year + 6) - timedelta(days=1)
    cnas_first = date(rng.randrange(1998, 2015), rng.randrange(1, 13), rng.randrange(1, 29))
    cnas_n = rng.randrange(100, 16000)
    cma_number = f"{cma_issued.year % 100:02d}{district.division[:2]}" + \
        "".join(rng.choice("0123456789") for _ in range(8))

    equipment_total = rng.randrange(150, 2600)
    equipment_leading = round(equipment_total * rng.uniform(0.18, 0.72))
    staff_total = rng.randrange(40, 420)
    staff_senior = round(staff_total * rng.uniform(0.38, 0.86))
    total_reports = rng.randrange(2000, 60000)
    funding = _money(rng, 50, 1800)

    record: dict[str, Any] = {
        "schema_version": "1",
        "campaign": campaign,
        "lab_id": lab_id,
        "identity": {
            "lab_name": lab_name,
            "legal_entity": legal_entity,
            "credit_code": _credit_code(rng, district.division, public),
            "address": address,
            "postcode": district.postcode,
            "industry": association.industry,
            "recommending_unit": recommending,
            "association": association.name,
            "contact": {"name": contact, "phone": _phone(rng, city), "email": email},
        },
        "qualifications": {
            "cma": {"number": cma_number, "valid_until": iso(cma_until)},
            "cnas": {"number": f"CNAS L{cnas_n:04d}", "valid_until": iso(cnas_until)},
        },
        "resources": {
            "equipment_total": equipment_total,
            "equipment_leading": equipment_leading,
            "equipment_leading_ratio": ratio(equipment_leading, equipment_total),
            "equipment_value": _money(rng, 1500, 32000),
            "staff_total": staff_total,
            "staff_senior": staff_senior,
            "staff_senior_ratio": ratio(staff_senior, staff_total),
        },
        "business": {
            "total_reports": total_reports,
            "public_service_reports": round(total_reports * rng.uniform(0.08, 0.45)),
        },
        "quality_reports": {str(y): rng.randrange(1, 7) for y in quality_report_years(campaign)},
        "services": {
            "diagnoses": rng.randrange(10, 320),
            "improvements": rng.randrange(5, 130),
            "solutions_adopted": rng.randrange(2, 55),
        },
        "influence": {
            "national_tasks": rng.randrange(0, 16),
            "research_results": rng.randrange(2, 42),
            "own_projects": rng.randrange(3, 40),
            "joint_projects": rng.randrange(2, 31),
            "conferences": rng.randrange(1, 13),
            "trainings": rng.randrange(3, 61),
            "standards": rng.randrange(2, 61),
        },
        "support": {"funding": funding, "description": ""},
        "opinions": {
            "recommending_unit": {"text": AGREE_TEXT, "date": iso(reviewed), "agree": True},
            "association": {"text": AGREE_ASSOCIATION_TEXT, "date": iso(reviewed), "agree": True},
        },
        "workflow": {
            "confirmed": iso(confirmed),
            "submitted": iso(submitted),
            "preliminary_reviewed": iso(reviewed),
            "association_confirmed": iso(reviewed),
        },
    }
    record["support"]["description"] = _support_description(rng, record, city, funding, year)

    shape = rng.choices(SEAL_SHAPES, weights=(86, 9, 5))[0]
    if seal_shape is not None:
        shape = seal_shape
    seal_code = "".join(rng.choice("0123456789") for _ in range(13)) if rng.random() < 0.4 else ""
    profile = LabProfile(
        lab_id=lab_id, city=city, district=district, association=association, domain=domain,
        public_institution=public, cnas_first=cnas_first, seal_shape=shape, seal_code=seal_code,
        seal_color=seal_color(rng),
    )
    return profile, record


def seal_color(rng: random.Random) -> tuple[int, int, int]:
    """A red of stamp-pad ink: each organisation's pad is a little different."""
    return (rng.randrange(196, 228), rng.randrange(18, 48), rng.randrange(30, 62))


def set_association_date(records: list[dict[str, Any]], rng: random.Random) -> str:
    """The association confirms all its labs on one day, after the last preliminary review."""
    latest = max(date.fromisoformat(r["workflow"]["preliminary_reviewed"]) for r in records)
    day = iso(latest + timedelta(days=rng.randrange(3, 16)))
    for record in records:
        record["workflow"]["association_confirmed"] = day
        record["opinions"]["association"]["date"] = day
    return day


@dataclass(frozen=True)
class LabSlot:
    association: Association
    domain: str
    city: City
    suffix: str


def assign_labs(labs: int, rng: random.Random) -> list[LabSlot]:
    """Trade, association and city of each lab of a batch; about three labs per association."""
    count = max(1, min(len(vocab.ASSOCIATIONS), math.ceil(labs / 3)))
    chosen = rng.sample(vocab.ASSOCIATIONS, count)
    picks = [chosen[i % count] for i in range(labs)]
    rng.shuffle(picks)
    used: dict[str, int] = {}
    slots = []
    for association in picks:
        free = [d for d in association.domains if d not in used]
        domain = rng.choice(free or list(association.domains))
        city = rng.choice(vocab.CITIES)
        used[domain] = used.get(domain, 0) + 1
        # A second lab of the same trade gets its city in the name, as real ones do.
        suffix = f"（{city.short}）" if used[domain] > 1 else ""
        slots.append(LabSlot(association, domain, city, suffix))
    return slots


def make_letter(association: Association, records: list[dict[str, Any]],
                domains: set[str], campaign: str, rng: random.Random) -> LetterSpec:
    """The association's letter: its labs in the batch plus a few others of its trades."""
    rows = [LetterRow(r["identity"]["lab_name"], r["identity"]["legal_entity"], r["lab_id"])
            for r in records]
    others = [d for d in association.domains if d not in domains]
    for domain in rng.sample(others, min(len(others), max(0, rng.randrange(3, 6) - len(rows)))):
        city = rng.choice(vocab.CITIES)
        entity = legal_entity_for(domain, city, association, rng)[0]
        rows.append(LetterRow(lab_name_for(domain, rng), entity, None))
    rng.shuffle(rows)
    contact, _ = _person(rng)
    phone = f"010-{rng.choice('68')}{rng.randrange(1000000, 9999999)}"
    return LetterSpec(
        association=association,
        number=f"{association.short}〔{campaign[:4]}〕{rng.randrange(12, 98)}号",
        date=records[0]["workflow"]["association_confirmed"],
        rows=tuple(rows),
        contact=contact,
        phone=phone,
    )


# Validation ----------------------------------------------------------------------------------


@cache
def schema() -> dict[str, Any]:
    text = resources.files("samples").joinpath("record.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def record_problems(record: dict[str, Any]) -> list[str]:
    """Everything wrong with a record: schema errors, then the invariants the schema can't say."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
                for e in sorted(validator.iter_errors(record), key=lambda e: list(e.path))]
    if problems:
        return problems
    identity, res = record["identity"], record["resources"]
    if not is_valid_credit_code(identity["credit_code"]):
        problems.append("identity/credit_code: check character is wrong")
    if res["equipment_leading"] > res["equipment_total"]:
        problems.append("resources: more leading equipment than equipment")
    if res["staff_senior"] > res["staff_total"]:
        problems.append("resources: more senior staff than staff")
    if res["equipment_leading_ratio"] != ratio(res["equipment_leading"], res["equipment_total"]):
        problems.append("resources/equipment_leading_ratio: not leading/total*100")
    if res["staff_senior_ratio"] != ratio(res["staff_senior"], res["staff_total"]):
        problems.append("resources/staff_senior_ratio: not senior/total*100")
    years = sorted(record["quality_reports"])
    if years != [str(y) for y in quality_report_years(record["campaign"])]:
        problems.append(f"quality_reports: years {years} are not the three before the campaign")
    flow = record["workflow"]
    order = ["confirmed", "submitted", "preliminary_reviewed", "association_confirmed"]
    for before, after in itertools.pairwise(order):
        if flow[before] > flow[after]:
            problems.append(f"workflow: {before} is after {after}")
    opinions = record["opinions"]
    if not flow["submitted"] <= opinions["recommending_unit"]["date"] <= \
            flow["preliminary_reviewed"]:
        problems.append("opinions/recommending_unit/date: outside submitted..preliminary_reviewed")
    if opinions["association"]["date"] != flow["association_confirmed"]:
        problems.append("opinions/association/date: not the association_confirmed date")
    return problems
