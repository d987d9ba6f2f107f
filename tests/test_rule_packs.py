"""Every YAML rule test registered by the loaded plugins passes (national pack included).

Each case is its own pytest item, named after the case, so a failure names the case and shows
the differing values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules import Engine
from welfare_rules.testing.runner import EngineCache, iter_case_files, load_cases, run_case

_ENGINES = EngineCache()


def _cases() -> list[object]:
    engine = Engine.load()
    out = []
    for path, plugin in engine.rule_tests:
        for f in iter_case_files(path):
            for case in load_cases(f):
                out.append(pytest.param(case, id=f"{plugin}/{Path(f).name}: {case.name}"))
    return out


@pytest.mark.parametrize("case", _cases())
def test_registered_rule_case(case: object) -> None:
    result = run_case(case, _ENGINES)  # type: ignore[arg-type]
    assert result.passed, result.report()
