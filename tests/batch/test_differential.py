"""Differential tests: the Python reference, DuckDB and Spark agree on every rule.

One hypothesis example is a population of at least 500 generated households (see ``gen.py``)
evaluated in one query per backend; values, statuses, member results and findings — their
Arrow types and their values — must be the same for every rule of the loaded engine. The
backends' own three-valued answers are compared (``settle=False``): settling is the same Python
pass after any backend (``tests/explain/test_batch_settling.py``). Each test
runs once per registered backend (``conftest.pytest_generate_tests``: the built-in ones and the
test plugin's ``duckdb-parquet``).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import welfare_rules as wr
from welfare_rules.batch import evaluate_batch

from . import backend_plugin, fixture_plugin
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
                          validate=False, dataset_checks=CHECKS, settle=False, **kw)


def _assert_agree(engine: wr.Engine, backend: str, seed: int, missing: float,
                  as_of: datetime.date, **kw: Any) -> None:
    ref = _run(engine, "python", seed, missing, as_of)
    got = _run(engine, backend, seed, missing, as_of, **kw)
    diffs = differences(ref.to_arrow(), got.to_arrow(), "households")
    diffs += differences(ref.member_results, got.member_results, "members")
    diffs += differences(ref.findings, got.findings, "findings")
    assert not diffs, f"seed={seed} missing={missing} as_of={as_of}:\n" + "\n".join(diffs)


def _examples(backend: str, others: int, spark: int = 2) -> int:
    """Populations per test: Spark takes 15-40 s a population; ``duckdb-parquet`` runs
    DuckDB's own SQL (held to ``others`` populations as ``duckdb``) over Parquet files with
    the streamed output, whose types and statuses any population shows: half as many."""
    if backend == "spark":
        return spark
    return max(1, others // 2) if backend == "duckdb-parquet" else others


def _hold(request: pytest.FixtureRequest, backend: str, examples: int,
          check: Callable[..., None], *engines: wr.Engine) -> None:
    """Run ``check(engine, backend, seed, missing, as_of)`` for generated populations."""
    kw = {"spark": request.getfixturevalue("spark")} if backend == "spark" else {}

    @settings(max_examples=examples, deadline=None, suppress_health_check=SLOW,
              phases=PHASES)
    @given(populations)
    def run(pop: tuple[int, float, Any]) -> None:
        for engine in engines:
            check(engine, backend, *pop, **kw)

    run()


@pytest.fixture(scope="module")
def national_b() -> wr.Engine:
    """The national pack, with the test plugin's backend registered."""
    return wr.Engine.load(plugins=[backend_plugin])


@pytest.fixture(scope="module")
def kinds_b() -> wr.Engine:
    """The national pack plus rulesets covering every rule kind and hit policy."""
    return wr.Engine.load(plugins=[fixture_plugin, backend_plugin])


def test_backend_equals_python_national(national_b: wr.Engine, backend: str,
                                        request: pytest.FixtureRequest) -> None:
    """Every national rule gives the same value, status and Arrow type on every registered
    backend as in Python."""
    _hold(request, backend, _examples(backend, 6), _assert_agree, national_b)


def test_backend_equals_python_every_kind(kinds_b: wr.Engine, backend: str,
                                          request: pytest.FixtureRequest) -> None:
    """Every rule kind, hit policy and function gives the same result on every registered
    backend as in Python."""
    _hold(request, backend, _examples(backend, 6), _assert_agree, kinds_b)


def _pekalongan() -> wr.Engine:
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "plugins" / "kota-pekalongan" / "src"
    if str(src) not in sys.path:
        sys.path.insert(0, str(src))
    import welfare_rules_kota_pekalongan as kp

    return wr.Engine.load(plugins=[kp, backend_plugin])


@pytest.fixture(scope="module")
def pekalongan() -> wr.Engine:
    return _pekalongan()


def _assert_institutions_agree(engine: wr.Engine, backend: str, seed: int, missing: float,
                               as_of: datetime.date, **kw: Any) -> None:
    from .gen import flat_population

    tbl = flat_population(engine.schema, "institution", seed, N_HOUSEHOLDS, missing, as_of)
    ref = evaluate_batch(engine, "institution", tbl, as_of=as_of, backend="python",
                         validate=False, dataset_checks=False, settle=False)
    got = evaluate_batch(engine, "institution", tbl, as_of=as_of, backend=backend,
                         validate=False, dataset_checks=False, settle=False, **kw)
    diffs = differences(ref.to_arrow(), got.to_arrow(), "institutions")
    diffs += differences(ref.findings, got.findings, "findings")
    assert not diffs, f"seed={seed} missing={missing} as_of={as_of}:\n" + "\n".join(diffs)


def test_backend_equals_python_pekalongan(pekalongan: wr.Engine, backend: str,
                                          request: pytest.FixtureRequest) -> None:
    """The Kota Pekalongan plugin's household rules and checks agree on every registered
    backend and in Python."""
    _hold(request, backend, _examples(backend, 4, spark=1), _assert_agree, pekalongan)


def test_backend_equals_python_institutions(pekalongan: wr.Engine, national_b: wr.Engine,
                                            backend: str, request: pytest.FixtureRequest
                                            ) -> None:
    """The LKS ladders (national default and the Pekalongan one) agree on every registered
    backend and in Python."""
    _hold(request, backend, _examples(backend, 4, spark=1), _assert_institutions_agree,
          national_b, pekalongan)
