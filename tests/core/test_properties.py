"""Property tests: the parser only ever raises its own error; compiled rules follow Kleene logic;
`at_least` agrees with counting."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules.backends.record import Evaluation
from welfare_rules.errors import ExpressionSyntaxError
from welfare_rules.expr import nodes as n
from welfare_rules.expr.parse import parse

from .conftest import AS_OF, build_engine, ruleset

MODEST = settings(deadline=None, max_examples=200,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])
TRI = st.sampled_from([True, False, None])

# -- (a) arbitrary text -----------------------------------------------------------------------

TOKENS = [
    "x", "a", "b", "members", "param", "param.t.rate", "as_of", "count", "rank", "lambda",
    "__import__", "__class__", "_x", "0", "1", "-1", "1.5", "1e308", "99999999999999999999999999",
    "'s'", '"t"', "'", '"', "f'", "b'", "True", "False", "None", "and", "or", "not", "in", "is",
    "if", "else", "for", "+", "-", "*", "/", "//", "%", "**", "<", "<=", "==", "!=", ">", ">=",
    "(", ")", "[", "]", "{", "}", ",", ":", ".", "=", ":=", "...", "@", "~", "|", "&", "^",
    "\\", "\n", "\t", " ", "#", ";", "yield", "await", "where=", "by=", "\x00", "é", "٣",
]


def _parses_or_rejects(text: str) -> None:
    try:
        node = parse(text)
    except ExpressionSyntaxError:
        return
    assert isinstance(node, n.Node)


@MODEST
@given(st.text())
def test_arbitrary_text_parses_or_raises_only_the_syntax_error(text):
    """Any text is either an expression or an ExpressionSyntaxError — nothing else escapes."""
    _parses_or_rejects(text)


@MODEST
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join))
def test_token_soup_parses_or_raises_only_the_syntax_error(text):
    """Near-miss expressions built from the language's tokens never raise anything else."""
    _parses_or_rejects(text)


@MODEST
@given(st.lists(st.sampled_from(TOKENS), max_size=60).map("".join))
def test_token_soup_without_spaces_parses_or_raises_only_the_syntax_error(text):
    """Tokens glued together are handled the same way."""
    _parses_or_rejects(text)


# -- (b) Kleene laws on compiled rules --------------------------------------------------------

LAWS = {
    # name: (left, right) — both compiled as rules and compared on every input
    "de_morgan_and": ("not (a and b)", "not a or not b"),
    "de_morgan_or": ("not (a or b)", "not a and not b"),
    "absorption_or": ("a or (a and b)", "a"),
    "absorption_and": ("a and (a or b)", "a"),
    "identity_and": ("a and True", "a"),
    "identity_or": ("a or False", "a"),
    "annihilator_and": ("a and False", "False"),
    "annihilator_or": ("a or True", "True"),
    "double_negation": ("not not a", "a"),
    "commutative_and": ("a and b", "b and a"),
    "commutative_or": ("a or b", "b or a"),
    "associative_and": ("(a and b) and c", "a and (b and c)"),
    "associative_or": ("(a or b) or c", "a or (b or c)"),
    "distributive": ("a and (b or c)", "(a and b) or (a and c)"),
    "unknown_and": ("a and None", "None if a is not False else False"),
    "unknown_or": ("a or None", "None if a is not True else True"),
}
# The right sides written with `is` are not rule-language: they are Python, checked below.
FORMS = """
- id: t_all_form
  all: [a, b, c]
- id: t_all_expr
  when: a and b and c
- id: t_any_form
  any: [a, b, c]
- id: t_any_expr
  when: a or b or c
- id: t_not_form
  not: a
- id: t_not_expr
  when: not a
"""


def _law_rules() -> str:
    out = []
    for name, (left, right) in LAWS.items():
        out.append(f"- id: t_{name}_l\n  when: {left}\n")
        if " is " not in right:
            out.append(f"- id: t_{name}_r\n  when: {right}\n")
    return "".join(out) + FORMS.lstrip("\n")


@pytest.fixture(scope="module")
def laws(tmp_path_factory):
    return build_engine(tmp_path_factory.mktemp("laws"), ruleset(_law_rules()))


def kleene_not(x):
    return None if x is None else not x


def kleene_and(x, y):
    if x is False or y is False:
        return False
    return None if x is None or y is None else True


def kleene_or(x, y):
    if x is True or y is True:
        return True
    return None if x is None or y is None else False


@MODEST
@given(a=TRI, b=TRI, c=TRI)
def test_kleene_laws_hold_for_compiled_rules(laws, a, b, c):
    """De Morgan, absorption, identities, annihilators, double negation, commutativity,
    associativity and distributivity hold with unknown inputs."""
    d = laws.evaluate("household", {"a": a, "b": b, "c": c}, as_of=AS_OF)
    python_sides = {"unknown_and": kleene_and(a, None), "unknown_or": kleene_or(a, None)}
    left = {name: d.value(f"t_{name}_l") for name in LAWS}
    right = {name: python_sides[name] if name in python_sides else d.value(f"t_{name}_r")
             for name in LAWS}
    assert right == left


@MODEST
@given(a=TRI, b=TRI, c=TRI)
def test_all_any_not_forms_equal_their_expressions(laws, a, b, c):
    """`all:`/`any:`/`not:` criteria give what `and`/`or`/`not` give."""
    d = laws.evaluate("household", {"a": a, "b": b, "c": c}, as_of=AS_OF)
    assert [d.value(f"t_{f}_expr") for f in ("all", "any", "not")] == [
        d.value(f"t_{f}_form") for f in ("all", "any", "not")]


@MODEST
@given(a=TRI, b=TRI, c=TRI)
def test_compiled_connectives_match_the_kleene_truth_tables(laws, a, b, c):
    """The compiled `and`, `or` and `not` match Kleene's tables on every input."""
    d = laws.evaluate("household", {"a": a, "b": b, "c": c}, as_of=AS_OF)
    assert (kleene_and(a, b), kleene_or(a, b), kleene_not(a)) == (
        d.value("t_commutative_and_l"), d.value("t_commutative_or_l"), d.value("t_not_expr"))


LEAVES = st.sampled_from(["a", "b", "c", "True", "False", "None"])


def _trees(leaves):
    return st.recursive(
        leaves.map(lambda x: ("leaf", x)),
        lambda sub: st.one_of(
            sub.map(lambda t: ("not", t)),
            st.tuples(st.sampled_from(["and", "or"]), sub, sub)),
        max_leaves=8)


def render(tree) -> str:
    if tree[0] == "leaf":
        return tree[1]
    if tree[0] == "not":
        return f"not ({render(tree[1])})"
    return f"({render(tree[1])}) {tree[0]} ({render(tree[2])})"


def reference(tree, env):
    if tree[0] == "leaf":
        return {"True": True, "False": False, "None": None}.get(tree[1], env.get(tree[1]))
    if tree[0] == "not":
        return kleene_not(reference(tree[1], env))
    x, y = reference(tree[1], env), reference(tree[2], env)
    return kleene_and(x, y) if tree[0] == "and" else kleene_or(x, y)


@settings(deadline=None, max_examples=60)
@given(trees=st.lists(_trees(LEAVES), min_size=1, max_size=8),
       inputs=st.lists(st.fixed_dictionaries({"a": TRI, "b": TRI, "c": TRI}), min_size=1,
                       max_size=6))
def test_random_compiled_conditions_agree_with_a_kleene_reference(trees, inputs):
    """Random and/or/not trees over unknown-able inputs compile to Kleene logic."""
    body = "".join(f"- id: t_gen{i}\n  when: {render(t)}\n" for i, t in enumerate(trees))
    with tempfile.TemporaryDirectory() as folder:
        eng = build_engine(Path(folder), ruleset(body))
        for env in inputs:
            d = eng.evaluate("household", env, as_of=AS_OF)
            # the three-valued value (Decision.value settles unknowns over completions:
            # ``not (b and not b)`` is True whatever b is)
            assert [reference(t, env) for t in trees] == [
                Evaluation.value(d, f"t_gen{i}") for i in range(len(trees))]


# -- (c) at_least agrees with counting --------------------------------------------------------

FIELDS = ["a", "b", "c", "d", "e"]


@pytest.fixture(scope="module")
def at_least(tmp_path_factory):
    body = "".join(f"- id: t_at_least_{k}\n  at_least: x\n  of: [{', '.join(FIELDS[:k])}]\n"
                   for k in range(1, len(FIELDS) + 1))
    return build_engine(tmp_path_factory.mktemp("at_least"), ruleset(body))


def brute_force(n_needed, values):
    if n_needed is None:
        return None
    true = sum(v is True for v in values)
    unknown = sum(v is None for v in values)
    if true >= n_needed:
        return True
    if true + unknown < n_needed:
        return False
    return None


@MODEST
@given(values=st.lists(TRI, min_size=1, max_size=len(FIELDS)),
       n_needed=st.one_of(st.none(), st.integers(min_value=-1, max_value=len(FIELDS) + 1)))
def test_at_least_agrees_with_a_brute_force_count(at_least, values, n_needed):
    """`at_least N of` is true at N known true, false once N is out of reach, else unknown."""
    record = {"x": n_needed, **dict(zip(FIELDS, values, strict=False))}
    d = at_least.evaluate("household", record, as_of=AS_OF)
    assert brute_force(n_needed, values) == d.value(f"t_at_least_{len(values)}")


@pytest.fixture(scope="module")
def shared_criteria(tmp_path_factory):
    kids = "".join(f"    - id: t_crit_{f}\n      when: {f}\n" for f in FIELDS)
    body = (f"- id: t_enough\n  at_least: x\n  of:\n{kids}"
            f"- id: t_met\n  value: count_true({', '.join(f't_crit_{f}' for f in FIELDS)})\n")
    return build_engine(tmp_path_factory.mktemp("shared"), ruleset(body))


@MODEST
@given(values=st.lists(TRI, min_size=len(FIELDS), max_size=len(FIELDS)),
       n_needed=st.one_of(st.none(), st.integers(min_value=-1, max_value=len(FIELDS) + 1)))
def test_at_least_and_count_true_of_the_same_criteria_count_them_once_and_agree(
        shared_criteria, values, n_needed):
    """The compiled code counts the true criteria once for both rules (the 9-of-14 rule and the
    number of criteria met), and both still agree with counting."""
    record = {"x": n_needed, **dict(zip(FIELDS, values, strict=True))}
    d = shared_criteria.evaluate("household", record, as_of=AS_OF)
    assert d.value("t_enough") == brute_force(n_needed, values)
    assert d.value("t_met") == sum(v is True for v in values)
    counting = [line for line in d.plan.compiled.source.splitlines() if "is True) + (" in line]
    assert len(counting) == 1
