"""What the SQL runners (DuckDB, Spark) share: row numbers, carried columns and the one
ordered findings query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa
from sqlglot import exp

from ..masking import mask_table
from .base import FINDINGS_SCHEMA, ROW
from .sql import PARENT, EntityQuery, SqlCompiler, and_all, case, col, or_all

__all__ = ["carry_select", "compile_query", "findings_as_shown", "findings_query", "key_of",
           "key_range_select", "with_row"]


def with_row(tbl: pa.Table) -> pa.Table:
    """``tbl`` with a ``__row`` column numbering its rows (kept if it has one)."""
    if ROW in tbl.column_names:
        return tbl
    import numpy as np

    return tbl.append_column(ROW, pa.array(np.arange(tbl.num_rows, dtype=np.int64)))


def compile_query(comp: SqlCompiler, entity: str, columns: Sequence[str] | Mapping[str, str],
                  member_columns: Sequence[str] | Mapping[str, str] | None,
                  outputs: Sequence[str] | None = None) -> EntityQuery:
    """The entity's query over the views ``src_entity`` (and ``src_members``): columns as
    names or name -> type, ``outputs`` the result columns asked for (see
    :meth:`SqlCompiler.compile_entity`)."""
    return comp.compile_entity(entity, "src_entity", columns,
                               "src_members" if member_columns is not None else None,
                               member_columns or (), outputs=outputs)


def carry_select(q: EntityQuery, carry: Sequence[str]) -> exp.Select:
    """The result query with carried input columns after the key."""
    res = q.result.copy()
    extra = [exp.alias_(col(c), c, quoted=True) for c in carry]
    exprs = res.expressions
    res.set("expressions", [exprs[0], *extra, *exprs[1:]])
    return res


def findings_query(comp: SqlCompiler, q: EntityQuery, ds: Any,
                   tables: Mapping[str, str] | None = None) -> exp.Select | None:
    """Rule findings (by record, severity, check, member) then dataset findings (by check,
    record, member), as one ordered query (over the layers kept in ``tables``, if given:
    see :meth:`EntityQuery.with_tables`); ``None`` when there is neither."""
    cols = [col(c) for c in FINDINGS_SCHEMA.names]
    sev = case([(exp.EQ(this=col("severity"), expression=exp.Literal.string(v)),
                 exp.Literal.number(i)) for i, v in enumerate(("error", "warning", "info"))],
               exp.Literal.number(9))
    zero = exp.Literal.number(0)
    mem = exp.Coalesce(this=col("__mem_row"), expressions=[exp.Literal.number(-1)])
    parts = []
    if q.findings is not None:
        parts.append(exp.select(*cols, exp.alias_(zero.copy(), "__p"),
                                exp.alias_(col("__rec_row"), "__o1"), exp.alias_(sev, "__o2"),
                                exp.alias_(col("check"), "__o3"), exp.alias_(mem, "__o4"),
                                exp.alias_(zero.copy(), "__o5"))
                     .from_(exp.alias_(exp.Subquery(this=q.findings), "z0", table=True)))
    if ds is not None:
        parts.append(exp.select(*cols, exp.alias_(exp.Literal.number(1), "__p"),
                                exp.alias_(zero.copy(), "__o1"), exp.alias_(zero.copy(), "__o2"),
                                exp.alias_(col("check"), "__o3"),
                                exp.alias_(col("__rec_row"), "__o4"),
                                exp.alias_(mem.copy(), "__o5"))
                     .from_(exp.alias_(exp.Subquery(this=ds), "z1", table=True)))
    if not parts:
        return None
    body: exp.Expression = parts[0]
    if len(parts) == 2:
        body = exp.union(parts[0], parts[1], distinct=False)
    select = exp.select(*[c.copy() for c in cols]).from_(
        exp.alias_(exp.Subquery(this=body), "z", table=True)).order_by(
        *[col(c) for c in ("__p", "__o1", "__o2", "__o3", "__o4", "__o5")])
    return q.with_ctes(select) if tables is None else q.with_tables(select, tables)


def findings_as_shown(fetched: pa.Table) -> pa.Table:
    """The findings a SQL runner fetched, in :data:`FINDINGS_SCHEMA`, their messages masked as
    the Python backend masks them (:func:`welfare_rules.masking.mask_text`).

    The compiled messages mask identifier fields whole (``mask_id_sql``), but a NIK typed into
    another field (a name, a note) is a run of digits SQL cannot mask per match; it is masked
    here, so the backend's own Outcome is as safe as ``BatchResult.findings``.
    """
    return mask_table(fetched.cast(FINDINGS_SCHEMA), columns=("message",))


def key_of(q: EntityQuery, key: str) -> tuple[exp.Expression, exp.Expression | None]:
    """The record key as the first layer reads it (``h0``) and the child records' parent key
    (``p0``'s ``__parent``, in the same type), ``None`` for an entity without children."""
    layers = dict(q.ctes)

    def read(layer: str, name: str) -> exp.Expression:
        found: exp.Expression = next(e.this for e in layers[layer].expressions
                                     if e.alias_or_name == name)
        return found
    return read("h0", key), read("p0", PARENT) if "p0" in layers else None


def key_range_select(q: EntityQuery, result: exp.Select, key: str, lo: exp.Expression | None,
                     hi: exp.Expression | None, ordered: bool = False) -> exp.Select:
    """The result query ``result`` (``q.result`` or :func:`carry_select`'s) restricted to
    the records whose key is in ``[lo, hi)`` (``None``: unbounded; records without a key go
    with the range that has no lower bound) and to their child records: one part of a result
    computed part by part (the parts together are the whole result, every record in exactly
    one part). With ``__row`` and without the final sort, or, ``ordered``, as ``result``
    selects (sorted by ``__row``, which it does not select)."""
    rec, par = key_of(q, key)

    def within(k: exp.Expression, nulls: bool) -> exp.Expression:
        conds: list[exp.Expression] = []
        if lo is not None:
            conds.append(exp.GTE(this=k.copy(), expression=lo.copy()))
        if hi is not None:
            conds.append(exp.LT(this=k.copy(), expression=hi.copy()))
        cond = and_all(conds) if conds else exp.true()
        if nulls and lo is None:
            cond = or_all([cond, exp.Is(this=k.copy(), expression=exp.Null())])
        return cond

    ctes = [(name, sel.copy().where(within(rec, True)) if name == "h0" else
             sel.copy().where(within(par, False)) if name == "p0" and par is not None else sel)
            for name, sel in q.ctes]
    res = result.copy()
    if not ordered:
        res.set("order", None)
        res.set("expressions", [*res.expressions, exp.alias_(col(ROW), ROW, quoted=True)])
    part = attrs.evolve(q, ctes=ctes, result=res)
    return part.with_ctes(res)
