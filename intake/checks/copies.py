"""Copy 1 and copy 2 of the volume are the same pages: page by page (by the printed page
number), the fields must read alike, and a digital printout's text must be the same."""

from __future__ import annotations

from rapidfuzz import fuzz

from intake.checks.field_match import judge
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import FieldSpec, all_labels, format_value, record_value
from intake.model import Field, Finding, Location, PageKind, Status, TextSource
from intake.normalize import canonical, canonical_text
from intake.record import Record

CLAUSE = "六（三）初步审查：在线打印申请材料，加盖公章后装订成册（一式两份）"
RULES = {"copies.same": ("两份申请材料装订册内容一致", CLAUSE)}


def _pages(results: list[PageResult]) -> dict[int, dict[int, PageResult]]:
    """copy -> printed page number -> page, for the form and its approval page."""
    out: dict[int, dict[int, PageResult]] = {}
    for r in results:
        if r.page.kind in (PageKind.FORM, PageKind.APPROVAL) and r.page.footer is not None:
            out.setdefault(r.copy, {}).setdefault(r.page.footer[0], r)
    return out


def _text(result: PageResult) -> str:
    page = result.page
    return canonical_text(page.text + "".join(c.text for c in page.cells))


def check(results: list[PageResult], record: Record) -> list[Finding]:
    pages = _pages(results)
    if 1 not in pages or 2 not in pages:
        return []  # a copy not there is the completeness rule's finding
    specs = {s.key: s for s in all_labels(record.campaign).values()}
    findings: list[Finding] = []
    for number in sorted(set(pages[1]) & set(pages[2])):
        one, two = pages[1][number], pages[2][number]
        where = Location(two.page.document, two.page.number)
        differing = []
        for key in dict.fromkeys(f.key for f in one.fields):
            a = next((f for f in one.fields if f.key == key), None)
            b = next((f for f in two.fields if f.key == key), None)
            spec = specs.get(key)
            if a is None or b is None or spec is None:
                continue
            if _differ(spec, a, b, record):
                differing.append((spec, a.text, b.text, b.location))
        for spec, first, second, location in differing:
            findings.append(finding(
                RULES, "copies.same", Status.FAIL,
                f"第{number}页「{spec.label}」第1份为“{first}”，第2份为“{second}”，两份不一致。",
                location, field=spec.key, label=spec.label, expected=first, found=second,
                evidence={"page": number, "copy": 2}))
        if differing:
            continue
        # Two scans of one page read too differently to compare whole pages (a heavy scan's
        # page reads 33% alike its twin): only a text layer's whole text is compared.
        if one.page.text_source is TextSource.TEXT_LAYER is two.page.text_source:
            similarity = fuzz.ratio(_text(one), _text(two))
            if similarity < 100.0:
                findings.append(finding(
                    RULES, "copies.same", Status.FAIL,
                    f"第{number}页两份文字不一致（相似度{similarity:.0f}%）。", where,
                    evidence={"page": number, "similarity": round(similarity, 1),
                              "documents": [one.page.document, two.page.document]}))
    if not findings:
        common = sorted(set(pages[1]) & set(pages[2]))
        findings.append(finding(RULES, "copies.same", Status.PASS,
                                f"两份装订册共同的{len(common)}页逐页一致。",
                                evidence={"pages": common}))
    return findings


def _differ(spec: FieldSpec, a: Field, b: Field, record: Record) -> bool:
    """True when the two copies surely print different values: one verifies against the
    record and the other surely does not, or (no record value) both are exact and differ."""
    value = record_value(record.data, spec.key)
    if value is not None and a.readings and b.readings:
        expected = format_value(spec, value)
        statuses = {judge(spec, expected, a.readings)[0], judge(spec, expected, b.readings)[0]}
        return statuses == {Status.PASS, Status.FAIL}
    exact = all(f.readings and f.readings[-1].source == "text-layer" for f in (a, b))
    return exact and canonical(spec.kind, a.text, spec.places) != canonical(
        spec.kind, b.text, spec.places)
