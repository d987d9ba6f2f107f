"""parameter-unread: a parameter counts as read by code only when the code of the plugin's own
package names it in a string constant — not in a docstring, not in a sibling module of a
plugin that is a single top-level module."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

from welfare_rules.engine import Engine
from welfare_rules.lint import lint

PARAMS = """\
used:
  type: int
  values: {2000-01-01: 1}
documented:
  type: int
  values: {2000-01-01: 2}
sibling:
  type: int
  values: {2000-01-01: 3}
"""


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def _unread(tmp_path: Path, plugin_file: Path, name: str) -> set[str]:
    mod = _module(plugin_file, name)
    engine = Engine.load(plugins=[mod])
    return {f.parameter for f in lint(engine, [tmp_path]) if f.code == "parameter-unread"}


def _plugin_code(params: Path) -> str:
    return textwrap.dedent(f'''\
        """A plugin; its docstring names 'solo.documented', which reads nothing."""
        from pathlib import Path

        from welfare_rules.plugins import register_pack

        PLUGIN_NAME = "solo"
        register_pack(Path({str(params)!r}), globals())


        def allocation(engine):
            """Uses solo.used (this docstring does not count)."""
            return engine.parameters["solo.used"]
        ''')


def test_a_docstring_does_not_make_a_parameter_read(tmp_path: Path) -> None:
    pack = tmp_path / "pkg_a"
    (pack / "parameters").mkdir(parents=True)
    (pack / "parameters" / "solo.yaml").write_text(PARAMS, encoding="utf-8")
    (pack / "__init__.py").write_text(_plugin_code(pack), encoding="utf-8")
    (pack / "tests").mkdir()
    (pack / "tests" / "test_it.py").write_text('NAME = "solo.sibling"\n', encoding="utf-8")
    assert _unread(tmp_path, pack / "__init__.py", "pkg_a") == {"solo.documented",
                                                                "solo.sibling"}


def test_a_top_level_module_plugin_is_read_alone(tmp_path: Path) -> None:
    site = tmp_path / "site"
    (site / "parameters").mkdir(parents=True)
    (site / "parameters" / "solo.yaml").write_text(PARAMS, encoding="utf-8")
    (site / "solo_plugin.py").write_text(_plugin_code(site), encoding="utf-8")
    (site / "other_module.py").write_text('NAME = "solo.sibling"\n', encoding="utf-8")
    assert _unread(tmp_path, site / "solo_plugin.py", "solo_plugin") == {"solo.documented",
                                                                         "solo.sibling"}
