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
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from ..types import TEXT_MAX

__all__ = ["FastCheck", "compile_fast_check"]

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


def compile_fast_check(specs: Mapping[str, Any], required: Sequence[str],
                       children: Mapping[str, FastCheck], names: Iterable[str]) -> FastCheck:
    """Generate the fast test of one entity's records.

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
    ns: dict[str, Any] = {"_date": datetime.date, "_list": list, "_dict": dict,
                          "_names": frozenset(names)}
    lines = ["def fast(rec):",
             "    if rec.__class__ is not _dict or not rec.keys() <= _names:",
             "        return False",
             "    get = rec.get"]

    def const(value: Any) -> str:
        name = f"K{len(ns)}"
        ns[name] = value
        return name

    for i, (name, spec) in enumerate(specs.items()):
        s: _SpecLike = spec
        v = f"v{i}"
        tests = _tests(s, v, const)
        if tests is None:
            continue  # a kind taken as it is (lists, any): nothing to test
        lines.append(f"    {v} = get({name!r})")
        if name in required:
            lines.append(f"    if {v} is None or {tests}:")
        else:
            lines.append(f"    if {v} is not None and ({tests}):")
        lines.append("        return False")
    for name in required:
        if name not in specs or _tests(specs[name], "x", const) is None:
            lines.append(f"    if get({name!r}) is None:")
            lines.append("        return False")
    for name in children:
        sub = const(children[name])
        lines += [f"    ms = get({name!r})",
                  "    if ms is not None:",
                  "        if ms.__class__ is not _list:",
                  "            return False",
                  "        for m in ms:",
                  f"            if not {sub}(m):",
                  "                return False"]
    lines.append("    return True")
    # the constants as default arguments: local reads in the generated function
    lines[0] = "def fast(rec, " + ", ".join(f"{k}={k}" for k in ns) + "):"
    code = compile("\n".join(lines) + "\n", "<welfare_rules:record contract>", "exec")
    exec(code, ns)
    fast: FastCheck = ns["fast"]
    return fast


def _tests(s: _SpecLike, v: str, const: Callable[[Any], str]) -> str | None:
    """The condition under which ``v`` (not None) is *not* plainly canonical, or None when the
    field's kind is not checked at all."""
    if s.cls is object:
        return None
    cls = const(s.cls)
    klass = (f"{v}.__class__ is not {cls}" if s.alt is s.cls else
             f"({v}.__class__ is not {cls} and {v}.__class__ is not {const(s.alt)})")
    if s.plain:  # a text past TEXT_MAX is refused by the full check
        return f"{klass} or len({v}) > {TEXT_MAX}" if s.cls is str else klass
    if s.allowed is not None:
        return f"{klass} or {v} not in {const(s.allowed)}"
    if s.pattern is not None:
        if s.pattern.pattern == _DIGITS16:  # a NIK or No. KK: the same test without a regex
            return f"{klass} or len({v}) != 16 or not {v}.isdigit() or not {v}.isascii()"
        return f"{klass} or len({v}) > {TEXT_MAX} or {const(s.pattern)}.fullmatch({v}) is None"
    if s.lo is not None:
        if s.lo == datetime.date.min and s.hi == datetime.date.max:
            return klass  # every date is within
        return f"{klass} or not {const(s.lo)} <= {v} <= {const(s.hi)}"
    return f"{klass} or True"  # a kind the full check always looks at
