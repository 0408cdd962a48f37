"""Discrepancies between the paper and the online record, planned per lab before printing.

The record always holds the online truth. A plan says what each bound copy prints instead,
which seals are left off or replaced, whether the opinion disagrees or is missing, and which
form page is left out of volume 1.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from intake import fields
from intake.codes import make_credit_code
from intake.fields import FieldKind, FieldSpec
from samples import vocab
from samples.layout import PaperValues, field_pages, form_page_count, paginate
from samples.record import DISAGREE_TEXT, LabProfile, legal_entity_for
from samples.scan import SPOILS

KINDS: tuple[str, ...] = (
    "field_mismatch", "missing_seal", "wrong_seal", "missing_opinion", "opinion_disagrees",
    "expired_certificate", "missing_page", "copy_differs",
)
# Kinds added after the first eight, for the failure-ground and ratio rules. They are asked for
# by name or with "every"; "all" keeps meaning KINDS, so a seed makes the batch it always made.
EXTRA_KINDS: tuple[str, ...] = ("ratio_mismatch", "annual_reports_missing", "preliminary_not_passed",
                                "bad_scan", "printout_altered", "printout_page_added",
                                "printout_page_missing", "copy_image_differs",
                                "certificate_copy_differs", "licence_differs", "misplaced_seal")
# Kinds that show only against the online system's own printout (``online.pdf``).
PRINTOUT_KINDS: tuple[str, ...] = ("printout_altered", "printout_page_added",
                                   "printout_page_missing")
ALL_KINDS: tuple[str, ...] = KINDS + EXTRA_KINDS
# The order injections are worked out in, so later ones can avoid what earlier ones took.
_ORDER = ("expired_certificate", "certificate_copy_differs", "licence_differs",
          "annual_reports_missing",
          "preliminary_not_passed",
          "missing_opinion", "opinion_disagrees", "misplaced_seal", "missing_seal", "wrong_seal",
          "ratio_mismatch",
          "field_mismatch", "copy_differs", "printout_altered", "missing_page",
          "printout_page_missing", "printout_page_added", "bad_scan", "copy_image_differs")
_OPINION_KINDS = ("missing_opinion", "opinion_disagrees", "preliminary_not_passed")
# The rules that fail on each kind: a discrepancy is found when one of them fails where it is.
DETECTED_BY: dict[str, tuple[str, ...]] = {
    "field_mismatch": ("field.match",),
    "copy_differs": ("field.match", "copies.same"),
    "missing_seal": ("seal.legal_entity", "seal.recommending_unit"),
    "wrong_seal": ("seal.legal_entity", "seal.recommending_unit"),
    "misplaced_seal": ("seal.recommending_unit",),
    "missing_opinion": ("opinion.present",),
    "opinion_disagrees": ("opinion.agrees",),
    "expired_certificate": ("qualification.valid",),
    "certificate_copy_differs": ("certificate.copy",),
    "licence_differs": ("certificate.licence",),
    "missing_page": ("pages.complete",),
    "ratio_mismatch": ("ratio.consistent", "field.match"),
    "annual_reports_missing": ("ground.annual_reports",),
    "preliminary_not_passed": ("ground.preliminary_passed", "opinion.agrees"),
    "bad_scan": ("scan.quality",),
    "printout_altered": ("printout.same",),
    "printout_page_added": ("printout.same",),
    "printout_page_missing": ("printout.same",),
    "copy_image_differs": ("copies.same",),
}
# Kinds found by an uncertain finding rather than a failing one: a page that must be rescanned
# is a question for a reviewer.
FOUND_UNCERTAIN: tuple[str, ...] = ("bad_scan",)
RATIO_FIELDS = {"resources.equipment_leading_ratio": ("resources.equipment_leading",
                                                      "resources.equipment_total"),
                "resources.staff_senior_ratio": ("resources.staff_senior", "resources.staff_total")}
_FIELD_KIND_ORDER = tuple(FieldKind)


def parse_kinds(kinds: Sequence[str] | None) -> tuple[str, ...]:
    """None -> field_mismatch only; ["all"] -> the first eight kinds (KINDS); ["every"] -> every
    kind (ALL_KINDS); else the kinds named, checked."""
    if not kinds:
        return ("field_mismatch",)
    if list(kinds) == ["all"]:
        return KINDS
    if list(kinds) == ["every"]:
        return ALL_KINDS
    unknown = [k for k in kinds if k not in ALL_KINDS]
    if unknown:
        raise ValueError(f"unknown discrepancy kinds {unknown}; known: {', '.join(ALL_KINDS)}, "
                         "all or every")
    return tuple(dict.fromkeys(kinds))


@dataclass(frozen=True)
class Target:
    spec: FieldSpec
    where: str  # cover | body


def field_targets(campaign: str) -> dict[FieldKind, list[Target]]:
    """Every printed row of a checked field, grouped by kind: body rows first, then cover."""
    targets: dict[FieldKind, list[Target]] = {k: [] for k in FieldKind}
    for spec in fields.form_fields(campaign):
        targets[spec.kind].append(Target(spec, "body"))
    for spec in fields.COVER_FIELDS:
        targets[spec.kind].append(Target(spec, "cover"))
    return targets


@dataclass
class Injection:
    """One discrepancy put into a dossier; ``copies`` are the bound copies that show it."""

    id: str
    kind: str
    copies: tuple[int, ...]
    field: str | None = None
    label: str | None = None
    where: str | None = None
    expected: str | None = None
    printed: str | None = None
    detail: str = ""
    slot: str | None = None  # cover | approval, for seals
    form_page: int | None = None
    certificate: str | None = None  # cma | cnas, for a certificate copy


@dataclass
class PaperPlan:
    opinion_text: str
    printed: dict[int, dict[tuple[str, str], str]] = field(
        default_factory=lambda: {1: {}, 2: {}})
    seals: dict[int, dict[str, str | None]] = field(default_factory=lambda: {1: {}, 2: {}})
    opinion_missing: bool = False
    seal_off: set[int] = field(default_factory=set)  # copies whose unit seal is off the opinion
    missing_form_page: int | None = None
    injections: list[Injection] = field(default_factory=list)
    # copy -> (form page, how) of a page scanned too badly to judge (samples.scan.SPOILS)
    spoiled: dict[int, tuple[int, str]] = field(default_factory=dict)
    # copy -> (form page, what) of a page with a handwritten mark the other copy has not
    marks: dict[int, tuple[int, str]] = field(default_factory=dict)
    description: str | None = None  # the support description the paper prints, if altered
    # cma | cnas -> what that certificate's bound copy prints instead of the record's values
    # (number, holder, valid_until)
    certificates: dict[str, dict[str, str]] = field(default_factory=dict)
    # name | credit_code | term_until -> what the business licence's copy prints instead
    licence: dict[str, str] = field(default_factory=dict)
    printout_missing_page: int | None = None  # a form page the online printout does not have
    paper_missing_page: int | None = None  # a form page neither bound copy has

    def paper(self, copy: int) -> PaperValues:
        return PaperValues(printed=dict(self.printed[copy]), seals=dict(self.seals[copy]))


class Cycler:
    """Hands out kinds and fields in turn across a whole batch, so a batch covers many."""

    def __init__(self, kinds: Sequence[str], campaign: str) -> None:
        self.kinds = tuple(kinds)
        self.position = 0
        self.deferred: list[str] = []
        self.targets = field_targets(campaign)
        self.field_kind = 0
        self.per_kind: dict[FieldKind, int] = dict.fromkeys(FieldKind, 0)
        self.spoiled: list[str] = []  # how each bad_scan so far was spoiled, in turn
        self.certificates = 0  # certificate_copy_differs so far, to change each part in turn
        self.licences = 0  # licence_differs so far, likewise
        self.marked = 0  # copy_image_differs so far, to draw each mark in turn

    def take_kinds(self, count: int) -> list[str]:
        """The next ``count`` kinds for one lab. A kind that conflicts with one already chosen
        (missing_opinion and opinion_disagrees) waits for the next lab instead of being lost."""
        chosen: list[str] = []
        waiting, self.deferred = self.deferred, []
        for kind in waiting:
            if len(chosen) < count and _feasible(kind, chosen):
                chosen.append(kind)
            else:
                self.deferred.append(kind)
        while len(chosen) < count:
            for _ in range(len(self.kinds)):
                kind = self.kinds[self.position % len(self.kinds)]
                self.position += 1
                if _feasible(kind, chosen):
                    chosen.append(kind)
                    break
                if kind not in self.deferred:
                    self.deferred.append(kind)
            else:
                break  # nothing in the list fits this lab any more
        return chosen

    def take_target(self, avoid: set[str]) -> Target:
        for _ in range(len(_FIELD_KIND_ORDER)):
            kind = _FIELD_KIND_ORDER[self.field_kind % len(_FIELD_KIND_ORDER)]
            self.field_kind += 1
            options = self.targets[kind]
            for _ in range(len(options)):
                target = options[self.per_kind[kind] % len(options)]
                self.per_kind[kind] += 1
                if target.spec.key not in avoid:
                    return target
        raise RuntimeError("no field left to alter")


def _feasible(kind: str, chosen: list[str]) -> bool:
    if kind in ("field_mismatch", "copy_differs"):
        return True
    if kind in ("missing_seal", "wrong_seal"):
        return chosen.count("missing_seal") + chosen.count("wrong_seal") < 2
    if kind in _OPINION_KINDS:  # each rewrites the opinion: one per lab
        return not any(k in chosen for k in _OPINION_KINDS) and not (
            kind == "missing_opinion" and "misplaced_seal" in chosen)
    if kind == "misplaced_seal":  # the unit's seal, moved off its opinion: the page must be there
        return kind not in chosen and "missing_opinion" not in chosen
    return kind not in chosen


@dataclass
class _Planning:
    """What one lab's planning has taken so far."""

    record: dict[str, Any]
    profile: LabProfile
    plan: PaperPlan
    cycler: Cycler
    rng: random.Random
    used: set[str] = field(default_factory=set)  # field keys already altered
    pages: set[int] = field(default_factory=set)  # form pages already dropped or spoiled
    seal_slots: list[tuple[str, int]] = field(default_factory=list)  # (slot, copy) still free

    def add(self, kind: str, copies: tuple[int, ...], **details: Any) -> None:
        number = len(self.plan.injections) + 1
        self.plan.injections.append(Injection(f"D{number}", kind, copies, **details))


def plan_lab(record: dict[str, Any], profile: LabProfile, count: int, cycler: Cycler,
             rng: random.Random) -> PaperPlan:
    """Choose ``count`` discrepancies for one lab and work out what the paper prints.
    ``expired_certificate`` changes the record itself (the certificate has run out)."""
    plan = PaperPlan(opinion_text=record["opinions"]["recommending_unit"]["text"])
    state = _Planning(record, profile, plan, cycler, rng)
    state.seal_slots = [("cover", 1), ("cover", 2), ("approval", 1), ("approval", 2)]
    rng.shuffle(state.seal_slots)
    for kind in sorted(cycler.take_kinds(count), key=_ORDER.index):
        _PLANNERS[kind](state, kind)
    return plan


def _plan_expired(state: _Planning, kind: str) -> None:
    record = state.record
    submitted = date.fromisoformat(record["workflow"]["submitted"])
    until = submitted - timedelta(days=state.rng.randrange(12, 240))
    record["qualifications"]["cma"]["valid_until"] = until.isoformat()
    spec = _spec("qualifications.cma.valid_until")
    state.used.add(spec.key)
    printed = fields.format_value(spec, until.isoformat())
    state.add(kind, (1, 2), field=spec.key, label=spec.label, where="body", expected=printed,
              printed=printed,
              detail=f"资质认定证书有效期至{printed}，早于填报日期{fields.format_date(submitted.isoformat())}，"
                     "资质已失效（复核不予通过情形2）")


def _plan_certificate_copy(state: _Planning, kind: str) -> None:
    """Both volumes bind a copy of another certificate than the record's: in turn another
    number (an earlier certificate's), another holder (another body's certificate), or an
    earlier validity date (the certificate before the renewal)."""
    key = state.rng.choice(("cma", "cnas"))
    held = state.record["qualifications"][key]
    name = {"cma": "资质认定（CMA）证书", "cnas": "实验室认可（CNAS）证书"}[key]
    how = CERTIFICATE_CHANGES[state.cycler.certificates % len(CERTIFICATE_CHANGES)]
    state.cycler.certificates += 1
    if how == "number":
        expected, printed = held["number"], _other_certificate_number(key, held["number"], state.rng)
        label = "编号"
    elif how == "holder":
        expected = state.record["identity"]["legal_entity"]
        printed = _other_organisation(state.record, state.profile, "holder", state.rng)
        label = "持有机构"
    else:
        until = date.fromisoformat(held["valid_until"])
        earlier = until
        for _ in range(20):
            earlier = until - timedelta(days=state.rng.randrange(200, 1200))
            if sum(a != b for a, b in zip(f"{until:%Y%m%d}", f"{earlier:%Y%m%d}",
                                          strict=True)) >= 2:
                break
        expected, printed = (fields.format_date(held["valid_until"]),
                             fields.format_date(earlier.isoformat()))
        label = "有效期至"
    state.plan.certificates[key] = {how: printed if how != "valid_until" else earlier.isoformat()}
    state.add(kind, (1, 2), certificate=key, label=f"{name}{label}", expected=expected,
              printed=printed, detail=f"所附{name}复印件{label}为“{printed}”，网上系统为“{expected}”")


def _other_certificate_number(key: str, number: str, rng: random.Random) -> str:
    """Another certificate's number, differing in at least a third of its digits: a copy of
    another certificate, not a misprint."""
    digits = "".join(c for c in number if c.isdigit())
    for _ in range(50):
        other = "".join(rng.choice("0123456789") for _ in digits)
        if sum(a != b for a, b in zip(digits, other, strict=True)) * 3 >= len(digits):
            break
    return f"CNAS L{other}" if key == "cnas" else other


def _plan_licence(state: _Planning, kind: str) -> None:
    """Both volumes bind a business licence that is not the legal entity's as the record has
    it: in turn another credit code (valid, another body's), another name, or a 营业期限 that
    ran out before the lab applied."""
    identity = state.record["identity"]
    how = LICENCE_CHANGES[state.cycler.licences % len(LICENCE_CHANGES)]
    state.cycler.licences += 1
    if how == "credit_code":
        expected = identity["credit_code"]
        printed = _other_credit_code(expected, state.rng)
        label, stored = "统一社会信用代码", printed
    elif how == "name":
        expected = identity["legal_entity"]
        printed = _other_organisation(state.record, state.profile, "holder", state.rng)
        label, stored = "名称", printed
    else:
        submitted = date.fromisoformat(state.record["workflow"]["submitted"])
        until = submitted - timedelta(days=state.rng.randrange(30, 900))
        expected, printed = "长期或未届满", fields.format_date(until.isoformat())
        label, stored = "营业期限", until.isoformat()
    state.plan.licence[how] = stored
    state.add(kind, (1, 2), label=f"营业执照{label}", expected=expected, printed=printed,
              detail=f"所附营业执照复印件{label}为“{printed}”，网上系统为“{expected}”"
              if how != "term_until" else f"所附营业执照复印件营业期限至{printed}，已届满")


def _other_credit_code(code: str, rng: random.Random) -> str:
    """Another body's credit code, valid (its check character right): same registration and
    division, another organisation code."""
    for _ in range(20):
        body = "".join(rng.choice("0123456789") for _ in range(8))
        other = make_credit_code(code[:2], code[2:8], body)
        if other[8:16] != code[8:16]:
            return other
    return other


def _plan_missing_opinion(state: _Planning, kind: str) -> None:
    state.plan.opinion_missing = True
    state.seal_slots = [s for s in state.seal_slots if s[0] != "approval"]
    state.add(kind, (1, 2), expected=state.plan.opinion_text,
              detail="缺少推荐单位书面初审意见（审批情况页）")


def _plan_disagrees(state: _Planning, kind: str) -> None:
    expected = state.plan.opinion_text
    state.plan.opinion_text = DISAGREE_TEXT
    state.add(kind, (1, 2), expected=expected, printed=DISAGREE_TEXT,
              detail="推荐单位初审意见为不同意，与网上系统初审状态不一致（复核不予通过情形4）")


def _plan_seal(state: _Planning, kind: str) -> None:
    slot, copy = state.seal_slots.pop(0)
    own = state.record["identity"]["legal_entity" if slot == "cover" else "recommending_unit"]
    role = "归属法人单位" if slot == "cover" else "推荐单位"
    where = "封面" if slot == "cover" else "审批情况页"
    if kind == "missing_seal":
        state.plan.seals[copy][slot] = None
        state.add(kind, (copy,), expected=own, printed=None, slot=slot,
                  detail=f"第{copy}份{where}缺少{role}公章")
        return
    other = _other_organisation(state.record, state.profile, slot, state.rng)
    state.plan.seals[copy][slot] = other
    state.add(kind, (copy,), expected=own, printed=other, slot=slot,
              detail=f"第{copy}份{where}所盖公章为“{other}”，应为{role}“{own}”")


def _plan_misplaced(state: _Planning, kind: str) -> None:
    """The recommending unit's own seal stamped under the approval table, not on its opinion
    (the work plan asks for it where the opinion is written)."""
    slot = next(s for s in state.seal_slots if s[0] == "approval")
    state.seal_slots.remove(slot)
    copy = slot[1]
    state.plan.seal_off.add(copy)
    own = state.record["identity"]["recommending_unit"]
    state.add(kind, (copy,), expected=own, printed=own, slot="approval",
              detail=f"第{copy}份审批情况页的推荐单位公章未盖在初审意见处（盖在审批表格下方空白处）")


def _plan_field(state: _Planning, kind: str) -> None:
    target = state.cycler.take_target(state.used)
    spec = target.spec
    state.used.add(spec.key)
    value = fields.record_value(state.record, spec.key)
    expected = fields.format_value(spec, value)
    printed = expected
    for _ in range(20):
        printed = fields.format_value(spec, alter(spec, value, state.rng))
        if printed != expected:
            break
    copies = (1, 2) if kind == "field_mismatch" else (2,)
    for copy in copies:
        state.plan.printed[copy][target.where, spec.key] = printed
    place = "封面" if target.where == "cover" else "正文"
    if kind == "field_mismatch":
        detail = f"{place}“{spec.label}”填写为“{printed}”，网上系统为“{expected}”"
    else:
        detail = f"第2份{place}“{spec.label}”为“{printed}”，与第1份及网上系统“{expected}”不一致"
    state.add(kind, copies, field=spec.key, label=spec.label, where=target.where,
              expected=expected, printed=printed, detail=detail)


def _plan_missing_page(state: _Planning, kind: str) -> None:
    page = _page_to_drop(state.record, state.used, state.rng, state.pages)
    if page is None:
        return
    state.pages.add(page)
    state.plan.missing_form_page = page
    total = form_page_count(state.record, state.record["campaign"])
    state.add(kind, (1,), form_page=page, detail=f"第1份申请材料缺少信息表第{page}页（共{total}页）")


def _plan_bad_scan(state: _Planning, kind: str) -> None:
    """One page of copy 2, carrying no other discrepancy, scanned too badly to judge (in
    turn blurred, dark, 75 dpi). Scans only: a batch printed with a text layer cannot show it."""
    page = _page_to_drop(state.record, state.used, state.rng, state.pages)
    if page is None:
        return
    state.pages.add(page)
    how = SPOILS[len(state.cycler.spoiled) % len(SPOILS)]
    state.cycler.spoiled.append(how)
    state.plan.spoiled[2] = (page, how)
    reason = {"blurred": "严重模糊", "dark": "过暗", "low_resolution": "仅75dpi"}[how]
    state.add(kind, (2,), form_page=page, printed=how,
              detail=f"第2份申请材料信息表第{page}页扫描{reason}，需重新扫描")


def _plan_copy_image(state: _Planning, kind: str) -> None:
    """A form page of copy 2 with something handwritten or drawn that copy 1 has not (in turn
    a signature, a tick, a small figure, a note); its printed text is unchanged."""
    total = form_page_count(state.record, state.record["campaign"])
    free = [p for p in range(1, total) if p not in state.pages]
    if not free:
        return
    page = state.rng.choice(free)
    state.pages.add(page)
    how = MARKS[state.cycler.marked % len(MARKS)]
    state.cycler.marked += 1
    state.plan.marks[2] = (page, how)
    what = {"signature": "手写签名", "tick": "手写勾选", "figure": "图形", "note": "手写批注"}[how]
    state.add(kind, (2,), form_page=page, printed=how,
              detail=f"第2份申请材料信息表第{page}页有第1份没有的{what}，文字相同")


def _plan_printout_altered(state: _Planning, kind: str) -> None:
    """The paper's support description has a phrase the online printout does not: the same
    number of characters, so the pages break where they did."""
    text = str(fields.record_value(state.record, "support.description") or "")
    runs = list(re.finditer(r"[\u4e00-\u9fff]{12,}", text))
    if not runs:
        return
    run = state.rng.choice(runs)
    phrase = (ALTERED_PHRASE * 3)[:run.end() - run.start()]
    page = next(n for n, blocks in enumerate(paginate(state.record, state.record["campaign"]),
                                              start=2)
                if any(block.kind == "text_row" for block, _ in blocks))
    if page in state.pages:
        return
    state.pages.add(page)
    state.plan.description = text[:run.start()] + phrase + text[run.end():]
    state.add(kind, (1, 2), form_page=page, expected=run.group(), printed=phrase,
              detail=f"信息表第{page}页“{run.group()}”在纸质材料中为“{phrase}”，与网上系统打印件不符")


def _plan_printout_page_added(state: _Planning, kind: str) -> None:
    """A form page on paper that the online printout does not have. Its fields are still on
    paper, so it may carry other discrepancies."""
    page = _page_to_drop(state.record, set(), state.rng, state.pages)
    if page is None:
        return
    state.pages.add(page)
    state.plan.printout_missing_page = page
    state.add(kind, (1, 2), form_page=page,
              detail=f"纸质材料信息表第{page}页在网上系统打印件中没有")


def _plan_printout_page_missing(state: _Planning, kind: str) -> None:
    """A form page of the online printout that neither bound copy has."""
    page = _page_to_drop(state.record, state.used, state.rng, state.pages)
    if page is None:
        return
    state.pages.add(page)
    state.plan.paper_missing_page = page
    state.add(kind, (1, 2), form_page=page,
              detail=f"网上系统打印件信息表第{page}页在纸质材料中缺少")


def _plan_annual_reports_missing(state: _Planning, kind: str) -> None:
    """No annual quality report in any of the three years, online and on paper (ground 7)."""
    record = state.record
    years = fields.quality_report_years(record["campaign"])
    for year in years:
        record["quality_reports"][str(year)] = 0
        state.used.add(f"quality_reports.{year}")
    spec = fields.quality_report_field(years[-1])
    printed = fields.format_value(spec, 0)
    state.add(kind, (1, 2), field=spec.key, label=spec.label, where="body", expected=printed,
              printed=printed,
              detail=f"{years[0]}—{years[-1]}年度产品质量分析报告均为0份，"
                     "连续3年无报告（复核不予通过情形7）")


def _plan_preliminary_not_passed(state: _Planning, kind: str) -> None:
    """The recommending unit refused, online and on paper (ground 4)."""
    opinion = state.record["opinions"]["recommending_unit"]
    expected = opinion["text"]
    opinion.update(text=DISAGREE_TEXT, agree=False)
    state.plan.opinion_text = DISAGREE_TEXT
    state.add(kind, (1, 2), expected=expected, printed=DISAGREE_TEXT,
              detail="网上系统和书面意见均显示推荐单位初审未通过（复核不予通过情形4）")


def _plan_ratio_mismatch(state: _Planning, kind: str) -> None:
    """A share printed in both copies that the printed counts do not make."""
    free = [key for key in RATIO_FIELDS if key not in state.used
            and not any(k in state.used for k in RATIO_FIELDS[key])]
    if not free:
        return
    spec = _spec(state.rng.choice(free))
    state.used.update((spec.key, *RATIO_FIELDS[spec.key]))
    value = fields.record_value(state.record, spec.key)
    expected = fields.format_value(spec, value)
    printed = fields.format_value(spec, _alter_percent(float(value), state.rng))
    for copy in (1, 2):
        state.plan.printed[copy]["body", spec.key] = printed
    state.add(kind, (1, 2), field=spec.key, label=spec.label, where="body", expected=expected,
              printed=printed,
              detail=f"“{spec.label}”填写为“{printed}”，与所填数量算得的“{expected}”不符")


_PLANNERS = {
    "expired_certificate": _plan_expired,
    "certificate_copy_differs": _plan_certificate_copy,
    "licence_differs": _plan_licence,
    "missing_opinion": _plan_missing_opinion,
    "opinion_disagrees": _plan_disagrees,
    "missing_seal": _plan_seal,
    "wrong_seal": _plan_seal,
    "misplaced_seal": _plan_misplaced,
    "field_mismatch": _plan_field,
    "copy_differs": _plan_field,
    "missing_page": _plan_missing_page,
    "ratio_mismatch": _plan_ratio_mismatch,
    "annual_reports_missing": _plan_annual_reports_missing,
    "preliminary_not_passed": _plan_preliminary_not_passed,
    "bad_scan": _plan_bad_scan,
    "printout_altered": _plan_printout_altered,
    "printout_page_added": _plan_printout_page_added,
    "printout_page_missing": _plan_printout_page_missing,
    "copy_image_differs": _plan_copy_image,
}
MARKS = ("signature", "tick", "figure", "note")
CERTIFICATE_CHANGES = ("number", "holder", "valid_until")
LICENCE_CHANGES = ("credit_code", "name", "term_until")
ALTERED_PHRASE = "实验室承诺复核期间暂停对外出具检验报告并接受主管部门监督检查"


def _spec(key: str) -> FieldSpec:
    return next(s for s in fields.BODY_FIELDS if s.key == key)


def _page_to_drop(record: dict[str, Any], used: set[str], rng: random.Random,
                  taken_pages: set[int] | None = None) -> int | None:
    """A body page whose absence hides no other discrepancy: none of the fields ``used`` is on
    it, nor is it one of ``taken_pages``."""
    pages = field_pages(record, record["campaign"])
    taken = {pages["body", key] for key in used if ("body", key) in pages}
    taken |= taken_pages or set()
    total = form_page_count(record, record["campaign"])
    free = [p for p in range(2, total) if p not in taken]
    return rng.choice(free) if free else None


def _other_organisation(record: dict[str, Any], profile: LabProfile, slot: str,
                        rng: random.Random) -> str:
    identity = record["identity"]
    if slot in ("cover", "holder"):
        own = identity["legal_entity"]
        if slot == "cover" and rng.random() < 0.5:
            similar = alter_name(own, rng)
            if similar != own:
                return similar
        for _ in range(20):
            city = rng.choice(vocab.CITIES)
            other = legal_entity_for(profile.domain, city, profile.association, rng)[0]
            if other != own:
                return other
        return f"{own}分公司"
    own = identity["recommending_unit"]
    options = [c.authority for c in vocab.CITIES] + [a.federation for a in vocab.ASSOCIATIONS]
    options = sorted({o for o in options if o != own})
    return rng.choice(options)


# Alterations ---------------------------------------------------------------------------------


def alter(spec: FieldSpec, value: Any, rng: random.Random) -> Any:
    """A plausible wrong value of the same type: what a lab might have printed instead."""
    kind = spec.kind.value
    if kind in ("code", "credit_code"):  # one digit changed, as a typo would
        return _alter_code(str(value), rng)
    if kind == "email":
        return _alter_email(str(value), rng)
    if kind == "date":
        return _alter_date(str(value), rng)
    if kind == "int":
        return _alter_int(int(value), rng)
    if kind == "decimal":
        return _alter_decimal(float(value), spec.places, rng)
    if kind == "percent":
        return _alter_percent(float(value), rng)
    if kind == "text":
        return _alter_address(str(value), rng)
    return alter_name(str(value), rng)  # names, and any kind of free text added later


def alter_name(value: str, rng: random.Random) -> str:
    """One or two characters different: a similar organisation, another district, or (for a
    person) a name that sounds the same."""
    options = [value.replace(old, new, 1) for old, new in vocab.NAME_SWAPS if old in value]
    # No stutters such as 股份股份 or 检验检验 that the original did not have.
    options = [o for o in options if not _STUTTER.search(o) or _STUTTER.search(value)]
    options += _district_swaps(value)
    if not options:
        for i, char in enumerate(value):
            if char in vocab.SIMILAR_CHARS:
                options.append(value[:i] + vocab.SIMILAR_CHARS[char] + value[i + 1:])
    options = [o for o in options if o != value]
    return rng.choice(options) if options else value + "分部"


_STUTTER = re.compile(r"(..+)\1")


def _district_swaps(value: str) -> list[str]:
    out = []
    for city in vocab.CITIES:
        for district in city.districts:
            if district.name in value:
                out += [value.replace(district.name, other.name, 1) for other in city.districts
                        if other is not district]
    return out


def _alter_address(value: str, rng: random.Random) -> str:
    options = _district_swaps(value)
    match = re.search(r"(\d+)号", value)
    if match:
        number = int(match[1])
        new = max(1, number + rng.choice((-1, 1)) * rng.randrange(1, 30))
        if new != number:
            options.append(value[:match.start(1)] + str(new) + value[match.end(1):])
    return rng.choice(options) if options else alter_name(value, rng)


def _alter_code(value: str, rng: random.Random) -> str:
    positions = [i for i, c in enumerate(value) if c.isdigit()]
    i = rng.choice(positions[1:] if len(positions) > 1 else positions)
    digit = rng.choice([d for d in "0123456789" if d != value[i]])
    return value[:i] + digit + value[i + 1:]


def _alter_email(value: str, rng: random.Random) -> str:
    local, _, domain = value.partition("@")
    choice = rng.randrange(3)
    if choice == 0 and len(local) > 3:
        i = rng.randrange(1, len(local) - 1)
        local = local[:i] + local[i + 1:]  # a letter left out
    elif choice == 1:
        letters = [i for i, c in enumerate(local) if c.isalpha()]
        i = rng.choice(letters)
        local = local[:i] + rng.choice([c for c in "aeinorstu" if c != local[i]]) + local[i + 1:]
    else:
        domain = domain.replace(".com.cn", ".com", 1) if ".com.cn" in domain else \
            domain.rsplit(".", 1)[0] + ".com.cn"
    return f"{local}@{domain}"


def _alter_date(value: str, rng: random.Random) -> str:
    d = date.fromisoformat(value)
    months = rng.choice((-12, -6, -3, -2, -1, 1, 2, 3, 6, 12))
    total = d.year * 12 + d.month - 1 + months
    return date(total // 12, total % 12 + 1, min(d.day, 28)).isoformat()


def _alter_int(value: int, rng: random.Random) -> int:
    digits = str(value)
    swaps = [i for i in range(len(digits) - 1) if digits[i] != digits[i + 1]]
    if value >= 100 and swaps and rng.random() < 0.3:  # two digits transposed
        i = rng.choice(swaps)
        return int(digits[:i] + digits[i + 1] + digits[i] + digits[i + 2:])
    step = rng.randrange(1, 3) if value < 10 else max(1, round(value * rng.uniform(0.01, 0.08)))
    new = value + rng.choice((-1, 1)) * step
    return new if new >= 0 and new != value else value + step


def _alter_decimal(value: float, places: int, rng: random.Random) -> float:
    factor = 1 + rng.choice((-1, 1)) * rng.uniform(0.005, 0.06)
    return round(value * factor, places)


def _alter_percent(value: float, rng: random.Random) -> float:
    new = round(value + rng.choice((-1, 1)) * rng.uniform(0.3, 6.0), 1)
    return min(99.9, max(0.1, new))
