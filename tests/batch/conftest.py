"""Fixtures of the batch tests: engines (national pack, rule-kind fixtures) and one local
SparkSession for the whole test session (its start-up is slow)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

import welfare_rules as wr

from . import fixture_plugin


@pytest.fixture(scope="session")
def national() -> wr.Engine:
    return wr.Engine.load()


@pytest.fixture(scope="session")
def kinds() -> wr.Engine:
    """The national pack plus rulesets covering every rule kind and hit policy."""
    return wr.Engine.load(plugins=[fixture_plugin])


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    pytest.importorskip("pyspark")
    from welfare_rules.backends.spark import local_session

    session = local_session("welfare-rules-tests")
    yield session
    session.stop()
