"""Well-typed rule expressions, generated: the rule language's operators and built-in functions
over the edge fields of ``test_edges`` (``x``, ``y``: int, ``amount``: decimal, ``seen``: date,
``name``: text), with literals at the edges of each type (the 64-bit bounds, ``1e300``,
``5e-324``, ``-0.0``, the ends of the date range, accented and empty texts).

``expressions(kind)`` draws the text of an expression of that kind (``int``, ``decimal``,
``bool``, ``date``, ``str``); every operator is parenthesised, so the text needs no precedence.
The trees stay small (a few operators), well within what every backend compiles
(``sql.MAX_EVALUATED``). ``test_generated_rules`` holds every backend to Python on them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from hypothesis import strategies as st

Strategy = st.SearchStrategy[str]

INT_LITERALS = ["0", "1", "-1", "2", "3", "7", "60", "2147483648", "4611686018427387904",
                "9223372036854775807", "-9223372036854775808"]
DECIMAL_LITERALS = ["0.5", "-0.0", "0.1", "2.5", "36.5", "1e300", "5e-324", "-1.5"]
DATE_LITERALS = ["as_of", 'date("2024-02-29")', 'date("0001-01-01")', 'date("9999-12-31")']
TEXT_LITERALS = ['""', '"José"', '"a"', '"12"', '" 7 "']
FIELDS = {"int": ["x", "y"], "decimal": ["amount"], "date": ["seen"], "str": ["name"]}


def _leaf(kind: str) -> Strategy:
    literals = {"int": INT_LITERALS, "decimal": DECIMAL_LITERALS, "date": DATE_LITERALS,
                "str": TEXT_LITERALS}.get(kind, ["True", "False"])
    return st.sampled_from(FIELDS.get(kind, []) * 3 + literals)


def _call(name: str, *args: Strategy) -> Strategy:
    return st.tuples(*args).map(lambda a: f"{name}({', '.join(a)})")


def _binary(op: str, a: Strategy, b: Strategy) -> Strategy:
    return st.tuples(a, b).map(lambda p: f"({p[0]} {op} {p[1]})")


def _choice(c: Strategy, a: Strategy, b: Strategy) -> Strategy:
    return st.tuples(a, c, b).map(lambda p: f"({p[0]} if {p[1]} else {p[2]})")


@functools.cache
def expressions(kind: str, depth: int = 3) -> Strategy:
    """The text of a well-typed expression of ``kind``, at most ``depth`` operators deep."""
    if depth <= 0:
        return _leaf(kind)
    sub: Callable[[str], Strategy] = lambda k: expressions(k, depth - 1)  # noqa: E731
    i, d, b, dt, s = sub("int"), sub("decimal"), sub("bool"), sub("date"), sub("str")
    number = st.one_of(i, d)
    options: list[Strategy]
    if kind == "int":
        options = [*(_binary(op, i, i) for op in ("+", "-", "*", "//", "%")),
                   i.map(lambda a: f"(-{a})"), _call("abs", i), _choice(b, i, i),
                   _call("coalesce", i, i), _call("least", i, i), _call("greatest", i, i),
                   _call("len", s), _call("year", dt), _call("days_between", dt, dt),
                   _call("years_between", dt, dt), _call("months_between", dt, dt),
                   _call("floor", d), _call("ceil", d), _call("to_int", s),
                   _call("count_true", b, b)]
    elif kind == "decimal":
        options = [*(_binary(op, d, number) for op in ("+", "-", "*", "/", "//", "%")),
                   _binary("/", i, i), _call("abs", d), _call("round", d),
                   st.tuples(d, st.sampled_from(["0", "1", "-1", "2"])).map(
                       lambda p: f"round({p[0]}, {p[1]})"),
                   _choice(b, d, d), _call("coalesce", d, d), _call("least", d, d)]
    elif kind == "bool":
        cmp = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
        options = [st.tuples(a, cmp, c).map(lambda p: f"({p[0]} {p[1]} {p[2]})")
                   for a, c in ((i, i), (d, number), (i, d), (dt, dt))]
        options += [_binary("==", s, s), _binary("and", b, b), _binary("or", b, b),
                    b.map(lambda a: f"(not {a})"),
                    st.one_of(i, d, s, dt).map(lambda a: f"is_missing({a})"),
                    st.tuples(i, i).map(lambda p: f"({p[0]} in [{p[1]}, 7, -1])"),
                    _call("startswith", s, s), _call("is_valid_date", i, i, i)]
    elif kind == "date":
        options = [_call("add_days", dt, i), _call("add_months", dt, i),
                   _call("add_years", dt, i), _choice(b, dt, dt), _call("coalesce", dt, dt)]
    else:
        options = [_binary("+", s, s), _call("substr", s, i, i), _choice(b, s, s)]
    return st.one_of(_leaf(kind), *options)


def rules(draw_kind: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """The body of one rule (``value:`` or ``when:`` and its quoted expression)."""
    kinds = draw_kind or st.sampled_from(["int", "decimal", "bool", "date", "str"])
    return kinds.flatmap(lambda k: expressions(k).map(
        lambda e: f"{'when' if k == 'bool' else 'value'}: '{e}'"))
