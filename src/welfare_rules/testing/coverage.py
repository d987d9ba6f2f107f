"""Rule coverage: what the YAML rule tests exercise, per ruleset.

A :class:`RuleCoverage` watches the decisions that rule test cases produce
(``run_rule_tests(..., observe=cov.observe)``) and counts, for every ruleset of the engines
involved:

* each criterion — every condition and check, named or not — seen **true** and seen **false**
  (two points; seen *unknown* is listed too, but not a point);
* each decision-table row that **fired** (the row that gave the result under UNIQUE, ANY,
  FIRST and PRIORITY; every matching row under the multi-hit policies), and the default;
* each ladder level **reached**.

The percentage is covered points over all points; :meth:`RuleCoverage.report` lists what was
never exercised. ``welfare-rules test --coverage [--fail-under N]`` and the pytest plugin's
``--rules-coverage`` (``--rules-coverage-fail-under N``) print it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..backends import runtime
from ..backends.interp import Scope, evaluate
from ..backends.python_detail import scope_for
from ..model import Rule, UnaryTest

if TYPE_CHECKING:
    from ..views import DecisionView, EngineView

#: a coverage point: (ruleset, rule id, what) — what is "true", "false", "row 3", "default",
#: "level mandiri"
Point = tuple[str, str, str]


@attrs.frozen
class RulesetCoverage:
    """The coverage of one ruleset."""

    ruleset: str
    covered: int
    total: int
    missing: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0


@attrs.frozen
class CoverageReport:
    """Coverage per ruleset and overall."""

    rulesets: tuple[RulesetCoverage, ...]

    @property
    def covered(self) -> int:
        return sum(r.covered for r in self.rulesets)

    @property
    def total(self) -> int:
        return sum(r.total for r in self.rulesets)

    @property
    def percent(self) -> float:
        return 100.0 * self.covered / self.total if self.total else 100.0

    def to_dict(self) -> dict[str, Any]:
        return {"percent": round(self.percent, 1), "covered": self.covered,
                "total": self.total,
                "rulesets": [{"ruleset": r.ruleset, "percent": round(r.percent, 1),
                              "covered": r.covered, "total": r.total,
                              "never_exercised": list(r.missing),
                              "seen_unknown": list(r.unknown)} for r in self.rulesets]}

    def render(self, *, show_missing: bool = True) -> str:
        """The report as text: one line per ruleset, then what was never exercised."""
        width = max([len(r.ruleset) for r in self.rulesets] + [7])
        lines = [f"{'ruleset':<{width}}  covered  total  percent"]
        for r in self.rulesets:
            lines.append(f"{r.ruleset:<{width}}  {r.covered:>7}  {r.total:>5}  "
                         f"{r.percent:>6.1f}%")
        lines.append(f"{'TOTAL':<{width}}  {self.covered:>7}  {self.total:>5}  "
                     f"{self.percent:>6.1f}%")
        if show_missing:
            for r in self.rulesets:
                if r.missing:
                    lines.append(f"never exercised in {r.ruleset}:")
                    lines.extend(f"  {m}" for m in r.missing)
        return "\n".join(lines)


class RuleCoverage:
    """Collects coverage points from decisions. Thread-compatible, not thread-safe."""

    def __init__(self) -> None:
        self.universe: set[Point] = set()
        self.seen: set[Point] = set()
        self.unknown: set[Point] = set()
        self.labels: dict[Point, str] = {}
        self._engines: set[int] = set()

    # -- collecting -----------------------------------------------------------------------------

    def add_engine(self, engine: EngineView) -> None:
        """Add every coverage point of ``engine``'s rules to the universe (once per engine)."""
        if id(engine) in self._engines:
            return
        self._engines.add(id(engine))
        for versions in engine.rules.values():
            for point, label in (x for rule in versions for x in _points(rule)):
                self.universe.add(point)
                self.labels.setdefault(point, label)

    def observe(self, d: DecisionView) -> None:
        """Record what one decision (and its members' decisions) exercised."""
        self.add_engine(d.engine)
        self._observe(d)
        for md in getattr(d, "members", ()):
            self._observe(md)

    def _observe(self, d: DecisionView) -> None:
        eng = d.engine
        for rid, versions in eng.rules.items():
            if versions[0].entity != d.entity or not d.in_force(rid):
                continue
            rule = eng.rule(rid, d.as_of)
            rs = rule.ruleset
            if rule.kind in ("condition", "check"):
                status = d.status(rid)
                if status == "unknown":
                    self.unknown.add((rs, rid, "unknown"))
                else:
                    self.seen.add((rs, rid, status))
            elif rule.kind == "ladder":
                level = d.value(rid)
                if level is not None:
                    self.seen.add((rs, rid, f"level {level}"))
            elif rule.kind == "table":
                for what in fired_rows(d, rule):
                    self.seen.add((rs, rid, what))

    def merge(self, data: Mapping[str, Any]) -> None:
        """Merge what :meth:`to_data` of another collector (a pytest-xdist worker) gave."""
        for key in ("universe", "seen", "unknown"):
            getattr(self, key).update((str(a), str(b), str(c)) for a, b, c in data.get(key, ()))
        for p, label in data.get("labels", ()):
            self.labels.setdefault((str(p[0]), str(p[1]), str(p[2])), str(label))

    def to_data(self) -> dict[str, Any]:
        """Plain data (lists), for sending between processes."""
        return {"universe": sorted(self.universe), "seen": sorted(self.seen),
                "unknown": sorted(self.unknown),
                "labels": sorted([list(p), lbl] for p, lbl in self.labels.items())}

    # -- reporting ------------------------------------------------------------------------------

    def report(self, rulesets: Iterable[str] | None = None) -> CoverageReport:
        """Coverage per ruleset (all rulesets seen, or the ones named)."""
        wanted = set(rulesets) if rulesets is not None else None
        by_rs: dict[str, list[Point]] = {}
        for p in self.universe:
            if wanted is None or p[0] in wanted:
                by_rs.setdefault(p[0], []).append(p)
        out = []
        for rs in sorted(by_rs):
            points = sorted(by_rs[rs], key=_order)
            missing = tuple(self._missing_text(p) for p in points if p not in self.seen)
            unknown = tuple(sorted(f"{p[1]} seen unknown" for p in self.unknown if p[0] == rs))
            covered = sum(1 for p in points if p in self.seen)
            out.append(RulesetCoverage(rs, covered, len(points), missing, unknown))
        return CoverageReport(tuple(out))

    def _missing_text(self, p: Point) -> str:
        _, rid, what = p
        label = self.labels.get(p, "")
        if what in ("true", "false"):
            return f"criterion {rid} never {what}" + (f" ({label})" if label else "")
        if what.startswith("level "):
            return f"ladder {rid} never reached {what}"
        return f"table {rid} {what} never fired"


def _order(p: Point) -> tuple[str, str, int, str]:
    what = p[2]
    num = int(what.split()[1]) if what.startswith("row ") else 0
    return p[1], what.split()[0], num, what


def _points(rule: Rule) -> list[tuple[Point, str]]:
    rs, rid = rule.ruleset, rule.id
    if rule.kind in ("condition", "check"):
        label = rule.title.en or rule.title.id if rule.hidden else ""
        return [((rs, rid, "true"), label), ((rs, rid, "false"), label)]
    if rule.kind == "ladder":
        return [((rs, rid, f"level {lv.name}"), "") for lv in rule.levels]
    if rule.kind == "table" and rule.table is not None:
        out = [((rs, rid, f"row {i}"), "") for i in range(1, len(rule.table.rows) + 1)]
        if rule.table.default is not None:
            out.append(((rs, rid, "default"), ""))
        return out
    return []


def _test(test: UnaryTest, x: Any, scope: Scope) -> bool | None:
    if test.op == "any":
        return True
    if x is None:
        return None
    v = evaluate(test.value, scope) if test.value is not None else None
    if v is None and test.op != "==":
        return None
    if test.op == "range":
        hi = evaluate(test.high, scope) if test.high is not None else None
        if hi is None:
            return None
        ok = (x >= v if test.low_closed else x > v) and (x <= hi if test.high_closed
                                                          else x < hi)
    elif test.op == "in":
        ok = x in (v or ())
    elif test.op == "==":
        if v is None:
            return None
        ok = x == v
    else:
        ok = {"!=": x != v, "<": x < v, "<=": x <= v, ">": x > v, ">=": x >= v}[test.op]
    return (not ok) if test.negate else bool(ok)


def fired_rows(d: DecisionView, rule: Rule) -> list[str]:
    """Which rows of a decision table gave ``d``'s result (``"row N"``, ``"default"``)."""
    table = rule.table
    assert table is not None
    scope = scope_for(d)
    inputs = [evaluate(e, scope) for e in table.inputs]
    matches = [runtime.kleene_and([_test(t, x, scope) for t, x in zip(row.tests, inputs,
                                                                      strict=True)])
               for row in table.rows]
    if table.hit_policy == "first":
        for i, m in enumerate(matches):
            if m is None:
                return []
            if m:
                return [f"row {i + 1}"]
        return ["default"] if table.default is not None else []
    if any(m is None for m in matches):
        return []
    hits = [i for i, m in enumerate(matches) if m]
    if not hits:
        return ["default"] if table.default is not None else []
    if table.hit_policy == "unique":
        return [f"row {hits[0] + 1}"]
    if table.hit_policy in ("any", "priority"):
        value = d.value(rule.id)
        names = [o.name for o in table.outputs]
        for i in hits:
            outs = [evaluate(o, scope) for o in table.rows[i].outputs]
            shaped = dict(zip(names, outs, strict=True)) if len(names) > 1 else outs[0]
            if shaped == value:
                return [f"row {i + 1}"] if table.hit_policy == "priority" else \
                    [f"row {j + 1}" for j in hits]
        return []
    return [f"row {i + 1}" for i in hits]


def print_coverage(ui: Any, cov: RuleCoverage, fail_under: float | None) -> bool:
    """Print the coverage report through a CLI ``Ui``; return whether it is under
    ``fail_under`` percent (the caller exits 1)."""
    import click

    rep = cov.report()
    ui.set(coverage=rep.to_dict())
    if not ui.as_json:
        click.echo(rep.render())
    if fail_under is not None and rep.percent < fail_under:
        ui.warn(f"rule coverage {rep.percent:.1f}% is under --fail-under {fail_under:g}%")
        return True
    return False
