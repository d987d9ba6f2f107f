"""Finding details: which related records a check concerns, and at which severity."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..model import Rule
from .interp import Scope, evaluate

if TYPE_CHECKING:
    from .python import RecordPlan


class Evaluated(Protocol):
    """A record evaluated by the Python backend (a decision or a member decision)."""

    @property
    def record(self) -> Mapping[str, Any]: ...

    @property
    def as_of(self) -> Any: ...

    @property
    def slots(self) -> Mapping[str, int]: ...

    @property
    def plan(self) -> RecordPlan: ...

    def value(self, rule_id: str) -> Any: ...


def scope_for(d: Evaluated) -> Scope:
    """An interpreter scope over a decision (or member decision) already evaluated."""
    plan = d.plan

    def relation(name: str) -> list[Scope]:
        members: Sequence[Evaluated] | None = getattr(d, "members", None)
        if members is None or name != plan.compiled.relation:
            raise KeyError(name)
        return [scope_for(m) for m in members]

    return Scope(d.record, d.value, lambda rid: rid in d.slots, plan.param, d.as_of,
                 plan.functions, relation)


def compile_check_detail(rule: Rule) -> Callable[[Evaluated], list[tuple[int | None, str]]]:
    """For a check that holds: the members it concerns (``None``: the record itself) and the
    severity of each."""
    chk = rule.check
    assert chk is not None

    def severity(scope: Scope) -> str:
        for case in chk.severity:
            if case.when is None or evaluate(case.when, scope) is True:
                return case.level
        return chk.severity[-1].level

    def detail(d: Evaluated) -> list[tuple[int | None, str]]:
        if chk.for_each:
            out: list[tuple[int | None, str]] = []
            for md in getattr(d, "members", []):
                ms = scope_for(md)
                if chk.where is None or evaluate(chk.where, ms) is True:
                    out.append((md.index, severity(ms)))
            return out
        return [(None, severity(scope_for(d)))]

    return detail
