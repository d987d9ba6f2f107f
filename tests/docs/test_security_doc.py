"""docs/security.md states the threat model, every limit with the value the code enforces, and
how masking works and how to unmask: the values are read from the code, so the page cannot
drift from it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from welfare_rules import _yaml, bounds, types

parse = importlib.import_module("welfare_rules.expr.parse")  # the package exports parse()

DOC = Path(__file__).resolve().parents[2] / "docs" / "security.md"


@pytest.fixture(scope="module")
def text() -> str:
    return DOC.read_text(encoding="utf-8")


def test_the_page_has_the_threat_model_limits_and_masking(text: str) -> None:
    for heading in ("## Threat model", "## Limits and their values", "## Masking of NIK",
                    "### Dates", "## Spreadsheet-safe outputs"):
        assert heading in text
    for who in ("developers", "data chain", "officials"):
        assert who in text
    assert "unmask=True" in text
    assert "--unmask" in text


@pytest.mark.parametrize(("name", "value"), [
    ("_yaml.MAX_FILE_BYTES", _yaml.MAX_FILE_BYTES),
    ("_yaml.MAX_NESTING", _yaml.MAX_NESTING),
    ("MAX_OPEN_BRACKETS", _yaml.MAX_OPEN_BRACKETS),
    ("expr.parse.MAX_LENGTH", parse.MAX_LENGTH),
    ("expr.parse.MAX_DEPTH", parse.MAX_DEPTH),
    ("bounds.MAX_TEXT", bounds.MAX_TEXT),
    ("FIELD_TEXT", bounds.FIELD_TEXT),
    ("bounds.MAX_RULE_DEPTH", bounds.MAX_RULE_DEPTH),
    ("types.TEXT_MAX", types.TEXT_MAX),
])
def test_every_limit_is_documented_with_its_value(text: str, name: str, value: int) -> None:
    assert name in text
    assert f"{value:,}" in text or str(value) in text, (name, value)


def test_the_date_range_is_documented(text: str) -> None:
    assert f"{types.DATE_MIN.isoformat()} … {types.DATE_MAX.isoformat()}" in text
