"""The result of evaluating one record: values, statuses, findings and explanations.

A :class:`Decision` holds the raw slot values the compiled code produced and interprets them
lazily, so the evaluation itself stays as cheap as the rules allow; the trace an explanation
needs (values used, parameters and the dates they took effect) is reconstructed from those values
and the static references of each rule.
"""

from __future__ import annotations

import datetime
import html
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .backends.record import (
    SEVERITY_ORDER,
    STATUSES,
    Evaluation,
    Finding,
    MemberResult,
    RecordResult,
    mask_id,
    render_message,
)

if TYPE_CHECKING:
    from .backends.python import RecordPlan
    from .engine import Engine
    from .errors import InputProblem

__all__ = ["SEVERITY_ORDER", "STATUSES", "Decision", "Finding", "MemberDecision", "mask_id",
           "render_message"]


class _Base(Evaluation):
    """A decision or a member decision: a record's result with its engine, explainable."""

    engine: Engine

    def trace(self) -> dict[str, Any]:
        """The full trace: for every rule and criterion its value and status, the inputs it
        read (fields with their values), and each parameter with its value, the date that value
        took effect and its reference; members' traces under ``"members"``."""
        plan = self.plan
        eng = self.engine
        index = eng._param_index
        rec = self.record
        out: dict[str, Any] = {}
        for rid, slot in self._slots.items():
            rule = plan.rules.get(rid)
            if rule is None:
                continue
            refs = eng.rule_refs(rule)
            params = {}
            for p in refs.params:
                v = plan.params[index[p]]
                params[p] = (v, plan.param_since.get(p), eng.parameters[p].reference)
            out[rid] = {"value": self._values[slot],
                        "inputs": {f: rec.get(f) for f in refs.fields},
                        "rules": {r: self._values[self._slots[r]] for r in refs.rules
                                  if r in self._slots},
                        "params": params}
        members = getattr(self, "members", None)
        if members:
            out["members"] = [m.trace() for m in members]
        return out

    def explain(self, rule_id: str, lang: str = "id", *, unmask: bool = False,
                fmt: str = "text") -> str:
        """Explain a rule's outcome for this record: its criteria, the values used, the
        parameters with the date they took effect and their legal reference, and the origin
        of the rule. ``lang`` is ``"id"`` or ``"en"``; NIKs are masked unless ``unmask``."""
        from .explain import explain

        self._slot(rule_id)
        return explain(self, rule_id, lang=lang, unmask=unmask, fmt=fmt)


class Decision(RecordResult, _Base):
    """The evaluation of one record."""

    def __init__(self, engine: Engine, entity: str, record: Mapping[str, Any],
                 as_of: datetime.date, plan: RecordPlan, values: list[Any],
                 members: Sequence[Any], problems: Sequence[InputProblem] = ()):
        super().__init__(entity, record, as_of, plan, values, members, problems)
        self.engine = engine

    def _member(self, index: int, record: Mapping[str, Any], values: list[Any]
                ) -> MemberDecision:
        return MemberDecision(self, index, record, values)

    @property
    def members(self) -> list[MemberDecision]:
        """One decision per related record (a household's members), in record order."""
        return super().members  # type: ignore[return-value]

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


def findings_html(findings: Sequence[Finding]) -> str:
    rows = "".join(f"<tr><td>{html.escape(f.severity)}</td><td>{html.escape(f.check)}</td>"
                   f"<td>{html.escape(f.message)}</td></tr>" for f in findings)
    return f"<table><tr><th>severity</th><th>check</th><th>message</th></tr>{rows}</table>"
