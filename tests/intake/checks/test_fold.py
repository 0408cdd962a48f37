"""A page missing from a copy is reported once, not once per field printed on it."""

from intake.checks import fold_fields_of_missing_pages
from intake.checks.completeness import RULES as PAGE_RULES
from intake.checks.field_match import RULES as FIELD_RULES
from intake.checks.rule import finding
from intake.model import Status


def _missing(copy, key, label):
    return finding(FIELD_RULES, "field.missing", Status.UNCERTAIN, f"第{copy}份中未读到「{label}」",
                   field=key, label=label, evidence={"copy": copy})


def test_fields_of_a_copy_short_of_a_page_become_one_finding():
    short = finding(PAGE_RULES, "pages.complete", Status.FAIL, "第1份缺少第3页",
                    evidence={"copy": 1, "missing": [3], "doubled": []})
    findings = [short, _missing(1, "services.diagnoses", "质量诊断服务"),
                _missing(1, "influence.standards", "参与标准制修订"),
                _missing(2, "support.funding", "地方政府或行业支持经费")]
    out = fold_fields_of_missing_pages(findings)
    folded = [f for f in out if f.rule == "field.missing" and f.evidence.get("copy") == 1]
    assert len(folded) == 1
    assert "2个栏目" in folded[0].message
    assert "质量诊断服务" in folded[0].message
    assert folded[0].evidence["fields"] == ["services.diagnoses", "influence.standards"]
    # copy 2 is whole: its missing field stays on its own
    assert [f.field for f in out if f.evidence.get("copy") == 2] == ["support.funding"]


def test_nothing_is_folded_when_no_page_is_missing():
    findings = [_missing(1, "a", "甲"), _missing(1, "b", "乙")]
    assert fold_fields_of_missing_pages(findings) == findings
