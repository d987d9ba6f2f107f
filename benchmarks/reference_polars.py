"""The national pack's core hand-written in Polars: the reference the Polars backend is timed
against (``bench_batch.py --backends polars``).

The same rules, with the same semantics, as the hand-written DuckDB query of ``bench_batch.py``
(``HAND_WRITTEN``): BPS poverty (9 of the 14 criteria, Kleene: true once 9 are known true,
false once 9 can no longer be reached), PKH eligibility (in DTKS, desil ≤ 4, a member in a
component within the caps: at most two young children and two pregnancies, four components a
household, ranked by amount) and the deceased-recipient check. Polars' boolean ``&``/``|`` with
nulls are Kleene logic, as SQL's ``AND``/``OR``; a ``when`` whose condition is null is not
taken, as SQL's ``CASE``.

    python benchmarks/reference_polars.py benchmarks/data/batch-100000    # check the answers

checks on those files that it gives the same answers as the hand-written DuckDB query and as
the national pack on the Polars and DuckDB backends (``poor_bps``, ``pkh_eligible``,
``deceased_recipient``), and prints the number of households that differ (0).
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

import polars as pl

AS_OF = datetime.date(2024, 7, 1)
RULES = ("poor_bps", "pkh_eligible", "deceased_recipient")

AMOUNT = {"pregnant": 3_000_000, "early_childhood": 3_000_000, "sd": 900_000,
          "smp": 1_500_000, "sma": 2_000_000, "severe_disability": 2_400_000,
          "elderly": 2_400_000, "none": 0}


def _age(birth: pl.Expr, as_of: datetime.date) -> pl.Expr:
    """Completed years from ``birth`` to ``as_of`` (negative when born after it)."""
    md = as_of.month * 100 + as_of.day
    bmd = birth.dt.month().cast(pl.Int64) * 100 + birth.dt.day().cast(pl.Int64)
    by = birth.dt.year().cast(pl.Int64)
    fwd = as_of.year - by - (pl.lit(md) < bmd).cast(pl.Int64)
    back = -(by - as_of.year - (bmd < pl.lit(md)).cast(pl.Int64))
    return pl.when(pl.lit(as_of) >= birth).then(fwd).otherwise(back)


def query(households: pl.LazyFrame, persons: pl.LazyFrame,
          as_of: datetime.date = AS_OF) -> pl.LazyFrame:
    """The three rules for every household, in input order."""
    age = pl.col("age")
    p = persons.select(
        "nik", "household_id", _age(pl.col("birth_date"), as_of).alias("age"),
        (pl.col("is_alive") & (pl.col("death_date").is_null()
                               | (pl.col("death_date") > as_of))).alias("alive"),
        "sex", "is_pregnant", "disability", "school_level")
    pregnant = (pl.col("sex") == "female") & pl.col("is_pregnant")
    school = (age >= 6) & (age <= 21)
    comp = (pl.when(age.is_null()).then(None).when(age < 6).then(pl.lit("early_childhood"))
            .when(pregnant.is_null()).then(None).when(pregnant).then(pl.lit("pregnant"))
            .when(pl.col("disability").is_null()).then(None)
            .when(pl.col("disability") == "severe").then(pl.lit("severe_disability"))
            .when(age >= 60).then(pl.lit("elderly"))
            .when(school & pl.col("school_level").is_null()).then(None)
            .when(school & (pl.col("school_level") == "sma")).then(pl.lit("sma"))
            .when(school & (pl.col("school_level") == "smp")).then(pl.lit("smp"))
            .when(school & (pl.col("school_level") == "sd")).then(pl.lit("sd"))
            .otherwise(pl.lit("none")))
    p = p.with_columns(comp.alias("comp"))
    in_comp = (pl.col("alive") & (pl.col("comp") != "none")).fill_null(False)
    p = p.with_columns(
        pl.col("comp").replace_strict(AMOUNT, default=None, return_dtype=pl.Int64)
        .alias("amount"),
        pl.when(in_comp).then(pl.int_range(1, pl.len() + 1).over(
            "household_id", in_comp, "comp", order_by="nik")).alias("comp_rank"))
    capped = pl.col("comp").is_in(["early_childhood", "pregnant"])
    p = p.with_columns(
        (pl.col("alive") & (pl.col("comp") != "none")
         & pl.when(capped).then(pl.col("comp_rank") <= 2)
         .when(pl.col("comp").is_null()).then(None).otherwise(True)).alias("within_cap"))
    cap = pl.col("within_cap").fill_null(False)
    p = p.with_columns(pl.when(cap).then(pl.int_range(1, pl.len() + 1).over(
        "household_id", cap, order_by=[-pl.col("amount"), pl.col("nik")], nulls_last=True))
        .alias("person_rank"))
    top = pl.col("within_cap") & (pl.col("person_rank") <= 4)
    dead = ~pl.col("alive")

    def kleene_any(x: pl.Expr) -> pl.Expr:
        return pl.when(x.any()).then(True).when(x.is_null().any()).then(None).otherwise(False)

    m = p.group_by("household_id").agg(
        pl.len().alias("n"), kleene_any(top).alias("has_component"),
        kleene_any(dead).alias("any_deceased"), pl.lit(True).alias("__has"))
    h = households.join(m, left_on="id", right_on="household_id", how="left",
                        maintain_order="left")
    missing = pl.col("__has").is_null()
    h = h.with_columns(
        pl.col("n").fill_null(0).alias("member_count"),
        pl.when(missing).then(False).otherwise(pl.col("has_component")).alias("has_component"),
        pl.when(missing).then(False).otherwise(pl.col("any_deceased")).alias("any_deceased"))
    c = pl.col
    crit = [
        pl.when(c("member_count") == 0).then(None)
        .otherwise(c("floor_area_m2") / c("member_count") < 8),
        c("floor_type").is_in(["earth", "bamboo", "cheap_wood"]),
        c("wall_type").is_in(["bamboo", "rumbia", "low_quality_wood", "unplastered_brick"]),
        c("toilet").is_in(["none", "shared"]),
        c("electricity") == "none",
        c("water_source").is_in(["unprotected_well", "unprotected_spring", "river", "rain"]),
        c("cooking_fuel").is_in(["firewood", "charcoal", "kerosene"]),
        c("meat_milk_per_week") <= 1,
        c("new_clothes_per_year") <= 1,
        c("meals_per_day") <= 2,
        ~c("can_afford_clinic"),
        c("head_occupation").is_in(["farm_labourer", "fisher", "construction_labourer",
                                    "plantation_labourer"])
        | ((c("head_occupation") == "farmer") & (c("land_area_m2") <= 500))
        | (c("head_income_month") < 600_000),
        c("head_education").is_in(["none", "sd_incomplete", "sd"]),
        c("savings_value") < 500_000,
    ]
    met = pl.sum_horizontal([x.fill_null(False).cast(pl.Int32) for x in crit])
    possible = pl.sum_horizontal([x.fill_null(True).cast(pl.Int32) for x in crit])
    poor = pl.when(met >= 9).then(True).when(possible < 9).then(False).otherwise(None)
    recipient = c("receives_pkh") | c("receives_bpnt") | c("receives_pbi")
    return h.select(
        "id", poor.alias("poor_bps"),
        (c("in_dtks") & (c("desil") <= 4) & c("has_component")).alias("pkh_eligible"),
        (recipient & c("any_deceased")).alias("deceased_recipient"))


def run(households: Path, persons: Path, out: Path, as_of: datetime.date = AS_OF) -> None:
    """Read the Parquet files, evaluate, write the results to ``out`` (Parquet)."""
    query(pl.scan_parquet(households), pl.scan_parquet(persons), as_of).collect() \
        .write_parquet(out)


def check(data: Path) -> dict[str, int]:
    """Households whose answer differs from the hand-written DuckDB query and from the national
    pack on the Polars and DuckDB backends (by rule; all 0 when they agree)."""
    import duckdb
    from bench_batch import HAND_WRITTEN  # type: ignore[import-not-found]

    import welfare_rules as wr

    hp, pp = data / "households.parquet", data / "persons.parquet"
    mine = query(pl.scan_parquet(hp), pl.scan_parquet(pp)).collect()
    sql = HAND_WRITTEN.format(as_of=AS_OF.isoformat(), persons=pp, households=hp)
    others: dict[str, Any] = {"hand-written duckdb": pl.from_arrow(duckdb.sql(sql).arrow())}
    engine = wr.Engine.load()
    for backend in ("polars", "duckdb"):
        res = engine.evaluate_batch("household", hp, members=pp, as_of=AS_OF, backend=backend,
                                    validate=False, dataset_checks=False, settle=False)
        others[f"welfare-rules {backend}"] = pl.from_arrow(res.to_arrow()).select("id", *RULES)
    out: dict[str, int] = {}
    for name, other in others.items():
        j = mine.join(other, on="id", how="left", suffix="_o")
        for rule in RULES:
            out[f"{name} {rule}"] = j.filter(
                pl.col(rule).ne_missing(pl.col(f"{rule}_o"))).height
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    counts = check(Path(sys.argv[1]))
    for what, count in counts.items():
        print(f"{count:>8} households differ: {what}")
    sys.exit(1 if any(counts.values()) else 0)
