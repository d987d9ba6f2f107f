"""Expression tree nodes.

Every node is a frozen attrs class whose children are declared once as typed fields, so one
generic walker serves every pass. ``loc`` (line, column inside the expression text) is kept for
error messages and ignored by equality, so a rewritten tree compares equal to a re-parsed one.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Iterator
from typing import Any

import attrs

from ..errors import Location

Loc = Location | None
Scalar = bool | int | float | str | datetime.date | None


#: the attribute names of each node class, in declaration order (``attrs.fields`` per call
#: was most of walking the trees when loading a pack)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@attrs.frozen
class Node:
    """Base of all expression nodes."""

    loc: Loc = attrs.field(default=None, eq=False, kw_only=True, repr=False)

    def children(self) -> Iterator[Node]:
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in attrs.fields(type(self)))
        for name in names:
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, tuple):
                for item in v:
                    if isinstance(item, Node):
                        yield item
                    elif isinstance(item, tuple):  # keyword arguments: (name, node)
                        yield from (x for x in item if isinstance(x, Node))


@attrs.frozen
class Literal(Node):
    """A constant: bool, int, float, str, date or None."""

    value: Scalar


@attrs.frozen
class Name(Node):
    """A field of the current entity, a rule id, or ``as_of``."""

    id: str


@attrs.frozen
class Param(Node):
    """``param.<dotted.path>``: a parameter read as of the evaluation date."""

    path: str


@attrs.frozen
class ListLit(Node):
    """``[a, b, c]``, used with ``in`` / ``not in``."""

    items: tuple[Node, ...]


@attrs.frozen
class Unary(Node):
    """``-x`` (op ``neg``) or ``not x`` (op ``not``)."""

    op: str
    operand: Node


@attrs.frozen
class BinOp(Node):
    """Arithmetic: ``+ - * / // %``."""

    op: str
    left: Node
    right: Node


@attrs.frozen
class Compare(Node):
    """One comparison: ``== != < <= > >= in notin``. Chains are desugared into ``and``."""

    op: str
    left: Node
    right: Node


@attrs.frozen
class BoolOp(Node):
    """Kleene ``and`` / ``or`` over two or more operands."""

    op: str
    values: tuple[Node, ...]


@attrs.frozen
class IfExp(Node):
    """``body if test else orelse``; an unknown test gives an unknown result."""

    test: Node
    body: Node
    orelse: Node


@attrs.frozen
class Call(Node):
    """A function from the registry. ``kwargs`` is a tuple of (name, node) pairs."""

    func: str
    args: tuple[Node, ...]
    kwargs: tuple[tuple[str, Node], ...] = ()

    def kwarg(self, name: str) -> Node | None:
        for k, v in self.kwargs:
            if k == name:
                return v
        return None


def walk(node: Node) -> Iterator[Node]:
    """Yield ``node`` and all its descendants, parents first."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.children())))


def transform(node: Node, fn: Callable[[Node], Node]) -> Node:
    """Rebuild the tree bottom-up, applying ``fn`` to every node; returns a new tree."""
    changes: dict[str, Any] = {}
    for f in attrs.fields(type(node)):
        v = getattr(node, f.name)
        if isinstance(v, Node):
            changes[f.name] = transform(v, fn)
        elif isinstance(v, tuple) and f.name != "loc":
            new_items: list[Any] = []
            for item in v:
                if isinstance(item, Node):
                    new_items.append(transform(item, fn))
                elif isinstance(item, tuple):
                    new_items.append(tuple(transform(x, fn) if isinstance(x, Node) else x
                                           for x in item))
                else:
                    new_items.append(item)
            changes[f.name] = tuple(new_items)
    rebuilt = attrs.evolve(node, **changes) if changes else node
    return fn(rebuilt)


def to_source(node: Node) -> str:
    """Render a tree back to expression text (used in explanations and the SQL comments)."""
    if isinstance(node, Literal):
        v = node.value
        if isinstance(v, datetime.date):
            return f'date("{v.isoformat()}")'
        if isinstance(v, str):
            return repr(v).replace("'", '"') if '"' not in v else repr(v)
        if v is None:
            return "None"
        return repr(v)
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Param):
        return f"param.{node.path}"
    if isinstance(node, ListLit):
        return "[" + ", ".join(to_source(i) for i in node.items) + "]"
    if isinstance(node, Unary):
        inner = to_source(node.operand)
        return f"not {inner}" if node.op == "not" else f"-{inner}"
    if isinstance(node, BinOp):
        return f"({to_source(node.left)} {node.op} {to_source(node.right)})"
    if isinstance(node, Compare):
        op = "not in" if node.op == "notin" else node.op
        return f"{to_source(node.left)} {op} {to_source(node.right)}"
    if isinstance(node, BoolOp):
        return "(" + f" {node.op} ".join(to_source(v) for v in node.values) + ")"
    if isinstance(node, IfExp):
        return f"({to_source(node.body)} if {to_source(node.test)} else {to_source(node.orelse)})"
    if isinstance(node, Call):
        parts = [to_source(a) for a in node.args] + [f"{k}={to_source(v)}" for k, v in node.kwargs]
        return f"{node.func}({', '.join(parts)})"
    raise TypeError(f"unknown node {node!r}")
