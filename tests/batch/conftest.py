"""Fixtures of the batch tests: engines (national pack, rule-kind fixtures); the local
SparkSession ``spark`` is the one of ``tests/conftest.py``, shared by every directory.

A test that takes a ``backend`` argument runs once per registered backend other than the
Python reference (the built-in ones and those of ``backend_plugin``, a plugin written for the
tests), ibis-style: a new backend registered there is held to the same tests unchanged. Spark
runs are marked ``spark``.
"""

from __future__ import annotations

import pytest

import welfare_rules as wr
from welfare_rules.plugins import backend_names

from . import backend_plugin, fixture_plugin

#: every backend the differential suite holds to the Python reference
BACKENDS = [n for n in backend_names([backend_plugin]) if n != "python"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        metafunc.parametrize("backend", [pytest.param(n, marks=pytest.mark.spark)
                                         if n == "spark" else n for n in BACKENDS])


@pytest.fixture(scope="session")
def national() -> wr.Engine:
    return wr.Engine.load()


@pytest.fixture(scope="session")
def kinds() -> wr.Engine:
    """The national pack plus rulesets covering every rule kind and hit policy."""
    return wr.Engine.load(plugins=[fixture_plugin])

