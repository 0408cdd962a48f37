import json
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
    Status,
    Verdict,
)
from intake.report import report_html, report_json


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
    assert data["summary"] == {"pass": 1, "fail": 1, "uncertain": 0}
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
    stored = json.loads(json.dumps(report_json(original), ensure_ascii=False))
    again = report_from_json(stored)
    assert report_json(again) == report_json(original)
    assert report_html(again, images) == report_html(original, images)
