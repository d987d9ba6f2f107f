"""The report's plotly figures: eligibility per kelurahan, findings per check, LKS per level,
changes since the last snapshot, the trend over the saved snapshots and, when a plugin gives
boundaries, a map per kelurahan. Every figure is responsive (no fixed width), so the page fits
a 1366 px screen and an A4 page."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import pyarrow as pa

from .boundaries import Boundaries

__all__ = ["Chart", "figures"]

SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
CHANGE_COLOURS = {"gained": "#27ae60", "lost": "#c0392b", "changed": "#7f8c8d",
                  "entered": "#2980b9", "left": "#8e44ad"}
CHANGE_LABELS = {"gained": "bertambah / gained", "lost": "berkurang / lost",
                 "changed": "berubah / changed", "entered": "masuk / entered",
                 "left": "keluar / left"}
PROGRAMME_COLOURS = ("#27ae60", "#2980b9", "#8e44ad", "#d35400", "#16a085")


@attrs.frozen
class Chart:
    """One figure of the report: its div id, heading and plotly figure."""

    div_id: str
    heading: str
    figure: Any
    note: str = ""


def _layout(fig: Any, height: int, **extra: Any) -> None:
    fig.update_layout(height=height, autosize=True, margin={"t": 40, "l": 60, "r": 20,
                                                            "b": extra.pop("bottom", 60)},
                      legend={"orientation": "h", "y": -0.25 if extra.pop("low_legend", False)
                              else 1.08}, font={"size": 12}, **extra)


def figures(tables: Mapping[str, pa.Table], programmes: Sequence[str],
            labels: Mapping[str, str], titles: Mapping[str, str],
            boundaries: Boundaries | None = None) -> list[Chart]:
    """The figures for the report's tables (a figure only where its table exists)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    charts: list[Chart] = []
    el = tables.get("eligibility by kelurahan")
    progs = [p for p in programmes if el is not None and f"{p}_eligible" in el.column_names]
    if el is not None and "kelurahan" in el.column_names and progs:
        rows = el.to_pylist()
        fig = make_subplots(rows=len(progs), cols=1, shared_xaxes=True,
                            subplot_titles=[labels.get(p, p.upper()) for p in progs],
                            vertical_spacing=0.06)
        x = [r["kelurahan"] for r in rows]
        for i, p in enumerate(progs, start=1):
            fig.add_trace(go.Bar(name="layak / eligible", x=x,
                                 y=[r[f"{p}_eligible"] for r in rows], marker_color="#27ae60",
                                 legendgroup="eligible", showlegend=i == 1), row=i, col=1)
            if f"{p}_recipients" in el.column_names:
                fig.add_trace(go.Bar(name="penerima / recipients", x=x,
                                     y=[r[f"{p}_recipients"] for r in rows],
                                     marker_color="#2980b9", legendgroup="recipients",
                                     showlegend=i == 1), row=i, col=1)
        _layout(fig, 220 * len(progs) + 160, barmode="group", bottom=130)
        fig.update_xaxes(tickangle=-45)
        charts.append(Chart("chart-eligibility", "Kelayakan dan penerima per kelurahan / "
                            "eligibility and recipients per kelurahan", fig))
    fc = tables.get("findings by check")
    if fc is not None and fc.num_rows:
        rows = fc.to_pylist()
        fig = go.Figure()
        for sev in ("error", "warning", "info"):
            sel = [r for r in rows if r["severity"] == sev]
            if sel:
                fig.add_trace(go.Bar(name=sev, orientation="h",
                                     y=[titles.get(r["check"], r["check"]) for r in sel],
                                     x=[r["findings"] for r in sel],
                                     marker_color=SEVERITY_COLOURS.get(sev, "#7f8c8d")))
        _layout(fig, max(320, 26 * len(rows) + 140), barmode="stack")
        fig.update_yaxes(automargin=True)
        charts.append(Chart("chart-findings", "Temuan per pemeriksaan / findings per check",
                            fig))
    lk = tables.get("lks by maturity level")
    if lk is not None:
        rows = lk.to_pylist()
        fig = go.Figure(go.Bar(x=[r["level"] for r in rows], y=[r["institutions"] for r in rows],
                               marker_color="#16a085"))
        _layout(fig, 320)
        charts.append(Chart("chart-lks", "LKS per tingkat kematangan / LKS per maturity level",
                            fig))
    ch = tables.get("changes summary")
    if ch is not None:
        rows = ch.to_pylist()
        fig = go.Figure()
        for change in ("entered", "left", "gained", "lost", "changed"):
            sel = [r for r in rows if r["change"] == change]
            if sel:
                fig.add_trace(go.Bar(
                    name=CHANGE_LABELS[change],
                    x=[titles.get(r["rule"], r["rule"]) if r["rule"] != "*" else
                       "(keluarga / households)" for r in sel],
                    y=[r["records"] for r in sel], marker_color=CHANGE_COLOURS[change]))
        _layout(fig, 380, barmode="group", bottom=120)
        fig.update_xaxes(automargin=True)
        charts.append(Chart("chart-changes", "Perubahan sejak snapshot terakhir / changes "
                            "since the last snapshot", fig))
    tr = tables.get("trend")
    if tr is not None and tr.num_rows:
        rows = tr.to_pylist()
        x = [r["as_of"] for r in rows]
        fig = go.Figure()
        for i, p in enumerate(p for p in programmes if f"{p}_eligible" in tr.column_names):
            colour = PROGRAMME_COLOURS[i % len(PROGRAMME_COLOURS)]
            fig.add_trace(go.Scatter(x=x, y=[r[f"{p}_eligible"] for r in rows],
                                     mode="lines+markers", line={"color": colour},
                                     name=f"{labels.get(p, p.upper())} layak / eligible"))
            if f"{p}_recipients" in tr.column_names:
                fig.add_trace(go.Scatter(x=x, y=[r[f"{p}_recipients"] for r in rows],
                                         mode="lines+markers",
                                         line={"color": colour, "dash": "dot"},
                                         name=f"{labels.get(p, p.upper())} penerima / "
                                              f"recipients"))
        _layout(fig, 380, low_legend=True, bottom=110)
        charts.append(Chart("chart-trend", "Tren per snapshot / trend over the saved snapshots",
                            fig))
    if boundaries is not None and el is not None and "kelurahan" in el.column_names and progs:
        charts.append(_map(el, progs[0], labels, boundaries))
    return charts


def _rings(geometry: Mapping[str, Any]) -> list[list[list[float]]]:
    """The outer rings of a Polygon or MultiPolygon."""
    if geometry["type"] == "Polygon":
        return [geometry["coordinates"][0]]
    return [poly[0] for poly in geometry["coordinates"]]


def _map(el: pa.Table, programme: str, labels: Mapping[str, str],
         boundaries: Boundaries) -> Chart:
    """The share of households eligible for ``programme`` per kelurahan, on the plugin's
    boundaries. Drawn as filled shapes on plain axes (longitude, latitude), not as a plotly
    geo map: that would fetch a world map from the internet, and the report is offline."""
    import plotly.graph_objects as go
    from plotly.colors import sample_colorscale

    rows = {r["kelurahan"]: r for r in el.to_pylist()}
    share = {n: round(100 * (rows[n][f"{programme}_eligible"] or 0)
                      / (rows[n]["households"] or 1), 1) for n in boundaries.names if n in rows}
    lo, hi = (min(share.values()), max(share.values())) if share else (0.0, 1.0)
    fig = go.Figure()
    centres_x, centres_y, values, names = [], [], [], []
    for feat in boundaries.geojson["features"]:
        name = feat["properties"][boundaries.key]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for ring in _rings(feat["geometry"]):
            xs += [float(pt[0]) for pt in ring] + [None]
            ys += [float(pt[1]) for pt in ring] + [None]
        value = share.get(name)
        colour = "#eeeeee" if value is None else sample_colorscale(
            "Greens", [(value - lo) / ((hi - lo) or 1)])[0]
        fig.add_trace(go.Scatter(x=xs, y=ys, fill="toself", fillcolor=colour, mode="lines",
                                 line={"color": "#555", "width": 1}, hoverinfo="skip",
                                 showlegend=False))
        pts = [p for p in zip(xs, ys, strict=True) if p[0] is not None]
        centres_x.append(sum(float(p[0] or 0) for p in pts) / len(pts))
        centres_y.append(sum(float(p[1] or 0) for p in pts) / len(pts))
        values.append(value)
        names.append(name)
    fig.add_trace(go.Scatter(
        x=centres_x, y=centres_y, mode="markers", showlegend=False,
        marker={"size": 1, "color": [v if v is not None else lo for v in values],
                "colorscale": "Greens", "cmin": lo, "cmax": hi, "showscale": True,
                "colorbar": {"title": {"text": "%"}}},
        text=[f"{n}: {v if v is not None else '—'}%" for n, v in zip(names, values,
                                                                      strict=True)],
        hoverinfo="text"))
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    _layout(fig, 460)
    missing = sorted(set(rows) - set(boundaries.names))
    note = f"Sumber batas wilayah / boundaries: {boundaries.source or boundaries.plugin}."
    if missing:
        note += f" Tanpa batas / no boundary: {', '.join(missing)}."
    return Chart("chart-map", f"Peta: persen keluarga layak {labels.get(programme, programme)} "
                 f"per kelurahan / map: share of households eligible", fig, note)
