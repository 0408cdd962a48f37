"""Pages other than the form: certificate copies and the business licence bound into each
volume, and the association's confirmation letter."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from intake.fields import format_date
from samples import fonts, vocab
from samples.layout import (
    BODY_SIZE,
    CONTENT_W,
    MARGIN,
    MM,
    PAGE_H,
    PAGE_W,
    RED,
    Frame,
    PageSpec,
    Rule,
    SealSpot,
    centred,
    fit_size,
    jitter,
    right_aligned,
    seal_spot,
    union,
    wrap,
)
from samples.record import LetterRow, LetterSpec

CNAS_BODY = "中国合格评定国家认可委员会"
COPY_STAMP_TEXT = "复印件与原件一致"
SECRETARIAT = "工业产品质量控制和技术评价实验室专家技术委员会秘书处："

_FRAME = 16 * MM
_TINT = (0.955, 0.95, 0.93)  # a certificate's coloured paper, as a photocopy greys it


def issued(valid_until: str) -> date:
    """Certificates run six years: the issue date that a validity date implies."""
    until = date.fromisoformat(valid_until) + timedelta(days=1)
    return until.replace(year=until.year - 6) if not (until.month == 2 and until.day == 29) \
        else date(until.year - 6, 2, 28)


def _paragraph(page: PageSpec, text: str, x: float, baseline: float, width: float,
               size: float = BODY_SIZE + 1, indent: bool = True) -> float:
    lines = wrap(text, fonts.SERIF, size, width, indent=2 * size if indent else 0.0)
    for i, line in enumerate(lines):
        page.text(x + (2 * size if indent and i == 0 else 0.0), baseline, line, fonts.SERIF, size)
        baseline += size * 1.7
    return baseline


def _certificate_frame(page: PageSpec) -> None:
    x, y = _FRAME, _FRAME
    w, h = PAGE_W - 2 * _FRAME, PAGE_H - 2 * _FRAME
    page.items += [
        Frame(x, y, w, h, width=0.4, color=(0.6, 0.6, 0.6), fill=_TINT),
        Frame(x + 4 * MM, y + 4 * MM, w - 8 * MM, h - 8 * MM, width=2.2, color=(0.3, 0.3, 0.3)),
        Frame(x + 6 * MM, y + 6 * MM, w - 12 * MM, h - 12 * MM, width=0.6, color=(0.3, 0.3, 0.3)),
    ]


def _copy_stamps(page: PageSpec, record: dict[str, Any], profile: Any, rng: random.Random,
                 cx: float, cy: float) -> None:
    """"复印件与原件一致" chop, with the legal entity's seal half over it."""
    page.seals.append(SealSpot(
        cx=cx + jitter(rng, 2), cy=cy + jitter(rng, 2), organisation=COPY_STAMP_TEXT,
        role="copy_stamp", shape="rectangle", width_mm=46.0, rotation=rng.uniform(-6, 6),
        color=profile.seal_color, faded=rng.random() < 0.15, slot="copy"))
    page.seals.append(seal_spot(
        rng, cx + 24 * MM, cy - 6 * MM, record["identity"]["legal_entity"], "legal_entity",
        "copy", shape=profile.seal_shape, color=profile.seal_color,
        bottom_text=profile.seal_code))


def _as_printed(record: dict[str, Any], key: str, printed: dict[str, str] | None
                ) -> tuple[dict[str, str], str]:
    """The certificate's number and validity date, and its holder, as the bound copy prints
    them: the record's, or what ``printed`` (a certificate_copy_differs plan) says instead."""
    held = {**record["qualifications"][key], **(printed or {})}
    return held, (printed or {}).get("holder", record["identity"]["legal_entity"])


def cma_certificate(record: dict[str, Any], profile: Any, rng: random.Random,
                    printed: dict[str, str] | None = None) -> PageSpec:
    page = PageSpec("certificate")
    _certificate_frame(page)
    cma, holder = _as_printed(record, "cma", printed)
    identity = record["identity"]
    page.text(MARGIN + 8 * MM, 48 * MM, "CMA", fonts.SANS_BOLD, 30.0, (0.25, 0.25, 0.25))
    centred(page, "检验检测机构", 66 * MM, fonts.SERIF_BOLD, 28.0)
    centred(page, "资质认定证书", 66 * MM + 42, fonts.SERIF_BOLD, 28.0)
    number = centred(page, f"证书编号：{cma['number']}", 100 * MM, fonts.SERIF, 13.0)
    x = MARGIN + 12 * MM
    width = CONTENT_W - 24 * MM
    y = 118 * MM
    boxes = []
    for label, value in (("名称：", holder), ("地址：", identity["address"])):
        size = fit_size(label + value, fonts.SERIF, 13.0, width)
        boxes.append(page.text(x, y, label + value, fonts.SERIF, size).box)
        y += 11 * MM
    y = _paragraph(page, "经审查，你机构已具备国家有关法律、行政法规规定的基本条件和能力，现予批准，"
                   "可以向社会出具具有证明作用的数据和结果，特发此证。资质认定包括检验检测机构计量认证。",
                   x, y + 4 * MM, width)
    y = _paragraph(page, "检验检测能力及授权签字人见证书附表。", x, y + 2 * MM, width)
    y = _paragraph(page, f"你机构对外出具检验检测报告或证书的法律责任由{holder}承担。",
                   x, y + 2 * MM, width)
    page.text(x, 212 * MM, "许可使用标志", fonts.SERIF, 12.0)
    page.text(x + 2 * MM, 226 * MM, "CMA", fonts.SANS_BOLD, 26.0, (0.25, 0.25, 0.25))
    page.text(x, 234 * MM, cma["number"], fonts.SANS, 10.0)
    right = MARGIN + CONTENT_W - 10 * MM
    issued_on = right_aligned(page, f"发证日期：{format_date(issued(cma['valid_until']).isoformat())}",
                              right, 214 * MM, fonts.SERIF, 12.0)
    until = right_aligned(page, f"有效期至：{format_date(cma['valid_until'])}", right, 222 * MM,
                          fonts.SERIF, 12.0)
    authority = right_aligned(page, f"发证机关：{profile.city.regulator}", right, 238 * MM,
                              fonts.SERIF, 12.0)
    centred(page, "本证书由国家认证认可监督管理委员会监制，在中华人民共和国境内有效。", 262 * MM,
            fonts.SERIF, 9.0)
    page.seals.append(seal_spot(rng, authority.x + authority.width * 0.62, authority.baseline + 1 * MM,
                                profile.city.regulator, "certification_body", "certificate",
                                spread_mm=2.0))
    _copy_stamps(page, record, profile, rng, x + 38 * MM, 250 * MM)
    page.notes.append({"type": "certificate", "certificate": "cma", "number": cma["number"],
                       "number_box": number.box, "valid_until": format_date(cma["valid_until"]),
                       "valid_until_box": until.box, "issued_box": issued_on.box,
                       "holder": holder, "holder_box": boxes[0]})
    return page


def cnas_certificate(record: dict[str, Any], profile: Any, rng: random.Random,
                     printed: dict[str, str] | None = None) -> PageSpec:
    page = PageSpec("certificate")
    _certificate_frame(page)
    cnas, holder = _as_printed(record, "cnas", printed)
    identity = record["identity"]
    centred(page, CNAS_BODY, 48 * MM, fonts.SERIF_BOLD, 18.0)
    centred(page, "China National Accreditation Service for Conformity Assessment", 55 * MM,
            fonts.SERIF, 9.0)
    centred(page, "认 可 证 书", 74 * MM, fonts.SERIF_BOLD, 28.0)
    centred(page, "CERTIFICATE OF ACCREDITATION", 83 * MM, fonts.SERIF, 12.0)
    number = centred(page, f"（注册号：{cnas['number']}）", 94 * MM, fonts.SERIF, 13.0)
    x = MARGIN + 12 * MM
    width = CONTENT_W - 24 * MM
    page.text(x, 110 * MM, "兹证明：", fonts.SERIF, 13.0)
    size = fit_size(holder, fonts.SERIF_BOLD, 16.0, width)
    named = centred(page, holder, 122 * MM, fonts.SERIF_BOLD, size)
    size = fit_size(identity["address"], fonts.SERIF, 12.0, width)
    centred(page, identity["address"], 131 * MM, fonts.SERIF, size)
    y = _paragraph(page, "符合ISO/IEC 17025:2017《检测和校准实验室能力的通用要求》（CNAS-CL01《检测和"
                   "校准实验室能力认可准则》）的要求，具备承担本证书附件所列服务能力，予以认可。",
                   x, 145 * MM, width)
    _paragraph(page, "获认可的能力范围见标有相同认可注册号的证书附件，证书附件是本证书组成部分。",
               x, y + 2 * MM, width)
    right = MARGIN + CONTENT_W - 10 * MM
    issued_on = right_aligned(
        page, f"签发日期：{format_date(issued(cnas['valid_until']).isoformat())}", right,
        208 * MM, fonts.SERIF, 12.0)
    until = right_aligned(page, f"有效期至：{format_date(cnas['valid_until'])}", right, 216 * MM,
                          fonts.SERIF, 12.0)
    right_aligned(page, f"初次认可日期：{format_date(profile.cnas_first.isoformat())}", right,
                  224 * MM, fonts.SERIF, 12.0)
    body = right_aligned(page, CNAS_BODY, right, 240 * MM, fonts.SERIF, 12.0)
    centred(page, "本证书的有效性可登录 www.cnas.org.cn 认可机构查询。", 262 * MM, fonts.SERIF, 9.0)
    page.seals.append(seal_spot(rng, body.x + body.width / 2, body.baseline - 8 * MM, CNAS_BODY,
                                "certification_body", "certificate", spread_mm=2.0))
    _copy_stamps(page, record, profile, rng, x + 40 * MM, 196 * MM)
    page.notes.append({"type": "certificate", "certificate": "cnas", "number": cnas["number"],
                       "number_box": number.box, "valid_until": format_date(cnas["valid_until"]),
                       "valid_until_box": until.box, "issued_box": issued_on.box,
                       "holder": holder, "holder_box": named.box})
    return page


# The business licence ------------------------------------------------------------------------

LICENCE_TITLE = "营业执照"
# What a licence prints under 经营范围 for a testing body: the scope its registration states.
_LICENCE_SCOPE = ("检验检测服务；质检技术服务；计量服务；标准化服务；认证咨询；技术服务、技术开发、"
                  "技术咨询、技术交流、技术转让、技术推广；仪器仪表销售（依法须经批准的项目，"
                  "经相关部门批准后方可开展经营活动）")


@dataclass(frozen=True)
class Licence:
    """What the legal entity's 营业执照 prints: drawn once per lab, the same in both volumes.
    ``term_until`` None is 长期 (no end date)."""

    name: str
    credit_code: str
    kind: str  # 类型
    representative: str  # 法定代表人
    capital: str  # 注册资本, as printed
    founded: date  # 成立日期
    term_until: date | None
    address: str
    authority: str  # 登记机关
    issued: date  # the date under 登记机关


def make_licence(record: dict[str, Any], profile: Any, rng: random.Random,
                 printed: dict[str, str] | None = None) -> Licence:
    """The licence of the record's legal entity, from ``rng`` (its own stream, so that a dossier
    with a licence keeps every other page as it was); ``printed`` (a licence_differs plan) gives
    another name, credit code or an end of 营业期限 instead of the entity's own."""
    identity = record["identity"]
    submitted = date.fromisoformat(record["workflow"]["submitted"])
    name = identity["legal_entity"]
    founded = date(rng.randrange(1958, 2016), rng.randrange(1, 13), rng.randrange(1, 29))
    if "股份" in name:
        kind = rng.choice(("股份有限公司（非上市、自然人投资或控股）", "其他股份有限公司（非上市）"))
    elif "有限公司" in name:
        kind = rng.choice(("有限责任公司（自然人投资或控股）", "有限责任公司（国有控股）"))
    else:
        kind = "全民所有制"
    term_until: date | None = None
    if rng.random() < 0.35:  # a term of 20 to 50 years that runs past the review
        term_until = founded.replace(year=founded.year + rng.choice((20, 30, 50))) \
            - timedelta(days=1)
        while term_until <= submitted + timedelta(days=365):
            term_until = term_until.replace(year=term_until.year + 20)
    surname, _ = rng.choice(vocab.SURNAMES)
    given, _ = rng.choice(vocab.GIVEN_NAMES)
    capital = f"{rng.choice((500, 1000, 2000, 3000, 5000, 6800, 10000))}万元人民币"
    issued = submitted - timedelta(days=rng.randrange(60, 1500))
    printed = printed or {}
    if "term_until" in printed:
        term_until = date.fromisoformat(printed["term_until"])
        founded = min(founded, term_until.replace(year=term_until.year - 20))
        issued = min(issued, term_until - timedelta(days=rng.randrange(30, 300)))
    return Licence(
        name=printed.get("name", name), credit_code=printed.get("credit_code",
                                                                identity["credit_code"]),
        kind=kind, representative=surname + given, capital=capital, founded=founded,
        term_until=term_until, address=identity["address"],
        authority=f"{profile.city.name}市场监督管理局", issued=issued)


def licence_term(licence: Licence) -> str:
    """营业期限 as printed: from the founding date to 长期, or to its last day."""
    end = "长期" if licence.term_until is None else format_date(licence.term_until.isoformat())
    return f"{format_date(licence.founded.isoformat())}至{end}"


def licence_page(record: dict[str, Any], profile: Any, licence: Licence,
                 rng: random.Random) -> PageSpec:
    """A photocopy of the 营业执照 (副本), stamped 复印件与原件一致 with the entity's seal."""
    page = PageSpec("certificate")
    _certificate_frame(page)
    x = MARGIN + 10 * MM
    width = CONTENT_W - 20 * MM
    code = page.text(x, 44 * MM, f"统一社会信用代码  {licence.credit_code}", fonts.SERIF, 12.0)
    page.items.append(Frame(MARGIN + CONTENT_W - 34 * MM, 30 * MM, 22 * MM, 22 * MM, width=0.8,
                            color=(0.2, 0.2, 0.2)))  # where the licence's QR code is
    centred(page, "营  业  执  照", 74 * MM, fonts.SERIF_BOLD, 34.0)
    centred(page, "（副    本）", 86 * MM, fonts.SERIF, 14.0)
    y = 104 * MM
    boxes: dict[str, Any] = {}
    rows = (("name", "名        称", licence.name), ("kind", "类        型", licence.kind),
            ("representative", "法定代表人", licence.representative),
            ("capital", "注册资本", licence.capital),
            ("founded", "成立日期", format_date(licence.founded.isoformat())),
            ("term_until", "营业期限", licence_term(licence)),
            ("address", "住        所", licence.address))
    for key, label, value in rows:
        size = fit_size(f"{label}  {value}", fonts.SERIF, 13.0, width)
        boxes[key] = page.text(x, y, f"{label}  {value}", fonts.SERIF, size).box
        y += 10 * MM
        if key == "representative":  # the business scope, wrapped, after the representative
            lines = wrap(_LICENCE_SCOPE, fonts.SERIF, 11.0, width - 30 * MM)
            page.text(x, y, "经营范围", fonts.SERIF, 13.0)
            for line in lines[:4]:
                page.text(x + 30 * MM, y, line, fonts.SERIF, 11.0)
                y += 6.5 * MM
            y += 4 * MM
    right = MARGIN + CONTENT_W - 12 * MM
    authority = right_aligned(page, f"登记机关  {licence.authority}", right, 236 * MM,
                              fonts.SERIF, 12.0)
    right_aligned(page, format_date(licence.issued.isoformat()), right, 246 * MM, fonts.SERIF,
                  12.0)
    centred(page, "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", 262 * MM, fonts.SERIF, 9.0)
    centred(page, "市场主体应当于每年1月1日至6月30日通过国家企业信用信息公示系统报送公示年度报告。",
            268 * MM, fonts.SERIF, 9.0)
    page.seals.append(seal_spot(rng, authority.x + authority.width * 0.7, authority.baseline + 2 * MM,
                                licence.authority, "certification_body", "certificate",
                                spread_mm=2.0))
    _copy_stamps(page, record, profile, rng, x + 36 * MM, 240 * MM)
    page.notes.append({
        "type": "licence", "name": licence.name, "name_box": boxes["name"],
        "credit_code": licence.credit_code, "credit_code_box": code.box,
        "term_until": licence.term_until.isoformat() if licence.term_until else "长期",
        "term_until_box": boxes["term_until"], "representative": licence.representative})
    return page


# The association's letter --------------------------------------------------------------------

_LETTER_COLS = (12 * MM, 70 * MM, 60 * MM, CONTENT_W - 142 * MM)
_LETTER_HEADERS = ("序号", "实验室名称", "归属法人单位", "初审确认意见")
LETTER_OPINION = "同意"


def letter_title() -> str:
    return "关于工业产品质量控制和技术评价实验室复核初审确认意见的函"


def letter_page(spec: LetterSpec, campaign: str, rng: random.Random) -> PageSpec:
    page = PageSpec("letter")
    association = spec.association
    head_size = fit_size(association.name, fonts.SERIF_BOLD, 30.0, CONTENT_W - 10 * MM)
    centred(page, association.name, 38 * MM, fonts.SERIF_BOLD, head_size, RED)
    centred(page, spec.number, 50 * MM, fonts.SERIF, 12.0)
    page.items += [Rule(MARGIN, 54 * MM, MARGIN + CONTENT_W, 54 * MM, 2.0, RED),
                   Rule(MARGIN, 55.2 * MM, MARGIN + CONTENT_W, 55.2 * MM, 0.6, RED)]
    y = 68 * MM
    for line in wrap(letter_title(), fonts.SERIF_BOLD, 16.0, CONTENT_W):
        centred(page, line, y, fonts.SERIF_BOLD, 16.0)
        y += 24
    y += 6 * MM
    page.text(MARGIN, y, SECRETARIAT, fonts.SERIF, 12.0)
    y += 9 * MM
    body = (f"根据《{campaign[:4]}年工业产品质量控制和技术评价实验室复核工作方案》要求，我会组织对本行业"
            f"所属的{len(spec.rows)}家实验室复核申请材料进行了初审确认。经确认，下列实验室复核申请材料"
            "完整、规范，推荐单位初审意见明确，同意通过初审确认。")
    y = _paragraph(page, body, MARGIN, y, CONTENT_W, 12.0) + 2 * MM
    y = _letter_table(page, spec.rows, y)
    y = _paragraph(page, "特此函告。", MARGIN, y + 8 * MM, CONTENT_W, 12.0)
    right = MARGIN + CONTENT_W - 12 * MM
    name = right_aligned(page, association.name, right, y + 16 * MM, fonts.SERIF, 12.0)
    letter_date = format_date(spec.date)
    date_text = right_aligned(page, letter_date, right, y + 25 * MM, fonts.SERIF, 12.0)
    page.text(MARGIN, PAGE_H - 26 * MM, f"（联系人：{spec.contact}；联系电话：{spec.phone}）",
              fonts.SERIF, 10.5)
    page.seals.append(seal_spot(rng, name.x + name.width / 2, (name.baseline + date_text.baseline)
                                / 2 - 4 * MM, association.name, "association", "letter"))
    page.notes.append({"type": "letter", "number": spec.number, "date": letter_date,
                       "date_box": date_text.box, "signature_box": name.box})
    return page


def _letter_table(page: PageSpec, rows: tuple[LetterRow, ...], top: float) -> float:
    xs = [MARGIN]
    for w in _LETTER_COLS:
        xs.append(xs[-1] + w)
    size = 10.5
    header_h = 9 * MM
    for i, text in enumerate(_LETTER_HEADERS):
        centred(page, text, top + header_h / 2 + 0.38 * size, fonts.SANS_BOLD, size,
                x0=xs[i], width=_LETTER_COLS[i])
    heights = [header_h]
    cells: list[list[list[str]]] = []
    for n, row in enumerate(rows, start=1):
        cols = [[str(n)],
                wrap(row.lab_name, fonts.SANS, size, _LETTER_COLS[1] - 3 * MM),
                wrap(row.legal_entity, fonts.SANS, size, _LETTER_COLS[2] - 3 * MM),
                [LETTER_OPINION]]
        cells.append(cols)
        heights.append(max(9 * MM, max(len(c) for c in cols) * 14.5 + 4 * MM))
    y = top + header_h
    for n, (cols, height) in enumerate(zip(cells, heights[1:], strict=True)):
        boxes = []
        for i, lines in enumerate(cols):
            baseline = y + (height - len(lines) * 14.5) / 2 + 14.5 / 2 + 0.38 * size
            for line in lines:
                if i in (0, 3):
                    drawn = centred(page, line, baseline, fonts.SANS, size, x0=xs[i],
                                    width=_LETTER_COLS[i])
                else:
                    drawn = page.text(xs[i] + 1.5 * MM, baseline, line, fonts.SANS, size)
                boxes.append((i, drawn.box))
                baseline += 14.5
        row = rows[n]
        page.notes.append({
            "type": "letter_row", "row": n + 1, "lab_id": row.lab_id, "lab_name": row.lab_name,
            "legal_entity": row.legal_entity, "opinion": LETTER_OPINION,
            "box": union([b for _, b in boxes]),
            "lab_name_box": union([b for i, b in boxes if i == 1]),
        })
        y += height
    bottom = y
    y = top
    for h in heights:
        page.items.append(Rule(xs[0], y, xs[-1], y))
        y += h
    page.items.append(Rule(xs[0], bottom, xs[-1], bottom))
    page.items += [Rule(x, top, x, bottom) for x in xs]
    return bottom

