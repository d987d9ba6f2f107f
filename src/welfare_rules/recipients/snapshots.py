"""Monthly snapshots of an evaluation, and what changed between two of them.

A snapshot is one evaluation of a population kept as a table: the record's input fields, one
column per rule, the findings of the checks, the engine fingerprint and the date. Comparing two
snapshots (say May and June) tells who entered the list, who left it, and, for each household
whose outcome changed, which rule changed and which input values changed with it — restricted to
the fields that rule reads, directly or through other rules and members — so that a data officer
sees the data change behind each difference, or learns that only the rules, the parameters or
the date moved. Everything is computed with DuckDB over Arrow tables.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
from sqlglot import exp

from ..adapters.result import empty_table
from ..errors import NotFoundError
from ..sqlbuild import Query, bind, query, relation, run, union_all
from .duck import as_date as _as_date
from .reconcile import connect, to_arrow

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["Snapshot", "SnapshotDiff", "compare_snapshots", "rule_inputs", "take_snapshot"]

FINDING_SCHEMA = pa.schema([
    ("check", pa.string()), ("severity", pa.string()), ("message", pa.string()),
    ("entity", pa.string()), ("record_id", pa.string()), ("member_id", pa.string()),
])


@attrs.frozen
class Snapshot:
    """One evaluation of a population.

    Attributes:
        entity: the entity evaluated (``household``, ``institution``...).
        key: the key column (``id`` for households).
        as_of: the evaluation date.
        results: the input fields and one column per rule (rule id), one row per record.
        findings: the checks that apply: ``check``, ``severity``, ``message`` (ids already
            masked), ``entity``, ``record_id``, ``member_id`` (raw ids).
        fingerprint: :meth:`Engine.fingerprint` as of ``as_of``.
        rules: the rule columns of ``results``.
    """

    entity: str
    key: str
    as_of: datetime.date
    results: pa.Table
    findings: pa.Table
    fingerprint: dict[str, Any]
    rules: tuple[str, ...]

    def save(self, path: str | Path) -> Path:
        """Write ``results`` as Parquet (findings beside it as ``<stem>.findings.parquet``);
        the fingerprint, date and rule list go into the file's metadata."""
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"entity": self.entity, "key": self.key, "as_of": self.as_of.isoformat(),
                "fingerprint": self.fingerprint, "rules": list(self.rules)}
        table = self.results.replace_schema_metadata(
            {b"welfare_rules.snapshot": json.dumps(meta).encode()})
        pq.write_table(table, path)
        pq.write_table(self.findings, path.with_suffix(".findings.parquet"))
        return path

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Read a snapshot written by :meth:`save`."""
        import pyarrow.parquet as pq

        path = Path(path)
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(b"welfare_rules.snapshot")
        if raw is None:
            from ..errors import DataError

            raise DataError(f"{path} is not a snapshot (no welfare_rules.snapshot metadata); "
                            f"write one with Snapshot.save or report --save-snapshot")
        meta = json.loads(raw)
        fpath = path.with_suffix(".findings.parquet")
        findings = pq.read_table(fpath) if fpath.exists() else empty_table(FINDING_SCHEMA)
        return cls(entity=meta["entity"], key=meta["key"],
                   as_of=datetime.date.fromisoformat(meta["as_of"]),
                   results=table.replace_schema_metadata(None), findings=findings,
                   fingerprint=meta["fingerprint"], rules=tuple(meta["rules"]))


def _batch_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("welfare_rules.batch") is not None


def take_snapshot(engine: Engine, data: Any, members: Any = None, *,
                  entity: str = "household", as_of: datetime.date | str | None = None,
                  rules: Sequence[str] | None = None, backend: str = "auto") -> Snapshot:
    """Evaluate a population and keep the result as a :class:`Snapshot`.

    Args:
        engine: the loaded engine.
        data: the records (Arrow table, DataFrame, DuckDB relation or a ``LoadResult`` of
            ``engine.read``).
        members: the related records (persons of households), if ``data`` is not a
            ``LoadResult``.
        entity: the entity of ``data``.
        as_of: the evaluation date; default today.
        rules: the rules to keep as columns (default: every visible rule of the entity).
        backend: ``"python"`` (the per-record reference backend), ``"duckdb"`` (batch), or
            ``"auto"`` (batch when :mod:`welfare_rules.batch` is installed, else Python).
    """
    as_of = _as_date(as_of)
    from ..adapters import LoadResult

    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    if isinstance(data, LoadResult):
        table = data.tables[entity]
        if members is None and rel is not None:
            members = data.tables.get(rel.entity)
    else:
        table = to_arrow(data, entity)
    child = to_arrow(members, "members") if members is not None else None
    key = engine.schema.entity(entity).key
    wanted = list(rules) if rules is not None else [
        rid for rid in engine.visible_rule_ids(entity) if engine.rule(rid, as_of).in_force(as_of)]
    if backend == "auto":
        backend = "duckdb" if _batch_available() else "python"
    if backend != "python":
        res = engine.evaluate_batch(entity, table, members=child, as_of=as_of, backend=backend)
        out = to_arrow(res, "batch result")
        findings = _batch_findings(res, entity)
        cols = [c for c in wanted if c in out.column_names]
        if key in out.column_names:
            with connect() as con:
                con.register("t", table)
                con.register("r", out.select([key, *cols]))
                extra = [c for c in table.column_names if c not in cols]
                results = relation(con, query(
                    "SELECT __extra, __cols FROM t LEFT JOIN r ON t.__key = r.__key",
                    extra=[_col("t", c) for c in extra],
                    cols=[_col("r", c) for c in cols] or [query("NULL AS _none")],
                    key=key)).to_arrow_table()
        else:
            results = _append(table, {c: out[c] for c in cols})
        return Snapshot(entity, key, as_of, results, findings,
                        getattr(res, "fingerprint", None) or engine.fingerprint(as_of),
                        tuple(cols))
    return _python_snapshot(engine, data if isinstance(data, LoadResult) else table, child,
                            entity, key, as_of, wanted)


def _append(table: pa.Table, columns: Mapping[str, Any]) -> pa.Table:
    for name, col in columns.items():
        if name in table.column_names:
            table = table.drop_columns([name])
        table = table.append_column(name, col)
    return table


def _batch_findings(res: Any, entity: str) -> pa.Table:
    f = getattr(res, "findings", None)
    if f is None:
        return empty_table(FINDING_SCHEMA)
    try:
        t = to_arrow(f, "findings")
    except Exception:  # an unknown shape gives no findings, not a crash
        return empty_table(FINDING_SCHEMA)
    cols = {}
    aliases = {"check": ("check", "rule", "check_id"), "severity": ("severity",),
               "message": ("message",), "entity": ("entity",),
               "record_id": ("record_id", "household_id", "id"),
               "member_id": ("member_id", "nik")}
    for name, options in aliases.items():
        src = next((o for o in options if o in t.column_names), None)
        cols[name] = (t[src].cast(pa.string()) if src else
                      pa.array([entity if name == "entity" else None] * t.num_rows, pa.string()))
    return pa.table(cols, schema=FINDING_SCHEMA)


def _python_snapshot(engine: Engine, table: Any, child: pa.Table | None, entity: str,
                     key: str, as_of: datetime.date, wanted: Sequence[str]) -> Snapshot:
    """The per-record path: the reference backend, one ``engine.evaluate`` per record."""
    from ..adapters import LoadResult

    # validated like every other path (the batch backends read through the adapters too): a
    # malformed member row is quarantined, its household kept without it
    loaded = table if isinstance(table, LoadResult) else engine.read(
        table, entity=entity, members=child, progress=False)
    table = loaded.tables[entity]
    values: dict[str, list[Any]] = {rid: [] for rid in wanted}
    frows: list[tuple[Any, ...]] = []
    for rec in loaded.iter_records(entity):
        d = engine.evaluate(entity, rec, as_of=as_of)
        for rid in wanted:
            try:
                values[rid].append(d.value(rid))
            except KeyError:
                values[rid].append(None)
        for f in d.findings:
            frows.append((f.check, f.severity, f.message, f.entity, f.record_id, f.member_id))
    cols = {}
    for rid, vals in values.items():
        try:
            cols[rid] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            cols[rid] = pa.array([None if v is None else str(v) for v in vals], pa.string())
    findings = pa.Table.from_pylist(
        [dict(zip(FINDING_SCHEMA.names, r, strict=True)) for r in frows], schema=FINDING_SCHEMA)
    return Snapshot(entity, key, as_of, _append(table, cols), findings,
                    engine.fingerprint(as_of), tuple(wanted))


# -- what a rule reads --------------------------------------------------------------------------

@attrs.frozen
class RuleInputs:
    """Everything a rule reads, through the rules it uses: its own entity's ``fields``, the
    ``member_fields`` of related records, whether it counts ``members`` and uses ``as_of``."""

    fields: frozenset[str]
    member_fields: frozenset[str]
    members: bool
    as_of: bool


def rule_inputs(engine: Engine, rule_id: str, as_of: datetime.date | None = None) -> RuleInputs:
    """The inputs ``rule_id`` depends on, transitively (criteria, indicators, levels, other
    rules and member rules)."""
    fields: set[str] = set()
    member_fields: set[str] = set()
    members = False
    uses_date = False
    seen: set[tuple[str, bool]] = set()
    stack = [(rule_id, False)]
    while stack:
        rid, is_member = stack.pop()
        if (rid, is_member) in seen or rid not in engine.rules:
            continue
        seen.add((rid, is_member))
        rule = engine.rule(rid, as_of)
        refs = engine.rule_refs(rule)
        (member_fields if is_member else fields).update(refs.fields)
        member_fields.update(refs.member_fields)
        members = members or bool(refs.relations) or bool(refs.member_fields) \
            or bool(refs.member_rules) or is_member
        uses_date = uses_date or refs.uses_as_of
        deps = set(refs.rules) | set(rule.children) | {lv.rule for lv in rule.levels if lv.rule}
        deps |= {i.rule for i in rule.indicators}
        stack.extend((d, is_member) for d in deps)
        stack.extend((d, True) for d in refs.member_rules)
    return RuleInputs(frozenset(fields), frozenset(member_fields), members, uses_date)


# -- comparing ----------------------------------------------------------------------------------

@attrs.frozen
class SnapshotDiff:
    """What changed between two snapshots.

    Attributes:
        entered: records in the new snapshot only (key masked, kecamatan, kelurahan and the
            tracked rules' new values).
        left: records in the old snapshot only (same columns, old values).
        changed: one row per record and tracked rule whose value changed: ``household_id``
            (masked), ``kecamatan``, ``kelurahan``, ``rule``, ``rule_title``, ``old``, ``new``,
            ``change`` (``gained``: became true; ``lost``: was true, now false or unknown;
            ``changed``: another value), ``fields`` (the input changes behind it, as
            ``field: old → new; ...``; member NIKs masked) and ``cause`` (``data``, ``rules or
            parameters``, ``date``, or ``unexplained``).
        old_as_of, new_as_of: the two dates.
        old_fingerprint, new_fingerprint: the engines' fingerprints.
        rules: the rules compared.
    """

    entered: pa.Table
    left: pa.Table
    changed: pa.Table
    old_as_of: datetime.date | None
    new_as_of: datetime.date | None
    old_fingerprint: dict[str, Any]
    new_fingerprint: dict[str, Any]
    rules: tuple[str, ...]

    def _repr_html_(self) -> str:
        from ..display import table_html

        return table_html(self.summary(), title="SnapshotDiff", facts=[
            ("from", self.old_as_of), ("to", self.new_as_of),
            ("entered", self.entered.num_rows), ("left", self.left.num_rows),
            ("changed values", self.changed.num_rows)])

    def summary(self) -> pa.Table:
        """Counts: ``rule``, ``change``, ``records`` (``entered`` and ``left`` as rule ``*``)."""
        with connect() as con:
            con.register("c", self.changed)
            return relation(con, query("""
                SELECT '*' AS rule, 'entered' AS change, CAST(__entered AS BIGINT) AS records
                UNION ALL SELECT '*', 'left', CAST(__left AS BIGINT)
                UNION ALL (SELECT rule, change, count(*) FROM c GROUP BY ALL ORDER BY ALL)
            """, entered=bind(self.entered.num_rows), left=bind(self.left.num_rows))
            ).to_arrow_table()


def _as_snapshot_table(s: Snapshot | Any) -> tuple[pa.Table, datetime.date | None,
                                                   dict[str, Any], tuple[str, ...]]:
    if isinstance(s, Snapshot):
        return s.results, s.as_of, dict(s.fingerprint), s.rules
    return to_arrow(s, "snapshot"), None, {}, ()


def _default_rules(engine: Engine | None, rules_old: Sequence[str], rules_new: Sequence[str],
                   common: Iterable[str], as_of: datetime.date | None) -> list[str]:
    """The top-level outcome rules (conditions, checks, ladders, tables) both tables hold."""
    common = list(common)
    if engine is None:
        have = [r for r in rules_new if r in rules_old]
        return have or common
    out = []
    for rid in engine.visible_rule_ids():
        if rid not in common:
            continue
        rule = engine.rule(rid, as_of)
        if rule.parent is None and rule.kind in ("condition", "check", "ladder", "table"):
            out.append(rid)
    return out


def compare_snapshots(old: Snapshot | Any, new: Snapshot | Any, *,
                      engine: Engine | None = None, rules: Sequence[str] | None = None,
                      key: str = "id", old_members: Any = None, new_members: Any = None,
                      member_key: str = "nik", member_parent: str = "household_id",
                      unmask: bool = False) -> SnapshotDiff:
    """Compare two evaluations keyed by ``key`` (the household id).

    Args:
        old, new: :class:`Snapshot` objects or result tables (input fields + rule columns).
        engine: used to find what each rule reads (so that only the relevant input changes are
            named) and the default rules; without it every changed field is listed.
        rules: the rules to compare (default: the top-level conditions, checks, ladders and
            decision tables present in both).
        key: the record key column.
        old_members, new_members: the persons tables of both months, to name member changes
            (added, removed, a field changed) as causes.
        member_key, member_parent: the persons' key and the column holding the household id.
        unmask: keep raw household ids in ``household_id_unmasked``.

    Returns:
        The :class:`SnapshotDiff`.
    """
    t_old, as_old, fp_old, r_old = _as_snapshot_table(old)
    t_new, as_new, fp_new, r_new = _as_snapshot_table(new)
    for t, what in ((t_old, "old"), (t_new, "new")):
        if key not in t.column_names:
            raise NotFoundError(f"the {what} snapshot has no key column '{key}'")
    common = [c for c in t_new.column_names if c in t_old.column_names and c != key]
    tracked = list(rules) if rules is not None else _default_rules(
        engine, r_old, r_new, [c for c in common if c not in _input_columns(engine)], as_new)
    tracked = [r for r in tracked if r in common]
    rule_cols = set(r_old) | set(r_new) | set(tracked)
    if engine is not None:
        rule_cols |= set(engine.rules)
    inputs = [c for c in common if c not in rule_cols]
    with connect() as con:
        con.register("o", t_old)
        con.register("n", t_new)
        loc = [c for c in ("kecamatan", "kelurahan") if c in t_new.column_names
               and c in t_old.column_names]

        def side(t: str, other: str, cols: list[str]) -> pa.Table:
            have = t_new.column_names if t == "n" else t_old.column_names
            return relation(con, query("""
                SELECT wr_mask(__t.__key) AS household_id, __loc, __vals, __raw
                FROM __t ANTI JOIN __other ON __t.__key = __other.__key
                ORDER BY __t.__key""", t=t, other=other, key=key,
                loc=[_col(t, c) for c in loc], vals=[_col(t, c) for c in cols if c in have],
                raw=[query("__t.__key AS household_id_unmasked", t=t, key=key)] if unmask else []
            )).to_arrow_table()

        entered = side("n", "o", tracked)
        left = side("o", "n", tracked)

        # input changes, one row per record and field (members included when given)
        parts = [query("""SELECT o.__key AS k, CAST(__name AS VARCHAR) AS field,
                                 CAST(__name AS VARCHAR) AS label,
                                 CAST(o.__c AS VARCHAR) AS old, CAST(n.__c AS VARCHAR) AS new
                          FROM o JOIN n ON o.__key = n.__key
                          WHERE o.__c IS DISTINCT FROM n.__c""", key=key, c=c, name=bind(c))
                 for c in inputs]
        if old_members is not None and new_members is not None:
            parts.extend(_member_change_sql(con, old_members, new_members, member_key,
                                            member_parent))
        parts = parts or [query("SELECT NULL::VARCHAR AS k, NULL::VARCHAR AS field, "
                                "NULL::VARCHAR AS label, NULL::VARCHAR AS old, "
                                "NULL::VARCHAR AS new WHERE false")]
        run(con, query("CREATE TEMP TABLE fc AS SELECT * FROM (__u)", u=union_all(parts)))

        # what each rule reads
        dep_rows: list[tuple[str, str]] = []
        date_rules: list[str] = []
        for rid in tracked:
            if engine is None:
                dep_rows.append((rid, "*"))
                continue
            ri = rule_inputs(engine, rid, as_new)
            dep_rows += [(rid, f) for f in ri.fields]
            dep_rows += [(rid, "members." + f) for f in ri.member_fields]
            if ri.members:
                dep_rows.append((rid, "members"))
            if ri.as_of:
                date_rules.append(rid)
        con.register("deps", pa.table({"rule": pa.array([r for r, _ in dep_rows], pa.string()),
                                       "field": pa.array([f for _, f in dep_rows], pa.string())}))
        con.register("date_rules", pa.table({"rule": pa.array(date_rules, pa.string())}))
        rules_moved = bool(fp_old and fp_new and fp_old.get("digest") != fp_new.get("digest"))
        dates_moved = bool(as_old and as_new and as_old != as_new)
        titles = {rid: (engine.rule(rid, as_new).title.en or rid) if engine is not None else rid
                  for rid in tracked}
        con.register("titles", pa.table({"rule": pa.array(list(titles), pa.string()),
                                         "title": pa.array(list(titles.values()), pa.string())}))
        rparts = [query("""SELECT o.__key AS k, CAST(__name AS VARCHAR) AS rule,
                                  lower(CAST(o.__r AS VARCHAR)) AS old,
                                  lower(CAST(n.__r AS VARCHAR)) AS new
                           FROM o JOIN n ON o.__key = n.__key
                           WHERE o.__r IS DISTINCT FROM n.__r""", key=key, r=r, name=bind(r))
                  for r in tracked]
        rparts = rparts or [query("SELECT NULL::VARCHAR AS k, NULL::VARCHAR AS rule, "
                                  "NULL::VARCHAR AS old, NULL::VARCHAR AS new WHERE false")]
        run(con, query("CREATE TEMP TABLE rc AS SELECT * FROM (__u)", u=union_all(rparts)))
        changed = relation(con, query("""
            WITH why AS (
                SELECT rc.k, rc.rule,
                       string_agg(fc.label || ': ' || coalesce(fc.old, '∅') || ' → '
                                  || coalesce(fc.new, '∅'), '; ' ORDER BY fc.label) AS fields
                FROM rc JOIN deps d ON d.rule = rc.rule
                        JOIN fc ON fc.k = rc.k
                               AND (d.field = '*' OR fc.field = d.field)
                GROUP BY rc.k, rc.rule)
            SELECT wr_mask(rc.k) AS household_id, __loc, rc.rule,
                   titles.title AS rule_title, rc.old, rc.new,
                   CASE WHEN rc.new = 'true' THEN 'gained'
                        WHEN rc.old = 'true' THEN 'lost' ELSE 'changed' END AS change,
                   why.fields,
                   CASE WHEN why.fields IS NOT NULL THEN 'data'
                        WHEN CAST(__rules_moved AS BOOLEAN) THEN 'rules or parameters'
                        WHEN CAST(__dates_moved AS BOOLEAN)
                             AND rc.rule IN (SELECT rule FROM date_rules) THEN 'date'
                        ELSE 'unexplained' END AS cause, __raw
            FROM rc JOIN n ON n.__key = rc.k
            LEFT JOIN why ON why.k = rc.k AND why.rule = rc.rule
            LEFT JOIN titles ON titles.rule = rc.rule
            ORDER BY rc.rule, __order, rc.k""", key=key, loc=[_col("n", c) for c in loc],
            rules_moved=bind(rules_moved), dates_moved=bind(dates_moved),
            raw=[query("rc.k AS household_id_unmasked")] if unmask else [],
            order=[_col("n", c) for c in loc])).to_arrow_table()
        return SnapshotDiff(entered=entered, left=left, changed=changed, old_as_of=as_old,
                            new_as_of=as_new, old_fingerprint=fp_old, new_fingerprint=fp_new,
                            rules=tuple(tracked))


def _input_columns(engine: Engine | None) -> set[str]:
    if engine is None:
        return set()
    return {f for ent in engine.schema.entities.values() for f in ent.fields}


def _col(table: str, name: str) -> exp.Column:
    """``table.name``, both quoted by sqlglot."""
    return exp.column(name, table, quoted=True)


def _member_change_sql(con: Any, old_members: Any, new_members: Any, mkey: str,
                       parent: str) -> list[Query]:
    om, nm = to_arrow(old_members, "old members"), to_arrow(new_members, "new members")
    con.register("om", om)
    con.register("nm", nm)
    fields = [c for c in nm.column_names if c in om.column_names and c not in (mkey, parent)]
    parts = [query("""SELECT nm.__parent AS k, 'members' AS field, 'members' AS label,
                             NULL AS old, 'added ' || wr_mask(nm.__mkey) AS new
                      FROM nm ANTI JOIN om ON om.__mkey = nm.__mkey
                                           AND om.__parent = nm.__parent""",
                   parent=parent, mkey=mkey),
             query("""SELECT om.__parent AS k, 'members' AS field, 'members' AS label,
                             'had ' || wr_mask(om.__mkey) AS old, NULL AS new
                      FROM om ANTI JOIN nm ON om.__mkey = nm.__mkey
                                           AND om.__parent = nm.__parent""",
                   parent=parent, mkey=mkey)]
    parts += [query("""SELECT nm.__parent AS k, CAST(__field AS VARCHAR) AS field,
                              'member ' || wr_mask(nm.__mkey) || ' ' || __name AS label,
                              CAST(om.__c AS VARCHAR) AS old, CAST(nm.__c AS VARCHAR) AS new
                       FROM om JOIN nm ON om.__mkey = nm.__mkey
                                      AND om.__parent = nm.__parent
                       WHERE om.__c IS DISTINCT FROM nm.__c""", parent=parent, mkey=mkey, c=c,
                    field=bind("members." + c), name=bind(c)) for c in fields]
    return parts
