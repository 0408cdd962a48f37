"""Score a review report against the generator's truth: what was injected, what was found."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from samples.discrepancies import DETECTED_BY, FOUND_UNCERTAIN, RATIO_FIELDS

# Discrepancies that the field rule is meant to catch, and the copy they are on.
FIELD_KINDS = ("field_mismatch", "copy_differs")
# Rules that also fail, truly, as a consequence of a kind: the approval page is the last
# numbered page of the bound form, so without it the page sequence is short as well.
# A page the paper has and the online printout has not (or the reverse) and a changed value
# also differ from the printout, when it is supplied.
CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "missing_opinion": ("pages.complete",),
    "printout_page_missing": ("pages.complete",),
    "missing_page": ("printout.same",),
    "field_mismatch": ("printout.same",),
    "copy_differs": ("printout.same",),
    "ratio_mismatch": ("printout.same",),
    # a certificate lapsed in the record is lapsed on its bound copy too; a copy of an older
    # certificate may have lapsed as well
    "expired_certificate": ("certificate.in_force",),
    "certificate_copy_differs": ("certificate.in_force",),
}
# And of a changed field: a credit code printed otherwise no longer has a valid check character.
FIELD_CONSEQUENCES: dict[str, tuple[str, ...]] = {
    "identity.credit_code": ("code.credit_check",),
    # a count or a ratio printed otherwise than online leaves the paper's ratio out of step
    # with its own counts
    **{key: ("ratio.consistent",) for ratio, counts in RATIO_FIELDS.items()
       for key in (ratio, *counts)},
}
# Kinds whose catching finding must stand on the discrepancy's own page: a seal missing from
# one page is not found by a seal found wanting on another, nor a certificate copy that
# differs by the other certificate's copy.
LOCATED_KINDS: tuple[str, ...] = ("missing_seal", "wrong_seal", "misplaced_seal",
                                 "certificate_copy_differs", "licence_differs")
# Kinds whose catching finding must name the discrepancy's printed page (``evidence.page``): a
# pen mark on one page is not found by the copies differing on another.
PAGE_KINDS: tuple[str, ...] = ("copy_image_differs",)


@dataclass
class Score:
    dossiers: int = 0
    clean: int = 0
    clean_passed: int = 0
    injected: int = 0
    detected: int = 0
    fields_checked: int = 0
    false_alarms: int = 0
    uncertain: int = 0
    findings: int = 0  # every finding of every report
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    # Every kind of discrepancy: injected, and caught by one of its rules failing.
    kind_injected: Counter[str] = field(default_factory=Counter)
    kind_detected: Counter[str] = field(default_factory=Counter)
    # Checks other than field.match that failed without a discrepancy to explain them.
    rule_checks: int = 0
    rule_alarms: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("dossiers", "clean", "clean_passed", "injected", "detected",
                     "fields_checked", "false_alarms", "uncertain", "findings", "rule_checks"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.missed += other.missed
        self.alarms += other.alarms
        self.kind_injected += other.kind_injected
        self.kind_detected += other.kind_detected
        self.rule_alarms += other.rule_alarms


def _copies(item: dict[str, Any]) -> set[int]:
    """The copies a discrepancy is printed on: copy_differs is on one, a field on both."""
    if item.get("kind") == "copy_differs" or item.get("copy"):
        return {int(item.get("copy") or 2)}
    return {1, 2}


def score_report(report: dict[str, Any], truth: dict[str, Any]) -> Score:
    s = Score(dossiers=1)
    lab = report["lab_id"]
    injected = [d for d in truth.get("discrepancies", []) if d["kind"] in FIELD_KINDS]
    # A field may also fail because another kind changed it (a ratio that no longer agrees
    # with the record): that failure is expected too, though not scored as a field kind.
    expected_fails = {(d["field"], c) for d in truth.get("discrepancies", [])
                      if d.get("field") and "field.match" in DETECTED_BY.get(d["kind"], ())
                      for c in _copies(d)}
    field_findings = [f for f in report["findings"] if f["rule"] == "field.match"]
    s.fields_checked = len(field_findings)
    s.uncertain = sum(1 for f in report["findings"] if f["status"] == "uncertain")
    fails = {(f["field"], f["evidence"].get("copy", 1)) for f in field_findings
             if f["status"] == "fail"}
    for d in injected:
        s.injected += 1
        if any((d["field"], c) in fails for c in _copies(d)):
            s.detected += 1
        else:
            s.missed.append(f"{lab}: {d['kind']} {d['field']} printed {d.get('printed')!r}")
    for key in sorted(fails - expected_fails):
        s.false_alarms += 1
        s.alarms.append(f"{lab}: {key[0]} copy {key[1]}")
    if not truth.get("discrepancies"):
        s.clean = 1
        s.clean_passed = int(report["verdict"] == "pass")
    _score_kinds(s, report, truth)
    return s


def _score_kinds(s: Score, report: dict[str, Any], truth: dict[str, Any]) -> None:
    """Per kind: a discrepancy is caught when a rule meant to catch it fails (on its field,
    where it has one). A rule other than field.match failing with nothing injected that it is
    meant to catch is a false alarm."""
    lab = report["lab_id"]
    findings = report["findings"]
    s.findings = len(findings)
    fails = [f for f in findings if f["status"] == "fail"]
    expected_rules: set[str] = set()
    for d in truth.get("discrepancies", []):
        kind = d["kind"]
        rules = DETECTED_BY.get(kind, ())
        expected_rules.update(rules)
        expected_rules.update(CONSEQUENCES.get(kind, ()))
        expected_rules.update(FIELD_CONSEQUENCES.get(d.get("field") or "", ()))
        s.kind_injected[kind] += 1
        if kind in FOUND_UNCERTAIN:  # on its own page, which must be rescanned
            caught = any(f["rule"] in rules and f["status"] == "uncertain" and _on(f, d)
                         for f in findings)
        else:
            caught = any(f["rule"] in rules and (kind not in FIELD_KINDS or f.get(
                "field") == d.get("field")) and (kind not in LOCATED_KINDS or _on(f, d))
                and (kind not in PAGE_KINDS or _on_form_page(f, d)) for f in fails)
        if caught:
            s.kind_detected[kind] += 1
        elif kind not in FIELD_KINDS:
            s.missed.append(f"{lab}: {kind} ({', '.join(rules)})")
    others = [f for f in findings if f["rule"] != "field.match"]
    s.rule_checks = len(others)
    uncertain_rules = {rule for kind in FOUND_UNCERTAIN for rule in DETECTED_BY[kind]}
    located = [d for d in truth.get("discrepancies", []) if d["kind"] in LOCATED_KINDS]
    located_rules = {rule for kind in LOCATED_KINDS for rule in DETECTED_BY[kind]}
    for f in others:
        alarm = f["status"] == "fail" or (f["status"] == "uncertain" and f["rule"] in uncertain_rules)
        if f["rule"] in located_rules:
            explained = any(f["rule"] in DETECTED_BY[d["kind"]] and _on(f, d) for d in located)
        elif "ink_mm2" in f.get("evidence", {}):  # the copies compared by image
            explained = any(d["kind"] in ("copy_image_differs", "copy_differs")
                            and _on_form_page(f, d) for d in truth.get("discrepancies", []))
        else:
            explained = f["rule"] in expected_rules
        if alarm and not explained:
            s.rule_alarms.append(f"{lab}: {f['rule']} {f['message'][:80]}")


def _on_form_page(finding: dict[str, Any], discrepancy: dict[str, Any]) -> bool:
    """The finding names the discrepancy's printed page number."""
    return bool(finding.get("evidence", {}).get("page") == discrepancy.get("form_page"))


def _on(finding: dict[str, Any], discrepancy: dict[str, Any]) -> bool:
    """The finding stands on the discrepancy's page (or the discrepancy has no page)."""
    where = finding.get("location") or {}
    if discrepancy.get("page") is None:
        return True
    return bool(where.get("document") == discrepancy.get("document")
                and where.get("page") == discrepancy.get("page"))
