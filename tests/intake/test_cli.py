"""``dossier seals``: the seals of scanned pages, on the command line, as JSON or a line each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from intake.cli import main
from intake.model import Box
from tests.intake.test_seals import DPI, MM, ORGANISATIONS, page_rgb, seal, stamp


def _scan(tmp_path: Path, name: str = ORGANISATIONS[2]) -> tuple[Path, Path, Box]:
    """One page with one red seal, as a PNG of its own pixels and as a PDF of that image at
    ``DPI``; the seal's box in the image's pixels."""
    page = page_rgb()
    truth = stamp(page, seal(name, seed=4), 130 * MM, 210 * MM)
    png, pdf = tmp_path / "opinion.png", tmp_path / "opinion.pdf"
    Image.fromarray(page).save(png, dpi=(DPI, DPI))
    Image.fromarray(page).save(pdf, "PDF", resolution=DPI)
    return png, pdf, truth


def _box(bbox: list[int]) -> Box:
    return Box(*bbox)


def test_seals_json_gives_each_pages_seals_in_the_pixels_it_was_rendered_at(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    png, pdf, truth = _scan(tmp_path)
    code = main(["seals", str(png), str(pdf), "--dpi", str(2 * DPI), "--json", "--no-text"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == []
    by_file = {Path(p["file"]).name: p for p in out["pages"]}
    assert set(by_file) == {"opinion.png", "opinion.pdf"}

    # The image file: its own pixels, whatever --dpi says.
    image = by_file["opinion.png"]
    assert (image["page"], image["dpi"]) == (1, DPI)
    assert (image["width"], image["height"]) == (round(210 * MM), round(297 * MM))
    (found,) = image["seals"]
    assert _box(found["bbox"]).iou(truth) >= 0.8
    assert (found["shape"], found["color"], found["complete"]) == ("round", "red", True)
    assert (found["text"], found["text_score"]) == ("", 0.0)  # --no-text: not read, not guessed

    # The PDF: rendered at --dpi, twice the image's pixels, the box with it.
    rendered = by_file["opinion.pdf"]
    assert rendered["dpi"] == 2 * DPI
    assert abs(rendered["width"] - 2 * image["width"]) <= 2
    (found,) = rendered["seals"]
    doubled = Box(2 * truth.x, 2 * truth.y, 2 * truth.w, 2 * truth.h)
    assert _box(found["bbox"]).iou(doubled) >= 0.8


def test_seals_reads_the_name_and_tells_which_expected_organisation_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    png, _, _ = _scan(tmp_path, ORGANISATIONS[2])
    code = main(["seals", str(png), "--expect", ORGANISATIONS[3], "--expect", ORGANISATIONS[2]])
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("1 seal")
    assert f"-> {ORGANISATIONS[2]}" in lines[1]
    assert "round red complete" in lines[1]


def test_a_bad_file_among_the_scans_is_named_and_the_others_are_still_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    png, _, truth = _scan(tmp_path)
    broken = tmp_path / "volume-1.pdf"
    broken.write_bytes(b"%PDF-1.7\n1 0 obj\n<<>>\n")  # cut off: no pages, no trailer
    code = main(["seals", str(broken), str(png), "--json", "--no-text"])
    assert code == 2  # bad input, which the user can fix
    captured = capsys.readouterr()
    (said,) = captured.err.strip().splitlines()
    assert "volume-1.pdf" in said
    out = json.loads(captured.out)
    (error,) = out["errors"]
    assert Path(error["file"]).name == "volume-1.pdf"
    assert error["code"] == "corrupt_file"
    (page,) = out["pages"]
    assert Path(page["file"]).name == "opinion.png"
    assert _box(page["seals"][0]["bbox"]).iou(truth) >= 0.8


@pytest.mark.parametrize("dpi", ["0", "5000", "abc"])
def test_a_dpi_no_scan_has_is_refused_before_any_file_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], dpi: str,
) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["seals", str(tmp_path / "never-read.pdf"), "--dpi", dpi])
    assert stop.value.code == 2
    assert "dpi" in capsys.readouterr().err
