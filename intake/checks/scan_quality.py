"""A page too blurred, too dark or scanned too coarsely to judge is reported as "rescan needed",
and what the other rules found wrong on it becomes a question for a reviewer, not a mismatch."""

from __future__ import annotations

from dataclasses import replace

from intake import quality
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.model import Finding, Location, Status

CLAUSE = "六（五）形式审查：材料的格式（扫描件须清晰可辨）"
RULES = {"scan.quality": ("扫描件清晰可辨", CLAUSE)}
RESCAN = "需重新扫描"


def rescan_pages(results: list[PageResult]) -> dict[tuple[str, int], list[str]]:
    """(document, page) -> why the page cannot be judged, for every such page."""
    out = {}
    for result in results:
        page = result.page
        if page.quality is not None and (reasons := quality.problems(page.quality)):
            out[page.document, page.number] = reasons
    return out


def check(results: list[PageResult], record: object) -> list[Finding]:
    findings = []
    for result in results:
        page = result.page
        if page.quality is None:
            continue
        q = page.quality
        reasons = quality.problems(q)
        if not reasons:
            continue
        why = "、".join(quality.REASONS[r] for r in reasons)
        findings.append(finding(
            RULES, "scan.quality", Status.UNCERTAIN,
            f"{page.document} 第{page.number}页{why}，无法据以判断，{RESCAN}。",
            Location(page.document, page.number), found=why,
            evidence={"reasons": reasons, "edge_mm": q.edge_mm, "paper": q.paper,
                      "contrast": q.contrast, "scan_dpi": q.scan_dpi}))
    if not findings and any(r.page.quality is not None for r in results):
        findings.append(finding(RULES, "scan.quality", Status.PASS, "扫描件均清晰可辨。"))
    return findings


def excuse(findings: list[Finding], results: list[PageResult]) -> list[Finding]:
    """A failing finding on a page that must be rescanned is uncertain: nobody can read what
    the page says, so it cannot show a mismatch. A copy whose page numbers look short while a
    page of it had no readable number is uncertain for the same reason."""
    bad = rescan_pages(results)
    if not bad:
        return findings
    unnumbered = {r.page.document for r in results
                  if (r.page.document, r.page.number) in bad and r.page.footer is None}
    out = []
    for f in findings:
        where = f.location
        on_bad_page = where is not None and (where.document, where.page) in bad
        short = f.evidence.get("missing") or f.evidence.get("change") == "missing"
        short_copy = bool(short) and where is not None and where.document in unnumbered
        if f.status is Status.FAIL and f.rule != "scan.quality" and (on_bad_page or short_copy):
            out.append(replace(f, status=Status.UNCERTAIN,
                               message=f"{f.message}（所在页扫描不清，{RESCAN}后人工核对）",
                               evidence={**f.evidence, "rescan": True}))
        else:
            out.append(f)
    return out
