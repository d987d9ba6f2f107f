"""Hostile rule files: bounded loading (YAML bombs, deep nesting, size) with located errors."""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from welfare_rules import _yaml
from welfare_rules._yaml import MAX_FILE_BYTES, MAX_NESTING, load_yaml
from welfare_rules.cli import main
from welfare_rules.errors import RuleLoadError

from .conftest import ruleset

LOCATED = re.compile(r"^\S+\.yaml:\d+:\d+: ")

#: The 451-byte bomb of the issue: 9 levels of anchors, each nine times the one before.
BOMB = "\n".join(
    ["id: bomb", "entity: household", "version: '1'", "title: {id: x, en: x}",
     'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    + ["rules: []"]) + "\n"


def _check(path: Path) -> Any:
    return CliRunner().invoke(main, ["check", "--alone", str(path)])


def test_a_yaml_bomb_is_refused_at_its_first_alias(tmp_path: Path) -> None:
    f = tmp_path / "bomb.yaml"
    f.write_text(BOMB, encoding="utf-8")
    with pytest.raises(RuleLoadError, match=r"bomb\.yaml:6:\d+: YAML aliases are not allowed"):
        _yaml.load_yaml_file(f)
    result = _check(f)
    assert 2 == result.exit_code
    assert "aliases are not allowed" in result.output
    assert "Traceback" not in result.output


def test_a_recursive_alias_is_a_located_error_not_a_recursion_error() -> None:
    with pytest.raises(RuleLoadError, match=r"^r\.yaml:1:9: YAML aliases are not allowed"):
        load_yaml("a: &x [ *x ]\n", "r.yaml")


@pytest.mark.parametrize("text", [
    "x: " + "[" * 5000 + "]" * 5000,
    "x: " + "[" * 1_000_000,
    "x: " + "{a: " * 300 + "1" + "}" * 300,
    "x:\n" + "".join("  " * i + "- \n" for i in range(1, 300)),
    "".join("  " * i + f"k{i}:\n" for i in range(300)) + "  " * 300 + "v\n",
])
def test_deep_nesting_is_a_located_error(text: str) -> None:
    with pytest.raises(RuleLoadError) as info:
        load_yaml(text, "deep.yaml")
    assert LOCATED.match(str(info.value))
    assert f"nested more than {MAX_NESTING} levels deep" in str(info.value)


def test_nesting_up_to_the_limit_is_read() -> None:
    depth = MAX_NESTING - 1
    data, _ = load_yaml("x: " + "[" * depth + "1" + "]" * depth, "ok.yaml")
    for _ in range(depth + 1):  # the mapping, then each list
        data = data["x"] if isinstance(data, dict) else data[0]
    assert 1 == data


def test_a_file_over_the_size_limit_is_a_located_error(tmp_path: Path) -> None:
    line = "# " + "x" * 98 + "\n"
    f = tmp_path / "big.yaml"
    f.write_text(line * (MAX_FILE_BYTES // len(line) + 1), encoding="utf-8")
    with pytest.raises(RuleLoadError, match=r"big\.yaml:\d+:\d+: YAML file of \d+ bytes is "
                                            r"larger than the limit"):
        _yaml.load_yaml_file(f)


def test_300_nested_nots_are_one_short_located_error(errors_from: Any) -> None:
    body = "- id: deep\n  " + "not:\n" + "".join(
        "  " * (i + 1) + "  not:\n" for i in range(299)) + "  " * 301 + "  when: a\n"
    errors = errors_from(body)
    assert 1 == len(errors)
    text = str(errors[0])
    assert LOCATED.match(text)
    assert "nested more than" in text
    assert len(text) < 200
    assert "\n" not in text


def test_the_engine_loader_refuses_the_bomb(tmp_path: Path, errors_from: Any) -> None:
    errors = errors_from(files={"bomb.yaml": BOMB})
    assert ["aliases are not allowed" in str(e) for e in errors] == [True]


def test_the_bomb_text_is_small() -> None:
    """The premise: a few hundred bytes would expand to 9**9 strings."""
    assert len(BOMB.encode()) < 600


def test_anchors_without_aliases_are_harmless(engine_from: Any) -> None:
    eng = engine_from(files={"t.yaml": ruleset("- id: r\n  when: a\n").replace(
        "rules:", "rules: &rs")})
    assert "r" in eng.rules


def test_an_error_group_from_check_has_no_traceback(tmp_path: Path) -> None:
    f = tmp_path / "deep.yaml"
    f.write_text("x: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    result = _check(f)
    assert 2 == result.exit_code
    assert "Traceback" not in result.output
    assert "nested more than" in result.output


@pytest.mark.parametrize(("text", "line", "col"), [
    ("x: {[a]: 1}\n", 1, 5),
    ("x:\n  ? [1, 2]\n  : v\n", 2, 5),
    ("x:\n  {b: 1}: v\n", 2, 3),
    ("x:\n  ~: v\n", 2, 3),
])
def test_a_complex_mapping_key_is_a_located_error(text: str, line: int, col: int) -> None:
    with pytest.raises(RuleLoadError, match=rf"^k\.yaml:{line}:{col}: .*key") as info:
        load_yaml(text, "k.yaml")
    assert "must be" in str(info.value)


def test_plain_keys_of_every_scalar_kind_are_read() -> None:
    data, _ = load_yaml("a: 1\n2: b\n2024-01-01: c\ntrue: d\n1.5: e\n", "k.yaml")
    assert list(data) == ["a", 2, datetime.date(2024, 1, 1), True, 1.5]
