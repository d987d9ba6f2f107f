"""The monthly report: one self-contained HTML file and an XLSX workbook, ids masked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from welfare_rules.demo import City
from welfare_rules.engine import Engine
from welfare_rules.errors import PluginError
from welfare_rules.hookspecs import hookimpl
from welfare_rules.recipients.snapshots import Snapshot
from welfare_rules.reports import ReportFiles, write_report
from welfare_rules.reports.boundaries import load_boundaries, parse_boundaries

from .conftest import CHART_IDS, kelurahan_names, rows, synthetic_boundaries


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
    expected = ["about", "headline", *report.tables]
    assert wb.sheetnames == [name[:31] for name in expected]
    for name, table in report.tables.items():
        ws = wb[name[:31]]
        assert sum(1 for _ in ws.iter_rows()) == table.num_rows + 1, name
    assert {"eligibility by kelurahan", "eligibility by kecamatan", "findings by check",
            "lks by maturity level", "changes summary", "trend", "reallocation"} <= set(
        report.tables)


def test_numeric_cells_are_typed_as_numbers_in_the_workbook(report: ReportFiles) -> None:
    import pyarrow.types as pat

    assert report.xlsx is not None
    wb = load_workbook(report.xlsx, read_only=True)
    checked = 0
    for name, table in report.tables.items():
        header, *body = list(wb[name[:31]].iter_rows(values_only=True))
        for col in table.column_names:
            ty = table.schema.field(col).type
            if not (pat.is_integer(ty) or pat.is_floating(ty)):
                continue
            i = list(header).index(col)
            for row in body:
                assert row[i] is None or isinstance(row[i], int | float), (name, col, row[i])
                checked += 1
    assert checked > 100
    headline = list(wb["headline"].iter_rows(values_only=True))
    assert headline[0] == ("figure", "programme", "value")
    assert all(isinstance(r[2], int | float) for r in headline[1:])


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


def test_the_first_screen_has_the_headline_figures(report: ReportFiles, city: City) -> None:
    h = report.headline
    assert h["households"] == city.households.num_rows
    el = rows(report.tables["eligibility by kelurahan"])
    for p in h["programmes"]:
        assert p["eligible"] == sum(r[f"{p['id']}_eligible"] for r in el)
        assert p["receiving"] == sum(r[f"{p['id']}_recipients"] for r in el)
        assert p["budget_month"] > 0
        assert p["budget_year"] == p["budget_month"] * 12
    pkh = next(p for p in h["programmes"] if p["id"] == "pkh")
    res = rows(report.tables["eligibility by kelurahan"])
    assert pkh["eligible"] == sum(r["pkh_eligible"] for r in res)
    assert h["budget_month"] == sum(p["budget_month"] for p in h["programmes"])
    assert h["errors"]["findings"] == sum(r["findings"] for r in rows(
        report.tables["findings by check"]) if r["severity"] == "error")
    assert [lv["level"] for lv in h["lks"]][:4] == ["embrio", "tumbuh", "berkembang",
                                                    "mandiri"]
    assert h["change"]["since"] == "2024-06-01"
    assert h["change"]["entered"] == 40
    text = report.html.read_text(encoding="utf-8")
    first = text[text.index('id="headline"'):text.index('id="section-chart-eligibility"')]
    from babel.numbers import format_decimal

    assert format_decimal(h["households"], locale="id_ID") in first  # 3.000
    for p in h["programmes"]:
        assert p["label"] in first
        assert format_decimal(p["eligible"], locale="id_ID") in first
    assert "Rp" in first


def test_the_budget_follows_the_rules_amounts(report: ReportFiles, snapshot: Snapshot,
                                              engine: Engine) -> None:
    res = rows(snapshot.results)
    pkh = sum(r["pkh_benefit_year"] or 0 for r in res if r["pkh_eligible"]) / 12
    bpnt = sum(r["bpnt_benefit_month"] or 0 for r in res if r["bpnt_eligible"])
    premium, _ = engine.parameter("pbi.premium_month").at(snapshot.as_of)
    pbi = sum(r["member_count"] or 0 for r in res if r["pbi_eligible"]) * premium
    got = {p["id"]: p["budget_month"] for p in report.headline["programmes"]}
    assert got["pkh"] == pytest.approx(pkh)
    assert got["bpnt"] == pytest.approx(bpnt)
    assert got["pbi"] == pytest.approx(pbi)


def test_the_tables_have_kecamatan_subtotals_a_city_total_and_indonesian_headers(
        report: ReportFiles, city: City) -> None:
    text = report.html.read_text(encoding="utf-8")
    section = text[text.index('id="table-eligibility"'):text.index('id="table-gaps"')]
    subtotals = re.findall(r'<tr class="subtotal"><td>Subtotal ([^<]+)</td>', section)
    assert len(subtotals) == 4
    total = re.search(r'<tr class="total"><td>Jumlah kota</td>(.*?)</tr>', section)
    assert total is not None
    n = city.households.num_rows
    assert f'<td class="num">{n:,}</td>'.replace(",", ".") in total.group(1)
    assert "<th>Kecamatan</th>" in section
    assert "PKH: layak" in section
    assert "pkh_eligible" not in section
    # the kecamatan sheet adds up to the city
    kec = rows(report.tables["eligibility by kecamatan"])
    assert kec[-1]["kecamatan"].startswith("Jumlah kota")
    assert kec[-1]["households"] == sum(r["households"] for r in kec[:-1]) == n
    # findings by check under their rule titles
    findings = text[text.index('id="table-findings"'):]
    assert "Kode tanggal lahir NIK tidak sah" in findings


def test_the_evidence_is_in_the_workbook_not_on_the_page(report: ReportFiles) -> None:
    text = report.html.read_text(encoding="utf-8")
    for name in ("register findings", "rule findings", "reallocation"):
        assert name in report.tables
        assert f"“{name}”" in text  # named, with its row count
    evidence = rows(report.tables["rule findings"])
    assert evidence
    assert evidence[0]["message"] not in text


def test_the_trend_covers_every_saved_snapshot(report: ReportFiles) -> None:
    trend = rows(report.tables["trend"])
    assert [str(r["as_of"]) for r in trend] == ["2024-05-01", "2024-06-01", "2024-07-01"]
    assert [r["households"] for r in trend] == [2910, 2960, 3000]


def test_the_page_is_rendered_from_autoescaped_templates(engine: Engine, snapshot: Snapshot,
                                                         tmp_path: Path) -> None:
    files = write_report(tmp_path / "r.html", None, snapshot=snapshot, engine=engine,
                         title="<script>alert(1)</script> & co")
    text = files.html.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text


def test_numbers_follow_the_locale(engine: Engine, snapshot: Snapshot, tmp_path: Path) -> None:
    n = snapshot.results.num_rows
    id_page = write_report(tmp_path / "id.html", None, snapshot=snapshot, engine=engine)
    en_page = write_report(tmp_path / "en.html", None, snapshot=snapshot, engine=engine,
                           locale="en_US")
    assert f'<td class="num">{n:,}</td>'.replace(",", ".") in id_page.html.read_text("utf-8")
    assert f'<td class="num">{n:,}</td>' in en_page.html.read_text("utf-8")
    with pytest.raises(ValueError, match="unknown locale"):
        write_report(tmp_path / "x.html", None, snapshot=snapshot, locale="xx_QQ")


class BoundaryPlugin:
    """A plugin that registers made-up kelurahan shapes (register_boundaries)."""

    PLUGIN_NAME = "test-boundaries"

    def __init__(self, collection: dict[str, object]):
        self.collection = collection

    @hookimpl
    def register_boundaries(self, register: Any) -> None:
        register(self.collection, key="nama", source="synthetic squares, CC0")


def test_a_plugin_s_boundaries_draw_a_map(city: City, snapshot: Snapshot,
                                          tmp_path: Path) -> None:
    shapes = synthetic_boundaries(kelurahan_names(city))
    engine = Engine.load(plugins=[BoundaryPlugin(shapes)])
    b = load_boundaries(engine)
    assert b is not None
    assert b.plugin == "test-boundaries"
    assert len(b.names) == 27
    files = write_report(tmp_path / "m.html", None, snapshot=snapshot, engine=engine)
    text = files.html.read_text(encoding="utf-8")
    assert 'id="chart-map"' in text
    assert "synthetic squares, CC0" in text
    assert load_boundaries(Engine.load()) is None  # no plugin, no map
    assert 'id="chart-map"' not in write_report(
        tmp_path / "n.html", None, snapshot=snapshot, engine=Engine.load()
    ).html.read_text(encoding="utf-8")


def test_malformed_boundaries_are_refused_naming_the_plugin() -> None:
    with pytest.raises(PluginError, match="plugin 'p': boundaries: expected a GeoJSON"):
        parse_boundaries({"type": "Feature"}, plugin="p")
    bad = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon",
                                                           "coordinates": []}}]}
    with pytest.raises(PluginError, match="feature 1 has no property 'kelurahan'"):
        parse_boundaries(bad, plugin="p")
    point = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kelurahan": "x"},
         "geometry": {"type": "Point", "coordinates": [0, 0]}}]}
    with pytest.raises(PluginError, match="feature 1 is a 'Point'"):
        parse_boundaries(point, plugin="p")
