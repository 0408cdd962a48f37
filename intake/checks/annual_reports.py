"""Annual product-quality analysis reports in the three years before the campaign: none in all
three is ground 7 (连续3年未按时提交…分析报告)."""

from __future__ import annotations

from intake.checks.rule import finding
from intake.dossier import PageResult
from intake.fields import quality_report_years, record_value
from intake.model import Finding, Status
from intake.record import Record

CLAUSE = ("七、7 连续3年未按时提交实验室年度业务发展和产品质量状况分析报告；"
          "四、重点复核内容（四）近三年提供的年度产品质量分析报告")
RULES = {"ground.annual_reports": ("近三年有年度产品质量分析报告", CLAUSE)}


def check(results: list[PageResult], record: Record) -> list[Finding]:
    try:
        years = quality_report_years(record.campaign)
    except ValueError:
        return []
    counts: dict[int, int] = {}
    for year in years:
        value = record_value(record.data, f"quality_reports.{year}")
        if isinstance(value, int) and not isinstance(value, bool):
            counts[year] = value
    if len(counts) < len(years):
        return []  # the record does not say for every year: nothing to conclude from
    listed = "、".join(f"{y}年{n}份" for y, n in counts.items())
    evidence = {"counts": {str(y): n for y, n in counts.items()}}
    if all(n == 0 for n in counts.values()):
        return [finding(RULES, "ground.annual_reports", Status.FAIL,
                        f"网上填报的近三年年度产品质量分析报告为{listed}，连续3年均无报告"
                        "（复核不予通过情形7）。", field="quality_reports", expected="≥1份",
                        found=listed, evidence=evidence)]
    return [finding(RULES, "ground.annual_reports", Status.PASS,
                    f"近三年年度产品质量分析报告：{listed}。", field="quality_reports",
                    found=listed, evidence=evidence)]
