"""docs/plugins.md is kept honest by tests: the hook reference names every hook with its exact
signature, and the tutorial's plugin is built from the page's own code blocks and tested."""

from __future__ import annotations

import datetime
import importlib
import inspect
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from welfare_rules import Engine, ErrorGroup, RuleTypeError, hookspecs
from welfare_rules.testing import assert_decision, household, person

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
BLOCK = re.compile(r'^```(\w+) title="([^"]+)"\n(.*?)^```$', re.M | re.S)
TUTORIAL = "my-city"
PACKAGE = "welfare_rules_my_city"


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def titled_blocks(text: str) -> dict[str, str]:
    """The fenced blocks written ```lang title="path"``` — the files of the tutorial."""
    return {m.group(2): m.group(3) for m in BLOCK.finditer(text)}


@pytest.mark.parametrize("name", hookspecs.all_hook_names())
def test_every_hook_is_in_the_reference_with_its_exact_signature(name: str) -> None:
    reference = doc_text().split("## Hook reference", 1)[1]
    assert f"`{hookspecs.hook_signature(name)}`" in reference, (
        f"docs/plugins.md: the hook reference lacks `{hookspecs.hook_signature(name)}`")


def test_the_reference_names_no_hook_that_does_not_exist() -> None:
    reference = doc_text().split("## Hook reference", 1)[1]
    documented = set(re.findall(r"^### `(\w+)\(", reference, re.M))
    assert documented == set(hookspecs.all_hook_names())


def test_the_docs_test_finds_a_missing_signature() -> None:
    """The check above would fail if a hook gained an argument the page does not show."""
    changed = hookspecs.hook_signature("register_rules").replace(
        "(register: Register)", "(register: Register, engine: Engine)")
    assert f"`{changed}`" not in doc_text()


def test_the_tutorial_has_every_file_of_the_plugin() -> None:
    files = set(titled_blocks(doc_text()))
    assert {f"{TUTORIAL}/pyproject.toml", f"{TUTORIAL}/src/{PACKAGE}/__init__.py",
            f"{TUTORIAL}/src/{PACKAGE}/rules/top_up.yaml",
            f"{TUTORIAL}/src/{PACKAGE}/parameters/my_city/top_up.yaml",
            f"{TUTORIAL}/src/{PACKAGE}/parameters/exclusion.yaml",
            f"{TUTORIAL}/src/{PACKAGE}/tests/test_top_up.yaml",
            f"{TUTORIAL}/tests/test_my_city.py"} <= files


@pytest.fixture
def tutorial(tmp_path: Path) -> Iterator[tuple[Path, ModuleType]]:
    """The tutorial's plugin, written from the page's code blocks into a fresh folder."""
    for rel, body in titled_blocks(doc_text()).items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    root = tmp_path / TUTORIAL
    sys.path.insert(0, str(root / "src"))
    try:
        yield root, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(root / "src"))
        for mod in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[mod]


def test_the_tutorial_plugin_loads_and_decides(tutorial: tuple[Path, ModuleType]) -> None:
    _, plugin = tutorial
    engine = Engine.load(plugins=[plugin])
    assert {p.name for p in engine.plugins} >= {"welfare-rules-my-city"}
    grandma = person(sex="female", birth_date=datetime.date(1950, 3, 1))
    d = engine.evaluate("household", household(in_dtks=True, desil=2, members=[grandma]),
                        as_of=datetime.date(2024, 7, 1))
    assert_decision(d, "my_city_top_up_eligible", value=True, status="true")
    assert_decision(d, "my_city_top_up_month", value=84000)
    assert engine.functions["round_up_thousand"].plugin == "welfare-rules-my-city"


def test_the_tutorial_python_tests_pass(tutorial: tuple[Path, ModuleType]) -> None:
    root, _ = tutorial
    spec = importlib.util.spec_from_file_location("_tutorial_tests",
                                                  root / "tests" / "test_my_city.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [fn for name, fn in inspect.getmembers(module, inspect.isfunction)
             if name.startswith("test_")]
    assert len(tests) >= 4
    for fn in tests:
        fn()


def test_the_tutorial_sql_builder_renders_for_each_dialect(
        tutorial: tuple[Path, ModuleType]) -> None:
    import duckdb
    from sqlglot import exp

    _, plugin = tutorial
    sql = plugin.ROUND_UP_THOUSAND.sql(exp.Literal.number("83333.3"), dialect="duckdb")
    con = duckdb.connect()
    try:
        assert con.execute("SELECT " + sql.sql(dialect="duckdb")).fetchall() == [(84000,)]
    finally:
        con.close()
    for dialect in ("spark", "postgres"):
        assert "1000" in sql.sql(dialect=dialect)


def test_the_tutorial_override_is_needed(tutorial: tuple[Path, ModuleType]) -> None:
    """Without 'overrides: true' the city's UMK clashes with the national parameter, as the
    tutorial says, naming both files."""
    root, plugin = tutorial
    param_file = root / "src" / PACKAGE / "parameters" / "exclusion.yaml"
    param_file.write_text(param_file.read_text().replace("  overrides: true\n", ""))
    with pytest.raises(ErrorGroup) as err:
        Engine.load(plugins=[plugin])
    msg = str(err.value)
    assert "exclusion.min_wage_month" in msg
    assert "welfare-rules-national" in msg
    assert "welfare-rules-my-city" in msg
    assert "overrides: true" in msg


def test_the_tutorial_function_is_type_checked(tutorial: tuple[Path, ModuleType]) -> None:
    root, plugin = tutorial
    rules = root / "src" / PACKAGE / "rules" / "top_up.yaml"
    rules.write_text(rules.read_text().replace(
        "round_up_thousand(param.my_city.top_up.amount_year / 12)", 'round_up_thousand("12")'))
    with pytest.raises(ErrorGroup) as err:
        Engine.load(plugins=[plugin])
    bad = [e for e in err.value.errors if isinstance(e, RuleTypeError)]
    assert bad, str(err.value)
    assert "top_up.yaml" in str(bad[0])
    assert "round_up_thousand" in str(bad[0])


SHELL_BLOCK = re.compile(r"^```bash\n(cd my-city\n.*?)^```$", re.M | re.S)


def test_the_tutorial_shell_commands_run_as_written(tmp_path: Path) -> None:
    """The tutorial's "Install and run" block, line by line, in a fresh virtual environment
    that sees this project's installed packages (so `pip install -e .` installs only the
    tutorial's plugin, with its entry point): each command exits 0."""
    import os
    import site
    import subprocess

    block = SHELL_BLOCK.search(doc_text())
    assert block is not None, "docs/plugins.md has no ```bash block starting with cd my-city"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    commands = [c for c in commands if c]
    assert commands[0] == "cd my-city"
    assert {"pip install -e .", "welfare-rules test -p my-city", "pytest"} <= set(commands)
    for rel, body in titled_blocks(doc_text()).items():
        target = tmp_path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(body, encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    py = venv / "bin" / "python"
    own = subprocess.run([str(py), "-c", "import site; print(site.getsitepackages()[0])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "_welfare_rules_parent.pth").write_text(
        f"import site; site.addsitedir({site.getsitepackages()[0]!r})\n", encoding="utf-8")
    for tool, module in (("welfare-rules", "welfare_rules.cli"), ("pytest", "pytest")):
        shim = venv / "bin" / tool
        shim.write_text(f'#!/bin/sh\nexec "{py}" -m {module} "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
           "VIRTUAL_ENV": str(venv), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    cwd = tmp_path
    outputs = {}
    for cmd in commands:
        if cmd.startswith("cd "):
            cwd = cwd / cmd[3:]
            continue
        proc = subprocess.run(cmd, shell=True, cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=600, check=False)
        assert proc.returncode == 0, f"`{cmd}` exited {proc.returncode}:\n" \
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        outputs[cmd] = proc.stdout
    assert "welfare-rules-my-city 0.1.0" in outputs["welfare-rules plugins"]
    assert ", 0 failed" in outputs["welfare-rules test -p my-city"]
    assert " passed" in outputs["pytest"]
    assert "failed" not in outputs["pytest"]
