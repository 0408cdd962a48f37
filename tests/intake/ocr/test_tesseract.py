"""intake.ocr.tesseract: the real tesseract on generated pages, and its failures translated."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from intake.errors import ToolError, ToolMissingError, ToolTimeoutError
from intake.ocr import tesseract
from tests.intake.pagedraw import form_page, text_image, to_bgr

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None,
                                reason="tesseract is not installed")


def _gray(image: object) -> np.ndarray:
    return np.asarray(cv2.cvtColor(to_bgr(image), cv2.COLOR_BGR2GRAY))  # type: ignore[arg-type]


@pytest.fixture
def program(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tesseract read through its program, as where its library cannot be loaded."""
    monkeypatch.setattr(tesseract, "LIBRARY", "libtesseract-not-installed-here.so")
    monkeypatch.setattr(tesseract, "_engines", tesseract._Engines())


@pytest.fixture(params=["library", "program"])
def either_way(request: pytest.FixtureRequest) -> str:
    """Each test run once with the library in this process, once with the program."""
    if request.param == "program":
        request.getfixturevalue("program")
    return str(request.param)


def _fake_tesseract(tmp_path: Path, script: str) -> str:
    path = tmp_path / "tesseract"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_probe_reports_version_and_chinese() -> None:
    info = tesseract.probe()
    assert info.version.split(".")[0].isdigit()
    assert "chi_sim" in info.languages


def test_probe_without_chinese_says_how_to_install(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _fake_tesseract(tmp_path, """
case "$1" in
  --version) echo "tesseract 5.3.0" ;;
  --list-langs) echo 'List of available languages in "/x" (2):'; echo eng; echo osd ;;
esac
""")
    monkeypatch.setattr(tesseract, "TESSERACT", fake)
    with pytest.raises(ToolMissingError, match="apt-get install tesseract-ocr tesseract-ocr-chi-sim"):
        tesseract.probe()


@pytest.mark.usefixtures("program")
def test_missing_program_is_tool_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract, "TESSERACT", "tesseract-not-installed-here")
    with pytest.raises(ToolMissingError, match="apt-get install"):
        tesseract.probe()
    with pytest.raises(ToolMissingError):
        tesseract.ocr_lines(np.full((40, 40), 255, np.uint8))


def test_old_version_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract, "TESSERACT", _fake_tesseract(tmp_path, 'echo "tesseract 3.05.02"'))
    with pytest.raises(ToolMissingError, match="too old"):
        tesseract.probe()


@pytest.mark.usefixtures("program")
def test_runs_with_one_openmp_thread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "env.txt"
    fake = _fake_tesseract(tmp_path, f"""
cat > /dev/null
echo "$OMP_THREAD_LIMIT" > {seen}
printf 'level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t'
printf 'left\\ttop\\twidth\\theight\\tconf\\ttext\\n'
""")
    monkeypatch.setattr(tesseract, "TESSERACT", fake)
    monkeypatch.setenv("OMP_THREAD_LIMIT", "8")
    assert tesseract.ocr_lines(np.full((40, 40), 255, np.uint8)) == []
    assert seen.read_text().strip() == "1"
    assert os.environ["OMP_THREAD_LIMIT"] == "8"  # the caller's environment is left alone


@pytest.mark.usefixtures("either_way")
def test_timeout_is_translated() -> None:
    page = _gray(form_page(200))
    with pytest.raises(ToolTimeoutError, match="longer than"):
        tesseract.ocr_lines(page, timeout=0.05)
    # A read stopped halfway leaves nothing behind for the next one.
    assert "913100001322011589" in [ln.text for ln in tesseract.ocr_lines(page, dpi=200)]


@pytest.mark.usefixtures("either_way")
def test_failure_is_translated() -> None:
    with pytest.raises(ToolError, match="xx_no_such_language") as info:
        tesseract.ocr_lines(np.full((40, 40), 255, np.uint8), lang="xx_no_such_language")
    assert not isinstance(info.value, (ToolMissingError, ToolTimeoutError))


def _words(image: np.ndarray, **options: object) -> list[tuple[str, tuple[int, int, int, int], float]]:
    found = tesseract._tsv(image, lang="chi_sim", timeout=60, what="a test read",
                           **options)  # type: ignore[arg-type]
    return [(w.text, (w.box.x, w.box.y, w.box.w, w.box.h), w.conf) for w in found]


def test_the_library_reads_what_the_program_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    from intake.prepare import remove_rules

    page = remove_rules(_gray(form_page(200)))
    small = np.asarray(cv2.resize(page, None, fx=0.75, fy=0.75, interpolation=cv2.INTER_AREA))
    cell = to_bgr(text_image("356台套", 36))
    reads: list[tuple[np.ndarray, dict[str, object]]] = [
        (page, {"psm": 11, "dpi": 200, "whitelist": None}),
        (cell, {"psm": 7, "dpi": None, "whitelist": "0123456789"}),  # colour, a whitelist
        (small, {"psm": 11, "dpi": 150, "whitelist": None}),  # no option left from the cell
        (cell, {"psm": 7, "dpi": None, "whitelist": None}),
    ]
    library = [_words(image, **options) for image, options in reads]
    assert tesseract._engines.get("chi_sim") is not None  # read in this process
    monkeypatch.setattr(tesseract, "LIBRARY", "libtesseract-not-installed-here.so")
    monkeypatch.setattr(tesseract, "_engines", tesseract._Engines())
    program = [_words(image, **options) for image, options in reads]
    assert library == program
    assert ("913100001322011589" in {t for t, _, _ in library[0]})
    assert [t for t, _, _ in library[1]] == ["356"]
    assert "".join(t for t, _, _ in library[3]).startswith("356台")


def test_the_model_is_loaded_once_and_no_program_is_run(monkeypatch: pytest.MonkeyPatch) -> None:
    image = _gray(text_image("913100001322011589", 36))
    assert tesseract.ocr_text(image)[0] == "913100001322011589"
    engine = tesseract._engines.get("chi_sim")
    monkeypatch.setattr(tesseract, "TESSERACT", "tesseract-not-installed-here")
    assert tesseract.ocr_text(image)[0] == "913100001322011589"
    assert tesseract._engines.get("chi_sim") is engine


def test_without_the_library_the_program_reads(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tesseract, "LIBRARY", "libtesseract-not-installed-here.so")
    monkeypatch.setattr(tesseract, "_engines", tesseract._Engines())
    ran = tmp_path / "ran.txt"
    monkeypatch.setattr(tesseract, "TESSERACT", _fake_tesseract(tmp_path, f"""
cat > /dev/null
echo "$@" > {ran}
printf 'level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t'
printf 'left\\ttop\\twidth\\theight\\tconf\\ttext\\n'
printf '5\\t1\\t1\\t1\\t1\\t1\\t2\\t3\\t20\\t10\\t91.5\\t356\\n'
"""))
    assert tesseract.ocr_text(np.full((40, 40), 255, np.uint8), whitelist="0123456789") == (
        "356", 91.5)
    assert "tessedit_char_whitelist=0123456789" in ran.read_text()


def test_the_library_loads_with_one_openmp_thread() -> None:
    # OpenMP reads the limit once, when the library loads; the caller's variable stays as is.
    script = """
import ctypes, os
import numpy as np
from intake.ocr import tesseract
tesseract.ocr_text(np.full((40, 40), 255, np.uint8))
assert tesseract._engines.get("chi_sim") is not None
print(ctypes.CDLL("libgomp.so.1").omp_get_thread_limit(), os.environ["OMP_THREAD_LIMIT"])
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env={**os.environ, "OMP_THREAD_LIMIT": "8"}, check=True,
                         cwd=Path(__file__).resolve().parents[3], timeout=120)
    assert out.stdout.split() == ["1", "8"]


def test_chinese_line_is_merged_with_character_words() -> None:
    image = _gray(text_image("实验室名称 国家电线电缆产品质量检验检测中心", 40))
    lines = tesseract.ocr_lines(image)
    assert len(lines) == 1
    line = lines[0]
    assert line.text == "实验室名称国家电线电缆产品质量检验检测中心"
    assert " " not in line.text
    assert [w.text for w in line.words] == list(line.text)  # one Word per character
    assert all(0 <= w.conf <= 100 for w in line.words)
    assert 80 <= line.conf <= 100
    height, width = image.shape
    for word in line.words:
        assert word.box.x >= 0
        assert word.box.x2 <= width
        assert word.box.y >= 0
        assert word.box.y2 <= height
    xs = [w.box.center[0] for w in line.words]
    assert xs == sorted(xs)
    # The first character's box covers it, not half the line.
    assert line.words[0].box.w < 3 * line.words[-1].box.w


def test_form_page_lines_top_to_bottom() -> None:
    from intake.prepare import remove_rules

    lines = tesseract.ocr_lines(remove_rules(_gray(form_page(200))), dpi=200)
    texts = [ln.text for ln in lines]
    assert texts[0] == "工业产品质量控制和技术评价实验室复核申报信息表"
    # Sparse-text mode keeps a label and its value apart, each a line of its own.
    assert "统一社会信用代码" in texts
    assert "913100001322011589" in texts
    assert "CNAS L1234" in texts  # Latin words keep their space
    ys = [ln.box.y for ln in lines]
    assert ys == sorted(ys)
    row = next(ln for ln in lines if ln.text == "913100001322011589")
    label = next(ln for ln in lines if ln.text == "统一社会信用代码")
    assert abs(row.box.center[1] - label.box.center[1]) < 10
    assert label.box.x2 < row.box.x


def test_a_page_read_smaller_keeps_its_text_and_the_boxes_of_the_page() -> None:
    from intake.prepare import remove_rules

    page = remove_rules(_gray(form_page(200)))
    full = {ln.text: ln.box for ln in tesseract.ocr_lines(page, dpi=200)}
    small = {ln.text: ln.box for ln in tesseract.ocr_lines(page, dpi=200, scale=0.75)}
    for text in ("统一社会信用代码", "913100001322011589", "上海电缆研究所有限公司"):
        assert text in small
        # In the page's own pixels, where the full-size read puts it, not three quarters of it.
        assert full[text].iou(small[text]) > 0.7, (full[text], small[text])


def test_a_table_row_in_one_block_mode() -> None:
    from intake.prepare import remove_rules

    lines = tesseract.ocr_lines(remove_rules(_gray(form_page(200))), psm=6, dpi=200)
    assert "统一社会信用代码913100001322011589" in [ln.text for ln in lines]


def test_ocr_text_of_a_cell_and_a_whitelist() -> None:
    text, conf = tesseract.ocr_text(_gray(text_image("913100001322011589", 36)))
    assert text == "913100001322011589"
    assert conf > 50
    digits, _ = tesseract.ocr_text(_gray(text_image("356台套", 36)), whitelist="0123456789")
    assert digits.startswith("356")
    assert all(c.isdigit() for c in digits)
    assert tesseract.ocr_text(np.full((40, 200), 255, np.uint8)) == ("", 0.0)


def test_osd_finds_an_upside_down_page() -> None:
    page = _gray(form_page(150))
    assert tesseract.osd(page) == 0
    assert tesseract.osd(cv2.rotate(page, cv2.ROTATE_180)) == 180
    assert tesseract.osd(cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE)) == 270
    assert tesseract.osd(np.full((200, 200), 255, np.uint8)) is None


def test_bad_image_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="uint8"):
        tesseract.ocr_lines(np.zeros((10, 10), np.float32))
