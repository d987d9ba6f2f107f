"""Per-record latency of the Python backend (issue 2, DESIGN.md §7).

Prints the median microseconds per household (4 members) for:
  * the engine without tracing (``engine.evaluate``: these complete records go through the
    record contract's tests and the rules in one generated function, ``backends/fused.py``),
  * that function alone, and the compiled rules alone (``plan.compiled.run``, no contract),
  * the record contract alone as the general path runs it (``check_record``: every field
    against the schema),
  * the engine with the full trace materialised (``evaluate`` + ``Decision.trace()``: every rule's
    value, the inputs it read and each parameter with its effective date and reference),
  * the same 23 rules hand-written as one plain Python function,
  * batch: ``evaluate_batch(backend="python")`` over Arrow tables of the same households against
    a plain Python loop over the same tables (rows to dicts, the hand-written function, the
    results back to an Arrow table),
measured in the same run (the kinds alternate within every pass; medians of the per-pass
ratios), and the engine's load time with the national pack, from the parse cache (filled by
one load first) and without it (``WELFARE_RULES_CACHE=off``, alternating).

Usage: python benchmarks/bench_engine.py [--records 2000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import time
from pathlib import Path

import pyarrow as pa

from welfare_rules import Engine
from welfare_rules.adapters.record import check_record, contract_for
from welfare_rules.backends.fused import fused_run
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


def _pass_us(fn, items) -> float:
    t0 = time.perf_counter()
    for it in items:
        fn(it)
    return (time.perf_counter() - t0) / len(items) * 1e6


def _batch_inputs(items: list[dict]) -> tuple[pa.Table, pa.Table]:
    households = pa.Table.from_pylist([{k: v for k, v in h.items() if k != "members"}
                                       for h in items])
    persons = pa.Table.from_pylist([m for h in items for m in h["members"]])
    return households, persons


def plain_loop(households: pa.Table, persons: pa.Table, as_of: datetime.date) -> pa.Table:
    """The batch job by hand: Arrow rows to dicts, members grouped, the hand-written function,
    the results as an Arrow table."""
    by_household: dict[str, list[dict]] = {}
    for p in persons.to_pylist():
        by_household.setdefault(p["household_id"], []).append(p)
    rows = []
    for h in households.to_pylist():
        h["members"] = by_household.get(h["id"], [])
        row = hand_written(h, as_of)
        row["id"] = h["id"]
        rows.append(row)
    return pa.Table.from_pylist(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--stat", choices=("median", "min"), default="median",
                    help="per-record figures: medians of per-pass ratios, or the fastest pass "
                         "of each kind (with few records and many passes, the figure least "
                         "disturbed by other work on a loaded machine)")
    args = ap.parse_args()

    loads = []
    cold = []
    Engine.load()  # the parse cache filled, if it was not
    for _ in range(5):
        t0 = time.perf_counter()
        Engine.load()
        loads.append((time.perf_counter() - t0) * 1000)
        os.environ["WELFARE_RULES_CACHE"] = "off"  # every file parsed (docs/security.md)
        t0 = time.perf_counter()
        Engine.load()
        cold.append((time.perf_counter() - t0) * 1000)
        del os.environ["WELFARE_RULES_CACHE"]
    engine = Engine.load(rules=[HERE / "rules"], national=False)
    items = records(args.records, engine)
    # Agreement first: the comparison only means something if both compute the same thing.
    for h in items:
        d = engine.evaluate("household", h, as_of=AS_OF)
        want = hand_written(h, AS_OF)
        got = {k: d.value(k) for k in want}
        assert got == want, (h["id"], got, want)
    households, persons = _batch_inputs(items)
    batch = engine.evaluate_batch("household", households, members=persons, as_of=AS_OF,
                                  backend="python", validate=False, dataset_checks=False,
                                  carry=[]).to_arrow()
    by_id = {r["id"]: r for r in plain_loop(households, persons, AS_OF).to_pylist()}
    for r in batch.to_pylist():
        want = by_id[r["id"]]
        assert {k: r[k] for k in want} == want, (r["id"], want)
    relations = frozenset({"members"})
    plan = engine.evaluate("household", items[0], as_of=AS_OF).plan
    fused = fused_run(plan.compiled, contract_for(engine.schema, "household"))
    assert all(fused(h, plan.params, AS_OF) for h in items)  # complete records: one pass
    run, params = plan.compiled.run, plan.params
    n_rules = sum(1 for r in engine.rules.values() if r[0].ruleset.startswith("bench_"))

    kinds = {
        "hand": lambda h: hand_written(h, AS_OF),
        "engine": lambda h: engine.evaluate("household", h, as_of=AS_OF),
        "contract": lambda h: check_record(engine.schema, "household", h,
                                           relations_needed=relations),
        "trace": lambda h: engine.evaluate("household", h, as_of=AS_OF).trace(),
        "fused": lambda h: fused(h, params, AS_OF),
        "run": lambda h: run(h, params, AS_OF),
    }
    per: dict[str, list[float]] = {k: [] for k in kinds}
    batch_ratio: list[float] = []
    batch_s: dict[str, list[float]] = {"plain": [], "python": []}
    for i in range(args.repeat):
        for k, fn in kinds.items():
            per[k].append(_pass_us(fn, items))
        if i >= 7:
            continue  # seven batch pairs are enough (a batch run is much longer than a pass)
        t0 = time.perf_counter()
        plain_loop(households, persons, AS_OF)
        t1 = time.perf_counter()
        engine.evaluate_batch("household", households, members=persons, as_of=AS_OF,
                              backend="python", validate=False, dataset_checks=False,
                              carry=[]).to_arrow()
        t2 = time.perf_counter()
        batch_s["plain"].append(t1 - t0)
        batch_s["python"].append(t2 - t1)
        batch_ratio.append((t2 - t1) / (t1 - t0))
    stat = min if args.stat == "min" else statistics.median
    med = {k: stat(v) for k, v in per.items()}

    def ratio(a: str, b: str) -> float:
        if args.stat == "min":
            return med[a] / med[b]
        return statistics.median(x / y for x, y in zip(per[a], per[b], strict=True))

    print(f"records: {len(items)} households of 4 members; rules: {n_rules} "
          f"(benchmarks/rules), {args.stat} of {args.repeat} alternating passes")
    print(f"hand-written Python function : {med['hand']:8.2f} us/household")
    print(f"engine, no tracing           : {med['engine']:8.2f} us/household  "
          f"ratio {ratio('engine', 'hand'):5.2f}x  (target <= 1.5x)")
    print(f"  of which contract and rules in one pass (backends/fused.py): "
          f"{med['fused']:7.2f} us/household  ratio {ratio('fused', 'hand'):5.2f}x; the rest "
          f"(Decision, call) {med['engine'] - med['fused']:5.2f} us")
    print(f"  compiled rules alone (run) : {med['run']:8.2f} us/household  "
          f"ratio {ratio('run', 'hand'):5.2f}x (no contract, no Decision)")
    print(f"  the record contract alone (check_record, the general path's first pass): "
          f"{med['contract']:7.2f} us/household  ratio {ratio('contract', 'hand'):5.2f}x")
    print(f"engine, full trace           : {med['trace']:8.2f} us/household  "
          f"ratio {ratio('trace', 'hand'):5.2f}x of hand-written")
    print(f"full trace / no tracing      : {ratio('trace', 'engine'):8.2f}x  (target <= 5x)")
    print(f"batch, plain Python loop     : {statistics.median(batch_s['plain']):8.3f} s  "
          f"({len(items)} households)")
    print(f"batch, backend='python'      : {statistics.median(batch_s['python']):8.3f} s  "
          f"ratio {statistics.median(batch_ratio):5.2f}x  (target <= 5x)")
    print(f"engine load (national pack)  : median {statistics.median(loads):.0f} ms, "
          f"min {min(loads):.0f} ms over 5 loads (target < 200 ms)")
    print(f"  without the parse cache    : median {statistics.median(cold):.0f} ms, "
          f"min {min(cold):.0f} ms over 5 loads (WELFARE_RULES_CACHE=off)")


if __name__ == "__main__":
    main()
