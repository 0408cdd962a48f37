"""The required seals are on the paper: the legal entity's on the volume's cover and declaration,
the recommending unit's on its opinion (not elsewhere on the approval page), the association's
on its letter."""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of, pages_of
from intake.fields import record_value
from intake.model import Finding, Location, PageKind, Seal, SealPlace, SealShape, Status
from intake.normalize import canonical_text
from intake.placement import BESIDE_MM
from intake.record import Record
from intake.seal_text import sister_names

RULES = {
    "seal.legal_entity": ("申请材料加盖归属法人单位公章",
                          "六（三）初步审查：在线打印申请材料，加盖公章后装订成册"),
    "seal.recommending_unit": ("推荐单位初审意见加盖公章",
                               "六（三）初步审查：在“主管单位审批意见”位置填写初审意见并加盖公章"),
    "seal.association": ("行业协会初审确认意见加盖公章",
                         "六（四）初审确认：行业协会统一出具书面初审确认意见，加盖公章"),
}
# A seal whose ring text was read at least this surely is judged by its name.
READ_SURE = 0.9
# A ring read less surely is judged by how well the owner's name explains it (``Seal.fits``,
# per character, 0 at best). Rightly stamped rings fit their owner at -0.8 or better, except
# heavily misread ones (four slips in ten characters: -1.7); another body's ring fits at -1 to
# -14 (bench/RESULTS.md, "## Seals"). Only a fit no right ring came near fails; between the
# two cuts a reviewer looks.
FIT_RIGHT = -0.8
FIT_WRONG = -2.0
# A sister body's name (one kind-of-body word away: 检验 for 检测, 研究所 for 研究院) whose word
# the recogniser found this much likelier than the owner's where the ring shows it (log-odds over
# the name, (sister's fit - owner's fit) x characters, ``seal_text.sister_fit``) names another
# body, if it also fits the ring as a right seal's owner does. Right rings gave at most 0, sister
# bodies' 13-28 (bench/RESULTS.md, "## Seals"); between the cuts a reviewer looks.
SISTER_OTHER = 3.0
SISTER_DOUBT = 0.9
# A ring read below READ_WEAK is read weakly: rightly stamped rings so read fitted their owner
# anywhere from 0.1 to -9.4, so the owner's fit says nothing there. A sister body's word still
# shows: right rings' odds were at most 0, two sister bodies' 3.7 and 14.7 (seed 41, heavy;
# bench/RESULTS.md, "## Seals"). From SISTER_WEAK a reviewer looks.
READ_WEAK = 0.7
SISTER_WEAK = 2.0
# The last character of a name that says what kind of body it is: 研究院 and 研究所 are two
# legal entities, and no engine confuses 院 with 所.
_BODY_KINDS = frozenset("院所司心会局厅部委站")
# Where the ring's text starts and ends, an engine drops or adds a character or two (the star,
# the ring's gap); further in, it misreads single characters (泵/泉, 量/最), never a run.
_RING_EDGE = 2
_MISREADS_PER_CHAR = 0.25


def names_other_body(owner: str, text: str) -> bool:
    """Whether a seal whose ring reads ``text`` belongs to another organisation than
    ``owner``: a run of two or more characters differs inside the name, or its kind (院/所,
    公司/中心) does, or more characters differ than misreading explains. Single misread
    characters and what the ring's ends lose or add do not make another organisation."""
    want, read = canonical_text(owner), canonical_text(text)
    if not want or want in read:
        return False
    misread = 0
    for op in Levenshtein.opcodes(want, read):
        if op.tag == "equal":
            continue
        span = max(op.src_end - op.src_start, op.dest_end - op.dest_start)
        at_edge = op.src_start == 0 or op.src_end == len(want)
        if (op.tag == "replace" and op.src_end == len(want) and want[-1] in _BODY_KINDS
                and read[op.dest_end - 1] in _BODY_KINDS):
            return True  # 研究院 stamped as 研究所
        if op.tag == "insert" and at_edge:
            continue  # more ring text than the name (业务专用章, a number)
        if op.tag == "delete" and at_edge:
            continue  # a strip that caught only part of the ring (业联合公 of 中国轻工业联合会)
        if at_edge and span <= _RING_EDGE:
            continue
        if span > 1:
            return True
        misread += 1
    return misread > len(want) * _MISREADS_PER_CHAR


def _judge_seal(rule: str, owner: str, seals: tuple[Seal, ...], where: Location,
                what: str) -> Finding:
    if not seals:
        return finding(RULES, rule, Status.FAIL, f"{what}未见{owner}的公章。", where,
                       expected=owner, found="无公章")
    sure = [s for s in seals if s.text and s.text_score >= READ_SURE]
    another = [names_other_body(owner, s.text) for s in sure]
    if sure and all(another):
        # The text differs by more than misreading usually explains, yet the recogniser's
        # output may fit the owner's name as no other body's ring does: misread, not another's
        # (浙江省软件… read 名软件…质最监督险验… at 0.90). A sister body's word still fails.
        # Right rings so misread fitted their owner at -0.13 and -0.41, another province's
        # seal read surely at -1.7: only a fit as good as a right ring's clears it.
        explained = [(s, r) for s in sure if _owner_fit(owner, s) >= FIT_RIGHT
                     and (r := _whose(owner, s)) is not None and r.verdict is not Status.FAIL]
        if explained:
            seal, ring = max(explained, key=lambda sr: sr[1].fit)
            if ring.verdict is Status.PASS:
                return _present(rule, owner, seal, where, what)
            return _judge_ring(rule, owner, where, what, seal, ring)
        seal = sure[0]
        return finding(RULES, rule, Status.FAIL,
                       f"{what}所盖公章为“{seal.text}”，应为“{owner}”。",
                       Location(where.document, where.page, seal.box),
                       expected=owner, found=seal.text,
                       evidence={"seal_score": seal.score, "text_score": seal.text_score})
    # Sure rings are judged alone where there are any (those that name another body by their
    # text are that body's already), else the unsure ones.
    rings = [s for s, other in zip(sure, another, strict=True) if not other] if sure else list(
        seals)
    judged = [(s, j) for s in rings if (j := _whose(owner, s)) is not None]
    if judged and all(j.verdict is not Status.PASS for _, j in judged):
        doubt = [(s, j) for s, j in judged if j.verdict is Status.UNCERTAIN]
        return _judge_ring(rule, owner, where, what, *max(
            doubt or judged, key=lambda sj: sj[1].fit))
    return _present(rule, owner, max(seals, key=lambda s: s.score), where, what)


def _present(rule: str, owner: str, seal: Seal, where: Location, what: str) -> Finding:
    return finding(RULES, rule, Status.PASS, f"{what}已加盖公章。",
                   Location(where.document, where.page, seal.box), expected=owner,
                   found=seal.text or "（已盖章）", evidence={"seal_score": seal.score})


def _owner_fit(owner: str, seal: Seal) -> float:
    """How well the owner's name explains the ring (``Seal.fits``); -inf where it was not
    compared."""
    return dict(seal.fits).get(owner, float("-inf"))


@dataclass(frozen=True)
class _Ring:
    """What a ring's fits say of its owner: ``verdict`` PASS (the owner's), FAIL (another
    body's) or UNCERTAIN; the owner's fit, and the sister body's name and odds when one
    explains the ring better."""

    verdict: Status
    fit: float
    sister: str = ""
    odds: float = 0.0


def _whose(owner: str, seal: Seal) -> _Ring | None:
    """Whose seal a ring is by the recogniser's fits (``Seal.fits``); None where the ring was
    not compared with the owner's name. A ring read surely was already judged by its name and
    is only asked whether it shows a sister body's word; one read unsurely by its owner's fit
    too; one read weakly only whether a sister body's word may show, never failing."""
    fits = dict(seal.fits)
    if owner not in fits:
        return None
    fit = fits[owner]
    sure = bool(seal.text) and seal.text_score >= READ_SURE
    sisters = [(name, (fits[name] - fit) * len(canonical_text(owner)))
               for name in sister_names(owner) if name in fits]
    sister, odds = max(sisters, key=lambda so: so[1], default=("", 0.0))
    if seal.text_score < READ_WEAK:
        return _Ring(Status.UNCERTAIN, fit, sister, odds) if odds >= SISTER_WEAK else _Ring(
            Status.PASS, fit)
    if odds >= SISTER_OTHER and fits[sister] >= FIT_RIGHT:
        return _Ring(Status.FAIL, fit, sister, odds)
    if not sure and fit <= FIT_WRONG:
        return _Ring(Status.FAIL, fit)
    if odds >= SISTER_DOUBT:
        return _Ring(Status.UNCERTAIN, fit, sister, odds)
    if not sure and fit < FIT_RIGHT:
        return _Ring(Status.UNCERTAIN, fit)
    return _Ring(Status.PASS, fit)


def _judge_ring(rule: str, owner: str, where: Location, what: str, seal: Seal,
                ring: _Ring) -> Finding:
    """A seal that its owner's name does not explain well, or that a sister body's name
    explains better: another body's when the fits say so clearly, a reviewer's call else."""
    # A round or oval seal's name runs along its ring; a square seal's stands in columns.
    legend = "印文" if seal.shape is SealShape.SQUARE else "环形文字"
    found = seal.text or f"（{legend}未能读出）"
    evidence: dict[str, float | str] = {"seal_score": seal.score,
                                        "text_score": seal.text_score, "name_fit": ring.fit}
    if ring.sister:
        evidence |= {"sister": ring.sister, "sister_odds": round(ring.odds, 2)}
    at = Location(where.document, where.page, seal.box)
    if ring.verdict is Status.FAIL:
        whose = f"，是“{ring.sister}”的公章" if ring.sister else ""
        return finding(RULES, rule, Status.FAIL,
                       f"{what}所盖公章{legend}读作“{found}”{whose}，与“{owner}”不符，"
                       f"应为“{owner}”的公章。",
                       at, expected=owner, found=found, evidence=evidence)
    return finding(RULES, rule, Status.UNCERTAIN,
                   f"{what}所盖公章{legend}读作“{found}”，不能确认是否为“{owner}”的公章，请人工核对。",
                   at, expected=owner, found=found, evidence=evidence)


def _on_opinion(result: PageResult) -> tuple[Seal, ...] | None:
    """The approval page's seals stamped on the opinion: centred in its cell (grown by
    ``placement.BESIDE_MM``: a seal stamped over the signature can stand out of the cell), or on
    or beside a line asking for the seal. None where the opinion's cell was not found: the
    page's seals are then judged wherever they are."""
    if result.opinion is None:
        return None
    page = result.page
    cell = result.opinion.box.pad(round(BESIDE_MM * page.dpi / 25.4), page.width, page.height)
    return tuple(s for s in page.seals
                 if cell.contains_point(*s.box.center) or s.place is SealPlace.SIGNATURE)


def _off_opinion(owner: str, seal: Seal, where: Location, what: str) -> Finding:
    """A seal on the approval page, none of them on the opinion: the work plan asks for the
    seal where the opinion is written (主管单位审批意见)."""
    on = f"盖在“{seal.on[0]}”处" if seal.on else "盖在空白处"
    if seal.text:
        on += f"，印文读作“{seal.text}”"
    return finding(RULES, "seal.recommending_unit", Status.FAIL,
                   f"{what}的公章未盖在“主管单位审批意见”栏的初审意见处（{on}），"
                   f"应由“{owner}”在其初审意见处加盖公章。",
                   Location(where.document, where.page, seal.box), expected=owner,
                   found=f"公章{on}", evidence={"seal_score": seal.score, "place": seal.place.value})


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
            what = f"第{copy}份审批意见页"
            seals = page.page.seals
            on = _on_opinion(page)
            if on is not None and seals and not on:
                findings.append(_off_opinion(unit, max(seals, key=lambda s: s.score), where,
                                             what))
                continue
            findings.append(_judge_seal("seal.recommending_unit", unit,
                                        seals if on is None else on, where, what))
    for page in pages_of(results, PageKind.LETTER):
        where = Location(page.page.document, page.page.number)
        findings.append(_judge_seal("seal.association", association, page.page.seals, where,
                                    "行业协会初审确认函"))
    return findings
