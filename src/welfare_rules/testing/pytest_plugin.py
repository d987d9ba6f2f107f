"""The pytest plugin (entry point ``pytest11``): YAML rule tests as pytest items.

Files named ``test_*.yaml`` (or ``*_test.yaml``) inside pytest's test paths are collected; each
case is an item named after the case, run under the plugins its file declares (or, when it
declares none, the installed plugin that registers the file), and a failure prints the case and
the differing values instead of a traceback. The fixture ``welfare_engine`` (the national
engine) is provided too.

``--rules-coverage`` prints, at the end of the run, which criteria, decision-table rows and
ladder levels the YAML cases exercised, per ruleset (:mod:`welfare_rules.testing.coverage`);
``--rules-coverage-fail-under N`` fails the run below N percent. Both work under pytest-xdist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .coverage import RuleCoverage
from .runner import CaseResult, EngineCache, RuleTestCase, load_cases, plugins_registering, run_case

_ENGINES = EngineCache()
_COVERAGE = pytest.StashKey[RuleCoverage]()
_WORKER_KEY = "welfare_rules_coverage"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("welfare-rules")
    group.addoption("--rules-coverage", action="store_true", default=False,
                    help="Report which criteria, table rows and ladder levels the YAML rule "
                         "tests exercised, per ruleset.")
    group.addoption("--rules-coverage-fail-under", type=float, default=None, metavar="N",
                    help="Fail the run when rule coverage is below N percent.")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("rules_coverage") or \
            config.getoption("rules_coverage_fail_under") is not None:
        config.stash[_COVERAGE] = RuleCoverage()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist, on the controller: merge what a worker collected."""
    cov = node.config.stash.get(_COVERAGE, None)
    data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if cov is not None and data:
        cov.merge(json.loads(data))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    cov = session.config.stash.get(_COVERAGE, None)
    if cov is None:
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:  # an xdist worker: hand the data to the controller
        workeroutput[_WORKER_KEY] = json.dumps(cov.to_data())
        return
    under = session.config.getoption("rules_coverage_fail_under")
    if under is not None and cov.universe and cov.report().percent < under:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config
                            ) -> None:
    cov = config.stash.get(_COVERAGE, None)
    if cov is None or hasattr(config, "workeroutput"):
        return
    rep = cov.report()
    terminalreporter.section("welfare-rules rule coverage")
    terminalreporter.write_line(rep.render() if cov.universe else
                                "no YAML rule test case ran")
    under = config.getoption("rules_coverage_fail_under")
    if under is not None and cov.universe and rep.percent < under:
        terminalreporter.write_line(f"FAIL: rule coverage {rep.percent:.1f}% is under "
                                    f"{under:g}%")


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    name = file_path.name
    if file_path.suffix in (".yaml", ".yml") and (name.startswith("test_") or
                                                   file_path.stem.endswith("_test")):
        return RuleTestFile.from_parent(parent, path=file_path)
    return None


class RuleTestFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        # a file that declares no plugins runs under the installed plugin that registers it
        for case in load_cases(self.path, plugins_registering(self.path)):
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
        cov = self.config.stash.get(_COVERAGE, None)
        result = run_case(self.case, _ENGINES, cov.observe if cov is not None else None)
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
