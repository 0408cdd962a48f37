"""The report as JSON (the schema in docs/report-schema.md) and as one self-contained HTML page."""

from __future__ import annotations

import base64
import html
from collections import Counter
from collections.abc import Mapping
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from intake.model import (
    Box,
    Document,
    DocumentKind,
    Finding,
    Location,
    Page,
    PageKind,
    Report,
    ScanQuality,
    Seal,
    SealPlace,
    SealShape,
    Status,
    TextSource,
    Verdict,
)
from intake.verdict import summarise

STATUS_ORDER = {Status.FAIL: 0, Status.UNCERTAIN: 1, Status.PASS: 2}
STATUS_ZH = {Status.FAIL: "不一致/不符合", Status.UNCERTAIN: "待人工核对", Status.PASS: "通过"}
VERDICT_ZH = {"pass": "通过形式审查", "fail": "未通过形式审查", "review": "需人工复核"}


def _location(location: Location | None) -> dict[str, Any] | None:
    if location is None:
        return None
    return {"document": location.document, "page": location.page,
            "box": location.box.as_list() if location.box else None}


def finding_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule, "title": f.title, "status": f.status.value, "clause": f.clause,
        "message": f.message, "field": f.field, "label": f.label, "expected": f.expected,
        "found": f.found, "location": _location(f.location), "evidence": f.evidence,
    }


def page_json(p: Page) -> dict[str, Any]:
    return {
        "document": p.document, "page": p.number, "kind": p.kind.value,
        "kind_confidence": round(p.kind_confidence, 2), "kind_detail": p.kind_detail,
        "width": p.width,
        "height": p.height, "dpi": p.dpi, "rotation": p.rotation, "skew": round(p.skew, 2),
        "text_source": p.text_source.value, "footer": list(p.footer) if p.footer else None,
        "seconds": round(p.seconds, 3),
        "quality": None if p.quality is None else {
            "edge_mm": None if p.quality.edge_mm is None else round(p.quality.edge_mm, 3),
            "paper": round(p.quality.paper, 1), "contrast": round(p.quality.contrast, 1),
            "scan_dpi": p.quality.scan_dpi},
        "seals": [seal_json(s) for s in p.seals],
    }


def seal_json(s: Seal) -> dict[str, Any]:
    """A seal as reports (and ``dossier seals``) give it: ``text`` "" where none was read."""
    return {"bbox": s.box.as_list(), "shape": s.shape.value, "color": s.color,
            "complete": s.complete, "score": round(s.score, 3), "text": s.text,
            "text_score": round(s.text_score, 3), "place": s.place.value, "on": list(s.on)}


def _location_of(data: Mapping[str, Any] | None) -> Location | None:
    if data is None:
        return None
    box = data.get("box")
    return Location(data["document"], int(data["page"]), Box(*box) if box else None)


def _finding_of(f: Mapping[str, Any], status: Status | None = None) -> Finding:
    return Finding(rule=f["rule"], title=f["title"], status=status or Status(f["status"]),
                   clause=f["clause"], message=f["message"], field=f.get("field"),
                   label=f.get("label"), expected=f.get("expected"), found=f.get("found"),
                   location=_location_of(f.get("location")), evidence=f.get("evidence") or {})


def summary_of(data: Mapping[str, Any],
               decided: Mapping[int, Status] | None = None) -> dict[str, Any]:
    """The verdict's headline, grounds and paragraph for a stored report JSON.

    Without ``decided`` it is the report's own (rebuilt from its findings for a report stored
    before it carried one); ``decided`` maps finding indexes to the status a reviewer settled
    on, and the summary is then the one after review.
    """
    summary = data.get("summary") or {}
    if not decided and "text" in summary:
        return {k: summary[k] for k in ("headline", "text", "grounds")}
    decided = decided or {}
    findings = [_finding_of(f, decided.get(i)) for i, f in enumerate(data["findings"])]
    verdict = None if decided else Verdict(data["verdict"])
    return summarise(findings, verdict).as_dict()


def report_from_json(data: dict[str, Any]) -> Report:
    """The report a stored ``report_json`` was made from, for re-rendering without re-reading
    any page. Page lines and cells are not kept in the JSON and come back empty."""
    if str(data.get("version")) != "1":
        raise ValueError(f"report version {data.get('version')!r} is not version 1")
    findings = tuple(_finding_of(f) for f in data["findings"])
    documents = tuple(Document(d["name"], d["sha256"], d["size"], DocumentKind(d["kind"]),
                               d["pages"]) for d in data["documents"])
    pages = tuple(
        Page(document=p["document"], number=p["page"], width=p["width"], height=p["height"],
             dpi=p["dpi"], rotation=p["rotation"], skew=p["skew"],
             text_source=TextSource(p["text_source"]), kind=PageKind(p["kind"]),
             kind_confidence=p.get("kind_confidence", 0.0), kind_detail=p.get("kind_detail", ""),
             footer=(p["footer"][0], p["footer"][1]) if p["footer"] else None,
             seconds=p["seconds"],
             quality=ScanQuality(**p["quality"]) if p.get("quality") else None,
             seals=tuple(Seal(Box(*s["bbox"]), SealShape(s["shape"]), s["color"], s["complete"],
                              s["score"], s["text"], s["text_score"],
                              place=SealPlace(s.get("place", SealPlace.UNKNOWN)),
                              on=tuple(s.get("on", ()))) for s in p["seals"]))
        for p in data["pages"]
    )
    return Report(lab_id=data["lab_id"], lab_name=data["lab_name"], campaign=data["campaign"],
                  verdict=Verdict(data["verdict"]), findings=findings, documents=documents,
                  pages=pages, record_sha256=data["record_sha256"], created_at=data["created_at"],
                  seconds=data["seconds"], version=data["version"])


def sorted_findings(findings: tuple[Finding, ...]) -> list[Finding]:
    return sorted(findings, key=lambda f: STATUS_ORDER[f.status])


def report_json(report: Report) -> dict[str, Any]:
    counts = Counter(f.status.value for f in report.findings)
    summary = summarise(report.findings, report.verdict)
    return {
        "version": report.version,
        "lab_id": report.lab_id,
        "lab_name": report.lab_name,
        "campaign": report.campaign,
        "verdict": report.verdict.value,
        "summary": {**{s.value: counts.get(s.value, 0) for s in Status}, **summary.as_dict()},
        "created_at": report.created_at,
        "seconds": report.seconds,
        "record_sha256": report.record_sha256,
        "documents": [{"name": d.name, "sha256": d.sha256, "size": d.size, "kind": d.kind.value,
                       "pages": d.page_count} for d in report.documents],
        "pages": [page_json(p) for p in report.pages],
        "findings": [finding_json(f) for f in sorted_findings(report.findings)],
    }


# HTML ---------------------------------------------------------------------------------------

CROP_MAX_WIDTH = 760


def evidence_crop(image: np.ndarray, box: Box | None, dpi: int) -> bytes:
    """A JPEG of the region around ``box`` (or the whole page) with the box drawn in."""
    height, width = image.shape[:2]
    if box is None:
        region = Box(0, 0, width, height)
        crop = image.copy()
    else:
        # Enough of the row to the left to show the field's label beside its value.
        mm = dpi / 25.4
        x0, y0 = max(0, box.x - round(75 * mm)), max(0, box.y - round(10 * mm))
        x1, y1 = min(width, box.x2 + round(10 * mm)), min(height, box.y2 + round(10 * mm))
        region = Box(x0, y0, x1 - x0, y1 - y0)
        crop = image[region.y:region.y2, region.x:region.x2].copy()
        cv2.rectangle(crop, (box.x - region.x, box.y - region.y),
                      (box.x2 - region.x, box.y2 - region.y), (0, 0, 255), max(2, dpi // 100))
    if crop.shape[1] > CROP_MAX_WIDTH:
        scale = CROP_MAX_WIDTH / crop.shape[1]
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return buf.tobytes() if ok else b""


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:0;background:#f4f5f7;color:#1f2328}
header{background:#fff;border-bottom:1px solid #d0d7de;padding:16px 24px}
h1{font-size:20px;margin:0 0 6px}.meta{color:#57606a;font-size:13px}
.verdict{display:inline-block;padding:4px 12px;border-radius:4px;font-weight:bold;color:#fff}
.headline{font-weight:bold;margin-left:8px}.paragraph{margin:8px 0;line-height:1.7;max-width:960px}
.v-pass{background:#1a7f37}.v-fail{background:#cf222e}.v-review{background:#bf8700}
main{padding:16px 24px;max-width:1280px}
.finding{background:#fff;border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:4px;
 margin:0 0 12px;padding:12px 16px;display:grid;grid-template-columns:minmax(300px,1fr) auto;gap:16px}
.s-fail{border-left-color:#cf222e}.s-uncertain{border-left-color:#bf8700}.s-pass{border-left-color:#1a7f37}
.finding h2{font-size:15px;margin:0 0 6px}.rule{color:#57606a;font-size:12px;font-family:monospace}
table.kv{border-collapse:collapse;font-size:13px;margin-top:6px}
table.kv td{border:1px solid #d0d7de;padding:3px 8px;vertical-align:top}
table.kv td:first-child{background:#f6f8fa;white-space:nowrap}
.crop img{max-width:560px;border:1px solid #d0d7de}
mark{background:#ffd8d3;color:#a40e26;font-weight:bold;padding:0 1px}
details{margin-top:16px}summary{cursor:pointer;font-weight:bold}
table.pass{border-collapse:collapse;font-size:13px;background:#fff;width:100%}
table.pass td,table.pass th{border:1px solid #d0d7de;padding:3px 8px;text-align:left}
"""


def _marked(text: str, other: str) -> str:
    """``text`` escaped, with the characters that differ from ``other`` marked."""
    out = []
    for op, i1, i2, _, _ in SequenceMatcher(None, text, other, autojunk=False).get_opcodes():
        part = html.escape(text[i1:i2])
        if part:
            out.append(part if op == "equal" else f"<mark>{part}</mark>")
    return "".join(out)


def _kv(rows: list[tuple[str, str | None]], diff: tuple[str, str] | None = None) -> str:
    """A key/value table; with ``diff`` (online, paper) those two rows mark their differences."""
    cells = []
    for key, value in rows:
        if not value:
            continue
        shown = html.escape(value)
        if diff and key == "网上填报":
            shown = _marked(diff[0], diff[1])
        elif diff and key == "纸质材料":
            shown = _marked(diff[1], diff[0])
        cells.append(f"<tr><td>{html.escape(key)}</td><td>{shown}</td></tr>")
    return f'<table class="kv">{"".join(cells)}</table>'


_ENTITY_ZH = {"ORG": "机构", "DATE": "日期", "PERCENT": "比例", "CREDIT_CODE": "信用代码",
              "CERT_NO": "证书编号"}


def _entities(evidence: Mapping[str, Any]) -> str | None:
    """What the tagger found in a finding's free text, as "日期 2021年4月20日；机构 …"."""
    entities = evidence.get("entities") or []
    shown = [f"{_ENTITY_ZH.get(e['label'], e['label'])} {e['text']}" for e in entities]
    return "；".join(dict.fromkeys(shown)) or None


def _where(location: Location | None) -> str | None:
    if location is None:
        return None
    return f"{location.document} 第{location.page}页"


def report_html(report: Report, images: Mapping[tuple[str, int], str]) -> str:
    """The report as one HTML file; ``images`` maps (document, page) to an upright page image."""
    pages = {(p.document, p.number): p for p in report.pages}
    loaded: dict[tuple[str, int], np.ndarray | None] = {}

    def crop_of(location: Location | None) -> str:
        if location is None:
            return ""
        key = (location.document, location.page)
        if key not in loaded:
            path = images.get(key)
            loaded[key] = cv2.imread(path) if path and Path(path).exists() else None
        image = loaded[key]
        if image is None:
            return ""
        data = base64.b64encode(evidence_crop(image, location.box, pages[key].dpi)).decode()
        return f'<div class="crop"><img alt="证据截图" src="data:image/jpeg;base64,{data}"></div>'

    findings = sorted_findings(report.findings)
    open_items = [f for f in findings if f.status is not Status.PASS]
    passed = [f for f in findings if f.status is Status.PASS]
    counts = Counter(f.status for f in findings)
    blocks = []
    for f in open_items:
        diff = (f.expected, f.found) if f.expected and f.found and f.field else None
        details = _kv([("结论", STATUS_ZH[f.status]), ("栏目", f.label), ("网上填报", f.expected),
                       ("纸质材料", f.found), ("文中识别", _entities(f.evidence)),
                       ("位置", _where(f.location)), ("依据", f.clause)], diff)
        blocks.append(
            f'<section class="finding s-{f.status.value}"><div><h2>{html.escape(f.title)}</h2>'
            f'<div class="rule">{html.escape(f.rule)}</div><p>{html.escape(f.message)}</p>'
            f"{details}</div>{crop_of(f.location)}</section>"
        )
    rows = "".join(
        f"<tr><td>{html.escape(f.title)}</td><td>{html.escape(f.label or '')}</td>"
        f"<td>{html.escape(f.found or '')}</td><td>{html.escape(_where(f.location) or '')}</td></tr>"
        for f in passed
    )
    verdict = report.verdict.value
    summary = summarise(report.findings, report.verdict)
    docs = "、".join(f"{d.name}（{d.page_count}页）" for d in report.documents)
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>形式审查报告 · {html.escape(report.lab_name)}</title><style>{_CSS}</style></head>
<body><header><h1>形式审查报告：{html.escape(report.lab_name)}</h1>
<span class="verdict v-{verdict}">{VERDICT_ZH[verdict]}</span>
<span class="headline">{html.escape(summary.headline)}</span>
<p class="paragraph">{html.escape(summary.text)}</p>
<div class="meta">编号 {html.escape(report.lab_id)} · {html.escape(report.campaign)}年复核 ·
不一致/不符合 {counts[Status.FAIL]} 项 · 待人工核对 {counts[Status.UNCERTAIN]} 项 ·
通过 {counts[Status.PASS]} 项 · 用时 {report.seconds:.1f} 秒 · 生成于 {html.escape(report.created_at)}</div>
<div class="meta">材料：{html.escape(docs)}</div></header>
<main>{"".join(blocks) or "<p>所有检查项均通过。</p>"}
<details><summary>已通过的检查项（{len(passed)}）</summary>
<table class="pass"><tr><th>检查项</th><th>栏目</th><th>纸质材料</th><th>位置</th></tr>{rows}</table>
</details></main></body></html>
"""
