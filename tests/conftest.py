"""Fixtures shared by every test directory.

``spark``: one local SparkSession per test process (per pytest-xdist worker), started the first
time a test asks for it and shared by every Spark test after that. Starting one takes 10-20 s of
JVM and context start-up, and each directory (and some modules) used to start and stop its own:
``tests/batch``, ``tests/impact``, ``tests/core/test_edges.py`` and ``tests/core/test_bounds.py``.
A test that needs other SQL settings takes ``spark.newSession()`` (its own SQL settings, the same
JVM and SparkContext) instead of changing the shared session's. Every test marked ``spark``
runs on one worker (``pytest_xdist_make_scheduler``): one JVM for the run instead of one per
worker, warmed up once, and no second JVM competing with the two workers for CI's two cores.

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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A Spark test says so in its id, which is all the xdist scheduler sees of it
    (:func:`pytest_xdist_make_scheduler`)."""
    for item in items:
        if item.get_closest_marker("spark") is not None and "spark" not in item.nodeid:
            raise pytest.UsageError(f"{item.nodeid} is marked spark but its id does not say "
                                    "spark: name it so, or it runs beside the Spark worker")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Every Spark test on one worker, the others spread as ``--dist load`` spreads them.

    One JVM for the run instead of one per worker, warmed up once, and no second JVM taking
    CI's two cores from the workers. ``xdist_group`` would say this, but pytest-xdist 3.8 on
    pytest 9.2 drops the groups silently (docs/testing.md), so the scheduler is xdist's own
    load-scope one with a scope of one test, but for the Spark tests (by id: the hook above
    makes sure a Spark test's id says so), which are one scope.
    """
    from xdist.scheduler import LoadScopeScheduling

    class SparkOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:  # xdist's hook for a scope
            return "spark" if "spark" in nodeid else nodeid

    return SparkOnOneWorker(config, log)


#: the Spark tests' driver JVM compiles with C1 only: they are hundreds of short queries over a
#: few rows, and C2 (the optimizing JIT) took a core of its own compiling Catalyst's code
#: while the other worker needed it (docs/testing.md, session 12). C1's code fills the 48 MB
#: code cache it gets by default within a minute of these queries, after which the JVM
#: compiles nothing more ("CodeCache is full. Compiler has been disabled"): 256 MB instead.
JIT = ("-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=256m")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The local SparkSession of :func:`welfare_rules.backends.spark.local_session`, once per
    test process."""
    import pyspark  # noqa: F401  (a dev dependency: a broken install fails, never skips)

    from welfare_rules.backends.spark import local_session

    session = local_session("welfare-rules-tests", java_options=JIT)
    yield session
    session.stop()

