"""Allocating a programme's quota: who gets a place, who waits, who is not eligible, and why.

A Dinas Sosial receives a quota per kelurahan; a lower decile does not guarantee aid, and
recipients rotate within the quota (domain.md §2.4). :func:`allocate` takes batch results and,
per group (kelurahan by default), ranks the eligible households by the priority score (national
default ``priority_score``) with the ties broken as the reallocation proposal does
(:data:`~welfare_rules.recipients.reallocate.RANK_KEYS`: score descending, desil ascending,
No. KK ascending; an unknown score ranks last). The first ``quota`` are ``allocated``, the rest
are on the ``waitlist`` in rank order, and every household whose eligibility is false or
unknown is ``not_eligible`` with the criteria that failed (or need verification).

Rotation, when asked for (``rotation="keep"``), places current recipients who are still
eligible first, unless they have received the programme for ``max_tenure`` years or more
(parameter ``allocation.max_tenure_years``, unset nationally): they then compete by priority
like anyone else. With the start dates of receipt (``since``), a recipient who has received
the programme for ``allocation.review_years`` (5, UNVERIFIED, from the DTSEN era) is marked
due for review. Every row carries a reason in Indonesian or English, and
:meth:`Allocation.explain` answers "why am I on the waitlist?". The list is a proposal for the
musyawarah kelurahan: the library proposes, people decide.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import DataError
from .reallocate import PROGRAMME_TITLES, RANK_KEYS, TIE_BREAK

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["STATUSES", "Allocation", "allocate"]

STATUSES = ("allocated", "waitlist", "not_eligible")
_TEXT = {
    "id": {
        "allocated": "Mendapat kuota {P} di {by} {g}: peringkat {rank} dari {n} rumah tangga "
                     "yang memenuhi syarat, kuota {q}; skor {s}.",
        "waitlist": "Daftar tunggu {P} nomor {w} di {by} {g} (peringkat {rank} dari {n}): kuota "
                    "{q} sudah terisi oleh rumah tangga dengan prioritas lebih tinggi; skor {s}, "
                    "skor terendah yang mendapat kuota menurut prioritas {m}.",
        "no_quota": "Daftar tunggu {P} nomor {w} di {by} {g}: tidak ada kuota untuk {g}.",
        "all_kept": "Daftar tunggu {P} nomor {w} di {by} {g} (peringkat {rank} dari {n}): "
                    "kuota {q} seluruhnya diisi penerima saat ini (rotasi); skor {s}.",
        "not_eligible": "Tidak memenuhi syarat {P}; tidak terpenuhi: {why}.",
        "unknown": "Kelayakan {P} belum dapat ditentukan; perlu verifikasi: {why}.",
        "kept": " Penerima saat ini, didahulukan (rotasi).",
        "tenure_out": " Penerima saat ini, sudah {t} tahun (batas {x} tahun): bersaing menurut "
                      "prioritas.",
        "review": " Sudah {t} tahun menerima: waktunya peninjauan ulang ({r} tahun).",
        "tie": " Skor sama dengan rumah tangga lain: urutan menurut desil, lalu No. KK.",
        "unscored": " Skor prioritas belum diketahui: lengkapi data agar dapat diperingkat.",
        "kept_places": " {k} tempat diisi penerima saat ini (rotasi).",
        "not_true": "syarat {P} tidak terpenuhi",
    },
    "en": {
        "allocated": "Allocated a {P} place in {by} {g}: rank {rank} of {n} eligible "
                     "households, quota {q}; score {s}.",
        "waitlist": "Waitlist no. {w} for {P} in {by} {g} (rank {rank} of {n}): the quota of "
                    "{q} is filled by households of higher priority; score {s}, lowest "
                    "score allocated by priority {m}.",
        "no_quota": "Waitlist no. {w} for {P} in {by} {g}: there is no quota for {g}.",
        "all_kept": "Waitlist no. {w} for {P} in {by} {g} (rank {rank} of {n}): the quota of "
                    "{q} is held by current recipients (rotation); score {s}.",
        "not_eligible": "Not eligible for {P}; not met: {why}.",
        "unknown": "Eligibility for {P} unknown; needs verification: {why}.",
        "kept": " Current recipient, kept first (rotation).",
        "tenure_out": " Current recipient for {t} years (limit {x}): competes by priority.",
        "review": " Has received it for {t} years: due for the {r}-year review.",
        "tie": " Same score as another household: ordered by desil, then No. KK.",
        "unscored": " Priority score unknown: complete the data to be ranked.",
        "kept_places": " {k} places are held by current recipients (rotation).",
        "not_true": "the {P} conditions do not hold",
    },
}


@attrs.frozen
class Allocation:
    """A quota allocation (see :func:`allocate`).

    Attributes:
        table: one row per household: ``id``, the ``by`` column, ``status`` (allocated,
            waitlist, not_eligible), ``rank`` (among the eligible of its group; null when not
            eligible), ``waitlist`` (position on the waitlist), ``reason``, ``score``,
            ``desil``, ``current`` (receives the programme now), ``tenure_years``, ``review``
            (due for review), ``kept`` (kept first by rotation), ``eligibility`` (true, false,
            unknown) and ``unmet`` (the criteria false, or unknown when the eligibility is).
        summary: per group: ``quota``, ``eligible``, ``allocated``, ``waitlist``,
            ``not_eligible``, ``unknown`` (of the not eligible: eligibility unknown),
            ``unfilled`` (places without an eligible household).
        programme, by, priority, as_of, lang: what was allocated, how and when.
        rotation: ``None`` or ``"keep"``; max_tenure and review_years as applied.
        fingerprint: the engine fingerprint (empty without an engine).
        criteria: the eligibility criteria's titles, ``{rule id: {"id": ..., "en": ...}}``.
    """

    table: pa.Table
    summary: pa.Table
    programme: str
    by: str
    priority: str
    as_of: datetime.date | None
    lang: str
    rotation: str | None
    max_tenure: int | None
    review_years: int | None
    fingerprint: Mapping[str, Any]
    criteria: Mapping[str, Mapping[str, str]] = attrs.field(factory=dict)

    def to_arrow(self) -> pa.Table:
        """The per-household table."""
        return self.table

    def to_pandas(self) -> Any:
        """The per-household table as a pandas DataFrame."""
        return self.table.to_pandas()

    def row(self, household_id: str) -> dict[str, Any]:
        """The row of one household.

        Raises:
            KeyError: no such household.
        """
        rows = self.table.filter(pc.equal(self.table.column("id"), str(household_id)))
        if rows.num_rows == 0:
            from ..masking import mask_id

            raise KeyError(f"household {mask_id(str(household_id))} is not in the allocation")
        out: dict[str, Any] = rows.slice(0, 1).to_pylist()[0]
        return out

    def explain(self, household_id: str, lang: str | None = None) -> str:
        """Why this household is allocated, on the waitlist or not eligible (``id``/``en``)."""
        r = self.row(household_id)
        if lang is None or lang == self.lang:
            return str(r["reason"])
        i = pc.index(self.table.column("id"), str(household_id)).as_py()
        return _reasons(self.table, self.summary, self, lang, only=[i])[0]

    def write_xlsx(self, path: str | Path, *, unmask: bool = False) -> Path:
        """A workbook: what was allocated and how, the summary per group, then the households
        (ids masked; ``unmask`` adds ``id_unmasked``)."""
        from ..workbook import write_workbook

        table = self.table
        if unmask:
            table = table.append_column("id_unmasked", table.column("id"))
        about = pa.table({"item": ["programme", "by", "priority", "order", "as_of", "rotation",
                                   "max_tenure_years", "review_years", "rules digest", "note"],
                          "value": [self.programme, self.by, self.priority, TIE_BREAK,
                                    str(self.as_of or "-"), self.rotation or "-",
                                    str(self.max_tenure or "-"), str(self.review_years or "-"),
                                    str(self.fingerprint.get("digest", "-")),
                                    "A proposal for the musyawarah kelurahan: the library "
                                    "proposes, people decide."]})
        return write_workbook(path, {"about": about, "summary": self.summary,
                                     "allocation": table})  # written masked

    def write_html(self, path: str | Path) -> Path:
        """A standalone page: allocated and waitlisted households per group as a chart and
        the summary table."""
        out = Path(path)
        out.write_text(render_html(self, standalone=True), encoding="utf-8")
        return out

    def _repr_html_(self) -> str:
        return render_html(self, standalone=False)

    def __repr__(self) -> str:
        counts = {s: int(pc.sum(pc.equal(self.table.column("status"), s)).as_py() or 0)
                  for s in STATUSES}
        return (f"<Allocation {self.programme} by {self.by}: "
                + ", ".join(f"{k} {v}" for k, v in counts.items()) + ">")


def render_html(alloc: Allocation, *, standalone: bool) -> str:
    """The allocation as HTML (template ``allocate.html.j2``) with a chart per group."""
    from ..reports.charts import bar_chart, template

    rows = alloc.summary.to_pylist()
    chart = bar_chart([{"label": r[alloc.by], "a": r["allocated"], "b": r["waitlist"]}
                       for r in rows], ("allocated", "waitlist"))
    return str(template("allocate.html.j2").render(
        standalone=standalone, programme=_title(alloc.programme), by=alloc.by,
        as_of=str(alloc.as_of or "-"), order=TIE_BREAK, rotation=alloc.rotation,
        chart=chart, columns=alloc.summary.column_names, rows=rows))


def _title(programme: str) -> str:
    return PROGRAMME_TITLES.get(programme, programme.upper())


# ---------------------------------------------------------------------------------------------


def allocate(result: Any, programme: str, quota: Mapping[Any, int] | int, *,
             by: str = "kelurahan", priority: str = "priority_score",
             engine: Engine | None = None, as_of: datetime.date | None = None,
             rotation: str | None = None, current: str | None = None,
             since: str | Mapping[str, datetime.date] | None = None,
             max_tenure: int | None = None, lang: str = "id") -> Allocation:
    """Allocate ``quota`` places of ``programme`` per group.

    Args:
        result: a :class:`~welfare_rules.batch.BatchResult` (its engine and ``as_of`` are
            used) or a results table (Arrow, pandas, polars) with ``id``, the ``by`` column,
            ``<programme>_eligible`` (and its ``__status``) and the ``priority`` column; the
            criteria's ``__status`` columns and ``desil`` when present.
        programme: ``pkh``, ``bpnt``, ``pbi`` or a plugin's programme id.
        quota: places per group (``{"Klego": 40, ...}``; a group not named has none) or one
            number for every group.
        by: the group column (carried by the batch: ``carry=[...]``).
        priority: the score column ranking the eligible (higher first).
        engine: for rule titles in the reasons and the parameters (default: the result's).
        as_of: the date tenure is counted to (default: the result's).
        rotation: ``None`` (priority only) or ``"keep"``: current recipients who are still
            eligible first, unless their tenure reached ``max_tenure``.
        current: the column saying who receives the programme now (default
            ``receives_<programme>``; needed with ``rotation="keep"``).
        since: when each current recipient started receiving: a column of ``result`` or a
            mapping ``{id: date}``; gives ``tenure_years`` and the review flag.
        max_tenure: years after which a current recipient is no longer kept first (default:
            the parameter ``allocation.max_tenure_years``, unset nationally).
        lang: language of the reasons (``id`` or ``en``).

    Raises:
        DataError: a missing column, a bad quota, an unknown rotation.
    """
    eng = engine if engine is not None else getattr(result, "engine", None)
    day = as_of if as_of is not None else getattr(result, "as_of", None)
    table = _table(result)
    if lang not in _TEXT:
        raise DataError(f"lang must be 'id' or 'en', found {lang!r}")
    if rotation not in (None, "keep"):
        raise DataError(f"rotation must be None or 'keep', found {rotation!r}")
    elig = f"{programme}_eligible"
    status_col = elig + "__status"
    for needed in ("id", by, priority):
        if needed not in table.column_names:
            hint = " (evaluate_batch(..., carry=[...]) carries input columns)" \
                if needed == by else ""
            raise DataError(f"the results have no column '{needed}'{hint}")
    if elig not in table.column_names and status_col not in table.column_names:
        raise DataError(f"the results have no column '{elig}': is '{programme}' a programme?")
    n = table.num_rows
    status = _eligibility(table, elig, status_col)
    cur_name = current or f"receives_{programme}"
    if rotation == "keep" and cur_name not in table.column_names:
        raise DataError(f"rotation='keep' needs the current recipients: no column '{cur_name}'"
                        f" (evaluate_batch(..., carry=[..., '{cur_name}']))")
    cur = pc.fill_null(pc.cast(table.column(cur_name), pa.bool_()), False) \
        if cur_name in table.column_names else pa.nulls(n, pa.bool_())
    tenure = _tenure(table, since, day)
    if max_tenure is None and eng is not None and day is not None:
        max_tenure = _param(eng, "allocation.max_tenure_years", day)
    review_years = _param(eng, "allocation.review_years", day) if eng is not None and \
        day is not None else None
    eligible = pc.equal(status, "true")
    kept = pa.array([False] * n, pa.bool_())
    if rotation == "keep":
        under = pc.fill_null(pc.less(tenure, max_tenure), True) if max_tenure is not None \
            else pa.array([True] * n, pa.bool_())
        kept = pc.and_(pc.and_(eligible, pc.fill_null(cur, False)), under)
    quotas = _quotas(quota, table.column(by))
    score = table.column(priority)
    desil = table.column("desil") if "desil" in table.column_names else pa.nulls(n, pa.int64())
    ids = pc.cast(table.column("id"), pa.string())
    # the sort keys of RANK_KEYS with a missing value last (as NULLS LAST in reallocate)
    keys = {"score": pc.fill_null(pc.cast(score, pa.float64()), -float("inf")),
            "desil": pc.fill_null(pc.cast(desil, pa.float64()), float("inf")),
            "id": pc.fill_null(ids, "")}
    work = pa.table({"kept": kept, **keys, "i": pa.array(range(n), pa.int64())})
    # the eligible in priority order (kept recipients first), then numbered per group
    ranked = work.filter(eligible)
    ranked = ranked.take(pc.sort_indices(ranked, sort_keys=[("kept", "descending"),
                                                            *RANK_KEYS]))
    rank: list[int | None] = [None] * n
    wait: list[int | None] = [None] * n
    stat = ["not_eligible"] * n
    group_of = table.column(by).to_pylist()
    seen: dict[Any, int] = {}
    for i in ranked.column("i").to_pylist():
        g = group_of[i]
        k = seen[g] = seen.get(g, 0) + 1
        rank[i] = k
        q = quotas.get(g, 0)
        if k <= q:
            stat[i] = "allocated"
        else:
            stat[i] = "waitlist"
            wait[i] = k - q
    review = pa.nulls(n, pa.bool_())
    if review_years is not None:
        review = pc.and_(pc.fill_null(cur, False), pc.greater_equal(tenure, review_years))
    out = pa.table({
        "id": ids, by: table.column(by), "status": pa.array(stat, pa.string()),
        "rank": pa.array(rank, pa.int64()), "waitlist": pa.array(wait, pa.int64()),
        "score": score, "desil": desil, "eligibility": status, "current": cur,
        "kept": kept, "tenure_years": tenure, "review": review,
    })
    titles = _criteria(programme, table, eng, day)
    out = out.append_column("unmet", _unmet(table, status, titles))
    summary = _summary(out, by, quotas)
    alloc = Allocation(out, summary, programme, by, priority, day, lang, rotation, max_tenure,
                       review_years, eng.fingerprint(day) if eng is not None else {}, titles)
    reasons = _reasons(out, summary, alloc, lang)
    out = out.append_column("reason", pa.array(reasons, pa.string()))
    cols = ["id", by, "status", "rank", "waitlist", "reason", "score", "desil", "current",
            "tenure_years", "review", "kept", "eligibility", "unmet"]
    return attrs.evolve(alloc, table=out.select(cols))


def _table(result: Any) -> pa.Table:
    if hasattr(result, "to_arrow") and callable(result.to_arrow):
        t: pa.Table = result.to_arrow()
        return t
    if isinstance(result, pa.Table):
        return result
    mod = type(result).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(result, preserve_index=False)
    if mod.startswith("polars"):
        t = result.to_arrow()
        return t
    raise DataError(f"allocate needs batch results or a results table, found "
                    f"{type(result).__name__}")


def _eligibility(table: pa.Table, elig: str, status_col: str) -> pa.Array:
    if status_col in table.column_names:
        st = pc.cast(table.column(status_col), pa.string())
        known = pc.fill_null(pc.is_in(st, pa.array(["true", "false"])), False)
        return pc.if_else(known, st, pa.scalar("unknown"))
    v = table.column(elig)
    return pc.if_else(pc.is_null(v), "unknown", pc.if_else(v, "true", "false"))


def _quotas(quota: Mapping[Any, int] | int, groups: Any) -> dict[Any, int]:
    def check(name: Any, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise DataError(f"quota for {name!r}: expected a whole number ≥ 0, found {v!r}")
        return v

    if isinstance(quota, Mapping):
        return {g: check(g, v) for g, v in quota.items()}
    n = check("every group", quota)
    return dict.fromkeys(pc.unique(groups).to_pylist(), n)


def _param(eng: Engine, name: str, day: datetime.date) -> int | None:
    p = eng.parameters.get(name)
    if p is None:
        return None
    v, _ = p.at(day)
    return None if v is None else int(v)


def _tenure(table: pa.Table, since: Any, day: datetime.date | None) -> pa.Array:
    n = table.num_rows
    if since is None:
        return pa.nulls(n, pa.int64())
    if day is None:
        raise DataError("since needs as_of (the date tenure is counted to)")
    if isinstance(since, str):
        if since not in table.column_names:
            raise DataError(f"since: the results have no column '{since}'")
        dates = table.column(since).to_pylist()
    else:
        ids = table.column("id").to_pylist()
        dates = [since.get(str(i)) for i in ids]
    out: list[int | None] = []
    for i, d in enumerate(dates):
        if d is None:
            out.append(None)
            continue
        if not isinstance(d, datetime.date):
            raise DataError(f"since: row {i + 1}: expected a date, found {d!r}")
        years = day.year - d.year - ((day.month, day.day) < (d.month, d.day))
        out.append(max(years, 0))
    return pa.array(out, pa.int64())


def _summary(out: pa.Table, by: str, quotas: Mapping[Any, int]) -> pa.Table:
    groups = sorted(set(out.column(by).to_pylist()) | set(quotas),
                    key=lambda g: (g is None, str(g)))
    st = out.column("status").to_pylist()
    el = out.column("eligibility").to_pylist()
    counts: dict[Any, dict[str, int]] = {g: dict.fromkeys(
        ("eligible", "allocated", "waitlist", "not_eligible", "unknown"), 0) for g in groups}
    for g, s, e in zip(out.column(by).to_pylist(), st, el, strict=True):
        c = counts[g]
        c[s] += 1
        c["eligible"] += s != "not_eligible"
        c["unknown"] += e == "unknown"
    rows = []
    for g in groups:
        c = counts[g]
        q = quotas.get(g, 0)
        rows.append({by: g, "quota": q, **c, "unfilled": max(q - c["allocated"], 0)})
    return pa.Table.from_pylist(rows, schema=pa.schema([
        (by, out.schema.field(by).type), ("quota", pa.int64()), ("eligible", pa.int64()),
        ("allocated", pa.int64()), ("waitlist", pa.int64()), ("not_eligible", pa.int64()),
        ("unknown", pa.int64()), ("unfilled", pa.int64())]))


def _reasons(out: pa.Table, summary: pa.Table, alloc: Allocation, lang: str, *,
             only: list[int] | None = None) -> list[str]:
    """The reason of each row (or of the rows ``only``), from the whole allocation."""
    w = _TEXT[lang]
    by = alloc.by
    prog = _title(alloc.programme)
    sums = {r[by]: r for r in summary.to_pylist()}
    rows = out.to_pylist()
    lowest: dict[Any, Any] = {}
    kept_n: dict[Any, int] = {}
    scores: dict[tuple[Any, Any], int] = {}
    for r in rows:
        if r["status"] == "allocated":
            g = r[by]
            if r["score"] is not None and not r["kept"] and (g not in lowest
                                                             or r["score"] < lowest[g]):
                lowest[g] = r["score"]
            kept_n[g] = kept_n.get(g, 0) + bool(r["kept"])
        if r["status"] != "not_eligible":
            scores[(r[by], r["score"])] = scores.get((r[by], r["score"]), 0) + 1
    reasons = []
    for i in only if only is not None else range(len(rows)):
        r = rows[i]
        g, s = r[by], r["status"]
        sm = sums.get(g, {})
        fmt = {"P": prog, "by": by, "g": g, "rank": r["rank"], "n": sm.get("eligible", 0),
               "q": sm.get("quota", 0), "w": r["waitlist"], "s": _n(r["score"]),
               "m": _n(lowest.get(g)), "t": r["tenure_years"], "x": alloc.max_tenure,
               "r": alloc.review_years, "k": kept_n.get(g, 0)}
        if s == "allocated":
            text = w["allocated"].format(**fmt)
            if r["kept"]:
                text += w["kept"]
        elif s == "waitlist":
            key = "waitlist" if g in lowest or not kept_n.get(g) else "all_kept"
            text = w[key if sm.get("quota", 0) else "no_quota"].format(**fmt)
            if r["score"] is None:
                text += w["unscored"]
            elif scores.get((g, r["score"]), 0) > 1:
                text += w["tie"]
            if r["kept"]:
                text += w["kept"]
            elif kept_n.get(g) and key == "waitlist":
                text += w["kept_places"].format(**fmt)
        else:
            unknown = r["eligibility"] == "unknown"
            titles = [alloc.criteria.get(c, {}).get(lang) or c
                      for c in (r["unmet"] or "").split(",") if c]
            why = "; ".join(titles) or w["not_true"].format(**fmt)
            text = w["unknown" if unknown else "not_eligible"].format(**fmt, why=why)
        if r["current"] and r["tenure_years"] is not None and alloc.rotation == "keep" and \
                alloc.max_tenure is not None and r["tenure_years"] >= alloc.max_tenure and \
                s != "not_eligible":
            text += w["tenure_out"].format(**fmt)
        if r["review"]:
            text += w["review"].format(**fmt)
        reasons.append(text)
    return reasons


def _criteria(programme: str, source: pa.Table, eng: Engine | None,
              day: datetime.date | None) -> dict[str, dict[str, str]]:
    """The eligibility rule's named criteria that ``source`` has a status for, with their
    titles (the rule id when there is no engine)."""
    elig = f"{programme}_eligible"
    if eng is not None and elig in eng.rules:
        children = list(eng.rule(elig, day).children)
    else:
        prefix = f"{programme}_"
        children = [c[: -len("__status")] for c in source.column_names
                    if c.startswith(prefix) and c.endswith("__status") and c != elig + "__status"]
    out: dict[str, dict[str, str]] = {}
    for c in children:
        if f"{c}__status" not in source.column_names:
            continue
        title = eng.rule(c, day).title if eng is not None else None
        out[c] = {"id": title.get("id") if title else c, "en": title.get("en") if title else c}
    return out


def _unmet(source: pa.Table, status: pa.Array, criteria: Mapping[str, Any]) -> pa.Array:
    """Per row: the criteria that are false (or unknown, when the eligibility is unknown)."""
    st = status.to_pylist()
    cols = {c: source.column(f"{c}__status").to_pylist() for c in criteria}
    out: list[str | None] = []
    for i, s in enumerate(st):
        if s == "true":
            out.append(None)
            continue
        want = "unknown" if s == "unknown" else "false"
        out.append(",".join(c for c, v in cols.items() if _st(v[i]) == want) or None)
    return pa.array(out, pa.string())


def _st(v: Any) -> str:
    return "unknown" if v not in ("true", "false") else str(v)


def _n(v: Any) -> str:
    if v is None:
        return "?"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)
