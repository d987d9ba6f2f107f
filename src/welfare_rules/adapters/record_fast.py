"""The fast path of the record contract: one generated function per entity that says whether a
record is already canonical.

Most records given to ``Engine.evaluate`` come from a program, already in canonical form (an int
for an int field, a ``datetime.date`` for a date, a declared spelling for an enum). For them the
full check of :mod:`welfare_rules.adapters.record` — a loop over the fields with a dict lookup,
several attribute reads and a call per non-trivial value — cost three times the rules
themselves. The function generated here tests the same thing in straight-line code (a class test
and, where the field declares one, a range, membership or pattern test per field, the unknown
fields with one set comparison) and answers only *yes, canonical* or *look closer*: on any doubt
the caller runs the full check, which converts, reports and raises exactly as before. So the fast
path can only skip work, never change an answer; ``tests/adapters/test_record.py`` holds it to
the full check on messy records.

Only code we generate is compiled: field names are emitted with ``repr``, every bound, value set
and pattern is passed as a named constant.
"""

from __future__ import annotations

import datetime
import operator
import re
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..types import TEXT_MAX

__all__ = ["Consts", "FastCheck", "compile_fast_check", "field_test_lines"]

#: ``fast(record) -> bool``: True when the record (and its members) is canonical and complete
FastCheck = Callable[[Mapping[str, Any]], bool]

_DIGITS16 = "^[0-9]{16}$"


class _SpecLike(Protocol):
    cls: type
    alt: type
    lo: Any
    hi: Any
    allowed: frozenset[str] | None
    plain: bool
    pattern: re.Pattern[str] | None


#: How many key orders of one entity get their own function; records in further orders take
#: the general test (one dict lookup per field).
MAX_ORDERS = 32


def compile_fast_check(specs: Mapping[str, Any], required: Sequence[str],
                       children: Mapping[str, FastCheck], names: Iterable[str]) -> FastCheck:
    """Generate the fast test of one entity's records.

    Records of one source nearly always hold the same keys in the same order, so the test is
    generated per key order, the first time a record in that order is seen (up to
    :data:`MAX_ORDERS` orders): it takes the record's values in one unpacking
    (``v0, v1, ... = rec.values()``) instead of one lookup per field, and an order holding an
    undeclared field, or lacking a required one, is known to need the full check before any
    value is read. Records in other orders take one general test.

    Args:
        specs: the entity's field specs (``adapters.record``'s compiled checks), by name.
        required: the fields that must be present.
        children: the fast test of each relation's records, by relation name.
        names: every key a record may hold (fields and relations).

    Returns:
        A function that is True only when the record has no undeclared field, every present
        value is of its field's canonical class and within its declared range, values or
        pattern, every required field is present, and each relation is a ``list`` of ``dict``
        records that pass their own test. False means "run the full check", never "invalid".
    """
    names = tuple(names)
    known = frozenset(names)
    general = _general(specs, required, children, known)
    orders: dict[tuple[Any, ...], FastCheck] = {}

    def learn(keys: tuple[Any, ...]) -> FastCheck:
        if len(orders) >= MAX_ORDERS:
            return general
        fn = _for_order(keys, specs, required, children, known)
        orders[keys] = fn
        return fn

    const = Consts()
    get, learn_ = const(orders.get), const(learn)
    lines = ["", "    if rec.__class__ is not _dict:", "        return False"]
    complete = _complete(names, specs, required, children, known)
    if complete is not None:
        lines += [f"    if len(rec) == {len(names)}:",
                  *_complete_lines("rec", "v", complete, const, 2), "        return True"]
    lines += ["    keys = _tuple(rec)", f"    return ({get}(keys) or {learn_}(keys))(rec)"]
    lines[0] = const.header()
    fast = _compile("\n".join(lines) + "\n", const.ns)
    # a parent's loop over members dispatches inline, and tests a complete member inline
    _DISPATCH[fast] = (orders.get, learn, complete)
    return fast


#: A record holding every name its entity declares (fields and relations) is tested the same
#: way whatever the order of its keys: its values taken in declared order by one
#: ``operator.itemgetter`` call (C code: no tuple of its keys built and looked up, no function
#: per key order). ``len(rec) == len(names)`` first, so the getter raising KeyError means an
#: undeclared key took a declared one's place: the full check reports it.
_Complete = tuple[tuple[str, ...], Mapping[str, Any], Sequence[str], Mapping[str, FastCheck]]


def _complete(names: tuple[str, ...], specs: Mapping[str, Any], required: Sequence[str],
              children: Mapping[str, FastCheck], known: frozenset[str]) -> _Complete | None:
    """What the complete-record test of an entity needs (None: no such test, for an entity
    with fewer than two names, whose getter would give a bare value, or repeated names)."""
    if len(names) < 2 or len(known) != len(names):
        return None
    return names, specs, required, children


def _complete_lines(rec: str, prefix: str, complete: _Complete, const: Consts, depth: int
                    ) -> list[str]:
    """The test of a record ``rec`` known to hold as many keys as its entity declares names,
    at indentation ``depth``: its values in declared order (``{prefix}0``, ...), each tested,
    False returned on any doubt."""
    names, specs, required, children = complete
    pad = "    " * (depth - 1)
    values = [f"{prefix}{i}" for i in range(len(names))]
    lines = [f"{pad}    try:",
             f"{pad}        {', '.join(values)} = {const(operator.itemgetter(*names))}({rec})",
             f"{pad}    except KeyError:",
             f"{pad}        return False"]
    for name, var in zip(names, values, strict=True):
        if name in specs:
            body = _field_lines(name, var, specs[name], required, const)
        else:
            body = _children_lines(name, var, children, const)
        lines += [pad + line for line in body]
    return lines


#: each generated test's (lookup of the function of a key order, the function learning one,
#: what its complete-record test needs)
_DISPATCH: weakref.WeakKeyDictionary[FastCheck, tuple[Any, Any, _Complete | None]] = \
    weakref.WeakKeyDictionary()


def _compile(src: str, ns: dict[str, Any]) -> FastCheck:
    code = compile(src, "<welfare_rules:record contract>", "exec")
    exec(code, ns)
    fast: FastCheck = ns["fast"]
    return fast


class Consts:
    """The named constants of one generated function, passed as default arguments (local
    reads in the generated code): ``const(value)`` gives the name of a new constant,
    :meth:`header` the function's first line."""

    def __init__(self) -> None:
        self.ns: dict[str, Any] = {"_list": list, "_dict": dict, "_tuple": tuple}

    def __call__(self, value: Any) -> str:
        name = f"K{len(self.ns)}"
        self.ns[name] = value
        return name

    def header(self, head: str = "def fast(rec") -> str:
        """The ``def`` line of the generated function: ``head`` (its name and first
        parameters), then every constant as a default argument."""
        return head + ", " + ", ".join(f"{k}={k}" for k in self.ns) + "):"


def field_test_lines(name: str, var: str, spec: Any, required: Sequence[str], const: Consts
                     ) -> list[str]:
    """The lines (at one indentation level) testing that the value in ``var`` of the field
    ``name`` is canonical, returning False when it is not plainly so: the test the fast path
    makes of each field, for other generated code (the engine's fused evaluation,
    ``backends/fused.py``) to make the same test.

    Args:
        name: the field.
        var: the variable holding its value (None when absent).
        spec: the field's spec (``adapters.record``'s compiled check).
        required: the fields that must be present.
        const: the constants of the function the lines go into.
    """
    return _field_lines(name, var, spec, required, const)


def _children_lines(name: str, var: str, children: Mapping[str, FastCheck],
                    const: Consts) -> list[str]:
    """The test of a relation: a list of records, each passing its own test (the member's
    key order looked up here, not in one more call per member)."""
    get, learn, complete = _DISPATCH[children[name]]
    cget, clearn = const(get), const(learn)
    lines = [f"    if {var} is not None:",
             f"        if {var}.__class__ is not _list:",
             "            return False",
             f"        for m in {var}:",
             "            if m.__class__ is not _dict:",
             "                return False"]
    if complete is not None and not complete[3]:  # a member of every name, without members
        lines += [f"            if len(m) == {len(complete[0])}:",
                  *_complete_lines("m", "u", complete, const, 4),
                  "                continue"]
    return [*lines,
            "            k = _tuple(m)",
            f"            if not ({cget}(k) or {clearn}(k))(m):",
            "                return False"]


def _field_lines(name: str, var: str, spec: Any, required: Sequence[str],
                 const: Consts) -> list[str]:
    """The test of one field's value: the class first (a missing value fails it too, and is
    only then told apart), then the value where the field declares a range, values or
    pattern."""
    tests = _tests(spec, var, const)
    need = name in required
    if tests is None:  # a kind taken as it is (lists, any): only presence matters
        return [f"    if {var} is None:", "        return False"] if need else []
    klass, bad = tests
    if bad is None:
        if need:
            return [f"    if not {klass}:", "        return False"]
        return [f"    if not {klass} and {var} is not None:", "        return False"]
    return [f"    if {klass}:", f"        if {bad}:", "            return False",
            "    else:" if need else f"    elif {var} is not None:", "        return False"]


def _for_order(keys: tuple[Any, ...], specs: Mapping[str, Any], required: Sequence[str],
               children: Mapping[str, FastCheck], known: frozenset[str]) -> FastCheck:
    """The test of records whose keys are exactly ``keys``, in this order."""
    if not known.issuperset(keys) or not set(required) <= set(keys):
        return _never  # an undeclared field or a required one absent: the full check reports
    const = Consts()
    values = ", ".join(f"v{i}" for i in range(len(keys)))
    lines = ["", f"    {values}{',' if len(keys) == 1 else ''} = rec.values()" if keys else ""]
    for i, name in enumerate(keys):
        if name in specs:
            lines += _field_lines(name, f"v{i}", specs[name], required, const)
        else:
            lines += _children_lines(name, f"v{i}", children, const)
    lines[0] = const.header()
    return _compile("\n".join([*lines, "    return True"]) + "\n", const.ns)


def _never(rec: Mapping[str, Any]) -> bool:
    return False


def _general(specs: Mapping[str, Any], required: Sequence[str],
             children: Mapping[str, FastCheck], known: frozenset[str]) -> FastCheck:
    """The test of a record in any key order: one lookup per field."""
    const = Consts()
    names = const(known)
    lines = ["", f"    if rec.__class__ is not _dict or not rec.keys() <= {names}:",
             "        return False",
             "    get = rec.get"]
    for i, name in enumerate(specs):
        field = _field_lines(name, f"v{i}", specs[name], required, const)
        if field:
            lines += [f"    v{i} = get({name!r})", *field]
    for name in children:
        lines += [f"    ms = get({name!r})", *_children_lines(name, "ms", children, const)]
    lines[0] = const.header()
    return _compile("\n".join([*lines, "    return True"]) + "\n", const.ns)


def _tests(s: _SpecLike, v: str, const: Callable[[Any], str]) -> tuple[str, str | None] | None:
    """How a present value ``v`` is tested: the condition that it is of a canonical class (the
    first, cheap test), and the condition under which such a value is still *not* plainly
    canonical (None: none). None when the field's kind is not checked at all."""
    if s.cls is object:
        return None
    cls = const(s.cls)
    klass = (f"{v}.__class__ is {cls}" if s.alt is s.cls else
             f"({v}.__class__ is {cls} or {v}.__class__ is {const(s.alt)})")
    if s.plain:  # a text past TEXT_MAX is refused by the full check
        return klass, (f"len({v}) > {TEXT_MAX}" if s.cls is str else None)
    if s.allowed is not None:
        return klass, f"{v} not in {const(s.allowed)}"
    if s.pattern is not None:
        if s.pattern.pattern == _DIGITS16:
            # a NIK or No. KK: the same test without a regex; the bytes of an ASCII text are
            # tested for digits from a table, in half the time of str.isdigit's Unicode lookup
            return klass, f"len({v}) != 16 or not {v}.isascii() or not {v}.encode().isdigit()"
        return klass, f"len({v}) > {TEXT_MAX} or {const(s.pattern)}.fullmatch({v}) is None"
    if s.lo is not None:
        if s.lo == datetime.date.min and s.hi == datetime.date.max:
            return klass, None  # every date is within
        return klass, f"not {const(s.lo)} <= {v} <= {const(s.hi)}"
    return klass, "True"  # a kind the full check always looks at
