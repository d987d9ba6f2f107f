"""Integer literals of the rule language span exactly int64: the sign is folded first, so the
smallest int64 can be written, and one past either end is a located error."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from welfare_rules import types as t
from welfare_rules.errors import ExpressionSyntaxError
from welfare_rules.expr import nodes as n
from welfare_rules.expr.parse import parse


@pytest.mark.parametrize(("text", "value"), [
    ("-9223372036854775808", t.INT64_MIN),
    ("9223372036854775807", t.INT64_MAX),
    ("- 9223372036854775807", -t.INT64_MAX),
    ("--9223372036854775807", t.INT64_MAX),
    ("-(-5)", 5),
])
def test_the_int64_range_can_be_written(text: str, value: int) -> None:
    node = parse(text)
    assert isinstance(node, n.Literal)
    assert node.value == value
    assert type(node.value) is int


@pytest.mark.parametrize(("text", "message"), [
    ("9223372036854775808", "larger than 2\\*\\*63 - 1"),
    ("-9223372036854775809", "smaller than -2\\*\\*63"),
    ("--9223372036854775808", "larger than 2\\*\\*63 - 1"),
    ("x + -9223372036854775809", "smaller than -2\\*\\*63"),
])
def test_one_past_the_int64_range_is_refused(text: str, message: str) -> None:
    with pytest.raises(ExpressionSyntaxError, match=message):
        parse(text)


def test_a_rule_compares_with_the_smallest_int64(engine_from: Any) -> None:
    eng = engine_from("- id: t_min\n  when: x == -9223372036854775808\n")
    rec = {"id": "3375010101010001", "x": t.INT64_MIN, "members": []}
    assert eng.evaluate("household", rec, as_of=datetime.date(2024, 1, 1)).value("t_min")


def test_the_bounds_are_defined_once() -> None:
    import importlib

    from welfare_rules.adapters import _parse

    parse_module = importlib.import_module("welfare_rules.expr.parse")

    assert parse_module.INT64_MIN is t.INT64_MIN
    assert _parse.INT64_MAX is t.INT64_MAX  # type: ignore[attr-defined]
