"""Records (as :meth:`Engine.evaluate` takes them) as the canonical Arrow tables a batch takes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from welfare_rules import Engine
from welfare_rules.backends.base import arrow_type


def schema_of(engine: Engine, entity: str) -> pa.Schema:
    """The Arrow schema of an entity's fields (text where the type has no Arrow type)."""
    fields = engine.schema.entity(entity).fields
    return pa.schema([(name, arrow_type(f.type) or pa.string()) for name, f in fields.items()])


def tables(engine: Engine, records: Sequence[Mapping[str, Any]], entity: str = "household"
           ) -> tuple[pa.Table, pa.Table | None]:
    """The records and (for an entity with a relation) their related records, keyed."""
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    own = pa.Table.from_pylist([{k: v for k, v in r.items() if rel is None or k != rel.name}
                                for r in records], schema=schema_of(engine, entity))
    if rel is None:
        return own, None
    kids = [{**m, rel.key: r[ent.key]} for r in records for m in r.get(rel.name) or ()]
    return own, pa.Table.from_pylist(kids, schema=schema_of(engine, rel.entity))
