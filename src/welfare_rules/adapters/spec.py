"""What the mapping format and the reading pipeline share: the mapping's model (``ColumnSpec``,
``MappingSpec``), the mapping error and how a mapping's literal values become text — so the
pipeline never imports the mapping module, which imports the pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from ..errors import Location, RuleLoadError, did_you_mean
from ..schema import Schema
from ._parse import DEFAULT_PARSER, PARSERS

__all__ = ["ColumnSpec", "MappingError", "MappingSpec", "canon_text"]


class MappingError(RuleLoadError):
    """A column mapping does not describe a valid mapping for the schema in use."""


def canon_text(value: Any) -> str:
    """A mapping's literal value (a default, an enum code) as the text the parsers read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@attrs.frozen
class ColumnSpec:
    """One source column and the canonical field it feeds.

    Attributes:
        column: the header as written in the source (matched case-insensitively, trimmed).
        entity: the canonical entity (``household``, ``person``, ...).
        field: the canonical field of that entity.
        parser: a parser name (see ``docs/data.md``); None = the canonical parser of the type.
        values: value map, source value → canonical value, keys matched case-insensitively.
        aliases: other headers accepted for this column.
        default: the canonical value used when the cell is blank or the column absent.
    """

    column: str
    entity: str
    field: str
    parser: str | None = None
    values: Mapping[str, str] = attrs.field(factory=dict)
    aliases: tuple[str, ...] = ()
    default: Any = None
    location: Location | None = attrs.field(default=None, eq=False)


@attrs.frozen
class MappingSpec:
    """A whole mapping: the layout and the columns.

    Attributes:
        name: short name (an adapter name such as ``kota-pekalongan``).
        description: one sentence for ``welfare-rules plugins``.
        layout: ``table`` (each source holds one entity) or ``person_per_row``.
        entity: the top entity (``household`` for person-per-row).
        group_by: person-per-row: the source column whose value groups rows into households.
        delimiters: the CSV delimiters the adapter accepts, sniffed among them from the header
            line; empty = any of ``,`` ``;`` tab ``|``. A header that splits only at another
            one is refused ("the file looks comma-separated; the adapter expects ';'").
        encodings: the CSV encodings the adapter accepts, sniffed among them; empty = UTF-8
            (with or without a byte-order mark), windows-1252 or UTF-16 (with its mark).
        sheet: XLSX sheet name; None = the first sheet.
        columns: the column specs.
    """

    name: str
    description: str = ""
    layout: str = "table"
    entity: str = "household"
    group_by: str | None = None
    delimiters: tuple[str, ...] = ()
    encodings: tuple[str, ...] = ()
    sheet: str | None = None
    columns: tuple[ColumnSpec, ...] = ()

    def for_entity(self, entity: str) -> list[ColumnSpec]:
        return [c for c in self.columns if c.entity == entity]

    def check(self, schema: Schema) -> None:
        """Check the mapping against a schema (fields exist, parsers fit, enum targets declared).

        Raises:
            MappingError: the first problem found, with where it was written.
        """
        for col in self.columns:
            where = col.location
            if col.entity not in schema.entities:
                raise MappingError(f"column '{col.column}': unknown entity '{col.entity}'"
                                   f"{did_you_mean(col.entity, schema.entities)}", where)
            ent = schema.entity(col.entity)
            fld = ent.field_or_none(col.field)
            if fld is None:
                raise MappingError(f"column '{col.column}': entity '{col.entity}' has no field "
                                   f"'{col.field}'{did_you_mean(col.field, ent.fields)}", where)
            parser = col.parser or DEFAULT_PARSER.get(fld.type.kind)
            if parser is None or parser not in PARSERS:
                raise MappingError(f"column '{col.column}': unknown parser '{col.parser}'"
                                   f"{did_you_mean(str(col.parser), PARSERS)} (known: "
                                   f"{', '.join(PARSERS)})", where)
            if fld.type.kind not in PARSERS[parser][1]:
                raise MappingError(f"column '{col.column}': parser '{parser}' cannot produce "
                                   f"the {fld.type} field '{col.entity}.{col.field}'", where)
            if fld.type.kind == "enum":
                bad = [v for v in col.values.values()
                       if str(v).lower() not in {d.lower() for d in fld.type.values}]
                if bad:
                    raise MappingError(
                        f"column '{col.column}': value map gives '{bad[0]}', not a value of "
                        f"{col.entity}.{col.field} (expected one of: "
                        f"{', '.join(fld.type.values)})", where)
        if self.layout == "person_per_row":
            if not self.group_by:
                raise MappingError(f"mapping '{self.name}': layout person_per_row needs "
                                   "'group_by' (the household key column)")
            key = [c for c in self.columns if c.column.upper() == self.group_by.upper()]
            top = schema.entity(self.entity)
            if not key or key[0].entity != self.entity or key[0].field != top.key:
                raise MappingError(f"mapping '{self.name}': group_by '{self.group_by}' must be "
                                   f"the column mapped to {self.entity}.{top.key}")
