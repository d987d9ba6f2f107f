"""Helpers the generated Python code calls: decision-table hit policies, ladders and ranks.

Kept small and free of engine state so that generated code stays fast and the semantics are in
one readable place (the SQL backends mirror them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import types as t
from ..errors import OUT_OF_RANGE, HitPolicyError, ParameterError, out_of_range
from ..plan import Missing  # generated code and the plan share it

__all__ = ["OUT_OF_RANGE", "at_least", "bounded", "floordiv", "floormod", "has_unknown", "hit",
           "kleene_and", "kleene_or", "ladder", "member", "out_of_range", "param_missing",
           "rank_members"]


def bounded(value: Any) -> Any:
    """``value`` if it is within the bounds every backend shares, else raise
    :func:`out_of_range` (the Python backend checks each arithmetic result with this)."""
    cls = value.__class__
    if cls is int:
        if value > t.INT64_MAX or value < t.INT64_MIN:
            raise out_of_range(f"an integer of {len(str(abs(value)))} digits")
    elif cls is float and (value != value or value in (_INF, _NINF)):
        raise out_of_range("a decimal beyond the 64-bit range")
    return value


_INF, _NINF = float("inf"), float("-inf")


def floordiv(a: Any, b: Any) -> Any:
    """``a // b`` (``b`` not zero): exact for two integers; otherwise, for decimals on every
    backend alike, ``floor(a / b)`` of the double quotient (docs/rules.md, "Arithmetic")."""
    if a.__class__ is int and b.__class__ is int:
        return bounded(a // b)
    return float(math.floor(bounded(float(a) / b)))


def floormod(a: Any, b: Any) -> Any:
    """``a % b`` (``b`` not zero): exact for two integers (the sign of ``b``); otherwise
    ``a - b * floor(a / b)`` in doubles, so ``a == b * (a // b) + a % b`` on every backend."""
    if a.__class__ is int and b.__class__ is int:
        return a % b
    return bounded(float(a) - b * floordiv(a, b))


def param_missing(value: Missing, rule_id: str) -> Any:
    err = value.error
    raise ParameterError(f"{err} (needed by rule '{rule_id}')", err.parameter)


def kleene_and(values: Sequence[Any]) -> bool | None:
    unknown = False
    for v in values:
        if v is False:
            return False
        if v is None:
            unknown = True
    return None if unknown else True


def kleene_or(values: Sequence[Any]) -> bool | None:
    unknown = False
    for v in values:
        if v is True:
            return True
        if v is None:
            unknown = True
    return None if unknown else False


def member(x: Any, items: Sequence[Any]) -> bool | None:
    """Kleene ``x in items``: true if some item equals ``x``; else unknown if ``x`` or some
    item is unknown (it might be ``x``); else false. Every backend computes ``in`` this way."""
    if x is None:
        return None
    unknown = False
    for v in items:
        if v is None:
            unknown = True
        elif v == x:
            return True
    return None if unknown else False


def has_unknown(value: Any) -> bool:
    """Whether ``value`` is a list with an unknown item (such a list is unknown as a whole:
    its items may be other values, or in another order)."""
    return isinstance(value, list) and None in value


def at_least(n: Any, values: Sequence[Any]) -> bool | None:
    """True once ``n`` values are known true, false once ``n`` can no longer be reached."""
    if n is None:
        return None
    true = unknown = 0
    for v in values:
        if v is True:
            true += 1
        elif v is None:
            unknown += 1
    if true >= n:
        return True
    if true + unknown < n:
        return False
    return None


def _rank_key(outputs: Sequence[Sequence[Any]], row: Sequence[Any]) -> tuple[int, ...]:
    out = []
    for declared, value in zip(outputs, row, strict=True):
        try:
            out.append(list(declared).index(value))
        except ValueError:
            out.append(len(declared))
    return tuple(out)


def _declared_only(rule_id: str, policy: str, names: Sequence[str],
                   declared: Sequence[Sequence[Any]], hits: Sequence[int],
                   outputs: Sequence[Sequence[Any]]) -> None:
    """Raise when a matched row's ranked output (an ``= expression``) is known and not one of
    the output's declared values: PRIORITY / OUTPUT ORDER cannot rank it (DMN: an error)."""
    for i in hits:
        for k, d in enumerate(declared):
            v = outputs[i][k]
            if d and v is not None and v not in d:
                raise HitPolicyError(rule_id, policy, [i + 1], (names[k], v, d))


def hit(rule_id: str, policy: str, aggregation: str | None, names: Sequence[str],
        declared: Sequence[Sequence[Any]], matches: Sequence[Any],
        outputs: Sequence[Sequence[Any]], default: Sequence[Any] | None) -> Any:
    """Apply a DMN hit policy.

    ``matches[i]`` is the three-valued match of row ``i``; ``outputs[i]`` its output values.
    A row whose match is unknown makes the result unknown unless the policy is FIRST and a
    known match comes before it. A matched row whose output is unknown makes PRIORITY unknown
    when that output is ranked (it may outrank the others), and ANY unknown when the other
    hits' outputs differ from it (it may equal them or not).

    Raises:
        HitPolicyError: UNIQUE matched several rows, ANY matched rows with different outputs,
            or a PRIORITY / OUTPUT ORDER hit's output is outside its declared values.
    """
    multi = len(names) > 1

    def shape(row: Sequence[Any]) -> Any:
        return dict(zip(names, row, strict=True)) if multi else row[0]

    if policy == "first":
        for m, out in zip(matches, outputs, strict=True):
            if m is None:
                return None
            if m:
                return shape(out)
        return shape(default) if default is not None else None
    if any(m is None for m in matches):
        return None
    hits = [i for i, m in enumerate(matches) if m]
    if policy == "unique":
        if len(hits) > 1:
            raise HitPolicyError(rule_id, "unique", [i + 1 for i in hits])
        if hits:
            return shape(outputs[hits[0]])
        return shape(default) if default is not None else None
    if policy == "any":
        distinct = list({tuple(outputs[i]) for i in hits})
        pairs = [(a, b) for j, a in enumerate(distinct) for b in distinct[j + 1:]]
        if any(x is not None and y is not None and x != y
               for a, b in pairs for x, y in zip(a, b, strict=True)):
            raise HitPolicyError(rule_id, "any", [i + 1 for i in hits])
        if pairs:
            return None  # a hit's unknown output may equal the others' or differ from them
        if hits:
            return shape(outputs[hits[0]])
        return shape(default) if default is not None else None
    if policy == "priority":
        if not hits:
            return shape(default) if default is not None else None
        if any(outputs[i][k] is None for i in hits for k, d in enumerate(declared) if d):
            return None  # an unknown ranked output may outrank every known one
        _declared_only(rule_id, policy, names, declared, hits, outputs)
        best = min(hits, key=lambda i: (_rank_key(declared, outputs[i]), i))
        return shape(outputs[best])
    if policy == "output_order":
        _declared_only(rule_id, policy, names, declared, hits, outputs)
        ordered = sorted(hits, key=lambda i: (_rank_key(declared, outputs[i]), i))
        return [shape(outputs[i]) for i in ordered]
    if policy == "rule_order":
        return [shape(outputs[i]) for i in hits]
    # collect
    values = [outputs[i][0] for i in hits]
    if aggregation is None:
        return [shape(outputs[i]) for i in hits]
    if aggregation == "count":
        return len(values)
    if not values:
        return None
    if any(v is None for v in values):
        return None
    if aggregation == "sum":
        return sum(values)
    if aggregation == "min":
        return min(values)
    return max(values)


def ladder(names: Sequence[str], holds: Sequence[Any]) -> tuple[str | None, bool]:
    """Climb: the highest level whose criteria and all lower ones hold.

    Returns the level reached (``None`` if even the first does not hold) and whether the climb
    was stopped by an unknown criterion rather than a false one.
    """
    reached = None
    for name, h in zip(names, holds, strict=True):
        if h is True:
            reached = name
            continue
        return reached, h is None
    return reached, False


def rank_members(entries: list[tuple[int, Any, tuple[Any, ...]]], descending: Sequence[bool],
                 n_members: int, doubtful: Sequence[Any] = (), within: bool = False
                 ) -> list[int | None]:
    """Rank members within groups: ``entries`` are (member index, group, sort keys) for the
    members that pass ``where``, with every key known; ties keep member order.

    ``doubtful`` holds the groups of the members that may or may not count or may sort
    anywhere (``where`` unknown, a sort key unknown, or the group itself unknown: ``None``).
    Such a member could come before any other of its group, so the ranks of its group are
    unknown; of every group when its group is unknown or there is no ``within``. Its own rank
    is unknown too (it is not in ``entries``)."""
    ranks: list[int | None] = [None] * n_members
    if doubtful and (not within or any(g is None for g in doubtful)):
        return ranks
    tainted = set(doubtful)
    items = [e for e in entries if e[1] not in tainted]
    for j in range(len(descending) - 1, -1, -1):
        if descending[j]:
            items.sort(key=lambda e: (0, 0) if e[2][j] is None else (1, e[2][j]), reverse=True)
        else:
            items.sort(key=lambda e: (1, 0) if e[2][j] is None else (0, e[2][j]))
    counters: dict[Any, int] = {}
    for idx, group, _ in items:
        c = counters.get(group, 0) + 1
        counters[group] = c
        ranks[idx] = c
    return ranks
