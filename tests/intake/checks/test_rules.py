"""Each rule on fake read pages: a clean dossier passes, each defect fails the right rule."""

from dataclasses import replace

from intake.checks import all_rules, run_checks
from intake.checks.field_match import judge
from intake.fields import FieldKind, FieldSpec
from intake.model import Reading, SealPlace, Status, Verdict
from intake.verdict import verdict_of

from .conftest import ON_OPINION, approval, form_copy, letter, seal


def failing(findings):
    return {(f.rule, f.field) for f in findings if f.status is Status.FAIL}


def test_a_clean_dossier_passes_every_rule(record, clean_results):
    findings = run_checks(clean_results, record)
    assert [f for f in findings if f.status is not Status.PASS] == []
    assert verdict_of(findings) is Verdict.PASS
    assert {f.rule for f in findings} >= {"field.match", "pages.complete", "seal.legal_entity",
                                          "seal.recommending_unit", "seal.association",
                                          "opinion.agrees", "opinion.date", "letter.names_lab",
                                          "qualification.valid"}


def test_every_rule_has_a_chinese_title_and_a_clause():
    for rule, (title, clause) in all_rules().items():
        assert "." in rule
        assert any("\u4e00" <= c <= "\u9fff" for c in title), rule
        assert clause, rule


def test_a_changed_number_fails_that_field_in_that_copy(record, record_data):
    results = [*form_copy(record_data, 1, overrides={"resources.equipment_total": "365 台（套）"}),
               *form_copy(record_data, 2), approval(1), approval(2),
               letter(record_data["identity"]["lab_name"])]
    findings = run_checks(results, record)
    bad = [f for f in findings if f.status is Status.FAIL and f.rule == "field.match"]
    assert [(f.field, f.expected, f.found, f.evidence["copy"]) for f in bad] == [
        ("resources.equipment_total", "356 台（套）", "365 台（套）", 1)]
    # The printed share no longer fits the printed counts, nor copy 1 copy 2.
    assert failing(findings) == {("field.match", "resources.equipment_total"),
                                 ("ratio.consistent", "resources.equipment_leading_ratio"),
                                 ("copies.same", "resources.equipment_total")}
    assert bad[0].location is not None
    assert bad[0].location.box is not None


def test_a_missing_page_and_a_missing_copy_fail_completeness(record, record_data):
    results = [*form_copy(record_data, 1, skip_pages=(3,)), approval(1), approval(2),
               letter(record_data["identity"]["lab_name"])]
    findings = run_checks(results, record)
    rules = {f.rule for f in findings if f.status is Status.FAIL}
    assert {"pages.complete", "dossier.copies"} <= rules
    page_finding = next(f for f in findings if f.rule == "pages.complete")
    assert page_finding.evidence["missing"] == [3]


def test_missing_seals_fail(record, record_data):
    results = form_copy(record_data, 1) + form_copy(record_data, 2)
    results[0] = replace(results[0], page=replace(results[0].page, seals=()))
    results += [approval(1, seals=False), approval(2), letter("x", seals=False)]
    rules = {f.rule for f in run_checks(results, record) if f.status is Status.FAIL}
    assert {"seal.legal_entity", "seal.recommending_unit", "seal.association"} <= rules


def test_a_seal_read_as_another_organisation_fails(record, record_data):
    results = form_copy(record_data, 1) + form_copy(record_data, 2)
    wrong = seal(*ON_OPINION, text="江苏省工业和信息化厅", text_score=0.95)
    results += [approval(1), replace(approval(2), page=replace(approval(2).page, seals=(wrong,))),
                letter(record_data["identity"]["lab_name"])]
    bad = [f for f in run_checks(results, record) if f.status is Status.FAIL]
    assert [(f.rule, f.found) for f in bad] == [("seal.recommending_unit", "江苏省工业和信息化厅")]


def _approval_with(copy, stamped, *, opinion=True):
    page = approval(copy)
    return replace(page, page=replace(page.page, seals=(stamped,)),
                   opinion=page.opinion if opinion else None)


def test_the_units_seal_stamped_off_its_opinion_fails_and_says_where_it_is(record, record_data):
    unit = record_data["identity"]["recommending_unit"]
    # Its own seal, read surely, but on the blank paper under the approval table.
    below = replace(seal(500, 1500, text=unit, text_score=0.98), place=SealPlace.BLANK)
    results = [*form_copy(record_data, 1), *form_copy(record_data, 2), approval(1),
               _approval_with(2, below), letter(record_data["identity"]["lab_name"])]
    (bad,) = [f for f in run_checks(results, record) if f.status is Status.FAIL]
    assert bad.rule == "seal.recommending_unit"
    assert (bad.location.document, bad.location.box) == ("opinion-2.pdf", below.box)
    assert "主管单位审批意见" in bad.message
    assert "空白处" in bad.message


def test_a_seal_on_the_signature_line_is_on_the_opinion_even_centred_out_of_its_cell(
        record, record_data):
    unit = record_data["identity"]["recommending_unit"]
    # Stamped low over "推荐单位（盖章）" at the cell's foot: its centre falls below the cell.
    low = replace(seal(1000, 1100, text=unit, text_score=0.98), place=SealPlace.SIGNATURE,
                  on=("推荐单位（盖章）",))
    results = [*form_copy(record_data, 1), *form_copy(record_data, 2), approval(1),
               _approval_with(2, low), letter(record_data["identity"]["lab_name"])]
    assert not [f for f in run_checks(results, record) if f.status is Status.FAIL]


def test_where_the_opinions_cell_was_not_read_the_seal_is_judged_wherever_it_is(
        record, record_data):
    unit = record_data["identity"]["recommending_unit"]
    below = replace(seal(500, 1500, text=unit, text_score=0.98), place=SealPlace.BLANK)
    results = [*form_copy(record_data, 1), *form_copy(record_data, 2), approval(1),
               _approval_with(2, below, opinion=False), letter(record_data["identity"]["lab_name"])]
    units = [f for f in run_checks(results, record) if f.rule == "seal.recommending_unit"]
    assert [f.status for f in units] == [Status.PASS, Status.PASS]


def test_a_refusal_a_wrong_date_and_a_missing_opinion_fail(record, record_data):
    base = form_copy(record_data, 1) + form_copy(record_data, 2)
    lab = record_data["identity"]["lab_name"]
    refused = run_checks([*base, approval(1, text="不同意该实验室通过初审。"), approval(2),
                          letter(lab)], record)
    assert ("opinion.agrees", None) in failing(refused)
    dated = run_checks([*base, approval(1, date="2021年5月20日"), approval(2), letter(lab)], record)
    assert ("opinion.date", None) in failing(dated)
    missing = run_checks([*base, letter(lab)], record)
    assert ("opinion.present", None) in failing(missing)


def test_a_letter_without_this_lab_fails(record, record_data):
    results = [*form_copy(record_data, 1), *form_copy(record_data, 2), approval(1), approval(2),
               letter("国家另一个产品质量控制和技术评价实验室，国家某某质检中心")]
    assert ("letter.names_lab", None) in failing(run_checks(results, record))


def test_an_expired_certificate_fails(record, record_data, clean_results, monkeypatch):
    record.data["qualifications"]["cma"]["valid_until"] = "2021-01-31"
    assert ("qualification.valid", "qualifications.cma.valid_until") in failing(
        run_checks(clean_results, record))


SPEC = FieldSpec("resources.staff_total", "实验室人员总数", FieldKind.INT, "三", "人")


def test_judge_passes_when_any_reading_verifies():
    readings = (Reading("86 人", 70, "tesseract"), Reading("85 人", 99, "rapidocr:cell"))
    assert judge(SPEC, "85 人", readings) == (Status.PASS, "85 人")


def test_judge_fails_when_both_engines_agree_on_another_value():
    readings = (Reading("58 人", 90, "tesseract"), Reading("58人", 80, "rapidocr:cell"))
    assert judge(SPEC, "85 人", readings)[0] is Status.FAIL


def test_judge_leaves_an_unsure_disagreement_to_a_reviewer():
    readings = (Reading("86 人", 40, "tesseract"), Reading("88 人", 50, "rapidocr:cell"))
    assert judge(SPEC, "85 人", readings)[0] is Status.UNCERTAIN
    assert judge(SPEC, "85 人", (Reading("8b 人", 30, "tesseract"),))[0] is Status.UNCERTAIN


def test_judge_trusts_a_text_layer():
    assert judge(SPEC, "85 人", (Reading("86 人", 100, "text-layer"),))[0] is Status.FAIL
