"""Static bounds on what rules can produce, checked when the rules are loaded.

Evaluation must stay bounded on every backend whatever the data (docs/security.md). Integer and
decimal arithmetic is checked as it runs (64-bit integers, finite decimals: the same
``EvaluationError`` everywhere); what cannot be checked cheaply as it runs is refused here, with
the limit, before anything is evaluated:

* **text growth**: the longest text an expression can give is worked out from its parts — a
  literal's length, :data:`FIELD_TEXT` for a text field, the bound of a rule it names — and
  concatenation adds them up. A rule that could give more than :data:`MAX_TEXT` characters
  (``s2 = s1 + s1``, ``s3 = s2 + s2``, ... doubles each time) is a located error;
* **rule chains**: a rule that depends on rules that depend on rules ... more than
  :data:`MAX_RULE_DEPTH` deep is refused (the SQL backends nest one query level per link).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from . import types as t
from .errors import RuleLoadError
from .expr import nodes as n
from .formatting import number

if TYPE_CHECKING:
    from .model import Parameter, Rule
    from .schema import Schema

__all__ = ["FIELD_TEXT", "MAX_RULE_DEPTH", "MAX_TEXT", "check_bounds", "text_bound"]

#: The longest text field value a rule reads (characters): ``types.TEXT_MAX``, which the
#: adapters and the record contract enforce on input.
FIELD_TEXT = t.TEXT_MAX
#: The longest text a rule may produce (characters).
MAX_TEXT = 1_000_000
#: The longest chain of rules depending on each other.
MAX_RULE_DEPTH = 200
#: What a call of a text function may add beyond its arguments (a separator, a format).
_CALL_SLACK = 64


def text_bound(node: n.Node, name_bound: Callable[[str], int],
               param_bound: Callable[[str], int]) -> int:
    """The most characters ``node`` can give as text (0 for what is never long text).

    Args:
        node: the expression.
        name_bound: the bound of a name (a field: :data:`FIELD_TEXT` if it is text; a rule:
            that rule's bound).
        param_bound: the bound of a parameter.
    """
    if isinstance(node, n.Literal):
        return len(node.value) if isinstance(node.value, str) else 32
    if isinstance(node, n.Name):
        return name_bound(node.id)
    if isinstance(node, n.Param):
        return param_bound(node.path)
    if isinstance(node, n.BinOp):
        a = text_bound(node.left, name_bound, param_bound)
        b = text_bound(node.right, name_bound, param_bound)
        return a + b if node.op == "+" else max(a, b, 32)
    if isinstance(node, n.IfExp):
        return max(text_bound(node.body, name_bound, param_bound),
                   text_bound(node.orelse, name_bound, param_bound))
    if isinstance(node, n.ListLit):
        return sum(text_bound(e, name_bound, param_bound) for e in node.items)
    if isinstance(node, n.Call):
        parts = [text_bound(a, name_bound, param_bound) for a in node.args]
        parts += [text_bound(v, name_bound, param_bound) for _, v in node.kwargs]
        return sum(parts) + _CALL_SLACK
    return 32  # comparisons, boolean operators, unary minus: short


def field_bound(types: Mapping[str, t.Type]) -> Callable[[str], int]:
    """A name bound for the fields of an entity: :data:`FIELD_TEXT` for text fields."""

    def bound(name: str) -> int:
        ty = types.get(name)
        return FIELD_TEXT if ty is not None and ty.kind in ("str", "any", "list") else 32

    return bound


def check_bounds(rules: Mapping[str, tuple[Rule, ...]], order: Sequence[str],
                 deps: Mapping[str, set[str]], schema: Schema,
                 params: Mapping[str, Parameter],
                 nodes_of: Callable[[Rule], Iterable[n.Node]]) -> list[RuleLoadError]:
    """The rules that could produce text longer than :data:`MAX_TEXT` or that end a chain of
    rules more than :data:`MAX_RULE_DEPTH` long, as located errors (one per chain: rules
    built on a refused rule are not reported again)."""
    errors: list[RuleLoadError] = []
    bound: dict[str, int] = {}
    depth: dict[str, int] = {}
    over: set[str] = set()

    def param_bound(path: str) -> int:
        p = params.get(path)
        if p is None:
            return 32
        return max((len(str(v)) for _, v in p.values), default=32)

    for rid in order:
        vs = rules.get(rid, ())
        if not vs:
            continue
        ds = [d for d in deps.get(rid, ()) if d in rules]
        depth[rid] = 1 + max((depth.get(d, 0) for d in ds), default=0)
        if depth[rid] == MAX_RULE_DEPTH + 1:
            errors.append(RuleLoadError(
                f"rule '{rid}' ends a chain of more than {MAX_RULE_DEPTH} rules that depend on "
                "each other (the limit keeps every backend's queries within bounds)",
                vs[0].location))
        ent = vs[0].entity
        fields = schema.entity(ent).fields if ent in schema.entities else {}
        types = {name: f.type for name, f in fields.items()}
        by_field = field_bound(types)

        def name_bound(name: str, by_field: Callable[[str], int] = by_field) -> int:
            return bound[name] if name in bound else by_field(name)

        best = 0
        for r in vs:
            for node in nodes_of(r):
                best = max(best, text_bound(node, name_bound, param_bound))
        bound[rid] = best
        if best > MAX_TEXT:
            if not any(d in over for d in ds):
                errors.append(RuleLoadError(
                    f"rule '{rid}' can produce text of up to {number(best)} characters, more "
                    f"than the limit of {number(MAX_TEXT)} (texts read from data count as "
                    f"{number(FIELD_TEXT)} characters)", vs[0].location))
            over.add(rid)
            bound[rid] = MAX_TEXT  # report each chain once
    return errors
