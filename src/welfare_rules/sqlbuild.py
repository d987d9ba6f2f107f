"""DuckDB queries built by sqlglot from constant templates, with every value bound.

The recipient jobs, the reports and the CLI's summaries write their queries here, never as
f-strings. A template is a constant string of DuckDB SQL that sqlglot parses once into a tree; its
holes are identifiers spelled with two leading underscores (``__name``), filled by keyword:

- a ``str`` becomes that identifier, quoted by sqlglot (``"a""b"`` for ``a"b``);
- :func:`bind` of a value becomes a ``$pN`` parameter, and the value is handed to DuckDB beside
  the text — a value is never written into SQL text;
- a :class:`Query` or a sqlglot expression takes the hole's place (its own bound values come
  with it);
- a list of those is spliced where the hole stands in a list (a select list, ``GROUP BY``,
  a function's arguments, a struct); an empty list removes the hole.

::

    q = query("SELECT __col, count(*) AS n FROM t WHERE kelurahan = __kel GROUP BY ALL",
              col="kecamatan", kel=bind(name))
    con.sql(q.text, params=q.params)      # or run(con, q) / relation(con, q)

Constants of the code itself (the name regexes of a macro, whose body cannot take parameters)
are sqlglot literals (:func:`literal`), quoted by sqlglot.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypeAlias, cast

import attrs
import sqlglot
from sqlglot import exp

if TYPE_CHECKING:
    import duckdb

__all__ = ["Bound", "Query", "bind", "literal", "query", "relation", "run", "union_all"]

_HOLE = re.compile(r"__[a-z][a-z0-9_]*\Z")
_DIALECT = "duckdb"
_names = itertools.count()


@attrs.frozen
class Bound:
    """A value to bind as a query parameter (see :func:`bind`)."""

    value: object


def bind(value: object) -> Bound:
    """``value`` as a bound parameter of the query it fills a hole of."""
    return Bound(value)


def literal(value: str | int | float | bool | None) -> exp.Expression:
    """A constant of the code as a sqlglot literal (for a macro body, which binds nothing)."""
    return cast(exp.Expression, exp.convert(value))


@attrs.frozen
class Query:
    """A sqlglot tree and the values bound to its ``$pN`` parameters.

    Attributes:
        tree: the statement or expression.
        values: parameter name → value, for every parameter in ``tree``.
    """

    tree: exp.Expression
    values: Mapping[str, object] = attrs.field(factory=dict)

    @property
    def text(self) -> str:
        """The DuckDB SQL text (parameters as ``$pN``)."""
        return self.tree.sql(dialect=_DIALECT)

    @property
    def params(self) -> dict[str, object]:
        """The bound values of the parameters ``text`` uses (DuckDB refuses unused ones)."""
        used = {p.name for p in self.tree.find_all(exp.Placeholder)}
        return {k: v for k, v in self.values.items() if k in used}


#: what fills a hole of a template (see the module docstring)
Part: TypeAlias = "str | Bound | Query | exp.Expression | Sequence[Part]"


def _node(part: str | Bound | Query | exp.Expression, values: dict[str, object],
          as_identifier: bool) -> exp.Expression:
    if isinstance(part, Query):
        values.update(part.values)
        return part.tree.copy()
    if isinstance(part, Bound):
        name = f"p{next(_names)}"
        values[name] = part.value
        return exp.Placeholder(this=name)
    if isinstance(part, exp.Expression):
        return part.copy()
    if as_identifier:
        return exp.to_identifier(part, quoted=True)
    return exp.column(part, quoted=True)


def query(template: str, /, **parts: Part) -> Query:
    """Parse ``template`` (DuckDB SQL) with sqlglot and fill its ``__name`` holes.

    Args:
        template: a constant SQL text; its holes are identifiers ``__name``.
        **parts: what fills each hole (see the module's docstring).

    Returns:
        The :class:`Query`.

    Raises:
        KeyError: a hole no keyword fills, or a keyword with no hole.
    """
    tree = sqlglot.parse_one(template, read=_DIALECT)
    values: dict[str, object] = {}
    used: set[str] = set()
    holes = [i for i in tree.find_all(exp.Identifier) if _HOLE.match(i.name)]
    for ident in holes:
        key = ident.name[2:]
        if key not in parts:
            raise KeyError(f"query hole '__{key}' is not filled (template: {template[:60]!r})")
        used.add(key)
        part = parts[key]
        parent = ident.parent
        # a bare column ``__x`` is the place of an expression; elsewhere (a table, an alias,
        # a qualified column's name) only an identifier fits
        target: exp.Expression = ident
        if isinstance(parent, exp.Column) and parent.this is ident and not parent.table:
            target = parent
        if isinstance(part, (list, tuple)):
            if isinstance(target.parent, exp.Ordered):  # ORDER BY __keys: the keys' place
                target = target.parent
            nodes = [_node(p, values, target is ident) for p in part]
            owner, key_name = target.parent, target.arg_key
            siblings = owner.args.get(key_name) if owner is not None and key_name else None
            if owner is None or key_name is None or not isinstance(siblings, list):
                raise TypeError(f"query hole '__{key}' takes a list only where a list stands")
            at = next(n for n, s in enumerate(siblings) if s is target)
            owner.set(key_name, siblings[:at] + nodes + siblings[at + 1:])
        elif isinstance(part, str) and target is parent:
            ident.replace(exp.to_identifier(part, quoted=True))
        elif not isinstance(part, Sequence) or isinstance(part, str):
            target.replace(_node(part, values, target is ident))
        else:
            raise TypeError(f"query hole '__{key}': a list or a tuple of parts, found "
                            f"{type(part).__name__}")
    unused = set(parts) - used
    if unused:
        raise KeyError(f"no query hole for {sorted(unused)} (template: {template[:60]!r})")
    return Query(cast(exp.Expression, tree), values)


def union_all(parts: Sequence[Query]) -> Query:
    """The ``UNION ALL`` of ``parts`` (at least one), their bound values together."""
    if not parts:
        raise ValueError("union_all of no query")
    values: dict[str, object] = {}
    trees: list[exp.Expression] = []
    for p in parts:
        values.update(p.values)
        trees.append(p.tree.copy())
    tree = trees[0]
    for t in trees[1:]:
        tree = cast(exp.Expression, exp.union(tree, t, distinct=False))
    return Query(tree, values)


def run(con: duckdb.DuckDBPyConnection, q: Query) -> duckdb.DuckDBPyConnection:
    """Execute ``q`` on ``con`` with its values bound."""
    return con.execute(q.text, q.params)


def relation(con: duckdb.DuckDBPyConnection, q: Query) -> duckdb.DuckDBPyRelation:
    """``q`` as a DuckDB relation on ``con``, its values bound."""
    return con.sql(q.text, params=q.params or None)
