"""The library's error hierarchy.

Every error the library raises on purpose derives from :class:`WelfareRulesError`; the subclasses
also inherit the matching built-in exception, so ``except ValueError`` keeps working for callers who
do not know about us. Messages name the thing, what was expected and what was found, and carry the
location (``file:line:column``) when there is one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from difflib import get_close_matches
from typing import Any

import attrs

from .masking import mask_text


@attrs.frozen
class Location:
    """Where something was written: a file, a 1-based line and a 1-based column."""

    file: str | None = None
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<string>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" — did you mean 'x'?"`` for the closest candidate, or an empty string."""
    close = get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


class WelfareRulesError(Exception):
    """Base class of every error raised by welfare-rules on purpose.

    Its text (``str(error)``) has every NIK-like run of 16 or more digits masked, so an id the
    user typed is not repeated in full in a log or on a screen; ``error.args`` keep the original.
    """

    def __str__(self) -> str:
        return mask_text(super().__str__())


class LocatedError(WelfareRulesError):
    """An error about something written somewhere: a rule file, an expression, a data file."""

    def __init__(self, message: str, location: Location | None = None, path: str | None = None):
        self.message = message
        self.location = location
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.location}: " if self.location is not None else ""
        what = f"{self.path}: " if self.path else ""
        return f"{where}{what}{self.message}"

    def __str__(self) -> str:
        # the message is masked, never the location: a file named by a timestamp or a No. KK
        # must still be found from its error
        where = f"{self.location}: " if self.location is not None else ""
        what = f"{self.path}: " if self.path else ""
        return where + mask_text(f"{what}{self.message}")


class ExpressionSyntaxError(LocatedError, SyntaxError):
    """An expression is not valid in the rule language (bad syntax or a forbidden construct)."""

    def __str__(self) -> str:  # SyntaxError.__str__ would drop our location prefix
        return LocatedError.__str__(self)


class RuleTypeError(LocatedError, TypeError):
    """An expression is well formed but refers to an unknown name or mixes types."""


class RuleLoadError(LocatedError, ValueError):
    """A rule, schema or parameter file does not describe a valid model."""


class ErrorGroup(WelfareRulesError, ValueError):
    """Several located errors reported together (all the mistakes of all files at once)."""

    def __init__(self, errors: Sequence[LocatedError], summary: str = "invalid rules"):
        self.errors = list(errors)
        lines = [f"{summary}: {len(self.errors)} error(s)"]
        lines.extend(f"  {e}" for e in self.errors)
        super().__init__("\n".join(lines))

    def __str__(self) -> str:  # each error masked its own message, not its location
        return mask_text(str(self.args[0]).split("\n", 1)[0]) + "".join(
            f"\n  {e}" for e in self.errors)


class CycleError(RuleLoadError):
    """Rules refer to each other in a loop."""

    def __init__(self, cycle: Sequence[str], location: Location | None = None):
        self.cycle = list(cycle)
        super().__init__("rules form a cycle: " + " -> ".join(self.cycle), location)


class PluginError(WelfareRulesError, ValueError):
    """A plugin cannot be loaded, or two plugins contribute the same thing without ``overrides``."""

    def __init__(self, message: str, plugin: str | None = None):
        self.plugin = plugin
        super().__init__(message)


class ParameterError(WelfareRulesError, LookupError):
    """A parameter is unknown or has no value in force on the evaluation date."""

    def __init__(self, message: str, parameter: str):
        self.parameter = parameter
        super().__init__(message)


class EvaluationError(WelfareRulesError, ValueError):
    """A record cannot be evaluated (unknown entity, a unique/any table violated, bad input)."""

    def __init__(self, message: str, rule_id: str | None = None):
        self.rule_id = rule_id
        super().__init__(message)


#: The message every backend gives when arithmetic leaves the range of its type.
OUT_OF_RANGE = "arithmetic out of range"


def out_of_range(detail: str) -> EvaluationError:
    """The error of every backend for arithmetic that leaves 64 bits or a date that leaves
    0001-01-01 … 9999-12-31 (docs/security.md)."""
    return EvaluationError(f"{OUT_OF_RANGE}: {detail} (integers are 64-bit, decimals finite "
                           "and dates within 0001-01-01 … 9999-12-31 on every backend)")


def beyond_dates(function: str) -> str:
    """The detail of :func:`out_of_range` for a date function whose result leaves
    0001-01-01 … 9999-12-31 (the same text on every backend)."""
    return f"{function}() gives a date outside 0001-01-01 … 9999-12-31"


class HitPolicyError(EvaluationError):
    """A UNIQUE or ANY decision table matched rows it may not match together, or a PRIORITY /
    OUTPUT ORDER row gave an output outside the output's declared values (``undeclared``:
    the output's name, the value and the declared values)."""

    def __init__(self, rule_id: str, policy: str, rows: Sequence[int],
                 undeclared: tuple[str, Any, Sequence[Any]] | None = None):
        self.policy = policy
        self.rows = list(rows)
        shown = ", ".join(str(r) for r in self.rows)
        if undeclared is not None:
            name, value, declared = undeclared
            text = (f"row {shown} gives {name} {value!r}, not one of its declared values "
                    f"({', '.join(repr(v) for v in declared)})")
        else:
            reason = ("several rows matched" if policy == "unique"
                      else "matching rows give different outputs")
            text = f"{reason}: rows {shown}"
        super().__init__(f"decision table '{rule_id}' (hit policy {policy}): {text}", rule_id)


class DataError(WelfareRulesError, ValueError):
    """Input data cannot be read at all (as opposed to bad rows, which are quarantined)."""


@attrs.frozen
class InputProblem:
    """One invalid value of a record given to the engine.

    Attributes:
        entity: the entity of the record holding the value (``household``, ``person``, ...).
        field: the field's name as written by the caller.
        expected: what the field accepts (``"a whole number 1..10"``).
        found: what was given, as shown to people (NIK and No. KK masked).
        member_index: the 0-based position in the parent's relation list (``members[2]``), or
            None for a value of the record itself.
        relation: the relation holding the member (``members``), when ``member_index`` is set.
    """

    entity: str
    field: str
    expected: str
    found: str
    member_index: int | None = None
    relation: str | None = None

    @property
    def path(self) -> str:
        """Where the value is: ``desil`` or ``members[2].birth_date``."""
        if self.member_index is None:
            return self.field
        return f"{self.relation or 'members'}[{self.member_index}].{self.field}"

    def __str__(self) -> str:
        where = self.path if self.member_index is None else f"{self.path} ({self.entity})"
        return f"{where}: expected {self.expected}; found {self.found}"


class InputError(DataError):
    """A record given to the engine has values it cannot take as they are: every problem of the
    record at once, each naming the entity, field, member index, what was expected and what was
    found (``problems``)."""

    def __init__(self, problems: Sequence[InputProblem], entity: str,
                 record_id: str | None = None, *, subject: str | None = None):
        self.problems = list(problems)
        self.entity = entity
        self.record_id = record_id
        who = subject or (f"{entity} record" + (f" {record_id}" if record_id else ""))
        if len(self.problems) == 1:  # one problem: one line, whole on the command line too
            super().__init__(f"{who}: {self.problems[0]}")
            return
        lines = [f"{who}: {len(self.problems)} invalid value(s)"]
        lines.extend(f"  {p}" for p in self.problems)
        super().__init__("\n".join(lines))

    @property
    def fields(self) -> list[str]:
        """The paths of the invalid values (``desil``, ``members[0].is_alive``)."""
        return [p.path for p in self.problems]


class NotFoundError(WelfareRulesError, KeyError):
    """Something asked for by name or id is not there (a rule, a record, a column).

    It is a ``KeyError`` too (lookups behave like a mapping's), but its text is the plain
    message, not a quoted key.
    """

    def __str__(self) -> str:
        return mask_text(str(self.args[0]) if self.args else "")


class UnknownRuleError(NotFoundError):
    """A rule id that the engine does not know, or that belongs to another entity."""

    def __init__(self, message: str, rule_id: str | None = None):
        self.rule_id = rule_id
        super().__init__(message)
