"""One household through the record contract and the rules in one generated function.

``Engine.evaluate`` used to make two passes over a record: the record contract's fast test
(:mod:`welfare_rules.adapters.record_fast`: is every value canonical?) and then the compiled
rules (:mod:`.python`), which read the same values again, loop over the members again and call
three more functions to do it. For a *complete* record — one holding every name its entity
declares (``None`` where a value is missing), as records built by a program or read from a
table are — both passes are joined here into one function per compiled entity:

1. the record's values taken in declared order by one ``operator.itemgetter`` call, and tested
   exactly as the contract's fast test tests them (the same generated lines,
   :func:`~welfare_rules.adapters.record_fast.field_test_lines`), into the very variables the
   rules' code reads;
2. one loop over the members that tests each member the same way and computes its first phase
   of rules in the same iteration (later phases and ranks are called as compiled);
3. the parent's rules, as compiled.

It answers only "canonical, here are the slot values" (``(values, member values)``, exactly
what ``compiled.run`` gives for the record) or ``False`` — look closer: the record is not
complete, a value is not plainly canonical, or anything raised while the rules ran (a member's
rules may run before a later member is tested, so an error there could hide an invalid
input). On ``False`` the engine takes its general path (the full contract, then ``run``),
which gives the located refusal or the error: the fused function can only skip work, never
change an answer (``tests/core/test_fused.py`` holds it to the general path).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..adapters.record import RecordContract
from ..adapters.record_fast import Consts, field_test_lines
from .python import Compiled, Fusible, exec_generated

__all__ = ["FusedRun", "fused_run"]

#: ``fused(record, params, as_of)``: the record's (slot values, member values), or False
FusedRun = Callable[[Mapping[str, Any], Sequence[Any], Any], Any]


def _never(record: Mapping[str, Any], params: Sequence[Any], as_of: Any) -> bool:
    return False


def fused_run(compiled: Compiled, contract: RecordContract) -> FusedRun:
    """The fused evaluation of ``compiled``'s entity under ``contract`` (its record contract),
    built once per compiled entity and kept on it.

    Returns:
        ``fused(record, params, as_of)``: what ``compiled.run(record, params, as_of)`` gives,
        when ``record`` is complete and passes the contract's fast test; ``False`` otherwise
        (then nothing is known: take the general path). An entity whose shape the fusion does
        not cover (members with relations of their own, relations the rules do not read, a
        name declared twice) gets a function that always says ``False``.
    """
    hit = compiled.fused
    if hit is None:
        hit = _build(compiled, contract) or _never
        compiled.fused = hit
    return hit


def _build(compiled: Compiled, contract: RecordContract) -> FusedRun | None:
    parts = compiled.fusible
    child = compiled.child
    names = contract.names
    if parts is None or compiled.run_members is not None or len(set(names)) != len(names) \
            or len(names) < 2:  # (an entity compiled as a member, evaluated alone: not fused)
        return None
    relations = set(contract.relations)
    kids: Fusible | None = None
    member: RecordContract | None = None
    if child is not None:
        kids = child.fusible
        member = contract.relations.get(compiled.relation or "")
        if kids is None or member is None or relations != {compiled.relation} \
                or member.relations or len(set(member.names)) != len(member.names) \
                or len(member.names) < 2:
            return None
    elif relations:
        return None
    const = Consts()
    lines = ["    if r.__class__ is not _dict or len(r) != " + str(len(names)) + ":",
             "        return False",
             "    try:"]
    body: list[str] = []
    body += _unpack("r", names, parts.reads, "x", const)
    for name in contract.specs:
        body += field_test_lines(name, parts.reads.get(name) or _spare("x", names, name),
                                 contract.specs[name], contract.required, const)
    if kids is not None and member is not None:
        assert compiled.relation is not None
        body += ["    if members is not None and members.__class__ is not _list:",
                 "        return False",
                 "    members = members or ()",
                 f"    {kids.result}",
                 "    for m in members:",
                 f"        if m.__class__ is not _dict or len(m) != {len(member.names)}:",
                 "            return False"]
        body += ["    " + line for line in _unpack("m", member.names, kids.reads, "y", const)]
        for name in member.specs:
            body += ["    " + line for line in field_test_lines(
                name, kids.reads.get(name) or _spare("y", member.names, name),
                member.specs[name], member.required, const)]
        body += [*kids.body, *(f"    {step}(members, MR, P, as_of)" for step in kids.steps)]
    else:
        body.append("    MR = ()")
    body += [*parts.body, f"    return {parts.result}, MR"]
    # every parameter taken once, before the loop over members
    takes = sorted({*parts.params, *(kids.params if kids is not None else ())})
    body[:0] = takes
    lines += ["    " + line for line in body]
    lines += ["    except Exception:", "        return False"]
    ns = dict(parts.namespace)
    if kids is not None:
        ns.update(kids.functions)
    ns.update(const.ns)
    source = const.header("def fused(r, P, as_of") + "\n" + "\n".join(lines) + "\n"
    exec_generated(source, f"{compiled.entity} fused", ns)
    fn: FusedRun = ns["fused"]
    return fn


def _spare(prefix: str, names: Sequence[str], name: str) -> str:
    """The variable of a value the rules do not read (tested, then unused)."""
    return f"{prefix}{list(names).index(name)}"


def _unpack(rec: str, names: Sequence[str], reads: Mapping[str, str], prefix: str,
            const: Consts) -> list[str]:
    """The lines taking a complete record's values in declared order into the rules' own
    variables (``reads``), others into ``{prefix}{i}``: a KeyError means an undeclared key
    took a declared one's place (the record is as long as the names), so: look closer."""
    targets = [reads.get(name) or f"{prefix}{i}" for i, name in enumerate(names)]
    return ["    try:",
            f"        {', '.join(targets)} = {const(operator.itemgetter(*names))}({rec})",
            "    except KeyError:",
            "        return False"]
