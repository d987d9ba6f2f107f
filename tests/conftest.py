"""Fixtures shared by every test directory.

``spark``: one local SparkSession per test process (per pytest-xdist worker), started the first
time a test asks for it and shared by every Spark test after that. Starting one takes 10-20 s of
JVM and context start-up, and each directory (and some modules) used to start and stop its own:
``tests/batch``, ``tests/impact``, ``tests/core/test_edges.py`` and ``tests/core/test_bounds.py``.
A test that needs other SQL settings takes ``spark.newSession()`` (its own SQL settings, the same
JVM and SparkContext) instead of changing the shared session's.

Hypothesis runs without its per-example deadline (200 ms by default): a deadline is a timing
asserted in a test, and on a loaded two-core CI machine it failed examples that were only slow
(docs/testing.md). Speed is measured by ``benchmarks/``, never by a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings

settings.register_profile("welfare-rules", deadline=None, print_blob=True)
settings.load_profile("welfare-rules")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The local SparkSession of :func:`welfare_rules.backends.spark.local_session`, once per
    test process."""
    import pyspark  # noqa: F401  (a dev dependency: a broken install fails, never skips)

    from welfare_rules.backends.spark import local_session

    session = local_session("welfare-rules-tests")
    yield session
    session.stop()

