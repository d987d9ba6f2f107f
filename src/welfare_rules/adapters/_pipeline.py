"""The reading pipeline: raw text batches in, canonical tables and a quarantine out.

Per batch, all vectorised: row-level checks on the raw cells (undecodable bytes, a repeated
header, an exact duplicate of an earlier row), then each mapped column is normalised, value-mapped,
parsed and checked against its field (required, declared enum values, min/max, 16-digit ids), then
duplicate keys. Rows with any problem go to the quarantine with one entry per problem; the rest
are kept as compact Arrow columns. After the last batch, person-per-row sources are grouped into
households (conflicting families quarantined, not merged) and child rows are matched to parents.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from ..masking import mask_id
from ..schema import Entity, Field, Schema, bound_text
from ..sqlbuild import query, run
from ..types import TEXT_MAX
from . import _parse as P
from ._sources import (
    REPLACEMENT,
    FastReaderFailed,
    Nested,
    OpenedSource,
    RawBatch,
    first_record_has,
    open_source,
)
from ._sources import sequence as _seq
from .record import TEXT_TOO_LONG
from .result import CONFLICT_SCHEMA, QUARANTINE_SCHEMA, Link, LoadResult, empty_table
from .spec import ColumnSpec, MappingError, MappingSpec, canon_text

ROW = "__row"
ID_LABELS = {("person", "nik"): "NIK", ("household", "id"): "No. KK",
             ("person", "household_id"): "No. KK"}


# --- plans: what to do with each field ---------------------------------------------------------

@attrs.frozen
class FieldPlan:
    """How one canonical field is filled: from which headers, parsed how, defaulting to what."""

    field: Field
    column: str | None                     # the mapping's name of the source column
    headers: tuple[str, ...]               # normalised headers that feed it
    parse: Callable[[pa.Array], P.Parsed]
    values: Mapping[str, str]
    default: pa.Scalar | None


@attrs.frozen
class EntityPlan:
    entity: Entity
    fields: tuple[FieldPlan, ...]


def _parser_for(fld: Field, col: ColumnSpec | None, entity: str) -> Callable[[pa.Array],
                                                                             P.Parsed]:
    name = (col.parser if col is not None else None) or P.DEFAULT_PARSER[fld.type.kind]
    fn = P.PARSERS[name][0]
    shown = list(col.values) if col is not None and col.values else None
    if fld.type.kind == "enum":
        declared = fld.type.values
        return lambda a: P.parse_enum(a, declared, shown)
    if name == "digits16":
        label = ID_LABELS.get((entity, fld.name), fld.name)
        return lambda a: P.parse_digits16(a, label)
    if fld.type.kind == "bool" and shown:
        truthy = [k for k, v in col.values.items() if v == "true"] if col else []
        falsy = [k for k, v in col.values.items() if v == "false"] if col else []
        if name == "yes_no":
            truthy, falsy = ["YA", *truthy], ["TIDAK", *falsy]
        return lambda a: P.parse_bool(a, [*truthy, "true", "1"], [*falsy, "false", "0"])
    return fn


def build_plan(spec: MappingSpec, schema: Schema, entity: str) -> EntityPlan:
    """The plan for one entity: every field of the schema, mapped or not (then all-null)."""
    ent = schema.entity(entity)
    cols = spec.for_entity(entity)
    plans: list[FieldPlan] = []
    for fld in ent.fields.values():
        mine = [c for c in cols if c.field == fld.name]
        real = [c for c in mine if not c.column.startswith("<default ")]
        col = real[0] if real else None
        headers: list[str] = []
        for c in real:
            headers += [P.normalise_key(c.column), *(P.normalise_key(a) for a in c.aliases)]
        parse = _parser_for(fld, col, entity)
        default_value = next((c.default for c in mine if c.default is not None), None)
        default = None
        if default_value is not None:
            parsed = parse(P.normalise(pa.array([canon_text(default_value)], pa.string())))
            if parsed.values.null_count or any(pc.any(m).as_py() for m, _ in parsed.problems):
                raise MappingError(f"default {default_value!r} is not a valid value of "
                                   f"{entity}.{fld.name} ({fld.type})")
            default = parsed.values[0]
        plans.append(FieldPlan(fld, col.column if col else None, tuple(headers), parse,
                               dict(col.values) if col else {}, default))
    return EntityPlan(ent, tuple(plans))


# --- helpers -----------------------------------------------------------------------------------

def falses(n: int) -> pa.Array:
    return pc.fill_null(pa.nulls(n, pa.bool_()), False)


def const(value: str | None, n: int) -> pa.Array:
    arr = pa.nulls(n, pa.string())
    return arr if value is None else pc.fill_null(arr, value)


def entries(source: str, rows: pa.Array, entity: str, column: str | None, field: str | None,
            values: pa.Array | None, reason: str | pa.Array) -> pa.Table:
    n = len(rows)
    reasons = const(reason, n) if isinstance(reason, str) else reason
    vals = const("", n) if values is None else pc.fill_null(pc.cast(values, pa.string()), "")
    return pa.Table.from_arrays(
        [const(source, n), rows, const(entity, n), const(column or "", n), const(field or "", n),
         vals, reasons], schema=QUARANTINE_SCHEMA)


def _arrow(cursor: Any) -> pa.Table:
    """A DuckDB result as an Arrow table (the method's name changed in DuckDB 1.4)."""
    fetch = getattr(cursor, "to_arrow_table", None) or cursor.fetch_arrow_table
    table: pa.Table = fetch()
    return table


class SeenSet:
    """Remembers hashes of row contents (or keys) across batches, in an embedded DuckDB table,
    so the memory per row seen is a few bytes and never a Python object."""

    def __init__(self) -> None:
        self.con = duckdb.connect()
        self.con.execute("CREATE TABLE seen (h1 UBIGINT, h2 UBIGINT, first BIGINT)")

    def first_rows(self, cols: Sequence[pa.Array], rows: pa.Array) -> pa.Array:
        """For each row, the number of an earlier row with the same values (null if none)."""
        if len(rows) == 0:
            return pa.array([], pa.int64())
        names = [f"k{i}" for i in range(len(cols))]
        batch = pa.Table.from_arrays([*cols, rows], names=[*names, "r"])
        self.con.register("batch", batch)
        try:
            run(self.con, query("CREATE OR REPLACE TEMP TABLE b AS SELECT r, hash(__keys) AS h1, "
                                "hash('~', __keys) AS h2 FROM batch", keys=names))
            self.con.execute("CREATE OR REPLACE TEMP TABLE f AS "
                             "SELECT h1, h2, min(r) AS first FROM b GROUP BY h1, h2")
            out = _arrow(self.con.sql(
                "SELECT coalesce(s.first, CASE WHEN f.first < b.r THEN f.first END) AS dup "
                "FROM b JOIN f USING (h1, h2) LEFT JOIN seen s USING (h1, h2) ORDER BY b.r"))
            self.con.execute("INSERT INTO seen SELECT f.* FROM f ANTI JOIN seen s "
                             "USING (h1, h2)")
        finally:
            self.con.unregister("batch")
        return out.column("dup").combine_chunks().cast(pa.int64())

    def close(self) -> None:
        """Close the embedded DuckDB connection (the reader does, in a ``finally``)."""
        self.con.close()


@attrs.define
class SourceState:
    """What one source produced; merged into the result only once the source is fully read."""

    name: str
    rows_read: int = 0
    quarantine: list[pa.Table] = attrs.field(factory=list)
    parts: dict[str, list[pa.Table]] = attrs.field(factory=dict)
    qkeys: list[pa.Table] = attrs.field(factory=list)   # (row, key text) of quarantined rows
    unmapped: dict[str, None] = attrs.field(factory=dict)
    notes: list[str] = attrs.field(factory=list)       # how the source was read (warnings)
    blank_lines: int = 0                                 # blank lines skipped (not rows)

    def table(self, entity: str, schema: pa.Schema) -> pa.Table:
        parts = self.parts.get(entity) or []
        return pa.concat_tables(parts) if parts else empty_table(schema)


# --- one source --------------------------------------------------------------------------------

def _progress(enabled: bool | None) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                    TimeElapsedColumn(), console=Console(stderr=True), transient=False)


def _typed_schema(plan: EntityPlan) -> pa.Schema:
    return pa.schema([(ROW, pa.int64())]
                     + [(fp.field.name, P.ARROW_TYPES[fp.field.type.kind]) for fp in plan.fields])


def read_source(spec: MappingSpec, source: Any, plans: Sequence[EntityPlan], *,
                key_column: str | None, dedupe_keys: Sequence[tuple[str, str]],
                bar: Any, chunk_size: int, role: str | None = None,
                nested: Nested | None = None) -> SourceState:
    """Read one source with the given entity plans; retry with the tolerant reader when the fast
    CSV parser gives up on a damaged file.

    ``role``: the entity a second source of the same read holds (the members). A source with
    no name of its own (``<dataframe>``, ``<sql>``) is then named for it (``<person
    dataframe>``), so that its quarantined rows are never taken for the first source's rows
    of the same number (rows are counted once per source and row). ``nested``: one side of
    a JSON file whose records carry their child records (:class:`Nested`).
    """
    opened = _named(open_source(source, chunk_size=chunk_size, delimiters=spec.delimiters,
                                encodings=spec.encodings, sheet=spec.sheet,
                                adapter=spec.name, nested=nested), role)
    try:
        return _read_opened(opened, plans, key_column, dedupe_keys, bar)
    except FastReaderFailed:
        if opened.fallback is None:
            raise
        return _read_opened(_named(opened.fallback(), role), plans, key_column, dedupe_keys,
                            bar)


def _named(opened: OpenedSource, role: str | None) -> OpenedSource:
    if role is None or not (opened.name.startswith("<") and opened.name.endswith(">")):
        return opened
    return attrs.evolve(opened, name=f"<{role} {opened.name[1:]}")


def _header_index(headers: Sequence[str]) -> dict[str, str]:
    index: dict[str, str] = {}
    for h in headers:
        index.setdefault(P.normalise_key(h), h)
    return index


def _read_opened(opened: OpenedSource, plans: Sequence[EntityPlan], key_column: str | None,
                 dedupe_keys: Sequence[tuple[str, str]], bar: Any) -> SourceState:
    """Read an opened source to the end; its handles and the duplicate sets are closed
    whether it is read to the end or raises."""
    with contextlib.ExitStack() as stack:
        stack.callback(opened.close)
        st = SourceState(opened.name, notes=list(opened.notes))
        task = None
        if bar is not None:
            label = opened.name if len(opened.name) < 40 else "…" + opened.name[-39:]
            task = bar.add_task(f"reading {label}", total=opened.total)
        if opened.headers:
            _check_required_columns(opened.name, opened.headers, plans)
        row_seen = SeenSet()
        stack.callback(row_seen.close)
        key_seen = {k: SeenSet() for k in dedupe_keys}
        for seen in key_seen.values():
            stack.callback(seen.close)
        enc = opened.encoding or "the source encoding"
        try:
            for raw in opened.batches:
                _one_batch(st, raw, plans, key_column, row_seen, key_seen, enc)
                if task is not None:
                    bar.update(task, completed=opened.position())
        except (OSError, UnicodeError) as exc:
            raise DataError(f"cannot read {opened.name}: {exc}") from None
        finally:
            if task is not None:
                bar.update(task, completed=opened.position())
        return st


def _check_required_columns(name: str, headers: Sequence[str], plans: Sequence[EntityPlan]
                            ) -> None:
    index = _header_index(headers)
    for plan in plans:
        for fp in plan.fields:
            if fp.field.required and fp.default is None and fp.headers and not any(
                    h in index for h in fp.headers):
                raise DataError(f"{name}: no column for the required field "
                                f"{plan.entity.name}.{fp.field.name} (expected a header "
                                f"'{fp.column}'; found: {', '.join(headers)})")
            if fp.field.required and not fp.headers and fp.default is None:
                raise DataError(f"the mapping has no column for the required field "
                                f"{plan.entity.name}.{fp.field.name}")


def _one_batch(st: SourceState, raw: RawBatch, plans: Sequence[EntityPlan],
               key_column: str | None, row_seen: SeenSet, key_seen: Mapping[tuple[str, str],
                                                                             SeenSet],
               encoding: str) -> None:
    table, rows = raw.table, raw.rows
    n = table.num_rows
    st.rows_read += n + len(raw.rejected)
    st.blank_lines += raw.blank
    if raw.rejected:
        st.quarantine.append(pa.Table.from_pylist(
            [{"source": st.name, "row": r, "entity": plans[0].entity.name, "column": c,
              "field": "", "value": v, "reason": why} for r, c, v, why in raw.rejected],
            schema=QUARANTINE_SCHEMA))
        if key_column is not None:
            st.qkeys.append(pa.table({"row": pa.array([r[0] for r in raw.rejected], pa.int64()),
                                      "key": pa.nulls(len(raw.rejected), pa.string()),
                                      "kept": falses(len(raw.rejected))}))
    if n == 0:
        return
    index = _header_index(table.column_names)
    known = {h for plan in plans for fp in plan.fields for h in fp.headers}
    for key, name in index.items():
        if key not in known:
            st.unmapped.setdefault(name)
    entity0 = plans[0].entity.name
    cols = [table.column(i).combine_chunks() for i in range(table.num_columns)]
    if table.num_columns and not pa.types.is_string(cols[0].type):
        cols = [pc.cast(c, pa.string()) for c in cols]
    bad_row = falses(n)
    problems: list[pa.Table] = []

    # Person-per-row: a problem in a person cell costs the person (the row's member), not the
    # household fields the same row gives; anything else costs the whole row.
    member_bad = falses(n)
    member_headers = _member_only_headers(plans)

    # 1. bytes that did not decode: U+FFFD in any cell
    undecodable_col = pa.nulls(n, pa.string())
    undecodable_val = pa.nulls(n, pa.string())
    whole = falses(n)
    for name, col in reversed(list(zip(table.column_names, cols, strict=True))):
        hit = pc.fill_null(pc.match_substring(col, REPLACEMENT), False)
        undecodable_col = pc.if_else(hit, name, undecodable_col)
        undecodable_val = pc.if_else(hit, col, undecodable_val)
        if P.normalise_key(name) not in member_headers:
            whole = pc.or_(whole, hit)
    undecodable = pc.is_valid(undecodable_col)
    if pc.any(undecodable).as_py():
        problems.append(entries(st.name, rows.filter(undecodable), entity0,
                                None, None, undecodable_val.filter(undecodable),
                                f"bytes that cannot be decoded as {encoding}").set_column(
            3, "column", undecodable_col.filter(undecodable)))
        bad_row = pc.or_(bad_row, whole)
        member_bad = pc.or_(member_bad, pc.and_(undecodable, pc.invert(whole)))

    # 2. the header written again halfway down
    is_header = pc.fill_null(pa.nulls(n, pa.bool_()), True)
    for name, col in zip(table.column_names, cols, strict=True):
        same = pc.equal(pc.utf8_upper(pc.utf8_trim_whitespace(col)), P.normalise_key(name))
        is_header = pc.and_(is_header, pc.fill_null(same, name.startswith("column_")))
    is_header = pc.and_(is_header, pc.invert(pc.or_(bad_row, member_bad)))
    if pc.any(is_header).as_py():
        problems.append(entries(st.name, rows.filter(is_header), entity0, None, None, None,
                                "repeated header row"))
        bad_row = pc.or_(bad_row, is_header)

    # 3. an exact repeat of an earlier row (the first one is kept)
    dup_of = row_seen.first_rows(cols, rows)
    is_dup = pc.and_(pc.is_valid(dup_of), pc.invert(pc.or_(bad_row, member_bad)))
    if pc.any(is_dup).as_py():
        reasons = pc.binary_join_element_wise("duplicate of row ",
                                              pc.cast(dup_of.filter(is_dup), pa.string()), "")
        problems.append(entries(st.name, rows.filter(is_dup), entity0, None, None, None,
                                reasons))
        bad_row = pc.or_(bad_row, is_dup)

    # 4. every mapped field
    typed: dict[str, dict[str, pa.Array]] = {}
    field_bad = falses(n)
    any_bad = pc.or_(bad_row, member_bad)
    gave = falses(n)  # the row gives a household field besides the key
    for i, plan in enumerate(plans):
        out: dict[str, pa.Array] = {}
        for fp in plan.fields:
            header: str | None = next((index[h] for h in fp.headers if h in index), None)
            if header is None:
                values = pa.nulls(n, P.ARROW_TYPES[fp.field.type.kind])
                raw_col = None
                probs: list[tuple[pa.Array, str]] = []
            else:
                raw_col = cols[table.column_names.index(header)]
                text = P.apply_value_map(P.normalise(raw_col), fp.values)
                parsed = fp.parse(text)
                values, probs = parsed.values, list(parsed.problems)
            if i == 0 and header is not None and fp.field.name != plan.entity.key:
                gave = pc.or_(gave, pc.is_valid(values))
            if fp.default is not None:
                values = pc.fill_null(values, fp.default)
            some_bad = falses(n)
            for m, _ in probs:
                some_bad = pc.or_(some_bad, m)
            if fp.field.required:
                probs.append((pc.and_(pc.is_null(values), pc.invert(some_bad)),
                              "required field is blank"))
            probs += _declared_checks(fp.field, values)
            for mask, reason in probs:
                mask = pc.and_(mask, pc.invert(any_bad))
                if not pc.any(mask).as_py():
                    continue
                problems.append(entries(st.name, rows.filter(mask), plan.entity.name,
                                        header or fp.column, fp.field.name,
                                        raw_col.filter(mask) if raw_col is not None else None,
                                        reason))
                if i == 0:
                    field_bad = pc.or_(field_bad, mask)
                else:
                    member_bad = pc.or_(member_bad, mask)
            out[fp.field.name] = values
        typed[plan.entity.name] = out
    bad_row = pc.or_(bad_row, field_bad)

    # 5. a key seen before on a valid row (a NIK twice)
    for (ent, fname), seen in key_seen.items():
        keep = pc.invert(pc.or_(bad_row, member_bad))
        key_vals = typed[ent][fname]
        first = seen.first_rows([key_vals.filter(keep)], rows.filter(keep))
        dup = pc.and_(pc.is_valid(first), pc.is_valid(key_vals.filter(keep)))
        if pc.any(dup).as_py():
            plan = next(p for p in plans if p.entity.name == ent)
            fp = next(f for f in plan.fields if f.field.name == fname)
            key_header = next((index[h] for h in fp.headers if h in index), fp.column)
            reasons = pc.binary_join_element_wise(
                f"duplicate {ID_LABELS.get((ent, fname), fname)}, first on row ",
                pc.cast(first.filter(dup), pa.string()), "")
            problems.append(entries(st.name, rows.filter(keep).filter(dup), ent, key_header, fname,
                                    key_vals.filter(keep).filter(dup), reasons))
            dup_full = pc.is_in(rows, value_set=rows.filter(keep).filter(dup))
            if ent == entity0:
                bad_row = pc.or_(bad_row, dup_full)
            else:  # the same person twice: the row's household fields still stand
                member_bad = pc.or_(member_bad, dup_full)

    if problems:
        st.quarantine.extend(problems)
        if key_column is not None:
            kidx = next((index[h] for h in [P.normalise_key(key_column)] if h in index), None)
            key_text = (P.normalise(cols[table.column_names.index(kidx)]) if kidx
                        else pa.nulls(n, pa.string()))
            lost = pc.or_(bad_row, member_bad)
            st.qkeys.append(pa.table({"row": rows.filter(lost), "key": key_text.filter(lost),
                                      "kept": pc.and_(pc.invert(bad_row), gave).filter(lost)}))
    for i, plan in enumerate(plans):
        # the top entity keeps a row whose only problems are member cells; members do not
        good = pc.invert(bad_row) if i == 0 else pc.invert(pc.or_(bad_row, member_bad))
        vals = typed[plan.entity.name]
        arrays = [rows.filter(good)] + [vals[fp.field.name].filter(good) for fp in plan.fields]
        st.parts.setdefault(plan.entity.name, []).append(
            pa.Table.from_arrays(arrays, schema=_typed_schema(plan)))


def _member_only_headers(plans: Sequence[EntityPlan]) -> frozenset[str]:
    """Person-per-row: the headers that feed only the member entity (a damaged one costs the
    member, not the row's household fields)."""
    if len(plans) < 2:
        return frozenset()
    top = {h for fp in plans[0].fields for h in fp.headers}
    return frozenset(h for plan in plans[1:] for fp in plan.fields for h in fp.headers
                     if h not in top)


def _declared_checks(fld: Field, values: pa.Array) -> list[tuple[pa.Array, str]]:
    """The schema's own bounds on parsed values: ``min``/``max`` (numbers and dates) and
    ``pattern`` (text); blank and unparsed cells are null here and never match."""
    out: list[tuple[pa.Array, str]] = []
    kind = fld.type.kind
    if kind in ("int", "decimal", "date"):
        if fld.min is not None:
            out.append((pc.fill_null(pc.less(values, pa.scalar(fld.min, values.type)), False),
                        f"below the minimum {bound_text(fld.min)}"))
        if fld.max is not None:
            out.append((pc.fill_null(pc.greater(values, pa.scalar(fld.max, values.type)),
                                     False), f"above the maximum {bound_text(fld.max)}"))
    if kind == "str":
        out.append((pc.fill_null(pc.greater(pc.utf8_length(values), TEXT_MAX), False),
                    TEXT_TOO_LONG))
    if kind == "str" and fld.pattern is not None:
        bad = pc.invert(pc.fill_null(pc.match_substring_regex(values, fld.pattern), True))
        out.append((bad, f"does not match the pattern {fld.pattern}"))
    return out


# --- whole loads -------------------------------------------------------------------------------

def _link_for(schema: Schema, parent: str) -> Link | None:
    ent = schema.entity(parent)
    for rel in ent.relations.values():
        return Link(rel.name, rel.entity, rel.key, ent.key)
    return None


def _nested_members(source: Any, schema: Schema, entity: str) -> Nested | None:
    """The parent side of a JSON / JSON Lines file of ``entity`` records whose first record
    carries its child records (``"members": [...]``), read as the child table; ``None`` for
    any other source (the members then come from ``members=``, or are absent)."""
    link = _link_for(schema, entity)
    if link is None or not isinstance(source, str | Path) or not first_record_has(
            Path(source), link.name):
        return None
    return Nested(link.name, link.parent_key, link.key, children=False)


def read_with_spec(spec: MappingSpec, source: Any, schema: Schema, *, entity: str,
                   members: Any, progress: bool | None, chunk_size: int) -> LoadResult:
    """Read a source (and optionally its members) following a mapping spec."""
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1")
    quarantine: list[pa.Table] = []
    conflicts = empty_table(CONFLICT_SCHEMA)
    warnings: list[str] = []
    tables: dict[str, pa.Table] = {}
    links: dict[str, Link] = {}
    unmapped: dict[str, None] = {}
    rows_read = 0
    blank_lines = 0
    with _progress(progress) as bar:
        if spec.layout == "person_per_row":
            link = _link_for(schema, spec.entity)
            if link is None:
                raise DataError(f"entity '{spec.entity}' has no member relation for a "
                                "person-per-row layout")
            parent_plan = build_plan(spec, schema, spec.entity)
            child_plan = build_plan(spec, schema, link.child)
            st = read_source(spec, source, [parent_plan, child_plan],
                             key_column=spec.group_by,
                             dedupe_keys=[(link.child, schema.entity(link.child).key)],
                             bar=bar, chunk_size=chunk_size)
            rows_read += st.rows_read
            unmapped.update(st.unmapped)
            warnings += st.notes
            blank_lines += st.blank_lines
            quarantine.extend(st.quarantine)
            hh, persons, extra_q, conflicts = _group(st, parent_plan, child_plan, link)
            quarantine.extend(extra_q)
            tables = {spec.entity: hh, link.child: persons}
            links[spec.entity] = link
            warnings += _member_warnings(st.qkeys, hh.column(link.parent_key))
        else:
            plan = build_plan(spec, schema, entity)
            nested = _nested_members(source, schema, entity) if members is None else None
            st = read_source(spec, source, [plan], key_column=None,
                             dedupe_keys=[(entity, plan.entity.key)], bar=bar,
                             chunk_size=chunk_size, nested=nested)
            rows_read += st.rows_read
            unmapped.update(st.unmapped)
            warnings += st.notes
            blank_lines += st.blank_lines
            quarantine.extend(st.quarantine)
            tables[entity] = st.table(entity, _typed_schema(plan))
            if nested is not None:  # the same file again, for the records nested in each
                members, nested = source, attrs.evolve(nested, children=True)
            if members is not None:
                link = _link_for(schema, entity)
                if link is None:
                    raise DataError(f"entity '{entity}' has no member relation; "
                                    "members= cannot be used")
                child_plan = build_plan(spec, schema, link.child)
                key_header = next((fp.column or fp.field.name for fp in child_plan.fields
                                   if fp.field.name == link.key), link.key)
                mst = read_source(spec, members, [child_plan], key_column=key_header,
                                  dedupe_keys=[(link.child, child_plan.entity.key)], bar=bar,
                                  chunk_size=chunk_size, role=link.child, nested=nested)
                rows_read += mst.rows_read
                unmapped.update(mst.unmapped)
                warnings += mst.notes
                blank_lines += mst.blank_lines
                quarantine.extend(mst.quarantine)
                persons = mst.table(link.child, _typed_schema(child_plan))
                parent_ids = tables[entity].column(link.parent_key)
                orphan = pc.invert(pc.fill_null(
                    pc.is_in(persons.column(link.key), value_set=parent_ids), False))
                if pc.any(orphan).as_py():
                    quarantine.append(entries(
                        mst.name, persons.column(ROW).filter(orphan).combine_chunks(),
                        link.child, key_header, link.key,
                        persons.column(link.key).filter(orphan).combine_chunks(),
                        f"no household: {link.key} matches no valid {entity} (absent from "
                        f"the {entity} table, or quarantined)"))
                    persons = persons.filter(pc.invert(orphan))
                tables[link.child] = persons
                links[entity] = link
                warnings += _member_warnings(mst.qkeys, parent_ids)
    q = (pa.concat_tables(quarantine) if quarantine else empty_table(QUARANTINE_SCHEMA))
    q = _sorted_quarantine(q.combine_chunks())
    rows_q = _distinct_rows(q)
    rows_valid = sum(t.num_rows for name, t in tables.items()
                     if not (spec.layout == "person_per_row" and name == spec.entity))
    out_tables = {name: t.drop_columns([ROW]) if ROW in t.column_names else t
                  for name, t in tables.items()}
    return LoadResult(tables=out_tables, quarantine=q, rows_read=rows_read,
                      rows_valid=rows_valid, rows_quarantined=rows_q,
                      household_conflicts=conflicts, unmapped_columns=list(unmapped),
                      warnings=warnings, links=links, blank_lines=blank_lines)


def _sorted_quarantine(q: pa.Table) -> pa.Table:
    """Entries by source (in the order read), then row; a row's entries keep their order."""
    if q.num_rows == 0:
        return q
    names = pa.array(list(dict.fromkeys(q.column("source").to_pylist())), pa.string())
    keyed = q.append_column("_s", pc.index_in(q.column("source"), value_set=names))
    keyed = keyed.append_column("_i", _seq(0, q.num_rows))
    order = pc.sort_indices(keyed, sort_keys=[("_s", "ascending"), ("row", "ascending"),
                                              ("_i", "ascending")])
    return q.take(order)


def _distinct_rows(q: pa.Table) -> int:
    if q.num_rows == 0:
        return 0
    distinct: int = q.group_by(["source", "row"]).aggregate([]).num_rows
    return distinct


def _group(st: SourceState, parent: EntityPlan, child: EntityPlan, link: Link
           ) -> tuple[pa.Table, pa.Table, list[pa.Table], pa.Table]:
    """Person-per-row: households from their rows. Blanks merge; different non-blank values for
    one household field quarantine the whole family and are listed as conflicts."""
    key = link.parent_key
    hh = st.table(parent.entity.name, _typed_schema(parent))
    persons = st.table(child.entity.name, _typed_schema(child))
    # every member row is a household row too (not the reverse: a row whose person cells are
    # damaged still gives its household fields)
    at = pc.index_in(persons.column(ROW), value_set=hh.column(ROW).combine_chunks())
    persons = persons.set_column(persons.column_names.index(link.key), link.key,
                                 hh.column(key).take(at))
    fields = [fp for fp in parent.fields if fp.field.name != key]
    extra_q: list[pa.Table] = []
    conflict_parts: list[pa.Table] = []
    drop_rows: list[pa.Array] = []
    if hh.num_rows and fields:
        counts = hh.group_by(key, use_threads=False).aggregate(
            [(fp.field.name, "count_distinct") for fp in fields])
        for fp in fields:
            c = counts.column(f"{fp.field.name}_count_distinct")
            bad_keys = counts.column(key).filter(pc.greater(c, 1))
            if len(bad_keys) == 0:
                continue
            in_bad = pc.is_in(hh.column(key), value_set=bad_keys)
            sub = hh.filter(in_bad)
            text = pc.cast(sub.column(fp.field.name), pa.string())
            header = fp.column or fp.field.name
            n = sub.num_rows
            extra_q.append(entries(st.name, sub.column(ROW).combine_chunks(),
                                   parent.entity.name, header, fp.field.name,
                                   text.combine_chunks() if isinstance(text, pa.ChunkedArray)
                                   else text,
                                   f"household rows disagree on {fp.field.name}"))
            has_value = pc.is_valid(sub.column(fp.field.name))
            conflict_parts.append(pa.Table.from_arrays([
                const(st.name, n), sub.column(key).combine_chunks(), const(fp.field.name, n),
                const(header, n), sub.column(ROW).combine_chunks(),
                pc.cast(sub.column(fp.field.name), pa.string()).combine_chunks(),
            ], schema=CONFLICT_SCHEMA).filter(has_value))
            drop_rows.append(sub.column(ROW).combine_chunks())
    if drop_rows:
        gone = pa.concat_arrays(drop_rows)
        hh = hh.filter(pc.invert(pc.is_in(hh.column(ROW), value_set=gone)))
        persons = persons.filter(pc.invert(pc.is_in(persons.column(ROW), value_set=gone)))
    conflicts = (pa.concat_tables(conflict_parts).sort_by([("household_id", "ascending"),
                                                           ("field", "ascending"),
                                                           ("row", "ascending")])
                 if conflict_parts else empty_table(CONFLICT_SCHEMA))
    if hh.num_rows:
        merged = hh.group_by(key, use_threads=False).aggregate(
            [(ROW, "min")] + [(fp.field.name, "first") for fp in fields])
        merged = merged.rename_columns(
            [c.removesuffix("_first").replace(f"{ROW}_min", ROW) for c in merged.column_names])
        merged = merged.sort_by(ROW)
        merged = merged.select([ROW] + [fp.field.name for fp in parent.fields])
        # a family none of whose member rows is valid does not appear (its rows are quarantined)
        merged = merged.filter(pc.is_in(merged.column(key),
                                        value_set=persons.column(link.key).combine_chunks()))
    else:
        merged = empty_table(_typed_schema(parent))
    # required household fields other than the key: on at least one row of the family
    for fp in fields:
        if not fp.field.required:
            continue
        missing = pc.is_null(merged.column(fp.field.name))
        if pc.any(missing).as_py():
            bad_keys = merged.column(key).filter(missing)
            rows_of = persons.filter(pc.is_in(persons.column(link.key), value_set=bad_keys))
            extra_q.append(entries(st.name, rows_of.column(ROW).combine_chunks(),
                                   parent.entity.name, fp.column or fp.field.name,
                                   fp.field.name, None,
                                   "required field is blank on every row of the household"))
            merged = merged.filter(pc.invert(missing))
            persons = persons.filter(pc.invert(pc.is_in(persons.column(link.key),
                                                         value_set=bad_keys)))
    return merged, persons, extra_q, conflicts


def _member_warnings(qkeys: list[pa.Table], valid_ids: pa.Array | pa.ChunkedArray
                     ) -> list[str]:
    """A warning per kept household that lost member rows to the quarantine."""
    if not qkeys:
        return []
    q = pa.concat_tables(qkeys)
    ids = valid_ids.combine_chunks() if isinstance(valid_ids, pa.ChunkedArray) else valid_ids
    q = q.filter(pc.fill_null(pc.is_in(q.column("key"), value_set=ids), False))
    if q.num_rows == 0:
        return []
    grouped = q.group_by("key", use_threads=False).aggregate([("row", "list"),
                                                             ("kept", "list")])
    out = []
    for item in grouped.to_pylist():
        pairs = sorted(zip(item["row_list"], item["kept_list"], strict=True))
        rows = [r for r, _ in pairs]
        kept = [r for r, k in pairs if k]
        line = (f"household {mask_id(item['key'])}: {len(rows)} member row(s) quarantined "
                f"(row {_rows_text(rows)}); the household is kept without them")
        if kept:
            line += (f", with the household fields of row {_rows_text(kept)} (only their "
                     "person cells were bad)")
        out.append(line)
    return out


def _rows_text(rows: Sequence[int]) -> str:
    return ", ".join(str(r) for r in rows[:10]) + (", …" if len(rows) > 10 else "")
