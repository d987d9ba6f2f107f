"""Edge semantics of the Polars backend held to the Python backend: the regex dialect on
Rust's engine, linear-time matching, plugin functions, and what it refuses."""

from __future__ import annotations

import datetime
from typing import Any

import polars  # noqa: F401  (a dev dependency: a broken install fails, never skips)
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from welfare_rules.expr.regex import full_match

from .test_regex import Backends

AS_OF = datetime.date(2025, 6, 1)


def _matches_engine(engine_from: Any, pattern: str) -> Any:
    quoted = pattern.replace("\\", "\\\\")
    return engine_from(f"- id: t_r\n  when: 'matches(name, \"{quoted}\")'\n",
                       extra_plugins=[Backends()])


PATTERNS = [r"\w+", r"[\d.]+", r"[^\d]*", r"\D\S\W", r"a\sb", r".*\bx\b.*", r"[\w-]+@x",
            r"(?i)straße", r"[[:alpha:]]+", r"\p{L}+", r"[]a]+", r"[^]a]+"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_the_regex_dialect_on_rusts_engine_is_re2s(engine_from: Any, pattern: str) -> None:
    """Rust's regex crate is linear time like RE2, but its \\d, \\w, \\s and \\b are Unicode;
    the pattern is rewritten so that every text matches as in Python (RE2)."""
    eng = _matches_engine(engine_from, pattern)
    texts = st.text(alphabet=st.sampled_from("ab x_-.@1٣é\u00a0\nß]SSTRAßE\t"), max_size=8)

    @settings(max_examples=25, deadline=None)
    @given(st.lists(texts, min_size=1, max_size=20))
    def agree(names: list[str]) -> None:
        table = pa.table({"id": [f"33750101010{i:05d}" for i in range(len(names))],
                          "name": names})
        expected = [full_match(s, pattern) for s in names]
        for backend in ("python", "polars"):
            res = eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend,
                                     validate=False)
            assert res.to_arrow().column("t_r").to_pylist() == expected, backend

    agree()


def test_a_redos_pattern_finishes_on_polars(engine_from: Any) -> None:
    eng = _matches_engine(engine_from, "(a+)+$")
    table = pa.table({"id": ["3375010101010001"], "name": ["a" * 5000 + "!"]})
    res = eng.evaluate_batch("household", table, as_of=AS_OF, backend="polars")
    assert res.to_arrow().column("t_r").to_pylist() == [False]


def test_a_plugin_function_runs_through_its_python_version(engine_from: Any) -> None:
    from welfare_rules.expr.functions import Function, simple_signature
    from welfare_rules.hookspecs import hookimpl

    class Funcs:
        PLUGIN_NAME = "t-funcs"

        @hookimpl
        def register_functions(self, register: Any) -> None:
            register(Function("shout", "shout(str) -> str", simple_signature(["text"], "str"),
                              lambda s: s.upper() + "!"))

    eng = engine_from("- id: t_r\n  value: shout(name)\n", extra_plugins=[Backends(), Funcs()])
    table = pa.table({"id": ["3375010101010001", "3375010101010002"], "name": ["ab", None]})
    res = eng.evaluate_batch("household", table, as_of=AS_OF, backend="polars")
    assert res.to_arrow().column("t_r").to_pylist() == ["AB!", None]


def test_a_plugin_function_in_an_if_chain_runs_once_a_row_per_call(engine_from: Any) -> None:
    """Each test of an ``if`` chain is read again by the reach of every later branch; a plugin
    function in the tests is computed once per row and call, not once per copy (a four-branch
    chain was 2,506 Python calls a row, and an unshared test read a column not yet made)."""
    from welfare_rules.expr.functions import Function, simple_signature
    from welfare_rules.hookspecs import hookimpl

    calls: list[str] = []

    def norm(s: str) -> str:
        calls.append(s)
        return s.strip().upper()

    class Funcs:
        PLUGIN_NAME = "t-funcs"

        @hookimpl
        def register_functions(self, register: Any) -> None:
            register(Function("norm", "norm(str) -> str", simple_signature(["text"], "str"),
                              norm))

    chain = " else ".join(f'"{v}" if norm(name) == "{v}"' for v in ("A", "B", "C", "D"))
    eng = engine_from(f"- id: t_r\n  value: '{chain} else None'\n",
                      extra_plugins=[Backends(), Funcs()])
    names = ["a", " b", "c ", "d", "e", None, "B"] * 30
    table = pa.table({"id": [f"33750101010{i:05d}" for i in range(len(names))], "name": names})
    expected = eng.evaluate_batch("household", table, as_of=AS_OF, backend="python",
                                  validate=False).to_arrow().column("t_r").to_pylist()
    calls.clear()
    res = eng.evaluate_batch("household", table, as_of=AS_OF, backend="polars", validate=False)
    assert res.to_arrow().column("t_r").to_pylist() == expected
    assert expected[:7] == ["A", "B", "C", "D", None, None, "B"]
    # four call sites, each reached by the rows the earlier tests did not decide
    assert 0 < len(calls) <= 4 * len(names), len(calls)
