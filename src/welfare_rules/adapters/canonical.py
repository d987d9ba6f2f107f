"""The canonical adapter: one table per entity, canonical column names and values.

Columns are named exactly as the schema's fields (DESIGN.md appendix A plus any plugin fields);
values are already canonical — ``true/false/1/0``, ISO dates, plain numbers, declared enum values —
but still validated and typed like any other source. No. KK and NIK columns must hold 16 digits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..schema import Schema
from ._pipeline import read_with_spec
from .mapping import ColumnSpec, MappingSpec
from .result import LoadResult

#: fields that hold 16-digit numbers (NIK, No. KK) in the national schema
ID_FIELDS = frozenset({("household", "id"), ("person", "nik"), ("person", "household_id")})


def _accepted(value: str | Sequence[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


class CanonicalAdapter:
    """One table per entity with canonical column names (the national pack's adapter).

    Args:
        id_fields: ``(entity, field)`` pairs validated as 16-digit numbers.
        delimiter: the CSV delimiter, or the delimiters, accepted; None = any (sniffed).
        encoding: the CSV encoding, or the encodings, accepted; None = any (sniffed).
    """

    name = "canonical"
    description = ("One table per entity (households, persons, institutions) with the "
                   "canonical column names of the schema.")

    def __init__(self, id_fields: frozenset[tuple[str, str]] = ID_FIELDS,
                 delimiter: str | Sequence[str] | None = None,
                 encoding: str | Sequence[str] | None = None):
        self.id_fields = id_fields
        self.delimiters = _accepted(delimiter)
        self.encodings = _accepted(encoding)

    def spec(self, schema: Schema) -> MappingSpec:
        """The column mapping this adapter amounts to for ``schema``."""
        cols = []
        for ent in schema.entities.values():
            for fld in ent.fields.values():
                parser = "digits16" if (ent.name, fld.name) in self.id_fields else None
                cols.append(ColumnSpec(column=fld.name, entity=ent.name, field=fld.name,
                                       parser=parser))
        return MappingSpec(name=self.name, description=self.description, layout="table",
                           delimiters=self.delimiters, encodings=self.encodings,
                           columns=tuple(cols))

    def read(self, source: Any, schema: Schema, *, entity: str | None = None,
             members: Any = None, progress: bool | None = None,
             chunk_size: int = 100_000) -> LoadResult:
        """Read a canonical table (and its members' table).

        Args:
            source: the table of ``entity`` (file path, DataFrame, Arrow, DuckDB, SQLSource).
            schema: the loaded schema.
            entity: the entity the table holds (default ``household``).
            members: the child table (persons, joined on ``household_id``).
            progress: progress bar; None = only when stderr is a terminal.
            chunk_size: rows per chunk.

        Returns:
            The load result.

        Raises:
            DataError: a source cannot be read at all.
        """
        return read_with_spec(self.spec(schema), source, schema, entity=entity or "household",
                              members=members, progress=progress, chunk_size=chunk_size)

    def __repr__(self) -> str:
        return "CanonicalAdapter()"
