"""The Python reference as a batch backend: every record through the compiled Python code.

Slow next to the SQL backends, and the one they are held to: the differential tests compare
DuckDB, Spark and any registered backend with it, value for value. A UNIQUE/ANY decision table
that a record violates gives that rule NULL with status ``error`` (the rest of the record is
evaluated as usual), as the SQL backends do.
"""

from __future__ import annotations

import re
import types as pytypes
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any

import pyarrow as pa

from ..adapters.result import QUARANTINE_SCHEMA, Link, LoadResult, empty_table
from ..errors import HitPolicyError
from ..masking import placeholder_text
from ..model import Rule
from ..plan import Plan
from ..schema import Text
from . import runtime
from .base import (
    FINDINGS_SCHEMA,
    STATUS_SUFFIX,
    STATUS_TYPE,
    BackendBase,
    Job,
    Outcome,
    result_fields,
)
from .python import RecordPlan, compile_plan
from .record import RecordResult, compute_findings, status_of

__all__ = ["PythonBackend"]


class _Lenient:
    """Evaluates a record whose UNIQUE/ANY table is violated: that rule is NULL (status
    'error') and the rest is evaluated as usual, as the SQL backends do."""

    def __init__(self, plan: Plan, entity: str):
        self.errors: list[tuple[str, str]] = []
        shim = pytypes.SimpleNamespace(**{k: getattr(runtime, k) for k in dir(runtime)
                                          if not k.startswith("__")})

        def hit(rule_id: str, *args: Any) -> Any:
            try:
                return runtime.hit(rule_id, *args)
            except HitPolicyError as exc:
                self.errors.append((rule_id, str(exc)))
                return None

        shim.hit = hit
        self.plan = RecordPlan.of(plan, compile_plan(plan, entity, {"_rt": shim}))
        self.entity = entity

    def evaluate(self, record: Mapping[str, Any]
                 ) -> tuple[RecordResult, list[tuple[str, str]]]:
        self.errors = []
        as_of = self.plan.plan.as_of
        values, members = self.plan.compiled.run(record, self.plan.params, as_of)
        d = RecordResult(self.entity, record, as_of, self.plan, values, members)
        return d, list(self.errors)


class PythonBackend(BackendBase):
    """The reference backend: record by record through the compiled Python code (the code
    :meth:`Engine.evaluate <welfare_rules.engine.Engine.evaluate>` runs)."""

    name = "python"

    def run(self, job: Job) -> Outcome:
        return _run_python(job.plan, job.entity, job, job.checks, job.carry, job.lang)


def _run_python(plan: Plan, entity: str, job: Job, checks: Mapping[str, Any],
                carry: Sequence[str], lang: str) -> Outcome:
    schema = plan.schema
    inputs = job.inputs
    as_of = plan.as_of
    ent = schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    load = inputs.load
    if load is None:
        tables = {k: inputs.arrow(k) for k in inputs.tables}
        links = {entity: Link(rel.name, rel.entity, rel.key, ent.key)} if rel else {}
        main = tables.get(entity)
        n_rows = main.num_rows if main is not None else 0
        load = LoadResult({k: v for k, v in tables.items() if v is not None},
                          empty_table(QUARANTINE_SCHEMA), n_rows, n_rows, 0, links=links)
    in_force = plan.rules
    rule_ids = plan.visible_rule_ids(entity)
    child = rel.entity if rel else None
    mrule_ids = plan.visible_rule_ids(child) if child else []
    cent = schema.entity(child) if child else None
    strict = RecordPlan.of(plan, compile_plan(plan, entity))
    lenient: _Lenient | None = None
    rows: list[dict[str, Any]] = []
    mrows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    columns = _Columns(rule_ids, in_force)
    mcolumns = _Columns(mrule_ids, in_force)
    for record in load.iter_records(entity):
        errs: list[tuple[str, str]] = []
        try:
            values, members = strict.compiled.run(record, strict.params, as_of)
            d = RecordResult(entity, record, as_of, strict, values, members)
        except HitPolicyError:
            if lenient is None:
                lenient = _Lenient(plan, entity)
            d, errs = lenient.evaluate(record)
        err_ids = {rid for rid, _ in errs}
        row: dict[str, Any] = {ent.key: record.get(ent.key)}
        for c in carry:
            row[c] = record.get(c)
        _fill(row, columns(d.slots), d.values, err_ids)
        rows.append(row)
        if child and cent is not None and rel is not None:
            for md in d.members:
                mrow: dict[str, Any] = {cent.key: md.record.get(cent.key),
                                        rel.key: record.get(ent.key)}
                _fill(mrow, mcolumns(md.slots), md.values, ())
                mrows.append(mrow)
        for f in _python_findings(d, lang):
            findings.append(f)
        if checks:
            records.append(record)
    findings += _python_dataset_findings(plan, entity, records, checks, lang)
    table = _table(rows, result_fields(plan, entity, rule_ids, ent.key, carry))
    mtable = None
    if child and cent is not None and rel is not None:
        mtable = _table(mrows, result_fields(plan, child, mrule_ids, cent.key, [rel.key]))
    ftable = pa.Table.from_pylist(findings, schema=FINDINGS_SCHEMA)
    errs_rules = [rid for rid in rule_ids if rid in in_force
                  and (r := in_force[rid]).kind == "table" and r.table is not None
                  and r.table.may_error]
    return Outcome(results=lambda: table, members=lambda: mtable, findings=lambda: ftable,
                   rule_ids=rule_ids, error_rules=errs_rules)


#: one result column pair: rule id, status column, the rule in force (None: not in force, both
#: columns null), its value slot and its ladder's "blocked" slot (-1: none)
_Column = tuple[str, str, Rule | None, int, int]


class _Columns:
    """The result columns of one entity, resolved against a compiled slot map once (per map:
    the strict and the lenient code have their own), not per record and rule."""

    def __init__(self, rule_ids: Sequence[str], in_force: Mapping[str, Rule]):
        self.rule_ids = rule_ids
        self.in_force = in_force
        self._by_slots: dict[int, tuple[Mapping[str, int], list[_Column]]] = {}

    def __call__(self, slots: Mapping[str, int]) -> list[_Column]:
        hit = self._by_slots.get(id(slots))
        if hit is not None and hit[0] is slots:
            return hit[1]
        cols: list[_Column] = []
        for rid in self.rule_ids:
            rule = self.in_force.get(rid) if rid in slots else None
            cols.append((rid, rid + STATUS_SUFFIX, rule, slots.get(rid, -1),
                         slots.get(rid + "#blocked", -1)))
        self._by_slots[id(slots)] = (slots, cols)
        return cols


def _fill(row: dict[str, Any], cols: list[_Column], values: list[Any],
          errors: Collection[str]) -> None:
    """A record's values and statuses (``status_of``, as ``RecordResult.status`` gives them;
    ``error`` for a rule whose UNIQUE/ANY table the record violated)."""
    for rid, status_col, rule, slot, blocked in cols:
        if rule is None:
            row[rid] = None
            row[status_col] = None
            continue
        v = values[slot]
        row[rid] = v
        row[status_col] = "error" if rid in errors else status_of(
            rule, v, blocked >= 0 and bool(values[blocked]))


def _table(rows: list[dict[str, Any]], schema: list[tuple[str, pa.DataType | None]]
           ) -> pa.Table:
    arrays, names = [], []
    for name, ty in schema:
        values = [r.get(name) for r in rows]
        if ty == STATUS_TYPE:
            ty = pa.string()  # encoded over the fixed dictionary by conform()
        if ty is not None and pa.types.is_integer(ty) and any(isinstance(v, float)
                                                                for v in values):
            ty = pa.float64()
        try:
            arrays.append(pa.array(values, type=ty))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array(values))
        names.append(name)
    return pa.table(arrays, names=names)


def _python_findings(d: RecordResult, lang: str) -> Iterator[dict[str, Any]]:
    for f in compute_findings(d, lang):
        yield {"check": f.check, "severity": f.severity, "entity": f.entity,
               "record_id": f.record_id, "member_id": f.member_id, "message": f.message}


def _fmt(value: Any, name: str, entity: str) -> str:
    return placeholder_text(name, value, entity=entity)


def _render(template: str, resolve: Callable[[str], str | None]) -> str:
    def sub(m: re.Match[str]) -> str:
        v = resolve(m.group(1))
        return m.group(0) if v is None else v

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, template)


def _python_dataset_findings(plan: Plan, entity: str, records: list[dict[str, Any]],
                             checks: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    ent = plan.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    out: list[dict[str, Any]] = []
    for cid, spec in checks.items():
        kind = spec.get("kind")
        message = Text.of(spec.get("message")).get(lang)
        severity = str(spec.get("severity", "warning"))
        if kind == "duplicate_key":
            target = spec.get("entity", "person")
            keys = [str(k) for k in spec.get("key", ())]
            across = str(spec.get("across"))
            norm = set(spec.get("normalise", ()) or ())
            rows: list[tuple[dict[str, Any], dict[str, Any], int | None]]
            if target == entity:
                rows = [(r, r, None) for r in records]
                tent = ent
            elif rel is not None and target == rel.entity:
                tent = plan.schema.entity(target)
                rows = [(m, r, i) for r in records for i, m in enumerate(r.get(rel.name) or ())]
            else:
                continue
            if not keys or any(k not in tent.fields for k in keys):
                continue

            def keyof(m: Mapping[str, Any], keys: list[str] = keys, norm: set[str] = norm
                       ) -> tuple[Any, ...] | None:
                vals = []
                for k in keys:
                    v = m.get(k)
                    if v is None:
                        return None
                    vals.append(str(v).strip(" ").lower() if k in norm else v)
                return tuple(vals)

            def across_of(m: Mapping[str, Any], r: Mapping[str, Any], across: str = across,
                          target: str = target) -> Any:
                if rel is not None and target == rel.entity and across == rel.key:
                    return r.get(ent.key)
                return m.get(across)

            groups: dict[tuple[Any, ...], set[Any]] = {}
            for m, r, _ in rows:
                k = keyof(m)
                a = across_of(m, r)
                if k is not None:
                    s = groups.setdefault(k, set())
                    if a is not None:
                        s.add(a)
            for m, r, _ in rows:
                k = keyof(m)
                if k is None or len(groups.get(k, ())) < 2:
                    continue
                count = len(groups[k])

                def resolve(name: str, m: Mapping[str, Any] = m, count: int = count,
                            tent: Any = tent) -> str | None:
                    if name == "count":
                        return str(count)
                    if name in tent.fields:
                        v = m.get(name)
                        if isinstance(v, bool):
                            return str(v)
                        return _fmt(v, name, tent.name)
                    return None

                member = m.get(tent.key) if tent is not ent else None
                out.append({"check": cid, "severity": severity, "entity": target,
                            "record_id": _s(r.get(ent.key)), "member_id": _s(member),
                            "message": _render(message, resolve)})
        elif kind == "forbidden_combination":
            progs = {str(k): str(v) for k, v in (spec.get("programmes") or {}).items()}
            for r in records:
                for pair in spec.get("forbidden", ()) or ():
                    a, b = (str(x) for x in pair)
                    fa, fb = progs.get(a, ""), progs.get(b, "")
                    if fa not in ent.fields or fb not in ent.fields:
                        continue
                    if r.get(fa) is True and r.get(fb) is True:
                        def resolve2(name: str, a: str = a, b: str = b,
                                     r: Mapping[str, Any] = r) -> str | None:
                            if name in ("a", "b"):
                                return (a if name == "a" else b).upper()
                            if name in ent.fields:
                                v = r.get(name)
                                return str(v) if isinstance(v, bool) else _fmt(v, name, entity)
                            return None

                        out.append({"check": cid, "severity": severity, "entity": entity,
                                    "record_id": _s(r.get(ent.key)), "member_id": None,
                                    "message": _render(message, resolve2)})
    out.sort(key=lambda f: f["check"])  # stable: within a check, record then member order
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)
