"""Copy 1 and copy 2 of the volume are the same pages: page by page (by the printed page
number), the fields must read alike, a digital printout's text must be the same, and the ink
must lie alike (a signature, a tick or a figure on one copy only does not show in the text)."""

from __future__ import annotations

from rapidfuzz import fuzz

from intake import quality
from intake.checks.field_match import judge
from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import FieldSpec, all_labels, format_value, record_value
from intake.model import Box, Field, Finding, Location, Page, PageKind, Status, TextSource
from intake.normalize import canonical, canonical_text
from intake.page_image import InkDifference, differences
from intake.record import Record

CLAUSE = "六（三）初步审查：在线打印申请材料，加盖公章后装订成册（一式两份）"
RULES = {"copies.same": ("两份申请材料装订册内容一致", CLAUSE)}
# Ink one copy of a page has and the other has not, in the densest 10 mm square, in mm² of
# paper. Clean pairs of scans, heavy ones included, differ by under 0.5 (bench/RESULTS.md,
# "Copies compared by image"); a pen tick is about 2 to 6 (2.3 where its strokes cross print),
# a signature 15 or more.
UNSURE_MM2 = 1.5
SURE_MM2 = 2.0
# The place a seal goes beside its "（盖章）" label: this far right of the label, this tall
# (a seal is 40 mm across, stamped on the words or past them).
_ZONE_MM = (110, 70)
_TWIN_SEAL_MM = 40  # the same seal on the other copy is stamped within this of it


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
                continue
        # One finding per page: where the text differs, the ink does too.
        image = _image_finding(number, one, two)
        if image is not None:
            findings.append(image)
    if not findings:
        common = sorted(set(pages[1]) & set(pages[2]))
        findings.append(finding(RULES, "copies.same", Status.PASS,
                                f"两份装订册共同的{len(common)}页逐页一致。",
                                evidence={"pages": common}))
    return findings


def _image_finding(number: int, one: PageResult, two: PageResult) -> Finding | None:
    """The largest region where one copy of the page has ink the other has not near it."""
    if one.ink is None or two.ink is None or any(
            r.page.quality is not None and quality.problems(r.page.quality) for r in (one, two)):
        return None  # a page to be rescanned is the scan-quality rule's finding
    found = differences(one.ink, two.ink, one.page.dpi, two.page.dpi,
                        first_masks=_stamped(one.page, two.page),
                        second_masks=_stamped(two.page, one.page),
                        least_mm2=UNSURE_MM2)
    if not found:
        return None
    top: InkDifference = found[0]
    sure = top.mm2 >= SURE_MM2
    extra, other = (two, one) if top.extra_in == 2 else (one, two)
    box = top.boxes[top.extra_in - 1]
    message = (f"第{number}页第{top.extra_in}份有第{3 - top.extra_in}份没有的笔迹或图形"
               f"（约{top.mm2:.0f}平方毫米），两份图像不一致" + ("。" if sure else "，请人工核对。"))
    return finding(
        RULES, "copies.same", Status.FAIL if sure else Status.UNCERTAIN, message,
        Location(extra.page.document, extra.page.number, box),
        evidence={"page": number, "copy": top.extra_in, "ink_mm2": round(top.mm2, 1),
                  "regions": len(found), "other": {"document": other.page.document,
                                                   "page": other.page.number,
                                                   "box": _box(top.boxes[2 - top.extra_in])}})


def _stamped(page: Page, other: Page) -> list[Box]:
    """Where a seal is or may be: beside each "（盖章）" the place a seal goes, and each seal
    found that the other copy has too, near it. Seals are stamped anew on each copy, and a
    gray photocopy's seal is not always found. A "seal" on one copy only, away from any
    "（盖章）", is left to compare: a drawn box is found as a square seal on a gray page."""
    mm = page.dpi / 25.4
    wide, tall = round(_ZONE_MM[0] * mm), round(_ZONE_MM[1] * mm)
    reach = _TWIN_SEAL_MM * mm
    zones = [s.box for s in page.seals if any(
        abs(s.box.x + s.box.w / 2 - t.box.x - t.box.w / 2) <= reach
        and abs(s.box.y + s.box.h / 2 - t.box.y - t.box.h / 2) <= reach for t in other.seals)]
    for box in [ln.box for ln in page.lines if "盖章" in ln.text] + [
            c.box for c in page.cells if "盖章" in c.text]:
        if box.h > tall:  # a signing cell (the approval's): the seal goes at its foot
            zones.append(Box(box.x, box.y + box.h - tall, box.w, tall))
        else:
            zones.append(Box(box.x, box.y + box.h // 2 - tall // 2, box.w + wide, tall))
    return zones


def _box(box: Box) -> list[int]:
    return [box.x, box.y, box.w, box.h]


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
