"""Each field printed on paper against the online record (材料与网上系统材料的一致性)."""

from __future__ import annotations

import re

from rapidfuzz.distance import Levenshtein

from intake.checks.rule import finding
from intake.dossier import PageResult, copies_of
from intake.fields import FieldKind, FieldSpec, all_labels, form_fields, format_value, record_value
from intake.model import Field, Finding, Location, PageKind, Reading, Status
from intake.normalize import canonical
from intake.record import Record

CLAUSE = "六（五）形式审查：审查意见与网上系统材料的一致性"
RULES = {
    "field.match": ("纸质材料与网上填报内容一致", CLAUSE),
    "field.missing": ("纸质材料中应有的栏目", CLAUSE),
}

# A reading the precise engine is this sure of decides the field on its own.
PRECISE_CONF = 90.0
# Below this a lone reading that disagrees with the record is not trusted to fail a lab.
LONE_READING_CONF = 60.0


def _key(spec: FieldSpec, text: str) -> str | None:
    return canonical(spec.kind, text, spec.places)


def judge(spec: FieldSpec, expected: str, readings: tuple[Reading, ...]) -> tuple[Status, str]:
    """The status of one printed field, and the reading that stands as the paper's value.

    A reading that verifies passes the field. Otherwise the paper differs from the record if
    the engines agree on another value, or if the precise engine is sure of its reading and
    did not just lose or gain a character the other engine saw (``_dropped``); an unsure
    disagreement is left to a reviewer.
    """
    want = _key(spec, expected)
    for reading in readings:
        if want is not None and _key(spec, reading.text) == want:
            return Status.PASS, reading.text
    last = readings[-1]
    if last.source == "text-layer":
        return Status.FAIL, last.text
    if len(readings) == 1:
        return (Status.FAIL if last.conf >= LONE_READING_CONF else Status.UNCERTAIN), last.text
    keys = {_key(spec, r.text) for r in readings}
    if len(keys) == 1 and None not in keys:
        return Status.FAIL, last.text
    precise = _key(spec, last.text)
    if (last.conf >= PRECISE_CONF and precise is not None
            and not _dropped(want, precise, [_key(spec, r.text) for r in readings[:-1]])
            and not (spec.kind in _WORDS and _script_slips(want, precise))):
        return Status.FAIL, last.text
    return Status.UNCERTAIN, last.text


# Kinds whose values are Chinese words: a lab may misprint one word for another, never a
# character of a name for a digit or a Latin letter.
_WORDS = (FieldKind.NAME, FieldKind.TEXT)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _script_slips(want: str | None, precise: str) -> bool:
    """True when the precise reading differs from the record only where a Chinese character
    was read as something else (a digit, a Latin letter) or the other way round.

    RapidOCR read 量 as 4 with confidence 99 on a gray photocopy while tesseract read 基: the
    engines disagree, and no misprint turns a character of a name into a digit.
    """
    if want is None or len(want) != len(precise):
        return False
    ops = Levenshtein.opcodes(want, precise)
    changed = [(want[o.src_start:o.src_end], precise[o.dest_start:o.dest_end])
               for o in ops if o.tag != "equal"]
    return bool(changed) and all(
        len(old) == len(new) and all(bool(_CJK.match(a)) != bool(_CJK.match(b))
                                     for a, b in zip(old, new, strict=True))
        for old, new in changed)


def _dropped(want: str | None, precise: str | None, others: list[str | None]) -> bool:
    """True when the precise reading looks like a character dropped or added by the engine,
    not by the printer: its length differs from the record's, while another engine read as
    many characters as the record has.

    A recogniser that skips a character can still be sure of what it read (RapidOCR reports
    100 on a name with one character missing); a value printed longer or shorter than the
    record shows in every engine's reading, so the other engine would not match the record's
    length either.
    """
    if want is None or precise is None or len(precise) == len(want):
        return False
    return any(o is not None and len(o) == len(want) != len(precise) for o in others)


def _field_finding(spec: FieldSpec, expected: str, field: Field) -> Finding:
    status, found = judge(spec, expected, field.readings)
    copy = f"第{field.copy}份"
    message = {
        Status.PASS: f"{copy}「{spec.label}」与网上填报一致。",
        Status.FAIL: f"{copy}「{spec.label}」纸质为“{found}”，网上填报为“{expected}”，两者不一致。",
        Status.UNCERTAIN: f"{copy}「{spec.label}」未能可靠识别（识别为“{found}”），请人工核对。",
    }[status]
    return finding(
        RULES, "field.match", status, message, field.location,
        field=spec.key, label=spec.label, expected=expected, found=found,
        evidence={"copy": field.copy, "readings": [
            {"text": r.text, "conf": round(r.conf, 1), "source": r.source}
            for r in field.readings]},
    )


def check(results: list[PageResult], record: Record) -> list[Finding]:
    labels = all_labels(record.campaign)
    body_keys = {s.key for s in form_fields(record.campaign)}
    findings: list[Finding] = []
    for copy, pages in copies_of(results, PageKind.FORM).items():
        seen: set[str] = set()
        for result in pages:
            for field in result.fields:
                spec = labels.get(field.label)
                value = record_value(record.data, field.key)
                if spec is None or value is None:
                    continue
                seen.add(field.key)
                findings.append(_field_finding(spec, format_value(spec, value), field))
        for spec in form_fields(record.campaign):
            if spec.key in seen or spec.key not in body_keys:
                continue
            value = record_value(record.data, spec.key)
            findings.append(finding(
                RULES, "field.missing", Status.UNCERTAIN,
                f"第{copy}份中未读到「{spec.label}」栏目，请人工核对该页是否缺失或无法辨认。",
                Location(pages[0].page.document, pages[0].page.number),
                field=spec.key, label=spec.label,
                expected=format_value(spec, value) if value is not None else None,
                evidence={"copy": copy},
            ))
    return findings
