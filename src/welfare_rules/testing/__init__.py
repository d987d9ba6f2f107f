"""Testing tools for rule and plugin authors.

* :mod:`welfare_rules.testing.helpers` (re-exported here): :func:`plugin_engine` and
  :func:`plugins_registered` to load a plugin for one test, the record builders
  :func:`household`, :func:`person` and :func:`institution`, and :func:`assert_decision`.
* :mod:`welfare_rules.testing.strategies`: hypothesis strategies that generate valid records
  from any loaded engine's schema (import it explicitly; it needs hypothesis).
* :func:`run_rule_tests` (from :mod:`welfare_rules.testing.runner`): run YAML rule test files;
  loaded lazily, so these helpers import even where the runner is unavailable.
"""

from __future__ import annotations

from typing import Any

from .helpers import (
    DEFAULT_AS_OF,
    assert_decision,
    household,
    institution,
    make_kk,
    make_nik,
    person,
    plugin_engine,
    plugins_registered,
)

__all__ = [
    "DEFAULT_AS_OF",
    "assert_decision",
    "household",
    "institution",
    "make_kk",
    "make_nik",
    "person",
    "plugin_engine",
    "plugins_registered",
    "run_rule_tests",
]


def __getattr__(name: str) -> Any:
    # The YAML rule-test runner is imported on first use only.
    if name == "run_rule_tests":
        from .runner import run_rule_tests

        return run_rule_tests
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
