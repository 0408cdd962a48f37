"""The required seals are on the paper: the legal entity's on the volume's cover and declaration,
the recommending unit's over its opinion, the association's on its letter."""

from __future__ import annotations

from rapidfuzz import fuzz

from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of, pages_of
from intake.fields import record_value
from intake.model import Finding, Location, PageKind, Seal, Status
from intake.normalize import canonical_text
from intake.record import Record

RULES = {
    "seal.legal_entity": ("申请材料加盖归属法人单位公章",
                          "六（三）初步审查：在线打印申请材料，加盖公章后装订成册"),
    "seal.recommending_unit": ("推荐单位初审意见加盖公章",
                               "六（三）初步审查：在“主管单位审批意见”位置填写初审意见并加盖公章"),
    "seal.association": ("行业协会初审确认意见加盖公章",
                         "六（四）初审确认：行业协会统一出具书面初审确认意见，加盖公章"),
}
# A seal whose ring text was read this surely and matches the expected name this poorly is
# another organisation's seal.
READ_SURE = 0.9
NAME_MATCH = 50.0


def _judge_seal(rule: str, owner: str, seals: tuple[Seal, ...], where: Location,
                what: str) -> Finding:
    if not seals:
        return finding(RULES, rule, Status.FAIL, f"{what}未见{owner}的公章。", where,
                       expected=owner, found="无公章")
    read = [s for s in seals if s.text and s.text_score >= READ_SURE]
    if read and all(fuzz.partial_ratio(canonical_text(owner), canonical_text(s.text)) < NAME_MATCH
                    for s in read):
        seal = read[0]
        return finding(RULES, rule, Status.FAIL,
                       f"{what}所盖公章为“{seal.text}”，应为“{owner}”。",
                       Location(where.document, where.page, seal.box),
                       expected=owner, found=seal.text,
                       evidence={"seal_score": seal.score, "text_score": seal.text_score})
    seal = max(seals, key=lambda s: s.score)
    return finding(RULES, rule, Status.PASS, f"{what}已加盖公章。",
                   Location(where.document, where.page, seal.box), expected=owner,
                   found=seal.text or "（已盖章）", evidence={"seal_score": seal.score})


def _is_declaration(result: PageResult) -> bool:
    text = canonical_text(result.page.text)
    return "承诺" in text and "盖章" in text


def check(results: list[PageResult], record: Record) -> list[Finding]:
    findings: list[Finding] = []
    entity = str(record_value(record.data, "identity.legal_entity") or "")
    unit = str(record_value(record.data, "identity.recommending_unit") or "")
    association = str(record_value(record.data, "identity.association") or "")
    for copy, pages in copies_of(results, PageKind.FORM).items():
        cover = next((r for r in pages if r.page.footer and r.page.footer[0] == 1), None)
        if cover is not None:
            where = Location(cover.page.document, cover.page.number)
            findings.append(_judge_seal("seal.legal_entity", entity, cover.page.seals, where,
                                        f"第{copy}份封面"))
        for page in (r for r in pages if _is_declaration(r)):
            where = Location(page.page.document, page.page.number)
            findings.append(_judge_seal("seal.legal_entity", entity, page.page.seals, where,
                                        f"第{copy}份承诺及签章页"))
    for copy, pages in copies_of(results, PageKind.APPROVAL).items():
        for page in pages:
            where = Location(page.page.document, page.page.number)
            findings.append(_judge_seal("seal.recommending_unit", unit, page.page.seals, where,
                                        f"第{copy}份审批意见页"))
    for page in pages_of(results, PageKind.LETTER):
        where = Location(page.page.document, page.page.number)
        findings.append(_judge_seal("seal.association", association, page.page.seals, where,
                                    "行业协会初审确认函"))
    return findings
