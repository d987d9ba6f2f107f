"""An integer compared with a decimal is compared as doubles on every backend (review 2 #28):
SQL and Polars convert the integer, so Python does too — past 2**53 the integer equals the
double it rounds to (``x * 1.0 == x`` is true for x = 2**53 + 1, where Python's exact
comparison said false). docs/architecture.md, "Semantics at the edges"."""

from __future__ import annotations

from typing import Any

import pytest

from .test_edges import AS_OF, OTHERS, _agree

RULES = """\
- id: e_eq
  when: x * 1.0 == x
- id: e_lt
  when: x < amount
- id: e_ne
  when: amount != y
"""
MEMBER_RULE = """\
- id: e_member_eq
  when: any(members, age * 1.0 == age)
"""


@pytest.fixture
def engine(engine_from: Any) -> Any:
    from .test_regex import Backends

    return engine_from(RULES, extra_plugins=[Backends()])


def _row(x: int, y: int, amount: float) -> dict[str, Any]:
    return {"id": "3375000000000001", "x": x, "y": y, "amount": amount, "seen": None,
            "name": None}


def test_evaluate_compares_an_integer_with_a_decimal_as_doubles(engine_from: Any) -> None:
    engine = engine_from(RULES + MEMBER_RULE)
    big = 2**53 + 1
    d = engine.evaluate("household", {**_row(big, big, float(big)),
                                      "members": [{"nik": "3375000000000002", "age": big}]},
                        as_of=AS_OF)
    assert [d.value(r) for r in ("e_eq", "e_lt", "e_ne", "e_member_eq")] == [
        True, False, False, True]


@pytest.mark.parametrize("backend", OTHERS)
def test_every_backend_compares_an_integer_with_a_decimal_as_doubles(
        engine: Any, backend: str, request: pytest.FixtureRequest) -> None:
    big = 2**53 + 1
    _agree(engine, backend, [_row(big, big, float(big)), _row(2**62 + 1, 3, 2.0**62)],
           request)
