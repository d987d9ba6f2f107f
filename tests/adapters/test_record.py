"""The record contract (issue 11): every value of a record given to ``Engine.evaluate`` converts
as docs/data.md says, or the record is refused with every problem named."""

from __future__ import annotations

import contextlib
import datetime
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules import Engine, InputError
from welfare_rules.adapters import _parse as P
from welfare_rules.adapters.record import InputWarning, check_record
from welfare_rules.errors import DataError, RuleLoadError
from welfare_rules.schema import Origin, SchemaBuilder
from welfare_rules.testing.strategies import UNKNOWN_NAMES, messy_households

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from national.conftest import household, person

AS_OF = datetime.date(2024, 7, 1)
ELIGIBLE = ("pkh_eligible", "bpnt_eligible", "pbi_eligible")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _answers(engine: Engine, rec: dict[str, Any], **kw: Any) -> dict[str, Any]:
    d = engine.evaluate("household", rec, as_of=AS_OF, **kw)
    return {rid: d.value(rid) for rid in ELIGIBLE}


# --- conversions: a value means the same in every spelling the table lists -------------------

@pytest.mark.parametrize("spelling", ["false", "FALSE", 0, "TIDAK", "tidak", " false "])
def test_in_dtks_false_in_any_documented_spelling_is_false(engine: Engine, spelling: Any) -> None:
    """Before the contract, "false", 0 and "TIDAK" were truthy: the family became eligible."""
    canonical = _answers(engine, household(in_dtks=False, desil=1))
    assert canonical == _answers(engine, household(in_dtks=spelling, desil=1))
    assert canonical["pkh_eligible"] is False


def test_a_member_with_is_alive_false_as_text_is_counted_dead(engine: Engine) -> None:
    dead_text = household(members=[person(datetime.date(1950, 1, 1), "male", 1, "head",
                                          is_alive="false")])
    dead = household(members=[person(datetime.date(1950, 1, 1), "male", 1, "head",
                                     is_alive=False)])
    d_text = engine.evaluate("household", dead_text, as_of=AS_OF)
    d = engine.evaluate("household", dead, as_of=AS_OF)
    assert d_text.members[0].record["is_alive"] is False
    assert d_text.to_dict() == d.to_dict()


def test_text_numbers_and_iso_dates_convert_to_their_values(engine: Engine) -> None:
    """``desil="2"`` and a text birth date used to raise a bare TypeError naming no field."""
    text = household(desil="2", last_verified="2023-06-01",
                     members=[person(datetime.date(1980, 1, 1), "male", 1, "head",
                                     birth_date="1980-01-01")])
    typed = household(desil=2, last_verified=datetime.date(2023, 6, 1),
                      members=[person(datetime.date(1980, 1, 1), "male", 1, "head")])
    d = engine.evaluate("household", text, as_of=AS_OF)
    assert (d.record["desil"], d.record["members"][0]["birth_date"]) == (
        2, datetime.date(1980, 1, 1))
    assert d.to_dict() == engine.evaluate("household", typed, as_of=AS_OF).to_dict()


def test_a_canonical_record_is_not_copied(engine: Engine) -> None:
    rec = household()
    assert check_record(engine.schema, "household", rec).record is rec


def test_the_callers_record_is_never_modified(engine: Engine) -> None:
    rec = household(desil="2")
    engine.evaluate("household", rec, as_of=AS_OF)
    assert rec["desil"] == "2"


# --- refusals: every problem at once, each named ----------------------------------------------

def _problems(engine: Engine, rec: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InputError) as info:
        engine.evaluate("household", rec, as_of=AS_OF)
    assert isinstance(info.value, DataError)
    return {p.path: f"{p.expected} | {p.found}" for p in info.value.problems}


def test_desil_out_of_its_declared_range_is_refused(engine: Engine) -> None:
    assert _problems(engine, household(desil=42)) == {
        "desil": "a whole number 1..10 (above the maximum) | 42"}


def test_a_short_or_missing_family_card_number_is_refused_and_masked(engine: Engine) -> None:
    got = _problems(engine, household(id="33750"))
    assert got == {"id": "16 digits (a NIK or No. KK) | '*****'"}
    rec = household()
    del rec["id"]
    assert list(_problems(engine, rec)) == ["id"]


def test_an_unknown_field_is_refused_with_the_closest_name(engine: Engine) -> None:
    with pytest.raises(InputError, match="desill: expected a field of household — did you mean "
                                         "'desil'"):
        engine.evaluate("household", household(desill=2), as_of=AS_OF)


def test_strict_false_turns_unknown_fields_into_a_warning(engine: Engine) -> None:
    with pytest.warns(InputWarning, match="unknown field 'desill' ignored — did you mean 'desil'"):
        d = engine.evaluate("household", household(desill=2), as_of=AS_OF, strict=False)
    assert "desill" not in d.record


def test_every_problem_of_a_record_and_its_members_is_reported_at_once(engine: Engine) -> None:
    rec = household(in_dtks="maybe", desil=7.5, members=[
        person(datetime.date(1980, 1, 1), "male", 1, "head"),
        person(datetime.date(1985, 5, 5), "female", 2, "spouse", birth_date="0000-06-15",
               is_alive="kadang")])
    with pytest.raises(InputError) as info:
        engine.evaluate("household", rec, as_of=AS_OF)
    exc = info.value
    assert exc.fields == ["in_dtks", "desil", "members[1].birth_date", "members[1].is_alive"]
    by_path = {p.path: p for p in exc.problems}
    assert (by_path["members[1].birth_date"].entity, by_path["members[1].birth_date"].member_index
            ) == ("person", 1)
    assert "not a real calendar date" in by_path["members[1].birth_date"].expected
    assert "3375010101240001" not in str(exc)  # the family card is masked in the message
    assert str(exc).startswith("household record 3375********0001: 4 invalid value(s)")


@pytest.mark.parametrize("birth", ["0000-06-15", datetime.date(1899, 12, 31), "2101-01-01"])
def test_implausible_birth_dates_are_refused(engine: Engine, birth: Any) -> None:
    """A year-0 birth date made DuckDB compute an age of 2024 and Python raise OverflowError."""
    rec = household(members=[person(datetime.date(1980, 1, 1), "male", 1, "head",
                                    birth_date=birth)])
    assert list(_problems(engine, rec)) == ["members[0].birth_date"]


def test_a_household_without_members_is_refused_when_rules_read_them(engine: Engine) -> None:
    """Before: PKH "NO" with a "no head" finding. Now: one error naming the missing key."""
    rec = household()
    del rec["members"]
    with pytest.raises(InputError, match=r"members: expected the person records, since the "
                                         r"rules in force read members: give members= .*"
                                         r"\('members': \[\] for none\); found no members"):
        engine.evaluate("household", rec, as_of=AS_OF, on_invalid="unknown")
    assert engine.evaluate("household", {**rec, "members": []}, as_of=AS_OF) is not None


# --- on_invalid="unknown": never raise for a value; a finding instead -------------------------

def test_on_invalid_unknown_takes_the_value_as_missing_and_reports_a_finding(engine: Engine
                                                                             ) -> None:
    d = engine.evaluate("household", household(desil=42), as_of=AS_OF, on_invalid="unknown")
    same = engine.evaluate("household", household(desil=None), as_of=AS_OF)
    assert d.record["desil"] is None
    assert {r: d.value(r) for r in ELIGIBLE} == {r: same.value(r) for r in ELIGIBLE}
    found = [f for f in d.findings if f.check == "input.invalid"]
    assert [(f.severity, f.message) for f in found] == [
        ("error", "desil: expected a whole number 1..10 (above the maximum); found 42 — taken "
                  "as unknown")]


def test_on_invalid_must_be_raise_or_unknown(engine: Engine) -> None:
    with pytest.raises(ValueError, match="on_invalid must be one of raise, unknown"):
        engine.evaluate("household", household(), as_of=AS_OF, on_invalid="ignore")


# --- the schema declares ranges and patterns --------------------------------------------------

def test_the_national_schema_declares_the_ranges(engine: Engine) -> None:
    hh, p = engine.schema.entity("household"), engine.schema.entity("person")
    assert (hh.fields["desil"].min, hh.fields["desil"].max) == (1, 10)
    assert p.fields["birth_date"].range_text() == "1900-01-01..2100-12-31"
    assert hh.fields["head_income_month"].min == 0
    assert {hh.fields["id"].pattern, p.fields["nik"].pattern, p.fields["household_id"].pattern
            } == {"^[0-9]{16}$"}


@pytest.mark.parametrize(("spec", "message"), [
    ({"type": "int", "pattern": "^[0-9]+$"}, "'pattern' is a regular expression for a str"),
    ({"type": "str", "pattern": "("}, "'pattern' is not a valid regular expression"),
    ({"type": "date", "min": 1900}, "'min' must be a date"),
    ({"type": "int", "max": "ten"}, "'max' must be a number"),
])
def test_a_bad_range_or_pattern_in_a_schema_is_a_load_error(spec: dict[str, Any], message: str
                                                            ) -> None:
    from welfare_rules._yaml import Positions

    b = SchemaBuilder()
    b.add_data({"entities": {"x": {"key": "id", "fields": {"id": "str", "f": spec}}}},
               Positions(None), Origin())
    assert len(b.errors) == 1
    assert isinstance(b.errors[0], RuleLoadError)
    assert message in str(b.errors[0])


# --- one grammar: the scalar parsers agree with the column parsers ----------------------------

_TEXT = st.one_of(
    st.text(alphabet="0123456789+-.,eE :TtrueFalsYyaIidk", max_size=24),
    st.from_regex(r"-?[0-9]{1,22}", fullmatch=True),
    st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)).map(str),
    st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", fullmatch=True),
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_scalar_and_column_parsers_agree(text: str) -> None:
    """A value means the same in a CSV cell and in a dict: both read it with one grammar."""
    text = text.strip()
    if not text:
        return
    col = pa.array([text], pa.string())
    i = P.parse_int(col)
    value, why = P.text_to_int(text)
    assert i.values[0].as_py() == value
    if why is not None:
        assert [r for m, r in i.problems if m[0].as_py()] == [why]
    assert P.parse_decimal(col).values[0].as_py() == P.text_to_decimal(text)
    b = P.parse_bool(col).values[0].as_py()
    assert b == P.text_to_bool(text)
    d = P.parse_iso_date(col)
    dv, dwhy = P.text_to_date(text)
    assert d.values[0].as_py() == dv
    assert (dwhy is None) == (not any(m[0].as_py() for m, _ in d.problems))


# --- the property: refused with every bad field named, or the canonical record's answer -------

@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.data())
def test_messy_records_are_refused_by_name_or_answered_as_their_canonical_form(
        engine: Engine, case: st.DataObject) -> None:
    raw, canonical, bad = case.draw(messy_households(engine))
    if bad:
        with pytest.raises(InputError) as info:
            engine.evaluate("household", raw, as_of=AS_OF)
        assert set(info.value.fields) == bad
    else:
        d = engine.evaluate("household", raw, as_of=AS_OF)
        want = engine.evaluate("household", canonical, as_of=AS_OF)
        assert d.record == canonical
        assert d.to_dict() == want.to_dict()
        assert [m.to_dict() for m in d.members] == [m.to_dict() for m in want.members]
    # for callers who must never raise: invalid values are unknown, as if they were missing
    extra = any(b.rpartition(".")[2] in UNKNOWN_NAMES for b in bad)
    with pytest.warns(InputWarning) if extra else contextlib.nullcontext():
        lenient = engine.evaluate("household", raw, as_of=AS_OF, on_invalid="unknown",
                                  strict=False)
    quiet = engine.evaluate("household", canonical, as_of=AS_OF, on_invalid="unknown")
    assert lenient.to_dict() == quiet.to_dict()
    assert lenient.record == canonical



# --- the fast path (record_fast.py) only ever skips work ------------------------------------

def _full_check(engine: Engine, rec: dict[str, Any]) -> tuple[Any, list[Any]]:
    """The full check alone, without the fast path: the record it gives and its problems."""
    from welfare_rules.adapters.record import contract_for

    contract = contract_for(engine.schema, "household")
    invalid: list[Any] = []
    unknown: list[Any] = []
    shape: list[Any] = []
    out = contract._check(rec, invalid, unknown, shape, None, None)
    return out, invalid + unknown + shape


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.data())
def test_the_fast_path_says_canonical_only_when_the_full_check_finds_nothing_to_do(
        engine: Engine, case: st.DataObject) -> None:
    from welfare_rules.adapters.record import contract_for

    fast = contract_for(engine.schema, "household").fast
    raw, canonical, _ = case.draw(messy_households(engine))
    for rec in (raw, canonical):
        out, problems = _full_check(engine, rec)
        nothing_to_do = out is rec and not problems
        # canonical: the full check would have nothing to do; and a record it has nothing to
        # do for takes the fast path (otherwise the fast path would buy nothing)
        assert fast(rec) == nothing_to_do


_NOT_CANONICAL = [
    ("id", "3375012345678901\n"), ("id", "\uff13" * 16), ("id", "337501234567890"),
    ("id", 3375012345678901), ("desil", 2**64), ("desil", True), ("desil", 11),
    ("desil", "2"), ("floor_area_m2", float("nan")), ("floor_area_m2", float("inf")),
    ("last_verified", datetime.datetime(2024, 1, 1)), ("last_verified", "2024-01-01"),
    ("floor_type", "EARTH"), ("floor_type", ["earth"]), ("in_dtks", 1), ("id", None),
    ("no_such_field", 1), ("members", ()), ("members", [("nik", "1")])]


@pytest.mark.parametrize(("field", "value"), _NOT_CANONICAL)
def test_the_fast_path_leaves_every_non_canonical_household_to_the_full_check(
        engine: Engine, field: str, value: Any) -> None:
    from welfare_rules.adapters.record import contract_for

    fast = contract_for(engine.schema, "household").fast
    rec = household()
    assert fast(rec)
    assert not fast({**rec, field: value})


@pytest.mark.parametrize(("field", "value"), [
    ("nik", "33750101018000012"), ("birth_date", datetime.date(1800, 1, 1)),
    ("is_alive", "ya"), ("sex", "Male"), ("income_month", -1), ("unknown_field", 0)])
def test_the_fast_path_leaves_every_non_canonical_member_to_the_full_check(
        engine: Engine, field: str, value: Any) -> None:
    from welfare_rules.adapters.record import contract_for

    fast = contract_for(engine.schema, "household").fast
    rec = household()
    members = [dict(m) for m in rec["members"]]
    members[1][field] = value
    assert not fast({**rec, "members": members})
    # and the full check does refuse or convert it
    with contextlib.suppress(InputError, UserWarning):
        d = engine.evaluate("household", {**rec, "members": members}, as_of=AS_OF)
        assert d.record["members"][1] != members[1]


_ORDERED: dict[str, Any] = {}


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.data())
def test_the_fast_path_answers_the_same_in_every_key_order(engine: Engine,
                                                           case: st.DataObject) -> None:
    """The fast test is generated per key order (record_fast.py): a record and its members in
    any order of their keys, past the number of orders that get their own function too, get
    the answer the full check implies."""
    from welfare_rules.adapters import record_fast
    from welfare_rules.adapters.record import RecordContract

    # one contract of its own across the examples: it learns orders until MAX_ORDERS, then
    # every further order takes the general test
    contract = _ORDERED.setdefault("c", RecordContract(engine.schema, "household"))
    raw, canonical, _ = case.draw(messy_households(engine))
    for base in (raw, canonical):
        for _ in range(record_fast.MAX_ORDERS // 8 + 1):
            keys = case.draw(st.permutations(list(base)))
            rec = {k: base[k] for k in keys}
            if isinstance(rec.get("members"), list):
                rec["members"] = [
                    {k: m[k] for k in case.draw(st.permutations(list(m)))}
                    if isinstance(m, dict) else m for m in rec["members"]]
            out, problems = _full_check(engine, rec)
            assert contract.fast(rec) == (out is rec and not problems)
    learnt = record_fast._DISPATCH[contract.fast][0].__self__
    assert len(learnt) <= record_fast.MAX_ORDERS


def _complete(engine: Engine, rec: Any, entity: str = "household") -> Any:
    """``rec`` holding every name its entity declares (None for the fields it lacks), in a
    shuffled order decided by ``hash`` of the names: the form that takes the complete-record
    test (record_fast.py)."""
    if not isinstance(rec, dict):
        return rec
    ent = engine.schema.entity(entity)
    out = {**dict.fromkeys(ent.fields), **rec}
    for rel in ent.relations.values():
        ms = out.get(rel.name)
        out[rel.name] = ([_complete(engine, m, rel.entity) for m in ms]
                         if isinstance(ms, list) else ms)
    return {k: out[k] for k in sorted(out, key=lambda k: hash(k) % 97)}


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(case=st.data())
def test_the_complete_record_test_says_canonical_only_when_the_full_check_finds_nothing_to_do(
        engine: Engine, case: st.DataObject) -> None:
    """A record (and members) holding every declared name is tested in one getter call, in
    any key order, with its members tested inline: the same answer the full check implies,
    also with a declared key traded for an undeclared one (the same number of keys)."""
    from welfare_rules.adapters import record_fast
    from welfare_rules.adapters.record import RecordContract

    contract = RecordContract(engine.schema, "household")
    raw, canonical, _ = case.draw(messy_households(engine))
    for base in (raw, canonical):
        rec = _complete(engine, base)
        out, problems = _full_check(engine, rec)
        assert contract.fast(rec) == (out is rec and not problems)
        traded = dict(rec)
        del traded[case.draw(st.sampled_from(sorted(k for k in rec if k != "members")))]
        traded["no_such_field"] = None
        assert not contract.fast(traded)
        if isinstance(rec.get("members"), list) and rec["members"]:
            members = [dict(m) if isinstance(m, dict) else m for m in rec["members"]]
            if isinstance(members[0], dict):
                del members[0][case.draw(st.sampled_from(sorted(members[0])))]
                members[0]["no_such_field"] = None
                assert not contract.fast({**rec, "members": members})
    # records of as many keys as names never went through the functions per key order (a
    # messy record with an unknown field added did)
    for c in (contract, contract.relations["members"]):
        assert all(len(k) != len(c.names) for k in record_fast._DISPATCH[c.fast][0].__self__)


def test_a_complete_record_takes_the_complete_test_and_is_evaluated_as_its_sparse_form(
        engine: Engine) -> None:
    from welfare_rules.adapters import record_fast
    from welfare_rules.adapters.record import RecordContract

    contract = RecordContract(engine.schema, "household")
    sparse = household()
    full = _complete(engine, sparse)
    assert contract.fast(full)
    assert contract.fast(sparse)
    learnt = record_fast._DISPATCH[contract.fast][0].__self__
    assert list(learnt) == [tuple(sparse)]  # the sparse one learnt its order, not the full one
    a = engine.evaluate("household", sparse, as_of=AS_OF)
    b = engine.evaluate("household", full, as_of=AS_OF)
    assert a.to_dict() == b.to_dict()
    assert [m.to_dict() for m in a.members] == [m.to_dict() for m in b.members]
    bad = _complete(engine, household())
    bad["members"][1]["birth_date"] = datetime.date(1800, 1, 1)
    assert not contract.fast(bad)
    with pytest.raises(InputError) as info:
        engine.evaluate("household", bad, as_of=AS_OF)
    assert info.value.fields == ["members[1].birth_date"]


# --- missing-value markers: one behaviour on both paths (evaluate and evaluate_batch) ---------

def _markers() -> list[Any]:
    import decimal

    import numpy as np
    import pandas as pd

    return [None, float("nan"), np.float64("nan"), np.float32("nan"), decimal.Decimal("NaN"),
            pd.NA, pd.NaT]


@pytest.mark.parametrize("field", ["desil", "floor_area_m2", "in_dtks", "floor_type",
                                   "last_verified"])
@pytest.mark.parametrize("marker", _markers(), ids=repr)
def test_a_missing_value_marker_is_missing_in_evaluate_as_in_batch(engine: Engine, field: str,
                                                                   marker: Any) -> None:
    """Before: a float NaN was missing but NumPy's float32 NaN, Decimal('NaN'), pandas' NA and
    NaT raised InputError in ``evaluate``, while the batch path read all of them as missing."""
    import pandas as pd

    rec = household(unknown=(1,))
    absent = {k: v for k, v in rec.items() if k != field}
    expected = engine.evaluate("household", absent, as_of=AS_OF)
    got = engine.evaluate("household", {**rec, field: marker}, as_of=AS_OF)
    assert got.record.get(field) is None
    assert {r: got.value(r) for r in ELIGIBLE} == {r: expected.value(r) for r in ELIGIBLE}
    # the batch path, given the same value in a DataFrame column, reads it as missing too
    flat = {k: v for k, v in rec.items() if k != "members"}
    frame = pd.DataFrame([{**flat, field: marker}], dtype=object)
    members = pd.DataFrame([{**m, "household_id": rec["id"]} for m in rec["members"]])
    res = engine.evaluate_batch("household", frame, members=members, as_of=AS_OF,
                                backend="python")
    assert res.quarantine.num_rows == 0
    row = res.to_arrow().to_pylist()[0]
    assert {r: row[r] for r in ELIGIBLE} == {r: expected.value(r) for r in ELIGIBLE}


def test_nan_as_text_is_not_a_marker_on_either_path(engine: Engine) -> None:
    import pandas as pd

    with pytest.raises(InputError, match="desil"):
        engine.evaluate("household", household(desil="NaN"), as_of=AS_OF)
    rec = household()
    frame = pd.DataFrame([{**{k: v for k, v in rec.items() if k != "members"}, "desil": "NaN"}])
    res = engine.read(frame, progress=False)
    assert res.quarantine.column("field").to_pylist() == ["desil"]


# --- NumPy scalars are their Python counterparts (review 2 #21) ---------------------------------

def _numpy_cases() -> list[tuple[str, Any, Any]]:
    import numpy as np

    return [
        ("desil", np.int64(3), 3), ("desil", np.int32(11), 11), ("desil", np.uint8(4), 4),
        ("desil", np.float64(3.0), 3.0), ("desil", np.float32(7.5), 7.5),
        ("desil", np.bool_(True), True),
        ("in_dtks", np.bool_(False), False), ("in_dtks", np.int64(1), 1),
        ("in_dtks", np.int64(3), 3),
        ("floor_area_m2", np.float32(7.5), 7.5), ("floor_area_m2", np.int64(12), 12),
        ("floor_area_m2", np.float64(-1.0), -1.0),
        ("last_verified", np.datetime64("2024-01-05"), datetime.date(2024, 1, 5)),
        ("last_verified", np.datetime64("2024-01-05T00:00:00.000000000"),
         datetime.datetime(2024, 1, 5)),
        ("last_verified", np.datetime64("2024-01-05T10:00"), datetime.datetime(2024, 1, 5, 10)),
        ("last_verified", np.datetime64("NaT"), None),
        ("kelurahan", np.int64(7), 7),
    ]


@pytest.mark.parametrize("case", range(len(_numpy_cases())))
def test_a_numpy_scalar_is_checked_as_its_python_counterpart(engine: Engine, case: int) -> None:
    field, np_value, py_value = _numpy_cases()[case]
    base = {"id": "3375010101010001", "members": []}

    def outcome(value: Any) -> Any:
        try:
            return ("ok", check_record(engine.schema, "household", {**base, field: value})
                    .record.get(field))
        except InputError as exc:
            return ("refused", str(exc).split(": expected", 1)[-1].split("; found")[0])

    got, want = outcome(np_value), outcome(py_value)
    assert got == want, (np_value, got, want)
    if got[0] == "ok":
        assert type(got[1]) is type(want[1])  # a plain Python value, never a NumPy one


def test_a_month_datetime64_names_no_day_and_is_refused(engine: Engine) -> None:
    import numpy as np

    with pytest.raises(InputError, match="last_verified: expected a date"):
        check_record(engine.schema, "household", {"id": "3375010101010001", "members": [],
                                                  "last_verified": np.datetime64("2024-01")})
