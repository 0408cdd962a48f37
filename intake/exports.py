"""What the web service hands out besides the report itself: the campaign workbook, a printable
PDF of one report, the feedback notice (形式审查意见反馈) sent to a lab, and annotated page images.

Every function works on the report JSON (``intake.report.report_json``) and page image files;
reviewers' decisions come in as ``FindingDecision`` keyed by the finding's index in
``report["findings"]``.
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol

import cv2
import numpy as np
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from intake.model import Box, Status
from intake.report import STATUS_ZH, VERDICT_ZH, evidence_crop, summary_of

DECISION_ZH = {"confirm": "确认", "dismiss": "驳回"}
UNDECIDED = "未处理"
NOT_REVIEWED = "未审查"
_STATUS_ZH = {status.value: text for status, text in STATUS_ZH.items()}


@dataclass(frozen=True)
class FindingDecision:
    """A reviewer's decision on one finding: ``confirm`` (the problem stands) or ``dismiss``."""

    decision: str  # "confirm" | "dismiss"
    reason: str
    reviewer: str
    at: str  # ISO 8601


NO_DECISIONS: Mapping[int, FindingDecision] = MappingProxyType({})  # the default: nothing decided yet


@dataclass(frozen=True)
class LabReport:
    """One lab of a campaign as the workbook lists it."""

    lab_id: str
    lab_name: str
    recommending_unit: str
    report: dict[str, Any] | None  # report JSON; None while the lab has not been reviewed
    dispositions: Mapping[int, FindingDecision]


class Disposition(Protocol):
    """A stored decision as the database keeps it: on one finding by index, or by rule (and
    field) on every finding that matches."""

    @property
    def finding_index(self) -> int | None: ...
    @property
    def rule(self) -> str | None: ...
    @property
    def field(self) -> str | None: ...
    @property
    def decision(self) -> str: ...
    @property
    def reason(self) -> str: ...
    @property
    def reviewer(self) -> str: ...
    @property
    def created_at(self) -> datetime | str: ...


def decisions_by_finding(findings: Sequence[Mapping[str, Any]],
                         dispositions: Iterable[Disposition]) -> dict[int, FindingDecision]:
    """The decision that counts for each finding: ``dispositions`` oldest first, a later one
    replacing an earlier one on the same finding."""
    decided: dict[int, FindingDecision] = {}
    for d in dispositions:
        if d.finding_index is not None:
            indexes: Iterable[int] = [d.finding_index] if 0 <= d.finding_index < len(findings) else []
        else:
            indexes = [i for i, f in enumerate(findings) if f.get("rule") == d.rule
                       and (d.field is None or f.get("field") == d.field)]
        at = d.created_at.isoformat() if isinstance(d.created_at, datetime) else str(d.created_at)
        for i in indexes:
            decided[i] = FindingDecision(d.decision, d.reason, d.reviewer, at)
    return decided


def _where(location: Mapping[str, Any] | None) -> str:
    if not location:
        return ""
    return f"{location['document']} 第{location['page']}页"


def _decision_zh(decision: FindingDecision | None) -> str:
    return DECISION_ZH.get(decision.decision, decision.decision) if decision else UNDECIDED


# Campaign workbook -------------------------------------------------------------------------

SUMMARY_HEADER = ("实验室编号", "实验室名称", "推荐单位", "审查结论", "不一致/不符合", "待人工核对",
                  "通过", "审查时间")
SUMMARY_WIDTHS = (14, 40, 30, 16, 14, 12, 8, 26)
FINDINGS_HEADER = ("实验室编号", "实验室名称", "规则", "检查项", "结论", "栏目", "网上申报值",
                   "纸质材料值", "位置", "说明", "复核结论", "理由", "复核人", "复核时间")
FINDINGS_WIDTHS = (14, 32, 22, 28, 14, 20, 28, 28, 22, 60, 10, 30, 12, 26)


def _cell_text(value: Any) -> Any:
    """A value safe to put in a cell: strings lose control characters (which openpyxl refuses)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def _sheet(sheet: Worksheet, header: Sequence[str], widths: Sequence[int],
           rows: Iterable[Sequence[Any]]) -> None:
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE3EA")
        cell.alignment = Alignment(vertical="center")
    for row in rows:
        sheet.append([_cell_text(v) for v in row])
        for cell in sheet[sheet.max_row]:
            # Text read off paper or typed online is never a formula, even when it starts with "=".
            if cell.data_type == "f":
                cell.data_type = "s"
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{max(sheet.max_row, 1)}"


def campaign_xlsx(rows: Sequence[LabReport]) -> bytes:
    """The campaign as a workbook: sheet 汇总 has one row per lab, sheet 问题清单 one row per
    failed or uncertain finding with its reviewer decision (what the secretariat works from),
    and sheet 全部检查 one row per finding of every lab, passing checks included."""
    summary = []
    problems = []
    every = []
    for lab in rows:
        data = lab.report
        if data is None:
            summary.append((lab.lab_id, lab.lab_name, lab.recommending_unit, NOT_REVIEWED,
                            None, None, None, None))
            continue
        counts = data.get("summary", {})
        summary.append((lab.lab_id, lab.lab_name, lab.recommending_unit,
                        VERDICT_ZH.get(data["verdict"], data["verdict"]), counts.get("fail", 0),
                        counts.get("uncertain", 0), counts.get("pass", 0), data.get("created_at")))
        for index, f in enumerate(data["findings"]):
            decision = lab.dispositions.get(index)
            row = (
                lab.lab_id, lab.lab_name, f["rule"], f["title"], _STATUS_ZH.get(f["status"]),
                f.get("label"), f.get("expected"), f.get("found"), _where(f.get("location")),
                f["message"], _decision_zh(decision), decision.reason if decision else None,
                decision.reviewer if decision else None, decision.at if decision else None,
            )
            every.append(row)
            if f["status"] != "pass":
                problems.append(row)
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "汇总"
    _sheet(first, SUMMARY_HEADER, SUMMARY_WIDTHS, summary)
    _sheet(book.create_sheet("问题清单"), FINDINGS_HEADER, FINDINGS_WIDTHS, problems)
    _sheet(book.create_sheet("全部检查"), FINDINGS_HEADER, FINDINGS_WIDTHS, every)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# PDF ---------------------------------------------------------------------------------------

FONT = "STSong-Light"
PAGE_MARGIN = 15 * mm
CONTENT_WIDTH = A4[0] - 2 * PAGE_MARGIN
CROP_WIDTH, CROP_HEIGHT = 120 * mm, 70 * mm


@cache
def _font() -> str:
    # A CID font ships inside every PDF reader: nothing to embed, nothing to find on disk.
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


@dataclass(frozen=True)
class _Styles:
    title: ParagraphStyle
    heading: ParagraphStyle
    body: ParagraphStyle
    small: ParagraphStyle


@cache
def _styles() -> _Styles:
    font = _font()

    def style(name: str, size: float, **extra: Any) -> ParagraphStyle:
        # Chinese breaks between any two characters, not at spaces.
        return ParagraphStyle(name, fontName=font, fontSize=size, leading=size * 1.45,
                              wordWrap="CJK", **extra)

    return _Styles(title=style("title", 17, alignment=1, spaceAfter=4 * mm),
                   heading=style("heading", 12, spaceBefore=4 * mm, spaceAfter=2 * mm),
                   body=style("body", 10, spaceAfter=1.5 * mm),
                   small=style("small", 8.5))


def _p(text: Any, style: ParagraphStyle) -> Paragraph:
    """A paragraph of plain text (reportlab would read ``<`` and ``&`` as its own markup)."""
    return Paragraph(html.escape("" if text is None else str(text)).replace("\n", "<br/>"), style)


def _table(rows: list[list[Any]], widths: Sequence[float], header: bool = True) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#9aa4ae")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#dde3ea")))
    table.setStyle(TableStyle(commands))
    return table


def _pdf(story: list[Flowable], title: str, footer: str) -> bytes:
    font = _font()

    def number(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8)
        canvas.drawCentredString(A4[0] / 2, 8 * mm, f"{footer} · 第 {doc.page} 页")
        canvas.restoreState()

    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=PAGE_MARGIN, rightMargin=PAGE_MARGIN,
                            topMargin=PAGE_MARGIN, bottomMargin=PAGE_MARGIN, title=title)
    doc.build(story, onFirstPage=number, onLaterPages=number)
    return out.getvalue()


def _scaled(box: Sequence[int], sx: float, sy: float) -> Box:
    x, y, w, h = box
    return Box(round(x * sx), round(y * sy), max(1, round(w * sx)), max(1, round(h * sy)))


class _PageImages:
    """Page images loaded on first use, with each page's size and dpi from the report."""

    def __init__(self, data: Mapping[str, Any], images: Mapping[tuple[str, int], str]) -> None:
        self.pages = {(p["document"], p["page"]): p for p in data.get("pages", [])}
        self.images = images
        self.loaded: dict[tuple[str, int], np.ndarray | None] = {}

    def image(self, key: tuple[str, int]) -> np.ndarray | None:
        if key not in self.loaded:
            path = self.images.get(key)
            self.loaded[key] = cv2.imread(path) if path and Path(path).is_file() else None
        return self.loaded[key]

    def crop(self, location: Mapping[str, Any] | None) -> bytes | None:
        """The evidence crop of a finding's location, None without a page image."""
        if not location:
            return None
        key = (location["document"], int(location["page"]))
        image = self.image(key)
        page = self.pages.get(key)
        if image is None or page is None:
            return None
        # Boxes are in the page's pixels at page["dpi"]; the stored image may be smaller.
        sx, sy = image.shape[1] / page["width"], image.shape[0] / page["height"]
        box = _scaled(location["box"], sx, sy) if location.get("box") else None
        crop = evidence_crop(image, box, max(1, round(page["dpi"] * sx)))
        return crop or None


def _image(jpeg: bytes, max_width: float, max_height: float) -> Image:
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise ValueError("an evidence crop is not a readable JPEG")
    height, width = decoded.shape[:2]
    scale = min(max_width / width, max_height / height)
    picture = Image(io.BytesIO(jpeg), width=width * scale, height=height * scale)
    picture.hAlign = "LEFT"
    return picture


def _decision_text(decision: FindingDecision | None) -> str:
    if decision is None:
        return UNDECIDED
    return f"{_decision_zh(decision)}：{decision.reason}（{decision.reviewer}）"


def report_pdf(data: dict[str, Any], images: Mapping[tuple[str, int], str],
               decisions: Mapping[int, FindingDecision] = NO_DECISIONS) -> bytes:
    """One lab's report as a printable A4 PDF; ``images`` maps (document, page) to the page image
    file, and a failed or uncertain finding whose page image exists gets its evidence crop."""
    s = _styles()
    findings: list[dict[str, Any]] = data["findings"]
    counts = data.get("summary", {})
    pages = _PageImages(data, images)
    verdict = VERDICT_ZH.get(data["verdict"], data["verdict"])
    story: list[Flowable] = [
        _p(f"形式审查报告：{data['lab_name']}", s.title),
        _table([[_p("实验室编号", s.body), _p(data["lab_id"], s.body),
                 _p("复核年度", s.body), _p(data.get("campaign"), s.body)],
                [_p("审查结论", s.body), _p(verdict, s.body),
                 _p("生成时间", s.body), _p(data.get("created_at"), s.body)],
                [_p("检查项统计", s.body),
                 _p(f"不一致/不符合 {counts.get('fail', 0)} 项；待人工核对 "
                    f"{counts.get('uncertain', 0)} 项；通过 {counts.get('pass', 0)} 项", s.body),
                 _p("材料", s.body),
                 _p("、".join(f"{d['name']}（{d['pages']}页）" for d in data.get("documents", [])),
                    s.body)]],
               [24 * mm, 66 * mm, 22 * mm, CONTENT_WIDTH - 112 * mm], header=False),
        _p(summary_of(data)["headline"], s.heading),
        _p(summary_of(data)["text"], s.body),
        _p("检查项一览", s.heading),
    ]
    header = ["序号", "检查项", "结论", "栏目", "网上申报值", "纸质材料值", "位置", "复核"]
    rows: list[list[Any]] = [[_p(h, s.small) for h in header]]
    for index, f in enumerate(findings):
        rows.append([_p(index + 1, s.small), _p(f["title"], s.small),
                     _p(_STATUS_ZH.get(f["status"], f["status"]), s.small), _p(f.get("label"), s.small),
                     _p(f.get("expected"), s.small), _p(f.get("found"), s.small),
                     _p(_where(f.get("location")), s.small),
                     _p(_decision_text(decisions.get(index)) if f["status"] != "pass"
                        or index in decisions else "", s.small)])
    widths = [10 * mm, 34 * mm, 18 * mm, 22 * mm, 26 * mm, 26 * mm, 22 * mm]
    story.append(_table(rows, [*widths, CONTENT_WIDTH - sum(widths)]))

    open_items = [(i, f) for i, f in enumerate(findings) if f["status"] != "pass"]
    if open_items:
        story.append(_p("问题详情", s.heading))
    for index, f in open_items:
        block: list[Flowable] = [
            _p(f"{index + 1}. {f['title']}（{_STATUS_ZH.get(f['status'], f['status'])}）", s.body),
            _p(f["message"], s.body),
            _p(f"规则 {f['rule']}；依据 {f['clause']}", s.small),
        ]
        if index in decisions:
            block.append(_p(f"复核：{_decision_text(decisions[index])}，{decisions[index].at}", s.small))
        crop = pages.crop(f.get("location"))
        if crop:
            block += [Spacer(1, 1.5 * mm), _image(crop, CROP_WIDTH, CROP_HEIGHT)]
        block.append(Spacer(1, 4 * mm))
        story.append(KeepTogether(block))
    if not open_items:
        story.append(_p("所有检查项均通过。", s.body))
    return _pdf(story, f"形式审查报告 {data['lab_name']}", f"形式审查报告 · {data['lab_id']}")


# Feedback notice ---------------------------------------------------------------------------

def notice_findings(data: Mapping[str, Any],
                    decisions: Mapping[int, FindingDecision] = NO_DECISIONS) -> list[int]:
    """Indexes of the findings the lab is asked to correct: every failed finding a reviewer has
    not dismissed, and every uncertain one a reviewer has confirmed."""
    def asked(status: str, decision: FindingDecision | None) -> bool:
        if status == "fail":
            return decision is None or decision.decision != "dismiss"
        return status == "uncertain" and decision is not None and decision.decision == "confirm"

    return [i for i, f in enumerate(data["findings"]) if asked(f["status"], decisions.get(i))]


def pending_findings(data: Mapping[str, Any],
                     decisions: Mapping[int, FindingDecision] = NO_DECISIONS) -> list[int]:
    """Indexes of uncertain findings no reviewer has decided: the notice leaves them out, so a
    notice sent while this is not empty may be incomplete."""
    return [i for i, f in enumerate(data["findings"])
            if f["status"] == "uncertain" and i not in decisions]


@dataclass(frozen=True)
class _Item:
    title: str
    text: str
    expected: str | None
    found: str | None
    where: str


@dataclass(frozen=True)
class _Notice:
    lab_name: str
    lab_id: str
    campaign: str
    opening: str
    summary: str  # the verdict's paragraph, after the reviewers' decisions
    conclusion: str
    items: tuple[_Item, ...]
    closing: str
    issued: str


def _item(f: Mapping[str, Any]) -> _Item:
    expected, found = f.get("expected"), f.get("found")
    if f.get("field"):
        # A field's message is written for the reviewer; the lab is asked, never accused, since a
        # difference may as well be a misreading as a typo.
        copy = (f.get("evidence") or {}).get("copy")
        where = f"第{copy}份中" if copy else "纸质材料中"
        label = f.get("label") or f["field"]
        if expected is not None and found is not None:
            text = (f"{where}「{label}」网上申报为“{expected}”，纸质材料为“{found}”，"
                    "可能存在填报不一致，请核实。")
        else:
            text = f"{where}「{label}」未能找到或辨认，请核实该栏目是否缺失或不清晰。"
    else:
        text = f["message"]
    return _Item(f["title"], text, expected, found, _where(f.get("location")))


def _notice(data: Mapping[str, Any], decisions: Mapping[int, FindingDecision],
            issued: date | None) -> _Notice:
    items = tuple(_item(data["findings"][i]) for i in notice_findings(data, decisions))
    campaign = str(data.get("campaign", ""))
    opening = (f"根据{campaign}年工业产品质量控制和技术评价实验室复核工作安排，秘书处对贵实验室"
               "报送的纸质申请材料进行了形式审查（材料的格式及其与网上系统材料的一致性）。")
    if items:
        conclusion = (f"经审查，以下 {len(items)} 处需要核实或更正。请贵实验室逐项核实，"
                      "如需更正，请将更正后的材料经推荐单位报送秘书处。")
    else:
        conclusion = "经审查，未发现需要更正的问题。"
    return _Notice(
        lab_name=str(data["lab_name"]), lab_id=str(data["lab_id"]), campaign=campaign,
        opening=opening, summary=_decided_summary(data, decisions), conclusion=conclusion,
        items=items,
        closing="如对上述意见有疑问，请与秘书处联系。",
        issued=f"{issued.year}年{issued.month}月{issued.day}日" if issued else "　　年　　月　　日",
    )


def _decided_summary(data: Mapping[str, Any], decisions: Mapping[int, FindingDecision]) -> str:
    """The verdict's paragraph as the lab reads it: what the notice asks about fails, the rest
    (dismissed, or uncertain and not confirmed) is not held against the lab."""
    asked = set(notice_findings(data, decisions))
    decided = {i: Status.FAIL if i in asked else Status.PASS for i in range(len(data["findings"]))}
    return str(summary_of(data, decided)["text"])


_NOTICE_CSS = """
body{font-family:"Noto Serif CJK SC","SimSun",serif;max-width:760px;margin:32px auto;color:#111;
 line-height:1.8;font-size:16px}
h1{text-align:center;font-size:22px;margin-bottom:24px}
ol{padding-left:1.5em}li{margin-bottom:12px}.item-title{font-weight:bold}
table{border-collapse:collapse;margin:4px 0;font-size:14px}
td{border:1px solid #999;padding:2px 8px;vertical-align:top}td:first-child{white-space:nowrap}
.sign{text-align:right;margin-top:40px}
"""


def feedback_notice(data: dict[str, Any], decisions: Mapping[int, FindingDecision] = NO_DECISIONS,
                    *, issued: date | None = None) -> str:
    """The 形式审查意见反馈 notice to the lab as one HTML page; without ``issued`` the date is
    left blank to be written in by hand."""
    n = _notice(data, decisions, issued)
    e = html.escape
    items = []
    for item in n.items:
        values = "".join(f"<tr><td>{key}</td><td>{e(value)}</td></tr>" for key, value in (
            ("网上申报值", item.expected), ("纸质材料值", item.found), ("位置", item.where)) if value)
        items.append(f'<li><div class="item-title">{e(item.title)}</div><div>{e(item.text)}</div>'
                     + (f"<table>{values}</table>" if values else "") + "</li>")
    listing = f"<ol>{''.join(items)}</ol>" if items else ""
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<title>形式审查意见反馈 · {e(n.lab_name)}</title><style>{_NOTICE_CSS}</style></head>
<body><h1>形式审查意见反馈</h1>
<p>{e(n.lab_name)}（编号 {e(n.lab_id)}）：</p>
<p>{e(n.opening)}</p>
<p>{e(n.summary)}</p>
<p>{e(n.conclusion)}</p>
{listing}
<p>{e(n.closing)}</p>
<div class="sign"><div>复核工作秘书处</div><div>{e(n.issued)}</div></div>
</body></html>
"""


def feedback_notice_pdf(data: dict[str, Any], decisions: Mapping[int, FindingDecision] = NO_DECISIONS,
                        *, issued: date | None = None) -> bytes:
    """The same notice as ``feedback_notice``, as an A4 PDF."""
    n = _notice(data, decisions, issued)
    s = _styles()
    right = ParagraphStyle("right", parent=s.body, alignment=2)
    story: list[Flowable] = [
        _p("形式审查意见反馈", s.title),
        _p(f"{n.lab_name}（编号 {n.lab_id}）：", s.body),
        _p(n.opening, s.body),
        _p(n.summary, s.body),
        _p(n.conclusion, s.body),
    ]
    for number, item in enumerate(n.items, start=1):
        rows = [[_p(key, s.small), _p(value, s.small)] for key, value in (
            ("网上申报值", item.expected), ("纸质材料值", item.found), ("位置", item.where)) if value]
        block: list[Flowable] = [_p(f"{number}. {item.title}", s.body), _p(item.text, s.body)]
        if rows:
            block.append(_table(rows, [24 * mm, CONTENT_WIDTH - 30 * mm], header=False))
        block.append(Spacer(1, 3 * mm))
        story.append(KeepTogether(block))
    # reportlab folds runs of spaces, so a blank date to write in keeps its room as &nbsp;
    signed = _p(n.issued, right) if issued else Paragraph(
        "&nbsp;" * 8 + "年" + "&nbsp;" * 5 + "月" + "&nbsp;" * 5 + "日", right)
    story += [_p(n.closing, s.body), Spacer(1, 12 * mm), _p("复核工作秘书处", right), signed]
    return _pdf(story, f"形式审查意见反馈 {n.lab_name}", f"形式审查意见反馈 · {n.lab_id}")


# Annotated page ----------------------------------------------------------------------------

# BGR, as OpenCV draws.
SEAL_READ = (0, 160, 0)  # a seal whose text was read
SEAL_UNREAD = (200, 0, 200)  # a seal found but not read
FINDING_COLOURS = {"fail": (0, 0, 255), "uncertain": (0, 140, 255)}


def annotate_page(image: np.ndarray, page: dict[str, Any],
                  findings: Sequence[dict[str, Any]]) -> bytes:
    """A JPEG of the page with its seals boxed (green when their text was read, magenta when not)
    and each failed (red) or uncertain (orange) finding on this page boxed and labelled with its
    1-based position in ``findings``, as the PDF report numbers it.

    Boxes are in the page's pixels (``page["width"]`` x ``page["height"]`` at ``page["dpi"]``);
    ``image`` may be a smaller or larger rendering of the same page and is drawn on at its size.
    """
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image.copy()
    height, width = canvas.shape[:2]
    sx, sy = width / page["width"], height / page["height"]
    thick = max(2, round(min(width, height) / 400))
    for seal in page.get("seals", []):
        box = _scaled(seal["bbox"], sx, sy)
        colour = SEAL_READ if seal.get("text") else SEAL_UNREAD
        cv2.rectangle(canvas, (box.x, box.y), (box.x2, box.y2), colour, thick)
    for index, f in enumerate(findings):
        location = f.get("location")
        drawn = FINDING_COLOURS.get(f["status"])
        if (drawn is None or not location or not location.get("box")
                or location["document"] != page["document"] or location["page"] != page["page"]):
            continue
        box = _scaled(location["box"], sx, sy)
        cv2.rectangle(canvas, (box.x, box.y), (box.x2, box.y2), drawn, thick)
        _label(canvas, str(index + 1), box, drawn, thick)
    ok, buf = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        raise ValueError("the annotated page could not be encoded as JPEG")
    return bytes(buf.tobytes())


def _label(canvas: np.ndarray, text: str, box: Box, colour: tuple[int, int, int], thick: int) -> None:
    """The finding's number in a filled tag just above the box's top left (inside when the box
    touches the top edge)."""
    scale = max(0.5, canvas.shape[0] / 2000)
    (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thick)
    pad = thick * 2
    tag_h = th + base + 2 * pad
    top = box.y - tag_h if box.y >= tag_h else box.y
    cv2.rectangle(canvas, (box.x, top), (box.x + tw + 2 * pad, top + tag_h), colour, cv2.FILLED)
    cv2.putText(canvas, text, (box.x + pad, top + pad + th), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), thick, cv2.LINE_AA)
