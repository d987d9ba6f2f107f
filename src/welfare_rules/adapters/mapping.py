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

from .._yaml import Positions, load_yaml, load_yaml_file
from ..errors import did_you_mean
from ..schema import Schema
from ._pipeline import read_with_spec
from .result import LoadResult
from .spec import ColumnSpec as ColumnSpec  # defined beside the pipeline's other inputs
from .spec import MappingError as MappingError  # the public name of the mapping format
from .spec import MappingSpec as MappingSpec
from .spec import canon_text

LAYOUTS = ("table", "person_per_row")


_COLUMN_KEYS = {"field", "parser", "values", "aliases", "default"}
_TOP_KEYS = {"name", "description", "layout", "entity", "group_by", "delimiter", "delimiters",
             "encoding", "encodings", "sheet", "columns", "defaults"}


def _accepted(data: Mapping[str, Any], key: str, pos: Positions) -> tuple[str, ...]:
    """``delimiters: [';', ',']`` (or ``delimiter: ';'``, one): what the adapter accepts."""
    values: Any = None
    for name in (key, key + "s"):
        if data.get(name) is not None:
            if values is not None:
                raise MappingError(f"give '{key}s' or '{key}', not both", pos.get((name,)))
            values = data[name]
    if values is None:
        return ()
    items = [values] if isinstance(values, str) else values
    if not isinstance(items, list) or not items or not all(
            isinstance(v, str) and v for v in items):
        raise MappingError(f"'{key}s' must be a text or a list of texts",
                           pos.get((key + "s",)) or pos.get((key,)))
    if key == "delimiter":
        for d in items:
            if len(d) != 1:
                raise MappingError(f"a delimiter is one character, found {d!r}",
                                   pos.get((key + "s",)) or pos.get((key,)))
    else:
        import codecs

        for e in items:
            try:
                codecs.lookup(e)
            except LookupError:
                raise MappingError(f"unknown encoding '{e}'",
                                   pos.get((key + "s",)) or pos.get((key,))) from None
    return tuple(dict.fromkeys(items))


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
        if not isinstance(aliases, list | tuple) or not all(
                isinstance(a, str | int) and not isinstance(a, bool) for a in aliases):
            raise MappingError(f"column '{header}': 'aliases' must be a header or a list of "
                               f"headers, found {aliases!r}", pos.get((*path, "aliases")))
        cols.append(ColumnSpec(
            column=str(header), entity=entity, field=field,
            parser=str(spec["parser"]) if spec.get("parser") else None,
            values={str(k): canon_text(v) for k, v in values.items()},
            aliases=tuple(str(a) for a in aliases), default=spec.get("default"),
            location=where))
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping):
        raise MappingError("'defaults' must map 'entity.field' to a value, found "
                           f"{type(defaults).__name__} {defaults!r}", pos.get(("defaults",)))
    for target, value in defaults.items():
        entity, _, field = str(target).partition(".")
        cols.append(ColumnSpec(column=f"<default {target}>", entity=entity, field=field,
                               default=value, location=pos.get(("defaults", str(target)))))
    return MappingSpec(
        name=str(data.get("name", "mapping")), description=str(data.get("description", "")),
        layout=layout, entity=str(data.get("entity", "household")),
        group_by=str(data["group_by"]) if data.get("group_by") else None,
        delimiters=_accepted(data, "delimiter", pos), encodings=_accepted(data, "encoding", pos),
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
