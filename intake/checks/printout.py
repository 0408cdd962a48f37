"""The bound volume against the online system's own printout of the form: page by page (by
the printed page number, else by text), name every page added, missing or altered on paper.

A scan's reading has scattered slips (a character misread, one dropped); an altered page has a
run of text replaced by other text. Only such runs, long on both sides and unlike each other,
count as altered, so OCR noise does not make an unchanged page look altered. A badly read
stretch of a worn scan can still look like one; the other bound copy tells them apart: an
alteration printed on paper reads alike in both copies, a misreading does not. A run only one
copy shows is left to a reviewer. And a run inside a field that another reading of the field
(the precise engine's, from the cell) reads as the printout has it is no change at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.model import Finding, Location, PageKind, Status
from intake.normalize import canonical_text

CLAUSE = "六（五）形式审查：审查意见与网上系统材料的一致性（纸质材料与网上系统打印件逐页一致）"
RULES = {"printout.same": ("纸质材料与网上系统打印件逐页一致", CLAUSE)}

# A replaced run is an alteration when both sides are at least this long (characters) ...
RUN_MIN = 8
# ... and read alike less than this (rapidfuzz ratio, 0..100).
RUN_ALIKE = 50.0
# Slips closer than this (characters) are one run.
RUN_GAP = 3
# An unnumbered paper page is taken for a printout page it reads at least this alike.
PAGE_ALIKE = 60.0
# A field reading has the printout's text when the run reads at least this alike in it.
READ_ALIKE = 90.0
# The other copy shows the same alteration when the run reads at least this alike in it.
COPY_ALIKE = 70.0


@dataclass(frozen=True)
class Change:
    printout: str  # the printout's text of the run
    paper: str  # what the paper reads there


def page_text(result: PageResult) -> str:
    """A page's words in reading order, outside the tables first, as compared."""
    page = result.page
    return canonical_text(page.text + "".join(c.text for c in page.cells))


def changes(printout: str, paper: str) -> list[Change]:
    """Runs of the printout's text that the paper replaces with other text."""
    runs: list[list[int]] = []  # [printout start, end, paper start, end]
    for op in Levenshtein.opcodes(printout, paper):
        if op.tag == "equal":
            continue
        if runs and op.src_start - runs[-1][1] < RUN_GAP and op.dest_start - runs[-1][3] < RUN_GAP:
            runs[-1][1], runs[-1][3] = op.src_end, op.dest_end
        else:
            runs.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
    out = []
    for a0, a1, b0, b1 in runs:
        old, new = printout[a0:a1], paper[b0:b1]
        if min(len(old), len(new)) >= RUN_MIN and fuzz.ratio(old, new) < RUN_ALIKE:
            out.append(Change(old, new))
    return out


def _numbered(pages: list[PageResult]) -> tuple[dict[int, PageResult], list[PageResult]]:
    numbered: dict[int, PageResult] = {}
    loose = []
    for r in pages:
        if r.page.footer is not None and r.page.footer[0] not in numbered:
            numbered[r.page.footer[0]] = r
        else:
            loose.append(r)
    return numbered, loose


def check(results: list[PageResult], record: object,
          online: list[PageResult] | None = None) -> list[Finding]:
    """``online`` is the printout's pages, read from its text layer; without it there is
    nothing to compare."""
    if online is None:
        return []
    printed, _ = _numbered([r for r in online if r.page.kind is PageKind.FORM])
    if not printed:
        return [finding(RULES, "printout.same", Status.UNCERTAIN,
                        "网上系统打印件中未识别到申报信息表页，无法逐页比对。")]
    findings: list[Finding] = []
    compared = 0
    grouped = copies_of(results, PageKind.FORM)
    copies: dict[int, dict[int, PageResult]] = {}
    for copy, pages in grouped.items():
        paper, loose = _numbered(pages)
        for number, page in sorted(_match_loose(loose, printed, set(paper)).items()):
            paper[number] = page
        copies[copy] = paper
    for copy, paper in copies.items():
        first = grouped[copy][0].page
        for number in sorted(set(printed) - set(paper)):
            findings.append(finding(
                RULES, "printout.same", Status.FAIL,
                f"网上系统打印件第{number}页在第{copy}份纸质材料中缺少。",
                Location(first.document, first.number), expected=f"第{number}页", found="缺页",
                evidence={"copy": copy, "page": number, "change": "missing"}))
        for number in sorted(set(paper) - set(printed)):
            extra = paper[number].page
            findings.append(finding(
                RULES, "printout.same", Status.FAIL,
                f"第{copy}份纸质材料第{number}页在网上系统打印件中没有。",
                Location(extra.document, extra.number), expected="无此页", found=f"第{number}页",
                evidence={"copy": copy, "page": number, "change": "added"}))
        for number in sorted(set(paper) & set(printed)):
            compared += 1
            page = paper[number]
            found = [c for c in changes(page_text(printed[number]), page_text(page))
                     if not _read_right(c, page)]
            if not found:
                continue
            twins = [page_text(pages[number]) for twin_copy, pages in copies.items()
                     if twin_copy != copy and number in pages]
            sure = bool(twins) and all(any(fuzz.partial_ratio(c.paper, twin) >= COPY_ALIKE
                                           for twin in twins) for c in found)
            lines = "；".join(f"打印件“{c.printout}”，纸质为“{c.paper}”" for c in found[:3])
            findings.append(finding(
                RULES, "printout.same", Status.FAIL if sure else Status.UNCERTAIN,
                f"第{copy}份纸质材料第{number}页与网上系统打印件不一致：{lines}"
                + ("。" if sure else "（另一份未见同样改动，可能为识别误差，请人工核对）。"),
                Location(page.page.document, page.page.number),
                expected=found[0].printout, found=found[0].paper,
                evidence={"copy": copy, "page": number, "change": "altered",
                          "lines": [{"printout": c.printout, "paper": c.paper} for c in found]}))
    if not findings:
        findings.append(finding(RULES, "printout.same", Status.PASS,
                                f"纸质材料与网上系统打印件逐页一致（比对{compared}页）。",
                                evidence={"pages": sorted(printed)}))
    return findings


def _read_right(change: Change, result: PageResult) -> bool:
    """Some reading of a field on the page has the printout's text of the run (a reading at
    least as long as the run: a short one would match any run holding it)."""
    readings = (canonical_text(r.text) for f in result.fields for r in f.readings)
    return any(len(text) >= len(change.printout)
               and fuzz.partial_ratio(change.printout, text) >= READ_ALIKE for text in readings)


def _match_loose(loose: list[PageResult], printed: dict[int, PageResult],
                 taken: set[int]) -> dict[int, PageResult]:
    """Pages whose number was not read, matched to the printout page they read most alike."""
    out: dict[int, PageResult] = {}
    for page in loose:
        text = page_text(page)
        scores = {n: fuzz.ratio(page_text(p), text) for n, p in printed.items()
                  if n not in taken and n not in out}
        best = max(scores, key=lambda n: scores[n], default=None)
        if best is not None and scores[best] >= PAGE_ALIKE:
            out[best] = page
    return out
