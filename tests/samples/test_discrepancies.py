"""Discrepancies: planned, recorded in truth, and really on paper."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date
from pathlib import Path

import pdfplumber
import pytest

from intake.fields import FieldKind, all_labels, format_value, record_value
from samples.discrepancies import (
    ALL_KINDS,
    DETECTED_BY,
    EXTRA_KINDS,
    KINDS,
    PRINTOUT_KINDS,
    alter,
    field_targets,
    parse_kinds,
)
from samples.generate import generate_batch, plan_batch
from samples.layout import SUPPORT_LABEL, field_pages

from .conftest import Batch


def _text_at(path, page: int, box: list[int], dpi: int) -> str:
    x, y, w, h = (v * 72 / dpi for v in box)
    with pdfplumber.open(path) as pdf:
        words = pdf.pages[page - 1].extract_words()
    return "".join(wd["text"] for wd in words
                   if x <= (wd["x0"] + wd["x1"]) / 2 <= x + w
                   and y <= (wd["top"] + wd["bottom"]) / 2 <= y + h)


def test_parse_kinds() -> None:
    assert parse_kinds(None) == ("field_mismatch",)
    assert parse_kinds(["all"]) == KINDS
    assert parse_kinds(["missing_page", "missing_page"]) == ("missing_page",)
    with pytest.raises(ValueError, match="unknown"):
        parse_kinds(["blurry"])


def test_every_other_lab_gets_k_discrepancies() -> None:
    labs = plan_batch(labs=6, seed=2, discrepancies=3).labs
    assert [len(lab.plan.injections) for lab in labs] == [0, 3, 0, 3, 0, 3]


def test_default_kind_cycles_through_field_kinds_and_fields() -> None:
    labs = plan_batch(labs=16, seed=2, discrepancies=2).labs
    injections = [i for lab in labs for i in lab.plan.injections]
    assert {i.kind for i in injections} == {"field_mismatch"}
    specs = all_labels("2021")
    kinds = Counter(specs[i.label].kind for i in injections)
    assert set(kinds) == set(FieldKind)
    assert len({i.field for i in injections}) >= 12


def test_all_kinds_appear_over_two_labs_when_k_is_large() -> None:
    labs = plan_batch(labs=4, seed=1, discrepancies=len(KINDS), kinds=["all"]).labs
    first, second = ({i.kind for i in lab.plan.injections} for lab in (labs[1], labs[3]))
    assert first | second == set(KINDS)
    # the two opinion kinds exclude each other, so the one left out waits for the next lab
    assert len(first) == len(KINDS) - 1
    assert len(labs[1].plan.injections) == len(KINDS)


def test_conflicting_kinds_are_not_combined() -> None:
    for seed in range(10):
        for lab in plan_batch(labs=2, seed=seed, discrepancies=3,
                              kinds=["missing_opinion", "opinion_disagrees"]).labs:
            kinds = [i.kind for i in lab.plan.injections]
            assert not {"missing_opinion", "opinion_disagrees"} <= set(kinds)
            assert len(kinds) == len(set(kinds))


@pytest.mark.parametrize("kind", list(FieldKind))
def test_alterations_change_the_printed_value(kind: FieldKind) -> None:
    rec = plan_batch(labs=1, seed=4).labs[0].record
    rng = random.Random(0)
    for target in field_targets("2021")[kind]:
        value = record_value(rec, target.spec.key)
        for _ in range(10):
            new = alter(target.spec, value, rng)
            assert type(new) is type(value) or kind in (FieldKind.DECIMAL, FieldKind.PERCENT)
            printed = format_value(target.spec, new)
            expected = format_value(target.spec, value)
            if kind.value in ("name", "text", "code", "credit_code", "email"):
                assert printed != expected
                assert len(printed) - len(expected) <= 4
            if kind.value in ("code", "credit_code"):  # exactly one digit changed
                assert sum(a != b for a, b in zip(printed, expected, strict=True)) == 1


def test_truth_records_every_kind(text_batch: Batch) -> None:
    kinds = {d["kind"] for i in text_batch.dirty for d in text_batch.truth(i)["discrepancies"]}
    assert kinds == set(KINDS)
    assert text_batch.dirty == [1, 3]
    for index in (0, 2):
        assert text_batch.truth(index)["discrepancies"] == []
        assert text_batch.truth(index)["clean"]
    for index in text_batch.dirty:
        truth = text_batch.truth(index)
        assert not truth["clean"]
        assert len({d["id"] for d in truth["discrepancies"]}) == 8
        for d in truth["discrepancies"]:
            assert d["detail"]
            assert d["document"] or d["kind"] == "missing_page"


def test_field_discrepancies_are_on_paper(text_batch: Batch) -> None:
    specs = all_labels("2021")
    for index in text_batch.dirty:
        truth = text_batch.truth(index)
        record = text_batch.record(index)
        dpi = truth["settings"]["dpi"]
        for d in truth["discrepancies"]:
            if d["kind"] not in ("field_mismatch", "copy_differs", "expired_certificate"):
                continue
            on_paper = _text_at(text_batch.lab(index) / d["document"], d["page"], d["box"], dpi)
            assert on_paper == d["printed"].replace(" ", "")
            expected = format_value(specs[d["label"]], record_value(record, d["field"]))
            assert d["expected"] == expected
            if d["kind"] == "expired_certificate":
                assert d["printed"] == expected
            else:
                assert d["printed"] != expected
        mismatch = next(d for d in truth["discrepancies"] if d["kind"] == "field_mismatch")
        assert {d["copy"] for d in truth["discrepancies"] if d["id"] == mismatch["id"]} == {1, 2}
        differs = next(d for d in truth["discrepancies"] if d["kind"] == "copy_differs")
        assert [d["copy"] for d in truth["discrepancies"] if d["id"] == differs["id"]] == [2]
        first = next(f for f in truth["fields"] if f["document"] == "volume-1.pdf"
                     and f["key"] == differs["field"])
        assert first["printed"] == differs["expected"]  # copy 1 matches the record


def test_expired_certificate_is_in_record_and_paper(text_batch: Batch) -> None:
    record = text_batch.record(1)
    until = record["qualifications"]["cma"]["valid_until"]
    assert date.fromisoformat(until) < date.fromisoformat(record["workflow"]["submitted"])
    truth = text_batch.truth(1)
    assert any(d["kind"] == "expired_certificate" for d in truth["discrepancies"])
    cma = [c for c in truth["certificates"] if c["certificate"] == "cma"]
    assert len(cma) == 2
    printed = format_value(all_labels("2021")["资质认定证书有效期至"], until)
    assert {c["valid_until"] for c in cma} == {printed}
    assert _text_at(text_batch.lab(1) / cma[0]["document"], cma[0]["page"],
                    cma[0]["valid_until_box"], truth["settings"]["dpi"]).endswith(printed)


def test_opinion_discrepancies_are_on_paper(text_batch: Batch) -> None:
    seen = set()
    for index in text_batch.dirty:
        truth = text_batch.truth(index)
        lab = text_batch.lab(index)
        for d in truth["discrepancies"]:
            if d["kind"] == "missing_opinion":
                assert not (lab / d["document"]).exists()
                assert d["document"] not in {doc["file"] for doc in truth["documents"]}
            elif d["kind"] == "opinion_disagrees":
                text = _text_at(lab / d["document"], d["page"], d["box"], truth["settings"]["dpi"])
                assert text == "不同意该实验室通过初审。" == d["printed"]
                assert text_batch.record(index)["opinions"]["recommending_unit"]["agree"]
            else:
                continue
            seen.add(d["kind"])
    assert seen == {"missing_opinion", "opinion_disagrees"}


def test_seal_discrepancies_are_on_paper(clean_scan_batch: Batch) -> None:
    seen = set()
    for index in clean_scan_batch.dirty:
        truth = clean_scan_batch.truth(index)
        record = clean_scan_batch.record(index)
        for d in truth["discrepancies"]:
            if d["kind"] not in ("missing_seal", "wrong_seal"):
                continue
            seen.add(d["kind"])
            seals = [s for s in truth["seals"] if s["document"] == d["document"]
                     and s["page"] == d["page"] and s["slot"] in ("cover", "approval")]
            image = _render(clean_scan_batch.lab(index) / d["document"], d["page"])
            x, y, w, h = d["box"]
            patch = image[y:y + h, x:x + w].astype(int)
            red = ((patch[..., 0] - patch[..., 1]) > 30).mean()  # red or faded pink ink
            if d["kind"] == "missing_seal":
                assert seals == []
                assert red < 0.001  # no ink where the seal belongs
            else:
                (seal,) = seals
                assert seal["organisation"] == d["printed"] != d["expected"]
                assert seal["expected_organisation"] == d["expected"]
                assert d["expected"] in (record["identity"]["legal_entity"],
                                         record["identity"]["recommending_unit"])
                assert red > 0.05
    assert seen == {"missing_seal", "wrong_seal"}


@pytest.fixture(scope="module")
def misplaced_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("misplaced")
    return Batch(root, generate_batch(root, labs=2, seed=9, text_layer=True, discrepancies=1,
                                      kinds=["misplaced_seal"]))


def test_a_seal_off_its_opinion_is_stamped_under_the_table_and_the_review_fails_that_copy(
        misplaced_batch: Batch) -> None:
    (d,) = misplaced_batch.truth(1)["discrepancies"]
    assert d["kind"] == "misplaced_seal"
    copy = d["copy"]
    truth = misplaced_batch.truth(1)
    off = next(s for s in truth["seals"] if s["document"] == f"opinion-{copy}.pdf")
    kept = next(s for s in truth["seals"] if s["document"] == f"opinion-{3 - copy}.pdf")
    # The unit's own seal, a hand's width lower than the other copy's, under the table.
    assert off["organisation"] == kept["organisation"] == d["expected"]
    assert off["box"][1] > kept["box"][1] + kept["box"][3]
    failing = [f for f in _review(misplaced_batch.lab(1)).findings
               if f.status.value == "fail"]
    assert [(f.rule, f.location.document) for f in failing] == [
        ("seal.recommending_unit", f"opinion-{copy}.pdf")]
    assert not [f for f in _review(misplaced_batch.lab(0)).findings if f.status.value == "fail"]


def _render(path, page: int):
    import numpy as np
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(path)
    try:
        return np.asarray(document[page - 1].render(scale=200 / 72).to_pil().convert("RGB"))
    finally:
        document.close()


# The kinds added for the failure-ground and ratio rules. ------------------------------------

EXTRA = ["ratio_mismatch", "annual_reports_missing", "preliminary_not_passed"]


def test_every_means_all_kinds_and_all_keeps_its_old_meaning() -> None:
    assert parse_kinds(["every"]) == ALL_KINDS == (*KINDS, *EXTRA_KINDS)
    assert parse_kinds(["all"]) == KINDS
    assert set(EXTRA_KINDS).isdisjoint(KINDS)
    assert parse_kinds(EXTRA) == tuple(EXTRA)


def test_extra_kinds_change_what_they_say_in_record_and_plan() -> None:
    lab = plan_batch(labs=2, seed=3, discrepancies=3, kinds=EXTRA).labs[1]
    by_kind = {i.kind: i for i in lab.plan.injections}
    assert set(by_kind) == set(EXTRA)
    record = lab.record
    assert set(record["quality_reports"].values()) == {0}
    assert record["opinions"]["recommending_unit"]["agree"] is False
    assert lab.plan.opinion_text == record["opinions"]["recommending_unit"]["text"] == \
        "不同意该实验室通过初审。"
    ratio = by_kind["ratio_mismatch"]
    assert ratio.copies == (1, 2)
    assert ratio.printed != ratio.expected
    assert all(lab.plan.printed[c]["body", ratio.field] == ratio.printed for c in (1, 2))
    # The share printed is off the counts by more than a rounding slip.
    assert abs(float(ratio.printed.rstrip("%")) - float(ratio.expected.rstrip("%"))) > 0.1


def test_the_opinion_kinds_exclude_each_other() -> None:
    for seed in range(6):
        for lab in plan_batch(labs=2, seed=seed, discrepancies=4, kinds=[
                "missing_opinion", "opinion_disagrees", "preliminary_not_passed",
                "field_mismatch"]).labs:
            kinds = [i.kind for i in lab.plan.injections]
            assert sum(k in kinds for k in ("missing_opinion", "opinion_disagrees",
                                            "preliminary_not_passed")) <= 1


@pytest.fixture(scope="module")
def extra_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("extra")
    return Batch(root, generate_batch(root, labs=2, seed=5, text_layer=True, discrepancies=3,
                                      kinds=EXTRA))


def test_the_rules_find_the_extra_kinds_on_the_digital_printout(extra_batch: Batch) -> None:
    for index in (0, 1):
        failing = {f.rule for f in _review(extra_batch.lab(index)).findings
                   if f.status.value == "fail"}
        injected = {d["kind"] for d in extra_batch.truth(index)["discrepancies"]}
        if index == 0:
            assert injected == set()
            assert failing == set()
        else:
            assert injected == set(EXTRA)
            assert all(set(DETECTED_BY[k]) <= failing for k in EXTRA)


def test_every_kind_names_the_rules_that_find_it() -> None:
    from intake.checks import all_rules

    assert set(DETECTED_BY) == set(ALL_KINDS)
    for rules in DETECTED_BY.values():
        assert set(rules) <= set(all_rules())


def _review(lab):
    from intake.pipeline import ReviewOptions, review
    from intake.record import load_record

    files = sorted(p for p in lab.iterdir() if p.suffix == ".pdf")
    report, _ = review(files, load_record(lab / "record.json"), ReviewOptions())
    return report


@pytest.mark.slow
def test_the_rules_find_every_first_kind_on_the_digital_printout(text_batch: Batch) -> None:
    # wrong_seal needs the seal's ring read by the precise engine, which this run goes without.
    for index in text_batch.dirty:
        failing = {f.rule for f in _review(text_batch.lab(index)).findings
                   if f.status.value == "fail"}
        for d in text_batch.truth(index)["discrepancies"]:
            if d["kind"] != "wrong_seal":
                assert failing & set(DETECTED_BY[d["kind"]]), d


SCAN_AND_PRINTOUT = ["bad_scan", "printout_altered", "printout_page_added", "printout_page_missing"]


def test_bad_scan_and_printout_kinds_take_pages_no_other_discrepancy_needs() -> None:
    seen = set()
    for seed in range(4):
        for lab in plan_batch(labs=4, seed=seed, discrepancies=3,
                              kinds=[*SCAN_AND_PRINTOUT, "field_mismatch"]).labs:
            plan = lab.plan
            pages = [i.form_page for i in plan.injections if i.kind in SCAN_AND_PRINTOUT]
            assert len(pages) == len(set(pages)), plan.injections
            fields_on_pages = {
                page for (where, key), page in field_pages(lab.record, "2021").items()
                if where == "body" and key in {i.field for i in plan.injections if i.field}}
            for injection in plan.injections:
                seen.add(injection.kind)
                if injection.kind == "bad_scan":
                    assert plan.spoiled[2][0] == injection.form_page
                    assert injection.form_page not in fields_on_pages
                if injection.kind == "printout_altered":
                    assert plan.description is not None
                    assert injection.printed in plan.description
                    assert injection.expected not in plan.description
                    assert injection.expected in lab.record["support"]["description"]
    assert seen >= set(SCAN_AND_PRINTOUT)


@pytest.fixture(scope="module")
def printout_batch(tmp_path_factory: pytest.TempPathFactory) -> Batch:
    root = tmp_path_factory.mktemp("printout")
    return Batch(root, generate_batch(root, labs=2, seed=31, degrade="light", discrepancies=2,
                                      kinds=["printout_altered", "bad_scan"]))


def test_the_online_printout_prints_the_record_and_the_paper_its_alteration(
        printout_batch: Batch) -> None:
    lab = printout_batch.lab(1)
    truth = printout_batch.truth(1)
    altered = next(d for d in truth["discrepancies"] if d["kind"] == "printout_altered")
    assert truth["online"]["file"] == "online.pdf"
    assert "online.pdf" not in printout_batch.manifest["labs"][1]["files"]
    with pdfplumber.open(lab / "online.pdf") as pdf:
        text = "".join((page.extract_text() or "").replace("\n", "") for page in pdf.pages)
    text = text.replace(SUPPORT_LABEL, "")  # the label's lines fall between the text's
    assert altered["expected"] in text
    assert altered["printed"] not in text
    assert (printout_batch.lab(0) / "online.pdf").exists()  # clean labs have theirs too


def test_a_bad_scan_page_is_measured_unusable_and_no_other_page_is(printout_batch: Batch) -> None:
    from intake import load, quality
    from intake.model import DocumentKind

    truth = printout_batch.truth(1)
    bad = next(d for d in truth["discrepancies"] if d["kind"] == "bad_scan")
    path = printout_batch.lab(1) / bad["document"]
    pages = next(d["pages"] for d in truth["documents"] if d["file"] == bad["document"])
    for number in range(1, pages + 1):
        image, dpi = load.render_page(path, DocumentKind.PDF, number)
        flagged = quality.problems(quality.measure_page(image, dpi, path, DocumentKind.PDF,
                                                        number))
        assert bool(flagged) == (number == bad["page"]), (number, flagged)


@pytest.mark.slow
def test_the_printout_rule_names_what_was_altered_added_and_removed(
        tmp_path_factory: pytest.TempPathFactory) -> None:
    from intake.pipeline import ReviewOptions, review
    from intake.record import load_record

    root = tmp_path_factory.mktemp("printout-text")
    batch = Batch(root, generate_batch(root, labs=4, seed=31, text_layer=True, discrepancies=2,
                                       kinds=PRINTOUT_KINDS))
    named = set()
    for index in range(4):
        lab = batch.lab(index)
        files = sorted(p for p in lab.iterdir() if p.suffix == ".pdf" and p.name != "online.pdf")
        report, _ = review(files, load_record(lab / "record.json"), ReviewOptions(),
                           online=lab / "online.pdf")
        failing = [f for f in report.findings
                   if f.rule == "printout.same" and f.status.value == "fail"]
        injected = {d["kind"] for d in batch.truth(index)["discrepancies"]}
        assert bool(failing) == bool(injected), (index, failing)
        named |= {f.evidence["change"] for f in failing}
    assert named == {"altered", "added", "missing"}


def test_a_pen_mark_on_copy_2_leaves_the_text_alike_and_the_copies_fail_by_image(
        tmp_path: Path) -> None:
    from intake.ocr import textlayer

    batch = Batch(tmp_path, generate_batch(tmp_path, labs=2, seed=5, text_layer=True,
                                           discrepancies=1, kinds=["copy_image_differs"]))
    [mark] = batch.truth(1)["discrepancies"]
    assert (mark["kind"], mark["copy"], mark["document"]) == (
        "copy_image_differs", 2, "volume-2.pdf")
    assert mark["box"] is not None
    assert mark["printed"] in ("signature", "tick", "figure", "note")
    lab = batch.lab(1)
    words = [[w.text for ln in textlayer.page_words(lab / f"volume-{c}.pdf", mark["page"], 200)
              or () for w in ln.words] for c in (1, 2)]
    assert words[0]
    assert words[0] == words[1]
    for index, expected in ((0, set()), (1, {mark["form_page"]})):
        failing = {f.evidence["page"] for f in _review(batch.lab(index)).findings
                   if f.rule == "copies.same" and f.status.value == "fail"}
        assert failing == expected


@pytest.fixture(scope="module")
def licence_batches(tmp_path_factory: pytest.TempPathFactory) -> tuple[Batch, Batch]:
    """Six labs, the even ones binding a licence that differs (code, name, term in turn); and
    the same seed with nothing injected."""
    made = []
    for name, count in (("licence", 1), ("licence-clean", 0)):
        root = tmp_path_factory.mktemp(name)
        made.append(Batch(root, generate_batch(root, labs=6, seed=13, text_layer=True,
                                               discrepancies=count, kinds=["licence_differs"])))
    return made[0], made[1]


def _page_texts(path: Path) -> list[str]:
    with pdfplumber.open(path) as pdf:
        return [page.extract_text() or "" for page in pdf.pages]


def test_every_volume_binds_the_legal_entity_s_licence_last(licence_batches) -> None:
    batch, _ = licence_batches
    record, truth = batch.record(0), batch.truth(0)
    identity = record["identity"]
    for copy in (1, 2):
        last = _page_texts(batch.lab(0) / f"volume-{copy}.pdf")[-1].replace(" ", "")
        for printed in ("营业执照", "统一社会信用代码", "法定代表人", "经营范围", "注册资本",
                        "成立日期", "营业期限", "登记机关", identity["credit_code"],
                        identity["legal_entity"]):
            assert printed in last, printed
    [note1, note2] = truth["licences"]
    assert note1["name"] == note2["name"] == identity["legal_entity"]
    assert note1["term_until"] == "长期" or note1["term_until"] > record["workflow"]["submitted"]
    stamps = {s["role"] for s in truth["seals"] if s["page"] == note1["page"]
              and s["document"] == "volume-1.pdf"}
    assert stamps == {"certification_body", "copy_stamp", "legal_entity"}


def test_licence_differs_changes_code_name_and_term_in_turn_and_only_the_licence(
        licence_batches) -> None:
    from intake.codes import is_valid_credit_code

    batch, clean = licence_batches
    changed = []
    for index in batch.dirty:
        record, truth = batch.record(index), batch.truth(index)
        [d1, d2] = truth["discrepancies"]
        assert (d1["kind"], d1["copy"], d2["copy"]) == ("licence_differs", 1, 2)
        note = next(n for n in truth["licences"] if n["copy"] == 1)
        assert d1["page"] == note["page"]
        if note["credit_code"] != record["identity"]["credit_code"]:
            assert is_valid_credit_code(note["credit_code"])
            changed.append("credit_code")
        elif note["name"] != record["identity"]["legal_entity"]:
            changed.append("name")
        else:
            assert note["term_until"] < record["workflow"]["submitted"]
            changed.append("term_until")
        # Every page but the licence is as in the dossier with nothing injected.
        for copy in (1, 2):
            file = f"volume-{copy}.pdf"
            assert _page_texts(batch.lab(index) / file)[:-1] == \
                _page_texts(clean.lab(index) / file)[:-1]
        assert batch.record(index) == clean.record(index)
    assert changed == ["credit_code", "name", "term_until"]


@pytest.mark.slow
def test_the_licence_rule_finds_each_licence_kind_on_the_digital_printout(
        licence_batches) -> None:
    batch, _ = licence_batches
    for index in range(6):
        findings = [f for f in _review(batch.lab(index)).findings
                    if f.rule == "certificate.licence"]
        assert [f.location.document for f in findings] == ["volume-1.pdf", "volume-2.pdf"]
        want = "fail" if index in batch.dirty else "pass"
        assert {f.status.value for f in findings} == {want}, [f.message for f in findings]
