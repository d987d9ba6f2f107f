"""Property: any hostile rule file loads (or is refused), checks and evaluates within bounded
time and memory, raising only the library's own errors; NaN, infinities and huge numbers give
the same outcome, or the same error, on the Python, DuckDB and Polars backends."""

from __future__ import annotations

import datetime
import math
import tempfile
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from welfare_rules.errors import ParameterError, WelfareRulesError
from welfare_rules.testing.strategies import date_steps, dates_near_bounds, hostile_rule_files

from .conftest import build_engine, ruleset
from .test_regex import Backends

AS_OF = datetime.date(2024, 1, 1)
KK = "3375010101010001"
#: Generous bounds that only a hang or a blow-up crosses (not a speed measurement).
GUARD_SECONDS = 120
GUARD_BYTES = 512 * 2**20


def _guarded(fn: Any) -> Any:
    """Run ``fn`` in a thread with tracemalloc on; fail if it hangs or allocates past the
    guard, re-raise what it raised."""
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # reported below, in the test's thread
            out["error"] = exc

    tracemalloc.start()
    try:
        th = threading.Thread(target=run, daemon=True)
        th.start()
        th.join(GUARD_SECONDS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out, f"did not finish within {GUARD_SECONDS} s"
    assert peak < GUARD_BYTES, f"allocated {peak:,} bytes"
    if "error" in out:
        raise out["error"]
    return out.get("value")


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(text=hostile_rule_files(), x=st.integers(-(2**63), 2**63 - 1),
       name=st.text(alphabet="ab!é ", max_size=60))
def test_a_hostile_rule_file_ends_quickly_with_a_result_or_a_library_error(
        text: str, x: int, name: str) -> None:
    def attempt() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            eng = build_engine(Path(tmp), {"hostile.yaml": text})
            for rid in eng.rules:
                eng.rule(rid)
            d = eng.evaluate("household", {"id": KK, "x": x, "name": name, "amount": 1.5},
                             as_of=AS_OF)
            d.to_dict()
            repr(d.findings)

    try:
        _guarded(attempt)
    except WelfareRulesError as exc:
        text_of = str(exc)
        assert "Traceback" not in text_of
        assert "RecursionError" not in text_of


NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(2**70), 2**70),
    st.sampled_from([math.nan, math.inf, -math.inf, 2**63, -(2**63) - 1, 1e308, 1e-320,
                     "1" * 400 + ".5", "nan", 0, 1, -1]),
)
RULES = """
- id: t_ok
  when: x <= param.t.max_x
- id: t_scaled
  value: amount * param.t.rate
- id: t_sum
  value: x + param.t.max_x
- id: t_cmp
  when: amount > param.t.rate
- id: t_later
  value: add_days(seen, y)
- id: t_month
  value: add_months(seen, y)
- id: t_year
  value: add_years(seen, y)
- id: t_made
  value: date(y, 2, 29)
- id: t_parsed
  value: date(name)
- id: t_span
  value: days_between(seen, add_days(seen, 0 - y))
"""
DATE_TEXTS = st.one_of(st.sampled_from(["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01",
                                        "-0001-01-01", "2024-02-30", " 2024-01-01", "20240101",
                                        "2024-1-1"]), st.text(alphabet="0129-", max_size=11))
PARAMS = """
max_x: {type: int, values: {2020-01-01: 4}}
rate: {type: decimal, values: {2020-01-01: 1.5}}
"""


def _outcome(eng: Any, table: pa.Table, backend: str) -> Any:
    try:
        res = eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend)
    except WelfareRulesError as exc:
        return ("error", type(exc).__name__, str(exc).split(":")[0])
    rows = res.to_arrow().to_pylist()
    return (sorted(rows, key=lambda r: r["id"]), res.quarantine.num_rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(max_x=st.one_of(st.integers(-10, 10), NUMBERS),
       rate=st.one_of(st.floats(-10, 10), NUMBERS), xs=st.lists(NUMBERS, min_size=1, max_size=3),
       amounts=st.lists(NUMBERS, min_size=1, max_size=3),
       dates=st.lists(st.tuples(dates_near_bounds(), date_steps(), DATE_TEXTS), min_size=1,
                      max_size=3))
# found by this test: a DOUBLE product beyond 1.8e308 was inf on DuckDB, an error on Python
@example(max_x=0, rate=8.98846567431158e+307, xs=[0.0, 0.0, 0], amounts=[0.0, 0.0, 2],
         dates=[(datetime.date(2024, 1, 1), 1, "2024-01-01")])
# a date past 9999-12-31 was unknown on Python and an OverflowError from DuckDB
@example(max_x=0, rate=1.5, xs=[0], amounts=[0],
         dates=[(datetime.date(9999, 12, 31), 1, "9999-12-31")])
def test_nan_inf_and_huge_numbers_give_the_same_outcome_on_every_backend(
        max_x: Any, rate: Any, xs: list[Any], amounts: list[Any],
        dates: list[tuple[datetime.date, int, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        try:
            eng = build_engine(Path(tmp), ruleset(RULES), params=PARAMS,
                               parameters={"t.max_x": max_x, "t.rate": rate},
                               extra_plugins=[Backends()])
        except ParameterError:
            return  # refused at load: the same for every backend
        n = min(len(xs), len(amounts))
        table = pa.table({
            "id": [f"{KK[:-2]}{i:02d}" for i in range(n)],
            "x": pa.array([str(v) for v in xs[:n]], pa.string()),
            "amount": pa.array([str(v) for v in amounts[:n]], pa.string()),
            "seen": pa.array([dates[i % len(dates)][0] for i in range(n)], pa.date32()),
            "y": pa.array([dates[i % len(dates)][1] for i in range(n)], pa.int64()),
            "name": pa.array([dates[i % len(dates)][2] for i in range(n)], pa.string()),
        })
        ref = _outcome(eng, table, "python")
        assert ref == _outcome(eng, table, "duckdb")
        assert ref == _outcome(eng, table, "polars")
