"""Reports for the LKKS and the kelurahan: one self-contained HTML file and an XLSX workbook.

``write_report`` turns a month's results — a household snapshot, the reconciliation, the LKS
evaluation, the changes since the previous snapshot and a reallocation proposal, whichever are
given — into summary tables, four plotly charts (eligibility per kelurahan, findings per check,
LKS per maturity level, changes since the last snapshot) and a workbook with one sheet per table.
The HTML embeds plotly.js inline, so it opens offline on the office computer of a Dinas Sosial;
every NIK and No. KK in either file is masked with :func:`~welfare_rules.decision.mask_id`.
"""

from __future__ import annotations

import datetime
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa

from ..masking import mask_table
from ..recipients.reconcile import PROGRAMMES, Reconciliation, _q, connect, to_arrow
from ..recipients.snapshots import Snapshot, SnapshotDiff

if TYPE_CHECKING:
    from ..engine import Engine
    from ..recipients.reallocate import Proposal

__all__ = ["ReportFiles", "report_tables", "write_report", "write_workbook"]

#: the national LKS ladder, lowest first (used when no engine is given to read the levels)
LKS_LEVELS = ("embrio", "tumbuh", "berkembang", "mandiri")
SEVERITY_COLOURS = {"error": "#c0392b", "warning": "#e67e22", "info": "#2980b9"}
CHANGE_COLOURS = {"gained": "#27ae60", "lost": "#c0392b", "changed": "#7f8c8d",
                  "entered": "#2980b9", "left": "#8e44ad"}
HTML_ROWS = 200  # detail tables show this many rows in the HTML; the workbook has them all


@attrs.frozen
class ReportFiles:
    """What :func:`write_report` wrote: the HTML path, the XLSX path (or None), the tables."""

    html: Path
    xlsx: Path | None
    tables: dict[str, pa.Table]


# -- tables -------------------------------------------------------------------------------------

def _results(snapshot: Snapshot | Any) -> pa.Table:
    return snapshot.results if isinstance(snapshot, Snapshot) else to_arrow(snapshot, "results")


def report_tables(snapshot: Snapshot | Any | None = None, *,
                  reconciliation: Reconciliation | None = None,
                  institutions: Snapshot | Any | None = None,
                  changes: SnapshotDiff | None = None, proposal: Proposal | None = None,
                  programmes: Sequence[str] = PROGRAMMES,
                  eligible_rule: str = "{programme}_eligible",
                  maturity_rule: str = "lks_maturity",
                  levels: Sequence[str] = LKS_LEVELS) -> dict[str, pa.Table]:
    """The report's tables, by sheet name (ids masked). See :func:`write_report`."""
    con = connect()
    out: dict[str, pa.Table] = {}
    if snapshot is not None:
        res = _results(snapshot)
        con.register("res", res)
        cols = set(res.column_names)
        sel = ["count(*) AS households"]
        for p in programmes:
            elig, recv = eligible_rule.format(programme=p), f"receives_{p}"
            if elig in cols:
                sel.append(f"count(*) FILTER (WHERE {_q(elig)} = true) AS {p}_eligible")
                sel.append(f"count(*) FILTER (WHERE {_q(elig)} IS NULL) AS {p}_unknown")
            if recv in cols:
                sel.append(f"count(*) FILTER (WHERE {_q(recv)}) AS {p}_recipients")
            if elig in cols and recv in cols:
                sel.append(f"count(*) FILTER (WHERE {_q(elig)} = true AND NOT "
                           f"coalesce({_q(recv)}, false)) AS {p}_eligible_not_receiving")
                sel.append(f"count(*) FILTER (WHERE {_q(recv)} AND {_q(elig)} = false) "
                           f"AS {p}_receiving_not_eligible")
        group = [c for c in ("kecamatan", "kelurahan") if c in cols]
        gsel = ", ".join(_q(c) for c in group)
        out["eligibility by kelurahan"] = con.sql(
            f"SELECT {gsel + ', ' if group else ''}{', '.join(sel)} FROM res "
            f"{'GROUP BY ' + gsel + ' ORDER BY ' + gsel if group else ''}").to_arrow_table()
    parts = []
    if isinstance(snapshot, Snapshot) and snapshot.findings.num_rows:
        con.register("sf", snapshot.findings)
        parts.append("SELECT 'rule check' AS source, \"check\", severity, count(*) AS findings, "
                     "count(DISTINCT record_id) AS records FROM sf GROUP BY ALL")
    if reconciliation is not None and reconciliation.findings.num_rows:
        con.register("rf", reconciliation.findings)
        parts.append("SELECT 'register' AS source, register || ' (' || match_type || ', ' "
                     "|| action || ')' AS \"check\", severity, count(*) AS findings, "
                     "count(DISTINCT household_id) AS records FROM rf GROUP BY ALL")
    if parts:
        out["findings by check"] = con.sql(
            " UNION ALL ".join(parts) + " ORDER BY source, findings DESC, \"check\", severity"
        ).to_arrow_table()
    if reconciliation is not None:
        out["register findings"] = reconciliation.findings.drop_columns(
            [c for c in ("household_id_unmasked", "nik_unmasked")
             if c in reconciliation.findings.column_names])
        out["freed places"] = reconciliation.freed_places(programmes)
    if isinstance(snapshot, Snapshot) and snapshot.findings.num_rows:
        out["rule findings"] = con.sql(
            "SELECT \"check\", severity, entity, wr_mask(record_id) AS record_id, "
            "CASE WHEN member_id IS NULL THEN NULL ELSE wr_mask(member_id) END AS member_id, "
            "message FROM sf ORDER BY CASE severity WHEN 'error' THEN 0 WHEN 'warning' THEN 1 "
            "ELSE 2 END, \"check\", record_id").to_arrow_table()
    if institutions is not None:
        inst = _results(institutions)
        con.register("inst", inst)
        if maturity_rule in inst.column_names:
            order = {lv: i for i, lv in enumerate(levels)}
            con.register("lv", pa.table({"level": list(order), "ord": list(order.values())}))
            out["lks by maturity level"] = con.sql(f"""
                SELECT level, institutions FROM (
                    SELECT lv.level, lv.ord, count(i.{_q(maturity_rule)}) AS institutions
                    FROM lv LEFT JOIN inst i ON i.{_q(maturity_rule)} = lv.level
                    GROUP BY lv.level, lv.ord
                    UNION ALL
                    SELECT coalesce(CAST(i.{_q(maturity_rule)} AS VARCHAR), 'unknown'),
                           1000, count(*)
                    FROM inst i WHERE i.{_q(maturity_rule)} IS NULL
                       OR i.{_q(maturity_rule)} NOT IN (SELECT level FROM lv)
                    GROUP BY ALL)
                ORDER BY ord, level""").to_arrow_table()
            keep = [c for c in ("id", "name", "kelurahan", maturity_rule) if c in inst.column_names]
            out["lks"] = inst.select(keep)
    if changes is not None:
        out["changes summary"] = changes.summary()
        out["changes"] = _drop_unmasked(changes.changed)
        out["entered"] = _drop_unmasked(changes.entered)
        out["left"] = _drop_unmasked(changes.left)
    if proposal is not None:
        out["reallocation summary"] = proposal.summary
        out["reallocation"] = _drop_unmasked(proposal.table)
    return {name: mask_table(t) for name, t in out.items()}


def _drop_unmasked(t: pa.Table) -> pa.Table:
    return t.drop_columns([c for c in t.column_names if c.endswith("_unmasked")])


# -- charts -------------------------------------------------------------------------------------

def _figures(tables: Mapping[str, pa.Table], programmes: Sequence[str]) -> list[tuple[str, str,
                                                                                     Any]]:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    figs: list[tuple[str, str, Any]] = []
    el = tables.get("eligibility by kelurahan")
    if el is not None and "kelurahan" in el.column_names:
        rows = el.to_pylist()
        progs = [p for p in programmes if f"{p}_eligible" in el.column_names]
        fig = make_subplots(rows=max(len(progs), 1), cols=1, shared_xaxes=True,
                            subplot_titles=[p.upper() for p in progs] or [""],
                            vertical_spacing=0.08)
        x = [r["kelurahan"] for r in rows]
        for i, p in enumerate(progs, start=1):
            fig.add_trace(go.Bar(name="eligible / layak", x=x, y=[r[f"{p}_eligible"] for r in rows],
                                 marker_color="#27ae60", legendgroup="eligible",
                                 showlegend=i == 1), row=i, col=1)
            if f"{p}_recipients" in el.column_names:
                fig.add_trace(go.Bar(name="recipients / penerima", x=x,
                                     y=[r[f"{p}_recipients"] for r in rows],
                                     marker_color="#2980b9", legendgroup="recipients",
                                     showlegend=i == 1), row=i, col=1)
        fig.update_layout(barmode="group", height=260 * max(len(progs), 1) + 120,
                          margin={"t": 40, "b": 120})
        figs.append(("chart-eligibility", "Kelayakan per kelurahan / eligibility per kelurahan",
                     fig))
    fc = tables.get("findings by check")
    if fc is not None:
        rows = fc.to_pylist()
        fig = go.Figure()
        for sev in ("error", "warning", "info"):
            sel = [r for r in rows if r["severity"] == sev]
            if sel:
                fig.add_trace(go.Bar(name=sev, orientation="h",
                                     y=[f"{r['check']}" for r in sel],
                                     x=[r["findings"] for r in sel],
                                     marker_color=SEVERITY_COLOURS[sev]))
        fig.update_layout(barmode="stack", height=max(300, 28 * len(rows) + 120),
                          yaxis={"automargin": True}, margin={"t": 30})
        figs.append(("chart-findings", "Temuan per pemeriksaan / findings per check", fig))
    lk = tables.get("lks by maturity level")
    if lk is not None:
        rows = lk.to_pylist()
        fig = go.Figure(go.Bar(x=[r["level"] for r in rows], y=[r["institutions"] for r in rows],
                               marker_color="#16a085"))
        fig.update_layout(height=360, margin={"t": 30})
        figs.append(("chart-lks", "LKS per tingkat kematangan / LKS per maturity level", fig))
    ch = tables.get("changes summary")
    if ch is not None:
        rows = ch.to_pylist()
        fig = go.Figure()
        for change in ("entered", "left", "gained", "lost", "changed"):
            sel = [r for r in rows if r["change"] == change]
            if sel:
                fig.add_trace(go.Bar(name=change, x=[r["rule"] if r["rule"] != "*" else
                                                     "(households)" for r in sel],
                                     y=[r["records"] for r in sel],
                                     marker_color=CHANGE_COLOURS[change]))
        fig.update_layout(barmode="group", height=400, margin={"t": 30, "b": 120})
        figs.append(("chart-changes", "Perubahan sejak snapshot terakhir / changes since the "
                     "last snapshot", fig))
    return figs


# -- HTML ---------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5rem;color:#222}
h1{font-size:1.5rem} h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;font-size:.85rem;margin:.5rem 0}
th,td{border:1px solid #ddd;padding:.2rem .4rem;text-align:left;vertical-align:top}
th{background:#f4f4f4} td.num{text-align:right} .note{color:#555;font-size:.85rem}
.fp{font-family:monospace;font-size:.8rem;white-space:pre-wrap;background:#f8f8f8;padding:.5rem}
"""


def _html_table(t: pa.Table, limit: int | None = None) -> str:
    rows = t.slice(0, limit).to_pylist() if limit is not None else t.to_pylist()
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.column_names)
    body = []
    for r in rows:
        cells = []
        for v in r.values():
            cls = ' class="num"' if isinstance(v, (int, float)) and not isinstance(v, bool) \
                else ""
            text = "" if v is None else str(v)
            if len(text) > 300:
                text = text[:300] + "…"
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = ""
    if limit is not None and t.num_rows > limit:
        more = (f'<p class="note">{limit} of {t.num_rows} rows shown; the workbook has them '
                f"all.</p>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


_DETAIL = {"register findings", "rule findings", "lks", "changes", "entered", "left",
           "reallocation"}


def write_report(html_path: str | Path, xlsx_path: str | Path | None = None, *,
                 snapshot: Snapshot | Any | None = None,
                 reconciliation: Reconciliation | None = None,
                 institutions: Snapshot | Any | None = None,
                 changes: SnapshotDiff | None = None, proposal: Proposal | None = None,
                 engine: Engine | None = None, title: str | None = None,
                 programmes: Sequence[str] = PROGRAMMES,
                 eligible_rule: str = "{programme}_eligible",
                 maturity_rule: str = "lks_maturity") -> ReportFiles:
    """Write the monthly report: a self-contained HTML file and an XLSX workbook.

    Args:
        html_path: where to write the HTML (one file; plotly.js is embedded, so it opens
            offline).
        xlsx_path: where to write the workbook (one sheet per table); None = no workbook.
        snapshot: the household :class:`Snapshot` (or its results
            table): eligibility per kelurahan and, from a Snapshot, the rule-check findings.
        reconciliation: register findings and freed places.
        institutions: the LKS evaluation (a Snapshot of ``institution`` or a table with
            ``maturity_rule``).
        changes: :func:`compare_snapshots` of the previous and this
            month.
        proposal: a reallocation proposal.
        engine: used for the LKS levels (the ladder of ``maturity_rule``) and the fingerprint
            shown when no snapshot carries one.
        title: the page title.
        programmes: the programmes to report.
        eligible_rule: the eligibility rule of a programme, ``{programme}`` filled in.
        maturity_rule: the LKS ladder rule.

    Returns:
        The paths written and the tables (by sheet name).
    """
    import plotly.offline

    levels: Sequence[str] = LKS_LEVELS
    if engine is not None and maturity_rule in engine.rules:
        levels = [lv.name for lv in engine.rule(maturity_rule).levels] or LKS_LEVELS
    tables = report_tables(snapshot, reconciliation=reconciliation, institutions=institutions,
                           changes=changes, proposal=proposal, programmes=programmes,
                           eligible_rule=eligible_rule, maturity_rule=maturity_rule,
                           levels=levels)
    fingerprint: dict[str, Any] = {}
    as_of: datetime.date | None = None
    for src in (snapshot, reconciliation, proposal):
        fp = getattr(src, "fingerprint", None)
        if fp:
            fingerprint, as_of = dict(fp), getattr(src, "as_of", None)
            break
    if not fingerprint and engine is not None:
        fingerprint = engine.fingerprint(as_of)
    title = title or ("Laporan bulanan bantuan sosial / Monthly social-assistance report"
                      + (f" — {as_of.isoformat()}" if as_of else ""))
    figs = _figures(tables, programmes)
    chart_html = []
    for div_id, heading, fig in figs:
        chart_html.append(f"<h2>{html.escape(heading)}</h2>" + fig.to_html(
            full_html=False, include_plotlyjs=False, div_id=div_id,
            config={"displaylogo": False, "responsive": True}))
    sections = []
    for name, t in tables.items():
        limit = HTML_ROWS if name in _DETAIL else None
        sections.append(f'<h2 id="table-{html.escape(name.replace(" ", "-"))}">'
                        f"{html.escape(name)}</h2>{_html_table(t, limit)}")
    page = f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>
</head>
<body>
<h1>{html.escape(title)}</h1>
<p class="note">NIK dan No. KK disamarkan / NIKs and family-card numbers are masked.
Temuan dan usulan adalah bahan verifikasi: perangkat lunak mengusulkan, manusia memutuskan /
findings and proposals are for verification: the library proposes, people decide.</p>
{''.join(chart_html)}
{''.join(sections)}
<details><summary>Sidik aturan / engine fingerprint (untuk audit: aturan, parameter, plugin,
tanggal)</summary>
<div class="fp">{html.escape(json.dumps(fingerprint, indent=1, ensure_ascii=False))}</div>
</details>
</body>
</html>
"""
    html_out = Path(html_path)
    html_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.write_text(page, encoding="utf-8")
    xlsx_out = None
    if xlsx_path is not None:
        about = pa.table({"key": ["title", "as_of", "fingerprint"],
                          "value": [title, as_of.isoformat() if as_of else "",
                                    json.dumps(fingerprint, ensure_ascii=False)]})
        xlsx_out = write_workbook(xlsx_path, {"about": about, **tables})
    return ReportFiles(html=html_out, xlsx=xlsx_out, tables=tables)


# -- workbook -----------------------------------------------------------------------------------

def write_workbook(path: str | Path, tables: Mapping[str, pa.Table]) -> Path:
    """Write one sheet per table (header row in bold, frozen) with openpyxl in write-only
    mode, so large tables stream. Sheet names are cut to Excel's 31 characters.

    16-digit runs are masked (:func:`~welfare_rules.masking.mask_table`; ``*_unmasked``
    columns, present only on request, are kept), no cell from data is a formula and the file
    is byte-reproducible (:mod:`welfare_rules.safecells`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from ..safecells import save_workbook, text_cells

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    used: list[str] = []
    bold = Font(bold=True)
    for name, table in tables.items():
        from ..recipients.reallocate import _sheet_name

        sheet_name = _sheet_name(name, used)
        used.append(sheet_name)
        ws = wb.create_sheet(sheet_name)
        ws.freeze_panes = "A2"
        header = text_cells(ws, table.column_names)
        for cell in header:
            cell.font = bold
        ws.append(header)
        for batch in mask_table(table).to_batches(max_chunksize=10_000):
            cols = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
            for row in zip(*cols, strict=True):
                ws.append(text_cells(ws, row))
    return save_workbook(wb, path)
