"""Fixtures for the reconciliation, reallocation, snapshot and report tests.

One synthetic city of 3,000 households (``generate_city``, deterministic) evaluated once with the
national pack by the Python reference backend; tests build their registers and quotas from it.
"""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.demo import City, generate_city
from welfare_rules.engine import Engine
from welfare_rules.snapshots import Snapshot, take_snapshot

SEED = 20240701
HOUSEHOLDS = 3000


@pytest.fixture(scope="session")
def city() -> City:
    return generate_city(HOUSEHOLDS, seed=SEED)


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine.load()


@pytest.fixture(scope="session")
def snapshot(engine: Engine, city: City) -> Snapshot:
    return take_snapshot(engine, city.households, city.persons, as_of=city.as_of,
                         backend="python")


def rows(table: pa.Table) -> list[dict[str, Any]]:
    return table.to_pylist()


def recipients(city: City) -> set[str]:
    """Ids of households receiving any programme."""
    return {h["id"] for h in rows(city.households)
            if h["receives_pkh"] or h["receives_bpnt"] or h["receives_pbi"]}


def as_of(city: City) -> datetime.date:
    return city.as_of
