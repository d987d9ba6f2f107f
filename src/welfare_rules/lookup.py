"""One record out of a large file, without reading the whole file.

``welfare-rules explain`` needs one family out of a city's 85,000. For a canonical CSV or Parquet
file (no adapter), DuckDB selects the rows whose key is the id — a Parquet scan pushes the
predicate down to its row groups, a CSV is scanned by DuckDB's reader, both far faster than
parsing and checking every row — and the few rows found are then read exactly like any input
(:meth:`Engine.read`: the same parsing, validation and quarantine). The checks that need the
whole file are the key duplicates (a No. KK or a member's NIK also on another row, quarantined
where it comes second): when DuckDB finds such a value elsewhere in the file, the file is read
whole, so the record found is the one ``evaluate`` keeps, or none. Any other source, or a file
DuckDB cannot sniff the same way, is read whole.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["read_one"]

_FAST = (".csv", ".parquet")


def read_one(engine: Engine, data: str | Path, record_id: str, *, entity: str = "household",
             members: str | Path | None = None, adapter: str | None = None
             ) -> tuple[dict[str, Any] | None, str]:
    """The record of ``entity`` whose key is ``record_id`` (members included), or None.

    Args:
        engine: the loaded engine (its schema and reader).
        data: the file of ``entity`` records.
        record_id: the key to look for (compared as text, white space trimmed on both sides
            as ingestion trims it).
        entity: the entity of ``data``.
        members: the child table (persons), if separate.
        adapter: a registered adapter; given, the file is read whole.

    Returns:
        ``(record, how)``: the record as a nested mapping (None when absent) and a sentence
        saying how it was found (selected, or read whole).
    """
    record_id = record_id.strip()  # as ingestion trims a key cell
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    paths = [Path(data), *([Path(members)] if members is not None else [])]
    if adapter is None and all(p.suffix.lower() in _FAST for p in paths):
        with tempfile.TemporaryDirectory(prefix="welfare-rules-lookup-") as tmp:
            small = _select(Path(data), ent.key, record_id, Path(tmp) / "record")
            small_members = None
            if members is not None and rel is not None:
                small_members = _select(Path(members), rel.key, record_id,
                                        Path(tmp) / "members")
                child_key = engine.schema.entity(rel.entity).key
                if small_members is not None and _elsewhere(Path(members), child_key,
                                                            small_members):
                    small = None  # a member's NIK is also on another row: read it all
            if small is not None and _elsewhere(Path(data), ent.key, small):
                small = None  # the key twice: which row stands is the whole file's business
            if small is not None and (members is None or small_members is not None):
                loaded = engine.read(str(small), entity=entity, progress=False,
                                     members=str(small_members) if small_members else None)
                record = _find(loaded, entity, ent.key, record_id)
                if record is not None:
                    return record, (f"selected the {entity}'s rows with DuckDB (the file "
                                    f"was not read whole)")
    loaded = engine.read(str(data), adapter=adapter, entity=entity, progress=False,
                         members=str(members) if members is not None else None)
    return _find(loaded, entity, ent.key, record_id), "read the whole file"


def _elsewhere(path: Path, column: str, selected: Path) -> bool:
    """Whether a value of ``column`` in the ``selected`` rows is on more rows of ``path``
    than were selected, or on more than one of them: the duplicate-key check needs the
    whole file then (a NIK twice is quarantined where it comes second)."""
    import duckdb

    con = duckdb.connect()
    try:
        def read(p: Path) -> Any:
            if p.suffix.lower() == ".parquet":
                return con.read_parquet(str(p))
            return con.read_csv(str(p), all_varchar=True, header=True)

        small = read(selected)
        if column not in small.columns:
            return False
        values = [v for (v,) in small.select(_key(column)).fetchall() if v]
        if len(set(values)) < len(values):
            return True
        if not values:
            return False
        found = read(path).filter(
            _key(column).isin(*(duckdb.ConstantExpression(v) for v in values)))
        ((count,),) = found.aggregate("count(*)").fetchall()
        return bool(count > len(values))
    except duckdb.Error:
        return True  # cannot tell: read the file whole
    finally:
        con.close()


#: what ingestion trims off a key cell (``pc.utf8_trim_whitespace``: Unicode white space)
_SPACE = r"[\s\p{Z}\x{0B}\x{85}]"


def _key(column: str) -> Any:
    """The key of ``column`` as ingestion compares it: as text, white space trimmed (a
    second spelling `` 3375…`` of a No. KK is the same key, quarantined as a duplicate)."""
    import duckdb

    return duckdb.FunctionExpression(
        "regexp_replace", duckdb.ColumnExpression(column).cast("VARCHAR"),
        duckdb.ConstantExpression(f"^{_SPACE}+|{_SPACE}+$"), duckdb.ConstantExpression(""),
        duckdb.ConstantExpression("g"))


def _find(loaded: Any, entity: str, key: str, record_id: str) -> dict[str, Any] | None:
    return next((r for r in loaded.iter_records(entity) if str(r.get(key)) == record_id), None)


def _select(path: Path, column: str, value: str, target: Path) -> Path | None:
    """Write the rows of ``path`` whose ``column`` equals ``value`` (as text) to a small file
    of the same format; None when DuckDB cannot read the file or it has no such column."""
    import duckdb

    con = duckdb.connect()
    try:
        if path.suffix.lower() == ".parquet":
            rel = con.read_parquet(str(path))
        else:
            rel = con.read_csv(str(path), all_varchar=True, header=True)
        if column not in rel.columns:
            return None
        cond = _key(column) == duckdb.ConstantExpression(value.strip())
        rows = rel.filter(cond)
        out = target.with_suffix(path.suffix.lower())
        table = rows.to_arrow_table()
        if path.suffix.lower() == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, out)
        else:
            import pyarrow.csv as pacsv

            pacsv.write_csv(table, out)
        return out
    except duckdb.Error:
        return None
    finally:
        con.close()
