"""The documentation site builds with `mkdocs build --strict` (no broken link, anchor or
reference, every page of docs/ in the nav) and holds the generated reference pages."""

from __future__ import annotations

import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _hooks() -> object:
    spec = importlib.util.spec_from_file_location("mkdocs_hooks", ROOT / "scripts" /
                                                  "mkdocs_hooks.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    run = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-f",
                          str(ROOT / "mkdocs.yml"), "-d", str(out)],
                         capture_output=True, text=True, cwd=ROOT, check=False,
                         env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert 0 == run.returncode, run.stderr[-4000:]
    assert "WARNING" not in run.stderr, run.stderr[-4000:]
    return out


def test_the_site_builds_strictly_with_every_guide(site: Path) -> None:
    pages = sorted(p.relative_to(ROOT / "docs").with_suffix("").as_posix()
                   for p in (ROOT / "docs").rglob("*.md"))
    for page in pages:
        built = site / ("index.html" if page == "index" else f"{page}/index.html")
        assert built.is_file(), f"docs/{page}.md is not in the site"


def test_the_api_reference_comes_from_the_docstrings(site: Path) -> None:
    html = (site / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "Load the national pack, the given plugins and extra rule files" in html
    assert "export_xlsx" in html


def test_the_hook_reference_names_every_hook(site: Path) -> None:
    from welfare_rules import hookspecs

    html = (site / "reference" / "hooks" / "index.html").read_text(encoding="utf-8")
    for name in hookspecs.all_hook_names():
        assert name in html


def test_the_rule_format_page_lists_every_definition_of_the_json_schema(site: Path) -> None:
    from welfare_rules.jsonschema import rule_file_schema

    html = (site / "reference" / "rule-format" / "index.html").read_text(encoding="utf-8")
    for name in rule_file_schema()["$defs"]:
        assert f'id="{name.lower()}"' in html, name
    assert "hit_policy" in html


def test_a_link_to_a_missing_repository_file_is_a_warning(
        caplog: pytest.LogCaptureFixture) -> None:
    hooks = _hooks()
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.welfare_rules"):
        out = hooks._rewrite_links(  # type: ignore[attr-defined]
            "see [the data](../src/welfare_rules/national/examples/households.csv) and "
            "[gone](../src/nothing.csv)", "guide.md", ROOT / "docs", None)
    assert "see [the data] (`src/welfare_rules/national/examples/households.csv`)" != out
    assert out.startswith("see the data (`src/welfare_rules/national/examples/households.csv`)")
    assert ["guide.md: the link '../src/nothing.csv' points to 'src/nothing.csv', which does "
            "not exist in the repository"] == [r.getMessage() for r in caplog.records]


def test_a_page_missing_from_the_nav_is_added_under_guides(tmp_path: Path) -> None:
    hooks = _hooks()
    (tmp_path / "index.md").write_text("# Home\n", encoding="utf-8")
    (tmp_path / "new-page.md").write_text("# A new page\n", encoding="utf-8")
    config = {"docs_dir": str(tmp_path), "nav": [{"Home": "index.md"}, {"Guides": []}]}
    hooks.on_config(config)  # type: ignore[attr-defined]
    assert [{"Home": "index.md"}, {"Guides": [{"A new page": "new-page.md"}]}] == config["nav"]
