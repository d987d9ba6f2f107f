"""CLI commands of planning: ``impact`` (a reform's cost, gainers and losers) and ``allocate``
(a programme's quota per kelurahan, with a waitlist).

Registered on the main ``welfare-rules`` group by :func:`register`. Exit codes follow the CLI:
0 done, 2 bad input with a one-line reason on stderr. Both commands can write the result as
XLSX (ids masked) and as an HTML page with a chart.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .cli_kit import (
    BadInput,
    Ui,
    backend_option,
    command_options,
    parse_as_of,
    settle_option,
)
from .formatting import number

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

_HEADERS = {
    "id": {"programme": "program", "households": "keluarga",
           "eligible_before": "layak sebelum", "eligible_after": "layak sesudah",
           "gainers": "bertambah", "losers": "berkurang", "cost_before": "biaya/thn sebelum",
           "cost_after": "biaya/thn sesudah", "unknown_before": "belum pasti sebelum",
           "unknown_after": "belum pasti sesudah", "quota": "kuota", "eligible": "layak",
           "allocated": "mendapat", "waitlist": "daftar tunggu", "not_eligible": "tidak layak",
           "unknown": "belum pasti", "unfilled": "kuota kosong"},
    "en": {"cost_before": "cost/yr before", "cost_after": "cost/yr after"},
}


def _reform(reform: str | None, sets: Sequence[str]) -> Any:
    from .reform import load_reform, parse_setting, reform_from_settings

    if reform and sets:
        raise BadInput("give --reform FILE or --set name=value, not both (put the values in "
                       "the reform file)")
    if reform:
        return load_reform(reform)
    if sets:
        return reform_from_settings(dict(parse_setting(s) for s in sets))
    return None


def _read(ui: Ui, engine: Any, data: str, members: str | None, adapter: str | None) -> Any:
    loaded = engine.read(data, adapter=adapter, entity="household", members=members,
                         progress=None if ui.progress else False)
    ui.set(read={"read": loaded.rows_read, "valid": loaded.rows_valid,
                 "quarantined": loaded.rows_quarantined})
    ui.info(f"read {data}" + (f" and {members}" if members else "") + f": {loaded.summary()}")
    return loaded


def read_quota(spec: str, by: str) -> dict[Any, int] | int:
    """``--quota``: a whole number (every group), or a CSV (columns ``<by>`` and ``quota``)
    or YAML (``{group: n}``) file.

    Raises:
        BadInput: not a number or a readable file; a row without a whole number ≥ 0.
    """
    text = spec.strip()
    if text.isdigit():
        return int(text)
    p = Path(spec)
    if not p.is_file():
        raise BadInput(f"--quota expects a whole number or a CSV/YAML file, found {spec!r}")
    if p.suffix.lower() in (".yaml", ".yml"):
        from ._yaml import load_yaml_file

        data, pos = load_yaml_file(p)
        if not isinstance(data, dict):
            raise BadInput(f"{p}: expected a mapping {{{by}: places}}")
        out: dict[Any, int] = {}
        for k, v in data.items():
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise BadInput(f"{pos.get((k,))}: quota for {k!r} must be a whole number ≥ 0, "
                               f"found {v!r}")
            out[k] = v
        return out
    import csv

    with p.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        cols = reader.fieldnames or []
        if by not in cols or "quota" not in cols:
            raise BadInput(f"{p}: expected the columns '{by}' and 'quota', found "
                           f"{', '.join(cols) or 'none'}")
        out = {}
        for i, row in enumerate(reader, start=2):
            v = (row.get("quota") or "").strip()
            if not v.isdigit():
                raise BadInput(f"{p}:{i}: quota for {row.get(by)!r} must be a whole number "
                               f"≥ 0, found {v!r}")
            out[row[by]] = int(v)
    return out


def _outputs(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--xlsx FILE`` and ``--html FILE`` of both commands."""
    fn = click.option("--html", "html_out", type=click.Path(),
                      help="Write a page with a chart.")(fn)
    return click.option("--xlsx", "xlsx_out", type=click.Path(), help="Write a workbook.")(fn)


def _when_and_lang(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--as-of`` and ``--lang`` of both commands."""
    fn = click.option("--lang", type=click.Choice(["id", "en"]), default="id",
                      show_default=True)(fn)
    return click.option("--as-of", "as_of",
                        help="Evaluation date YYYY-MM-DD (default today).")(fn)


def register(group: click.Group, *, plugin_option: Decorator) -> None:
    """Add ``impact`` and ``allocate`` to the ``welfare-rules`` group, with the CLI's
    ``-p/--plugin`` option (passed in: this module does not import the CLI module)."""

    @click.command("impact")
    @click.argument("data", type=click.Path(exists=True))
    @click.option("--members", type=click.Path(exists=True), help="Persons table.")
    @click.option("--adapter", help="Registered adapter name (e.g. kota-pekalongan).")
    @click.option("--reform", "reform_file", type=click.Path(exists=True),
                  help="Reform file (parameters and rule files, docs/impact.md).")
    @click.option("--set", "sets", multiple=True,
                  help="A parameter change name=value instead of a reform file; repeatable.")
    @click.option("--weights", help="Household column of weights: weighted totals.")
    @click.option("--by", default="kecamatan", show_default=True,
                  help="Group of the second table: kecamatan, kelurahan or desil.")
    @backend_option
    @_outputs
    @click.option("--changes", "changes_out", type=click.Path(),
                  help="Write the changed households (ids masked) to this CSV.")
    @settle_option
    @plugin_option
    @_when_and_lang
    @command_options
    def impact_cmd(ui: Ui, data: str, members: str | None, adapter: str | None,
                   reform_file: str | None, sets: Sequence[str], weights: str | None, by: str,
                   backend: str, xlsx_out: str | None, html_out: str | None,
                   changes_out: str | None, settle: bool, plugins: Sequence[str],
                   as_of: str | None, lang: str) -> None:
        """A reform's impact: per programme, eligible households before and after, gainers,
        losers and the yearly cost; then the same per --by group. The base is the plugins'
        rules (the global --reform does not apply here: give the reform to compare with)."""
        from .engine import Engine
        from .impact import impact, read_weights
        from .safecells import write_csv

        reform = _reform(reform_file, sets)
        if reform is None:
            raise BadInput("give --reform FILE or --set name=value: what changes?")
        when, note = parse_as_of(as_of)
        base = Engine.load(plugins=list(plugins) or None)
        after = Engine.load(plugins=list(plugins) or None, reform=reform)
        ui.header(engine=base, as_of=when, as_of_note=note, what=reform.describe(lang))
        loaded = _read(ui, base, data, members, adapter)
        # ingestion keeps schema fields only: the weights are read from the file itself
        wtable = read_weights(data, weights, key="id") if weights else None
        with ui.phase("evaluating before and after"):
            res = impact(base, after, loaded, as_of=when, weights=wtable, backend=backend,
                         settle=settle)
        headers = _HEADERS.get(lang, {})
        res.weights = weights
        ui.set(reform=reform.fingerprint(), weights=weights)
        ui.table(res.totals, title=reform.describe(lang), key="totals", headers=headers,
                 total=None, lang=lang)
        if by:
            ui.table(res.by(by), title=f"per {by}", key="by", headers=headers, total=None,
                     lang=lang)
        written: list[str] = []
        if xlsx_out:
            written.append(str(res.write_xlsx(xlsx_out, by=by)))
        if html_out:
            written.append(str(res.write_html(html_out, by=by)))
        if changes_out:
            write_csv(res.changes, changes_out)  # ids masked, no cell a formula
            written.append(changes_out)
        ui.info(f"{number(res.changes.num_rows)} change(s) of eligibility or benefit")
        for w in written:
            ui.info(f"wrote {w}")
        ui.set(written=written, changes=res.changes.num_rows)

    @click.command("allocate")
    @click.argument("data", type=click.Path(exists=True))
    @click.option("--members", type=click.Path(exists=True), help="Persons table.")
    @click.option("--adapter", help="Registered adapter name (e.g. kota-pekalongan).")
    @click.option("--programme", required=True, help="pkh, bpnt, pbi or a plugin's programme.")
    @click.option("--quota", required=True,
                  help="Places per group: a number, or a CSV (<by>,quota) / YAML file.")
    @click.option("--by", default="kelurahan", show_default=True)
    @click.option("--priority", default="priority_score", show_default=True,
                  help="The score rule ranking the eligible.")
    @click.option("--rotation", type=click.Choice(["none", "keep"]), default="none",
                  show_default=True, help="keep: current recipients still eligible first.")
    @click.option("--max-tenure", type=int, help="Years after which rotation no longer keeps a "
                                                 "recipient first.")
    @click.option("--reform", "reform_file", type=click.Path(exists=True),
                  help="Allocate under a reform.")
    @_outputs
    @click.option("--csv", "csv_out", type=click.Path(),
                  help="Write one row per household (ids masked).")
    @plugin_option
    @_when_and_lang
    @command_options
    def allocate_cmd(ui: Ui, data: str, members: str | None, adapter: str | None,
                     programme: str, quota: str, by: str, priority: str, rotation: str,
                     max_tenure: int | None, reform_file: str | None, xlsx_out: str | None,
                     html_out: str | None, csv_out: str | None, plugins: Sequence[str],
                     as_of: str | None, lang: str) -> None:
        """Allocate a programme's quota per group: allocated, waitlist (in rank order) and not
        eligible, each with its reason."""
        from .engine import Engine
        from .recipients.allocate import allocate
        from .safecells import write_csv

        when, note = parse_as_of(as_of)
        places = read_quota(quota, by)
        ctx = click.get_current_context(silent=True)
        if reform_file is None and ctx is not None:  # welfare-rules --reform FILE allocate ...
            reform_file = ctx.find_root().params.get("reform")
        engine = Engine.load(plugins=list(plugins) or None,
                             reform=_reform(reform_file, ()))
        ui.header(engine=engine, as_of=when, as_of_note=note, what=f"allocate {programme}")
        if f"{programme}_eligible" not in engine.rules:
            raise BadInput(f"unknown programme '{programme}': no rule {programme}_eligible")
        loaded = _read(ui, engine, data, members, adapter)
        fields = engine.schema.entity("household").fields
        if by not in fields:
            raise BadInput(f"--by '{by}' is not a household field")
        carry = [c for c in dict.fromkeys(["kecamatan", "kelurahan", by, "desil",
                                           f"receives_{programme}"]) if c in fields]
        with ui.phase("evaluating"):
            res = engine.evaluate_batch("household", loaded, as_of=when, carry=carry,
                                        dataset_checks=False)
        with ui.phase("allocating"):
            alloc = allocate(res, programme, places, by=by, priority=priority,
                             rotation=None if rotation == "none" else rotation,
                             max_tenure=max_tenure, lang=lang)
        ui.table(alloc.summary, title=f"{programme.upper()} per {by}", key="summary",
                 headers=_HEADERS.get(lang, {}), lang=lang)
        written: list[str] = []
        if xlsx_out:
            written.append(str(alloc.write_xlsx(xlsx_out)))
        if html_out:
            written.append(str(alloc.write_html(html_out)))
        if csv_out:
            write_csv(alloc.to_arrow(), csv_out)  # ids masked, no cell a formula
            written.append(csv_out)
        for w in written:
            ui.info(f"wrote {w}")
        ui.set(written=written)

    group.add_command(impact_cmd)
    group.add_command(allocate_cmd)
