"""Data ingestion: sources and adapters into validated canonical tables, with a quarantine.

``read`` is the entry point: any supported source (CSV, XLSX, Parquet, JSON, JSON Lines,
DataFrames, Arrow, DuckDB, SQL) through an adapter (the canonical one by default, or a column
mapping shipped by a plugin) into canonical tables per entity. Rows that cannot be read cleanly
are quarantined with their row number, column, value and reason — never dropped, never repaired —
and ``rows_read == rows_valid + rows_quarantined`` always holds. See ``docs/data.md``.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..schema import Schema
from ._sources import SQLSource
from .canonical import CanonicalAdapter
from .mapping import ColumnSpec, MappingAdapter, MappingError, MappingSpec
from .result import LoadResult

__all__ = [
    "Adapter",
    "CanonicalAdapter",
    "ColumnSpec",
    "LoadResult",
    "MappingAdapter",
    "MappingError",
    "MappingSpec",
    "SQLSource",
    "read",
]

DEFAULT_CHUNK_SIZE = 100_000


@runtime_checkable
class Adapter(Protocol):
    """What an adapter offers: a name, a one-sentence description and ``read``."""

    name: str
    description: str

    def read(self, source: Any, schema: Schema, *, entity: str | None = None,
             members: Any = None, progress: bool | None = None,
             chunk_size: int = DEFAULT_CHUNK_SIZE) -> LoadResult:
        """Read ``source`` (and ``members``) into canonical tables; see :func:`read`."""
        ...


def read(source: Any, schema: Schema, adapter: Adapter | None = None, entity: str = "household",
         members: Any = None, progress: bool | None = None,
         chunk_size: int = DEFAULT_CHUNK_SIZE) -> LoadResult:
    """Read a source into validated canonical tables.

    Args:
        source: a path to a CSV, XLSX, Parquet, JSON or JSON Lines file; a pandas or polars
            DataFrame; a pyarrow Table; a DuckDB relation; or a :class:`SQLSource`.
        schema: the loaded schema (national fields plus those of plugins).
        adapter: how to read it; None = :class:`CanonicalAdapter`.
        entity: the entity ``source`` holds (person-per-row mappings always give households
            with their members).
        members: the persons table for the canonical one-table-per-entity layout, joined on
            ``household_id``.
        progress: show a progress bar on stderr; None = only when stderr is a terminal.
        chunk_size: rows per chunk (bounds the memory used while reading).

    Returns:
        The load result: ``tables``, ``quarantine`` and the row accounting.

    Raises:
        DataError: a source cannot be read at all (missing file, no header, unknown kind, a
            required column absent).
        MappingError: the adapter's mapping does not fit the schema.
    """
    chosen: Adapter = adapter if adapter is not None else CanonicalAdapter()
    return chosen.read(source, schema, entity=entity, members=members, progress=progress,
                       chunk_size=chunk_size)
