"""evaluate_batch gives the settled answer of Engine.evaluate on every backend (issue 15,
item 5): unknowns that every completion of the blanks decides alike are known, and the
``<rule>__needs`` column equals ``Decision.needs(rule)``."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from welfare_rules import Engine
from welfare_rules.errors import EvaluationError
from welfare_rules.testing.strategies import households

from .batch_tables import tables

AS_OF = datetime.date(2024, 1, 1)
#: every registered backend but Spark (a minute per run; its compiler is the DuckDB one's)
BACKENDS = ["python", "duckdb", "polars"]

WOMAN = {"nik": "3375014101500001", "sex": "female", "birth_date": datetime.date(1949, 6, 1),
         "relationship": "head", "is_alive": True, "disability": "none", "school_level": "none"}
HOUSEHOLD = {"id": "3375010101010001", "in_dtks": True, "desil": 2, "members": [WOMAN]}


@pytest.fixture(scope="module")
def national() -> Engine:
    return Engine.load()


def _backends(engine: Engine) -> list[str]:
    """The backends to compare; a broken install (Polars not registered) fails, never skips
    or shrinks the comparison."""
    missing = [b for b in BACKENDS if b not in engine.backends]
    assert not missing, f"backends not registered: {missing}"
    return list(BACKENDS)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return bool(a == b)


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_74_year_old_woman_is_known_eligible_in_batch(national: Engine,
                                                          backend: str) -> None:
    assert backend in national.backends  # a broken install fails, never skips
    hh, pp = tables(national, [HOUSEHOLD])
    raw = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, backend=backend,
                                  validate=False, settle=False).to_arrow().to_pylist()[0]
    assert raw["pkh_eligible__status"] == "unknown"  # what the backend itself gives
    res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, backend=backend,
                                  validate=False, needs=["pkh_eligible", "pkh_benefit_year"])
    row = res.to_arrow().to_pylist()[0]
    assert (row["pkh_eligible"], row["pkh_eligible__status"]) == (True, "true")
    assert row["pkh_eligible__needs"] == []
    assert row["pkh_benefit_year__status"] == "unknown"
    assert row["pkh_benefit_year__needs"] == ["members[0].is_pregnant"]
    assert res.settler is not None
    assert res.settler.settled >= 1


def test_needs_names_a_rule_and_asks_for_settling(national: Engine) -> None:
    hh, pp = tables(national, [HOUSEHOLD])
    with pytest.raises(EvaluationError, match=r"'pkh_eligble' is not a rule.*pkh_eligible"):
        national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, validate=False,
                                needs=["pkh_eligble"])
    with pytest.raises(EvaluationError, match="leave settle=True"):
        national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, validate=False,
                                needs=True, settle=False)


def test_a_streamed_output_file_holds_the_settled_results(national: Engine,
                                                          tmp_path: Any) -> None:
    import pyarrow.parquet as pq

    hh, pp = tables(national, [HOUSEHOLD])
    out = tmp_path / "results.parquet"
    national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, validate=False,
                            output=out)
    assert pq.read_table(out).to_pylist()[0]["pkh_eligible__status"] == "true"


@settings(max_examples=8, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_batch_equals_evaluate_on_records_with_blanks(national: Engine,
                                                      data: st.DataObject) -> None:
    """Values, statuses (households and members) and ``__needs`` of every rule agree with the
    one-record path on generated households with blank fields, on every backend."""
    records = data.draw(st.lists(households(national, 0, 3, missing=0.25), min_size=1,
                                 max_size=6, unique_by=lambda r: r["id"]))
    hh, pp = tables(national, records)
    decisions = {r["id"]: national.evaluate("household", r, as_of=AS_OF) for r in records}
    for backend in _backends(national):
        res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF,
                                      backend=backend, validate=False, needs=True)
        for row in res.to_arrow().to_pylist():
            d = decisions[row["id"]]
            for rid in res.rule_ids:
                assert row[rid + "__needs"] == d.needs(rid), (backend, rid)
                if not d.in_force(rid):
                    continue  # a dated rule not in force: null in batch, unknown in evaluate
                assert row[rid + "__status"] == d.status(rid), (backend, rid, row["id"])
                assert _same(row[rid], d.value(rid)), (backend, rid, row[rid], d.value(rid))
        members = res.member_results
        assert members is not None
        for row in members.to_pylist():
            d = decisions[row["household_id"]]
            m = next(m for m in d.members if m.record["nik"] == row["nik"])
            for rid in [c[:-8] for c in members.column_names if c.endswith("__status")]:
                if not m.in_force(rid):
                    continue
                assert row[rid + "__status"] == m.status(rid), (backend, rid)
                assert _same(row[rid], m.value(rid)), (backend, rid)


def test_a_status_asked_for_alone_is_settled_too(national: Engine) -> None:
    hh, pp = tables(national, [HOUSEHOLD])
    res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, validate=False,
                                  outputs=["pkh_eligible__status"])
    assert res.to_arrow().column("pkh_eligible__status").to_pylist() == ["true"]


#: rules asked for alone below: a condition, a value read through member ranks, a ladder-free
#: programme and a status alone
ASKED = ["pkh_eligible", "pkh_benefit_year", "bpnt_eligible__status"]


@settings(max_examples=6, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_settling_the_rules_asked_for_equals_evaluate(national: Engine,
                                                      data: st.DataObject) -> None:
    """With ``outputs=``, only the rules asked for are settled, record by record over
    completions shared by those rules, and the values and statuses still equal the settled
    answer of ``Engine.evaluate`` (Python and DuckDB); the records re-evaluated are only those
    with an asked rule unknown."""
    records = data.draw(st.lists(households(national, 1, 4, missing=0.4), min_size=1,
                                 max_size=5, unique_by=lambda r: r["id"]))
    hh, pp = tables(national, records)
    decisions = {r["id"]: national.evaluate("household", r, as_of=AS_OF) for r in records}
    for backend in [b for b in ("python", "duckdb") if b in national.backends]:
        res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF,
                                      backend=backend, validate=False, outputs=ASKED)
        assert set(res.rule_ids) == {"pkh_eligible", "pkh_benefit_year", "bpnt_eligible"}
        rows = res.to_arrow().to_pylist()
        for row in rows:
            d = decisions[row["id"]]
            for rid in res.rule_ids:
                if not d.in_force(rid):
                    continue
                assert row[rid + "__status"] == d.status(rid), (backend, rid, row["id"])
                if rid in row:
                    assert _same(row[rid], d.value(rid)), (backend, rid, row[rid])
        raw = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF,
                                      backend=backend, validate=False, settle=False,
                                      outputs=ASKED).to_arrow().to_pylist()
        unknown = {r["id"] for r in raw
                   if "unknown" in (r[rid + "__status"] for rid in res.rule_ids)}
        assert res.settler is not None
        assert res.settler.evaluated <= len(unknown), backend


def test_a_completion_is_evaluated_once_for_all_the_rules_of_a_record(
        national: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Settling goes record by record: the rules (and members) settled over the same blanks
    share their completions, so no completion of a record is evaluated twice in a pass."""
    from welfare_rules import unknowns

    seen: list[tuple[Any, frozenset[Any]]] = []
    real = unknowns.with_values

    def spy(record: Any, changes: Any) -> dict[str, Any]:
        seen.append((record.get("id"), frozenset(changes.items())))
        return real(record, changes)

    monkeypatch.setattr(unknowns, "with_values", spy)
    hh, pp = tables(national, [HOUSEHOLD])
    res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF, validate=False,
                                  backend="duckdb")
    res.to_arrow()
    results_pass = list(seen)
    seen.clear()
    assert res.member_results is not None
    # pkh_eligible, pkh_benefit_year and the PKH components all settle over is_pregnant
    assert res.settler is not None
    assert res.settler.settled >= 2
    assert len(results_pass) >= 2
    for one_pass in (results_pass, seen):
        assert len(one_pass) == len(set(one_pass)), sorted(map(str, one_pass))


def test_settling_reads_the_schema_s_fields_only(national: Engine) -> None:
    """A column the batch carries but the schema does not declare (a survey weight, a
    person's nik_ibu) is no unknown field to warn about once per re-decided record: whether a
    batch warned depended on how many rows had a blank, and under filterwarnings=error the
    batch failed only when settling ran (review2 #14)."""
    import warnings

    import pyarrow as pa

    hh, pp = tables(national, [HOUSEHOLD])
    assert pp is not None
    hh = hh.append_column("survey_weight", pa.array([1.5]))
    pp = pp.append_column("nik_ibu", pa.array(["x"]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = national.evaluate_batch("household", hh, members=pp, as_of=AS_OF,
                                      backend="duckdb", validate=False)
        row = res.to_arrow().to_pylist()[0]
    assert (row["pkh_eligible"], row["pkh_eligible__status"]) == (True, "true")
    assert res.settler is not None
    assert res.settler.evaluated == 1


_CHECK = """\
id: settled_check
version: "1"
entity: household
title: {id: Cek yang ditetapkan, en: A settled check}
rules:
  - id: t_tautology_check
    policy: local
    kind: check
    when: owns_car or not owns_car
    severity: warning
    message: {id: "cek {id}", en: "check {id}"}
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_findings_follow_the_settled_checks(tmp_path: Any, backend: str) -> None:
    """A check the three-valued pass leaves unknown (owns_car blank) and settling makes true
    is in the findings, as in Engine.evaluate's; the results said true while the findings and
    summary() said no finding (review2 #2). settle=False keeps both three-valued."""
    import pyarrow as pa

    rules = tmp_path / "rules.yaml"
    rules.write_text(_CHECK, encoding="utf-8")
    engine = Engine.load(rules=[rules])
    hh = pa.table({"id": ["3375010101010009", "3375010101010008"],
                   "owns_car": pa.array([None, True], pa.bool_())})
    pp = pa.table({"nik": pa.array([], pa.string()),
                   "household_id": pa.array([], pa.string())})
    d = engine.evaluate("household", {"id": "3375010101010009", "members": []}, as_of=AS_OF)
    assert "t_tautology_check" in [f.check for f in d.findings]

    def found(**kw: Any) -> list[str]:
        res = engine.evaluate_batch("household", hh, members=pp, as_of=AS_OF, backend=backend,
                                    **kw)
        rows = res.findings.to_pylist()
        return sorted(r["record_id"] for r in rows if r["check"] == "t_tautology_check")

    assert found() == ["3375010101010008", "3375010101010009"]
    assert found(settle=False) == ["3375010101010008"]
