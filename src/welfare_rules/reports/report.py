"""Reports for the Dinas Sosial and the LKKS: one self-contained HTML file and an XLSX workbook.

``write_report`` turns a month's results — a household snapshot, the reconciliation, the LKS
evaluation, the changes since the previous snapshot, the saved snapshots of earlier months and a
reallocation proposal, whichever are given — into:

* a first screen of headline figures (households; eligible and receiving per programme; the
  estimated monthly and yearly budget; errors to fix; LKS per level; change since last month);
* summary tables with kecamatan subtotals and a city total, Indonesian headers from the rule
  titles, numbers formatted for the locale (Babel);
* plotly charts (eligibility per kelurahan, findings per check, LKS per level, changes, the
  trend over every saved snapshot, and a map when a plugin registers kelurahan boundaries);
* a workbook with one sheet per table — the evidence (every finding, change and proposal row)
  is there, not on the page.

The page is rendered from the Jinja2 templates in ``reports/templates/`` (autoescaped), embeds
plotly.js inline so it opens offline on the office computer of a Dinas Sosial, fits a 1366 px
screen without sideways scrolling and prints to A4. Every NIK and No. KK in either file is
masked with :func:`~welfare_rules.masking.mask_id`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import pyarrow as pa
from sqlglot import exp

from ..masking import mask_table
from ..recipients.reconcile import (
    PROGRAMMES,
    Reconciliation,
    connect,
    eligible_column,
    to_arrow,
)
from ..recipients.snapshots import Snapshot, SnapshotDiff
from ..sqlbuild import Query, query, relation, union_all
from ..templating import environment
from ..workbook import write_workbook as write_workbook  # a name of this package
from .boundaries import Boundaries, load_boundaries
from .figures import figures
from .formatting import Formatter

if TYPE_CHECKING:
    from ..engine import Engine
    from ..recipients.reallocate import Proposal

__all__ = ["ReportFiles", "headline_figures", "report_tables", "write_report",
           "write_workbook"]

#: the national LKS ladder, lowest first (used when no engine is given to read the levels)
LKS_LEVELS = ("embrio", "tumbuh", "berkembang", "mandiri")
#: how the page names a programme (a plugin's programme falls back to its id in capitals)
PROGRAMME_LABELS = {"pkh": "PKH", "bpnt": "BPNT/Sembako", "pbi": "PBI-JK"}
#: how the budget of a programme is estimated: (rule with the amount, "year" or "month"), or
#: (parameter per person a month, "person-month") multiplied by the household's member_count
BUDGET = {"pkh": ("pkh_benefit_year", "year"), "bpnt": ("bpnt_benefit_month", "month"),
          "pbi": ("pbi.premium_month", "person-month")}
#: detail tables: in the workbook only (the page says where they are)
DETAIL = ("register findings", "rule findings", "lks", "changes", "entered", "left",
          "reallocation")


@attrs.frozen
class ReportFiles:
    """What :func:`write_report` wrote: the HTML path, the XLSX path (or None), the tables
    (by sheet name) and the headline figures of the first screen."""

    html: Path
    xlsx: Path | None
    tables: dict[str, pa.Table]
    headline: dict[str, Any] = attrs.field(factory=dict)


# -- tables -------------------------------------------------------------------------------------

def _results(snapshot: Snapshot | Any) -> pa.Table:
    return snapshot.results if isinstance(snapshot, Snapshot) else to_arrow(snapshot, "results")


def report_tables(snapshot: Snapshot | Any | None = None, *,
                  reconciliation: Reconciliation | None = None,
                  institutions: Snapshot | Any | None = None,
                  changes: SnapshotDiff | None = None, proposal: Proposal | None = None,
                  history: Sequence[Snapshot] = (),
                  programmes: Sequence[str] = PROGRAMMES,
                  eligible_rule: str = "{programme}_eligible",
                  maturity_rule: str = "lks_maturity",
                  levels: Sequence[str] = LKS_LEVELS) -> dict[str, pa.Table]:
    """The report's tables, by sheet name (ids masked). See :func:`write_report`."""
    with connect() as con:
        out: dict[str, pa.Table] = {}
        if snapshot is not None:
            res = _results(snapshot)
            con.register("res", res)
            cols = set(res.column_names)
            sel = _count_columns(cols, programmes, eligible_rule)
            group = [c for c in ("kecamatan", "kelurahan") if c in cols]
            by_group = (query("SELECT __group, __sel FROM res GROUP BY __group ORDER BY __group",
                              group=group, sel=sel) if group
                        else query("SELECT __sel FROM res", sel=sel))
            out["eligibility by kelurahan"] = relation(con, by_group).to_arrow_table()
            if "kecamatan" in cols:
                out["eligibility by kecamatan"] = relation(con, query(
                    "SELECT * FROM (SELECT kecamatan, __sel FROM res GROUP BY kecamatan "
                    "ORDER BY kecamatan) UNION ALL SELECT 'Jumlah kota / city total', "
                    "__sel FROM res", sel=sel)).to_arrow_table()
            trend = _trend([*history, snapshot] if isinstance(snapshot, Snapshot) else history,
                           programmes, eligible_rule)
            if trend is not None:
                out["trend"] = trend
        parts: list[Query] = []
        if isinstance(snapshot, Snapshot) and snapshot.findings.num_rows:
            con.register("sf", snapshot.findings)
            parts.append(query("SELECT 'rule check' AS source, \"check\", severity, "
                               "count(*) AS findings, count(DISTINCT record_id) AS records "
                               "FROM sf GROUP BY ALL"))
        if reconciliation is not None and reconciliation.findings.num_rows:
            con.register("rf", reconciliation.findings)
            parts.append(query("SELECT 'register' AS source, register || ' (' || match_type "
                               "|| ', ' || action || ')' AS \"check\", severity, "
                               "count(*) AS findings, count(DISTINCT household_id) AS records "
                               "FROM rf GROUP BY ALL"))
        if parts:
            out["findings by check"] = relation(con, query(
                "SELECT * FROM (__u) ORDER BY source, findings DESC, \"check\", severity",
                u=union_all(parts))).to_arrow_table()
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
                out["lks by maturity level"] = relation(con, query("""
                    SELECT level, institutions FROM (
                        SELECT lv.level, lv.ord, count(i.__m) AS institutions
                        FROM lv LEFT JOIN inst i ON i.__m = lv.level
                        GROUP BY lv.level, lv.ord
                        UNION ALL
                        SELECT coalesce(CAST(i.__m AS VARCHAR), 'unknown'), 1000, count(*)
                        FROM inst i WHERE i.__m IS NULL OR i.__m NOT IN (SELECT level FROM lv)
                        GROUP BY ALL)
                    ORDER BY ord, level""", m=maturity_rule)).to_arrow_table()
                keep = [c for c in ("id", "name", "kelurahan", maturity_rule)
                        if c in inst.column_names]
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


#: the counts of a programme ``p`` over ``res``, by name (``p_<name>``): eligibility ``__e``,
#: receipt ``__r``; the first two need eligibility only, the third receipt only
_COUNTS = {
    "eligible": "count(*) FILTER (WHERE __e = true)",
    "unknown": "count(*) FILTER (WHERE __e IS NULL)",
    "recipients": "count(*) FILTER (WHERE __r)",
    "eligible_not_receiving": "count(*) FILTER (WHERE __e = true AND NOT coalesce(__r, false))",
    "receiving_not_eligible": "count(*) FILTER (WHERE __r AND __e = false)",
}


def _count(name: str, elig: str, recv: str, alias: str | None = None) -> Query:
    """The count ``name`` of :data:`_COUNTS` as a select item named ``alias``."""
    holes = {k: v for k, v in (("e", elig), ("r", recv)) if "__" + k in _COUNTS[name]}
    item = query(_COUNTS[name], **holes)
    if alias is None:
        return item
    return Query(cast(exp.Expression, exp.alias_(item.tree, alias, quoted=True)), item.values)


def _count_columns(cols: set[str], programmes: Sequence[str], eligible_rule: str,
                   names: Sequence[str] = tuple(_COUNTS)) -> list[Query]:
    """The counts per group: households and, per programme, those of ``names`` its columns
    allow (eligible, unknown, recipients and the two mismatches: SQL select items over
    ``res``)."""
    sel = [query("count(*) AS households")]
    for p in programmes:
        elig, recv = eligible_column(eligible_rule, p), "receives_" + p
        for name in names:
            needs = {"recipients": (recv,)}.get(name, (elig,) if name in ("eligible", "unknown")
                                                else (elig, recv))
            if all(c in cols for c in needs):
                sel.append(_count(name, elig, recv, p + "_" + name))
    return sel


def _trend(snapshots: Sequence[Snapshot], programmes: Sequence[str],
           eligible_rule: str) -> pa.Table | None:
    """One row per snapshot (oldest first): as_of, households, eligible and recipients per
    programme. None with fewer than two snapshots (no trend to draw)."""
    rows = []
    for snap in sorted(snapshots, key=lambda s: s.as_of):
        with connect() as con:
            con.register("res", snap.results)
            cols = set(snap.results.column_names)
            sel = _count_columns(cols, programmes, eligible_rule, ("eligible", "recipients"))
            row = relation(con, query("SELECT __sel FROM res", sel=sel)
                           ).to_arrow_table().to_pylist()[0]
            rows.append({"as_of": snap.as_of, **row})
    if len(rows) < 2:
        return None
    names = list(dict.fromkeys(k for r in rows for k in r))
    return pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows])


def _drop_unmasked(t: pa.Table) -> pa.Table:
    return t.drop_columns([c for c in t.column_names if c.endswith("_unmasked")])


# -- headline figures ---------------------------------------------------------------------------

def _param_at(engine: Engine | None, name: str, as_of: datetime.date | None) -> float | None:
    if engine is None or as_of is None or name not in engine.parameters:
        return None
    value, _ = engine.parameter(name).at(as_of)
    return float(value) if isinstance(value, int | float) else None


def headline_figures(tables: Mapping[str, pa.Table], snapshot: Snapshot | Any | None, *,
                     engine: Engine | None = None, as_of: datetime.date | None = None,
                     changes: SnapshotDiff | None = None,
                     programmes: Sequence[str] = PROGRAMMES,
                     eligible_rule: str = "{programme}_eligible") -> dict[str, Any]:
    """The first screen: households, eligible and receiving per programme with the estimated
    monthly and yearly budget (were every eligible household paid), errors to fix, LKS per
    level and the change since the previous snapshot.

    Budgets are estimates from the rules' amounts: PKH ``pkh_benefit_year``, BPNT
    ``bpnt_benefit_month``, PBI-JK ``pbi.premium_month`` × the household's ``member_count``.
    """
    out: dict[str, Any] = {"as_of": as_of.isoformat() if as_of else None, "programmes": []}
    res = _results(snapshot) if snapshot is not None else None
    if res is not None:
        cols = set(res.column_names)
        with connect() as con:
            con.register("res", res)
            out["households"] = res.num_rows
            if "member_count" in cols:
                out["persons"] = con.sql("SELECT coalesce(sum(member_count), 0)::BIGINT FROM res"
                                         ).fetchall()[0][0]
            total_month = 0.0
            for p in programmes:
                elig = eligible_column(eligible_rule, p)
                if elig not in cols:
                    continue
                recv = "receives_" + p
                items = [_count(n, elig, recv) if n in ("eligible", "unknown") or recv in cols
                         else exp.null() for n in _COUNTS]
                row = dict(zip(["eligible", "unknown", "receiving", "eligible_not_receiving",
                                "receiving_not_eligible"], relation(con, query(
                    "SELECT __items FROM res", items=items)).fetchall()[0], strict=True))
                month = _budget_month(con, cols, p, elig, engine, as_of)
                out["programmes"].append({
                    "id": p, "label": PROGRAMME_LABELS.get(p, p.upper()), **row,
                    "budget_month": month, "budget_year": None if month is None else month * 12})
                total_month += month or 0.0
            out["budget_month"] = total_month
            out["budget_year"] = total_month * 12
    errors = 0
    error_records = 0
    fc = tables.get("findings by check")
    if fc is not None:
        for r in fc.to_pylist():
            if r["severity"] == "error":
                errors += r["findings"]
                error_records += r["records"]
    out["errors"] = {"findings": errors, "records": error_records}
    lk = tables.get("lks by maturity level")
    if lk is not None:
        out["lks"] = [{"level": r["level"], "count": r["institutions"]} for r in lk.to_pylist()]
    trend = tables.get("trend")
    if changes is not None:
        summ = {(r["rule"], r["change"]): r["records"] for r in changes.summary().to_pylist()}
        out["change"] = {
            "since": changes.old_as_of.isoformat() if changes.old_as_of else None,
            "entered": summ.get(("*", "entered"), 0), "left": summ.get(("*", "left"), 0),
            "eligible": {p: summ.get((eligible_column(eligible_rule, p), "gained"), 0)
                         - summ.get((eligible_column(eligible_rule, p), "lost"), 0)
                         for p in programmes}}
    elif trend is not None and trend.num_rows >= 2:
        prev, last = trend.to_pylist()[-2:]
        out["change"] = {
            "since": prev["as_of"].isoformat() if prev["as_of"] else None,
            "entered": None, "left": None, "households": last["households"]
            - prev["households"],
            "eligible": {p: (last.get(f"{p}_eligible") or 0) - (prev.get(f"{p}_eligible") or 0)
                         for p in programmes if f"{p}_eligible" in last}}
    return out


def _budget_month(con: Any, cols: set[str], programme: str, elig: str, engine: Engine | None,
                  as_of: datetime.date | None) -> float | None:
    spec = BUDGET.get(programme)
    if spec is None:
        return None
    source, unit = spec
    if unit == "person-month":
        premium = _param_at(engine, source, as_of)
        if premium is None or "member_count" not in cols:
            return None
        n = relation(con, query("SELECT coalesce(sum(member_count) FILTER (WHERE __e = true), 0) "
                                "FROM res", e=elig)).fetchall()[0][0]
        return float(n) * premium
    if source not in cols:
        return None
    total = relation(con, query("SELECT coalesce(sum(__s) FILTER (WHERE __e = true), 0) FROM res",
                                s=source, e=elig)).fetchall()[0][0]
    return float(total) / 12 if unit == "year" else float(total)


# -- HTML ---------------------------------------------------------------------------------------

_TEMPLATES = Path(__file__).parent / "templates"

#: the page's words for the table columns that are not rule ids
_HEADERS = {
    "kecamatan": "Kecamatan", "kelurahan": "Kelurahan", "households": "Keluarga",
    "source": "Sumber", "check": "Pemeriksaan", "severity": "Tingkat", "findings": "Temuan",
    "records": "Keluarga/LKS", "level": "Tingkat kematangan", "institutions": "LKS",
    "rule": "Aturan", "change": "Perubahan", "programme": "Program", "places": "Kuota",
    "as_of": "Per tanggal",
}
_PROGRAMME_COLUMNS = (("eligible", "layak"), ("recipients", "penerima"),
                      ("eligible_not_receiving", "layak, belum menerima"),
                      ("receiving_not_eligible", "menerima, tidak layak"),
                      ("unknown", "belum dapat dinilai"))


def _header(col: str, titles: Mapping[str, str], programmes: Sequence[str]) -> str:
    if col in _HEADERS:
        return _HEADERS[col]
    for p in programmes:
        for suffix, word in _PROGRAMME_COLUMNS:
            if col == f"{p}_{suffix}":
                return f"{PROGRAMME_LABELS.get(p, p.upper())}: {word}"
    return titles.get(col, col.replace("_", " "))


def _page_table(t: pa.Table, fmt: Formatter, titles: Mapping[str, str],
                programmes: Sequence[str], *, columns: Sequence[str] | None = None,
                subtotal_by: str | None = None, total_label: str | None = None,
                translate: Sequence[str] = (), sum_only: Sequence[str] | None = None
                ) -> dict[str, Any]:
    """A table for the template: headers, formatted rows (numbers right-aligned), optional
    subtotal rows after each ``subtotal_by`` group and a total row over the integer columns."""
    import pyarrow.types as pat

    cols = [c for c in (columns or t.column_names) if c in t.column_names]
    numeric = {c for c in cols if pat.is_integer(t.schema.field(c).type)
               or pat.is_floating(t.schema.field(c).type)}
    summed = [c for c in cols if pat.is_integer(t.schema.field(c).type)
              and (sum_only is None or c in sum_only)]

    def cells(r: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"text": titles.get(r[c], r[c]) if c in translate and isinstance(r[c], str)
                 else fmt.cell(r[c]), "num": c in numeric} for c in cols]

    def total_row(rows: Sequence[Mapping[str, Any]], label: str) -> list[dict[str, Any]]:
        row: dict[str, Any] = {c: (sum(r[c] or 0 for r in rows) if c in summed else None)
                               for c in cols}
        out = cells(row)
        out[0] = {"text": label, "num": False}
        return out

    data = t.to_pylist()
    body: list[dict[str, Any]] = []
    if subtotal_by and subtotal_by in cols:
        groups: dict[Any, list[dict[str, Any]]] = {}
        for r in data:
            groups.setdefault(r[subtotal_by], []).append(r)
        for key, rows in groups.items():
            body.extend({"cells": cells(r), "kind": ""} for r in rows)
            body.append({"cells": total_row(rows, f"Subtotal {key}"), "kind": "subtotal"})
    else:
        body = [{"cells": cells(r), "kind": ""} for r in data]
    if total_label and summed and len(data) > 1:
        body.append({"cells": total_row(data, total_label), "kind": "total"})
    return {"headers": [{"text": _header(c, titles, programmes), "num": c in numeric}
                        for c in cols], "rows": body}


def write_report(html_path: str | Path, xlsx_path: str | Path | None = None, *,
                 snapshot: Snapshot | Any | None = None,
                 reconciliation: Reconciliation | None = None,
                 institutions: Snapshot | Any | None = None,
                 changes: SnapshotDiff | None = None, proposal: Proposal | None = None,
                 history: Sequence[Snapshot] = (),
                 engine: Engine | None = None, title: str | None = None,
                 programmes: Sequence[str] = PROGRAMMES,
                 eligible_rule: str = "{programme}_eligible",
                 maturity_rule: str = "lks_maturity", locale: str = "id_ID",
                 boundaries: Boundaries | None = None) -> ReportFiles:
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
        history: the snapshots of earlier months (any order): the trend over all of them and
            this month's ``snapshot``.
        engine: used for the rule titles of the headers, the LKS levels (the ladder of
            ``maturity_rule``), the budget parameters, the boundaries of its plugins and the
            fingerprint shown when no snapshot carries one.
        title: the page title.
        programmes: the programmes to report.
        eligible_rule: the eligibility rule of a programme, ``{programme}`` filled in.
        maturity_rule: the LKS ladder rule.
        locale: the locale of the numbers and dates (Babel), ``id_ID`` by default.
        boundaries: kelurahan boundaries for the map; default: those the engine's plugins
            register (``register_boundaries``), if any.

    Returns:
        The paths written, the tables (by sheet name) and the headline figures.
    """
    import plotly.offline

    fmt = Formatter(locale)
    levels: Sequence[str] = LKS_LEVELS
    if engine is not None and maturity_rule in engine.rules:
        levels = [lv.name for lv in engine.rule(maturity_rule).levels] or LKS_LEVELS
    tables = report_tables(snapshot, reconciliation=reconciliation, institutions=institutions,
                           changes=changes, proposal=proposal, history=history,
                           programmes=programmes, eligible_rule=eligible_rule,
                           maturity_rule=maturity_rule, levels=levels)
    fingerprint: dict[str, Any] = {}
    as_of: datetime.date | None = None
    for src in (snapshot, reconciliation, proposal):
        fp = getattr(src, "fingerprint", None)
        if fp:
            fingerprint, as_of = dict(fp), getattr(src, "as_of", None)
            break
    if not fingerprint and engine is not None:
        fingerprint = engine.fingerprint(as_of)
    as_of = as_of or getattr(snapshot, "as_of", None)
    titles: dict[str, str] = {}
    if engine is not None:
        from ..explain import title_on
        from ..plan import as_of_date

        day = as_of_date(as_of)
        titles = {rid: title_on(engine, rid, day, fmt.lang) for rid in engine.rules}
    if boundaries is None and engine is not None:
        boundaries = load_boundaries(engine)
    headline = headline_figures(tables, snapshot, engine=engine, as_of=as_of, changes=changes,
                                programmes=programmes, eligible_rule=eligible_rule)
    title = title or ("Laporan bulanan bantuan sosial / Monthly social-assistance report"
                      + (f" — {fmt.date(as_of)}" if as_of else ""))
    charts = figures(tables, programmes, PROGRAMME_LABELS, titles, boundaries)
    chart_html = [{"id": c.div_id, "heading": c.heading, "note": c.note,
                   "html": c.figure.to_html(full_html=False, include_plotlyjs=False,
                                            div_id=c.div_id, default_width="100%",
                                            config={"displaylogo": False, "responsive": True})}
                  for c in charts]
    sections = _sections(tables, fmt, titles, programmes)
    evidence = [{"name": name, "rows": tables[name].num_rows} for name in DETAIL
                if name in tables]
    plugins = [f"{k} {v}".strip() for k, v in (fingerprint.get("plugins") or {}).items()]
    import markupsafe

    page = environment(_TEMPLATES).get_template("report.html.j2").render(
        title=title, as_of=fmt.date(as_of) if as_of else "", plugins=plugins,
        headline=headline, fmt=fmt, charts=[{**c, "html": markupsafe.Markup(c["html"])}
                                            for c in chart_html],
        sections=sections, evidence=evidence,
        workbook=Path(xlsx_path).name if xlsx_path else None,
        # trusted text of our own, put inside <style> and <script> as it is
        css=markupsafe.Markup((_TEMPLATES / "report.css").read_text(encoding="utf-8")),
        plotly_js=markupsafe.Markup(plotly.offline.get_plotlyjs()),
        fingerprint=json.dumps(fingerprint, indent=1, ensure_ascii=False))
    html_out = Path(html_path)
    html_out.parent.mkdir(parents=True, exist_ok=True)
    html_out.write_text(page, encoding="utf-8")
    xlsx_out = None
    if xlsx_path is not None:
        about = pa.table({"key": ["title", "as_of", "fingerprint"],
                          "value": [title, as_of.isoformat() if as_of else "",
                                    json.dumps(fingerprint, ensure_ascii=False)]})
        xlsx_out = write_workbook(xlsx_path, {"about": about, "headline": _headline_table(
            headline), **tables})
    return ReportFiles(html=html_out, xlsx=xlsx_out, tables=tables, headline=headline)


def _headline_table(h: Mapping[str, Any]) -> pa.Table:
    """The headline figures as a sheet: figure, programme, value (numbers typed)."""
    rows: list[dict[str, Any]] = []

    def add(figure: str, value: Any, programme: str = "") -> None:
        if value is not None:
            rows.append({"figure": figure, "programme": programme, "value": float(value)})

    add("households", h.get("households"))
    add("persons", h.get("persons"))
    for p in h.get("programmes", []):
        for k in ("eligible", "receiving", "eligible_not_receiving", "receiving_not_eligible",
                  "unknown", "budget_month", "budget_year"):
            add(k, p.get(k), p["label"])
    add("budget_month", h.get("budget_month"), "all")
    add("budget_year", h.get("budget_year"), "all")
    add("error findings", h["errors"]["findings"])
    add("records with errors", h["errors"]["records"])
    for lv in h.get("lks", []):
        add(f"LKS {lv['level']}", lv["count"])
    return pa.Table.from_pylist(rows, schema=pa.schema([("figure", pa.string()),
                                                        ("programme", pa.string()),
                                                        ("value", pa.float64())]))


def _sections(tables: Mapping[str, pa.Table], fmt: Formatter, titles: Mapping[str, str],
              programmes: Sequence[str]) -> list[dict[str, Any]]:
    """The summary tables of the page, in reading order (the evidence stays in the
    workbook)."""
    out: list[dict[str, Any]] = []
    el = tables.get("eligibility by kelurahan")
    if el is not None:
        progs = [p for p in programmes if f"{p}_eligible" in el.column_names]
        place = [c for c in ("kecamatan", "kelurahan") if c in el.column_names]
        main_cols = [*place, "households", *(f"{p}_{s}" for p in progs
                                             for s in ("eligible", "recipients"))]
        gap_cols = [*place, *(f"{p}_{s}" for p in progs
                              for s in ("eligible_not_receiving", "receiving_not_eligible",
                                        "unknown"))]
        sub = "kecamatan" if "kecamatan" in place else None
        out.append({"id": "table-eligibility", "heading": "Keluarga layak dan penerima per "
                    "kelurahan", "sheet": "eligibility by kelurahan",
                    "table": _page_table(el, fmt, titles, programmes, columns=main_cols,
                                         subtotal_by=sub, total_label="Jumlah kota")})
        out.append({"id": "table-gaps", "heading": "Perlu tindak lanjut: layak belum "
                    "menerima, menerima tidak layak, belum dapat dinilai",
                    "sheet": "eligibility by kelurahan",
                    "table": _page_table(el, fmt, titles, programmes, columns=gap_cols,
                                         subtotal_by=sub, total_label="Jumlah kota")})
    # (sheet, div id, heading, columns whose ids become titles, columns added up or None)
    simple: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...] | None]] = [
        ("findings by check", "table-findings", "Temuan per pemeriksaan (satu keluarga bisa "
         "memiliki beberapa temuan)", ("check",), ("findings",)),
        ("freed places", "table-freed", "Kuota yang dapat dialihkan (bukti 'hentikan "
         "pembayaran')", (), ("places",)),
        ("lks by maturity level", "table-lks", "LKS per tingkat kematangan", (), None),
        ("changes summary", "table-changes", "Perubahan sejak snapshot terakhir", ("rule",),
         ()),
        ("trend", "table-trend", "Tren per snapshot", (), ()),
        ("reallocation summary", "table-reallocation", "Usulan pengalihan kuota (ringkasan)",
         (), ())]
    for name, div, heading, translate, summed in simple:
        t = tables.get(name)
        if t is None:
            continue
        out.append({"id": div, "heading": heading, "sheet": name,
                    "table": _page_table(t, fmt, titles, programmes,
                                         total_label="Jumlah" if summed != () else None,
                                         sum_only=summed, translate=translate,
                                         subtotal_by="programme" if name == "freed places"
                                         else None)})
    return out
