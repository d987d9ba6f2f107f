"""Proposing who takes a freed place: ranking eligible non-recipients by need.

When reconciliation stops the payment of a family (a deceased sole member, say) its place in a
programme's quota is freed; a quota table can also give the places directly. For each programme
and kelurahan, the eligible households that do not yet receive the programme are ranked by the
priority ``score`` rule the engine evaluates (national default ``priority_score``, every weight a
parameter ``priority.weight.*`` that a regional plugin may override), and the first ones are
proposed, each with the breakdown of its score. Ties are broken deterministically: **score
descending, then desil ascending (poorer first), then household id ascending**. The output is a
list for the musyawarah kelurahan to discuss and sign — the library proposes, people decide.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
from sqlglot import exp

from ..errors import DataError
from ..masking import mask_table
from ..safecells import text_cells
from ..sqlbuild import Query, bind, query, relation, run, union_all
from ..workbook import excel_sheet_name as _sheet_name
from .duck import as_date as _as_date
from .reconcile import PROGRAMMES, Reconciliation, connect, eligible_column, to_arrow
from .snapshots import Snapshot

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["Proposal", "indicator_weights", "propose_reallocation", "write_proposal"]

#: The ranking of candidates, shared with :mod:`.allocate`: (column, order); a missing value
#: sorts last. Ties in the score go to the poorer decile, then to the smaller No. KK.
RANK_KEYS = (("score", "descending"), ("desil", "ascending"), ("id", "ascending"))
TIE_BREAK = "score desc, desil asc, household id asc"
PROGRAMME_TITLES = {"pkh": "PKH", "bpnt": "BPNT / Sembako", "pbi": "PBI-JK"}


def indicator_weights(engine: Engine, score_rule: str,
                      as_of: datetime.date) -> list[tuple[str, str, float | None]]:
    """The indicators of a score rule as ``(indicator rule id, title, weight)``; the weight is
    read as of ``as_of`` (a literal or a parameter; ``None`` when it is another expression)."""
    from ..expr import nodes as n

    rule = engine.rule(score_rule, as_of)
    if rule.kind != "score":
        raise DataError(f"rule '{score_rule}' is a {rule.kind} rule, not a score")
    out: list[tuple[str, str, float | None]] = []
    for ind in rule.indicators:
        w: float | None = None
        if isinstance(ind.weight, n.Literal) and isinstance(ind.weight.value, (int, float)):
            w = float(ind.weight.value)
        elif isinstance(ind.weight, n.Param):
            v, _ = engine.parameter(ind.weight.path).at(as_of)
            w = None if v is None else float(v)
        title = engine.rule(ind.rule, as_of).title.en or ind.rule
        out.append((ind.rule, title, w))
    return out


@attrs.frozen
class Proposal:
    """A proposed reallocation.

    Attributes:
        table: one row per proposed household (``role`` ``proposed``) and per reserve
            (``reserve``): ``programme``, ``kecamatan``, ``kelurahan``, ``role``, ``place``
            (1..places, null for a reserve), ``rank``, ``candidates``, ``household_id``
            (masked), ``head_name``, ``desil``, ``score``, ``breakdown``, ``explanation``,
            ``decision`` and ``note`` (blank, for the musyawarah), ``as_of``, ``fingerprint``;
            with ``unmask`` also ``household_id_unmasked``.
        summary: per programme and kelurahan: ``places``, ``candidates``, ``proposed``,
            ``unfilled`` (places without a candidate) and ``unscored`` (eligible candidates
            whose score is unknown: they need their data completed before they can be ranked).
        fingerprint: the engine fingerprint as of ``as_of``.
        as_of: the date of the evaluation.
        score_rule: the score rule used.
        weights: ``(indicator, title, weight)`` of the score rule.
    """

    table: pa.Table
    summary: pa.Table
    fingerprint: dict[str, Any]
    as_of: datetime.date
    score_rule: str
    weights: tuple[tuple[str, str, float | None], ...]

    def write(self, directory: str | Path, *, basename: str = "reallocation") -> list[Path]:
        """Write ``<basename>.csv`` and ``<basename>.xlsx``; see :func:`write_proposal`."""
        return write_proposal(self, directory, basename=basename)


def _places_table(places: Any, programmes: Sequence[str] | None) -> pa.Table:
    if isinstance(places, Reconciliation):
        return places.freed_places(programmes or PROGRAMMES)
    t = to_arrow(places, "places")
    missing = {"programme", "kelurahan", "places"} - set(t.column_names)
    if missing:
        raise DataError(f"the places table needs the columns programme, kelurahan, places "
                        f"(missing: {', '.join(sorted(missing))})")
    return t


#: RANK_KEYS as the sort keys of an SQL ``ORDER BY`` (a missing value last)
_RANK_ORDER = [exp.Ordered(this=exp.column(c, quoted=True), desc=o == "descending",
                           nulls_first=False) for c, o in RANK_KEYS]


def _fmt(w: float | None) -> str:
    if w is None:
        return "?"
    return str(int(w)) if float(w).is_integer() else f"{w:g}"


def propose_reallocation(engine: Engine, results: Snapshot | Any, places: Reconciliation | Any,
                         *, as_of: datetime.date | str | None = None,
                         programmes: Sequence[str] | None = None,
                         score_rule: str = "priority_score",
                         eligible_rule: str = "{programme}_eligible",
                         exclude: Reconciliation | Iterable[str] | None = None,
                         members: Any = None, reserves: int = 2,
                         unmask: bool = False) -> Proposal:
    """Propose who takes each place, per programme and kelurahan.

    Args:
        engine: the engine that evaluated ``results`` (its score rule, weights, fingerprint).
        results: a household :class:`~.snapshots.Snapshot` or a results table
            with ``id``, ``kelurahan``, ``desil``, ``receives_<programme>``, the eligibility
            rule of each programme, the score rule and (for the breakdown) its indicators.
        places: a :class:`~.reconcile.Reconciliation` (its freed places) or a
            quota table with ``programme``, ``kelurahan`` and ``places`` (and ``kecamatan``).
        as_of: the evaluation date (default: the snapshot's, else today).
        programmes: limit to these programmes (default: those in ``places``).
        score_rule: the score rule ranking candidates.
        eligible_rule: the eligibility rule of a programme, ``{programme}`` filled in.
        exclude: households never to propose; a Reconciliation excludes every household with
            a finding in it. Default: ``places`` itself when it is a Reconciliation.
        members: the persons table, to show the name of each family's head.
        reserves: how many reserves to list after the proposed households in each kelurahan.
        unmask: keep the raw household id in ``household_id_unmasked``.

    Returns:
        The :class:`Proposal`. Candidates are households whose eligibility rule is true (not
        unknown) and that do not receive the programme; ranked by score descending, desil
        ascending, household id ascending; a candidate with an unknown score is not ranked.
    """
    if isinstance(results, Snapshot):
        table = results.results
        as_of = as_of or results.as_of
    else:
        table = to_arrow(results, "results")
    as_of = _as_date(as_of)
    places_t = _places_table(places, programmes)
    if exclude is None and isinstance(places, Reconciliation):
        exclude = places
    excluded = exclude.households() if isinstance(exclude, Reconciliation) else \
        sorted(set(exclude or ()))
    progs = list(programmes) if programmes is not None else sorted(
        set(places_t["programme"].to_pylist()))
    weights = indicator_weights(engine, score_rule, as_of)
    fingerprint = engine.fingerprint(as_of)
    fp_json = json.dumps(fingerprint, sort_keys=True, ensure_ascii=False)
    cols = set(table.column_names)
    for needed in ("id", "kelurahan", score_rule):
        if needed not in cols:
            raise DataError(f"the results table has no column '{needed}'")

    with connect() as con:
        con.execute("""CREATE OR REPLACE TEMP MACRO wr_num(x) AS CASE WHEN x IS NULL THEN '?'
                       WHEN x = floor(x) THEN CAST(CAST(x AS BIGINT) AS VARCHAR)
                       ELSE CAST(round(x, 2) AS VARCHAR) END""")
        con.register("res", table)
        con.register("pl", places_t)
        con.register("excl", pa.table({"id": pa.array(excluded, pa.string())}))
        if members is not None:
            m = to_arrow(members, "members")
            con.register("mem", m)
            con.execute("""CREATE TEMP TABLE heads AS SELECT household_id, min(name) AS head_name
                           FROM mem WHERE relationship = 'head' GROUP BY household_id""")
        else:
            con.execute("CREATE TEMP TABLE heads (household_id VARCHAR, head_name VARCHAR)")
        have = [(rid, title, w) for rid, title, w in weights if rid in cols]
        pieces = [query("__title || ' ' || wr_num(__rid) || ' × ' || __weight || ' = ' "
                        "|| wr_num(__rid * __w)", title=bind(title), rid=rid, weight=bind(_fmt(w)),
                        w=bind(w) if w is not None else exp.null()) for rid, title, w in have]
        breakdown = (query("concat_ws('; ', __pieces)", pieces=pieces) if pieces
                     else exp.Literal.string(""))
        desil = exp.column("desil") if "desil" in cols else query("NULL::BIGINT")
        kec = exp.column("kecamatan") if "kecamatan" in cols else query("NULL::VARCHAR")
        pl_kec = (query("coalesce(pl.kecamatan, kel.kecamatan)")
                  if "kecamatan" in places_t.column_names else query("kel.kecamatan"))
        run(con, query("CREATE TEMP TABLE kel AS SELECT kelurahan, min(__kec) AS kecamatan "
                       "FROM res GROUP BY kelurahan", kec=kec))
        parts: list[Query] = []
        for p in progs:
            elig = eligible_column(eligible_rule, p)
            if elig not in cols:
                raise DataError(f"the results table has no column '{elig}' (eligibility for {p})")
            recv = (query("coalesce(__flag, false)", flag="receives_" + p)
                    if "receives_" + p in cols else exp.false())
            parts.append(query("""
                SELECT CAST(__p AS VARCHAR) AS programme, id, __kec AS kecamatan, kelurahan,
                       __desil AS desil, __score AS score, __breakdown AS breakdown
                FROM res
                WHERE __elig = true AND NOT __recv AND id NOT IN (SELECT id FROM excl)""",
                p=bind(p), kec=kec, desil=desil, score=score_rule, breakdown=breakdown, elig=elig,
                recv=recv))
        if not parts:  # no place was freed (a quiet month): no candidate, same columns
            parts.append(query("""
                SELECT NULL::VARCHAR AS programme, id, __kec AS kecamatan, kelurahan,
                       __desil AS desil, __score AS score, __breakdown AS breakdown
                FROM res WHERE false""", kec=kec, desil=desil, score=score_rule,
                               breakdown=breakdown))
        run(con, query("CREATE TEMP TABLE cand AS SELECT * FROM (__u)", u=union_all(parts)))
        run(con, query("""
            CREATE TEMP TABLE ranked AS
            SELECT c.*, row_number() OVER (PARTITION BY programme, kelurahan
                                           ORDER BY __rank) AS rank,
                   count(*) OVER (PARTITION BY programme, kelurahan) AS candidates,
                   count(*) OVER (PARTITION BY programme, kelurahan, score) > 1 AS tied
            FROM cand c WHERE score IS NOT NULL""", rank=_RANK_ORDER))
        out = relation(con, query("""
            SELECT r.programme, coalesce(r.kecamatan, __pl_kec) AS kecamatan, r.kelurahan,
                   CASE WHEN r.rank <= pl.places THEN 'proposed' ELSE 'reserve' END AS role,
                   CASE WHEN r.rank <= pl.places THEN r.rank END AS place,
                   r.rank, r.candidates, wr_mask(r.id) AS household_id, h.head_name, r.desil,
                   r.score, r.breakdown,
                   'rank ' || r.rank || ' of ' || r.candidates || ' eligible non-recipients of '
                   || upper(r.programme) || ' in ' || r.kelurahan || ': score ' || wr_num(r.score)
                   || CASE WHEN r.breakdown <> '' THEN ' (' || r.breakdown || ')' ELSE '' END
                   || ', desil ' || coalesce(CAST(r.desil AS VARCHAR), '?')
                   || CASE WHEN r.tied THEN '; same score as another candidate: order by desil, '
                                            || 'then No. KK' ELSE '' END AS explanation,
                   '' AS decision, '' AS note, CAST(__as_of AS DATE) AS as_of,
                   CAST(__fingerprint AS VARCHAR) AS fingerprint, __raw
            FROM ranked r JOIN pl ON pl.programme = r.programme AND pl.kelurahan = r.kelurahan
            LEFT JOIN heads h ON h.household_id = r.id
            LEFT JOIN kel ON kel.kelurahan = r.kelurahan
            WHERE r.rank <= pl.places + CAST(__reserves AS BIGINT)
            ORDER BY r.programme, kecamatan, r.kelurahan, r.rank""",
            pl_kec=pl_kec, as_of=bind(as_of), fingerprint=bind(fp_json),
            reserves=bind(int(reserves)),
            raw=[query("r.id AS household_id_unmasked")] if unmask else [])).to_arrow_table()
        summary = relation(con, query("""
            WITH c AS (SELECT programme, kelurahan, count(*) FILTER (WHERE score IS NOT NULL) AS n,
                              count(*) FILTER (WHERE score IS NULL) AS unscored
                       FROM cand GROUP BY ALL)
            SELECT pl.programme, __pl_kec AS kecamatan, pl.kelurahan, pl.places,
                   coalesce(c.n, 0) AS candidates, least(pl.places, coalesce(c.n, 0)) AS proposed,
                   pl.places - least(pl.places, coalesce(c.n, 0)) AS unfilled,
                   coalesce(c.unscored, 0) AS unscored
            FROM pl LEFT JOIN c ON c.programme = pl.programme AND c.kelurahan = pl.kelurahan
            LEFT JOIN kel ON kel.kelurahan = pl.kelurahan
            WHERE list_contains(CAST(__progs AS VARCHAR[]), pl.programme)
            ORDER BY pl.programme, kecamatan, pl.kelurahan""",
            pl_kec=pl_kec, progs=bind(list(progs)))).to_arrow_table()
        return Proposal(table=out, summary=summary, fingerprint=fingerprint, as_of=as_of,
                        score_rule=score_rule, weights=tuple(weights))


# -- the list for the musyawarah ------------------------------------------------------------

SIGNATORIES = (
    ("Lurah", "Head of the kelurahan"),
    ("Ketua LKKS / TKSK", "Chair of the LKKS / sub-district social worker"),
    ("Pendamping sosial PKH", "PKH social facilitator"),
    ("Wakil warga (RT/RW)", "Residents' representative (RT/RW)"),
)
SHOWN = ("programme", "role", "place", "rank", "candidates", "household_id", "head_name",
         "desil", "score", "breakdown", "explanation", "decision", "note")


def write_proposal(proposal: Proposal, directory: str | Path, *,
                   basename: str = "reallocation") -> list[Path]:
    """Write the proposal for the musyawarah kelurahan.

    ``<basename>.csv`` holds every row (masked ids, blank ``decision`` and ``note`` columns).
    ``<basename>.xlsx`` has a summary sheet, then one sheet per kelurahan: a heading saying that
    the list is a proposal for the musyawarah to decide, the engine fingerprint, the ranked
    households with the breakdown of their score, and a signature block (date, minutes number,
    and name and signature of the lurah, the LKKS/TKSK chair, the PKH facilitator and a
    residents' representative).

    Returns:
        The two paths written.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side

    from ..safecells import save_workbook, write_csv

    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(proposal.table, out / f"{basename}.csv")
    xlsx_path = out / f"{basename}.xlsx"
    wb = Workbook()
    ws = wb.active
    ws.title = "Ringkasan"
    bold = Font(bold=True)
    fp = proposal.fingerprint
    info = (f"as_of {proposal.as_of.isoformat()} · rules digest {fp.get('digest')} · plugins "
            + ", ".join(f"{k} {v}".strip() for k, v in (fp.get("plugins") or {}).items()))
    ws.append(["Usulan realokasi kuota bantuan sosial / Proposed reallocation of places"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([info])
    ws.append(["Urutan / order: skor tertinggi, lalu desil terendah, lalu No. KK "
               f"({TIE_BREAK}). Skor / score: {proposal.score_rule} = " + " + ".join(
                   f"{_fmt(w)} × {title}" for _, title, w in proposal.weights)])
    ws.append([])
    summary = mask_table(proposal.summary)
    _append_table(ws, summary, bold)
    rows = mask_table(proposal.table).to_pylist()
    by_kel: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        by_kel.setdefault((r["kecamatan"] or "", r["kelurahan"]), []).append(r)
    for kel_key in sorted({(r["kecamatan"] or "", r["kelurahan"])
                           for r in summary.to_pylist()} | set(by_kel)):
        kec, kel = kel_key
        sheet = wb.create_sheet(_sheet_name(kel, wb.sheetnames))
        sheet.append(text_cells(sheet, [f"Usulan untuk musyawarah kelurahan {kel}"
                                        + (f", kecamatan {kec}" if kec else "")]))
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append(["Daftar ini USULAN dari perangkat lunak, bukan keputusan: musyawarah "
                      "kelurahan memutuskan. / This list is a PROPOSAL: the library proposes, "
                      "people decide."])
        sheet["A2"].font = bold
        sheet.append([info])
        sheet.append([f"Urutan / order: {TIE_BREAK}"])
        sheet.append([])
        sheet.append(list(SHOWN))
        for c in sheet[sheet.max_row]:
            c.font = bold
        for r in by_kel.get(kel_key, []):
            sheet.append(text_cells(sheet, [r.get(k) for k in SHOWN]))
        for col, width in zip("ABCDEFGHIJKLM", (10, 10, 7, 7, 10, 20, 24, 7, 8, 60, 70, 14, 24),
                              strict=True):
            sheet.column_dimensions[col].width = width
        for row in sheet.iter_rows(min_row=7, max_row=sheet.max_row):
            for c in row:
                c.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.append([])
        sheet.append(["Ditetapkan dalam musyawarah kelurahan / Decided by the musyawarah "
                      "kelurahan"])
        sheet[f"A{sheet.max_row}"].font = bold
        sheet.append(["Tanggal / date:", "", "", "Nomor berita acara / minutes no.:"])
        sheet.append([])
        sheet.append(["Jabatan / role", "", "", "Nama / name", "", "",
                      "Tanda tangan / signature"])
        for c in sheet[sheet.max_row]:
            c.font = bold
        line = Border(bottom=Side(style="thin"))
        for id_role, en_role in SIGNATORIES:
            sheet.append([f"{id_role} / {en_role}"])
            sheet.row_dimensions[sheet.max_row].height = 36
            for col in ("D", "E", "F", "G", "H", "I"):
                sheet[f"{col}{sheet.max_row}"].border = line
    save_workbook(wb, xlsx_path)
    return [csv_path, xlsx_path]


def _append_table(ws: Any, table: pa.Table, bold: Any) -> None:
    ws.append(list(table.column_names))
    for c in ws[ws.max_row]:
        c.font = bold
    for r in table.to_pylist():
        ws.append(text_cells(ws, r.values()))


def quota_table(rows: Mapping[tuple[str, str], int]) -> pa.Table:
    """A places table from ``{(programme, kelurahan): places}``."""
    keys = sorted(rows)
    return pa.table({"programme": [k[0] for k in keys], "kelurahan": [k[1] for k in keys],
                     "places": pa.array([rows[k] for k in keys], pa.int64())})
