"""``wr.impact`` on Spark equals DuckDB's, totals and changes."""

from __future__ import annotations

from typing import Any

import pytest

import welfare_rules as wr
from welfare_rules.demo import City
from welfare_rules.impact import impact


@pytest.mark.spark
def test_impact_on_spark_equals_duckdb(base: wr.Engine, reformed: wr.Engine, city: City,
                                       spark: Any) -> None:
    kw: dict[str, Any] = {"members": city.persons, "as_of": city.as_of}
    duck = impact(base, reformed, city.households, **kw)
    sp = impact(base, reformed, city.households, backend="spark", spark=spark, **kw)
    assert sp.totals.equals(duck.totals)
    assert sp.by("kelurahan").equals(duck.by("kelurahan"))
    assert sp.changes.to_pylist() == duck.changes.to_pylist()
