"""Generated dossiers: files, layout contract, determinism, truth boxes, scans."""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pdfplumber
import pypdfium2 as pdfium
import pytest

from intake.errors import InputError
from intake.fields import COVER_FIELDS, FORM_TITLE, form_fields, format_value, record_value
from samples import cli
from samples.generate import generate_batch
from samples.scan import page_size_px

from .conftest import Batch


def _digests(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _render(path: Path, page: int, dpi: int) -> np.ndarray:
    document = pdfium.PdfDocument(path)
    try:
        return np.asarray(document[page - 1].render(scale=dpi / 72).to_pil().convert("RGB"))
    finally:
        document.close()


def _words_in(page: pdfplumber.page.Page, box: list[int], dpi: int) -> str:
    x, y, w, h = (v * 72 / dpi for v in box)
    words = [wd for wd in page.extract_words()
             if x <= (wd["x0"] + wd["x1"]) / 2 <= x + w and y <= (wd["top"] + wd["bottom"]) / 2 <= y + h]
    return "".join(wd["text"] for wd in words)


def test_same_seed_same_bytes_whatever_the_workers(tmp_path: Path) -> None:
    args = {"labs": 2, "seed": 3, "degrade": "light", "discrepancies": 2, "dpi": 100}
    one = generate_batch(tmp_path / "a", workers=1, **args)
    two = generate_batch(tmp_path / "b", workers=2, **args)
    assert one == two
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    generate_batch(tmp_path / "c", workers=1, **{**args, "seed": 4})
    assert _digests(tmp_path / "a").keys() == _digests(tmp_path / "c").keys()
    assert _digests(tmp_path / "a") != _digests(tmp_path / "c")


def test_text_layer_is_deterministic_too(tmp_path: Path, text_batch: Batch) -> None:
    generate_batch(tmp_path, labs=4, seed=5, text_layer=True, discrepancies=8, kinds=["all"])
    assert _digests(tmp_path) == _digests(text_batch.root)


def test_files_and_manifest(text_batch: Batch) -> None:
    manifest = text_batch.manifest
    assert [lab["clean"] for lab in manifest["labs"]] == [True, False, True, False]
    assert manifest["settings"]["text_layer"] is True
    assert manifest["seed"] == 5
    for index, lab in enumerate(manifest["labs"]):
        folder = text_batch.lab(index)
        assert sorted(p.name for p in folder.iterdir()) == sorted(lab["files"])
    clean = text_batch.lab(0)
    assert {p.name for p in clean.iterdir()} == {
        "record.json", "volume-1.pdf", "volume-2.pdf", "opinion-1.pdf", "opinion-2.pdf",
        "letter.pdf", "truth.json"}
    assert (manifest_path := text_batch.root / "manifest.json").exists()
    assert json.loads(manifest_path.read_text("utf-8")) == manifest


def test_letter_is_shared_byte_for_byte(clean_scan_batch: Batch) -> None:
    labs = clean_scan_batch.manifest["labs"]
    by_association: dict[str, set[str]] = {}
    for index, lab in enumerate(labs):
        digest = hashlib.sha256((clean_scan_batch.lab(index) / "letter.pdf").read_bytes())
        by_association.setdefault(lab["association"], set()).add(digest.hexdigest())
    assert all(len(d) == 1 for d in by_association.values())
    truth = clean_scan_batch.truth(0)
    assert truth["letter"]["rows"][truth["letter"]["lab_row"] - 1]["lab_id"] == labs[0]["lab_id"]
    assert len(truth["letter"]["rows"]) >= 2


def test_form_layout_contract(text_batch: Batch) -> None:
    truth = text_batch.truth(0)
    record = text_batch.record(0)
    total = truth["form_pages"]
    with pdfplumber.open(text_batch.lab(0) / "volume-1.pdf") as pdf:
        # the form less its approval page, 2 certificates and the business licence
        assert len(pdf.pages) == total - 1 + 3
        for number, page in enumerate(pdf.pages[: total - 1], start=1):
            assert (round(page.width, 2), round(page.height, 2)) == (595.28, 841.89)
            text = page.extract_text()
            assert f"第 {number} 页 共 {total} 页" in text
        cover = pdf.pages[0].extract_text().replace(" ", "")
        assert "工业产品质量控制和技术评价实验室\n复核申报信息表" in cover
        assert FORM_TITLE[:16] in cover
        last = pdf.pages[total - 2].extract_text()
        assert "本单位承诺所填报内容真实、准确、有效。" in last
        assert "归属法人单位（盖章）：" in last
        body = "\n".join(p.extract_text() for p in pdf.pages[1: total - 1])
        assert "支持情况说明" in body
    labels = [f["label"] for f in truth["fields"] if f["document"] == "volume-1.pdf"]
    assert labels == [s.label for s in COVER_FIELDS] + [s.label for s in form_fields("2021")]
    for field in truth["fields"]:
        spec_value = format_value(next(s for s in (*COVER_FIELDS, *form_fields("2021"))
                                       if s.key == field["key"]),
                                  record_value(record, field["key"]))
        assert field["expected"] == spec_value == field["printed"]
    with pdfplumber.open(text_batch.lab(0) / "opinion-1.pdf") as pdf:
        assert len(pdf.pages) == 1
        text = pdf.pages[0].extract_text()
        assert "审批情况" in text
        assert "主管单位审批意见" in text
        assert "同意该实验室通过初审。" in text
        assert f"第 {total} 页 共 {total} 页" in text


def test_rows_are_single_line_with_padding(text_batch: Batch) -> None:
    truth = text_batch.truth(0)
    dpi = truth["settings"]["dpi"]
    pad = 1.5 / 25.4 * dpi
    for field in truth["fields"]:
        x, y, w, h = field["box"]
        cx, cy, cw, ch = field["cell_box"]
        assert x - cx >= pad
        assert (cx + cw) - (x + w) >= pad
        assert y - cy >= pad
        assert (cy + ch) - (y + h) >= pad
        if field["where"] == "body":
            assert abs(ch - 9 / 25.4 * dpi) <= 2  # whole pixels, rounded outward


def test_text_layer_boxes_hold_the_printed_value(text_batch: Batch) -> None:
    for index in range(len(text_batch.manifest["labs"])):
        truth = text_batch.truth(index)
        dpi = truth["settings"]["dpi"]
        pdfs = {}
        try:
            for field in truth["fields"]:
                name = field["document"]
                if name not in pdfs:
                    pdfs[name] = pdfplumber.open(text_batch.lab(index) / name)
                page = pdfs[name].pages[field["page"] - 1]
                assert _words_in(page, field["box"], dpi) == field["printed"].replace(" ", "")
        finally:
            for pdf in pdfs.values():
                pdf.close()


def test_scan_is_image_only_a4_at_dpi(clean_scan_batch: Batch) -> None:
    path = clean_scan_batch.lab(0) / "volume-1.pdf"
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            assert page.extract_text() == ""
            assert (round(page.width, 2), round(page.height, 2)) == (595.28, 841.89)
            (image,) = page.images
            assert (image["srcsize"]) == page_size_px(200)
    assert page_size_px(200) == (1654, 2339)
    raw = path.read_bytes()
    assert b"CreationDate" not in raw
    assert b"ModDate" not in raw


def test_scan_boxes_cover_ink(clean_scan_batch: Batch) -> None:
    truth = clean_scan_batch.truth(0)
    pages: dict[tuple[str, int], np.ndarray] = {}
    for field in truth["fields"]:
        key = (field["document"], field["page"])
        if key not in pages:  # the red channel: black print is dark in it, red seals are not
            pages[key] = _render(clean_scan_batch.lab(0) / key[0], key[1], 200)[..., 0]
        x, y, w, h = field["box"]
        inside = pages[key][y:y + h, x:x + w]
        assert (inside < 100).mean() > 0.04, field["key"]
        # just below the value box, inside the same cell, the paper is blank
        below = pages[key][y + h + 3:y + h + 8, x:x + w]
        assert (below < 100).mean() < 0.01, field["key"]


def test_heavy_scan_boxes_follow_skew_and_rotation(heavy_batch: Batch) -> None:
    truth = heavy_batch.truth(0)
    for document in truth["documents"]:
        skews = [abs(p["skew"]) for p in document["page_info"]]
        assert all(1.0 <= s <= 3.0 for s in skews)
        upside_down = [p for p in document["page_info"] if p["rotation"] == 180]
        assert len(upside_down) == (1 if document["role"] == "volume" else 0)
    pages: dict[tuple[str, int], np.ndarray] = {}
    for field in truth["fields"]:
        key = (field["document"], field["page"])
        if key not in pages:
            pages[key] = _render(heavy_batch.lab(0) / key[0], key[1], 200)[..., 0]
        x, y, w, h = field["box"]
        assert (pages[key][y:y + h, x:x + w] < 90).mean() > 0.02, field["key"]


def test_seals_in_truth(clean_scan_batch: Batch) -> None:
    truth = clean_scan_batch.truth(0)
    record = clean_scan_batch.record(0)
    roles = {(s["document"], s["role"]) for s in truth["seals"]}
    assert ("volume-1.pdf", "legal_entity") in roles
    assert ("opinion-1.pdf", "recommending_unit") in roles
    assert ("letter.pdf", "association") in roles
    assert ("volume-2.pdf", "certification_body") in roles
    cover = next(s for s in truth["seals"] if s["document"] == "volume-1.pdf"
                 and s["slot"] == "cover")
    assert cover["organisation"] == record["identity"]["legal_entity"]
    assert cover["complete"]
    entity = next(f for f in truth["fields"] if f["document"] == "volume-1.pdf"
                  and f["key"] == "identity.legal_entity" and f["where"] == "cover")
    cx, cy, cw, ch = entity["cell_box"]
    x, y, w, h = cover["box"]
    assert x < cx + cw
    assert cx < x + w
    assert y < cy + ch
    assert cy < y + h
    image = _render(clean_scan_batch.lab(0) / "volume-1.pdf", 1, 200).astype(int)
    patch = image[y:y + h, x:x + w]
    assert ((patch[..., 0] - patch[..., 1]) > 30).mean() > 0.05  # red ink where truth says


def test_gray_scan_has_no_colour(tmp_path: Path) -> None:
    manifest = generate_batch(tmp_path, labs=1, seed=2, degrade="light", gray=True)
    lab = tmp_path / manifest["labs"][0]["dir"]
    truth = json.loads((lab / "truth.json").read_text("utf-8"))
    assert {s["color"] for s in truth["seals"]} == {"gray"}
    for name in ("volume-1.pdf", "opinion-1.pdf", "letter.pdf"):
        raw = (lab / name).read_bytes()
        assert b"/DeviceRGB" not in raw
        assert b"/DeviceGray" in raw
        image = _render(lab / name, 1, 50).astype(int)
        assert np.abs(image[..., 0] - image[..., 1]).max() <= 2


def test_arguments_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="degrade"):
        generate_batch(tmp_path, labs=1, seed=1, degrade="medium")
    with pytest.raises(ValueError, match="unknown discrepancy kinds"):
        generate_batch(tmp_path, labs=1, seed=1, discrepancies=1, kinds=["smudge"])
    with pytest.raises(ValueError, match="labs"):
        generate_batch(tmp_path, labs=0, seed=1)
    with pytest.raises(ValueError, match="seal shape"):
        generate_batch(tmp_path, labs=1, seed=1, seal_shapes=["round", "star"])
    with pytest.raises(ValueError, match="seal_shapes"):
        generate_batch(tmp_path, labs=1, seed=1, seal_shapes=[])


def test_cli_runs_and_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--labs", "1", "--seed", "4",
                              "--degrade", "none", "--text-layer", "--dpi", "100",
                              "--discrepancies", "1", "--kinds", "missing_seal,missing_page"])
    assert cli.run(args) == 0
    assert "1 labs" in capsys.readouterr().err
    truth = json.loads((tmp_path / "L2021-001" / "truth.json").read_text("utf-8"))
    assert truth["documents"][0]["dpi"] == 100
    bad = parser.parse_args(["--out", str(tmp_path), "--kinds", "nonsense", "--discrepancies", "1"])
    with pytest.raises(InputError):
        cli.run(bad)


def test_reused_folder_keeps_no_stale_files(tmp_path: Path) -> None:
    generate_batch(tmp_path, labs=2, seed=6, degrade="none", text_layer=True)
    generate_batch(tmp_path, labs=2, seed=6, degrade="none", text_layer=True, discrepancies=1,
                   kinds=["missing_opinion"])
    assert not (tmp_path / "L2021-002" / "opinion-1.pdf").exists()
    assert (tmp_path / "L2021-001" / "opinion-1.pdf").exists()


def test_footer_numbers_are_contiguous_except_a_missing_page(text_batch: Batch) -> None:
    truth = text_batch.truth(1)
    missing = next(d for d in truth["discrepancies"] if d["kind"] == "missing_page")
    total = truth["form_pages"]
    footers = []
    with pdfplumber.open(text_batch.lab(1) / "volume-2.pdf") as pdf:
        assert len(pdf.pages) == total - 1 + 3
    with pdfplumber.open(text_batch.lab(1) / "volume-1.pdf") as pdf:
        assert len(pdf.pages) == total - 2 + 3
        for page in pdf.pages:
            found = re.search(r"第 (\d+) 页 共 (\d+) 页", page.extract_text())
            if found:
                footers.append(int(found[1]))
    assert footers == [n for n in range(1, total) if n != missing["form_page"]]


def _entity_shapes(root: Path, manifest: dict) -> list[set[str]]:
    """Per lab, the shapes of its legal entity's seals in truth.json."""
    shapes = []
    for lab in manifest["labs"]:
        truth = json.loads((root / lab["dir"] / "truth.json").read_text("utf-8"))
        shapes.append({s["shape"] for s in truth["seals"] if s["role"] == "legal_entity"})
    return shapes


def test_seal_shapes_set_each_legal_entity_seal_in_turn(tmp_path: Path) -> None:
    # Seed 3 draws a round seal for each of its three labs.
    args = {"labs": 3, "seed": 3, "degrade": "none", "dpi": 100, "workers": 1}
    drawn = generate_batch(tmp_path / "drawn", **args)
    shaped = generate_batch(tmp_path / "shaped", seal_shapes=["oval", "square"], **args)
    assert _entity_shapes(tmp_path / "drawn", drawn) == [{"round"}] * 3
    assert _entity_shapes(tmp_path / "shaped", shaped) == [{"oval"}, {"square"}, {"oval"}]
    assert shaped["settings"]["seal_shapes"] == ["oval", "square"]
    assert "seal_shapes" not in drawn["settings"]
    for lab in drawn["labs"]:  # the same labs, only their seals differ
        assert ((tmp_path / "drawn" / lab["dir"] / "record.json").read_bytes()
                == (tmp_path / "shaped" / lab["dir"] / "record.json").read_bytes())


def test_seal_shapes_as_drawn_change_no_byte(tmp_path: Path) -> None:
    args = {"labs": 2, "seed": 11, "degrade": "light", "dpi": 100, "workers": 1}
    drawn = generate_batch(tmp_path / "drawn", **args)
    assert _entity_shapes(tmp_path / "drawn", drawn) == [{"round"}] * 2
    shaped = generate_batch(tmp_path / "shaped", seal_shapes=["round"], **args)
    del shaped["settings"]["seal_shapes"]
    assert shaped == drawn
    one, two = _digests(tmp_path / "drawn"), _digests(tmp_path / "shaped")
    del one["manifest.json"], two["manifest.json"]
    assert one == two


def test_seal_shapes_from_the_command_line(tmp_path: Path) -> None:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    args = parser.parse_args(["--out", str(tmp_path), "--labs", "1", "--seed", "4",
                              "--degrade", "none", "--dpi", "100", "--seal-shapes", "square"])
    assert cli.run(args) == 0
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert _entity_shapes(tmp_path, manifest) == [{"square"}]
    bad = parser.parse_args(["--out", str(tmp_path), "--seal-shapes", "round,star"])
    with pytest.raises(InputError, match="star"):
        cli.run(bad)
