"""Column mappings: how a source's headers and values become canonical fields.

A mapping is data (YAML, usually shipped by a plugin): each source column names the canonical
``entity.field`` it feeds, optionally a parser, a value map, header aliases and a default. The
layout says whether each source holds one entity (``table``) or one person per row with the
household's columns repeated (``person_per_row``, grouped by a key column). The format is
documented in ``docs/data.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .._yaml import Positions, load_yaml, load_yaml_file
from ..errors import Location, did_you_mean
from ..schema import Schema
from ._parse import DEFAULT_PARSER, PARSERS
from ._pipeline import read_with_spec
from .result import LoadResult
from .spec import MappingError as MappingError  # the public name of the mapping format
from .spec import canon_text

LAYOUTS = ("table", "person_per_row")


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
        delimiter: CSV delimiter; None = sniffed from the header line.
        encoding: CSV encoding; None = sniffed (UTF-8, UTF-8 with BOM, Windows-1252).
        sheet: XLSX sheet name; None = the first sheet.
        columns: the column specs.
        id_fields: canonical fields (``entity.field``) that are 16-digit numbers (NIK, No. KK)
            when no column feeds them explicitly (the canonical adapter uses this).
    """

    name: str
    description: str = ""
    layout: str = "table"
    entity: str = "household"
    group_by: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
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


_COLUMN_KEYS = {"field", "parser", "values", "aliases", "default"}
_TOP_KEYS = {"name", "description", "layout", "entity", "group_by", "delimiter", "encoding",
             "sheet", "columns", "defaults"}


def spec_from_data(data: Any, pos: Positions | None = None) -> MappingSpec:
    """Build a :class:`MappingSpec` from plain data (a parsed YAML document).

    Raises:
        MappingError: a key is unknown or a value has the wrong shape.
    """
    pos = pos or Positions(None)
    if not isinstance(data, Mapping):
        raise MappingError("a mapping file must be a mapping with 'columns'", pos.get(()))
    for key in data:
        if key not in _TOP_KEYS:
            raise MappingError(f"unknown key '{key}'{did_you_mean(str(key), _TOP_KEYS)}",
                               pos.get((str(key),)))
    layout = str(data.get("layout", "table"))
    if layout not in LAYOUTS:
        raise MappingError(f"layout must be one of {', '.join(LAYOUTS)}, found '{layout}'",
                           pos.get(("layout",)))
    raw_cols = data.get("columns")
    if not isinstance(raw_cols, Mapping) or not raw_cols:
        raise MappingError("'columns' must map source columns to fields", pos.get(("columns",)))
    cols: list[ColumnSpec] = []
    for header, spec in raw_cols.items():
        path: tuple[str | int, ...] = ("columns", str(header))
        where = pos.get(path)
        if isinstance(spec, str):
            spec = {"field": spec}
        if not isinstance(spec, Mapping) or "field" not in spec:
            raise MappingError(f"column '{header}': expected 'entity.field' or a mapping with "
                               "'field'", where)
        for key in spec:
            if key not in _COLUMN_KEYS:
                raise MappingError(f"column '{header}': unknown key '{key}'"
                                   f"{did_you_mean(str(key), _COLUMN_KEYS)}",
                                   pos.get((*path, str(key))))
        entity, _, field = str(spec["field"]).partition(".")
        if not field:
            raise MappingError(f"column '{header}': field must be written 'entity.field', "
                               f"found '{spec['field']}'", pos.get((*path, "field")))
        values = spec.get("values") or {}
        if not isinstance(values, Mapping):
            raise MappingError(f"column '{header}': 'values' must be a mapping",
                               pos.get((*path, "values")))
        aliases = spec.get("aliases") or []
        if isinstance(aliases, str):
            aliases = [aliases]
        cols.append(ColumnSpec(
            column=str(header), entity=entity, field=field,
            parser=str(spec["parser"]) if spec.get("parser") else None,
            values={str(k): canon_text(v) for k, v in values.items()},
            aliases=tuple(str(a) for a in aliases), default=spec.get("default"),
            location=where))
    for target, value in (data.get("defaults") or {}).items():
        entity, _, field = str(target).partition(".")
        cols.append(ColumnSpec(column=f"<default {target}>", entity=entity, field=field,
                               default=value, location=pos.get(("defaults", str(target)))))
    return MappingSpec(
        name=str(data.get("name", "mapping")), description=str(data.get("description", "")),
        layout=layout, entity=str(data.get("entity", "household")),
        group_by=str(data["group_by"]) if data.get("group_by") else None,
        delimiter=str(data["delimiter"]) if data.get("delimiter") else None,
        encoding=str(data["encoding"]) if data.get("encoding") else None,
        sheet=str(data["sheet"]) if data.get("sheet") else None,
        columns=tuple(cols))


class MappingAdapter:
    """An adapter driven by a column mapping (YAML or a dict).

    Example:
        >>> adapter = MappingAdapter.from_yaml("export.yaml")   # doctest: +SKIP
        >>> res = adapter.read("export.csv", schema)             # doctest: +SKIP
    """

    def __init__(self, spec: MappingSpec):
        self.spec = spec
        self.name = spec.name
        self.description = spec.description

    @classmethod
    def from_yaml(cls, path: str | Path) -> MappingAdapter:
        """Load a mapping from a YAML file.

        Raises:
            RuleLoadError: the file is not valid YAML; MappingError: not a valid mapping.
        """
        data, pos = load_yaml_file(path)
        return cls(spec_from_data(data, pos))

    @classmethod
    def from_yaml_text(cls, text: str) -> MappingAdapter:
        """Load a mapping from YAML text."""
        data, pos = load_yaml(text)
        return cls(spec_from_data(data, pos))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MappingAdapter:
        """Build a mapping from a dict shaped like the YAML format."""
        return cls(spec_from_data(data))

    def read(self, source: Any, schema: Schema, *, entity: str | None = None,
             members: Any = None, progress: bool | None = None,
             chunk_size: int = 100_000) -> LoadResult:
        """Read ``source`` (and ``members``, for the table layout) into canonical tables.

        Args:
            source: a file path, DataFrame, Arrow table, DuckDB relation or SQLSource.
            schema: the loaded schema (national and plugin fields).
            entity: the entity ``source`` holds; None = the mapping's own entity.
            members: table layout only: the source of the child entity (persons).
            progress: show a progress bar; None = only when stderr is a terminal.
            chunk_size: rows per chunk.

        Returns:
            The load result.

        Raises:
            DataError: a source cannot be read at all. MappingError: the mapping does not fit
            the schema.
        """
        self.spec.check(schema)
        return read_with_spec(self.spec, source, schema, entity=entity or self.spec.entity,
                              members=members, progress=progress, chunk_size=chunk_size)

    def __repr__(self) -> str:
        return f"MappingAdapter({self.name!r})"
