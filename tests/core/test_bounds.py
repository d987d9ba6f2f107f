"""Bounded evaluation: growth chains are refused at load; arithmetic past 64 bits is the same
EvaluationError on the Python, DuckDB and Polars backends, never a hang or a different answer."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.backends.runtime import OUT_OF_RANGE
from welfare_rules.bounds import MAX_RULE_DEPTH, MAX_TEXT
from welfare_rules.errors import EvaluationError

from .test_regex import Backends

AS_OF = datetime.date(2024, 1, 1)
KK = "3375010101010001"
BATCH = ("duckdb", "polars")  # held to the Python backend's answer


def chain(prefix: str, first: str, step: str, n: int) -> str:
    rules = [f"- id: {prefix}0\n  value: {first}\n"]
    rules += [f"- id: {prefix}{i}\n  value: {step.format(p=f'{prefix}{i - 1}')}\n"
              for i in range(1, n + 1)]
    return "".join(rules)


def test_a_text_doubling_chain_is_refused_at_load(errors_from: Any) -> None:
    """40 rules s_i = s_(i-1) + s_(i-1) passed `check` and needed 3 GB for one person."""
    errors = errors_from(chain("t_s", "name", "{p} + {p}", 40))
    assert 1 == len(errors)
    text = str(errors[0])
    assert "t_rules.yaml:" in text
    assert f"more than the limit of {MAX_TEXT:,}" in text
    assert "'t_s7'" in text


def test_short_text_chains_load(engine_from: Any) -> None:
    eng = engine_from(chain("t_s", "name", "{p} + '-'", 30))
    assert "ab" + "-" * 30 == eng.evaluate("household", {"name": "ab"},
                                            as_of=AS_OF).value("t_s30")


def test_a_chain_deeper_than_the_limit_is_refused_at_load(errors_from: Any) -> None:
    errors = errors_from(chain("t_c", "x", "{p} + 1", MAX_RULE_DEPTH + 5))
    assert 1 == len(errors)
    assert f"more than {MAX_RULE_DEPTH} rules" in str(errors[0])


def _both(eng: Any, record: dict[str, Any], rule: str, backends: Sequence[str] = BATCH,
          **kwargs: Any) -> list[Any]:
    """The rule's value (or error) from ``Engine.evaluate`` and from a batch on each of
    ``backends``."""
    out: list[Any] = []
    try:
        out.append(eng.evaluate("household", record, as_of=AS_OF).value(rule))
    except EvaluationError as exc:
        out.append(("error", str(exc).split(":")[0]))
    table = pa.table({"id": [KK], **{k: [v] for k, v in record.items()}})
    for backend in backends:
        try:
            res = eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend,
                                     **kwargs)
            out.append(res.to_arrow().column(rule).to_pylist()[0])
        except EvaluationError as exc:
            out.append(("error", str(exc).split(":")[0]))
    return out


def test_a_squaring_chain_is_the_same_error_on_python_and_duckdb(engine_from: Any) -> None:
    """40 rules x_i = x_(i-1) * x_(i-1) ran past 60 s on the Python backend."""
    eng = engine_from(chain("t_x", "x", "{p} * {p}", 40), extra_plugins=[Backends()])
    assert [("error", OUT_OF_RANGE)] * 3 == _both(eng, {"x": 3}, "t_x40")
    assert [1, 1, 1] == _both(eng, {"x": 1}, "t_x40")


INT64_CASES = [
    ("x * x", 2**32, ("error", OUT_OF_RANGE)),
    ("x * 3", 2**62, ("error", OUT_OF_RANGE)),
    ("x + 1", 2**63 - 1, ("error", OUT_OF_RANGE)),
    ("0 - x - x - x", 2**62, ("error", OUT_OF_RANGE)),
    ("0 - x - x", 2**62, -(2**63)),
    ("x * 2", 2**61, 2**62),
    ("x * 999999999999", 9_000_000, 9_000_000 * 999999999999),
]


@pytest.mark.parametrize(("expr", "x", "expected"), INT64_CASES)
def test_int64_bounds_are_the_same_on_python_and_duckdb(engine_from: Any, expr: str, x: int,
                                                        expected: Any) -> None:
    eng = engine_from(f"- id: t_r\n  value: {expr}\n", extra_plugins=[Backends()])
    assert [expected] * 3 == _both(eng, {"x": x}, "t_r")


def test_a_24_digit_literal_is_a_load_error_not_a_sql_crash(errors_from: Any) -> None:
    big = "123456789012345678901234"
    errors = errors_from(f"- id: t_r\n  value: {big} * {big}\n")
    assert "64-bit" in str(errors[0])


DATE_ERROR = ("error", OUT_OF_RANGE)


DATE_CASES = [
    ("add_days(seen, x)", datetime.date(9999, 12, 31), 1, DATE_ERROR),
    ("add_days(seen, x)", datetime.date(1, 1, 1), -1, DATE_ERROR),
    ("add_days(seen, x)", datetime.date(2000, 1, 1), 2**40, DATE_ERROR),  # past a 32-bit cast
    ("add_days(seen, x)", datetime.date(9999, 12, 30), 1, datetime.date(9999, 12, 31)),
    ("add_months(seen, x)", datetime.date(9999, 12, 1), 1, DATE_ERROR),
    ("add_months(seen, x)", datetime.date(1, 1, 31), -1, DATE_ERROR),
    ("add_months(seen, x)", datetime.date(1, 1, 31), 1, datetime.date(1, 2, 28)),
    ("add_years(seen, x)", datetime.date(2000, 1, 1), 8000, DATE_ERROR),
    ("add_years(seen, x)", datetime.date(2000, 1, 1), -(2**62), DATE_ERROR),
    ("add_years(seen, x)", datetime.date(2000, 2, 29), 7999, datetime.date(9999, 2, 28)),
    ("date(x, 1, 1)", None, 10000, DATE_ERROR),
    ("date(x, 1, 1)", None, 0, DATE_ERROR),
    ("date(x, 1, 1)", None, 2**40, DATE_ERROR),
    ("date(2024, x, 1)", None, 2**40, None),  # an impossible month is unknown, not an error
    ("date(2024, 2, x)", None, 30, None),
    ("is_valid_date(x, 1, 1)", None, 10000, False),
    ("is_valid_date(2024, x, 1)", None, 2**40, False),
    ("date('0000-01-01')", None, 0, DATE_ERROR),
    ("date('10000-01-01')", None, 0, None),  # not YYYY-MM-DD
    ("date(' 2024-01-01')", None, 0, None),
    ("date('9999-12-31')", None, 0, datetime.date(9999, 12, 31)),
]


@pytest.mark.parametrize(("expr", "seen", "x", "expected"), DATE_CASES)
def test_dates_stay_within_0001_9999_on_python_and_duckdb(engine_from: Any, expr: str,
                                                          seen: Any, x: int,
                                                          expected: Any) -> None:
    """A date past 9999-12-31 was unknown on Python and an OverflowError (or a 32-bit
    conversion error) from DuckDB; now it is the shared out-of-range error on both."""
    eng = engine_from(f"- id: t_r\n  value: \"{expr}\"\n", extra_plugins=[Backends()])
    assert [expected] * 3 == _both(eng, {"x": x, "seen": seen}, "t_r")


# -- Spark: ANSI mode (BIGINT overflow raises instead of wrapping), DOUBLE overflow guarded ---


@pytest.fixture(scope="module")
def ansi_off(spark: Any) -> Any:
    """A caller's session with ANSI off: a new session on the shared one's JVM (its own SQL
    settings; the shared session keeps ANSI on)."""
    session = spark.newSession()
    session.conf.set("spark.sql.ansi.enabled", "false")
    return session


SPARK_CASES = [(e, {"x": x}, v) for e, x, v in INT64_CASES] + [
    ("amount * 1e200 * 1e200", {"amount": 1.5}, ("error", OUT_OF_RANGE)),
    ("amount * 1e200", {"amount": 1.5}, 1.5e200),
] + [(e, {"x": x, "seen": seen}, v) for e, seen, x, v in DATE_CASES]


@pytest.mark.spark
@pytest.mark.parametrize(("expr", "record", "expected"), SPARK_CASES)
def test_bounds_are_the_same_on_python_and_spark(engine_from: Any, ansi_off: Any, expr: str,
                                                 record: dict[str, Any], expected: Any) -> None:
    """Spark wrapped 2**62 * 3 around silently with ANSI mode off, and a DOUBLE product past
    1.8e308 was infinity; now both are the shared out-of-range error, as on Python and DuckDB,
    whatever the caller's session says (and the session's setting is left as it was)."""
    eng = engine_from(f"- id: t_r\n  value: \"{expr}\"\n", extra_plugins=[Backends()])
    assert [expected] * 2 == _both(eng, record, "t_r", ("spark",), spark=ansi_off)
    assert "false" == ansi_off.conf.get("spark.sql.ansi.enabled")


_OVERFLOW_ON_SPARK = """
from welfare_rules.backends.spark import bounded_arithmetic, local_session
from welfare_rules.errors import OUT_OF_RANGE, EvaluationError

spark = local_session("welfare-rules-quiet", cores=1)
for query in ("SELECT CAST(9223372036854775807 AS BIGINT) + id FROM range(3)",
              "SELECT raise_error(:m) FROM range(2)"):
    try:
        with bounded_arithmetic(spark):
            spark.sql(query, args={"m": f"{OUT_OF_RANGE}: beyond"}).collect()
    except EvaluationError as exc:
        print(exc)
"""


@pytest.mark.spark
def test_an_overflow_on_spark_is_the_shared_error_alone(tmp_path: Any) -> None:
    """An overflow in a Spark query (ANSI) and the compiler's raise_error reach the caller as
    the shared error, and stderr stays empty: the executor's and scheduler's log lines
    (ERROR with a stack) and PySpark's log of the query's error were copies of it."""
    import subprocess
    import sys

    script = tmp_path / "overflow.py"
    script.write_text(_OVERFLOW_ON_SPARK)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          check=True, timeout=600)
    said = proc.stdout.splitlines()
    assert len(said) == 2, proc.stdout + proc.stderr
    assert all(line.startswith(OUT_OF_RANGE) for line in said), said
    logged = [line for line in proc.stderr.splitlines() if "ERROR" in line]
    assert logged == [], proc.stderr
