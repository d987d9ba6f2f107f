"""``wr.impact``: totals equal what two separate batch evaluations give, with and without
weights, on every backend; per-group totals add up; changes say why."""

from __future__ import annotations

import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

import welfare_rules as wr
from welfare_rules.demo import City, generate_city
from welfare_rules.errors import DataError, EvaluationError
from welfare_rules.impact import TOTAL_COLUMNS, impact

PROGRAMMES = {"pkh": ("pkh_eligible", "pkh_benefit_year", 1),
              "bpnt": ("bpnt_eligible", "bpnt_benefit_month", 12),
              "pbi": ("pbi_eligible", None, 1)}


def direct_totals(base: wr.Engine, reform: wr.Engine, city: City,
                  weights: list[float] | None = None) -> dict[str, dict[str, Any]]:
    """The totals computed by hand from two evaluate_batch results."""
    ra = base.evaluate_batch("household", city.households, members=city.persons,
                             as_of=city.as_of).to_arrow().to_pylist()
    rb = reform.evaluate_batch("household", city.households, members=city.persons,
                               as_of=city.as_of).to_arrow().to_pylist()
    ids = city.households.column("id").to_pylist()
    wmap = dict(zip(ids, weights, strict=True)) if weights is not None else {}
    out: dict[str, dict[str, Any]] = {}
    for pid, (elig, benefit, factor) in PROGRAMMES.items():
        tot = dict.fromkeys(TOTAL_COLUMNS[1:], 0)
        for a, b in zip(ra, rb, strict=True):
            assert a["id"] == b["id"]
            w = wmap.get(a["id"], 1)
            ea, eb = a[elig] is True, b[elig] is True
            tot["households"] += w
            tot["eligible_before"] += w * ea
            tot["eligible_after"] += w * eb
            tot["gainers"] += w * (eb and not ea)
            tot["losers"] += w * (ea and not eb)
            tot["unknown_before"] += w * (a[elig + "__status"] == "unknown")
            tot["unknown_after"] += w * (b[elig + "__status"] == "unknown")
            if benefit:
                tot["cost_before"] += w * ea * (a[benefit] or 0) * factor
                tot["cost_after"] += w * eb * (b[benefit] or 0) * factor
        if benefit is None:
            tot["cost_before"] = tot["cost_after"] = None
        out[pid] = tot
    return out


def as_dict(totals: pa.Table) -> dict[str, dict[str, Any]]:
    return {r.pop("programme"): r for r in totals.to_pylist()}


def close(a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]) -> None:
    assert a.keys() == b.keys()
    for pid in a:
        for k, v in a[pid].items():
            if v is None or b[pid][k] is None:
                assert (v, b[pid][k]) == (None, None), (pid, k)
            else:
                assert b[pid][k] == pytest.approx(v, rel=1e-9), (pid, k)


@pytest.mark.parametrize("backend", ["duckdb", "python", "polars"])  # polars: a plugin's
def test_totals_equal_two_batch_evaluations(base: wr.Engine, reformed: wr.Engine, city: City,
                                            backend: str) -> None:
    res = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of,
                 backend=backend)
    assert as_dict(res.totals) == direct_totals(base, reformed, city)
    t = as_dict(res.totals)
    assert t["pkh"]["gainers"] > 0
    assert t["pkh"]["cost_after"] > t["pkh"]["cost_before"]
    assert t["bpnt"]["cost_after"] == t["bpnt"]["eligible_after"] * 250000 * 12 or \
        t["bpnt"]["eligible_after"] == 0


@pytest.mark.parametrize("seed", [3, 7])
def test_weighted_totals_equal_weighted_sums(base: wr.Engine, reformed: wr.Engine,
                                             seed: int) -> None:
    import random

    city = generate_city(300, seed=seed, missing_rate=0.1)
    rng = random.Random(seed)
    weights = [round(rng.uniform(0, 40), 3) for _ in range(city.households.num_rows)]
    hh = city.households.append_column("w", pa.array(weights))
    res = impact(base, reformed, hh, members=city.persons, as_of=city.as_of, weights="w")
    close(direct_totals(base, reformed, city, weights), as_dict(res.totals))


def test_weights_scale_every_total(base: wr.Engine, reformed: wr.Engine, city: City) -> None:
    plain = as_dict(impact(base, reformed, city.households, members=city.persons,
                           as_of=city.as_of).totals)
    hh = city.households.append_column("w", pa.array([2.5] * city.households.num_rows))
    weighted = as_dict(impact(base, reformed, hh, members=city.persons, as_of=city.as_of,
                              weights="w").totals)
    close({p: {k: None if v is None else v * 2.5 for k, v in r.items()}
           for p, r in plain.items()}, weighted)


def test_groups_add_up_to_the_totals(base: wr.Engine, reformed: wr.Engine, city: City) -> None:
    res = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of)
    totals = as_dict(res.totals)
    for group in ("kecamatan", "kelurahan", "desil"):
        per = res.by(group)
        for pid, tot in totals.items():
            rows = per.filter(pc.equal(per.column("programme"), pid)).to_pylist()
            for k in ("households", "eligible_before", "gainers", "losers", "unknown_after"):
                assert sum(r[k] for r in rows) == tot[k], (group, pid, k)
    with pytest.raises(DataError, match="cannot group the impact by 'rt'"):
        res.by("rt")


def test_changes_list_the_households_and_why(base: wr.Engine, reformed: wr.Engine,
                                             city: City) -> None:
    res = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of)
    ch = res.changes
    pkh = ch.filter(pc.equal(ch.column("programme"), "pkh")).to_pylist()
    t = as_dict(res.totals)["pkh"]
    assert sum(r["change"] == "gains" for r in pkh) == t["gainers"]
    gain = next(r for r in pkh if r["change"] == "gains")
    assert gain["rules"] == "pkh_desil: false → true"
    assert "param pkh.max_desil: 4 → 6" in gain["inputs"]
    assert f"desil = {gain['desil']}" in gain["inputs"]
    assert gain["desil"] in (5, 6)
    bpnt = ch.filter(pc.equal(ch.column("programme"), "bpnt")).to_pylist()
    assert bpnt
    assert all(r["change"] == "amount" for r in bpnt)
    assert "param bpnt.amount_month: 200,000 → 250,000" in bpnt[0]["inputs"]


def test_repr_html_has_a_chart(base: wr.Engine, reformed: wr.Engine, city: City) -> None:
    res = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of)
    page = res._repr_html_()
    assert "<svg" in page
    assert "PKH up to decile 6" in page
    assert "Pekalongan Barat" in page


def test_a_reform_file_applies_on_top_of_the_base(base: wr.Engine, reformed: wr.Engine,
                                                  reform_file: Any, city: City) -> None:
    a = impact(base, reform_file, city.households, members=city.persons, as_of=city.as_of)
    b = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of)
    assert a.totals.equals(b.totals)


def test_bad_weights_are_refused_with_the_row(base: wr.Engine, reformed: wr.Engine,
                                              city: City) -> None:
    n = city.households.num_rows
    for values, match in (([1.0] * (n - 1) + [-1.0], f"row {n}, column 'w'.*≥ 0"),
                          ([1.0, None] + [1.0] * (n - 2), "row 2, column 'w'"),
                          (["1"] * 5 + ["satu"] + ["1"] * (n - 6), "row 6.*'satu'")):
        hh = city.households.append_column("w", pa.array(values))
        with pytest.raises(DataError, match=match):
            impact(base, reformed, hh, members=city.persons, as_of=city.as_of, weights="w")
    with pytest.raises(DataError, match="no column 'weight'"):
        impact(base, reformed, city.households, members=city.persons, as_of=city.as_of,
               weights="weight")


def test_as_of_before_the_dated_reform_shows_no_bpnt_change(base: wr.Engine,
                                                            reformed: wr.Engine,
                                                            city: City) -> None:
    res = impact(base, reformed, city.households, members=city.persons,
                 as_of=datetime.date(2023, 6, 1))
    t = as_dict(res.totals)["bpnt"]
    assert t["cost_before"] == t["cost_after"]


def test_extra_groups(base: wr.Engine, reformed: wr.Engine, city: City) -> None:
    """``by`` carries another household field for ``.by()``; a field that does not exist is
    refused."""
    res = impact(base, reformed, city.households, members=city.persons, as_of=city.as_of,
                 by="in_dtks")
    per = res.by("in_dtks")
    assert set(per.column("in_dtks").to_pylist()) <= {True, False, None}
    t = as_dict(res.totals)["pkh"]
    pkh = per.filter(pc.equal(per.column("programme"), "pkh")).to_pylist()
    assert sum(r["gainers"] for r in pkh) == t["gainers"]
    with pytest.raises(DataError, match="'rt' is not a household field"):
        impact(base, reformed, city.households, members=city.persons, as_of=city.as_of,
               by="rt")


def test_a_reform_file_cannot_silently_drop_the_base_engines_own_changes(
        reform_file: Any, city: City) -> None:
    what_if = wr.Engine.load(parameters={"pkh.max_desil": 5})
    with pytest.raises(DataError, match="load the reform engine the same way"):
        impact(what_if, reform_file, city.households, members=city.persons, as_of=city.as_of)


def test_an_unknown_backend_is_refused_before_the_data_is_read(base: wr.Engine,
                                                               reformed: wr.Engine,
                                                               tmp_path: Any) -> None:
    with pytest.raises(EvaluationError, match=r"unknown backend 'duckbd' — did you mean "
                                              r"'duckdb'"):
        impact(base, reformed, str(tmp_path / "no-such-file.csv"), as_of="2024-01-01",
               backend="duckbd")


_WOMAN = {"nik": "3375014101500001", "sex": "female", "birth_date": datetime.date(1949, 6, 1),
          "relationship": "head", "is_alive": True, "disability": "none",
          "school_level": "none"}  # is_pregnant blank: elderly whatever it says


@pytest.mark.parametrize("backend", ["duckdb", "polars", "python"])
def test_impact_counts_the_settled_outcome_on_every_backend(base: wr.Engine,
                                                            backend: str) -> None:
    """A 74-year-old woman with is_pregnant blank is PKH-eligible whatever it says. impact()
    on DuckDB (its own paired query, three-valued) counted her unknown while the other
    backends, evaluate_batch and Engine.evaluate count her eligible (review2 #12);
    settle=False keeps the three-valued count, on DuckDB in one query."""
    from welfare_rules.backends.base import arrow_type

    def table(entity: str, rows: list[dict[str, Any]]) -> pa.Table:
        fields = base.schema.entity(entity).fields
        return pa.Table.from_pylist(rows, schema=pa.schema(
            [(k, arrow_type(f.type) or pa.string()) for k, f in fields.items()]))

    reform = wr.Engine.load(parameters={"pkh.max_desil": 3})
    hh = table("household", [{"id": "3375010101010001", "in_dtks": True, "desil": 2}])
    pp = table("person", [{**_WOMAN, "household_id": "3375010101010001"}])
    day = datetime.date(2024, 1, 1)

    def pkh(**kw: Any) -> dict[str, Any]:
        res = impact(base, reform, hh, members=pp, as_of=day, backend=backend,
                     validate=False, **kw)
        row = next(r for r in res.totals.to_pylist() if r["programme"] == "pkh")
        return {k: row[k] for k in ("eligible_before", "unknown_before", "eligible_after",
                                    "unknown_after")}

    assert pkh() == {"eligible_before": 1, "unknown_before": 0, "eligible_after": 1,
                     "unknown_after": 0}
    assert pkh(settle=False) == {"eligible_before": 0, "unknown_before": 1,
                                 "eligible_after": 0, "unknown_after": 1}
