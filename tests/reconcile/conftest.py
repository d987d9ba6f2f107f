"""Fixtures for the reconciliation, reallocation, snapshot and report tests.

One synthetic city of 3,000 households (``generate_city``, deterministic) evaluated once with the
national pack by the Python reference backend; tests build their registers and quotas from it.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.demo import City, generate_city
from welfare_rules.engine import Engine
from welfare_rules.recipients.reallocate import propose_reallocation
from welfare_rules.recipients.reconcile import reconcile
from welfare_rules.recipients.snapshots import Snapshot, compare_snapshots, take_snapshot
from welfare_rules.reports import ReportFiles, write_report

SEED = 20240701
HOUSEHOLDS = 3000
CHART_IDS = ("chart-eligibility", "chart-findings", "chart-lks", "chart-changes",
             "chart-trend", "chart-map")


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


def synthetic_boundaries(names: list[str]) -> dict[str, Any]:
    """A made-up FeatureCollection: one square per kelurahan on a grid near Pekalongan (not
    the real shapes: none with a licence that allows bundling them was found)."""
    features = []
    for i, name in enumerate(names):
        x, y = 109.60 + 0.02 * (i % 6), -6.95 + 0.02 * (i // 6)
        ring = [[x, y], [x + 0.02, y], [x + 0.02, y + 0.02], [x, y + 0.02], [x, y]]
        features.append({"type": "Feature", "properties": {"nama": name},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    return {"type": "FeatureCollection", "features": features}


def kelurahan_names(city: City) -> list[str]:
    return sorted(set(city.households.column("kelurahan").to_pylist()))


def build_report(engine: Engine, city: City, snapshot: Snapshot, out: Path) -> ReportFiles:
    """What ``welfare-rules report`` does: reconcile, compare with last month, propose,
    report — with two earlier snapshots (the trend) and made-up boundaries (the map)."""
    from welfare_rules.reports.boundaries import parse_boundaries

    heads = [p for p in rows(city.persons) if p["relationship"] == "head"][:60:3]
    death = pa.table({
        "nik": [p["nik"] for p in heads], "name": [p["name"] for p in heads],
        "birth_date": pa.array([p["birth_date"] for p in heads], pa.date32()),
        "death_date": pa.array([datetime.date(2024, 6, 1)] * len(heads), pa.date32()),
        "certificate_number": [f"AK-{i}" for i in range(len(heads))]})
    rec = reconcile(engine, city.households, city.persons, registers={"death": death},
                    as_of=city.as_of)
    previous = take_snapshot(engine, city.households.slice(0, city.households.num_rows - 40),
                             city.persons, as_of=datetime.date(2024, 6, 1), backend="python")
    changes = compare_snapshots(previous, snapshot, engine=engine)
    older = take_snapshot(engine, city.households.slice(0, city.households.num_rows - 90),
                          city.persons, as_of=datetime.date(2024, 5, 1), backend="python")
    proposal = propose_reallocation(engine, snapshot, rec, members=city.persons)
    institutions = take_snapshot(engine, city.institutions, entity="institution",
                                 as_of=city.as_of, backend="python")
    return write_report(out / "laporan.html", out / "laporan.xlsx", snapshot=snapshot,
                        reconciliation=rec, institutions=institutions, changes=changes,
                        proposal=proposal, engine=engine, history=[previous, older],
                        boundaries=parse_boundaries(synthetic_boundaries(kelurahan_names(city)),
                                                    key="nama", source="synthetic squares"))


@pytest.fixture(scope="session")
def report(engine: Engine, city: City, snapshot: Snapshot,
           tmp_path_factory: pytest.TempPathFactory) -> ReportFiles:
    return build_report(engine, city, snapshot, tmp_path_factory.mktemp("report"))
