"""The result of evaluating one record: values, statuses, findings and explanations.

A :class:`Decision` holds the raw slot values the compiled code produced and interprets them
lazily, so the evaluation itself stays as cheap as the rules allow; the trace an explanation
needs (values used, parameters and the dates they took effect) is reconstructed from those values
and the static references of each rule.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .backends.record import (
    SEVERITY_ORDER,
    STATUSES,
    Evaluation,
    Finding,
    MemberResult,
    RecordResult,
    render_message,
)
from .masking import mask_id

if TYPE_CHECKING:
    from .backends.python import RecordPlan
    from .counterfactuals import Counterfactual
    from .errors import InputProblem
    from .explain import Explanation
    from .views import EngineView

__all__ = ["SEVERITY_ORDER", "STATUSES", "Decision", "Finding", "MemberDecision",
           "render_message"]


class _Base(Evaluation):
    """A decision or a member decision: a record's result with its engine, explainable."""

    engine: EngineView

    def trace(self) -> dict[str, Any]:
        """The full trace: for every rule and criterion its value and status, the inputs it
        read (fields with their values), and each parameter with its value, the date that value
        took effect and its reference; members' traces under ``"members"``."""
        values = self.values
        rec = self.record
        out: dict[str, Any] = {}
        for e in self.plan.trace_entries(self.entity):
            out[e.rule_id] = {"value": values[e.slot],
                              "inputs": {f: rec.get(f) for f in e.fields},
                              "rules": {r: values[s] for r, s in e.rules},
                              "params": dict(e.params)}
        members = getattr(self, "members", None)
        if members:
            out["members"] = [m.trace() for m in members]
        return out

    # -- sound unknowns (see unknowns.py) -------------------------------------------------

    def value(self, rule_id: str) -> Any:
        """The rule's value: True/False/None for conditions and checks, a number, a level
        name or ``None`` (unknown). A rule not in force on ``as_of`` is unknown.

        An outcome the three-valued evaluation leaves unknown is settled over the completions
        of the blank inputs it reads: it is known when every completion gives the same value
        (a 74-year-old woman qualifies as elderly whatever ``is_pregnant`` says).
        """
        slot = self.slot(rule_id)
        if slot < 0:
            return None
        v = self.values[slot]
        if v is None or self.blocked(rule_id):
            return self._sound(rule_id)[0]
        return v  # known three-valued is known: a rank a blank member could move is unknown

    def _settle_unknown(self, rule_id: str, value: Any, blocked: bool) -> tuple[Any, bool]:
        """Settled over the completions of the blank inputs (``status`` reads this)."""
        sv, known = self._sound(rule_id)
        return (sv, False) if known else (value, blocked)

    def _sound(self, rule_id: str) -> tuple[Any, bool]:
        """(value, known) of an outcome the three-valued evaluation left unknown."""
        from .unknowns import settle, settle_cache

        cache = settle_cache(self).settled
        got = cache.get(rule_id)
        if got is None:
            raw = self.values[self.slots[rule_id]]
            parent = getattr(self, "parent", None)
            if parent is not None:  # a member's rule, settled within the household
                s = settle(parent, rule_id, member=getattr(self, "index", None))
            else:
                s = settle(self, rule_id)
            got = (s.value, True) if s.known else (raw, False)
            cache[rule_id] = got
        return got

    def needs(self, rule_id: str) -> list[str]:
        """A minimal set of blank inputs that would decide an unknown outcome, e.g.
        ``["floor_area_m2", "members[1].is_pregnant"]``; empty when the outcome is known.

        Filling in these inputs, whatever their values, makes the outcome known, and none of
        them can be left out (see :mod:`welfare_rules.unknowns` for what is exact).
        """
        from .unknowns import needs

        if not self.in_force(rule_id) or self.status(rule_id) != "unknown":
            return []  # known, or not in force on as_of (nothing would decide it)
        if isinstance(self, MemberDecision):  # the blanks may be anyone's: ask the household
            return [str(i) for i in needs(self.parent, rule_id, member=self.index)]
        assert isinstance(self, Decision)
        return [str(i) for i in needs(self, rule_id)]

    def counterfactuals(self, rule_id: str, limit: int = 3) -> list[Counterfactual]:
        """The smallest changes of this record's inputs that flip the outcome of ``rule_id``,
        each verified by evaluating its ``.record``; ``.changes`` maps inputs
        (``members[0].is_pregnant`` for a member) to new values, ``.sentence(lang)`` says it.
        Fields the schema marks ``changeable: false`` are never proposed."""
        from .counterfactuals import counterfactuals

        if not isinstance(self, Decision):
            raise TypeError("counterfactuals are asked of the household's decision; "
                            "address a member's inputs as members[i].field")
        if not self.in_force(rule_id):
            return []  # a rule not in force on as_of has no outcome to flip
        return counterfactuals(self, rule_id, limit)

    # -- explanations ------------------------------------------------------------------------

    def explain(self, rule_id: str, lang: str = "id", *, level: str = "full",
                unmask: bool = False, fmt: str = "text") -> str:
        """Explain a rule's outcome for this record.

        Args:
            rule_id: the rule.
            lang: ``"id"`` or ``"en"``; every word, value, unit, amount and date is in it.
            level: ``"summary"`` — 3 to 10 sentences to read to the family (no rule ids,
                expressions or parameter paths); ``"full"`` — the complete trace for officers.
            unmask: show NIKs and family card numbers in full.
            fmt: ``"text"``, ``"html"`` or ``"json"`` (the tree of :meth:`explanation`).
        """
        from .explain import explain

        self.slot(rule_id)
        return explain(self, rule_id, lang=lang, level=level, unmask=unmask, fmt=fmt)

    def explanation(self, rule_id: str, lang: str = "id", *, level: str = "full",
                    unmask: bool = False) -> Explanation:
        """The explanation as an object: ``str()``, ``to_dict()`` for apps, and HTML in a
        notebook."""
        from .explain import explanation

        self.slot(rule_id)
        return explanation(self, rule_id, lang=lang, level=level, unmask=unmask)


class Decision(RecordResult, _Base):
    """The evaluation of one record."""

    _member_decisions: list[MemberDecision] | None = None  # built when first asked for

    def __init__(self, engine: EngineView, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date, plan: RecordPlan, values: list[Any],
                 members: Sequence[Any], problems: Sequence[InputProblem] = ()):
        # the base named, not super(): one is built per Engine.evaluate call
        RecordResult.__init__(self, entity, record, as_of, plan, values, members, problems)
        self.engine = engine

    def _member(self, index: int, record: Mapping[str, Any], values: list[Any]
                ) -> MemberDecision:
        return MemberDecision(self, index, record, values)

    @property
    def members(self) -> list[MemberDecision]:
        """One decision per related record (a household's members), in record order (the
        same objects on every call, so what they settled is kept)."""
        if self._member_decisions is None:
            self._member_decisions = list(super().members)  # type: ignore[arg-type]
        return self._member_decisions

    def _repr_html_(self) -> str:
        from .explain import decision_html

        return decision_html(self)

    def __repr__(self) -> str:
        return (f"<Decision {self.entity} {mask_id(self.record.get('id'))} as_of={self.as_of}: "
                f"{len(self.rule_ids())} rules, {len(self.findings)} findings>")


class MemberDecision(MemberResult, _Base):
    """The evaluation of one related record inside its parent's decision."""

    parent: Decision

    def __init__(self, parent: Decision, index: int, record: Mapping[str, Any],
                 values: list[Any]):
        super().__init__(parent, index, record, values)
        self.engine = parent.engine

    def __repr__(self) -> str:
        return f"<MemberDecision {self.entity} #{self.index} {mask_id(self.record.get('nik'))}>"

