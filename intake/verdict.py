"""The verdict a set of findings implies, the work-plan grounds behind it, and the one paragraph
in Chinese that tells a reviewer, the lab and its recommending unit what was found."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from intake.model import Finding, Status, Verdict

_HEADLINE = {Verdict.PASS: "通过形式审查", Verdict.FAIL: "未通过", Verdict.REVIEW: "需人工核对"}
# The work plan's grounds for failing the review (七、结果公布) that a formal review can see,
# as the verdict names them.
GROUNDS = {
    1: "未按时提出复核申请",
    2: "资质证书过期",
    4: "初审未通过",
    7: "连续3年未提交年度质量分析报告",
    8: "可能存在填报不实",
}
_GROUND_OF_RULE = {
    "ground.application_in_time": 1,
    "qualification.valid": 2,
    "certificate.in_force": 2,
    "opinion.agrees": 4,
    "ground.annual_reports": 7,
    "ground.misstatement": 8,
}
# What each family of rules looks at, in the order the paragraph lists them.
_AREAS = (
    ("roster.", "复核名单"), ("ground.application", "申请时间"), ("dossier.", "材料份数"),
    ("pages.", "页码与可读性"), ("copies.", "两份装订册一致性"), ("field.", "申报信息表各栏目"),
    ("code.", "信用代码校验码"), ("ratio.", "比例数据"), ("seal.", "印章"),
    ("opinion.", "推荐单位初审意见"), ("ground.preliminary", "网上初审状态"),
    ("letter.", "行业协会确认函"), ("qualification.", "资质有效期"),
    ("certificate.", "资质证书复印件"),
    ("ground.annual", "年度质量分析报告"), ("ground.misstatement", "填报真实性"),
)


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    """fail if any finding fails; review if any could not be decided; else pass."""
    statuses = {f.status for f in findings}
    if Status.FAIL in statuses:
        return Verdict.FAIL
    if Status.UNCERTAIN in statuses:
        return Verdict.REVIEW
    return Verdict.PASS


@dataclass(frozen=True)
class Ground:
    """A work-plan ground the findings point to: failed outright, or for a human to decide."""

    number: int
    text: str
    status: Status  # FAIL or UNCERTAIN

    @property
    def shown(self) -> str:
        return f"第{self.number}条 {self.text}"


@dataclass(frozen=True)
class Summary:
    """The verdict as a reviewer reads it: a headline and one paragraph."""

    verdict: Verdict
    headline: str  # 通过形式审查 / 未通过（第2条 资质证书过期） / 需人工核对
    grounds: tuple[Ground, ...]
    text: str  # one paragraph: what was checked, how many failed or need a human, the grounds

    def as_dict(self) -> dict[str, Any]:
        return {"headline": self.headline, "text": self.text,
                "grounds": [{"number": g.number, "text": g.text, "status": g.status.value}
                            for g in self.grounds]}


def ground_of(rule: str, field: str | None) -> int | None:
    """The work-plan ground a rule's failure is evidence of, or None for a format problem."""
    if rule == "ground.preliminary_passed":
        # Only the recommending unit's step is ground 4; the association's is a workflow step.
        return 4 if (field or "").startswith("opinions.recommending_unit") else None
    return _GROUND_OF_RULE.get(rule)


def grounds_of(findings: Iterable[Finding]) -> tuple[Ground, ...]:
    """The grounds that failed findings prove and uncertain ones raise, by number; a ground both
    proved and raised is proved."""
    status: dict[int, Status] = {}
    for f in findings:
        number = ground_of(f.rule, f.field)
        if number is None or f.status is Status.PASS:
            continue
        if status.get(number) is not Status.FAIL:
            status[number] = f.status
    return tuple(Ground(n, GROUNDS[n], status[n]) for n in sorted(status))


def summarise(findings: Iterable[Finding], verdict: Verdict | None = None) -> Summary:
    """The headline and paragraph for ``findings``; ``verdict`` defaults to ``verdict_of``."""
    found = list(findings)
    verdict = verdict if verdict is not None else verdict_of(found)
    grounds = grounds_of(found)
    proved = [g for g in grounds if g.status is Status.FAIL]
    raised = [g for g in grounds if g.status is Status.UNCERTAIN]
    if verdict is Verdict.FAIL:
        # Failures that prove no ground are format failures; a ground raised for a human is
        # named too, in its own wording (可能存在…).
        named = ([] if proved else ["材料不符合形式审查要求"]) + [g.shown for g in grounds]
        headline = f"未通过（{'；'.join(named)}）"
    elif verdict is Verdict.REVIEW and raised:
        headline = f"需人工核对（{'；'.join(g.shown for g in raised)}）"
    else:
        headline = _HEADLINE[verdict]
    return Summary(verdict, headline, grounds, _paragraph(found, verdict, proved, raised))


def _titles(findings: list[Finding], status: Status, limit: int = 4) -> str:
    titles = list(dict.fromkeys(f.title for f in findings if f.status is status
                                and ground_of(f.rule, f.field) is None))
    shown = "、".join(f"“{t}”" for t in titles[:limit])
    return shown + (f"等{len(titles)}类" if len(titles) > limit else "")


def _counted(counts: Counter[Status]) -> str:
    """3项不符合，1项需人工核对，12项通过 — leaving out what is none."""
    parts = [f"{counts[status]}项{name}" for status, name in (
        (Status.FAIL, "不符合"), (Status.UNCERTAIN, "需人工核对"), (Status.PASS, "通过"))
        if counts[status]]
    return "，".join(parts) + "。" if parts else "无检查结果。"


def _paragraph(findings: list[Finding], verdict: Verdict, proved: list[Ground],
               raised: list[Ground]) -> str:
    counts = Counter(f.status for f in findings)
    rules = {f.rule for f in findings}
    areas = [name for prefix, name in _AREAS if any(r.startswith(prefix) for r in rules)]
    fields = {f.field for f in findings if f.rule == "field.match" and f.field}
    checked = "、".join(areas) if areas else "提交的材料"
    parts = [f"本次形式审查对照网上系统记录，核对了{checked}"
             + (f"（其中申报信息表{len(fields)}个栏目）" if fields else "")
             + f"，共{len(findings)}项检查：" + _counted(counts)]
    failed = _titles(findings, Status.FAIL)
    if failed:
        parts.append(f"不符合的主要是{failed}。")
    if proved:
        parts.append("依据复核工作方案“七、结果公布”，"
                     + "、".join(g.shown for g in proved) + "属于未通过复核的情形。")
    if raised:
        parts.append("、".join(g.shown for g in raised) + "需由审查人员核实后认定，不作为定论。")
    others = _titles(findings, Status.UNCERTAIN)
    if others:
        parts.append(f"需人工核对的有{others}。")
    conclusion = {
        Verdict.PASS: "结论：通过形式审查。",
        Verdict.FAIL: "结论：未通过形式审查，请实验室和推荐单位按反馈意见核实更正。",
        Verdict.REVIEW: "结论：未发现明确不符合项，但有事项需人工核对后再定。",
    }[verdict]
    parts.append(conclusion)
    return "".join(parts)
