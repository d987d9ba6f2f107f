"""The report renders its charts in a real headless browser (Debian's Chromium), offline.

Chromium is required: install it with ``apt-get install -y chromium`` (the CI does, in
``.ci/run``). Without it this test fails with that instruction — it never skips, because a
report whose charts do not render is exactly what it must catch.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from welfare_rules.reports import ReportFiles

from .conftest import CHART_IDS

CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--enable-logging=stderr",
                  "--v=0", "--virtual-time-budget=15000")


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("Chromium is needed for the browser test: apt-get install -y chromium "
                "(Debian package 'chromium'; .ci/run installs it)")


def render(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after the page's scripts ran, and the console lines Chromium logged."""
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom",
         page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if ":CONSOLE" in line]
    return proc.stdout, console


def test_the_console_check_catches_a_javascript_error(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>",
                    encoding="utf-8")
    _, console = render(page, tmp_path / "profile")
    assert any("Uncaught ReferenceError" in line for line in console)


def assert_charts_rendered(html: Path, profile: Path, charts: tuple[str, ...]) -> None:
    dom, console = render(html, profile)
    assert console == [], "the page logged to the console:\n" + "\n".join(console)
    for div in charts:
        m = re.search(rf'<div id="{div}"[^>]*>(.*?)</div>\s*<script', dom, re.S)
        assert m is not None, f"chart {div} is missing from the rendered page"
        assert 'class="main-svg"' in m.group(1), f"plotly did not render {div}"
    assert dom.count('class="main-svg"') >= 2 * len(charts)


def test_the_report_renders_every_chart_without_a_javascript_error(
        report: ReportFiles, tmp_path: Path) -> None:
    assert_charts_rendered(report.html, tmp_path / "profile", CHART_IDS)


def test_the_report_command_on_the_demo_city_writes_html_and_xlsx_that_render(
        tmp_path: Path) -> None:
    """`welfare-rules report --demo N`: the demo city, its death register, the LKS."""
    from click.testing import CliRunner
    from openpyxl import load_workbook

    from welfare_rules.cli import main

    out = tmp_path / "report"
    r = CliRunner().invoke(main, ["report", "--demo", "2000", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert {"report.html", "report.xlsx", "reallocation.csv", "reallocation.xlsx"} <= {
        p.name for p in out.iterdir()}
    assert len(load_workbook(out / "report.xlsx", read_only=True).sheetnames) >= 4
    # no previous snapshot was given, so there is no chart of changes
    assert_charts_rendered(out / "report.html", tmp_path / "profile",
                           tuple(c for c in CHART_IDS if c != "chart-changes"))
