"""YAML rule and parameter files → the model, through one dedicated cattrs converter.

Loading is in two steps. cattrs structures each document into *spec* classes that mirror the
file format exactly (``forbid_extra_keys``, detailed validation, rule kinds told apart by their
keys); then the specs are flattened into :class:`model.Rule` objects with parsed expressions.
Errors from both steps are collected, located (``file:line:column``) and reported together.
"""

from __future__ import annotations

import datetime
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Union

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, override

from . import types as t
from ._yaml import LocatedStr, Positions, load_yaml_file
from .errors import (
    ExpressionSyntaxError,
    LocatedError,
    Location,
    RuleLoadError,
    did_you_mean,
)
from .expr import nodes as n
from .expr.parse import parse
from .model import (
    AGGREGATIONS,
    HIT_POLICIES,
    POLICIES,
    SEVERITIES,
    Band,
    Basis,
    Check,
    Indicator,
    Level,
    Parameter,
    Rule,
    RuleSet,
    SeverityCase,
    Table,
    TableOutput,
    TableRow,
    UnaryTest,
)
from .schema import RESERVED, Origin, Text, reserved_problem

# --------------------------------------------------------------------------------------------
# Specs: the file format, one class per shape.


@attrs.frozen(kw_only=True)
class ConditionSpec:
    id: str | None = None
    title: Text | None = None
    reference: str | None = None
    basis: str | None = None
    policy: str | None = None
    unverified: bool | None = None
    sources: list[str] | None = None
    description: str | None = None
    when: str | None = None
    all: list[Criterion] | None = None
    any: list[Criterion] | None = None
    not_: Criterion | None = None
    at_least: int | str | None = None
    of: list[Criterion] | None = None


Criterion = Union[str, ConditionSpec]  # noqa: UP007 - cattrs needs a runtime union object


@attrs.frozen(kw_only=True)
class _RuleCommon:
    id: str
    title: Text | None = None
    reference: str | None = None
    basis: str | None = None
    policy: str | None = None
    unverified: bool | None = None
    sources: list[str] | None = None
    description: str | None = None
    unit: str | None = None
    overrides: str | None = None
    effective: EffectiveSpec | None = None


@attrs.frozen(kw_only=True)
class ConditionRuleSpec(_RuleCommon):
    when: str | None = None
    all: list[Criterion] | None = None
    any: list[Criterion] | None = None
    not_: Criterion | None = None
    at_least: int | str | None = None
    of: list[Criterion] | None = None


@attrs.frozen(kw_only=True)
class ValueRuleSpec(_RuleCommon):
    value: str
    type: str | None = None


@attrs.frozen(kw_only=True)
class OutputSpec:
    name: str | None = None
    values: list[Any] | None = None


@attrs.frozen(kw_only=True)
class RowSpec:
    when: list[Any]
    then: Any


@attrs.frozen(kw_only=True)
class TableSpec:
    hit_policy: str
    aggregation: str | None = None
    inputs: list[str]
    outputs: list[OutputSpec] | None = None
    rows: list[RowSpec]
    default: Any = None


@attrs.frozen(kw_only=True)
class TableRuleSpec(_RuleCommon):
    table: TableSpec


@attrs.frozen(kw_only=True)
class LevelSpec:
    level: str
    title: Text | None = None
    basis: str | None = None
    policy: str | None = None
    unverified: bool | None = None
    sources: list[str] | None = None
    when: str | None = None
    all: list[Criterion] | None = None
    any: list[Criterion] | None = None
    at_least: int | str | None = None
    of: list[Criterion] | None = None


@attrs.frozen(kw_only=True)
class LadderRuleSpec(_RuleCommon):
    ladder: list[LevelSpec]


@attrs.frozen(kw_only=True)
class IndicatorSpec:
    id: str
    title: Text | None = None
    reference: str | None = None
    basis: str | None = None
    policy: str | None = None
    unverified: bool | None = None
    sources: list[str] | None = None
    weight: float | str = 1
    value: str


@attrs.frozen(kw_only=True)
class BandSpec:
    min: float
    label: str


@attrs.frozen(kw_only=True)
class ScoreSpec:
    indicators: list[IndicatorSpec]
    bands: list[BandSpec] | None = None


@attrs.frozen(kw_only=True)
class ScoreRuleSpec(_RuleCommon):
    score: ScoreSpec


@attrs.frozen(kw_only=True)
class SeverityCaseSpec:
    when: str | None = None
    level: str


@attrs.frozen(kw_only=True)
class CheckRuleSpec(_RuleCommon):
    when: str | None = None
    all: list[Criterion] | None = None
    any: list[Criterion] | None = None
    severity: str | list[SeverityCaseSpec]
    message: Text
    for_each: str | None = None
    where: str | None = None


RuleSpec = Union[  # noqa: UP007
    ConditionRuleSpec, ValueRuleSpec, TableRuleSpec, LadderRuleSpec, ScoreRuleSpec, CheckRuleSpec
]


@attrs.frozen(kw_only=True)
class EffectiveSpec:
    from_: datetime.date | None = None
    until: datetime.date | None = None


@attrs.frozen(kw_only=True)
class RuleSetSpec:
    id: str
    entity: str
    version: str = ""
    title: Text | None = None
    reference: str | None = None
    basis: str | None = None
    policy: str | None = None
    unverified: bool | None = None
    sources: list[str] | None = None
    description: str | None = None
    effective: EffectiveSpec | None = None
    rules: list[RuleSpec]


@attrs.frozen(kw_only=True)
class ParameterSpec:
    title: Text | None = None
    description: str | None = None
    unit: str | None = None
    reference: str | None = None
    unverified: bool = False
    basis: str | None = None
    policy: str | None = None
    sources: list[str] | None = None
    optional: bool = False
    type: str | None = None
    overrides: str | bool | None = None
    values: dict[datetime.date, Any]


_KIND_BY_KEY = (
    ("table", TableRuleSpec), ("ladder", LadderRuleSpec), ("score", ScoreRuleSpec),
    ("value", ValueRuleSpec), ("severity", CheckRuleSpec), ("message", CheckRuleSpec),
)
_KIND_BY_NAME: dict[str, type] = {
    "condition": ConditionRuleSpec, "value": ValueRuleSpec, "table": TableRuleSpec,
    "ladder": LadderRuleSpec, "score": ScoreRuleSpec, "check": CheckRuleSpec,
}


def make_converter() -> cattrs.Converter:
    """The one converter of rule files: strict keys, detailed errors, YAML-friendly hooks."""
    conv = cattrs.Converter(detailed_validation=True, forbid_extra_keys=True)

    def text_hook(v: Any, _: Any) -> Text:
        if isinstance(v, str):
            return Text(v, v)
        if isinstance(v, Mapping):
            extra = set(v) - {"id", "en"}
            if extra:
                raise ValueError(f"a title has keys 'id' and 'en', found '{sorted(extra)[0]}'")
            try:
                return Text.of(v)
            except TypeError as exc:
                raise ValueError(str(exc)) from None
        raise ValueError(f"expected a text or {{id: ..., en: ...}}, found {v!r}")

    def str_hook(v: Any, _: Any) -> str:
        if isinstance(v, str):
            return v  # keep LocatedStr
        if isinstance(v, bool | int | float | datetime.date):
            return str(v)
        raise ValueError(f"expected a text, found {type(v).__name__} {v!r}")

    def date_hook(v: Any, _: Any) -> datetime.date:
        if isinstance(v, datetime.datetime):
            return v.date()
        if isinstance(v, datetime.date):
            return v
        if isinstance(v, str):
            return t.parse_iso_date(v)
        raise ValueError(f"expected a date YYYY-MM-DD, found {v!r}")

    def criterion_hook(v: Any, _: Any) -> Criterion:
        if isinstance(v, str):
            return v
        if isinstance(v, bool):
            return str(v)
        if isinstance(v, Mapping):
            return conv.structure(v, ConditionSpec)
        raise ValueError(f"a criterion is an expression or a mapping, found {v!r}")

    def rule_hook(v: Any, _: Any) -> Any:
        if not isinstance(v, Mapping):
            raise ValueError(f"a rule is a mapping, found {v!r}")
        kind = v.get("kind")
        data = {k: val for k, val in v.items() if k != "kind"}
        if kind is not None:
            if kind not in _KIND_BY_NAME:
                hint = did_you_mean(str(kind), _KIND_BY_NAME)
                raise ValueError(f"unknown rule kind '{kind}'{hint}"
                                 f" (expected one of {', '.join(_KIND_BY_NAME)})")
            cls = _KIND_BY_NAME[kind]
        else:
            cls = next((c for key, c in _KIND_BY_KEY if key in v), ConditionRuleSpec)
        return conv.structure(data, cls)

    def int_or_str(v: Any, _: Any) -> int | str:
        if isinstance(v, bool):
            raise ValueError(f"expected a number or an expression, found {v!r}")
        if isinstance(v, int | str):
            return v
        raise ValueError(f"expected a number or an expression, found {v!r}")

    def float_or_str(v: Any, _: Any) -> float | str:
        if isinstance(v, bool):
            raise ValueError(f"expected a number or an expression, found {v!r}")
        if isinstance(v, int | float):
            return float(v)
        if isinstance(v, str):
            return v
        raise ValueError(f"expected a number or an expression, found {v!r}")

    def sev_hook(v: Any, _: Any) -> str | list[SeverityCaseSpec]:
        if isinstance(v, str):
            return v
        if isinstance(v, list):
            return [conv.structure(x, SeverityCaseSpec) for x in v]
        raise ValueError(f"severity is a level or a list of {{when, level}}, found {v!r}")

    def bool_or_str(v: Any, _: Any) -> str | bool | None:
        if v is None or isinstance(v, bool | str):
            return v
        raise ValueError(f"expected true or a name, found {v!r}")

    conv.register_structure_hook(Text, text_hook)
    conv.register_structure_hook(str, str_hook)
    conv.register_structure_hook(datetime.date, date_hook)
    conv.register_structure_hook(Criterion, criterion_hook)
    conv.register_structure_hook(RuleSpec, rule_hook)
    conv.register_structure_hook(int | str, int_or_str)
    conv.register_structure_hook(float | str, float_or_str)
    conv.register_structure_hook(str | list[SeverityCaseSpec], sev_hook)
    conv.register_structure_hook(str | bool | None, bool_or_str)
    conv.register_structure_hook(str | bool, bool_or_str)  # what optional_union leaves
    conv.register_structure_hook(Any, lambda v, _: v)

    def is_optional_union(tp: Any) -> bool:
        args = typing.get_args(tp)
        return (typing.get_origin(tp) in (Union, types.UnionType) and type(None) in args
                and len(args) > 2)

    def optional_union(v: Any, tp: Any) -> Any:
        if v is None:
            return None
        rest = tuple(a for a in typing.get_args(tp) if a is not type(None))
        return conv.structure(v, Union[rest])  # type: ignore[arg-type]  # noqa: UP007

    conv.register_structure_hook_func(is_optional_union, optional_union)
    for cond_cls in (ConditionSpec, ConditionRuleSpec):
        conv.register_structure_hook(cond_cls, make_dict_structure_fn(
            cond_cls, conv, not_=override(rename="not"), _cattrs_forbid_extra_keys=True))
    conv.register_structure_hook(EffectiveSpec, make_dict_structure_fn(
        EffectiveSpec, conv, from_=override(rename="from"), _cattrs_forbid_extra_keys=True))
    return conv


_CONVERTER = make_converter()

# --------------------------------------------------------------------------------------------
# Locating cattrs errors.

_PATH_TOKEN = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]|\[['\"]?([^\]'\"]+)['\"]?\]")


def _split_path(p: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for m in _PATH_TOKEN.finditer(p.lstrip("$")):
        if m.group(1) is not None:
            name = m.group(1)
            out.append({"not_": "not", "from_": "from"}.get(name, name))
        elif m.group(2) is not None:
            out.append(int(m.group(2)))
        else:
            out.append(m.group(3))
    return tuple(out)


def _structure(data: Any, cls: type, pos: Positions, base: tuple[str | int, ...] = ()) -> Any:
    """Structure ``data`` into ``cls``; raise a list of located errors on failure."""
    try:
        return _CONVERTER.structure(data, cls)
    except (cattrs.BaseValidationError, ValueError, TypeError) as exc:
        errors: list[LocatedError] = []
        if isinstance(exc, cattrs.BaseValidationError):
            for msg in cattrs.transform_error(exc, path="$", format_exception=_format_exc):
                _path_text, _, _detail = msg.partition(" @ ")
                detail_text, _, where = msg.rpartition(" @ ")
                path = _split_path(where) if where.startswith("$") else ()
                bad_key = re.match(r"unknown key\(s\) '([^']+)'", detail_text)
                if bad_key:  # point at the misspelled key's line, not the mapping's first
                    path = (*path, bad_key.group(1))
                shown = where.lstrip("$").lstrip(".") if where.startswith("$") else ""
                errors.append(RuleLoadError(detail_text, pos.get(base + path), shown or None))
        else:
            errors.append(RuleLoadError(str(exc), pos.get(base)))
        raise _Errors(errors) from None


_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _format_exc(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        fields = [f.name.rstrip("_") for f in attrs.fields(exc.cl)]
        # a key may be a number: the commas of an unquoted expression in a flow mapping
        # (``{value: substr(k, 1, 2)}``) split it into keys ``1`` and ``2)``
        bad = sorted(map(str, exc.extra_fields))
        if any(not _KEY_NAME.fullmatch(b) for b in bad):
            hints = ("; an expression with commas in a {...} mapping is split at its commas: "
                     "quote expressions that contain commas")
        else:
            hints = "".join(did_you_mean(b, fields) for b in bad[:1])
        return f"unknown key(s) {', '.join(repr(b) for b in bad)}{hints}"
    if isinstance(exc, ValueError | TypeError):
        msg = str(exc)
        if "invalid literal" in msg or "could not convert" in msg:
            return f"invalid value for type {getattr(type_, '__name__', type_)}"
        return msg
    return cattrs.v.format_exception(exc, type_)


class _Errors(Exception):
    def __init__(self, errors: list[LocatedError]):
        self.errors = errors
        super().__init__(f"{len(errors)} errors")


# --------------------------------------------------------------------------------------------
# Specs → model.


def _loc_of(s: Any, fallback: Location) -> Location:
    return s.where() if isinstance(s, LocatedStr) else fallback


def parse_expr(text: Any, fallback: Location) -> n.Node:
    """Parse an expression read from YAML, locating errors inside the file."""
    if isinstance(text, bool):
        return n.Literal(text)
    if isinstance(text, int | float) and not isinstance(text, bool):
        return n.Literal(text)
    if isinstance(text, LocatedStr):
        return parse(text, text.where)
    return parse(str(text), lambda line, col: fallback)


_UNARY_CMP = re.compile(r"^\s*(<=|>=|!=|==|<|>|=)\s*(.+)$", re.S)
_RANGE = re.compile(r"^\s*([\[\]\(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]\)])\s*$", re.S)


def parse_unary_test(cell: Any, loc: Location) -> UnaryTest:
    """Parse a decision-table cell.

    Accepted: ``-`` (anything); a YAML scalar (equality with that literal); a YAML list (one of
    those literals); FEEL unary tests ``<18``, ``>= param.x``, ``"a","b"``, ``[1..5]``,
    ``not("a")``; other text is an expression the input must equal.
    """
    if isinstance(cell, list):
        return UnaryTest("in", n.ListLit(tuple(n.Literal(_feel_literal(v)) for v in cell)),
                         text=str(cell))
    if cell is None:
        return UnaryTest("==", n.Literal(None), text="null")
    if not isinstance(cell, str):
        return UnaryTest("==", n.Literal(cell), text=str(cell))
    s = cell.strip()
    if s in ("-", ""):
        return UnaryTest("any", text="-")
    negate = False
    if s.startswith("not(") and s.endswith(")"):
        negate, s = True, s[4:-1].strip()
    m = _RANGE.match(s)
    if m:
        lo = _cell_expr(m.group(2), cell, loc)
        hi = _cell_expr(m.group(3), cell, loc)
        return UnaryTest("range", lo, hi, m.group(1) == "[", m.group(4) == "]", negate, cell)
    m = _UNARY_CMP.match(s)
    if m:
        op = "==" if m.group(1) == "=" else m.group(1)
        return UnaryTest(op, _cell_expr(m.group(2), cell, loc), negate=negate, text=cell)
    parts = _split_feel_list(s)
    if len(parts) > 1:
        return UnaryTest("in", n.ListLit(tuple(_cell_expr(p, cell, loc) for p in parts)),
                         negate=negate, text=cell)
    if s.startswith('"') or s in ("true", "false") or re.fullmatch(r"-?\d+(\.\d+)?", s):
        return UnaryTest("==", _cell_expr(s, cell, loc), negate=negate, text=cell)
    # a bare word: the literal text (enum values are written without quotes in YAML)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ /+-]*", s) and not s.startswith("param."):
        return UnaryTest("==", n.Literal(s), negate=negate, text=cell)
    return UnaryTest("==", _cell_expr(s, cell, loc), negate=negate, text=cell)


def _feel_literal(v: Any) -> Any:
    if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"':
        return v[1:-1]
    return v


def _split_feel_list(s: str) -> list[str]:
    parts: list[str] = []
    cur: list[str] = []
    quoted = False
    for ch in s:
        if ch == '"':
            quoted = not quoted
        if ch == "," and not quoted:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur).strip())
    return [p for p in parts if p]


def _cell_expr(text: str, cell: Any, loc: Location) -> n.Node:
    t_ = text.strip()
    if t_ == "true":
        return n.Literal(True)
    if t_ == "false":
        return n.Literal(False)
    if t_ == "null":
        return n.Literal(None)
    where = cell.where if isinstance(cell, LocatedStr) else (lambda line, col: loc)
    return parse(t_, lambda line, col: where(1, 0))


def parse_output(value: Any, loc: Location) -> n.Node:
    """A decision-table output: a literal, a FEEL-quoted string, or ``= expression``."""
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("="):
            where = value.where if isinstance(value, LocatedStr) else (lambda line, col: loc)
            return parse(s[1:].strip(), lambda line, col: where(1, col + 1))
        if len(s) >= 2 and s[0] == s[-1] == '"':
            return n.Literal(s[1:-1])
        if re.fullmatch(r"-?\d+", s):
            return n.Literal(int(s))
        if re.fullmatch(r"-?\d+\.\d+", s):
            return n.Literal(float(s))
        return n.Literal(str(value))
    return n.Literal(value)


def make_basis(spec: Any, pos: Positions, path: tuple[str | int, ...],
               errors: list[LocatedError]) -> Basis:
    """The :class:`Basis` a spec declares (``basis``, ``policy``, ``unverified``, ``sources``).

    A ``policy`` other than ``local`` is an error appended to ``errors``.
    """
    if spec is None:
        return Basis()
    policy = getattr(spec, "policy", None) or ""
    if policy and policy not in POLICIES:
        errors.append(RuleLoadError(
            f"policy '{policy}' is not one of {', '.join(POLICIES)}"
            f"{did_you_mean(policy, POLICIES)} (a basis without an instrument is "
            f"'policy: local' or 'unverified: true')", pos.get((*path, "policy"))))
        policy = ""
    sources = getattr(spec, "sources", None) or ()
    if isinstance(sources, str):
        sources = (sources,)
    return Basis(str(getattr(spec, "basis", None) or ""), str(policy),
                 bool(getattr(spec, "unverified", None)), tuple(str(x) for x in sources))


_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: the suffixes of a rule's helper columns in the backends (``<rule>__status`` of every backend's
#: result, ``<rule>__error`` and ``<rule>__blocked`` of the SQL and Polars compilers): a ladder's
#: level named so would make the level's rule ``<ladder>__status``, the ladder's own status column
_HELPER_SUFFIXES = ("status", "error", "blocked")


def _id_problem(what: str, rid: str) -> str | None:
    """Why ``rid`` cannot be the id of a rule, a criterion or an indicator; ``None`` when it can:
    a name (letters, digits, underscore) without two underscores in a row."""
    if not _ID.fullmatch(rid):
        return f"{what} '{rid}' must be a name (letters, digits, underscore)"
    return reserved_problem(what, rid)


def _level_problem(ladder: str, level: str) -> str | None:
    """Why a ladder's level with criteria cannot be named ``level`` (its rule is
    ``<ladder>__<level>``); ``None`` when it can: no two underscores in a row, no underscore
    first (``a`` + ``_b`` would be the rule of ``a_`` + ``b``), not a helper column's suffix."""
    if RESERVED in level or level.startswith("_") or level in _HELPER_SUFFIXES:
        return (f"ladder '{ladder}': level '{level}' must not contain '{RESERVED}', begin with "
                f"'_' or be one of {', '.join(_HELPER_SUFFIXES)} (its rule is "
                f"'{ladder}{RESERVED}{level}', which would be a name the backends make)")
    return None


@attrs.define
class _Flattener:
    """Turns one ruleset spec into flat rules, collecting every error."""

    ruleset: RuleSet
    pos: Positions
    errors: list[LocatedError]
    rules: list[Rule] = attrs.field(factory=list)
    #: the effective window of the top-level rule being flattened: its criteria share it
    current_effective: EffectiveSpec | None = None
    #: the basis of the enclosing rule: a criterion without one of its own inherits it
    current_basis: Basis | None = None

    def base(self, rid: str, kind: str, path: tuple[str | int, ...], spec: Any,
             **kw: Any) -> dict[str, Any]:
        eff = getattr(spec, "effective", None) or self.current_effective
        basis = make_basis(spec, self.pos, path, self.errors)
        if not basis.declared:
            inherited = self.current_basis or self.ruleset.basis
            basis = attrs.evolve(inherited, sources=basis.sources or inherited.sources)
        if "basis" not in kw:
            kw["basis"] = basis
        return {
            "id": rid, "kind": kind, "entity": self.ruleset.entity,
            "title": getattr(spec, "title", None) or Text(),
            "reference": getattr(spec, "reference", None) or self.ruleset.reference,
            "description": getattr(spec, "description", None) or "",
            "unit": getattr(spec, "unit", None) or "",
            "origin": self.ruleset.origin, "location": self.pos.get(path),
            "ruleset": self.ruleset.id, "version": self.ruleset.version,
            "effective_from": (eff.from_ if eff and eff.from_ else self.ruleset.effective_from),
            "effective_until": (eff.until if eff and eff.until else self.ruleset.effective_until),
            "overrides": getattr(spec, "overrides", None),
            **kw,
        }

    def expr(self, text: Any, path: tuple[str | int, ...]) -> n.Node | None:
        try:
            return parse_expr(text, self.pos.get(path))
        except ExpressionSyntaxError as exc:
            self.errors.append(exc)
            return None

    def condition(self, rid: str, spec: Any, path: tuple[str | int, ...], *, hidden: bool,
                  parent: str | None, kind: str = "condition", **extra: Any) -> str:
        """Flatten a condition-shaped spec (rule, criterion or ladder level) into rules."""
        modes = [m for m in ("when", "all", "any", "not_", "at_least")
                 if getattr(spec, m, None) is not None]
        if len(modes) != 1:
            found = ", ".join(m.rstrip("_") for m in modes) or "none"
            self.errors.append(RuleLoadError(
                f"rule '{rid}': a condition needs exactly one of when, all, any, not, at_least "
                f"(found {found})", self.pos.get(path)))
            return rid
        mode = modes[0].rstrip("_")
        kw: dict[str, Any] = {"mode": mode, "hidden": hidden, "parent": parent, **extra}
        if mode == "when":
            kw["expr"] = self.expr(spec.when, (*path, "when"))
        elif mode == "not":
            kw["children"] = (self.criterion(rid, 0, spec.not_, (*path, "not")),)
        else:
            key = "of" if mode == "at_least" else mode
            items = getattr(spec, key, None)
            if mode == "at_least":
                if items is None:
                    self.errors.append(RuleLoadError(
                        f"rule '{rid}': at_least needs 'of: [criteria]'", self.pos.get(path)))
                    items = []
                n_spec = spec.at_least
                kw["at_least"] = (n.Literal(n_spec) if isinstance(n_spec, int)
                                  else self.expr(n_spec, (*path, "at_least")))
            kw["children"] = tuple(self.criterion(rid, i, c, (*path, key, i))
                                   for i, c in enumerate(items or []))
        if kw.get("expr", 0) is None or kw.get("at_least", 0) is None:
            return rid
        self.rules.append(Rule(**self.base(rid, kind, path, spec, **kw)))
        return rid

    def criterion(self, parent: str, i: int, crit: Any, path: tuple[str | int, ...]) -> str:
        if isinstance(crit, str):
            cid = f"{parent}#{i + 1}"
            expr = self.expr(crit, path)
            if expr is not None:
                self.rules.append(Rule(**self.base(
                    cid, "condition", path, None, mode="when", expr=expr, hidden=True,
                    parent=parent, title=Text(str(crit), str(crit)))))
            return cid
        problem = _id_problem("criterion id", crit.id) if crit.id is not None else None
        if problem is not None:
            self.errors.append(RuleLoadError(problem, self.pos.get((*path, "id"))))
        cid = crit.id or f"{parent}#{i + 1}"
        return self.condition(cid, crit, path, hidden=crit.id is None, parent=parent)

    def rule(self, spec: Any, path: tuple[str | int, ...]) -> None:
        self.current_effective = getattr(spec, "effective", None)
        self.current_basis = None
        own = make_basis(spec, self.pos, path, [])
        if own.declared:
            self.current_basis = own
        rid = str(spec.id)
        problem = _id_problem("rule id", rid)
        if problem is not None:
            self.errors.append(RuleLoadError(problem, self.pos.get((*path, "id"))))
            return
        if isinstance(spec, ConditionRuleSpec):
            self.condition(rid, spec, path, hidden=False, parent=None)
        elif isinstance(spec, ValueRuleSpec):
            expr = self.expr(spec.value, (*path, "value"))
            declared = None
            if spec.type:
                try:
                    declared = t.parse_type_name(spec.type)
                except ValueError as exc:
                    self.errors.append(RuleLoadError(str(exc), self.pos.get((*path, "type"))))
            if expr is not None:
                self.rules.append(Rule(**self.base(rid, "value", path, spec, expr=expr,
                                                   declared_type=declared)))
        elif isinstance(spec, TableRuleSpec):
            table = self.table(rid, spec.table, (*path, "table"))
            if table is not None:
                self.rules.append(Rule(**self.base(rid, "table", path, spec, table=table)))
        elif isinstance(spec, LadderRuleSpec):
            levels = []
            for i, lv in enumerate(spec.ladder):
                lpath = (*path, "ladder", i)
                has = any(getattr(lv, m) is not None for m in ("when", "all", "any", "at_least"))
                lrid = f"{rid}{RESERVED}{lv.level}" if has else None
                problem = _level_problem(rid, str(lv.level)) if has else None
                if problem is not None:
                    self.errors.append(RuleLoadError(problem, self.pos.get((*lpath, "level"))))
                    continue
                if lrid is not None:
                    self.condition(lrid, lv, lpath, hidden=False, parent=rid,
                                   title=lv.title or Text(lv.level, lv.level))
                levels.append(Level(str(lv.level), lv.title or Text(lv.level, lv.level), lrid))
            if not levels:
                self.errors.append(RuleLoadError(f"ladder '{rid}' has no levels",
                                                 self.pos.get(path)))
            self.rules.append(Rule(**self.base(rid, "ladder", path, spec, levels=tuple(levels))))
        elif isinstance(spec, ScoreRuleSpec):
            inds = []
            for i, ind in enumerate(spec.score.indicators):
                ipath = (*path, "score", "indicators", i)
                problem = _id_problem("indicator id", ind.id)
                if problem is not None:
                    self.errors.append(RuleLoadError(problem, self.pos.get((*ipath, "id"))))
                    continue
                e = self.expr(ind.value, (*ipath, "value"))
                w = (n.Literal(ind.weight) if isinstance(ind.weight, float)
                     else self.expr(ind.weight, (*ipath, "weight")))
                if e is None or w is None:
                    continue
                self.rules.append(Rule(**self.base(
                    ind.id, "value", ipath, ind, expr=e, parent=rid)))
                inds.append(Indicator(ind.id, w))
            bands = tuple(sorted((Band(b.min, b.label) for b in spec.score.bands or ()),
                                 key=lambda b: b.min))
            self.rules.append(Rule(**self.base(rid, "score", path, spec,
                                               indicators=tuple(inds), bands=bands)))
            if bands:
                # The band is a value rule of its own, `<score>_band`: the label of the highest
                # band whose min the score reaches (unknown below the lowest or when unknown).
                label: n.Node = n.Literal(None)
                for b in bands:
                    label = n.IfExp(n.Compare(">=", n.Name(rid), n.Literal(b.min)),
                                    n.Literal(b.label), label)
                self.rules.append(Rule(**self.base(
                    f"{rid}_band", "value", (*path, "score", "bands"), None, expr=label,
                    parent=rid, declared_type=t.enum(tuple(b.label for b in bands)),
                    title=Text(f"{rid} (kelompok)", f"{rid} (band)"))))
        elif isinstance(spec, CheckRuleSpec):
            self.check(rid, spec, path)

    def check(self, rid: str, spec: CheckRuleSpec, path: tuple[str | int, ...]) -> None:
        cases: list[SeverityCase] = []
        sev_path = (*path, "severity")
        if isinstance(spec.severity, str):
            cases.append(SeverityCase(None, spec.severity))
        else:
            for i, c in enumerate(spec.severity):
                when = self.expr(c.when, (*sev_path, i, "when")) if c.when else None
                cases.append(SeverityCase(when, c.level))
        for case in cases:
            if case.level not in SEVERITIES:
                self.errors.append(RuleLoadError(
                    f"check '{rid}': severity '{case.level}' is not one of "
                    f"{', '.join(SEVERITIES)}{did_you_mean(case.level, SEVERITIES)}",
                    self.pos.get(sev_path)))
        where = self.expr(spec.where, (*path, "where")) if spec.where else None
        if spec.for_each and spec.where is None:
            self.errors.append(RuleLoadError(
                f"check '{rid}': for_each needs 'where' (the condition on each related record)",
                self.pos.get(path)))
        chk = Check(tuple(cases), spec.message, spec.for_each, where)
        if spec.when is None and spec.all is None and spec.any is None:
            self.rules.append(Rule(**self.base(rid, "check", path, spec, mode="when",
                                               expr=n.Literal(True), check=chk)))
        else:
            self.condition(rid, spec, path, hidden=False, parent=None, kind="check", check=chk)

    def table(self, rid: str, spec: TableSpec, path: tuple[str | int, ...]) -> Table | None:
        policy = spec.hit_policy.strip().lower().replace(" ", "_")
        ok = True
        if policy not in HIT_POLICIES:
            self.errors.append(RuleLoadError(
                f"table '{rid}': unknown hit policy '{spec.hit_policy}'"
                f"{did_you_mean(policy, HIT_POLICIES)} (expected {', '.join(HIT_POLICIES)})",
                self.pos.get((*path, "hit_policy"))))
            ok = False
        agg = spec.aggregation.strip().lower() if spec.aggregation else None
        if agg is not None and (policy != "collect" or agg not in AGGREGATIONS):
            self.errors.append(RuleLoadError(
                f"table '{rid}': aggregation '{spec.aggregation}' needs hit policy collect and "
                f"one of {', '.join(AGGREGATIONS)}", self.pos.get((*path, "aggregation"))))
            ok = False
        inputs = tuple(self.expr(e, (*path, "inputs", i)) for i, e in enumerate(spec.inputs))
        outputs = tuple(TableOutput(o.name or rid, tuple(_feel_literal(v) for v in o.values or ()))
                        for o in (spec.outputs or [OutputSpec()]))
        rows = []
        for i, row in enumerate(spec.rows):
            rpath = (*path, "rows", i)
            loc = self.pos.get(rpath)
            if len(row.when) != len(spec.inputs):
                self.errors.append(RuleLoadError(
                    f"table '{rid}' row {i + 1}: {len(row.when)} test(s) for "
                    f"{len(spec.inputs)} input(s)", loc))
                ok = False
                continue
            outs = self._outputs(rid, i, row.then, outputs, loc)
            try:
                tests = tuple(parse_unary_test(c, self.pos.get((*rpath, "when", j)))
                              for j, c in enumerate(row.when))
            except ExpressionSyntaxError as exc:
                self.errors.append(exc)
                ok = False
                continue
            if outs is None:
                ok = False
                continue
            rows.append(TableRow(tests, outs, loc))
        default = None
        if spec.default is not None:
            default = self._outputs(rid, -1, spec.default, outputs, self.pos.get(path))
        if not ok or any(e is None for e in inputs):
            return None
        return Table(policy, agg, tuple(e for e in inputs if e is not None),
                     tuple(str(x) for x in spec.inputs), outputs, tuple(rows), default)

    def _outputs(self, rid: str, i: int, then: Any, outputs: tuple[TableOutput, ...],
                 loc: Location) -> tuple[n.Node, ...] | None:
        if isinstance(then, Mapping):
            names = [o.name for o in outputs]
            missing = [nm for nm in names if nm not in then]
            if missing or set(then) - set(names):
                self.errors.append(RuleLoadError(
                    f"table '{rid}' row {i + 1}: outputs {sorted(then)} do not match the "
                    f"declared outputs {names}", loc))
                return None
            values = [then[nm] for nm in names]
        elif isinstance(then, list) and len(outputs) > 1:
            values = then
        else:
            values = [then]
        if len(values) != len(outputs):
            self.errors.append(RuleLoadError(
                f"table '{rid}' row {i + 1}: {len(values)} output(s) for {len(outputs)} "
                f"declared", loc))
            return None
        try:
            nodes = tuple(parse_output(v, loc) for v in values)
        except ExpressionSyntaxError as exc:
            self.errors.append(exc)
            return None
        bad = False
        for out, node in zip(outputs, nodes, strict=True):
            # DMN: an output value outside the declared output values is an error (a PRIORITY
            # or OUTPUT ORDER table would rank it last, silently)
            if out.values and isinstance(node, n.Literal) and node.value is not None \
                    and node.value not in out.values:
                where = "default" if i < 0 else f"row {i + 1}"
                declared = [str(v) for v in out.values]
                self.errors.append(RuleLoadError(
                    f"table '{rid}' {where}: output '{out.name}' is '{node.value}', not one of "
                    f"its declared values [{', '.join(declared)}]"
                    f"{did_you_mean(str(node.value), declared)}", loc))
                bad = True
        return None if bad else nodes


def _ruleset_shaped(data: Any) -> bool:
    """Whether parsed YAML has the shape of a ruleset file (a mapping with an entity and a
    list of rules): only such files go to the parse cache — a folder given to ``check`` may
    also hold rule-test cases, with NIKs and names."""
    return isinstance(data, Mapping) and "entity" in data and isinstance(data.get("rules"), list)


def load_ruleset_file(path: str | Path, origin: Origin) -> tuple[RuleSet | None,
                                                                  list[LocatedError]]:
    """Load one ruleset file; return it (or None) and every error found in it."""
    try:
        data, pos = load_yaml_file(path, cache=True, keep=_ruleset_shaped)
    except LocatedError as exc:
        return None, [exc]
    return ruleset_from_data(data, pos, attrs.evolve(origin, file=_short(path, origin)))


def ruleset_from_data(data: Any, pos: Positions, origin: Origin) -> tuple[RuleSet | None,
                                                                         list[LocatedError]]:
    errors: list[LocatedError] = []
    if not isinstance(data, Mapping):
        return None, [RuleLoadError("a ruleset file is a mapping with id, entity and rules",
                                    pos.get(()))]
    # Structure the header and each rule separately so one bad rule does not hide the others.
    header = {k: v for k, v in data.items() if k != "rules"}
    rules_data = data.get("rules")
    if not isinstance(rules_data, list):
        errors.append(RuleLoadError("'rules' must be a list of rules", pos.get(("rules",))))
        rules_data = []
    try:
        spec: RuleSetSpec = _structure({**header, "rules": []}, RuleSetSpec, pos)
    except _Errors as exc:
        return None, exc.errors + errors
    eff = spec.effective
    rs = RuleSet(spec.id, spec.entity, str(spec.version), spec.title or Text(),
                 spec.reference or "", eff.from_ if eff else None, eff.until if eff else None,
                 origin, basis=make_basis(spec, pos, (), errors))
    flat = _Flattener(rs, pos, errors)
    for i, rd in enumerate(rules_data):
        try:
            rspec = _structure(rd, RuleSpec, pos, ("rules", i))  # type: ignore[arg-type]
        except _Errors as exc:
            errors.extend(exc.errors)
            continue
        flat.rule(rspec, ("rules", i))
    return attrs.evolve(rs, rules=tuple(flat.rules)), errors


def _short(path: str | Path, origin: Origin) -> str:
    p = Path(path)
    parts = p.parts
    for anchor in ("rules", "parameters", "tests", "schema.yaml"):
        if anchor in parts:
            i = len(parts) - 1 - parts[::-1].index(anchor)
            return "/".join(parts[i:])
    return p.name


def iter_yaml_files(path: str | Path) -> Iterator[Path]:
    p = Path(path)
    if p.is_dir():
        yield from sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml"))
    else:
        yield p


def load_parameter_files(root: str | Path, origin: Origin) -> tuple[list[Parameter],
                                                                     list[LocatedError]]:
    """Load parameters from a folder (the dotted name is the file path plus the keys inside)
    or from one file (names are the keys inside)."""
    root_p = Path(root)
    params: list[Parameter] = []
    errors: list[LocatedError] = []
    for f in iter_yaml_files(root_p):
        prefix: tuple[str, ...] = ()
        if root_p.is_dir():
            prefix = tuple(f.relative_to(root_p).with_suffix("").parts)
        try:
            data, pos = load_yaml_file(f, cache=True)
        except LocatedError as exc:
            errors.append(exc)
            continue
        forigin = attrs.evolve(origin, file=_short(f, origin))
        ps, es = parameters_from_data(data, pos, forigin, prefix)
        params.extend(ps)
        errors.extend(es)
    return params, errors


def _is_leaf(d: Mapping[str, Any]) -> bool:
    return "values" in d


def parameters_from_data(data: Any, pos: Positions, origin: Origin,
                         prefix: tuple[str, ...] = ()) -> tuple[list[Parameter],
                                                                list[LocatedError]]:
    params: list[Parameter] = []
    errors: list[LocatedError] = []

    def visit(node: Any, names: tuple[str, ...], path: tuple[str | int, ...]) -> None:
        if not isinstance(node, Mapping):
            errors.append(RuleLoadError(
                f"parameter '{'.'.join(names)}': expected a mapping with 'values'",
                pos.get(path)))
            return
        if _is_leaf(node):
            name = ".".join(names)
            try:
                spec: ParameterSpec = _structure(node, ParameterSpec, pos, path)
            except _Errors as exc:
                errors.extend(exc.errors)
                return
            values = tuple(sorted(spec.values.items()))
            try:
                declared = None
                if spec.type:
                    declared = (t.parse_type_name(spec.type) if spec.type != "enum" else t.STR)
                if declared is not None:  # values converted to the declared type
                    values = tuple((d, t.convert(v, declared)) for d, v in values)
                ty = declared or t.NULL
                for _, v in values:
                    vt = t.type_of_value(v)
                    if not t.compatible(ty, vt):
                        raise ValueError(f"values of different types ({ty} and {vt})")
                    ty = t.unify(ty, vt)
                if ty.kind == "null" and not declared:
                    raise ValueError("no values: declare its 'type'")
            except ValueError as exc:
                errors.append(RuleLoadError(f"parameter '{name}': {exc}", pos.get(path)))
                return
            ov = spec.overrides
            overrides = name if ov is True else (str(ov) if ov else None)
            basis = make_basis(spec, pos, path, errors)
            params.append(Parameter(
                name, values, ty, spec.title or Text(), spec.description or "", spec.unit or "",
                spec.reference or "", basis.unverified, spec.optional, origin, pos.get(path),
                overrides, basis))
            return
        for k, v in node.items():
            visit(v, (*names, str(k)), (*path, str(k)))

    if data is None:
        return params, errors
    visit(data, prefix, ())
    return params, errors


def load_rules(paths: Iterable[tuple[str | Path, Origin]]) -> tuple[list[RuleSet],
                                                                    list[LocatedError]]:
    out: list[RuleSet] = []
    errors: list[LocatedError] = []
    for root, origin in paths:
        for f in iter_yaml_files(root):
            rs, es = load_ruleset_file(f, origin)
            errors.extend(es)
            if rs is not None:
                out.append(rs)
    return out, errors
