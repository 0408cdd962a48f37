import json
from dataclasses import replace
from html.parser import HTMLParser

import cv2
import numpy as np

from intake.model import (
    Box,
    Document,
    DocumentKind,
    Finding,
    Location,
    Page,
    Report,
    ScanQuality,
    Status,
    Verdict,
)
from intake.report import report_html, report_json, summary_of


def _report(findings):
    return Report(
        lab_id="L2021-001", lab_name="国家传感器产品质量控制和技术评价实验室", campaign="2021",
        verdict=Verdict.FAIL, findings=tuple(findings),
        documents=(Document("volume-1.pdf", "ab" * 32, 1000, DocumentKind.PDF, 1),),
        pages=(Page("volume-1.pdf", 1, 800, 1000, 200),), record_sha256="cd" * 32,
        created_at="2021-05-01T00:00:00+00:00", seconds=1.5)


FAIL = Finding("field.match", "纸质材料与网上填报内容一致", Status.FAIL, "六（五）", "不一致。",
               "resources.staff_total", "实验室人员总数", "85 人", "58 人",
               Location("volume-1.pdf", 1, Box(100, 200, 300, 50)), {"copy": 1})
PASS = Finding("pages.complete", "页码连续、无缺页重页", Status.PASS, "六（五）", "完整。")


def test_json_lists_failures_first_and_counts_them():
    data = report_json(_report([PASS, FAIL]))
    assert [f["status"] for f in data["findings"]] == ["fail", "pass"]
    assert {k: data["summary"][k] for k in ("pass", "fail", "uncertain")} == {
        "pass": 1, "fail": 1, "uncertain": 0}
    assert data["findings"][0]["location"] == {"document": "volume-1.pdf", "page": 1,
                                               "box": [100, 200, 300, 50]}
    json.dumps(data)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])


def test_html_is_self_contained_with_a_crop_beside_each_failure(tmp_path):
    page = np.full((1000, 800, 3), 255, np.uint8)
    path = tmp_path / "p1.jpg"
    cv2.imwrite(str(path), page)
    html = report_html(_report([PASS, FAIL]), {("volume-1.pdf", 1): str(path)})
    parser = _Images()
    parser.feed(html)
    assert len(parser.images) == 1
    assert parser.images[0].startswith("data:image/jpeg;base64,")
    assert "未通过形式审查" in html
    # what differs is marked on both sides: online 85, paper 58
    assert "8<mark>5</mark> 人" in html
    assert "5<mark>8</mark> 人" in html
    assert "http" not in html.replace("http-equiv", "")


def test_a_stored_report_renders_again_byte_for_byte(tmp_path):
    from intake.report import report_from_json

    page = np.full((1000, 800, 3), 255, np.uint8)
    cv2.putText(page, "58", (120, 240), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 3)
    path = tmp_path / "p1.jpg"
    cv2.imwrite(str(path), page)
    images = {("volume-1.pdf", 1): str(path)}
    original = _report([PASS, FAIL])
    original = replace(original, pages=(replace(original.pages[0], quality=ScanQuality(
        edge_mm=0.125, paper=231.0, contrast=190.0, scan_dpi=200)),))
    stored = json.loads(json.dumps(report_json(original), ensure_ascii=False))
    assert stored["pages"][0]["quality"] == {"edge_mm": 0.125, "paper": 231.0,
                                             "contrast": 190.0, "scan_dpi": 200}
    again = report_from_json(stored)
    assert report_json(again) == report_json(original)
    assert report_html(again, images) == report_html(original, images)


LAPSED = Finding("qualification.valid", "资质认定和实验室认可在有效期内", Status.FAIL,
                 "七、2", "资质认定（CMA）证书已失效。", "qualifications.cma.valid_until")
REFUSED = Finding("opinion.agrees", "推荐单位初审意见为同意", Status.FAIL, "七、4", "不是同意。")
MISSTATED = Finding("ground.misstatement", "纸质材料与网上填报不一致（可能存在填报不实）",
                    Status.UNCERTAIN, "七、8", "可能存在填报不实，请人工核实。")


def test_a_failed_review_names_its_grounds_in_the_headline_and_the_paragraph():
    data = report_json(_report([PASS, FAIL, LAPSED, REFUSED, MISSTATED]))
    summary = data["summary"]
    assert summary["headline"] == "未通过（第2条 资质证书过期；第4条 初审未通过；第8条 可能存在填报不实）"
    assert [(g["number"], g["status"]) for g in summary["grounds"]] == [
        (2, "fail"), (4, "fail"), (8, "uncertain")]
    text = summary["text"]
    assert "共5项检查：3项不符合，1项需人工核对，1项通过" in text
    assert "第2条 资质证书过期、第4条 初审未通过属于未通过复核的情形" in text
    assert "第8条 可能存在填报不实需由审查人员核实后认定" in text
    assert "不符合的主要是“纸质材料与网上填报内容一致”。" in text  # grounds are not listed twice
    assert "\n" not in text  # one paragraph


def test_a_review_with_only_a_format_failure_names_no_ground():
    summary = report_json(_report([PASS, FAIL]))["summary"]
    assert summary["headline"] == "未通过（材料不符合形式审查要求）"
    assert summary["grounds"] == []
    with_misstatement = report_json(_report([PASS, FAIL, MISSTATED]))["summary"]
    assert with_misstatement["headline"] == "未通过（材料不符合形式审查要求；第8条 可能存在填报不实）"
    assert "申报信息表各栏目" in summary["text"]  # what was checked


def test_a_passing_and_an_undecided_review_say_so():
    report = _report([PASS])
    passed = report_json(Report(**{**report.__dict__, "verdict": Verdict.PASS}))["summary"]
    assert passed["headline"] == "通过形式审查"
    assert passed["text"].endswith("结论：通过形式审查。")
    undecided = report_json(Report(**{**report.__dict__, "verdict": Verdict.REVIEW,
                                      "findings": (PASS, MISSTATED)}))["summary"]
    assert undecided["headline"] == "需人工核对（第8条 可能存在填报不实）"


def test_the_paragraph_is_under_the_verdict_in_the_html(tmp_path):
    html = report_html(_report([PASS, LAPSED]), {})
    assert html.index("未通过（第2条 资质证书过期）") < html.index("本次形式审查对照网上系统记录")
    assert html.index("本次形式审查对照网上系统记录") < html.index("<main>")


def test_a_report_stored_without_a_paragraph_gets_one_and_decisions_change_it():
    data = report_json(_report([PASS, LAPSED, MISSTATED]))
    old = {**data, "summary": {k: data["summary"][k] for k in ("pass", "fail", "uncertain")}}
    assert summary_of(old) == summary_of(data)
    # a reviewer dismisses the lapsed certificate (renewed) and confirms nothing else
    index = next(i for i, f in enumerate(data["findings"]) if f["rule"] == "qualification.valid")
    after = summary_of(data, {index: Status.PASS})
    assert after["headline"] == "需人工核对（第8条 可能存在填报不实）"


def test_the_feedback_notice_carries_the_paragraph_as_the_lab_reads_it():
    from intake.exports import FindingDecision, feedback_notice

    data = report_json(_report([PASS, FAIL, LAPSED, MISSTATED]))
    html = feedback_notice(data)
    assert "第2条 资质证书过期属于未通过复核的情形" in html
    assert "人工核对" not in html  # the undecided misstatement stays with the reviewers
    lapsed = next(i for i, f in enumerate(data["findings"]) if f["rule"] == "qualification.valid")
    renewed = FindingDecision("dismiss", "已换发新证", "李审核", "2021-06-01T09:00:00+00:00")
    assert "第2条" not in feedback_notice(data, {lapsed: renewed})


def test_a_pages_kind_confidence_and_detail_are_in_the_json_and_come_back():
    from dataclasses import replace

    from intake.model import PageKind
    from intake.report import report_from_json

    page = Page("volume-1.pdf", 6, 800, 1000, 200, kind=PageKind.CERTIFICATE,
                kind_confidence=0.82, kind_detail="cnas")
    report = replace(_report([PASS]), pages=(page,))
    data = json.loads(json.dumps(report_json(report)))
    assert {k: data["pages"][0][k] for k in ("kind", "kind_confidence", "kind_detail")} == {
        "kind": "certificate", "kind_confidence": 0.82, "kind_detail": "cnas"}
    assert report_from_json(data).pages[0] == page


def test_what_the_tagger_found_stands_beside_an_opinion_finding():
    dated = Finding("opinion.date", "初审意见已注明日期且与网上系统及工作流程相符", Status.FAIL, "六（三）",
                    "第1份初审意见日期为2021年4月22日，与网上系统的2021年4月20日不一致。",
                    evidence={"copy": 1, "entities": [
                        {"label": "ORG", "text": "上海市经济和信息化委员会",
                         "value": "上海市经济和信息化委员会"},
                        {"label": "DATE", "text": "2021年4月22日", "value": "2021-04-22"}]})
    html = report_html(_report([dated]), {})
    assert "文中识别" in html
    assert "机构 上海市经济和信息化委员会；日期 2021年4月22日" in html
