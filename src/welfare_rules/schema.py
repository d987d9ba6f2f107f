"""Entities, their typed fields and their relations.

The schema is data, read from YAML (the national one is ``national/schema.yaml``, DESIGN.md
appendix A). Plugins extend it: they add fields to existing entities and add new entities, but
never redefine a field another layer declared. Every field remembers the origin that declared it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from . import types as t
from ._yaml import Positions, load_yaml_file
from .errors import ErrorGroup, LocatedError, Location, RuleLoadError, did_you_mean


@attrs.frozen
class Text:
    """A label or title in Indonesian (``id``) and English (``en``)."""

    id: str = ""
    en: str = ""

    def get(self, lang: str) -> str:
        if lang == "id":
            return self.id or self.en
        return self.en or self.id

    @classmethod
    def of(cls, value: Any) -> Text:
        """The text of a YAML value: a text (both languages) or ``{id: ..., en: ...}``.

        Raises:
            TypeError: the value, or a language's value, is not a text.
        """
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(value, value)
        if isinstance(value, Mapping):
            for lang in ("id", "en"):
                v = value.get(lang)
                if v is not None and not isinstance(v, str):
                    raise TypeError(f"expected a text for '{lang}', found "
                                    f"{type(v).__name__} {v!r}")
            return cls(value.get("id") or "", value.get("en") or "")
        raise TypeError(f"expected a text or a mapping with 'id' and 'en', found {value!r}")


@attrs.frozen
class Origin:
    """Who contributed something and from which file."""

    plugin: str = "welfare-rules"
    version: str = ""
    file: str = ""

    def __str__(self) -> str:
        who = f"{self.plugin} {self.version}".strip()
        return f"{who}, {self.file}" if self.file else who


Bound = float | datetime.date

#: Two underscores in a row, kept for the names the backends make: their own columns
#: (``__row``, ``__parent``, ``__wr_item``, ``__agg0__n``, …), a rule's helper columns
#: (``<rule>__status``, ``<rule>__error``, ``<rule>__blocked``) and the rule of a ladder's level
#: (``<ladder>__<level>``). No field, relation, rule, criterion or indicator is named with it, so
#: none of those names can be one the backends make (docs/rules.md, "Names").
RESERVED = "__"


def reserved_problem(what: str, name: str) -> str | None:
    """Why ``name`` cannot name a ``what`` (``"field"``, ``"rule id"``, …): it holds
    :data:`RESERVED`; ``None`` when it does not."""
    if RESERVED not in name:
        return None
    return (f"{what} '{name}' must not contain '{RESERVED}' (two underscores in a row are kept "
            f"for the backends' own names: __row, <rule>__status, <ladder>__<level>, …)")


@attrs.frozen
class Field:
    """A typed attribute of an entity.

    Attributes:
        min: the smallest valid value (numbers and dates), inclusive; None = no bound.
        max: the largest valid value, inclusive; None = no bound.
        pattern: a regular expression the whole text must match (``str`` fields), e.g.
            ``^[0-9]{16}$`` for a NIK; None = any text.
    """

    name: str
    type: t.Type
    label: Text = Text()
    required: bool = False
    min: Bound | None = None
    max: Bound | None = None
    pattern: str | None = None
    origin: Origin = Origin()
    #: an enum's values in words, ``{value: Text}`` (``labels:`` in the schema file)
    value_labels: Mapping[str, Text] = attrs.field(factory=dict)
    #: ``False`` for facts a change of circumstances cannot alter (birth date, sex): a
    #: counterfactual never proposes to change them
    changeable: bool = True

    def value_label(self, value: Any, lang: str) -> str | None:
        """The word for an enum value in ``lang``, or ``None`` when the schema has none."""
        text = self.value_labels.get(str(value))
        return text.get(lang) if text is not None else None

    def range_text(self) -> str:
        """The declared range as people read it: ``1..10``, ``at least 0``, or ``""``."""
        lo, hi = bound_text(self.min), bound_text(self.max)
        if lo and hi:
            return f"{lo}..{hi}"
        if lo:
            return f"at least {lo}"
        return f"at most {hi}" if hi else ""


def bound_text(x: Bound | None) -> str:
    """A declared bound as people read it: ``10``, ``0.5``, ``1900-01-01``; ``""`` for None."""
    if x is None:
        return ""
    if isinstance(x, datetime.date):
        return x.isoformat()
    return str(int(x)) if float(x).is_integer() else str(x)


@attrs.frozen
class Relation:
    """A one-to-many relation: in a record, a list of related records; in batch, a second table
    joined on ``key`` (the related entity's column holding this entity's id)."""

    name: str
    entity: str
    key: str
    label: Text = Text()


@attrs.frozen
class Entity:
    """A kind of record: household, person, institution, or one a plugin adds."""

    name: str
    key: str
    fields: Mapping[str, Field]
    relations: Mapping[str, Relation] = attrs.field(factory=dict)
    label: Text = Text()

    def field_or_none(self, name: str) -> Field | None:
        return self.fields.get(name)


@attrs.frozen
class Schema:
    """All entities of a loaded engine."""

    entities: Mapping[str, Entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            raise LookupError(
                f"unknown entity '{name}'{did_you_mean(name, self.entities)}"
                f" (known: {', '.join(sorted(self.entities))})"
            ) from None

    def parent_of(self, entity: str) -> tuple[Entity, Relation] | None:
        """The entity that holds ``entity`` through a relation, if any."""
        for ent in self.entities.values():
            for rel in ent.relations.values():
                if rel.entity == entity:
                    return ent, rel
        return None


def _label(value: Any, what: str, path: tuple[str | int, ...], pos: Positions) -> Text:
    """``Text.of`` of a schema file's label, refused with its location when not text."""
    try:
        return Text.of(value)
    except TypeError as exc:
        raise RuleLoadError(f"{what}: {exc}", pos.get(path)) from None


def _field_from(name: str, spec: Any, path: tuple[str | int, ...], pos: Positions,
                origin: Origin) -> Field:
    where = pos.get(path)
    reserved = reserved_problem("field", name)
    if reserved is not None:
        raise RuleLoadError(reserved, where)
    if isinstance(spec, str):
        spec = {"type": spec}
    if not isinstance(spec, Mapping):
        raise RuleLoadError(f"field '{name}': expected a mapping or a type name, found {spec!r}",
                            where)
    known = {"type", "values", "label", "required", "optional", "min", "max", "pattern",
             "description", "labels", "changeable"}
    extra = set(spec) - known
    if extra:
        bad = sorted(extra)[0]
        raise RuleLoadError(f"field '{name}': unknown key '{bad}'{did_you_mean(bad, known)}",
                            pos.get((*path, bad)))
    type_name = spec.get("type")
    if type_name == "enum":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise RuleLoadError(f"field '{name}': an enum needs a non-empty list 'values'", where)
        ftype = t.enum(tuple(str(v) for v in values))
    else:
        try:
            ftype = t.parse_type_name(str(type_name))
        except ValueError as exc:
            raise RuleLoadError(f"field '{name}': {exc}", pos.get((*path, "type"))) from None
    bounds = [_bound(name, ftype, key, spec.get(key), pos.get((*path, key)))
              for key in ("min", "max")]
    pattern = spec.get("pattern")
    if pattern is not None:
        if ftype.kind != "str" or not isinstance(pattern, str):
            raise RuleLoadError(f"field '{name}': 'pattern' is a regular expression for a str "
                                f"field, found {pattern!r} on a {ftype} field",
                                pos.get((*path, "pattern")))
        try:
            re.compile(pattern)
        except re.error as exc:
            raise RuleLoadError(f"field '{name}': 'pattern' is not a valid regular expression: "
                                f"{exc}", pos.get((*path, "pattern"))) from None
    labels = spec.get("labels") or {}
    if "labels" in spec and (not isinstance(labels, Mapping) or type_name != "enum"):
        raise RuleLoadError(f"field '{name}': 'labels' is a mapping from each enum value to "
                            f"{{id: ..., en: ...}}", pos.get((*path, "labels")))
    value_labels: dict[str, Text] = {}
    for value, text in labels.items():
        if str(value) not in ftype.values:
            raise RuleLoadError(
                f"field '{name}': 'labels' names '{value}', which is not one of its values"
                f"{did_you_mean(str(value), ftype.values)}", pos.get((*path, "labels", value)))
        value_labels[str(value)] = _label(text, f"field '{name}': labels.{value}",
                                          (*path, "labels", value), pos)
    return Field(
        name=name,
        type=ftype,
        label=_label(spec.get("label"), f"field '{name}': label", (*path, "label"), pos),
        required=bool(spec.get("required", False)),
        min=bounds[0],
        max=bounds[1],
        pattern=pattern,
        origin=origin,
        value_labels=value_labels,
        changeable=bool(spec.get("changeable", True)),
    )


def _bound(name: str, ftype: t.Type, key: str, value: Any, where: Location | None
           ) -> Bound | None:
    """A declared ``min``/``max``: a number for int and decimal fields, a date for dates."""
    if value is None:
        return None
    if ftype.kind in ("int", "decimal") and isinstance(value, int | float) \
            and not isinstance(value, bool):
        return value
    if ftype.kind == "date" and isinstance(value, datetime.date) \
            and not isinstance(value, datetime.datetime):
        return value
    want = "a date (yyyy-mm-dd)" if ftype.kind == "date" else "a number"
    raise RuleLoadError(f"field '{name}': '{key}' must be {want} for a {ftype} field, found "
                        f"{value!r}", where)


class SchemaBuilder:
    """Accumulates schema layers (national, then plugins) and reports clashes with both origins."""

    def __init__(self) -> None:
        self._entities: dict[str, dict[str, Any]] = {}
        self.errors: list[LocatedError] = []

    def add_file(self, path: str | Path, origin: Origin) -> None:
        data, pos = load_yaml_file(path, cache=True)
        self.add_data(data, pos, origin)

    def add_data(self, data: Any, pos: Positions, origin: Origin) -> None:
        """Add one schema document: ``entities: {name: {key, label, fields, relations}}``."""
        if not isinstance(data, Mapping) or not isinstance(data.get("entities"), Mapping):
            self.errors.append(RuleLoadError("a schema file needs a mapping 'entities'",
                                             pos.get(())))
            return
        for ename, espec in data["entities"].items():
            epath: tuple[str | int, ...] = ("entities", ename)
            if not isinstance(espec, Mapping):
                self.errors.append(RuleLoadError(f"entity '{ename}': expected a mapping",
                                                 pos.get(epath)))
                continue
            ent = self._entities.setdefault(
                ename, {"key": None, "label": Text(), "fields": {}, "relations": {}})
            if espec.get("key"):
                if ent["key"] and ent["key"] != espec["key"]:
                    self.errors.append(RuleLoadError(
                        f"entity '{ename}': key already declared as '{ent['key']}'",
                        pos.get((*epath, "key"))))
                else:
                    ent["key"] = str(espec["key"])
            if "label" in espec:
                try:
                    ent["label"] = _label(espec["label"], f"entity '{ename}': label",
                                          (*epath, "label"), pos)
                except RuleLoadError as exc:
                    self.errors.append(exc)
            for fname, fspec in (espec.get("fields") or {}).items():
                fpath = (*epath, "fields", fname)
                try:
                    fld = _field_from(str(fname), fspec, fpath, pos, origin)
                except LocatedError as exc:
                    self.errors.append(exc)
                    continue
                if fname in ent["fields"]:
                    prev: Field = ent["fields"][fname]
                    self.errors.append(RuleLoadError(
                        f"field '{ename}.{fname}' is declared twice: by {prev.origin} and by "
                        f"{origin} (a plugin adds fields; it does not redefine them)",
                        pos.get(fpath)))
                    continue
                ent["fields"][fname] = fld
            for rname, rspec in (espec.get("relations") or {}).items():
                rpath = (*epath, "relations", rname)
                reserved = reserved_problem("relation", str(rname))
                if reserved is not None:
                    self.errors.append(RuleLoadError(f"entity '{ename}': {reserved}",
                                                     pos.get(rpath)))
                    continue
                if not isinstance(rspec, Mapping) or "entity" not in rspec or "key" not in rspec:
                    self.errors.append(RuleLoadError(
                        f"relation '{ename}.{rname}': needs 'entity' and 'key'", pos.get(rpath)))
                    continue
                try:
                    label = _label(rspec.get("label"), f"relation '{ename}.{rname}': label",
                                   (*rpath, "label"), pos)
                except RuleLoadError as exc:
                    self.errors.append(exc)
                    continue
                ent["relations"][rname] = Relation(str(rname), str(rspec["entity"]),
                                                   str(rspec["key"]), label)

    def build(self) -> Schema:
        entities: dict[str, Entity] = {}
        for name, ent in self._entities.items():
            key = ent["key"] or "id"
            if key not in ent["fields"]:
                self.errors.append(RuleLoadError(
                    f"entity '{name}': its key field '{key}' is not declared", Location()))
            entities[name] = Entity(name, key, dict(ent["fields"]), dict(ent["relations"]),
                                    ent["label"])
        for built in entities.values():
            for rel in built.relations.values():
                if rel.entity not in entities:
                    self.errors.append(RuleLoadError(
                        f"relation '{built.name}.{rel.name}' points to unknown entity "
                        f"'{rel.entity}'{did_you_mean(rel.entity, entities)}", Location()))
                elif rel.key not in entities[rel.entity].fields:
                    self.errors.append(RuleLoadError(
                        f"relation '{built.name}.{rel.name}': '{rel.entity}' has no field "
                        f"'{rel.key}'", Location()))
        if self.errors:
            raise ErrorGroup(self.errors, "invalid schema")
        return Schema(entities)


def load_schema(files: Iterable[tuple[str | Path, Origin]]) -> Schema:
    """Build a schema from files, in layer order."""
    b = SchemaBuilder()
    for path, origin in files:
        try:
            b.add_file(path, origin)
        except LocatedError as exc:
            b.errors.append(exc)
    return b.build()
