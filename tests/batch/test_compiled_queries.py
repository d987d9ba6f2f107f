"""DuckDB's compiled queries are kept per plan and input shape (``Plan.cached``): a second
batch of the same engine, date and columns runs the SQL text of the first, and anything that
changes the text (the date, the columns, the result selection, the dataset checks) compiles
again; the cache never keeps a plan alive."""

from __future__ import annotations

import datetime
import gc
import re
import weakref
from typing import Any

import pyarrow as pa
import pytest

import welfare_rules as wr
import welfare_rules.backends.duckdb as duck
from welfare_rules import plan as plan_module
from welfare_rules.batch import evaluate_batch

from .compare import CHECKS, differences
from .gen import population

AS_OF = datetime.date(2024, 1, 1)


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The outputs (``None``: every rule) of each query DuckDB's runner compiles."""
    seen: list[Any] = []
    real = duck.compile_query

    def spy(*args: Any, **kwargs: Any) -> Any:
        outputs = args[4] if len(args) > 4 else kwargs.get("outputs")
        seen.append(None if outputs is None else list(outputs))
        return real(*args, **kwargs)
    monkeypatch.setattr(duck, "compile_query", spy)
    return seen


def _batch(engine: wr.Engine, seed: int, as_of: datetime.date = AS_OF, **kw: Any) -> Any:
    hh, pp = population(seed, 60, 0.05, as_of)
    return hh, pp, evaluate_batch(engine, "household", hh, members=pp, as_of=as_of,
                                  validate=False, settle=False, **kw)


def _agrees(engine: wr.Engine, hh: pa.Table, pp: pa.Table, got: Any, as_of: datetime.date,
            **kw: Any) -> None:
    ref = evaluate_batch(engine, "household", hh, members=pp, as_of=as_of, backend="python",
                         validate=False, settle=False, **kw)
    diffs = differences(ref.to_arrow(), got.to_arrow(), "households")
    diffs += differences(ref.member_results, got.member_results, "members")
    diffs += differences(ref.findings, got.findings, "findings")
    assert not diffs, "\n".join(diffs)


def test_a_second_batch_of_the_same_shape_compiles_nothing(compiles: list[Any]) -> None:
    engine = wr.Engine.load()
    hh, pp, first = _batch(engine, 1, dataset_checks=CHECKS)
    _agrees(engine, hh, pp, first, AS_OF, dataset_checks=CHECKS)
    assert compiles == [None]
    hh, pp, second = _batch(engine, 2, dataset_checks=CHECKS)  # other records, same columns
    _agrees(engine, hh, pp, second, AS_OF, dataset_checks=CHECKS)
    assert compiles == [None]


def test_what_changes_the_sql_compiles_it_again(compiles: list[Any]) -> None:
    """Another date (its parameters), input columns, result selection or dataset checks:
    each is compiled, and each result is the Python reference's."""
    engine = wr.Engine.load()
    hh, pp, _ = _batch(engine, 1)
    later = datetime.date(2025, 3, 1)
    hh2, pp2, other_date = _batch(engine, 1, as_of=later)
    _agrees(engine, hh2, pp2, other_date, later)
    narrow = hh.drop_columns(["savings_value"])
    fewer = evaluate_batch(engine, "household", narrow, members=pp, as_of=AS_OF,
                           validate=False, settle=False)
    _agrees(engine, narrow, pp, fewer, AS_OF)
    chosen = engine.visible_rule_ids("household")[:2]
    some = evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF, validate=False,
                          settle=False, outputs=chosen)
    ref = evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF, backend="python",
                         validate=False, settle=False, outputs=chosen)
    assert differences(ref.to_arrow(), some.to_arrow(), "selection") == []
    assert compiles == [None, None, None, chosen]
    checks = {k: v for k, v in CHECKS.items() if k != "programme_overlap"}
    found = []
    for ds in (CHECKS, checks):
        got = evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF,
                             validate=False, settle=False, dataset_checks=ds)
        ref = evaluate_batch(engine, "household", hh, members=pp, as_of=AS_OF,
                             backend="python", validate=False, settle=False,
                             dataset_checks=ds)
        assert differences(ref.findings, got.findings, "findings") == []
        found.append({f["check"] for f in got.findings.to_pylist()})
    assert "programme_overlap" in found[0]
    assert "programme_overlap" not in found[1]


def test_the_least_recently_used_query_goes_beyond_the_bound(
        compiles: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_module, "MADE_PER_PLAN", 1)  # one results text
    engine = wr.Engine.load()
    rules = engine.visible_rule_ids("household")
    for outputs in ([rules[0]], [rules[1]], [rules[0]]):
        _batch(engine, 1, outputs=outputs)
    assert compiles == [[rules[0]], [rules[1]], [rules[0]]]


def test_the_cache_does_not_keep_a_plan_alive() -> None:
    engine = wr.Engine.load()
    _batch(engine, 1)
    plan = weakref.ref(engine.plan(AS_OF))
    del engine
    gc.collect()
    assert plan() is None


def test_the_sql_text_is_ascii_and_tests_no_constant_for_null(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's Python client tokenizes each query in Python, a character at a time where the
    text is not ASCII (0.2 s a query of the kinds pack, whose text held an ellipsis and
    str.strip()'s whitespace); and sqlglot writes GREATEST/LEAST with a NULL test of every
    argument, so a clamp's value was written four times (``30 IS NULL OR 3652059 IS NULL``).
    Every text DuckDB runs for the kinds pack is ASCII and tests no constant for NULL."""
    from . import fixture_plugin

    texts: list[str] = []
    real = plan_module.Plan.cached

    def spy(self: Any, key: Any, make: Any) -> Any:
        got = real(self, key, make)
        texts.extend(x for x in (got if isinstance(got, tuple) else (got,)) if isinstance(x, str))
        return got
    monkeypatch.setattr(plan_module.Plan, "cached", spy)
    engine = wr.Engine.load(plugins=[fixture_plugin])
    hh, pp, got = _batch(engine, 5, dataset_checks=CHECKS)
    _ = got.to_arrow(), got.member_results, got.findings  # the three queries, run
    assert len(texts) == 3  # results, members, findings
    for text in texts:
        assert text.isascii()
        assert re.search(r"(?<![\w\"'])-?\d+(\.\d+)? IS NULL", text) is None
        assert "CHR(8230)" in text  # the ellipsis of the date-range error, as CHR()
    _agrees(engine, hh, pp, got, AS_OF, dataset_checks=CHECKS)
