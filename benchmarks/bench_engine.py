"""Per-record latency of the Python backend (issue 2, DESIGN.md §7).

Prints the median microseconds per household (4 members) for:
  * the engine without tracing (``engine.evaluate``),
  * the engine with the full trace materialised (``evaluate`` + ``Decision.trace()``: every rule's
    value, the inputs it read and each parameter with its effective date and reference),
  * the same 27 rules hand-written as one plain Python function,
measured in the same run, with the ratios, and the engine's load time with the national pack.

Usage: python benchmarks/bench_engine.py [--records 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import time
from pathlib import Path

from welfare_rules import Engine
from welfare_rules.demo import generate_city
from welfare_rules.errors import InputError

HERE = Path(__file__).parent
AS_OF = datetime.date(2024, 7, 1)


def _years(a: datetime.date, b: datetime.date) -> int:
    return b.year - a.year - ((b.month, b.day) < (a.month, a.day))


def _lt(v: int | None, limit: int) -> bool:
    return v is not None and v < limit


def hand_written(h: dict, as_of: datetime.date) -> dict:
    """The benchmark rules by hand, with the same three-valued semantics on this data."""
    members = h.get("members") or ()
    alive_n = 0
    pkh = 0
    dead_any = False
    for m in members:
        bd = m.get("birth_date")
        age = None if bd is None else _years(bd, as_of)
        dd = m.get("death_date")
        alive = m.get("is_alive") and (dd is None or dd > as_of)
        if alive:
            alive_n += 1
        else:
            dead_any = True
        if not alive:
            amount = 0
        elif m.get("is_pregnant") or (age is not None and age < 6):
            amount = 3_000_000
        elif (age is not None and age >= 60) or m.get("disability") == "severe":
            amount = 2_400_000
        else:
            amount = {"sma": 2_000_000, "smp": 1_500_000, "sd": 900_000}.get(
                m.get("school_level"), 0)
        pkh += amount
    fa = h.get("floor_area_m2")
    c = [
        fa is not None and alive_n > 0 and fa / alive_n < 8,
        h.get("floor_type") in ("earth", "bamboo", "cheap_wood"),
        h.get("wall_type") in ("bamboo", "rumbia", "low_quality_wood", "unplastered_brick"),
        h.get("toilet") in ("none", "shared"),
        h.get("electricity") in ("none", "non_pln"),
        h.get("water_source") in ("unprotected_well", "unprotected_spring", "river", "rain"),
        h.get("cooking_fuel") in ("firewood", "charcoal", "kerosene"),
        _lt(h.get("meat_milk_per_week"), 2),
        _lt(h.get("new_clothes_per_year"), 2),
        _lt(h.get("meals_per_day"), 3),
        h.get("can_afford_clinic") is False,
        _lt(h.get("head_income_month"), 600_000),
        h.get("head_education") in ("none", "sd_incomplete", "sd"),
        _lt(h.get("savings_value"), 500_000),
    ]
    met = sum(c)
    desil = h.get("desil")
    eligible = bool(h.get("in_dtks")) and desil is not None and desil <= 4 and pkh > 0
    recipient = h.get("receives_pkh") or h.get("receives_bpnt") or h.get("receives_pbi")
    return {"b_member_count": alive_n, "b_criteria_met": met, "b_poor": met >= 9,
            "b_pkh_total": pkh, "b_eligible": eligible,
            "b_deceased_recipient": bool(recipient and dead_any)}


def records(n: int, engine: Engine) -> list[dict]:
    """Complete, valid households of exactly four members from the demo generator, with only
    the fields the engine's schema declares (the demo also writes the national pack's extra
    fields, which the benchmark's schema-only engine would refuse, and a few malformed NIKs on
    purpose)."""
    hfields = engine.schema.entity("household").fields
    pfields = engine.schema.entity("person").fields
    city = generate_city(n * 3, seed=7, missing_rate=0.0)
    persons: dict[str, list[dict]] = {}
    for p in city.persons.to_pylist():
        persons.setdefault(p["household_id"], []).append(
            {k: v for k, v in p.items() if k in pfields})
    out = []
    for h in city.households.to_pylist():
        ms = persons.get(h["id"], [])
        if len(ms) == 4:
            rec = {**{k: v for k, v in h.items() if k in hfields}, "members": ms}
            try:
                engine.evaluate("household", rec, as_of=AS_OF)
            except InputError:
                continue
            out.append(rec)
        if len(out) == n:
            break
    return out


def median_us(fn, items, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for it in items:
            fn(it)
        runs.append((time.perf_counter() - t0) / len(items) * 1e6)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()

    loads = []
    for _ in range(5):
        t0 = time.perf_counter()
        Engine.load()
        loads.append((time.perf_counter() - t0) * 1000)
    engine = Engine.load(rules=[HERE / "rules"], national=False)
    items = records(args.records, engine)
    # Agreement first: the comparison only means something if both compute the same thing.
    for h in items:
        d = engine.evaluate("household", h, as_of=AS_OF)
        want = hand_written(h, AS_OF)
        got = {k: d.value(k) for k in want}
        assert got == want, (h["id"], got, want)
    engine.evaluate("household", items[0], as_of=AS_OF)  # compile outside the timing
    n_rules = sum(1 for r in engine.rules.values() if r[0].ruleset.startswith("bench_"))
    t_hand = median_us(lambda h: hand_written(h, AS_OF), items, args.repeat)
    t_eng = median_us(lambda h: engine.evaluate("household", h, as_of=AS_OF), items,
                      args.repeat)
    t_trace = median_us(lambda h: engine.evaluate("household", h, as_of=AS_OF).trace(), items,
                        args.repeat)
    print(f"records: {len(items)} households of 4 members; rules: {n_rules} "
          f"(benchmarks/rules), medians of {args.repeat} runs")
    print(f"hand-written Python function : {t_hand:8.2f} us/household")
    print(f"engine, no tracing           : {t_eng:8.2f} us/household  "
          f"ratio {t_eng / t_hand:5.2f}x  (target <= 2x)")
    print(f"engine, full trace           : {t_trace:8.2f} us/household  "
          f"ratio {t_trace / t_hand:5.2f}x of hand-written")
    print(f"full trace / no tracing      : {t_trace / t_eng:8.2f}x  (target <= 10x)")
    print(f"engine load (national pack)  : median {statistics.median(loads):.0f} ms, "
          f"min {min(loads):.0f} ms over 5 loads (target < 300 ms)")


if __name__ == "__main__":
    main()
