import io
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import cv2
import numpy as np
import pdfplumber
import pytest
from openpyxl import load_workbook

from intake.exports import (
    FindingDecision,
    LabReport,
    annotate_page,
    campaign_xlsx,
    decisions_by_finding,
    feedback_notice,
    feedback_notice_pdf,
    notice_findings,
    report_pdf,
)
from intake.model import (
    Box,
    Document,
    DocumentKind,
    Finding,
    Location,
    Page,
    Report,
    Seal,
    SealShape,
    Status,
    Verdict,
)
from intake.report import report_json

LAB = "国家传感器产品质量控制和技术评价实验室"
STAFF = Finding("field.match", "纸质材料与网上填报内容一致", Status.FAIL, "六（五）",
                "第1份「实验室人员总数」纸质为“58 人”，网上填报为“85 人”，两者不一致。",
                "resources.staff_total", "实验室人员总数", "85 人", "58 人",
                Location("volume-1.pdf", 1, Box(100, 200, 300, 50)), {"copy": 1})
SEAL = Finding("seal.recommending_unit", "推荐单位初审意见加盖公章", Status.FAIL, "六（三）",
               "第1份审批意见页未见推荐单位的公章。", expected="某省工业和信息化厅", found="无公章",
               location=Location("volume-1.pdf", 2, Box(400, 600, 250, 250)))
MISSING = Finding("field.missing", "纸质材料中应有的栏目", Status.UNCERTAIN, "六（五）",
                  "第2份中未读到「统一社会信用代码」栏目，请人工核对该页是否缺失或无法辨认。",
                  "identity.credit_code", "统一社会信用代码",
                  location=Location("volume-1.pdf", 1, Box(100, 500, 300, 40)))
PAGES_OK = Finding("pages.complete", "页码连续、无缺页重页", Status.PASS, "六（五）", "完整。",
                   location=Location("volume-1.pdf", 1, Box(600, 900, 100, 40)))

# report["findings"] keeps this order: failing, then uncertain, then passing.
I_STAFF, I_SEAL, I_MISSING, I_PASS = range(4)
DISMISSED = FindingDecision("dismiss", "审批意见页公章清晰，系识别误差", "王审核",
                            "2021-06-01T08:00:00+00:00")


def _data(findings=(STAFF, SEAL, MISSING, PAGES_OK), lab_name=LAB):
    pages = (Page("volume-1.pdf", 1, 800, 1000, 200,
                  seals=(Seal(Box(500, 50, 120, 120), SealShape.ROUND, "red", True, 0.9, "某实验室"),)),
             Page("volume-1.pdf", 2, 800, 1000, 200))
    report = Report(lab_id="L2021-001", lab_name=lab_name, campaign="2021", verdict=Verdict.FAIL,
                    findings=tuple(findings),
                    documents=(Document("volume-1.pdf", "ab" * 32, 1000, DocumentKind.PDF, 2),),
                    pages=pages, record_sha256="cd" * 32, created_at="2021-05-01T00:00:00+00:00",
                    seconds=1.5)
    data = report_json(report)
    assert [f["rule"] for f in data["findings"]] == [f.rule for f in findings]
    return data


def _page_files(tmp_path, size=(1000, 800)):
    paths = {}
    for number in (1, 2):
        image = np.full((*size, 3), 255, np.uint8)
        cv2.putText(image, f"page {number}", (50, 100), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
        path = tmp_path / f"p{number}.png"
        cv2.imwrite(str(path), image)
        paths[("volume-1.pdf", number)] = str(path)
    return paths


def _pdf_text(pdf_bytes):
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


def _pdf_images(pdf_bytes):
    with pdfplumber.open(io.BytesIO(pdf_bytes)) as pdf:
        return sum(len(page.images) for page in pdf.pages)


# Workbook ----------------------------------------------------------------------------------

def _workbook(rows):
    return load_workbook(io.BytesIO(campaign_xlsx(rows)))


def test_workbook_sums_up_each_lab_and_lists_each_problem_with_its_decision():
    book = _workbook([
        LabReport("L2021-001", LAB, "某省工业和信息化厅", _data(), {I_SEAL: DISMISSED}),
        LabReport("L2021-002", "国家机器人质量控制和技术评价实验室", "某行业协会", None, {}),
    ])
    assert book.sheetnames == ["汇总", "问题清单", "全部检查"]
    summary = [list(row) for row in book["汇总"].iter_rows(values_only=True)]
    assert summary[0][:4] == ["实验室编号", "实验室名称", "推荐单位", "审查结论"]
    assert summary[1] == ["L2021-001", LAB, "某省工业和信息化厅", "未通过形式审查", 2, 1, 1,
                          "2021-05-01T00:00:00+00:00"]
    assert summary[2][:4] == ["L2021-002", "国家机器人质量控制和技术评价实验室", "某行业协会", "未审查"]

    sheet = book["问题清单"]
    header, *problems = [list(row) for row in sheet.iter_rows(values_only=True)]
    as_dicts = [dict(zip(header, row, strict=True)) for row in problems]
    # passing checks are counted in 汇总, not listed as problems
    assert [p["规则"] for p in as_dicts] == ["field.match", "seal.recommending_unit", "field.missing"]
    staff, seal, missing = as_dicts
    assert staff["网上申报值"] == "85 人"
    assert staff["纸质材料值"] == "58 人"
    assert staff["栏目"] == "实验室人员总数"
    assert staff["位置"] == "volume-1.pdf 第1页"
    assert staff["结论"] == "不一致/不符合"
    assert staff["复核结论"] == "未处理"
    assert seal["复核结论"] == "驳回"
    assert seal["理由"] == "审批意见页公章清晰，系识别误差"
    assert seal["复核人"] == "王审核"
    assert seal["复核时间"] == "2021-06-01T08:00:00+00:00"
    assert missing["结论"] == "待人工核对"
    # every finding, passing checks included, is a row of 全部检查
    every = list(book["全部检查"].iter_rows(min_row=2, values_only=True))
    assert len(every) == len(_data()["findings"])
    assert "通过" in {row[4] for row in every}

    for ws in book.worksheets:
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        assert ws.column_dimensions["B"].width > 20


def test_workbook_keeps_text_that_looks_like_a_formula_as_text():
    odd = replace(STAFF, found="=HYPERLINK(\"http://x\")", message="含控制字符\x07的说明")
    book = _workbook([LabReport("L1", LAB, "U", _data(findings=(odd,)), {})])
    row = next(book["问题清单"].iter_rows(min_row=2))
    found = row[7]
    assert found.value == "=HYPERLINK(\"http://x\")"
    assert found.data_type == "s"
    assert row[9].value == "含控制字符的说明"


# Report PDF --------------------------------------------------------------------------------

def test_report_pdf_names_the_lab_and_its_findings_with_a_crop_for_each_problem(tmp_path):
    pdf = report_pdf(_data(), _page_files(tmp_path), {I_SEAL: DISMISSED})
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert LAB in text
    assert "纸质材料与网上填报内容一致" in text
    assert "未通过形式审查" in text
    assert "审批意见页公章清晰" in text
    # one evidence crop per failed or uncertain finding, none for the passing one
    assert _pdf_images(pdf) == 3


def test_report_pdf_without_page_images_still_renders_and_shows_no_crops():
    pdf = report_pdf(_data(), {("volume-1.pdf", 1): "/nonexistent/p1.png"})
    assert LAB in _pdf_text(pdf)
    assert _pdf_images(pdf) == 0


def test_report_pdf_wraps_long_text_and_prints_markup_literally(tmp_path):
    long_value = "9" * 400
    odd = replace(STAFF, expected=long_value, message="说明中有 <b>标记</b> & 符号。" + "很长的说明" * 300)
    pdf = report_pdf(_data(findings=(odd, PAGES_OK)), _page_files(tmp_path))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        chars = [c for page in doc.pages for c in page.chars]
        # every character printed, and all of them inside the page's margins
        assert sum(c["text"] == "9" for c in chars) == len(long_value)
        assert all(c["x0"] > 0 and c["x1"] < page.width for page in doc.pages for c in page.chars)
    assert "<b>标记</b> & 符号" in _pdf_text(pdf)


def test_report_pdf_crops_a_smaller_stored_image_at_the_right_place(tmp_path):
    # the stored page image is half the size the boxes refer to
    image = np.full((500, 400, 3), 255, np.uint8)
    path = tmp_path / "half.png"
    cv2.imwrite(str(path), image)
    one = replace(STAFF, location=Location("volume-1.pdf", 1, Box(700, 950, 100, 50)))
    pdf = report_pdf(_data(findings=(one,)), {("volume-1.pdf", 1): str(path)})
    assert _pdf_images(pdf) == 1


# Feedback notice ---------------------------------------------------------------------------

def test_notice_asks_to_check_a_difference_without_accusing():
    html = feedback_notice(_data(), issued=date(2021, 6, 3))
    assert "形式审查意见反馈" in html
    assert LAB in html
    assert "85 人" in html
    assert "58 人" in html
    assert "可能存在填报不一致，请核实" in html
    assert "两者不一致" not in html
    assert "2021年6月3日" in html
    for word in ("造假", "虚假", "欺骗"):
        assert word not in html


def test_notice_leaves_out_dismissed_and_undecided_uncertain_findings():
    data = _data()
    html = feedback_notice(data, {I_SEAL: DISMISSED})
    assert "推荐单位初审意见加盖公章" not in html
    assert "统一社会信用代码" not in html  # uncertain, nobody confirmed it
    assert "页码连续" not in html
    assert html.count("<li>") == 1

    confirmed = FindingDecision("confirm", "该页确实缺失", "李审核", "2021-06-01T09:00:00+00:00")
    html = feedback_notice(data, {I_SEAL: DISMISSED, I_MISSING: confirmed})
    assert "统一社会信用代码" in html
    assert "人工核对" not in html  # the reviewer's wording stays with the reviewer
    assert html.count("<li>") == 2
    assert notice_findings(data, {I_SEAL: DISMISSED, I_MISSING: confirmed}) == [I_STAFF, I_MISSING]


def test_notice_without_problems_says_so():
    html = feedback_notice(_data(), {I_STAFF: DISMISSED, I_SEAL: DISMISSED})
    assert "未发现需要更正的问题" in html
    assert "<li>" not in html


def test_notice_escapes_what_it_quotes():
    hostile = replace(STAFF, found="<script>alert(1)</script>")
    html = feedback_notice(_data(findings=(hostile,), lab_name="<script>x</script>实验室"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;x&lt;/script&gt;实验室" in html


def test_notice_pdf_carries_the_same_problems():
    pdf = feedback_notice_pdf(_data(), {I_SEAL: DISMISSED}, issued=date(2021, 6, 3))
    assert pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    assert LAB in text
    assert "58 人" in text
    assert "85 人" in text
    assert "推荐单位初审意见加盖公章" not in text
    assert "2021年6月3日" in text


# Decisions from stored dispositions ---------------------------------------------------------

@dataclass(frozen=True)
class _Stored:
    finding_index: int | None
    rule: str | None
    field: str | None
    decision: str
    reason: str
    reviewer: str
    created_at: datetime


def test_the_latest_decision_on_a_finding_counts_and_a_rule_decision_covers_its_findings():
    data = _data()
    at = datetime(2021, 6, 1, tzinfo=UTC)
    decided = decisions_by_finding(data["findings"], [
        _Stored(None, "field.match", None, "confirm", "属实", "王审核", at),
        _Stored(I_SEAL, None, None, "confirm", "未见公章", "王审核", at),
        _Stored(I_SEAL, None, None, "dismiss", "复看原件有章", "李审核", at),
        _Stored(99, None, None, "dismiss", "不存在的问题", "李审核", at),
    ])
    assert set(decided) == {I_STAFF, I_SEAL}
    assert decided[I_STAFF].decision == "confirm"
    assert decided[I_SEAL] == FindingDecision("dismiss", "复看原件有章", "李审核", at.isoformat())


# Annotated page ----------------------------------------------------------------------------

def _is(pixel_area, colour):
    """Some pixel of the area has the colour (BGR), allowing for JPEG's blur."""
    diff = np.abs(pixel_area.astype(int) - np.array(colour)).max(axis=-1)
    return bool((diff < 70).any())


RED, ORANGE, GREEN = (0, 0, 255), (0, 140, 255), (0, 160, 0)


def _annotated(size, findings):
    data = _data(findings=findings)
    image = np.full((*size, 3), 255, np.uint8)
    jpeg = annotate_page(image, data["pages"][0], data["findings"])
    out = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert out.shape[:2] == size
    return out


@pytest.mark.parametrize("scale", [1.0, 0.5])
def test_annotated_page_boxes_a_failure_in_red_where_it_stands(scale):
    size = (round(1000 * scale), round(800 * scale))
    out = _annotated(size, (STAFF, SEAL, MISSING, PAGES_OK))

    def at(x, y, r=3):
        x, y = round(x * scale), round(y * scale)
        return out[y - r:y + r + 1, x - r:x + r + 1]

    # STAFF box (100, 200, 300, 50): its left and bottom edges
    assert _is(at(100, 225), RED)
    assert _is(at(250, 250), RED)
    assert not _is(at(250, 225), RED)  # inside stays clear
    # MISSING is uncertain: orange at (100, 500, 300, 40)
    assert _is(at(250, 540), ORANGE)
    assert not _is(at(250, 540), RED)
    # the read seal (500, 50, 120, 120) in green
    assert _is(at(560, 170), GREEN)
    # the passing finding is not drawn, nor SEAL, which stands on page 2
    assert not _is(at(650, 940), RED)
    assert out[round(725 * scale), round(525 * scale)].min() > 200


def test_annotated_page_accepts_a_grey_image():
    data = _data(findings=(STAFF,))
    grey = np.full((1000, 800), 255, np.uint8)
    out = cv2.imdecode(np.frombuffer(annotate_page(grey, data["pages"][0], data["findings"]), np.uint8),
                       cv2.IMREAD_COLOR)
    assert _is(out[220:230, 97:104], RED)
