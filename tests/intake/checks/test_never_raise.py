"""Checks return findings; they never raise, whatever the paper reads and whatever a record
that passed the record schema holds."""

import json
from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.checks import RULE_MODULES, SUMMARY_MODULES, all_rules, run_checks
from intake.model import Status
from intake.record import Record

from .conftest import RECORD, approval, form_copy, letter

FIXED = {("schema_version",), ("campaign",), ("lab_id",)}


def _schema_valid(value):
    """Values of the leaf's type that the record schema lets through."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.integers(0, 10**7)
    if isinstance(value, float):
        return st.floats(0, 100).map(lambda v: round(v, 1))
    try:
        date.fromisoformat(value)
    except ValueError:
        return st.text(min_size=1, max_size=20)
    return st.dates(date(2000, 1, 1), date(2030, 12, 31)).map(date.isoformat)


def _leaves(node, path=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, (*path, key))
    else:
        yield path


LEAVES = [path for path in _leaves(RECORD) if path not in FIXED]


def _value_at(path):
    node = RECORD
    for key in path:
        node = node[key]
    return node


CHANGES = st.sampled_from(LEAVES).flatmap(
    lambda path: st.tuples(st.just(path), _schema_valid(_value_at(path))))


def _with(data, path, value):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(CHANGES, max_size=6),
       st.text(max_size=20), st.text(max_size=12))
def test_no_rule_raises_on_a_garbled_record_or_garbled_readings(changes, reading, date_text):
    data = json.loads(json.dumps(RECORD))
    for path, value in changes:
        _with(data, path, value)
    record = Record(data=data, sha256="0")
    one = form_copy(RECORD, 1, overrides={"identity.credit_code": reading,
                                          "resources.staff_total": reading})
    results = [*one, *form_copy(RECORD, 2), approval(1, text=reading, date=date_text),
               approval(2), letter(reading)]
    findings = run_checks(results, record)
    rules = all_rules()
    for f in findings:
        assert f.rule in rules
        assert isinstance(f.status, Status)
        assert f.message


def test_every_rule_module_is_registered_once_and_no_id_is_shared():
    modules = (*RULE_MODULES, *SUMMARY_MODULES)
    names = [m.__name__ for m in modules]
    assert len(names) == len(set(names))
    assert sum(len(m.RULES) for m in modules) == len(all_rules())
    assert {"code.credit_check", "ratio.consistent", "copies.same", "roster.listed",
            "ground.application_in_time", "ground.preliminary_passed", "ground.annual_reports",
            "ground.misstatement"} <= set(all_rules())
