"""Parse expression text into nodes, against a whitelist of Python syntax.

The standard library's ``ast`` module does the parsing; this module accepts only the small subset
of its node types that the rule language has and rejects everything else with a located
:class:`~welfare_rules.errors.ExpressionSyntaxError`. Nothing is ever compiled or run by Python
here: no ``eval``, no attribute access except ``param.<path>``, no subscripts, lambdas,
comprehensions, f-strings or imports, and size limits keep pathological input (deep nesting,
huge literals) from hanging the loader.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable

from ..errors import ExpressionSyntaxError, Location
from ..types import INT64_MAX, INT64_MIN
from . import nodes as n

#: The longest expression text (characters).
MAX_LENGTH = 4000
#: The deepest nesting of an expression (brackets, operators, calls, ``not``).
MAX_DEPTH = 60
#: How much of an expression an error message quotes (messages stay one short line).
SHOWN_CHARS = 60


def shown(text: str) -> str:
    """``text`` quoted for an error message: one line, at most :data:`SHOWN_CHARS` long."""
    one = " ".join(text.split())
    return repr(one if len(one) <= SHOWN_CHARS else one[:SHOWN_CHARS - 1] + "…")

_BINOPS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%",
}
_CMPOPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "notin",
}
_FORBIDDEN_HINTS: dict[type[ast.AST], str] = {
    ast.Lambda: "lambdas are not allowed",
    ast.ListComp: "comprehensions are not allowed; use count/any/all/sum over members",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed; use count/any/all/sum over members",
    ast.JoinedStr: "f-strings are not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Starred: "star arguments are not allowed",
    ast.NamedExpr: "assignment expressions are not allowed",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.Dict: "dictionaries are not allowed",
    ast.Set: "sets are not allowed; use a list [a, b]",
    ast.Tuple: "tuples are not allowed; use a list [a, b]",
}

LocFn = Callable[[int, int], Location]


def _plain_loc(line: int, col: int) -> Location:
    return Location(None, line, col + 1)


class _Converter:
    def __init__(self, text: str, loc: LocFn):
        self.text = text
        self.loc = loc

    def error(self, msg: str, node: ast.AST | None = None) -> ExpressionSyntaxError:
        line = getattr(node, "lineno", 1) or 1
        col = getattr(node, "col_offset", 0) or 0
        return ExpressionSyntaxError(f"{msg} in expression {shown(self.text)}",
                                     self.loc(line, col))

    def _int_literal(self, v: int, node: ast.AST, at: Location) -> n.Literal:
        """An integer literal (its sign folded in), refused outside the 64-bit range."""
        if v > INT64_MAX:
            raise self.error("integer literal larger than 2**63 - 1 (integers are 64-bit on "
                             "every backend)", node)
        if v < INT64_MIN:
            raise self.error("integer literal smaller than -2**63 (integers are 64-bit on "
                             "every backend)", node)
        return n.Literal(v, loc=at)

    def convert(self, node: ast.AST, depth: int = 0) -> n.Node:
        if depth > MAX_DEPTH:
            raise self.error(f"expression nested more than {MAX_DEPTH} levels deep", node)
        d = depth + 1
        at = self.loc(getattr(node, "lineno", 1) or 1, getattr(node, "col_offset", 0) or 0)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, float) and not math.isfinite(v):
                raise self.error("decimal literal out of range (numbers must be finite)", node)
            if isinstance(v, bool) or v is None or isinstance(v, str | float):
                return n.Literal(v, loc=at)
            if isinstance(v, int):
                return self._int_literal(v, node, at)
            raise self.error(f"literal {v!r} is not allowed", node)
        if isinstance(node, ast.Name):
            if node.id.startswith("__") or node.id == "param":
                raise self.error(f"name '{node.id}' is not allowed here", node)
            return n.Name(node.id, loc=at)
        if isinstance(node, ast.Attribute):
            parts: list[str] = []
            cur: ast.AST = node
            while isinstance(cur, ast.Attribute):
                if cur.attr.startswith("_"):
                    raise self.error(f"attribute '{cur.attr}' is not allowed", cur)
                parts.append(cur.attr)
                cur = cur.value
            if not (isinstance(cur, ast.Name) and cur.id == "param"):
                raise self.error("attribute access is only allowed on 'param' "
                                 "(write param.<name>)", node)
            return n.Param(".".join(reversed(parts)), loc=at)
        if isinstance(node, ast.List):
            return n.ListLit(tuple(self.convert(e, d) for e in node.elts), loc=at)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.Not):
                return n.Unary("not", self.convert(node.operand, d), loc=at)
            if isinstance(node.op, ast.USub):
                inner = node.operand
                if isinstance(inner, ast.Constant) and type(inner.value) is int:
                    # folded before the range check: -9223372036854775808 is int64's smallest
                    return self._int_literal(-inner.value, node, at)
                operand = self.convert(node.operand, d)
                if isinstance(operand, n.Literal) and isinstance(operand.value, int | float) \
                        and not isinstance(operand.value, bool):
                    if isinstance(operand.value, int):
                        return self._int_literal(-operand.value, node, at)
                    return n.Literal(-operand.value, loc=at)
                return n.Unary("neg", operand, loc=at)
            if isinstance(node.op, ast.UAdd):
                return self.convert(node.operand, d)
            raise self.error("operator '~' is not allowed", node)
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                sym = {ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|",
                       ast.BitAnd: "&", ast.BitXor: "^", ast.MatMult: "@"}.get(type(node.op), "?")
                raise self.error(f"operator '{sym}' is not allowed", node)
            return n.BinOp(op, self.convert(node.left, d), self.convert(node.right, d), loc=at)
        if isinstance(node, ast.BoolOp):
            op = "and" if isinstance(node.op, ast.And) else "or"
            return n.BoolOp(op, tuple(self.convert(v, d) for v in node.values), loc=at)
        if isinstance(node, ast.Compare):
            left = self.convert(node.left, d)
            parts_c: list[n.Node] = []
            for op_node, right_ast in zip(node.ops, node.comparators, strict=True):
                op = _CMPOPS.get(type(op_node))
                if op is None:
                    raise self.error("'is' comparisons are not allowed; use == or is_missing(x)",
                                     node)
                right = self.convert(right_ast, d)
                parts_c.append(n.Compare(op, left, right, loc=at))
                left = right
            return parts_c[0] if len(parts_c) == 1 else n.BoolOp("and", tuple(parts_c), loc=at)
        if isinstance(node, ast.IfExp):
            return n.IfExp(self.convert(node.test, d), self.convert(node.body, d),
                           self.convert(node.orelse, d), loc=at)
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise self.error("only functions of the rule language can be called", node)
            if node.func.id.startswith("_"):
                raise self.error(f"function '{node.func.id}' is not allowed", node)
            args = tuple(self.convert(a, d) for a in node.args)
            kwargs: list[tuple[str, n.Node]] = []
            for kw in node.keywords:
                if kw.arg is None:
                    raise self.error("'**' arguments are not allowed", node)
                kwargs.append((kw.arg, self.convert(kw.value, d)))
            return n.Call(node.func.id, args, tuple(kwargs), loc=at)
        hint = _FORBIDDEN_HINTS.get(type(node))
        if hint:
            raise self.error(hint, node)
        raise self.error(f"'{type(node).__name__}' is not part of the rule language", node)


def parse(text: str, loc: LocFn | None = None) -> n.Node:
    """Parse ``text`` into an expression tree.

    Args:
        text: the expression, e.g. ``"desil <= param.pkh.max_desil and in_dtks"``.
        loc: maps a (1-based line, 0-based column) inside ``text`` to a location in its file.

    Raises:
        ExpressionSyntaxError: the text is not an expression of the rule language; the error
            carries the location and says what is wrong. No other exception escapes.
    """
    locate = loc or _plain_loc
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expected an expression as text, found {text!r}",
                                    locate(1, 0))
    if len(text) > MAX_LENGTH:
        raise ExpressionSyntaxError(f"expression longer than {MAX_LENGTH} characters",
                                    locate(1, 0))
    if not text.strip():
        raise ExpressionSyntaxError("empty expression", locate(1, 0))
    if "\x00" in text:
        raise ExpressionSyntaxError("expression contains a NUL character", locate(1, 0))
    # Depth guard before CPython's own parser sees the text: brackets nested absurdly deep can
    # exhaust its stack.
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    if best > MAX_DEPTH:
        raise ExpressionSyntaxError(f"expression nested more than {MAX_DEPTH} levels deep",
                                    locate(1, 0))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. SyntaxWarning for invalid escapes
            tree = ast.parse(text.strip() if "\n" not in text else text, mode="eval")
    except SyntaxError as exc:
        line = exc.lineno or 1
        col = max((exc.offset or 1) - 1, 0)
        raise ExpressionSyntaxError(f"invalid syntax ({exc.msg}) in expression "
                                    f"{shown(text)}", locate(line, col)) from None
    except (RecursionError, MemoryError):
        raise ExpressionSyntaxError(f"expression nested more than {MAX_DEPTH} levels deep in "
                                    f"expression {shown(text)}", locate(1, 0)) from None
    except (ValueError, OverflowError) as exc:
        raise ExpressionSyntaxError(f"cannot parse expression {shown(text)}: {exc}",
                                    locate(1, 0)) from None
    try:
        return _Converter(text, locate).convert(tree.body)
    except RecursionError:
        raise ExpressionSyntaxError(f"expression nested more than {MAX_DEPTH} levels deep in "
                                    f"expression {shown(text)}", locate(1, 0)) from None
