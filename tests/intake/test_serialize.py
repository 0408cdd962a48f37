"""A page's result survives the trip through JSON whole: the gathering worker sees exactly what
the reading worker produced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intake import serialize
from intake.dossier import PageResult
from intake.extract import Opinion
from intake.model import (
    Box,
    Cell,
    Field,
    Line,
    Location,
    Page,
    PageInk,
    PageKind,
    Reading,
    ScanQuality,
    Seal,
    SealShape,
    TextSource,
    Word,
)
from intake.pipeline import PageTask, read_page
from samples.generate import generate_batch


def _full_result() -> PageResult:
    box = Box(10, 20, 300, 40)
    words = (Word("国家", Box(10, 20, 40, 40), 91.25), Word("实验室", Box(55, 20, 60, 40), 87.0))
    page = Page(
        document="volume-1.pdf", number=3, width=1654, height=2339, dpi=200, rotation=180,
        skew=-0.4375, text_source=TextSource.TESSERACT, kind=PageKind.APPROVAL,
        lines=(Line("国家实验室", box, 89.123456789, words), Line("", Box(0, 0, 1, 1), 0.0)),
        reread=(Line("有效期至：2023年6月30日", Box(1000, 1600, 380, 44), 97.5),),
        cells=(Cell(0, 1, box, "统一社会信用代码", 95.5, table=2), Cell(1, 0, Box(1, 2, 3, 4))),
        seals=(Seal(Box(400, 500, 320, 318), SealShape.ROUND, "red", True, 0.9731,
                    "中国机床工具工业协会", 0.81,
                    (("中国机床工具工业协会", -0.125), ("上海市经济和信息化委员会", -7.5))),
               Seal(Box(0, 0, 90, 60), SealShape.RECTANGLE, "gray", False, 0.5)),
        footer=(3, 12), seconds=7.123456,
        quality=ScanQuality(edge_mm=0.131, paper=244.5, contrast=180.0, scan_dpi=200),
    )
    field = Field(key="identity.credit_code", label="统一社会信用代码", text="91110000MA01",
                  location=Location("volume-1.pdf", 3, box), copy=2,
                  readings=(Reading("91110000MA01", 88.5, "tesseract:page"),
                            Reading("91110000MAO1", 0.97, "rapidocr:cell")))
    unboxed = Field(key="identity.name", label="名称", text="", location=Location("v.pdf", 1))
    opinion = Opinion("同意推荐。", "2021年5月6日", Box(5, 6, 7, 8))
    ink = PageInk(50, 3, 2, bytes(range(0, 250, 41)))  # any bytes, zero and high ones too
    return PageResult(page, (field, unboxed), opinion, "images/p3.jpg", None, copy=2, ink=ink)


def test_every_part_of_a_page_result_comes_back_equal():
    result = _full_result()
    data = serialize.dumps(result)
    assert serialize.loads(data) == result
    # plain JSON that any worker can read, with the Chinese as written
    assert "国家实验室" in data.decode("utf-8")
    assert json.loads(data)["version"] == serialize.VERSION


def test_a_page_that_could_not_be_read_keeps_its_reason():
    failed = PageResult(Page("scan.tiff", 2, 0, 0, 0), error="tesseract timed out after 120 s")
    assert serialize.loads(serialize.dumps(failed)) == failed


def test_a_result_of_another_version_is_refused():
    data = json.loads(serialize.dumps(_full_result()))
    data["version"] = 99
    with pytest.raises(ValueError, match="version"):
        serialize.page_result_from_json(data)


def test_pages_read_by_the_pipeline_come_back_equal(tmp_path: Path):
    manifest = generate_batch(tmp_path, labs=1, seed=5, text_layer=True)
    lab = tmp_path / manifest["labs"][0]["dir"]
    results = [read_page(PageTask(path=str(lab / name), kind="pdf", document=name, number=n,
                                  campaign="2021", image_dir=str(tmp_path)))
               for name, n in (("volume-1.pdf", 1), ("volume-1.pdf", 2), ("opinion-1.pdf", 1),
                               ("letter.pdf", 1))]
    assert any(r.fields for r in results)
    assert any(r.opinion for r in results)
    assert [r.ink is not None for r in results] == [True, True, True, False]
    for result in results:
        assert serialize.loads(serialize.dumps(result)) == result
