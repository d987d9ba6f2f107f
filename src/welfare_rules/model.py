"""The loaded rule model: rules, rulesets and parameters (frozen attrs classes).

This is what the backends compile. It is built from the YAML specs by :mod:`loading`: nested
criteria are flattened into rules of their own (named criteria keep their id; bare expressions get
a hidden id ``parent#n``), expressions are parsed into :mod:`expr.nodes` trees, and every rule
knows its origin (plugin, version, file) and location.
"""

from __future__ import annotations

import bisect
import datetime
from collections.abc import Mapping
from typing import Any

import attrs

from . import types as t
from .errors import Location, ParameterError
from .expr.nodes import Literal, Node
from .schema import Origin, Text

RULE_KINDS = ("condition", "value", "table", "ladder", "score", "check")
HIT_POLICIES = ("unique", "any", "priority", "first", "output_order", "rule_order", "collect")
AGGREGATIONS = ("sum", "min", "max", "count")
SEVERITIES = ("error", "warning", "info")


POLICIES = ("local",)
#: the origin (plugin name) of a parameter set by ``Engine.load(parameters=...)``
WHAT_IF = "what-if"


@attrs.frozen
class Basis:
    """Where a rule or parameter comes from, kept apart from where it was read about.

    ``instrument`` is the legal instrument and article ("Permensos 1/2018 Pasal 5"); when none
    exists the rule says so: ``policy="local"`` (a choice of the region or of this pack) or
    ``unverified=True`` (a value nobody has yet traced to an instrument). ``sources`` are the
    documents and URLs the fact was taken from; explanations quote the instrument, reports list
    the sources.
    """

    instrument: str = ""
    policy: str = ""
    unverified: bool = False
    sources: tuple[str, ...] = ()

    @property
    def declared(self) -> bool:
        """Whether the basis is stated: an instrument, an explicit local policy or unverified."""
        return bool(self.instrument or self.policy or self.unverified)


@attrs.frozen
class UnaryTest:
    """One cell of a decision table: ``-`` (anything), or ``op`` against a value expression.

    ``op`` is one of ``any``, ``==``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``in`` (``value`` is
    a list literal) or ``range`` (``value`` and ``high`` with open/closed ends).
    """

    op: str
    value: Node | None = None
    high: Node | None = None
    low_closed: bool = True
    high_closed: bool = True
    negate: bool = False
    text: str = ""


@attrs.frozen
class TableRow:
    tests: tuple[UnaryTest, ...]
    outputs: tuple[Node, ...]
    location: Location = attrs.field(default=Location(), eq=False)


@attrs.frozen
class TableOutput:
    name: str
    values: tuple[Any, ...] = ()  # declared order: what PRIORITY and OUTPUT ORDER rank by


@attrs.frozen
class Table:
    hit_policy: str
    aggregation: str | None
    inputs: tuple[Node, ...]
    input_names: tuple[str, ...]
    outputs: tuple[TableOutput, ...]
    rows: tuple[TableRow, ...]
    default: tuple[Node, ...] | None = None

    @property
    def multi_output(self) -> bool:
        return len(self.outputs) > 1

    @property
    def returns_list(self) -> bool:
        return self.hit_policy in ("output_order", "rule_order") or (
            self.hit_policy == "collect" and self.aggregation is None)

    @property
    def may_error(self) -> bool:
        """Whether a record can give this table the status ``error``: UNIQUE / ANY rows that
        may not match together, or a PRIORITY / OUTPUT ORDER row whose ``= expression`` output
        has declared values and may give one outside them (a literal output outside them is
        refused at load)."""
        if self.hit_policy in ("unique", "any"):
            return True
        return self.hit_policy in ("priority", "output_order") and any(
            self.open_outputs(i, ranked=True) for i in range(len(self.rows)))

    def open_outputs(self, row: int, *, ranked: bool = False) -> list[int]:
        """The output columns of ``row`` that may be unknown when it matches: an expression
        or a null literal (``ranked``: only the columns with declared values, which PRIORITY
        ranks by). A backend tests these for null to keep single-hit policies sound."""
        return [k for k, (decl, node) in enumerate(zip(self.outputs, self.rows[row].outputs,
                                                       strict=True))
                if (decl.values or not ranked)
                and not (isinstance(node, Literal) and node.value is not None)]


@attrs.frozen
class Level:
    name: str
    title: Text
    rule: str | None  # the condition rule holding this level's criteria (None: always holds)


@attrs.frozen
class Indicator:
    rule: str  # a value rule holding the indicator's expression
    weight: Node


@attrs.frozen
class Band:
    min: float
    label: str


@attrs.frozen
class SeverityCase:
    when: Node | None  # None: the default
    level: str


@attrs.frozen
class Check:
    severity: tuple[SeverityCase, ...]
    message: Text
    for_each: str | None = None  # a relation: one finding per related record
    where: Node | None = None  # condition on the related record (for_each)


@attrs.frozen
class Rule:
    """One rule of any kind. Kind-specific parts are ``None`` or empty for other kinds."""

    id: str
    kind: str
    entity: str
    title: Text = Text()
    reference: str = ""
    description: str = ""
    unit: str = ""
    origin: Origin = Origin()
    location: Location = attrs.field(default=Location(), eq=False)
    #: the legal instrument and article ("Permensos 1/2018 Pasal 5"); see :class:`Basis`
    basis: Basis = attrs.field(factory=lambda: Basis())
    ruleset: str = ""
    version: str = ""
    effective_from: datetime.date | None = None
    effective_until: datetime.date | None = None
    overrides: str | None = None
    hidden: bool = False
    parent: str | None = None
    # condition
    expr: Node | None = None  # condition 'when', value 'value', check 'when'
    mode: str | None = None  # when | all | any | not | at_least
    children: tuple[str, ...] = ()
    at_least: Node | None = None
    # other kinds
    declared_type: t.Type | None = None
    table: Table | None = None
    levels: tuple[Level, ...] = ()
    indicators: tuple[Indicator, ...] = ()
    bands: tuple[Band, ...] = ()
    check: Check | None = None

    def in_force(self, as_of: datetime.date) -> bool:
        if self.effective_from is not None and as_of < self.effective_from:
            return False
        return not (self.effective_until is not None and as_of >= self.effective_until)

    @property
    def is_boolean(self) -> bool:
        return self.kind in ("condition", "check")


@attrs.frozen
class Parameter:
    """A named value that changes over time: ``values`` are (effective date, value) pairs.

    A value of ``None`` on a date ends the parameter from that date. An ``optional`` parameter
    without a value in force reads as unknown; any other is an error when a rule needs it.
    """

    name: str
    values: tuple[tuple[datetime.date, Any], ...]
    type: t.Type
    title: Text = Text()
    description: str = ""
    unit: str = ""
    reference: str = ""
    unverified: bool = False
    optional: bool = False
    origin: Origin = Origin()
    location: Location = attrs.field(default=Location(), eq=False)
    overrides: str | None = None
    basis: Basis = attrs.field(factory=lambda: Basis())

    def at(self, as_of: datetime.date) -> tuple[Any, datetime.date | None]:
        """The value in force on ``as_of`` and the date it took effect.

        Raises:
            ParameterError: no value is in force and the parameter is not optional.
        """
        dates = [d for d, _ in self.values]
        i = bisect.bisect_right(dates, as_of) - 1
        if i >= 0 and self.values[i][1] is not None:
            return self.values[i][1], self.values[i][0]
        if self.optional:
            return None, None
        if not self.values:
            raise ParameterError(
                f"parameter '{self.name}' has no value (from {self.origin}); a regional plugin "
                f"or Engine.load(parameters=...) must set it", self.name)
        first = next((d for d, v in self.values if v is not None), None)
        when = f"its first value takes effect on {first}" if first and first > as_of else \
            "its last value ended before that date"
        raise ParameterError(
            f"parameter '{self.name}' has no value in force on {as_of} ({when}; defined by "
            f"{self.origin})", self.name)


@attrs.frozen
class RuleSet:
    id: str
    entity: str
    version: str = ""
    title: Text = Text()
    reference: str = ""
    effective_from: datetime.date | None = None
    effective_until: datetime.date | None = None
    origin: Origin = Origin()
    rules: tuple[Rule, ...] = ()
    basis: Basis = attrs.field(factory=lambda: Basis())


@attrs.frozen
class Model:
    """Everything an engine evaluates with: rules by id (each a list of dated versions) and
    parameters by name."""

    rules: Mapping[str, tuple[Rule, ...]]
    parameters: Mapping[str, Parameter]
    rulesets: tuple[RuleSet, ...] = ()
