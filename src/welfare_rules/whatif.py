"""What-if analysis: the impact of a rule or parameter change over a population.

``compare`` evaluates the same records with two engines (say, the national pack and the same
pack with ``pkh.max_desil`` set to 5) and reports, per group (kelurahan by default), who gains
and who loses for each rule: ``desil ≤ 5 instead of 4: who gains, who loses, per kelurahan?``
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
from sqlglot import exp

from .errors import NotFoundError
from .sqlbuild import bind, query, relation, union_all


def compare(before: Any, after: Any, entity: str, data: Any, *, members: Any = None,
            as_of: datetime.date, rules: Sequence[str], by: str | None = "kelurahan",
            backend: str = "duckdb", settle: bool = True) -> tuple[pa.Table, pa.Table]:
    """Evaluate ``data`` with two engines and compare the given rules.

    Args:
        before, after: the engines to compare (e.g. ``Engine.load()`` and
            ``Engine.load(parameters={"pkh.max_desil": 5})``).
        entity, data, members, as_of, backend, settle: as for
            :meth:`Engine.evaluate_batch` (``settle=False``: the backends' three-valued
            answers).
        rules: the rules to compare (conditions, values or ladders).
        by: a field of the entity to group by (``None``: one total row).

    Returns:
        ``(summary, changes)``: the summary has, per group and rule, the number of records,
        how many hold (or have a value) before and after, how many gained (false/unknown →
        true) and lost (true → false/unknown), and how many values changed; ``changes`` lists
        every record whose value changed (key, group, rule, before, after).
    """
    import duckdb

    ent = before.schema.entity(entity)
    key = ent.key
    if by is not None and by not in ent.fields:
        raise NotFoundError(f"--by '{by}' is not a field of {entity}")
    for rid in rules:
        before.rule(rid)  # raises UnknownRuleError with a suggestion
    a = before.evaluate_batch(entity, data, members=members, as_of=as_of, backend=backend,
                              settle=settle)
    b = after.evaluate_batch(entity, data, members=members, as_of=as_of, backend=backend,
                             settle=settle)
    ta, tb = a.to_arrow(), b.to_arrow()
    with duckdb.connect() as con:
        con.register("a", ta)
        con.register("b", tb)
        group = exp.column(by, "a", quoted=True) if by else exp.Literal.string("all")
        parts = []
        changes = []
        for rid in rules:
            for t_, name in ((ta, "before"), (tb, "after")):
                if rid not in t_.column_names:
                    raise NotFoundError(f"rule '{rid}' is not in the {name} results")
            parts.append(query("""
                SELECT __group AS grp, CAST(__rule AS VARCHAR) AS rule, count(*) AS records,
                       count(*) FILTER (WHERE a.__c IS NOT NULL AND a.__c::VARCHAR != 'false')
                           AS before,
                       count(*) FILTER (WHERE b.__c IS NOT NULL AND b.__c::VARCHAR != 'false')
                           AS after,
                       count(*) FILTER (WHERE b.__c::VARCHAR = 'true'
                                        AND coalesce(a.__c::VARCHAR, '') != 'true') AS gained,
                       count(*) FILTER (WHERE a.__c::VARCHAR = 'true'
                                        AND coalesce(b.__c::VARCHAR, '') != 'true') AS lost,
                       count(*) FILTER (WHERE a.__c IS DISTINCT FROM b.__c) AS changed
                FROM a JOIN b USING (__key) GROUP BY 1""", group=group, rule=bind(rid), c=rid,
                key=key))
            changes.append(query("""
                SELECT a.__key AS __key, __group AS grp, CAST(__rule AS VARCHAR) AS rule,
                       a.__c::VARCHAR AS before, b.__c::VARCHAR AS after
                FROM a JOIN b USING (__key) WHERE a.__c IS DISTINCT FROM b.__c""", group=group,
                rule=bind(rid), c=rid, key=key))
        summary = relation(con, query("SELECT * FROM (__u) ORDER BY grp, rule",
                                      u=union_all(parts))).to_arrow_table()
        changed = relation(con, query("SELECT * FROM (__u) ORDER BY rule, grp, __key",
                                      u=union_all(changes), key=key)).to_arrow_table()
        label = by or "group"
        summary = summary.rename_columns([label if c == "grp" else c for c in summary.column_names])
        changed = changed.rename_columns([label if c == "grp" else c for c in changed.column_names])
        return summary, changed
