"""Regular expressions cannot blow up: RE2 syntax checked at load, linear-time matching, and one
dialect (ASCII classes) with the same answers on the Python, DuckDB and Polars backends."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.expr.regex import PatternError, compile_pattern, full_match, java_pattern
from welfare_rules.hookspecs import hookimpl

AS_OF = datetime.date(2024, 1, 1)


class Backends:
    """The built-in batch backends, for a test engine loaded without the built-ins."""

    PLUGIN_NAME = "t-backends"
    LAYER = "national"

    @hookimpl
    def register_backends(self, register: Any) -> None:
        from welfare_rules.builtin_plugin import register_backends

        register_backends(register)


def _finishes(fn: Any, seconds: float = 30.0) -> Any:
    """Run ``fn`` in a thread; fail (rather than hang the suite) if it does not return."""
    out: list[Any] = []
    th = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    th.start()
    th.join(seconds)
    assert out, "did not finish: catastrophic backtracking"
    return out[0]


def test_a_redos_pattern_on_a_40_character_name_finishes_on_the_python_backend(
        engine_from: Any) -> None:
    eng = engine_from("- id: t_r\n  when: 'matches(name, \"(a+)+$\")'\n")
    record = {"name": "a" * 40 + "!"}
    d = _finishes(lambda: eng.evaluate("household", record, as_of=AS_OF))
    assert d.value("t_r") is False


@pytest.mark.parametrize(("pattern", "reason"), [
    ("(a", "missing )"),
    ("(?P<x>a)(?P=x)", "invalid perl operator"),
    ("(?=a)a", "invalid perl operator"),
    ("(?<=a)b", "invalid"),
    ("a{2000}", "invalid repetition size"),
])
def test_an_invalid_pattern_is_a_located_error_at_load(errors_from: Any, pattern: str,
                                                       reason: str) -> None:
    body = f"- id: t_r\n  when: 'matches(name, \"{pattern}\")'\n"
    errors = errors_from(body)
    assert 1 == len(errors)
    text = str(errors[0])
    assert "t_rules.yaml:" in text
    assert "invalid regular expression" in text
    assert reason in text


@pytest.mark.parametrize(("text", "pattern", "expected"), [
    ("é", r"\w", False),  # ASCII word characters everywhere
    ("abc_1", r"\w+", True),
    ("٣", r"\d", False),  # an Arabic-Indic digit is not \d
    ("a\u00a0b", r"a\sb", False),  # a no-break space is not \s
    ("a b", r"a\sb", True),
    ("a\nb", "a.b", False),  # . does not match a newline
    ("abc", "b", False),  # the whole text must match
    ("x", "", False),
])
def test_the_dialect_is_the_same_on_python_and_duckdb(engine_from: Any, text: str,
                                                      pattern: str, expected: bool) -> None:
    assert expected is full_match(text, pattern)
    quoted = pattern.replace("\\", "\\\\")
    eng = engine_from(f"- id: t_r\n  when: 'matches(name, \"{quoted}\")'\n",
                      extra_plugins=[Backends()])
    py = eng.evaluate("household", {"name": text}, as_of=AS_OF).value("t_r")
    table = pa.table({"id": ["3375010101010001"], "name": [text]})
    batch = [eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend)
             .to_arrow().column("t_r").to_pylist()[0] for backend in ("duckdb", "polars")]
    assert (expected, expected, expected) == (py, *batch)


def test_compile_pattern_raises_its_own_error() -> None:
    with pytest.raises(PatternError, match="RE2 syntax"):
        compile_pattern("(?P<x>a)(?P=x)")
    assert compile_pattern("a+") is compile_pattern("a+")  # cached


def test_the_java_spelling_anchors_and_spells_s_as_re2_does() -> None:
    assert r"(?d)^(?:a[\t\n\f\r ]b[^\t\n\f\r ]\\s)\z" == java_pattern(r"a\sb\S\\s")


def test_settling_matches_each_text_once(engine_from: Any, monkeypatch: pytest.MonkeyPatch
                                         ) -> None:
    """review3 F7: settling re-runs a household's rules once per completion of its blanks,
    and every run matched every NIK again (a google-re2 call each: more than half of the
    time for six blank members). A pattern's matcher remembers its answers: RE2 sees each
    text once, with the same answers."""
    from welfare_rules.expr import regex

    calls: list[str] = []

    class Counting:
        def __init__(self, rx: Any) -> None:
            self.rx = rx

        def fullmatch(self, text: str) -> Any:
            calls.append(text)
            return self.rx.fullmatch(text)

    real = regex.compile_pattern
    monkeypatch.setattr(regex, "_matchers", {}, raising=False)
    monkeypatch.setattr(regex, "compile_pattern", lambda p: Counting(real(p)))
    eng = engine_from("- id: t_all_ok\n  when: all(members, matches(nik, '[0-9]{16}') and "
                      "alive)\n")
    kk = "3375010101010001"
    niks = [f"337501000000001{i}" for i in range(4)]
    d = eng.evaluate("household", {"id": kk, "members": [
        {"nik": nik, "household_id": kk} for nik in niks]}, as_of=datetime.date(2024, 1, 1))
    assert (d.value("t_all_ok"), d.status("t_all_ok")) == (None, "unknown")  # settled: 16 runs
    assert sorted(calls) == niks
