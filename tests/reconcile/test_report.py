"""The monthly report: one self-contained HTML file and an XLSX workbook, ids masked."""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl import load_workbook

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.recipients.snapshots import Snapshot
from welfare_rules.reports import ReportFiles, write_report

from .conftest import CHART_IDS, rows


def raw_ids(city: City) -> set[str]:
    return {h["id"] for h in rows(city.households)} | {
        p["nik"] for p in rows(city.persons) if p["nik"]}


def test_the_html_is_one_self_contained_file_with_four_charts(report: ReportFiles) -> None:
    text = report.html.read_text(encoding="utf-8")
    for div in CHART_IDS:
        assert f'id="{div}"' in text
    assert re.search(r"<script[^>]+src=", text) is None, "no external script"
    assert re.search(r"<link[^>]+href=", text) is None, "no external stylesheet"
    assert "Plotly.newPlot" in text
    assert "plotly.js v" in text or "plotly.js" in text  # the library itself is inline


def test_no_unmasked_nik_or_kk_in_the_html_or_the_workbook(report: ReportFiles,
                                                           city: City) -> None:
    raw = raw_ids(city)
    text = report.html.read_text(encoding="utf-8")
    assert not set(re.findall(r"(?<![0-9])[0-9]{15,16}(?![0-9])", text)) & raw
    assert report.xlsx is not None
    wb = load_workbook(report.xlsx, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, str):
                    assert not set(re.findall(r"[0-9]{15,16}", v)) & raw, ws.title


def test_the_workbook_has_one_sheet_per_table(report: ReportFiles) -> None:
    assert report.xlsx is not None
    wb = load_workbook(report.xlsx, read_only=True)
    expected = ["about", *report.tables]
    assert wb.sheetnames == [name[:31] for name in expected]
    for name, table in report.tables.items():
        ws = wb[name[:31]]
        assert sum(1 for _ in ws.iter_rows()) == table.num_rows + 1, name
    assert {"eligibility by kelurahan", "findings by check", "lks by maturity level",
            "changes summary", "reallocation"} <= set(report.tables)


def test_the_tables_add_up(report: ReportFiles, city: City) -> None:
    el = rows(report.tables["eligibility by kelurahan"])
    assert sum(r["households"] for r in el) == city.households.num_rows
    assert len(el) == 27
    lks = rows(report.tables["lks by maturity level"])
    assert [r["level"] for r in lks][:4] == ["embrio", "tumbuh", "berkembang", "mandiri"]
    assert sum(r["institutions"] for r in lks) == city.institutions.num_rows
    checks = {r["check"] for r in rows(report.tables["findings by check"])}
    assert "deceased_recipient" in checks
    assert any(c.startswith("death (nik") for c in checks)


def test_a_report_with_only_a_results_table_still_renders(engine: Engine, snapshot: Snapshot,
                                                          tmp_path: Path) -> None:
    files = write_report(tmp_path / "r.html", None, snapshot=snapshot.results, engine=engine)
    assert files.xlsx is None
    assert 'id="chart-eligibility"' in files.html.read_text(encoding="utf-8")
