"""Numbers are formatted for people in one place, wording.number (Babel), review #37: the table
cells of the CLI and notebooks, the figures of charts and impact, and the report's Formatter
all go through it, none with its own ``{v:,}``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import welfare_rules
from welfare_rules import formatting, wording
from welfare_rules.reports.formatting import Formatter

SRC = Path(welfare_rules.__file__).parent
HELPERS = ("formatting.py", "display.py", "cli_kit.py", "reports/formatting.py")


@pytest.mark.parametrize("module", HELPERS)
def test_the_number_helpers_have_no_format_of_their_own(module: str) -> None:
    tree = ast.parse((SRC / module).read_text(encoding="utf-8"))
    specs = [ast.unparse(n.format_spec) for n in ast.walk(tree)
             if isinstance(n, ast.FormattedValue) and n.format_spec is not None]
    assert [s for s in specs if "," in s] == []
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                and (n.module or "").startswith("babel.numbers") for a in n.names}
    assert "format_decimal" not in imported


@given(st.integers(-10**12, 10**12) | st.floats(-1e9, 1e9, allow_nan=False))
def test_cells_figures_and_the_report_say_a_number_as_wording_does(v: float) -> None:
    decimals = 0 if isinstance(v, int) else 2
    assert formatting.cell(v) == wording.number(v, "en", decimals=decimals)
    assert Formatter("id_ID").number(v, 2) == wording.number(v, "id", decimals=decimals)
    assert Formatter("en_US").number(v) == wording.number(v, "en_US", decimals=0)
