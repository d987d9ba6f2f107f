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
                  "--v=0", "--virtual-time-budget=15000", "--window-size=1366,900",
                  "--hide-scrollbars")
#: written into the page copy the browser renders: the page's width once the charts are drawn
MEASURE = ("<script>window.addEventListener('load', function () { setTimeout(function () {"
           "document.body.setAttribute('data-scroll-width', "
           "String(document.documentElement.scrollWidth)); }, 1000); });</script>")


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
    """Every chart drawn, no console line, and no sideways scrolling at 1366 × 900."""
    measured = html.with_name(html.stem + ".measured.html")
    measured.write_text(html.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"),
                        encoding="utf-8")
    dom, console = render(measured, profile)
    assert console == [], "the page logged to the console:\n" + "\n".join(console)
    width = re.search(r'data-scroll-width="(\d+)"', dom)
    assert width is not None, "the measuring script did not run"
    assert int(width.group(1)) <= 1366, f"the page is {width.group(1)} px wide at 1366 px"
    for div in charts:
        m = re.search(rf'<div id="{div}"[^>]*>(.*?)</div>\s*<script', dom, re.S)
        assert m is not None, f"chart {div} is missing from the rendered page"
        assert 'class="main-svg"' in m.group(1), f"plotly did not render {div}"
    assert dom.count('class="main-svg"') >= 2 * len(charts)


def test_the_report_renders_every_chart_without_a_javascript_error(
        report: ReportFiles, tmp_path: Path) -> None:
    assert_charts_rendered(report.html, tmp_path / "profile", CHART_IDS)


def test_the_width_check_catches_a_page_that_scrolls_sideways(tmp_path: Path) -> None:
    page = tmp_path / "wide.html"
    page.write_text("<html><body><div style='width:1600px'>wide</div></body></html>",
                    encoding="utf-8")
    with pytest.raises(AssertionError, match=r"is 16\d\d px wide at 1366 px"):
        assert_charts_rendered(page, tmp_path / "profile", ())


def test_the_report_prints_to_a4(report: ReportFiles, tmp_path: Path) -> None:
    pdf = tmp_path / "report.pdf"
    proc = subprocess.run(
        [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.html.resolve().as_uri()],
        capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = pdf.read_bytes()
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
    assert boxes, "no page in the PDF"
    for w, h in boxes:  # A4 is 595 x 842 points (Letter, the default, is 612 x 792)
        assert abs(float(w) - 595.3) < 2
        assert abs(float(h) - 841.9) < 2
    assert len(boxes) >= 2


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
    # no previous snapshot, no history and no boundaries: no chart of changes, trend or map
    assert_charts_rendered(out / "report.html", tmp_path / "profile",
                           tuple(c for c in CHART_IDS if c not in ("chart-changes",
                                                                   "chart-trend", "chart-map")))
