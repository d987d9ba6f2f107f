"""cli_kit.guarded: every error is one masked line on stderr and exit code 2."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from welfare_rules.cli_kit import guarded

NIK = "3375010101010002"


@pytest.mark.parametrize("exc", [
    ValueError(f"Could not convert '{NIK}' to INT32"),
    KeyError(NIK),
    RuntimeError(f"conversion failed at {NIK}"),
    FileNotFoundError(f"no such file: /data/{NIK}.csv"),
])
def test_a_non_library_error_is_printed_masked(exc: Exception,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WELFARE_RULES_DEBUG", raising=False)

    @click.command()
    @guarded
    def boom() -> None:
        raise exc

    result = CliRunner().invoke(boom, [])
    assert result.exit_code == 2
    assert NIK not in result.output
    assert "3375" in result.output  # masked, not dropped
