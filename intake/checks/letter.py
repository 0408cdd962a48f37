"""The industry association's confirmation letter is there and names this lab."""

from __future__ import annotations

from rapidfuzz import fuzz

from intake.checks.rule import finding
from intake.dossier import PageResult, pages_of
from intake.language import ORG, tag
from intake.model import Finding, Location, PageKind, Status
from intake.normalize import canonical_text
from intake.record import Record

CLAUSE = "六（四）初审确认：行业协会对本行业所有参加复核的实验室统一出具书面初审确认意见"
RULES = {
    "letter.present": ("行业协会书面初审确认意见", CLAUSE),
    "letter.names_lab": ("初审确认意见列有本实验室", CLAUSE),
}
NAME_MATCH = 90.0
NAME_ABSENT = 70.0
# Every lab's name ends alike; only what comes before tells one lab from another.
GENERIC_SUFFIXES = ("产品质量控制和技术评价实验室", "质量控制和技术评价实验室")


def distinctive_name(name: str) -> str:
    for suffix in GENERIC_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def check(results: list[PageResult], record: Record) -> list[Finding]:
    letters = pages_of(results, PageKind.LETTER)
    if not letters:
        return [finding(RULES, "letter.present", Status.FAIL,
                        "未见行业协会的书面初审确认意见（确认函）。", expected="确认函", found="无")]
    name = distinctive_name(canonical_text(record.lab_name))
    best, best_score, best_text = letters[0], 0.0, ""
    for result in letters:
        raw = "\n".join([result.page.text, *(c.text for c in result.page.cells)])
        # Matched on the whole text, not on tagged names: a name wrapped over two lines of a
        # narrow cell is still found there.
        score = fuzz.partial_ratio(name, canonical_text(raw))
        if score > best_score:
            best, best_score, best_text = result, score, raw
    where = Location(best.page.document, best.page.number)
    entities = tag(best_text)
    named = _closest(record.lab_name, [e.text for e in entities if e.label == ORG])
    evidence = {"score": best_score, "named": named, "entities": [e.as_dict() for e in entities]}
    if best_score >= NAME_MATCH:
        return [finding(RULES, "letter.names_lab", Status.PASS,
                        f"行业协会确认函列有“{record.lab_name}”。", where,
                        expected=record.lab_name, found=named, evidence=evidence)]
    status = Status.FAIL if best_score < NAME_ABSENT else Status.UNCERTAIN
    return [finding(RULES, "letter.names_lab", status,
                    f"行业协会确认函中未找到“{record.lab_name}”。", where,
                    expected=record.lab_name, found="未列出", evidence=evidence)]


def _closest(name: str, organisations: list[str]) -> str | None:
    """The organisation the letter names that is nearest ``name``, if any is near at all."""
    key = distinctive_name(canonical_text(name))
    scored = [(fuzz.ratio(key, distinctive_name(canonical_text(org))), org)
              for org in organisations]
    score, org = max(scored, default=(0.0, ""))
    return org if score >= NAME_ABSENT else None
