"""Parameters are typed: overrides are converted to the declared type or refused; NaN and
infinities are refused everywhere; decimals have a declared precision (docs/security.md)."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from click.testing import CliRunner

from welfare_rules import types as t
from welfare_rules.cli import main
from welfare_rules.errors import ErrorGroup, ParameterError

AS_OF = datetime.date(2024, 1, 1)
RULES = """
- id: t_ok
  when: x <= param.t.max_x
- id: t_scaled
  value: amount * param.t.rate
"""
PARAMS = """
max_x:
  type: int
  values: {2020-01-01: 4}
rate:
  type: decimal
  values: {2020-01-01: 1.5}
"""
HUGE_DECIMAL = "1" * 400 + ".5"


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 3.5, "4.5", True, "many",
                                   2**63, [1]])
def test_a_bad_override_of_an_integer_parameter_is_refused(engine_from: Any, value: Any) -> None:
    with pytest.raises(ParameterError, match=r"parameter 't\.max_x' is int; the override is "
                                             r"refused"):
        engine_from(RULES, params=PARAMS, parameters={"t.max_x": value})


@pytest.mark.parametrize(("value", "expected"), [(3.0, 3), ("3", 3), (3, 3)])
def test_an_integral_override_is_converted_to_int(engine_from: Any, value: Any,
                                                  expected: int) -> None:
    eng = engine_from(RULES, params=PARAMS, parameters={"t.max_x": value})
    got = eng.parameters["t.max_x"].values[0][1]
    assert (expected, int) == (got, type(got))


@pytest.mark.parametrize("value", [math.nan, math.inf, HUGE_DECIMAL, "nan", "-inf",
                                   "0.12345678901234567"])
def test_a_bad_override_of_a_decimal_parameter_is_refused(engine_from: Any, value: Any) -> None:
    with pytest.raises(ParameterError, match=r"'t\.rate' is decimal; the override is refused"):
        engine_from(RULES, params=PARAMS, parameters={"t.rate": value})


def test_a_400_digit_decimal_is_refused_not_read_as_infinity(engine_from: Any) -> None:
    with pytest.raises(ParameterError, match="more than 15 significant digits"):
        engine_from(RULES, params=PARAMS, parameters={"t.rate": HUGE_DECIMAL})
    errors = _load_errors(engine_from, PARAMS.replace("1.5}", HUGE_DECIMAL + "}"))
    assert "is out of the range of 64-bit decimals" in str(errors[0])
    assert "t.yaml:" in str(errors[0])


@pytest.mark.parametrize("text", [".nan", ".inf", "-.inf"])
def test_nan_and_infinity_in_a_parameter_file_are_located_errors(engine_from: Any,
                                                                 text: str) -> None:
    errors = _load_errors(engine_from, PARAMS.replace("1.5}", text + "}"))
    assert "t.yaml:" in str(errors[0])
    assert "not finite" in str(errors[0])


def test_a_float_value_for_a_declared_integer_parameter_is_refused(engine_from: Any) -> None:
    errors = _load_errors(engine_from, PARAMS.replace("{2020-01-01: 4}", "{2020-01-01: 4.5}"))
    assert "expected an integer" in str(errors[0])


def _load_errors(engine_from: Any, params: str) -> list[Any]:
    with pytest.raises(ErrorGroup) as info:
        engine_from(RULES, params=params)
    return info.value.errors


@pytest.mark.parametrize("setting", ["pkh.max_desil=nan", "pkh.max_desil=.nan",
                                     "pkh.max_desil=3.5", "pkh.max_desil=1e999"])
def test_the_cli_refuses_a_set_that_is_not_of_the_declared_type(tmp_path: Any,
                                                                setting: str) -> None:
    data = tmp_path / "h.csv"
    data.write_text("id,desil\n3375010101010001,2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["diff", str(data), "--set", setting,
                                       "--rule", "pkh_eligible"])
    assert 2 == result.exit_code, result.output
    assert "Traceback" not in result.output
    assert "pkh.max_desil" in result.output


def test_convert_keeps_values_of_the_right_type() -> None:
    assert 2.0 == t.convert(2, t.DECIMAL)
    assert datetime.date(2024, 1, 2) == t.convert("2024-01-02", t.DATE)
    assert [1, 2] == t.convert([1, 2.0], t.list_of(t.INT))
    assert "a" == t.convert("a", t.STR)
