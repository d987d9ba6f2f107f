"""Backends as plugins: the registry, the Backend contract, names and instances, the CLI."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import welfare_rules as wr
from welfare_rules.backends.base import Backend, BackendBase, Job, Outcome
from welfare_rules.backends.duckdb import DuckDBBackend
from welfare_rules.batch import evaluate_batch
from welfare_rules.errors import EvaluationError, PluginError
from welfare_rules.hookspecs import Register, hookimpl
from welfare_rules.plugins import backend_names

from .compare import differences

EXAMPLES = Path(wr.__file__).parent / "national" / "examples"
AS_OF = datetime.date(2024, 1, 1)


class Counting(BackendBase):
    """Runs DuckDB and counts the jobs it was given (so a test sees it was the one used)."""

    reads_parquet = True

    def __init__(self, name: str = "counting") -> None:
        self.name = name
        self.jobs: list[Job] = []

    def run(self, job: Job) -> Outcome:
        self.jobs.append(job)
        return DuckDBBackend().run(job)


class BackendPlugin:
    PLUGIN_NAME = "test-backends"

    def __init__(self, *backends: Any) -> None:
        self.backends = backends

    @hookimpl
    def register_backends(self, register: Register) -> None:
        for b in self.backends:
            register(b)


@pytest.fixture(scope="module")
def loaded(national: wr.Engine) -> Any:
    return national.read(EXAMPLES / "households.csv", members=EXAMPLES / "persons.csv")


def test_the_built_in_plugin_registers_four_backends(national: wr.Engine) -> None:
    assert sorted(national.backends) == ["duckdb", "polars", "python", "spark"]
    assert all(isinstance(b, Backend) for b in national.backends.values())
    got = {(c.plugin, c.name) for c in national.contributions if c.kind == "backend"}
    assert got == {("welfare-rules", "duckdb"), ("welfare-rules", "python"),
                   ("welfare-rules", "polars"), ("welfare-rules", "spark")}


def test_a_plugin_backend_is_used_by_name_and_sees_the_plan(loaded: Any) -> None:
    backend = Counting()
    engine = wr.Engine.load(plugins=[BackendPlugin(backend)])
    assert "counting" in engine.backends
    res = evaluate_batch(engine, "household", loaded, as_of=AS_OF, backend="counting")
    assert res.backend == "counting"
    assert len(backend.jobs) == 1
    job = backend.jobs[0]
    assert job.plan is engine.plan(AS_OF)
    assert job.as_of == AS_OF
    assert job.entity == "household"
    ref = evaluate_batch(engine, "household", loaded, as_of=AS_OF, backend="duckdb")
    assert differences(ref.to_arrow(), res.to_arrow(), "households") == []


def test_an_instance_is_accepted_without_registering_it(national: wr.Engine, loaded: Any
                                                        ) -> None:
    backend = Counting("adhoc")
    res = national.evaluate_batch("household", loaded, as_of="2024-01-01", backend=backend)
    assert res.backend == "adhoc"
    assert len(backend.jobs) == 1
    assert "adhoc" not in national.backends


def test_an_unknown_backend_name_lists_the_registered_ones(national: wr.Engine, loaded: Any
                                                           ) -> None:
    with pytest.raises(EvaluationError, match=r"unknown backend 'duckbd'.*duckdb.*"
                                              r"\(registered: duckdb, polars, python, spark\)"):
        evaluate_batch(national, "household", loaded, as_of=AS_OF, backend="duckbd")
    with pytest.raises(PluginError, match="neither a backend name nor a Backend"):
        evaluate_batch(national, "household", loaded, as_of=AS_OF, backend=42)  # type: ignore[arg-type]


def test_two_plugins_registering_one_name_is_a_load_error_naming_both() -> None:
    with pytest.raises(PluginError, match=r"backend 'duckdb' is contributed twice.*"
                                          r"'welfare-rules' and 'test-backends'"):
        wr.Engine.load(plugins=[BackendPlugin(Counting("duckdb"))])


def test_registering_something_that_is_not_a_backend_is_a_load_error() -> None:
    with pytest.raises(PluginError, match="not a backend"):
        wr.Engine.load(plugins=[BackendPlugin(object())])


def test_the_cli_lists_the_registered_backend_names() -> None:
    from welfare_rules.cli import main

    assert backend_names(None) == ["duckdb", "polars", "python", "spark"]
    out = CliRunner().invoke(main, ["evaluate", "--help"]).output
    assert "[duckdb|polars|python|spark]" in out
    bad = CliRunner().invoke(main, ["evaluate", str(EXAMPLES / "households.csv"),
                                    "--backend", "pandas"])
    assert bad.exit_code == 2
    assert "'pandas' is not one of 'duckdb', 'polars', 'python', 'spark'" in bad.output
