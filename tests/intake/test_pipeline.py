from dataclasses import replace

from intake.dossier import PageResult
from intake.model import Page, PageKind, Status
from intake.pipeline import assign_copies


def _page(doc, number, kind, footer):
    return PageResult(Page(doc, number, 100, 100, 200, kind=kind, footer=footer))


def test_copies_are_told_apart_by_page_numbers_not_file_names():
    pages = [_page("all.pdf", i + 1, PageKind.FORM, (n, 5)) for i, n in enumerate([1, 2, 4])]
    pages += [_page("all.pdf", 4, PageKind.CERTIFICATE, None)]
    pages += [_page("all.pdf", 5 + i, PageKind.FORM, (n, 5)) for i, n in enumerate([1, 2, 3, 4])]
    pages += [_page("op.pdf", 1, PageKind.APPROVAL, (5, 5)), _page("op.pdf", 2, PageKind.APPROVAL,
                                                                    (5, 5))]
    copies = [r.copy for r in assign_copies(pages)]
    # copy 1 lacks page 3 and still counts as one copy; the certificate stays with copy 1.
    assert copies == [1, 1, 1, 1, 2, 2, 2, 2, 1, 2]


def test_pages_scanned_out_of_order_stay_in_their_copy():
    # One PDF holding both copies, copy 1 scanned with pages 3 and 4 swapped.
    numbers = [1, 2, 4, 3, 5, 1, 2, 3, 4, 5]
    pages = [_page("all.pdf", i + 1, PageKind.FORM, (n, 5)) for i, n in enumerate(numbers)]
    copies = [r.copy for r in assign_copies(pages)]
    assert copies == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]


def test_a_page_repeated_in_a_copy_does_not_merge_the_copies():
    numbers = [1, 2, 3, 3, 4, 5, 1, 2, 3, 4, 5]
    pages = [_page("all.pdf", i + 1, PageKind.FORM, (n, 5)) for i, n in enumerate(numbers)]
    copies = [r.copy for r in assign_copies(pages)]
    # The repeated page 3 opens a second run; the cover that follows opens the next copy, so
    # the last five pages are a whole copy of their own and the repeat is seen, not hidden.
    assert copies[-5:] == [3, 3, 3, 3, 3]
    assert copies[:3] == [1, 1, 1]


def test_review_verifies_each_page_while_the_next_ones_are_read(monkeypatch, tmp_path):
    """The precise engine re-reads a page's fields as soon as the page is read, not after the
    last page; the report is the one verifying at the end gives."""
    import json

    import cv2
    import numpy as np

    from intake import pipeline
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD, approval, form_copy, letter

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    image = tmp_path / "page.jpg"
    cv2.imwrite(str(image), np.full((2339, 1654, 3), 255, np.uint8))
    misread = {"identity.credit_code": "91350100M000100Y48"}  # the page pass got one wrong
    pages = [*form_copy(RECORD, 1, overrides=misread), *form_copy(RECORD, 2), approval(1),
             approval(2), letter(RECORD["identity"]["lab_name"])]
    pages = [replace(p, image=str(image)) for p in pages]
    events = []

    def read_pages(tasks, workers):
        for result in pages:
            events.append(("read", result.page.document, result.page.number))
            yield result

    def read_line(crop):
        events.append(("verify",))
        return "91350100M000100Y43", 99.0

    verifier = pipeline.Verifier("fake", read_line=read_line, read_block=lambda crop: [])
    monkeypatch.setattr(pipeline, "read_pages", read_pages)
    monkeypatch.setattr(pipeline, "open_documents", lambda paths, options: [])
    report, results = pipeline.review([], record, pipeline.ReviewOptions(),
                                      verifier)
    assert events.index(("verify",)) < events.index(("read", "letter.pdf", 1))
    field = next(f for r in results for f in r.fields if f.key == "identity.credit_code"
                 and f.copy == 1)
    assert [rd.text for rd in field.readings] == ["91350100M000100Y48", "91350100M000100Y43"]
    at_end, _ = pipeline.finish_review(pages, record, [], verifier, 0.0)
    assert [(f.rule, f.status, f.found) for f in report.findings] == [
        (f.rule, f.status, f.found) for f in at_end.findings]



def test_a_letters_table_is_read_again_and_its_title_kept(monkeypatch):
    """The precise engine reads the letter from its table down (where the labs are named) when
    no cell comes close to the lab's name; the title above keeps the page pass's reading, every
    box in the page's pixels."""
    lab = "国家电线电缆产品质量控制和技术评价实验室"
    _, result, crops = _letter_with_table(monkeypatch, "", lab)
    lines = result.page.lines
    (height, width), = crops
    top = 2339 - height
    assert width == 1654
    assert 960 < top <= 1000  # the page from just above the table down
    assert [ln.text for ln in lines] == ["关于复核初审确认意见的函", lab]
    assert lines[0].box.y == 200
    assert lines[1].box.y == top + 10  # back in the page's pixels


def test_a_certificate_the_page_pass_left_unsure_is_read_again_with_the_seal_out(monkeypatch):
    import json

    import cv2
    import numpy as np

    from intake import pipeline
    from intake.model import Box, Line
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD, certificate, certificate_text

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    image = np.full((2339, 1654, 3), 255, np.uint8)
    cv2.putText(image, "2023", (1000, 1640), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (0, 0, 0), 4)
    cv2.circle(image, (1100, 1620), 150, (40, 40, 220), 12)  # the issuing body's red seal
    monkeypatch.setattr(pipeline.cv2, "imread", lambda path: image.copy())
    read: list[np.ndarray] = []
    date_line = Line("有效期至：2023年6月30日", Box(1000, 1600, 380, 44), 97.0)

    def read_block(crop):
        read.append(crop)
        return [date_line]

    verifier = pipeline.Verifier("fake", read_line=lambda crop: ("", 0.0), read_block=read_block)
    check = pipeline.page_verifier(record, verifier)
    clean = replace(certificate(RECORD, "cma", 1), image="page.jpg")
    assert check(clean) == clean
    assert not read
    # The validity and issue dates under the seal: the page pass does not show the validity.
    smudged = (certificate_text(RECORD, "cma").replace("有效期至: 2023年6月30日", "有效期至:人二仙]]日")
               .replace("发证日期: 2017年7月1日", "发证日期: 20吕7仙"))
    unsure = replace(certificate(RECORD, "cma", 1, text=smudged), image="page.jpg")
    verified = check(unsure)
    assert verified.page.reread == (date_line,)
    assert verified.page.cells == unsure.page.cells  # the page pass's reading is kept
    (crop,) = read
    assert crop.shape[:2] == (2339, 1654)
    assert crop[1620, 950] > 200  # the seal's ring is gone
    assert crop[1620:1640, 1000:1100].min() < 100  # the print under it is not


def test_a_licence_the_page_pass_left_unsure_is_read_again_and_a_clear_one_is_not(
        monkeypatch):
    import json

    import numpy as np

    from intake import pipeline
    from intake.model import Box, Line
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD
    from tests.intake.checks.test_licence import licence_page, licence_text

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    image = np.full((2339, 1654, 3), 255, np.uint8)
    monkeypatch.setattr(pipeline.cv2, "imread", lambda path: image.copy())
    code_line = Line(f"统一社会信用代码 {RECORD['identity']['credit_code']}", Box(200, 200, 900, 44),
                     97.0)
    read: list[np.ndarray] = []

    def read_block(crop):
        read.append(crop)
        return [code_line]

    verifier = pipeline.Verifier("fake", read_line=lambda crop: ("", 0.0), read_block=read_block)
    check = pipeline.page_verifier(record, verifier)
    clean = replace(licence_page(RECORD, 1), image="page.jpg")
    assert check(clean) == clean
    assert not read
    # The code misread by the page pass: the precise engine reads the page again.
    misread = licence_text(RECORD, code="91350100M0O0108Y43")
    unsure = replace(licence_page(RECORD, 1, misread), image="page.jpg")
    assert check(unsure).page.reread == (code_line,)
    assert len(read) == 1


def test_a_field_the_page_pass_garbled_gets_a_second_reading_before_it_fails(monkeypatch):
    """Under the cover seal tesseract read the lab name as "Di ru" and RapidOCR, sure of it,
    read 质 as 债: a psm 6 reading of the cell settles it; a name printed otherwise still fails."""
    import json

    import numpy as np

    from intake import pipeline
    from intake.checks import field_match
    from intake.model import Reading
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD, form_copy

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    monkeypatch.setattr(pipeline.cv2, "imread",
                        lambda path: np.full((2339, 1654, 3), 255, np.uint8))
    name = RECORD["identity"]["lab_name"]
    misread = name.replace("质", "债")

    def checked(fast, fast_conf, precise, cell):
        cells = []

        def read_cell(crop):
            cells.append(crop.shape)
            return cell, 88.6

        verifier = pipeline.Verifier("fake", read_line=lambda crop: (precise, 99.0),
                                     read_block=lambda crop: [], read_cell=read_cell)
        page = next(p for p in form_copy(RECORD, 1) if any(
            f.key == "identity.lab_name" for f in p.fields))
        page = replace(page, image="page.jpg", fields=tuple(
            replace(f, text=fast, readings=(Reading(fast, fast_conf, "tesseract"),))
            if f.key == "identity.lab_name" else f for f in page.fields))
        verified = pipeline.page_verifier(record, verifier)(page)
        [finding] = [f for f in field_match.check([verified], record)
                     if f.field == "identity.lab_name"]
        return finding.status, [r["source"] for r in finding.evidence["readings"]], len(cells)

    assert checked("Di ru", 0.0, misread, name) == (
        Status.PASS, ["tesseract", "tesseract:cell", "fake:cell"], 1)
    printed = name.replace("控制", "检测")  # the paper prints another name: both engines see it
    assert checked("Di ru", 0.0, printed, printed)[0] is Status.FAIL
    # A page pass sure of its reading, or unsure but reading what RapidOCR reads, is a second
    # opinion already: no third read.
    assert checked(printed, 93.0, printed, name) == (
        Status.FAIL, ["tesseract", "fake:cell"], 0)
    assert checked(printed, 45.7, printed, "|") == (
        Status.FAIL, ["tesseract", "fake:cell"], 0)


def _opinion_verifier(monkeypatch, paper):
    """A page verifier whose precise engine reads ``paper`` in the opinion cell, and the
    crops it was asked to read."""
    import json

    import numpy as np

    from intake import pipeline
    from intake.model import Box, Line
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    monkeypatch.setattr(pipeline.cv2, "imread",
                        lambda path: np.full((2339, 1654, 3), 255, np.uint8))
    crops = []

    def read_block(crop):
        crops.append(crop.shape)
        return [Line(paper, Box(10, 10, 600, 40), 99.0),
                Line("2021年4月20日", Box(300, 700, 300, 40), 99.0)]

    verifier = pipeline.Verifier("fake", read_line=lambda crop: ("", 0.0), read_block=read_block)
    return record, pipeline.page_verifier(record, verifier), crops


def test_an_opinion_the_page_pass_read_whole_as_recorded_is_not_read_again(monkeypatch):
    from intake.checks import opinion
    from tests.intake.checks.conftest import approval

    record, check, crops = _opinion_verifier(monkeypatch, "同意该实验室通过初审。")
    result = approval(1, seals=False, text="同意该实验室通过初审。推荐单位〈")
    result = replace(result, image="page.jpg", opinion=replace(result.opinion, whole=True))
    verified = check(result)
    assert crops == []
    assert verified.opinion.text == "同意该实验室通过初审。"  # the cut signature line left out
    assert [f.status.value for f in opinion.check([verified], record)
            if f.rule == "opinion.agrees"] == ["pass"]


def test_a_negation_the_page_pass_may_have_dropped_is_read_again_and_fails(monkeypatch):
    """Paper says 不同意; the page pass read 同意 but did not see every mark in the cell: the
    precise engine reads the cell again and the opinion fails."""
    from intake.checks import opinion
    from tests.intake.checks.conftest import approval

    record, check, crops = _opinion_verifier(monkeypatch, "不同意该实验室通过初审。")
    result = replace(approval(1, seals=False), image="page.jpg")
    assert not result.opinion.whole
    verified = check(result)
    assert len(crops) == 1
    assert verified.opinion.text == "不同意该实验室通过初审。"
    assert [f.status.value for f in opinion.check([verified], record)
            if f.rule == "opinion.agrees"] == ["fail"]


def test_an_opinion_read_whole_but_not_as_recorded_is_read_again(monkeypatch):
    from tests.intake.checks.conftest import approval

    _, check, crops = _opinion_verifier(monkeypatch, "同意该实验室通过初审。")
    for text, day in (("同意该实验室通过初审。但暂不推荐", "2021年4月20日"),
                      ("同意该实验室通过初审。", "2021年4月21日")):
        result = approval(1, seals=False, text=text, date=day)
        check(replace(result, image="page.jpg", opinion=replace(result.opinion, whole=True)))
    assert len(crops) == 2


def test_a_letter_naming_the_lab_whole_keeps_the_page_pass_reading(monkeypatch):
    from tests.intake.checks.conftest import RECORD, letter

    _, check, crops = _opinion_verifier(monkeypatch, "")
    named = replace(letter(RECORD["identity"]["lab_name"], seals=False), image="page.jpg")
    assert check(named) == named
    check(replace(letter("国家电线电缆产品质量", seals=False), image="page.jpg"))
    assert len(crops) == 1


def _written_cell(text):
    """A gray cell with ``text`` printed in it, and one word per character as the page pass
    would read them (boxes in the cell's pixels)."""
    import numpy as np
    from PIL import Image, ImageDraw

    from intake.model import Box, Word
    from tests.intake.pagedraw import font

    face = font(33)
    image = Image.new("L", (900, 200), 255)
    draw = ImageDraw.Draw(image)
    draw.text((60, 60), text, font=face, fill=0)
    words = []
    for i, ch in enumerate(text):
        x = 60 + round(face.getlength(text[:i]))
        x0, y0, x1, y1 = draw.textbbox((x, 60), ch, font=face)
        words.append(Word(ch, Box(x0, y0, x1 - x0, y1 - y0), 95.0))
    return np.asarray(image), Box(0, 0, 900, 200), words


def test_a_cell_is_read_whole_only_when_no_character_was_dropped():
    from intake.model import Box, Word
    from intake.pipeline import read_whole

    gray, cell, words = _written_cell("不同意该实验室通过初审。")
    assert read_whole(gray, cell, words, 200)
    # the 不 not read at all: its ink lies outside every word
    assert not read_whole(gray, cell, words[1:], 200)
    # the 不 inside a word that reads only 同
    bu, tong = words[0].box, words[1].box
    glued = Word("同", Box(bu.x, tong.y, tong.x2 - bu.x, tong.h), 95.0)
    assert not read_whole(gray, cell, [glued, *words[2:]], 200)
    # the 不 read with little confidence
    assert not read_whole(gray, cell, [replace(words[0], conf=30.0), *words[1:]], 200)


def _letter_with_table(monkeypatch, lab_row: str, printed: str):
    """A letter page whose table's second row the page pass read as ``lab_row``, verified by
    a precise engine reading ``printed`` in every crop; the record, the verified page and the
    shapes of the crops the precise engine was given."""
    import json

    import numpy as np

    from intake import pipeline
    from intake.model import Box, Cell, Line
    from intake.record import record_from_dict
    from tests.intake.checks.conftest import RECORD, letter

    monkeypatch.setattr("intake.record.validate_record", lambda data, subject: None)
    record = record_from_dict(json.loads(json.dumps(RECORD)))
    monkeypatch.setattr(pipeline.cv2, "imread",
                        lambda path: np.full((2339, 1654, 3), 255, np.uint8))
    crops: list[tuple[int, ...]] = []

    def read_block(crop):
        crops.append(crop.shape[:2])
        return [Line(printed, Box(10, 10, 900, 40), 99.0)]

    title = Line("关于复核初审确认意见的函", Box(400, 200, 800, 60), 90.0)
    other = "国家数控机床产品质量控制和技术评价实验室"
    cells = (Cell(0, 0, Box(170, 1000, 1300, 120), other),
             Cell(1, 0, Box(170, 1120, 1300, 120), lab_row))
    rows = tuple(Line(c.text, Box(180, c.box.y + 40, 900, 40), 40.0) for c in cells)
    result = letter("")
    result = replace(result, image="page.jpg",
                     page=replace(result.page, cells=cells, lines=(title, *rows)))
    verifier = pipeline.Verifier("fake", read_line=lambda crop: ("", 0.0), read_block=read_block)
    return record, pipeline.page_verifier(record, verifier)(result), crops


def test_a_letter_whose_lab_row_is_misread_is_read_again_in_that_cell_alone(monkeypatch):
    from intake.checks import letter

    lab = "国家电线电缆产品质量控制和技术评价实验室"
    record, result, crops = _letter_with_table(monkeypatch, "家电线电缆产品质量控制和技术评价实室", lab)
    (height, width), = crops
    # the lab's cell, not the page from its table down
    assert height < 120
    assert width < 1300
    lab_cell = result.page.cells[1]
    assert lab_cell.text == lab
    assert result.page.cells[0].text == "国家数控机床产品质量控制和技术评价实验室"
    reread = [ln for ln in result.page.lines if ln.text == lab]
    assert len(reread) == 1
    assert lab_cell.box.contains_point(*reread[0].box.center)
    assert [f.status for f in letter.check([result], record)] == [Status.PASS]


def test_a_letter_not_naming_the_lab_is_read_again_whole_and_fails(monkeypatch):
    from intake.checks import letter

    bearings = "国家轴承产品质量控制和技术评价实验室"
    record, result, crops = _letter_with_table(monkeypatch, bearings, bearings)
    (_, width), = crops
    assert width == 1654  # the page from its table down
    assert [f.status for f in letter.check([result], record)] == [Status.FAIL]
