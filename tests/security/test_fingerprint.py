"""The decision fingerprint covers everything that changes a result, dataset checks included."""

from __future__ import annotations

from welfare_rules.batch import evaluate_batch, load_dataset_checks
from welfare_rules.demo import generate_city
from welfare_rules.engine import Engine


def test_the_fingerprint_changes_with_the_dataset_checks_in_force() -> None:
    engine = Engine.load()
    city = generate_city(60, seed=3)
    runs = {}
    all_checks = load_dataset_checks()
    one = dict(list(all_checks.items())[:1])
    for name, checks in (("all", True), ("none", False), ("one", one)):
        res = evaluate_batch(engine, "household", city.households, members=city.persons,
                             as_of=city.as_of, backend="duckdb", dataset_checks=checks)
        runs[name] = res.fingerprint
        res.close()
    assert len({repr(fp) for fp in runs.values()}) == 3
    assert sorted(all_checks) == runs["all"]["dataset_checks"]["ids"]
    assert runs["none"]["dataset_checks"] == {"ids": [], "digest": runs["none"][
        "dataset_checks"]["digest"]}
    again = evaluate_batch(engine, "household", city.households, members=city.persons,
                           as_of=city.as_of, backend="python", dataset_checks=True)
    assert runs["all"] == again.fingerprint  # the same checks: the same fingerprint
