"""The pytest plugin (entry point ``pytest11``): YAML rule tests as pytest items.

Files named ``test_*.yaml`` (or ``*_test.yaml``) inside pytest's test paths are collected; each
case is an item named after the case, and a failure prints the case and the differing values
instead of a traceback. Fixtures ``welfare_engine`` (the national engine) is provided too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .runner import CaseResult, EngineCache, RuleTestCase, load_cases, run_case

_ENGINES = EngineCache()


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    name = file_path.name
    if file_path.suffix in (".yaml", ".yml") and (name.startswith("test_") or
                                                   file_path.stem.endswith("_test")):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


class RuleTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        for case in load_cases(self.path):
            yield RuleTestItem.from_parent(self, name=case.name, case=case)


class RuleTestFailure(Exception):
    def __init__(self, result: CaseResult):
        self.result = result
        super().__init__(result.report())


class RuleTestItem(pytest.Item):
    def __init__(self, *, case: RuleTestCase, **kwargs: Any):
        super().__init__(**kwargs)
        self.case = case

    def runtest(self) -> None:
        result = run_case(self.case, _ENGINES)
        if not result.passed:
            raise RuleTestFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, RuleTestFailure):
            return excinfo.value.result.report()
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        line = (self.case.location.line or 1) - 1
        return self.path, line, f"rule test: {self.case.name}"


@pytest.fixture(scope="session")
def welfare_engine() -> Any:
    """The engine with the national pack, loaded once per test session."""
    from ..engine import Engine

    return Engine.load()
