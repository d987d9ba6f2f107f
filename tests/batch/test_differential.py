"""Differential tests: the Python reference, DuckDB and Spark agree on every rule.

One hypothesis example is a population of at least 500 generated households (see ``gen.py``)
evaluated in one query per backend; values, statuses, member results and findings must be the
same for every rule of the loaded engine.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import welfare_rules as wr
from welfare_rules.batch import evaluate_batch

from .compare import CHECKS, differences
from .gen import AS_OF_DATES, population

N_HOUSEHOLDS = 500
# a population comes from a seed: shrinking it finds nothing smaller, so do not try
PHASES = [Phase.explicit, Phase.reuse, Phase.generate]
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
populations = st.tuples(st.integers(0, 2**32 - 1), st.sampled_from([0.0, 0.05, 0.3]),
                        st.sampled_from(AS_OF_DATES))


def _run(engine: wr.Engine, backend: str, seed: int, missing: float, as_of: datetime.date,
         **kw: Any) -> Any:
    hh, pp = population(seed, N_HOUSEHOLDS, missing, as_of)
    return evaluate_batch(engine, "household", hh, members=pp, as_of=as_of, backend=backend,
                          validate=False, dataset_checks=CHECKS, **kw)


def _assert_agree(engine: wr.Engine, backend: str, seed: int, missing: float,
                  as_of: datetime.date, **kw: Any) -> None:
    ref = _run(engine, "python", seed, missing, as_of)
    got = _run(engine, backend, seed, missing, as_of, **kw)
    diffs = differences(ref.to_arrow(), got.to_arrow(), "households")
    diffs += differences(ref.member_results, got.member_results, "members")
    diffs += differences(ref.findings, got.findings, "findings")
    assert not diffs, f"seed={seed} missing={missing} as_of={as_of}:\n" + "\n".join(diffs)


@settings(max_examples=6, deadline=None, suppress_health_check=SLOW,
          phases=PHASES)
@given(populations)
def test_duckdb_equals_python_national(national: wr.Engine, pop: tuple[int, float, Any]) -> None:
    """Every national rule gives the same value and status in DuckDB as in Python."""
    _assert_agree(national, "duckdb", *pop)


@settings(max_examples=6, deadline=None, suppress_health_check=SLOW,
          phases=PHASES)
@given(populations)
def test_duckdb_equals_python_every_kind(kinds: wr.Engine, pop: tuple[int, float, Any]) -> None:
    """Every rule kind, hit policy and function gives the same result in DuckDB as in Python."""
    _assert_agree(kinds, "duckdb", *pop)


@pytest.mark.spark
@settings(max_examples=2, deadline=None, suppress_health_check=SLOW,
          phases=PHASES)
@given(populations)
def test_spark_equals_python_national(national: wr.Engine, spark: Any,
                                      pop: tuple[int, float, Any]) -> None:
    """Every national rule gives the same value and status in Spark as in Python."""
    _assert_agree(national, "spark", *pop, spark=spark)


@pytest.mark.spark
@settings(max_examples=2, deadline=None, suppress_health_check=SLOW,
          phases=PHASES)
@given(populations)
def test_spark_equals_python_every_kind(kinds: wr.Engine, spark: Any,
                                        pop: tuple[int, float, Any]) -> None:
    """Every rule kind, hit policy and function gives the same result in Spark as in Python."""
    _assert_agree(kinds, "spark", *pop, spark=spark)


def _pekalongan() -> wr.Engine:
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "plugins" / "kota-pekalongan" / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import welfare_rules_kota_pekalongan as kp

    return wr.Engine.load(plugins=[kp])


@pytest.fixture(scope="module")
def pekalongan() -> wr.Engine:
    return _pekalongan()


def _assert_institutions_agree(engine: wr.Engine, backend: str, seed: int, missing: float,
                               as_of: datetime.date, **kw: Any) -> None:
    from .gen import flat_population

    tbl = flat_population(engine.schema, "institution", seed, N_HOUSEHOLDS, missing, as_of)
    ref = evaluate_batch(engine, "institution", tbl, as_of=as_of, backend="python",
                         validate=False, dataset_checks=False)
    got = evaluate_batch(engine, "institution", tbl, as_of=as_of, backend=backend,
                         validate=False, dataset_checks=False, **kw)
    diffs = differences(ref.to_arrow(), got.to_arrow(), "institutions")
    diffs += differences(ref.findings, got.findings, "findings")
    assert not diffs, f"seed={seed} missing={missing} as_of={as_of}:\n" + "\n".join(diffs)


@settings(max_examples=4, deadline=None, suppress_health_check=SLOW, phases=PHASES)
@given(populations)
def test_duckdb_equals_python_pekalongan(pekalongan: wr.Engine, pop: tuple[int, float, Any]
                                         ) -> None:
    """The Kota Pekalongan plugin's household rules and checks agree in DuckDB and Python."""
    _assert_agree(pekalongan, "duckdb", *pop)


@settings(max_examples=4, deadline=None, suppress_health_check=SLOW, phases=PHASES)
@given(populations)
def test_duckdb_equals_python_institutions(pekalongan: wr.Engine, national: wr.Engine,
                                           pop: tuple[int, float, Any]) -> None:
    """The LKS ladders (national default and the Pekalongan one) agree in DuckDB and Python."""
    _assert_institutions_agree(national, "duckdb", *pop)
    _assert_institutions_agree(pekalongan, "duckdb", *pop)


@pytest.mark.spark
@settings(max_examples=1, deadline=None, suppress_health_check=SLOW, phases=PHASES)
@given(populations)
def test_spark_equals_python_pekalongan(pekalongan: wr.Engine, spark: Any,
                                        pop: tuple[int, float, Any]) -> None:
    """The Kota Pekalongan plugin's rules agree in Spark and Python (households, LKS)."""
    _assert_agree(pekalongan, "spark", *pop, spark=spark)
    _assert_institutions_agree(pekalongan, "spark", *pop, spark=spark)
