"""Policy impact: who gains, who loses and what a reform costs, per programme and area.

:func:`impact` evaluates one population with two engines — the rules in force (``base``) and
a reform (``Engine.load(reform="pkh6.yaml")``, see :mod:`welfare_rules.reform`) — and
compares, for every programme, who is eligible and what it costs. A *programme* is a
household condition rule ``<p>_eligible`` (``pkh``, ``bpnt``, ``pbi`` or a plugin's own); its
yearly cost comes from its benefit rule ``<p>_benefit_year`` (unit ``IDR/year``) or
``<p>_benefit_month`` (``IDR/month``, times 12), counted for the households that are eligible.
A programme without a benefit rule (the national ``pbi``: its premium is not a rule) has no cost
(null).

An *unknown* eligibility (missing data) is counted in ``unknown_before`` / ``unknown_after``
and as not eligible everywhere else: an unknown household is neither a gainer nor in the cost.
With ``weights`` (a numeric column of the household table, e.g. survey weights), every count
and every cost is a weighted sum.

Unknown outcomes are settled on both sides by default (``settle=True``), as
:meth:`Engine.evaluate_batch` does. With ``settle=False``, on DuckDB the two evaluations are
one query over the input registered once: both rule
chains are compiled over the same source tables and joined on the input row, and only the
columns the comparison needs are computed out of them. The Python and Spark backends read the
input once and evaluate it twice.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from .errors import DataError, EvaluationError
from .formatting import number as _num

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["ImpactResult", "Programme", "impact", "programmes", "read_weights"]

GROUPS = ("kecamatan", "kelurahan", "desil")
TOTAL_COLUMNS = ("programme", "households", "eligible_before", "eligible_after", "gainers",
                 "losers", "cost_before", "cost_after", "unknown_before", "unknown_after")
_UNITS = {"IDR/year": 1, "IDR/month": 12}
_ENTITY = "household"


@attrs.frozen
class Programme:
    """A programme as the impact sees it.

    Attributes:
        id: ``pkh``, ``bpnt``, ``pbi`` or a plugin's programme id.
        eligible: its eligibility rule (``<id>_eligible``).
        benefit: its benefit rule, or ``None`` (no cost).
        per_year: the benefit's multiplier to a yearly amount (1 or 12).
        criteria: the named criteria of the eligibility rule (the rule itself when it has
            none), compared to say *why* a household changed.
    """

    id: str
    eligible: str
    benefit: str | None
    per_year: int
    criteria: tuple[str, ...]


def programmes(engine: Engine, as_of: datetime.date) -> dict[str, Programme]:
    """The programmes of an engine on ``as_of``: every top-level household condition rule
    named ``<id>_eligible`` in force, with its benefit rule when there is one.

    Raises:
        EvaluationError: a benefit rule whose unit is not ``IDR/year`` or ``IDR/month``.
    """
    in_force = engine.in_force(as_of)
    out: dict[str, Programme] = {}
    for rid in engine.order:
        r = in_force.get(rid)
        if r is None or r.entity != _ENTITY or r.parent is not None or r.kind != "condition" \
                or not rid.endswith("_eligible"):
            continue
        pid = rid[: -len("_eligible")]
        benefit, factor = None, 1
        for cand in (f"{pid}_benefit_year", f"{pid}_benefit_month"):
            b = in_force.get(cand)
            if b is None:
                continue
            if b.unit not in _UNITS:
                raise EvaluationError(f"benefit rule '{cand}' has the unit {b.unit!r}; the "
                                      f"impact needs IDR/year or IDR/month")
            benefit, factor = cand, _UNITS[b.unit]
            break
        out[pid] = Programme(pid, rid, benefit, factor, tuple(r.children) or (rid,))
    return out


# ---------------------------------------------------------------------------------------------
# The result


class ImpactResult:
    """The comparison of a population under two engines (see :func:`impact`).

    Attributes:
        households: one row per household: the key, the group columns, ``weight`` and per
            programme ``<p>__before`` / ``<p>__after`` (status: true, false, unknown; null
            when the programme does not exist on that side), ``<p>__cost_before`` /
            ``<p>__cost_after`` (yearly rupiah, null when unknown or without a benefit rule)
            and the statuses of the eligibility criteria.
        programmes: the programmes compared, by id.
        as_of: the evaluation date.
        weights: the weight column, or ``None``.
        quarantine: rows ingestion could not read (not counted anywhere).
        fingerprint: ``{"base": ..., "reform": ...}`` engine fingerprints.
        reform: one line describing the reform (or the second engine).
    """

    def __init__(self, households: pa.Table, programmes: Mapping[str, Programme], *,
                 key: str, as_of: datetime.date, weights: str | None, quarantine: pa.Table,
                 fingerprint: Mapping[str, Any], reform: str,
                 why: Mapping[str, Mapping[str, list[str]]], groups: Sequence[str]):
        self.households = households
        self.programmes = dict(programmes)
        self.key = key
        self.as_of = as_of
        self.weights = weights
        self.quarantine = quarantine
        self.fingerprint = dict(fingerprint)
        self.reform = reform
        self.groups = list(groups)
        self._why = why
        self._changes: pa.Table | None = None

    # -- totals -------------------------------------------------------------------------------

    @property
    def totals(self) -> pa.Table:
        """One row per programme: households, eligible_before/after, gainers, losers,
        cost_before/after (yearly rupiah), unknown_before/after."""
        return self._aggregate([])

    def by(self, group: str | Sequence[str] = "kelurahan") -> pa.Table:
        """The totals per group (``kecamatan``, ``kelurahan``, ``desil`` or a column given as
        ``by`` to :func:`impact`), one row per group and programme.

        Raises:
            DataError: a group column the result does not carry.
        """
        cols = [group] if isinstance(group, str) else list(group)
        for c in cols:
            if c not in self.groups:
                raise DataError(f"cannot group the impact by '{c}': it carries "
                                f"{', '.join(self.groups)} (pass by=[...] to impact)")
        return self._aggregate(cols)

    def _aggregate(self, group: list[str]) -> pa.Table:
        t = self.households
        w = t.column("weight")
        zero = pa.scalar(0, w.type)
        parts = []
        for pid, prog in self.programmes.items():
            sb, sa = t.column(f"{pid}__before"), t.column(f"{pid}__after")
            yes_b = pc.fill_null(pc.equal(sb, "true"), False)
            yes_a = pc.fill_null(pc.equal(sa, "true"), False)

            def wsum(mask: Any, w: Any = w, zero: Any = zero) -> Any:
                return pc.if_else(mask, w, zero)

            # whole rupiah stay integers unless weights (or a decimal benefit) make fractions
            cost_type = w.type
            if pa.types.is_integer(w.type) and prog.benefit and not all(
                    pa.types.is_integer(t.column(f"{pid}__cost_{s}").type)
                    for s in ("before", "after")):
                cost_type = pa.float64()

            def cost(col: str, yes: Any, cost_type: pa.DataType = cost_type) -> Any:
                c = pc.cast(t.column(col), cost_type)
                return pc.if_else(yes, pc.multiply(pc.fill_null(c, 0),
                                                   pc.cast(w, cost_type)),
                                  pa.scalar(0, cost_type))

            cols: dict[str, Any] = {g: t.column(g) for g in group}
            cols.update({
                "households": w,
                "eligible_before": wsum(yes_b), "eligible_after": wsum(yes_a),
                "gainers": wsum(pc.and_(yes_a, pc.invert(yes_b))),
                "losers": wsum(pc.and_(yes_b, pc.invert(yes_a))),
                "cost_before": cost(f"{pid}__cost_before", yes_b),
                "cost_after": cost(f"{pid}__cost_after", yes_a),
                "unknown_before": wsum(pc.fill_null(pc.equal(sb, "unknown"), False)),
                "unknown_after": wsum(pc.fill_null(pc.equal(sa, "unknown"), False)),
            })
            tbl = pa.table(cols)
            names = [c for c in tbl.column_names if c not in group]
            if group:
                agg = tbl.group_by(group, use_threads=False).aggregate(
                    [(c, "sum") for c in names])
                agg = agg.rename_columns([c[:-4] if c.endswith("_sum") else c
                                          for c in agg.column_names])
            else:
                agg = pa.table({c: [pc.sum(tbl.column(c)).as_py() or 0] for c in names},
                               schema=pa.schema([(c, tbl.schema.field(c).type) for c in names]))
            agg = agg.append_column("programme", pa.array([pid] * agg.num_rows, pa.string()))
            if not prog.benefit:
                nulls = pa.nulls(agg.num_rows, w.type)
                agg = agg.set_column(agg.column_names.index("cost_before"), "cost_before", nulls)
                agg = agg.set_column(agg.column_names.index("cost_after"), "cost_after", nulls)
            parts.append(agg.select([*group, *TOTAL_COLUMNS]))
        if not parts:
            return pa.table({c: pa.array([], pa.string()) for c in [*group, *TOTAL_COLUMNS]})
        out = pa.concat_tables(parts, promote_options="permissive")
        sort = [(g, "ascending") for g in group] + [("programme", "ascending")]
        return out.sort_by(sort) if group else out

    # -- changes ------------------------------------------------------------------------------

    @property
    def changes(self) -> pa.Table:
        """The households whose eligibility or yearly benefit changed, one row per household
        and programme: key, the groups, ``programme``, ``before``, ``after`` (statuses),
        ``cost_before``, ``cost_after``, ``change`` (gains, loses, amount, unknown),
        ``rules`` (the criteria whose outcome changed, ``pkh_desil: false → true``) and
        ``inputs`` (what the reform changed that those rules read, and the household's
        values of the fields they read)."""
        if self._changes is None:
            self._changes = self._compute_changes()
        return self._changes

    def _compute_changes(self) -> pa.Table:
        t = self.households
        rows: list[dict[str, Any]] = []
        for pid, prog in self.programmes.items():
            sb, sa = t.column(f"{pid}__before"), t.column(f"{pid}__after")
            cb, ca = t.column(f"{pid}__cost_before"), t.column(f"{pid}__cost_after")
            differ = pc.fill_null(pc.not_equal(sb, sa), True)
            same_null = pc.and_(pc.is_null(sb), pc.is_null(sa))
            differ = pc.and_(differ, pc.invert(same_null))
            cdiff = pc.fill_null(pc.not_equal(cb, ca), False)
            cdiff = pc.or_(cdiff, pc.xor(pc.is_null(cb), pc.is_null(ca)))
            mask = pc.or_(differ, cdiff)
            sel = t.filter(mask)
            if sel.num_rows == 0:
                continue
            crit_cols = [c for c in prog.criteria if f"{pid}__{c}__before" in t.column_names]
            why = self._why.get(pid, {})
            fields = sorted({f for c in [*crit_cols, "__benefit"] for f in why.get(f"{c}#fields",
                                                                                   [])})
            for r in sel.to_pylist():
                b, a = r[f"{pid}__before"], r[f"{pid}__after"]
                if a == "true" and b != "true":
                    change = "gains"
                elif b == "true" and a != "true":
                    change = "loses"
                elif b == a:
                    change = "amount"
                else:
                    change = "unknown"
                changed = [c for c in crit_cols
                           if r[f"{pid}__{c}__before"] != r[f"{pid}__{c}__after"]]
                rules = [f"{c}: {r[f'{pid}__{c}__before'] or '-'} → "
                         f"{r[f'{pid}__{c}__after'] or '-'}" for c in changed]
                causes = [x for c in changed for x in why.get(c, [])]
                if change == "amount" and prog.benefit:
                    rules.append(f"{prog.benefit}: {_num(r[f'{pid}__cost_before'])} → "
                                 f"{_num(r[f'{pid}__cost_after'])} a year")
                    causes += why.get("__benefit", [])
                read = [f for c in changed for f in why.get(f"{c}#fields", [])]
                if change == "amount":
                    read += why.get("__benefit#fields", [])
                values = [f"{f} = {_num(r.get(f'__f_{f}'))}" for f in dict.fromkeys(read)
                          if f"__f_{f}" in r]
                row = {self.key: r[self.key]}
                row.update({g: r.get(g) for g in self.groups})
                row.update({"programme": pid, "before": b, "after": a,
                            "cost_before": r[f"{pid}__cost_before"],
                            "cost_after": r[f"{pid}__cost_after"], "change": change,
                            "rules": "; ".join(rules),
                            "inputs": "; ".join(dict.fromkeys([*causes, *values]))})
                rows.append(row)
            del fields
        schema = pa.schema([(self.key, pa.string()),
                            *[(g, t.schema.field(g).type) for g in self.groups],
                            ("programme", pa.string()), ("before", pa.string()),
                            ("after", pa.string()), ("cost_before", pa.float64()),
                            ("cost_after", pa.float64()), ("change", pa.string()),
                            ("rules", pa.string()), ("inputs", pa.string())])
        for r in rows:
            for c in ("cost_before", "cost_after"):
                r[c] = None if r[c] is None else float(r[c])
        return pa.Table.from_pylist(rows, schema=schema)

    # -- output -------------------------------------------------------------------------------

    def to_dict(self, by: str | None = None) -> dict[str, Any]:
        """Plain data for ``--json``: reform, as_of, weights, totals (and ``by``)."""
        out: dict[str, Any] = {"reform": self.reform, "as_of": self.as_of.isoformat(),
                               "weights": self.weights, "totals": self.totals.to_pylist(),
                               "fingerprint": self.fingerprint}
        if by:
            out["by"] = {"group": by, "rows": self.by(by).to_pylist()}
        return out

    def _repr_html_(self) -> str:
        return render_html(self, by="kecamatan" if "kecamatan" in self.groups else None,
                           standalone=False)

    def __repr__(self) -> str:
        lines = [f"<ImpactResult {self.reform} as_of={self.as_of}"
                 + (f" weights={self.weights}" if self.weights else "") + ">"]
        for r in self.totals.to_pylist():
            lines.append(f"  {r['programme']}: eligible {_num(r['eligible_before'])} → "
                         f"{_num(r['eligible_after'])} (+{_num(r['gainers'])} "
                         f"-{_num(r['losers'])}), cost {_num(r['cost_before'])} → "
                         f"{_num(r['cost_after'])} a year")
        return "\n".join(lines)

    def write_xlsx(self, path: str | Path, *, by: str | None = None,
                   unmask: bool = False) -> Path:
        """A workbook: what was compared, the totals, the totals per ``by`` and the changed
        households (ids masked; with ``unmask`` also ``<key>_unmasked``)."""
        from .reports import write_workbook

        changes = self.changes  # written masked (reports.write_workbook)
        if unmask:
            changes = changes.append_column(f"{self.key}_unmasked", changes.column(self.key))
        about = pa.table({"item": ["reform", "as_of", "weights", "base rules digest",
                                   "reform rules digest"],
                          "value": [self.reform, self.as_of.isoformat(), self.weights or "-",
                                    str(self.fingerprint["base"].get("digest")),
                                    str(self.fingerprint["reform"].get("digest"))]})
        sheets: dict[str, pa.Table] = {"about": about, "totals": self.totals}
        if by:
            sheets[f"by {by}"] = self.by(by)
        sheets["changes"] = changes
        return write_workbook(path, sheets)

    def write_html(self, path: str | Path, *, by: str | None = None) -> Path:
        """A standalone HTML page with the totals, a chart and the totals per ``by``."""
        out = Path(path)
        out.write_text(render_html(self, by=by, standalone=True), encoding="utf-8")
        return out


def render_html(result: ImpactResult, *, by: str | None, standalone: bool) -> str:
    """The impact as HTML (Jinja2 template ``impact.html.j2``) with an SVG bar chart of the
    eligible households before and after per programme, and gainers/losers per group."""
    from .reports.charts import bar_chart, template

    totals = result.totals.to_pylist()
    bars = [{"label": r["programme"], "a": r["eligible_before"] or 0,
             "b": r["eligible_after"] or 0} for r in totals]
    groups: list[dict[str, Any]] = []
    if by:
        for r in result.by(by).to_pylist():
            groups.append({"group": r[by], "programme": r["programme"],
                           "gainers": r["gainers"] or 0, "losers": r["losers"] or 0})
    return str(template("impact.html.j2").render(
        standalone=standalone, title=result.reform, as_of=result.as_of.isoformat(),
        weights=result.weights, columns=TOTAL_COLUMNS, totals=totals,
        chart=bar_chart(bars, ("before", "after")), by=by,
        group_chart=bar_chart([{"label": f"{g['group']} · {g['programme']}",
                                "a": g["gainers"], "b": g["losers"]} for g in groups
                               if g["gainers"] or g["losers"]], ("gainers", "losers")),
        group_rows=result.by(by).to_pylist() if by else [], fmt=_num,
        fingerprint=result.fingerprint))


# ---------------------------------------------------------------------------------------------
# Entry point


def impact(base: Engine, reform: Engine | str | Path | Any, data: Any, *, members: Any = None,
           as_of: datetime.date | str | None = None,
           weights: str | Mapping[str, float] | pa.Table | None = None,
           by: str | Sequence[str] | None = None, backend: str = "duckdb",
           adapter: Any = None, validate: bool = True, spark: Any = None,
           memory_limit: str = "1GB", threads: int | None = None,
           settle: bool = True) -> ImpactResult:
    """Evaluate ``data`` under ``base`` and under ``reform`` and compare the programmes.

    Args:
        base: the engine with the rules in force.
        reform: the engine with the reform (``Engine.load(reform=...)``), or a reform file /
            :class:`~welfare_rules.reform.Reform` applied on top of ``base``'s plugins.
        data: the households, as for :meth:`Engine.evaluate_batch`; read once for both
            evaluations.
        members: the persons table (for inputs other than a LoadResult).
        adapter: the adapter that reads ``data`` (see :meth:`Engine.read`).
        validate: read through ingestion (``False`` trusts canonical input, as in batch).
        as_of: the evaluation date (default today).
        weights: a numeric column of the household table (survey weights): every count and
            cost becomes a weighted sum. A missing, negative or non-numeric weight is an error.
            Or the weights themselves: ``{id: weight}`` or a table from :func:`read_weights`.
        by: household fields to carry for :meth:`ImpactResult.by`, besides kecamatan,
            kelurahan and desil.
        backend: ``duckdb`` or any other registered backend (``python``, ``spark``,
            ``polars``, a plugin's): each side evaluated as a batch; with ``settle=False``,
            DuckDB evaluates both sides in one query.
        spark: the SparkSession for ``backend="spark"``.
        memory_limit: the DuckDB memory limit (DuckDB spills beyond it).
        threads: DuckDB threads (default: all cores).
        settle: settle unknown outcomes soundly on both sides, as ``evaluate_batch`` and
            ``Engine.evaluate`` do (a household a blank input cannot change is counted as
            what it is); ``False`` counts the backends' three-valued answer, faster.

    Raises:
        DataError: bad weights, or a ``by`` that is not a household field.
        EvaluationError: an unknown backend (refused before any data is read).
    """
    from .batch import resolve_backend
    from .engine import Engine
    from .plan import as_of_date

    if not isinstance(reform, Engine):
        reform = reform_engine(base, reform)
    # before any data is read: an unknown name is refused at once, a plugin's backend accepted
    backend_name = resolve_backend(base, backend).name
    resolve_backend(reform, backend_name)
    day = as_of_date(as_of)
    ent = base.schema.entity(_ENTITY)
    key = ent.key
    extra = [by] if isinstance(by, str) else list(by or ())
    for g in extra:
        if g not in ent.fields:
            raise DataError(f"by: '{g}' is not a household field")
    groups = list(dict.fromkeys([g for g in (*GROUPS, *extra) if g in ent.fields]))
    pa_, pb = programmes(base, day), programmes(reform, day)
    progs = {**pa_, **{k: v for k, v in pb.items() if k not in pa_}}
    for pid in progs:  # criteria of both sides (a reform may rewrite the rule)
        both = tuple(dict.fromkeys([*(pa_[pid].criteria if pid in pa_ else ()),
                                    *(pb[pid].criteria if pid in pb else ())]))
        progs[pid] = attrs.evolve(progs[pid], criteria=both)
    why, fields = _why(base, reform, progs, day)
    carry = list(dict.fromkeys([*groups, *[f for f in fields if f in ent.fields]]))
    wtable = None
    if isinstance(weights, str):
        wtable = read_weights(data, weights, key=key)
    elif isinstance(weights, Mapping):
        wtable = _check_weights(pa.table({key: list(map(str, weights)),
                                          "weight": list(weights.values())}), key, "weight")
    elif weights is not None:
        wtable = _check_weights(weights, key, "weight")
    loaded, tables = _read(base, data, members, adapter, validate, backend_name)
    if backend_name == "duckdb" and not settle:
        narrow = _duckdb_pair(base, reform, tables, day, pa_, pb, progs, carry, groups, key,
                              memory_limit=memory_limit, threads=threads)
    else:  # any other registered backend (python, spark, polars, a plugin's): both batches
        src = loaded if loaded is not None else data
        kw: dict[str, Any] = {"members": None if loaded is not None else members,
                              "validate": False, "dataset_checks": False, "carry": carry,
                              "settle": settle}
        if backend_name == "duckdb":
            kw.update(memory_limit=memory_limit, threads=threads)
        if backend_name == "spark":
            kw["spark"] = spark
        ra = base.evaluate_batch(_ENTITY, src, as_of=day, backend=backend_name, **kw)
        rb = reform.evaluate_batch(_ENTITY, src, as_of=day, backend=backend_name, **kw)
        try:
            narrow = _narrow(ra.to_arrow(), rb.to_arrow(), pa_, pb, progs, carry, groups, key)
        finally:
            ra.close()
            rb.close()
    label = weights if isinstance(weights, str) else ("weight" if weights is not None else None)
    narrow = _with_weights(narrow, key, wtable, label)
    quarantine = loaded.quarantine if loaded is not None else _empty_quarantine()
    what = reform.reform.describe("en") if reform.reform is not None else "reform engine"
    return ImpactResult(narrow, progs, key=key, as_of=day, weights=label,
                        quarantine=quarantine,
                        fingerprint={"base": base.fingerprint(day),
                                     "reform": reform.fingerprint(day)},
                        reform=what, why=why, groups=groups)


def reform_engine(base: Engine, reform: Any) -> Engine:
    """``base``'s plugins with ``reform`` on top.

    Raises:
        DataError: ``base`` has rule files of ``Engine.load(rules=...)``, parameters of
            ``Engine.load(parameters=...)`` or a reform of its own, which cannot be carried
            over: load the reform engine yourself and pass it.
    """
    from .engine import Engine
    from .model import WHAT_IF

    if base.reform is not None or any(p.source == "Engine.load(rules=...)"
                                      for p in base.plugins) or any(
            p.origin.plugin == WHAT_IF for p in base.parameters.values()):
        raise DataError("the base engine has rules, parameters or a reform given to "
                        "Engine.load: load the reform engine the same way with reform=... and "
                        "pass it to impact")
    plugins = [p.obj if p.obj is not None else p.name for p in base.plugins
               if p.source not in ("built-in", "reform")]
    return Engine.load(plugins=plugins or None, reform=reform)


def _empty_quarantine() -> pa.Table:
    from .adapters.result import QUARANTINE_SCHEMA, empty_table

    return empty_table(QUARANTINE_SCHEMA)


# -- what the reform changed, statically ----------------------------------------------------


def _why(base: Engine, reform: Engine, progs: Mapping[str, Programme], day: datetime.date
         ) -> tuple[dict[str, dict[str, list[str]]], list[str]]:
    """Per programme and criterion: the reform's changes it depends on (parameters whose value
    differs on ``day``, rules the reform replaced) and the household fields it reads."""
    fa, fb = base.in_force(day), reform.in_force(day)
    out: dict[str, dict[str, list[str]]] = {}
    all_fields: list[str] = []

    def closure(rid: str) -> tuple[set[str], set[str], set[str]]:
        params: set[str] = set()
        rules: set[str] = set()
        fields: set[str] = set()
        todo = [rid]
        while todo:
            r = todo.pop()
            if r in rules:
                continue
            rules.add(r)
            for eng, inf in ((base, fa), (reform, fb)):
                rule = inf.get(r)
                if rule is None:
                    continue
                refs = eng.rule_refs(rule)
                params |= set(refs.params)
                if r == rid:
                    fields |= set(refs.fields)
                todo += [*refs.rules, *refs.member_rules, *rule.children,
                         *(lv.rule for lv in rule.levels if lv.rule),
                         *(i.rule for i in rule.indicators)]
        return params, rules, fields

    def value(eng: Engine, name: str) -> Any:
        p = eng.parameters.get(name)
        if p is None:
            return None
        try:
            return p.at(day)[0]
        except Exception:
            return None

    for pid, prog in progs.items():
        entry: dict[str, list[str]] = {}
        targets = [*prog.criteria, *(["__benefit"] if prog.benefit else [])]
        for c in targets:
            rid = prog.benefit if c == "__benefit" else c
            assert rid is not None
            params, rules, fields = closure(rid)
            causes = []
            for name in sorted(params):
                va, vb = value(base, name), value(reform, name)
                if va != vb:
                    causes.append(f"param {name}: {_num(va)} → {_num(vb)}")
            for r in sorted(rules):
                ra, rb = fa.get(r), fb.get(r)
                if ra != rb:
                    who = str(rb.origin) if rb is not None else "removed"
                    causes.append(f"rule {r} from {who}")
            entry[c] = causes
            entry[f"{c}#fields"] = sorted(fields)
            all_fields += sorted(fields)
        out[pid] = entry
    return out, list(dict.fromkeys(all_fields))


# -- inputs ----------------------------------------------------------------------------------


def _read(engine: Engine, data: Any, members: Any, adapter: Any, validate: bool,
          backend: str) -> tuple[Any, dict[str, Any]]:
    """Read the input once: ``(LoadResult or None, {entity: Arrow table or Parquet path})``."""
    from .adapters import LoadResult

    ent = engine.schema.entity(_ENTITY)
    rel = next(iter(ent.relations.values()), None)
    child = rel.entity if rel else None
    if isinstance(data, LoadResult):
        return data, dict(data.tables)
    if validate:
        loaded = engine.read(data, adapter=adapter, members=members, entity=_ENTITY)
        return loaded, dict(loaded.tables)
    tables: dict[str, Any] = {}
    for name, obj in ((_ENTITY, data), (child, members)):
        if name is None or obj is None:
            continue
        if isinstance(obj, str | Path) and str(obj).endswith(".parquet"):
            tables[name] = Path(obj)
            continue
        tbl = _arrow(obj)
        if tbl is None:
            loaded = engine.read(data, adapter=adapter, members=members, entity=_ENTITY)
            return loaded, dict(loaded.tables)
        tables[name] = tbl
    return None, tables


def _arrow(obj: Any) -> pa.Table | None:
    if isinstance(obj, pa.Table):
        return obj
    mod = type(obj).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    if mod.startswith("polars"):
        out: pa.Table = obj.to_arrow()
        return out
    return None


def read_weights(data: Any, column: str, *, key: str = "id") -> pa.Table:
    """``(key, weight)`` from the household input: a table (Arrow, pandas, polars) or a CSV or
    Parquet file. Ingestion keeps schema fields only, so the weight column is read from the
    source itself.

    Raises:
        DataError: the column is missing, a weight is missing, negative or not a number, or the
            ids are not unique (the row is named).
    """
    from .adapters import LoadResult

    tbl: pa.Table | None
    if isinstance(data, LoadResult):
        tbl = data.tables.get(_ENTITY)
        if tbl is None or column not in tbl.column_names:
            raise DataError(f"weights: the loaded household table has no column '{column}' "
                            f"(pass the source table or file, which has it)")
    elif isinstance(data, str | Path):
        import duckdb

        p = Path(data)
        if not p.exists():
            raise DataError(f"weights: {p} not found")
        con = duckdb.connect()
        try:
            if p.suffix.lower() == ".parquet":
                rel = con.read_parquet(str(p))
            elif p.suffix.lower() in (".csv", ".txt", ".tsv"):
                rel = con.read_csv(str(p), all_varchar=True)
            else:
                raise DataError(f"weights: cannot read a weight column from {p.suffix} files "
                                f"(use CSV or Parquet, or pass a table)")
            if column not in rel.columns:
                raise DataError(f"weights: {p.name} has no column '{column}' (its columns: "
                                f"{', '.join(rel.columns)})")
            if key not in rel.columns:
                raise DataError(f"weights: {p.name} has no column '{key}' to match the "
                                f"weights to households")
            tbl = rel.select(key, column).to_arrow_table()
        finally:
            con.close()
    else:
        tbl = _arrow(data)
        if tbl is None:
            raise DataError(f"weights: cannot read a column from {type(data).__name__}")
        if column not in tbl.column_names:
            raise DataError(f"weights: the household table has no column '{column}' (its "
                            f"columns: {', '.join(tbl.column_names)})")
    return _check_weights(tbl.select([key, column]), key, column)


def _check_weights(tbl: pa.Table, key: str, column: str) -> pa.Table:
    raw = tbl.column(column)
    if pa.types.is_string(raw.type) or pa.types.is_large_string(raw.type):
        try:
            vals = pc.cast(pc.utf8_trim_whitespace(raw), pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for i, v in enumerate(raw.to_pylist()):
                try:
                    float(str(v).strip()) if v is not None else None
                except ValueError:
                    raise DataError(f"weights: row {i + 1}, column '{column}': expected a "
                                    f"number, found {v!r}") from None
            raise
    elif pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or \
            pa.types.is_decimal(raw.type):
        vals = pc.cast(raw, pa.float64())
    else:
        raise DataError(f"weights: column '{column}' is {raw.type}, expected numbers")
    bad = pc.or_(pc.is_null(vals), pc.or_(pc.less(pc.fill_null(vals, 0.0), 0.0),
                                          pc.invert(pc.is_finite(pc.fill_null(vals, 0.0)))))
    if pc.any(bad).as_py():
        i = int(pc.index(bad, True).as_py())
        raise DataError(f"weights: row {i + 1}, column '{column}': expected a weight ≥ 0, "
                        f"found {raw[i].as_py()!r}")
    keys = pc.cast(tbl.column(key), pa.string())
    if pc.count_distinct(keys).as_py() != len(keys):
        raise DataError(f"weights: the household ids in '{key}' are not unique, so a weight "
                        f"cannot be matched to its household")
    return pa.table({key: keys, "weight": vals})


def _with_weights(narrow: pa.Table, key: str, wtable: pa.Table | None,
                  column: str | None) -> pa.Table:
    if wtable is None:
        return narrow.append_column("weight", pa.array([1] * narrow.num_rows, pa.int64()))
    pos = pc.index_in(pc.cast(narrow.column(key), pa.string()), value_set=wtable.column(key))
    if pc.any(pc.is_null(pos)).as_py():
        from .masking import mask_id

        i = int(pc.index(pc.is_null(pos), True).as_py())
        raise DataError(f"weights: household {mask_id(narrow.column(key)[i].as_py())} has no "
                        f"'{column}'")
    return narrow.append_column("weight", wtable.column("weight").take(pos))


# -- the per-household comparison, from two result tables (Python, Spark) --------------------


def _status(t: pa.Table, rid: str) -> Any:
    name = rid + "__status"
    if name not in t.column_names:
        return pa.nulls(t.num_rows, pa.string())
    return pc.cast(t.column(name), pa.string())


def _cost(t: pa.Table, prog: Programme | None) -> Any:
    if prog is None or prog.benefit is None or prog.benefit not in t.column_names:
        return pa.nulls(t.num_rows, pa.int64())
    v = t.column(prog.benefit)
    if pa.types.is_integer(v.type):
        v = pc.cast(v, pa.int64())
    return pc.multiply(v, prog.per_year)


def _narrow(ta: pa.Table, tb: pa.Table, pa_: Mapping[str, Programme],
            pb: Mapping[str, Programme], progs: Mapping[str, Programme],
            carry: Sequence[str], groups: Sequence[str], key: str) -> pa.Table:
    if ta.num_rows != tb.num_rows or not ta.column(key).equals(tb.column(key)):
        raise EvaluationError("the two evaluations returned different records")
    cols: dict[str, Any] = {key: pc.cast(ta.column(key), pa.string())}
    for c in carry:
        cols[c if c in groups else f"__f_{c}"] = ta.column(c)
    for pid, prog in progs.items():
        cols[f"{pid}__before"] = _status(ta, prog.eligible) if pid in pa_ else \
            pa.nulls(ta.num_rows, pa.string())
        cols[f"{pid}__after"] = _status(tb, prog.eligible) if pid in pb else \
            pa.nulls(tb.num_rows, pa.string())
        cols[f"{pid}__cost_before"] = _cost(ta, pa_.get(pid))
        cols[f"{pid}__cost_after"] = _cost(tb, pb.get(pid))
        for c in prog.criteria:
            cols[f"{pid}__{c}__before"] = _status(ta, c)
            cols[f"{pid}__{c}__after"] = _status(tb, c)
    return _carry_groups(pa.table(cols), groups)


def _carry_groups(t: pa.Table, groups: Sequence[str]) -> pa.Table:
    """Group columns keep their names; each is also available as ``__f_<name>`` for the
    change explanations (the fields a criterion reads)."""
    for c in groups:
        if f"__f_{c}" not in t.column_names:
            t = t.append_column(f"__f_{c}", t.column(c))
    return t


# -- DuckDB: both evaluations in one query ---------------------------------------------------


def _duckdb_pair(base: Engine, reform: Engine, tables: Mapping[str, Any], day: datetime.date,
                 pa_: Mapping[str, Programme], pb: Mapping[str, Programme],
                 progs: Mapping[str, Programme], carry: Sequence[str], groups: Sequence[str],
                 key: str, *, memory_limit: str, threads: int | None) -> pa.Table:
    import shutil
    import tempfile

    import duckdb
    from sqlglot import exp

    from .backends.base import ROW, STATUS_SUFFIX
    from .backends.duckdb import DuckDBCompiler, register_input
    from .backends.sql import col

    tmp = Path(tempfile.mkdtemp(prefix="welfare-rules-impact-"))
    config: dict[str, Any] = {"memory_limit": memory_limit,
                              "temp_directory": str(tmp / "spill"),
                              "preserve_insertion_order": False}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    try:
        ent = base.schema.entity(_ENTITY)
        rel = next(iter(ent.relations.values()), None)

        columns = register_input(con, "src_entity", tables[_ENTITY])
        mcols = None
        if rel is not None and rel.entity in tables:
            mcols = register_input(con, "src_members", tables[rel.entity])
        queries = []
        for eng in (base, reform):
            comp = DuckDBCompiler(eng.plan(day))
            queries.append((comp, comp.compile_entity(
                _ENTITY, "src_entity", columns, "src_members" if mcols is not None else None,
                mcols or ())))
        (comp_a, qa), (_, qb) = queries
        ctes: list[tuple[str, exp.Expression]] = list(qa.ctes)
        renamed = {name: f"b_{name}" for name, _ in qb.ctes}

        def rename(node: exp.Expression) -> exp.Expression:
            if isinstance(node, exp.Table) and not node.args.get("db") and \
                    node.name in renamed:
                out = exp.to_table(renamed[node.name], quoted=True)
                out.set("alias", exp.TableAlias(this=exp.to_identifier(
                    node.alias or node.name, quoted=True)))
                return out
            return node

        ctes += [(renamed[name], sel.transform(rename)) for name, sel in qb.ctes]

        def side(q: Any, extra: Sequence[str], transform: bool) -> exp.Select:
            res = q.result.copy()
            res.set("order", None)
            res.set("expressions", [*res.expressions, col(ROW),
                                    *[exp.alias_(col(c), f"__c_{c}", quoted=True)
                                      for c in extra]])
            out: exp.Select = res.transform(rename) if transform else res
            return out

        ctes.append(("a_res", side(qa, carry, False)))
        ctes.append(("b_res", side(qb, (), True)))
        a, b = "a_res", "b_res"
        sel: list[Any] = [exp.alias_(exp.cast(col(key, a), "VARCHAR"), key,
                                                quoted=True)]
        for c in carry:
            sel.append(exp.alias_(col(f"__c_{c}", a), c if c in groups else f"__f_{c}",
                                  quoted=True))
        null_txt = exp.cast(exp.null(), "VARCHAR")

        def status(q: Any, t: str, rid: str) -> exp.Expression:
            if rid not in q.rule_ids:
                return null_txt.copy()
            return exp.cast(col(rid + STATUS_SUFFIX, t), "VARCHAR")

        def cost(q: Any, t: str, prog: Programme | None) -> exp.Expression:
            if prog is None or prog.benefit is None or prog.benefit not in q.rule_ids:
                return exp.cast(exp.null(), "BIGINT")
            return exp.Mul(this=col(prog.benefit, t),
                           expression=exp.Literal.number(prog.per_year))

        for pid, prog in progs.items():
            sel.append(exp.alias_(status(qa, a, prog.eligible) if pid in pa_ else null_txt.copy(),
                                  f"{pid}__before", quoted=True))
            sel.append(exp.alias_(status(qb, b, prog.eligible) if pid in pb else null_txt.copy(),
                                  f"{pid}__after", quoted=True))
            sel.append(exp.alias_(cost(qa, a, pa_.get(pid)), f"{pid}__cost_before",
                                  quoted=True))
            sel.append(exp.alias_(cost(qb, b, pb.get(pid)), f"{pid}__cost_after",
                                  quoted=True))
            for c in prog.criteria:
                sel.append(exp.alias_(status(qa, a, c), f"{pid}__{c}__before", quoted=True))
                sel.append(exp.alias_(status(qb, b, c), f"{pid}__{c}__after", quoted=True))
        query = exp.select(*sel).from_(exp.to_table(a, quoted=True)).join(
            exp.to_table(b, quoted=True),
            on=exp.EQ(this=col(ROW, a), expression=col(ROW, b)), join_type="inner"
        ).order_by(col(ROW, a))
        query.set("with_", exp.With(expressions=[
            exp.CTE(this=q, alias=exp.TableAlias(this=exp.to_identifier(name)))
            for name, q in ctes]))
        # as batch.py does for the results query: keep the members' aggregates on the build
        # side of their join (DuckDB would otherwise hold the wide records through the
        # members' window sorts; docs/performance.md)
        con.execute("SET disabled_optimizers = 'build_side_probe_side'")
        out: pa.Table = con.sql(comp_a.sql(query)).to_arrow_table()
        return _carry_groups(out, groups)
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
