"""The outcome of a load: canonical tables, the quarantine and the row accounting."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc


def empty_table(schema: pa.Schema) -> pa.Table:
    """A table with ``schema`` and no rows (``Schema.empty_table()`` imports pandas: a second
    lost on a cold start)."""
    return pa.Table.from_batches([], schema=schema)


QUARANTINE_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("row", pa.int64()),
    ("entity", pa.string()),
    ("column", pa.string()),
    ("field", pa.string()),
    ("value", pa.string()),
    ("reason", pa.string()),
])

def mask_quarantine(quarantine: pa.Table, *, unmask: bool = False) -> pa.Table:
    """A quarantine table (:data:`QUARANTINE_SCHEMA`) as it may be shown to others: each
    ``value`` masked as its field's (an identifier whole, even a malformed one; 16-digit runs
    in any other), the ``reason`` with its 16-digit runs masked; unchanged when ``unmask``."""
    from ..masking import mask_field

    q = quarantine
    if unmask or not q.num_rows:
        return q
    values = [None if v is None else mask_field(f or "", v, entity=e)
              for f, v, e in zip(q.column("field").to_pylist(),
                                 q.column("value").to_pylist(),
                                 q.column("entity").to_pylist(), strict=True)]
    reasons = [None if r is None else mask_field("", r)
               for r in q.column("reason").to_pylist()]
    q = q.set_column(q.schema.get_field_index("value"), "value",
                     pa.array(values, pa.string()))
    return q.set_column(q.schema.get_field_index("reason"), "reason",
                        pa.array(reasons, pa.string()))


CONFLICT_SCHEMA = pa.schema([
    ("source", pa.string()),
    ("household_id", pa.string()),
    ("field", pa.string()),
    ("column", pa.string()),
    ("row", pa.int64()),
    ("value", pa.string()),
])


@attrs.frozen
class Link:
    """How a parent entity's records hold child records (``household.members`` → ``person``)."""

    name: str
    child: str
    key: str
    parent_key: str


@attrs.define
class LoadResult:
    """Canonical tables read from a source, with everything that could not be read.

    Attributes:
        tables: canonical tables by entity name; columns are the entity's canonical fields.
        quarantine: one entry per problem found: ``source``, ``row`` (1-based data row, header
            excluded), ``entity``, ``column`` (source header), ``field`` (canonical), ``value``
            (raw text) and ``reason``. A row with two bad cells has two entries.
        rows_read: source rows read (data rows, every source together).
        rows_valid: source rows that made it into ``tables``.
        rows_quarantined: distinct source rows in ``quarantine``.
        household_conflicts: person-per-row layouts: rows of one family that disagree about a
            household field (``source``, ``household_id``, ``field``, ``column``, ``row``,
            ``value``); those families are quarantined, never merged.
        unmapped_columns: source headers the adapter does not know (ignored).
        warnings: things a reader should know that did not cost a row, e.g. a household kept
            without its quarantined member rows.
        links: parent → child relations used by :meth:`iter_records`.
        blank_lines: blank or whitespace-only lines (and empty sheet rows) skipped: they are
            not rows (counted in neither ``rows_read`` nor the quarantine), but never silently
            lost either.
    """

    tables: dict[str, pa.Table]
    quarantine: pa.Table
    rows_read: int
    rows_valid: int
    rows_quarantined: int
    household_conflicts: pa.Table = attrs.field(factory=CONFLICT_SCHEMA.empty_table)
    unmapped_columns: list[str] = attrs.field(factory=list)
    warnings: list[str] = attrs.field(factory=list)
    links: Mapping[str, Link] = attrs.field(factory=dict)
    blank_lines: int = 0

    def __attrs_post_init__(self) -> None:
        if self.rows_read != self.rows_valid + self.rows_quarantined:
            raise AssertionError(  # an internal error: the accounting must always balance
                f"row accounting broken: read {self.rows_read} != valid {self.rows_valid} + "
                f"quarantined {self.rows_quarantined}")

    def summary(self) -> str:
        """One line: ``read N, valid V, quarantined Q`` (and ``, blank lines skipped B``)."""
        return (f"read {self.rows_read}, valid {self.rows_valid}, "
                f"quarantined {self.rows_quarantined}"
                + (f", blank lines skipped {self.blank_lines}" if self.blank_lines else ""))

    def counts(self, first: str | None = None) -> dict[str, dict[str, int]]:
        """Records per entity, households and persons apart: ``read`` (``valid`` +
        ``quarantined``), ``valid`` (kept in ``tables``) and ``quarantined`` (distinct source
        rows of that entity in the quarantine); ``first`` is listed first."""
        entities = list(dict.fromkeys([*([first] if first else []), *self.tables,
                                       *self.quarantine.column("entity").to_pylist()]))
        out: dict[str, dict[str, int]] = {}
        for ent in entities:
            valid = self.tables[ent].num_rows if ent in self.tables else 0
            q = self.quarantine.filter(pc.equal(self.quarantine.column("entity"), ent))
            quarantined = len(set(zip(q.column("source").to_pylist(),
                                      q.column("row").to_pylist(), strict=True)))
            out[ent] = {"read": valid + quarantined, "valid": valid,
                        "quarantined": quarantined}
        return out

    def _repr_html_(self) -> str:
        from ..display import table_html

        rows = pa.Table.from_pylist([{"entity": k, **v} for k, v in self.counts().items()])
        html = table_html(rows, title="LoadResult", facts=[
            ("rows read", self.rows_read), ("valid", self.rows_valid),
            ("quarantined", self.rows_quarantined)])
        if self.quarantine.num_rows:
            html += table_html(self.masked_quarantine(), title="quarantine", max_rows=5)
        return html

    def iter_records(self, entity: str = "household", chunk_size: int = 10_000
                     ) -> Iterator[dict[str, Any]]:
        """Yield one nested dict per record, for the per-record engine.

        A household carries its members under ``"members"`` (a list of person dicts). Values are
        plain Python: bool, int, float, str, ``datetime.date``; None where missing. Records are
        built a chunk at a time, so memory stays bounded by ``chunk_size``.

        Args:
            entity: the entity whose records to yield.
            chunk_size: how many records to build at a time.

        Raises:
            KeyError: no table for ``entity`` was loaded.
        """
        table = self.tables[entity]
        link = self.links.get(entity)
        if link is None or link.child not in self.tables:
            for batch in table.to_batches(max_chunksize=chunk_size):
                yield from batch.to_pylist()
            return
        children = self.tables[link.child]
        parent_ids = table.column(link.parent_key)
        pos = pc.index_in(children.column(link.key), value_set=parent_ids)
        pos = pc.fill_null(pos, table.num_rows)  # children without a parent sort last
        order = pc.sort_indices(pa.table({"p": pos, "i": _arange(len(pos))}),
                                sort_keys=[("p", "ascending"), ("i", "ascending")])
        sorted_children = children.take(order)
        sorted_pos = pos.take(order)
        start_parent, start_child = 0, 0
        for batch in table.to_batches(max_chunksize=chunk_size):
            n = batch.num_rows
            inside = pc.and_(pc.greater_equal(sorted_pos, start_parent),
                             pc.less(sorted_pos, start_parent + n))
            k = int(pc.sum(pc.cast(pc.fill_null(inside, False), pa.int64())).as_py() or 0)
            kids = sorted_children.slice(start_child, k).to_pylist()
            owners = sorted_pos.slice(start_child, k).to_pylist()
            records = batch.to_pylist()
            for rec in records:
                rec[link.name] = []
            for owner, kid in zip(owners, kids, strict=True):
                records[owner - start_parent][link.name].append(kid)
            yield from records
            start_parent += n
            start_child += k

    def masked_quarantine(self, *, unmask: bool = False) -> pa.Table:
        """The quarantine as it may be shown to others (:func:`mask_quarantine`)."""
        return mask_quarantine(self.quarantine, unmask=unmask)

    def write_quarantine(self, directory: str | Path, *, unmask: bool = False) -> list[Path]:
        """Write the quarantine as ``quarantine.csv`` and ``quarantine.parquet``.

        The ``value`` column is masked (:mod:`welfare_rules.masking`): an identifier field's
        value whole, 16-digit runs in any other; CSV cells that a spreadsheet would read as a
        formula are written as text.

        Args:
            directory: where to write (created if absent).
            unmask: write identifiers in full.

        Returns:
            The paths written.
        """
        import pyarrow.parquet as pq

        from ..safecells import write_csv

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        csv_path, pq_path = out / "quarantine.csv", out / "quarantine.parquet"
        q = self.masked_quarantine(unmask=unmask)
        write_csv(q, csv_path, unmask=unmask)
        pq.write_table(q, pq_path)
        return [csv_path, pq_path]


def _arange(n: int) -> pa.Array:
    from ._sources import sequence

    return sequence(0, n)
