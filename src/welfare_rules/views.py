"""What the faces need of an engine and of a decision, as typing protocols.

The public engine builds decisions and batch results, and those faces use the engine back: a
decision re-evaluates completed records to settle an unknown or verify a counterfactual, an
explanation reads rule references and parameters, a batch reads its input through the engine.
Typing the faces against :class:`~welfare_rules.engine.Engine` and
:class:`~welfare_rules.decision.Decision` themselves would close an import circle
(``engine.py`` imports the faces to build them). They are typed against these protocols
instead, which sit below both (docs/architecture.md): :class:`EngineView` is the part of an
engine the faces read, :class:`DecisionView` the part of a decision (or a member's decision)
that explanations, unknowns and counterfactuals read, :class:`RecordDecisionView` a whole
record's decision. ``Engine`` and ``Decision`` satisfy them structurally, and mypy checks that
wherever one is passed as the other.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from .adapters.result import LoadResult
from .backends.base import Backend
from .backends.python import RecordPlan
from .backends.record import Finding
from .expr.check import Refs
from .expr.functions import Function
from .model import Parameter, Rule
from .plan import Plan, RuleModel
from .plugins import PluginInfo
from .schema import Schema

__all__ = ["DecisionView", "EngineView", "RecordDecisionView"]


class EngineView(Protocol):
    """The read side of a loaded engine, as decisions, explanations and batches use it."""

    @property
    def schema(self) -> Schema:
        """The merged schema (entities, fields, labels)."""

    @property
    def model(self) -> RuleModel:
        """The checked rule model (rules, parameters, refs, types, order)."""

    @property
    def rules(self) -> Mapping[str, tuple[Rule, ...]]:
        """Every rule id with its versions."""

    @property
    def parameters(self) -> Mapping[str, Parameter]:
        """Every parameter with its dated values."""

    @property
    def functions(self) -> Mapping[str, Function]:
        """The functions of the rule language (built-in and from plugins)."""

    @property
    def order(self) -> Sequence[str]:
        """Every rule id in dependency order."""

    @property
    def plugins(self) -> Sequence[PluginInfo]:
        """The plugins loaded, in layer order."""

    @property
    def backends(self) -> Mapping[str, Backend]:
        """The registered batch backends, by name."""

    def rule(self, rule_id: str, as_of: datetime.date | None = None) -> Rule:
        """The version of a rule in force on ``as_of`` (else the latest)."""

    def rule_refs(self, rule: Rule) -> Refs:
        """What a rule reads: fields, rules, parameters, member fields and rules."""

    def relation_reads(self, entity: str, as_of: datetime.date | str | None = None
                       ) -> dict[str, tuple[str, ...]]:
        """The relations (``members``) the rules of ``entity`` in force read, with the ids of
        the rules reading each."""

    def fingerprint(self, as_of: datetime.date | None = None, *,
                    dataset_checks: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """What a decision on ``as_of`` depends on."""

    def plan(self, as_of: datetime.date | str | None = None) -> Plan:
        """The rules in force on ``as_of`` with that date's parameter values."""

    def evaluate(self, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date | str | None = None, *, strict: bool = True,
                 on_invalid: str = "raise") -> DecisionView:
        """Evaluate one record."""

    def read(self, source: Any, adapter: str | Any | None = None, **kwargs: Any
             ) -> LoadResult:
        """Read a source into canonical records."""


class DecisionView(Protocol):
    """The read side of one evaluated record (a decision, or one member's decision)."""

    @property
    def engine(self) -> EngineView:
        """The engine that made the decision."""

    @property
    def entity(self) -> str:
        """The entity of the record."""

    @property
    def record(self) -> Mapping[str, Any]:
        """The canonical input record."""

    @property
    def as_of(self) -> datetime.date:
        """The evaluation date."""

    @property
    def plan(self) -> RecordPlan:
        """The compiled plan the record was evaluated with."""

    @property
    def slots(self) -> Mapping[str, int]:
        """The value slot of every rule in force for this entity."""

    def value(self, rule_id: str) -> Any:
        """A rule's value (``None``: unknown)."""

    def status(self, rule_id: str) -> str:
        """A rule's status: true, false, unknown or value."""

    def in_force(self, rule_id: str) -> bool:
        """Whether a version of the rule is in force on ``as_of``."""

    def rule_ids(self) -> list[str]:
        """The visible rules of the entity in force, in rule order."""

    def needs(self, rule_id: str) -> list[str]:
        """A minimal set of missing inputs that would decide the rule."""

    def explain(self, rule_id: str, lang: str = "id", *, level: str = "full",
                unmask: bool = False, fmt: str = "text") -> str:
        """The explanation of a rule's outcome, as text, HTML or JSON."""


class RecordDecisionView(DecisionView, Protocol):
    """A decision on a whole record (not a member's): it has the record's findings."""

    @property
    def findings(self) -> list[Finding]:
        """The data-quality findings of the record and its members, most severe first."""
