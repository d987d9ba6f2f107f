"""No expression reaches Python internals: each attempt is rejected, never run, never hangs."""

from __future__ import annotations

import json
import os
import threading

import pytest

from welfare_rules.errors import ErrorGroup, ExpressionSyntaxError, RuleTypeError
from welfare_rules.expr.parse import MAX_LENGTH, parse

ATTACKS = {
    "import": "__import__('os')",
    "import and call": "__import__('os').system('echo pwned')",
    "dunder attribute": "x.__class__",
    "dunder on param": "param.__class__",
    "dunder deep in param": "param.pkh.__class__.__bases__",
    "private attribute of param": "param._secret",
    "attribute of a call": "len(name).real",
    "attribute of a literal": "'abc'.upper()",
    "class escape": "().__class__.__bases__[0].__subclasses__()",
    "dunder name": "__builtins__",
    "lambda": "lambda: 1",
    "lambda called": "(lambda: 1)()",
    "list comprehension": "[m for m in members]",
    "generator": "sum(m.age for m in members)",
    "set comprehension": "{m for m in members}",
    "dict comprehension": "{m: 1 for m in members}",
    "f-string": "f'{x}'",
    "f-string with code": "f'{__import__(\"os\")}'",
    "power": "2 ** 10",
    "huge exponent": "9 ** 9 ** 9 ** 9",
    "huge exponent of a field": "x ** 99999999999",
    "subscript": "name[0]",
    "slice": "name[::-1]",
    "walrus": "(y := 1)",
    "starred argument": "max(*members)",
    "double-starred argument": "max(**kw)",
    "starred list": "[*members]",
    "dict literal": "{'a': 1}",
    "set literal": "{1, 2}",
    "tuple": "(1, 2)",
    "bytes": "b'abc'",
    "complex": "1j",
    "ellipsis": "...",
    "is comparison": "x is None",
    "bit operator": "x | 1",
    "shift": "1 << 100000",
    "invert": "~x",
    "await": "await x",
    "yield": "(yield x)",
    "huge integer literal": "1" + "0" * 40,
    "statement": "import os",
    "assignment": "x = 1",
    "two statements": "x; __import__('os')",
    "NUL character": "x\x00",
    "empty": "   ",
    "deep brackets (thousands)": "[" * 1500 + "]" * 1500,
    "deep parentheses": "(" * 1900 + "x" + ")" * 1900,
    "deep unary minus without brackets": "-" * 3500 + "1",
    "deep not without brackets": "not " * 900 + "a",
    "long chain of additions": " + ".join(["x"] * 1000),
    "very long text": "x" * (MAX_LENGTH * 25),
    "very long string literal": "'" + "a" * 100_000 + "'",
}


@pytest.mark.parametrize("text", list(ATTACKS.values()), ids=list(ATTACKS))
def test_a_forbidden_expression_is_rejected_with_a_syntax_error(text):
    """Each construct outside the rule language raises ExpressionSyntaxError, never hanging
    (a generous guard, not a timing: a 1 s bound failed on a loaded machine)."""
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            parse(text)
        except BaseException as exc:  # checked in the test's thread
            errors.append(exc)

    th = threading.Thread(target=attempt, daemon=True)
    th.start()
    th.join(60)
    assert not th.is_alive(), "parse() did not return within 60 s"
    assert len(errors) == 1
    assert isinstance(errors[0], ExpressionSyntaxError), repr(errors[0])


@pytest.mark.parametrize(("text", "reason"), [
    ("__import__('os')", "function '__import__' is not allowed"),
    ("x.__class__", "attribute '__class__' is not allowed"),
    ("lambda: 1", "lambdas are not allowed"),
    ("[m for m in members]", "comprehensions are not allowed"),
    ("f'{x}'", "f-strings are not allowed"),
    ("2 ** 10", "operator '**' is not allowed"),
    ("name[0]", "subscripts are not allowed"),
    ("(y := 1)", "assignment expressions are not allowed"),
    ("[" * 1500 + "]" * 1500, "nested more than"),
    ("x" * 10_000, "longer than"),
])
def test_a_rejection_says_what_is_not_allowed(text, reason):
    """The error message names the forbidden construct."""
    with pytest.raises(ExpressionSyntaxError, match=reason.replace("*", r"\*").replace(
            "[", r"\[")):
        parse(text)


def test_a_syntax_error_is_also_a_python_syntax_error():
    """ExpressionSyntaxError is a SyntaxError for callers who catch that."""
    with pytest.raises(SyntaxError):
        parse("lambda: 1")


@pytest.mark.parametrize("text", [
    "x + 1", "a and not b", "1 < x <= 10", "status in ['open', 'closed']",
    "param.t.rate * 2", "count(members, age < 18)", "x if a else y", "-x", "'ab' + 'c'",
    "(((((x)))))", "max(x, y, 3)"])
def test_the_rule_language_itself_parses(text):
    """Ordinary rule expressions parse."""
    assert parse(text) is not None


def test_code_in_a_rule_file_is_never_run(tmp_path, engine_from, monkeypatch):
    """Loading a rule file full of escapes runs none of them: no file written, no command."""
    marker = tmp_path / "pwned"
    calls = []
    monkeypatch.setattr(os, "system", lambda cmd: calls.append(cmd) or 0)
    with pytest.raises(ErrorGroup) as info:
        engine_from(f"""
            - id: t_open
              when: open({str(marker)!r}, 'w')
            - id: t_import
              when: __import__('os').system('touch {marker}')
            - id: t_eval
              value: eval("open({str(marker)!r}, 'w')")
            - id: t_exec
              value: exec("import os")
            - id: t_getattr
              value: getattr(name, '__class__')
            - id: t_dunder
              value: name.__class__
            """)
    assert (False, [], 6) == (marker.exists(), calls, len(info.value.errors))


def test_calling_a_python_builtin_by_name_is_an_unknown_function(errors_from):
    """`open`, `eval`, `getattr` are not functions of the rule language."""
    errors = errors_from("""
        - id: t_open
          when: open('/etc/passwd')
        - id: t_eval
          value: eval('1')
        - id: t_getattr
          value: getattr(name, 'upper')
        """)
    assert (3, {RuleTypeError}) == (len(errors), {type(e) for e in errors})


def test_text_times_a_huge_number_is_a_type_error_not_a_memory_bomb(errors_from):
    """`"a" * 10**…` cannot be written: `**` is rejected and text × number is a type error."""
    errors = errors_from("""
        - id: t_bomb
          value: name * 999999999999999999
        """)
    assert ["'*' needs numbers, found str"] == [e.message for e in errors]


def test_a_rule_id_cannot_inject_code(errors_from):
    """A rule id must be a name, so it can never become generated code."""
    errors = errors_from("""
        - id: "t'); __import__('os').system('echo pwned'); ('"
          value: x
        """)
    assert 1 == sum("must be a name" in e.message for e in errors)


def test_a_criterion_id_must_be_a_name(errors_from):
    """Named criteria ids are checked like rule ids."""
    errors = errors_from("""
        - id: t_outer
          all:
            - id: "x'); __import__('os').system('echo pwned'); ('"
              when: a
        """)
    assert 1 == sum("must be a name" in e.message for e in errors)


def test_strings_with_quotes_and_backslashes_stay_data(engine_from):
    """Literal text with quotes, backslashes and newlines compiles as the same text."""
    text = "a'b\"c\\ ) ; __import__('os')\n'''"
    eng = engine_from(f"""
        - id: t_text
          value: {json.dumps(repr(text))}
        - id: t_is_text
          when: {json.dumps("name == " + repr(text))}
        """)
    d = eng.evaluate("household", {"name": text}, as_of="2024-01-01")
    assert (True, text) == (d.value("t_is_text"), d.value("t_text"))
