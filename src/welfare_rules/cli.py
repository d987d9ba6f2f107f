"""The ``welfare-rules`` command line.

Exit codes: 0 success; 1 findings (or quarantined rows) the user asked to fail on; 2 bad input
(rule files, data, options), with a one-line reason on stderr. Library errors never show a
traceback unless ``WELFARE_RULES_DEBUG`` is set.
"""

from __future__ import annotations

import datetime
import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from .errors import ErrorGroup, WelfareRulesError

F = TypeVar("F", bound=Callable[..., Any])


class BadInput(click.ClickException):
    exit_code = 2


def _fail(message: str) -> None:
    click.echo(f"welfare-rules: {message}", err=True)
    sys.exit(2)


def guarded(fn: F) -> F:
    """Turn library errors into exit code 2 with a one-line reason (all located errors)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ErrorGroup as exc:
            if os.environ.get("WELFARE_RULES_DEBUG"):
                raise
            for e in exc.errors:
                click.echo(str(e), err=True)
            _fail(f"{len(exc.errors)} error(s) in the rules")
        except (WelfareRulesError, FileNotFoundError) as exc:
            if os.environ.get("WELFARE_RULES_DEBUG"):
                raise
            _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return None

    return wrapper  # type: ignore[return-value]


def _as_of(value: str | None) -> datetime.date:
    if value is None:
        return datetime.date.today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--as-of must be a date YYYY-MM-DD, found {value!r}") from None


def _engine(plugins: Sequence[str], rules: Sequence[str] = (), sets: Sequence[str] = ()) -> Any:
    from .engine import Engine

    params: dict[str, Any] = {}
    for s in sets:
        if "=" not in s:
            raise BadInput(f"--set expects name=value, found {s!r}")
        k, v = s.split("=", 1)
        params[k.strip()] = _parse_scalar(v.strip())
    return Engine.load(plugins=list(plugins) or None, rules=list(rules) or None,
                       parameters=params or None)


def _parse_scalar(v: str) -> Any:
    import yaml

    value = yaml.safe_load(v)
    return value


plugin_option = click.option("--plugin", "-p", "plugins", multiple=True,
                             help="Plugin to load (entry-point name or module); repeatable.")
as_of_option = click.option("--as-of", "as_of", help="Evaluation date YYYY-MM-DD (default today).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="welfare-rules")
def main() -> None:
    """Social-assistance eligibility, LKS maturity and data-quality rules."""


# --------------------------------------------------------------------------------------------
# Rules: check, test, schema, plugins


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@plugin_option
@click.option("--alone", is_flag=True, help="Check the files without the national pack.")
@guarded
def check(paths: Sequence[str], plugins: Sequence[str], alone: bool) -> None:
    """Load and type-check rule files; report every error with file:line:column."""
    from .engine import Engine

    if not paths:
        raise BadInput("give one or more rule files or folders")
    engine = Engine.load(plugins=list(plugins) or None, rules=list(paths), builtins=not alone)
    n_user = sum(1 for c in engine.contributions if c.plugin == "user rules")
    click.echo(f"ok: {len(engine.rules)} rules loaded ({n_user} ruleset(s) from the given "
               f"paths), {len(engine.parameters)} parameters")


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@plugin_option
@click.option("--verbose", "-v", is_flag=True, help="Print every case, not only failures.")
@guarded
def test_cmd(paths: Sequence[str], plugins: Sequence[str], verbose: bool) -> None:
    """Run YAML rule test cases (default: every test registered by the loaded plugins)."""
    from .testing.runner import EngineCache, run_rule_tests

    engines = EngineCache(tuple(plugins))
    targets: list[Any] = list(paths)
    if not targets:
        engine = engines.get((), {})
        targets = [p for p, _ in engine.rule_tests]
    results = run_rule_tests(targets, engines=engines)
    failed = [r for r in results if not r.passed]
    for r in results:
        if not r.passed:
            click.echo("FAIL " + r.report())
        elif verbose:
            click.echo(f"ok   {r.case.name}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        sys.exit(1)


@main.command()
@click.option("--output", "-o", type=click.Path(), help="Write to a file instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of the rule-file format (for editors)."""
    from .jsonschema import rule_file_schema

    text = json.dumps(rule_file_schema(), indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    else:
        click.echo(text)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@plugin_option
@guarded
def plugins(as_json: bool, plugins: Sequence[str]) -> None:
    """List installed plugins, their versions and what each contributes."""
    from . import plugin_report

    engine = _engine(list(plugins) or ["installed"])
    data = {"loaded": plugin_report.describe(engine), "installed": plugin_report.installed()}
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))
    else:
        click.echo(plugin_report.render_text(data))


# --------------------------------------------------------------------------------------------
# Data: evaluate, explain, demo


def _read(engine: Any, data: str, members: str | None, adapter: str | None, entity: str) -> Any:
    return engine.read(data, adapter=adapter, entity=entity, members=members)


def _quarantine_gate(loaded: Any, max_quarantine: float | None) -> bool:
    """Print the counts; return True when the quarantine exceeds the threshold."""
    click.echo(loaded.summary())
    if max_quarantine is None or loaded.rows_read == 0:
        return False
    limit = max_quarantine if max_quarantine >= 1 else max_quarantine * loaded.rows_read
    return bool(loaded.rows_quarantined > limit)


@main.command()
@click.argument("data", type=click.Path(exists=True))
@click.option("--members", type=click.Path(exists=True),
              help="Person table (canonical layout), joined on household_id.")
@click.option("--entity", default="household", show_default=True)
@click.option("--adapter", help="Registered adapter name (e.g. kota-pekalongan).")
@click.option("--backend", type=click.Choice(["duckdb", "spark", "python"]), default="duckdb",
              show_default=True)
@click.option("--out", "out", type=click.Path(), default="welfare-output", show_default=True)
@click.option("--max-quarantine", type=float,
              help="Fail (exit 1) when more rows than this are quarantined (a count, or a "
                   "share if below 1).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Exit 1 when a finding of this severity or worse exists.")
@plugin_option
@as_of_option
@guarded
def evaluate(data: str, members: str | None, entity: str, adapter: str | None, backend: str,
             out: str, max_quarantine: float | None, fail_on: str | None,
             plugins: Sequence[str], as_of: str | None) -> None:
    """Evaluate a data file (CSV, JSON, JSON Lines, Parquet, XLSX) and write the results."""
    engine = _engine(plugins)
    when = _as_of(as_of)
    loaded = _read(engine, data, members, adapter, entity)
    too_many = _quarantine_gate(loaded, max_quarantine)
    res = engine.evaluate_batch(entity, loaded, as_of=when, backend=backend)
    written = [*res.write(out), *loaded.write_quarantine(out)]
    for p in dict.fromkeys(written):
        click.echo(f"wrote {p}")
    _print_summary(res, entity)
    if too_many:
        click.echo(f"welfare-rules: {loaded.rows_quarantined} rows quarantined, more than "
                   f"--max-quarantine {max_quarantine}", err=True)
        sys.exit(1)
    if fail_on and _has_findings(res, fail_on):
        click.echo(f"welfare-rules: findings of severity {fail_on} or worse", err=True)
        sys.exit(1)


def _has_findings(res: Any, level: str) -> bool:
    order = ["error", "warning", "info"]
    wanted = set(order[: order.index(level) + 1])
    f = res.findings
    if f is None or f.num_rows == 0:
        return False
    return any(s in wanted for s in f.column("severity").to_pylist())


_MAIN_RULES = {
    "household": ["poor_bps", "pkh_eligible", "bpnt_eligible", "pbi_eligible",
                  "exclusion_review"],
    "institution": ["lks_registered", "lks_documents_complete", "lks_accreditation_valid"],
}


def _print_summary(res: Any, entity: str) -> None:
    """Per kelurahan: records and the main rules that hold; findings per check; LKS per
    maturity level. Other entities: every top-level condition."""
    import duckdb
    from rich.console import Console

    console = Console()
    table = res.to_arrow()
    con = duckdb.connect()
    con.register("r", table)
    con.register("f", res.findings)
    by = "kelurahan" if "kelurahan" in table.column_names else None
    wanted = [c for c in _MAIN_RULES.get(entity, []) if c in table.column_names]
    if not wanted:
        wanted = [rid for rid in res.rule_ids if res.engine.rule(rid).kind == "condition"
                  and res.engine.rule(rid).parent is None][:6]
    cols = ", ".join(f'count(*) FILTER (WHERE "{c}") AS "{c}"' for c in wanted)
    group = f'"{by}"' if by else "'all'"
    rows = con.sql(f"SELECT {group} AS {by or 'group'}, count(*) AS records"
                   f"{', ' + cols if cols else ''} FROM r GROUP BY ALL ORDER BY 1"
                   ).to_arrow_table()
    label = {"household": "households", "institution": "LKS"}.get(entity, entity)
    _print_table(rows, f"{label}: records and rules that hold"
                 + (f" per {by}" if by else ""), console)
    if "lks_maturity" in table.column_names:
        # every rule column has its status column beside it
        levels = con.sql("SELECT coalesce(lks_maturity, '(none)') AS level, count(*) AS lks, "
                         "count(*) FILTER (WHERE lks_maturity__status = 'unknown') AS "
                         "needs_verification FROM r GROUP BY ALL ORDER BY 1").to_arrow_table()
        _print_table(levels, "LKS per maturity level", console)
    if res.findings.num_rows:
        checks = con.sql("SELECT \"check\", severity, count(*) AS findings, "
                         "count(DISTINCT record_id) AS records FROM f GROUP BY ALL "
                         "ORDER BY findings DESC").to_arrow_table()
        _print_table(checks, f"{label}: findings per check", console)


@main.command()
@click.argument("data", type=click.Path(exists=True))
@click.option("--id", "record_id", required=True, help="Household id (No. KK) or record key.")
@click.option("--rule", "rule_ids", multiple=True,
              help="Rule to explain (repeatable); default: the main rules of the entity.")
@click.option("--members", type=click.Path(exists=True))
@click.option("--entity", default="household", show_default=True)
@click.option("--adapter")
@click.option("--lang", type=click.Choice(["id", "en"]), default="id", show_default=True)
@click.option("--unmask", is_flag=True, help="Show NIKs and family card numbers in full.")
@plugin_option
@as_of_option
@guarded
def explain(data: str, record_id: str, rule_ids: Sequence[str], members: str | None,
            entity: str, adapter: str | None, lang: str, unmask: bool,
            plugins: Sequence[str], as_of: str | None) -> None:
    """Explain one record's decisions, in Indonesian or English, NIKs masked."""
    engine = _engine(plugins)
    loaded = _read(engine, data, members, adapter, entity)
    key = engine.schema.entity(entity).key
    record = next((r for r in loaded.iter_records(entity) if str(r.get(key)) == record_id),
                  None)
    if record is None:
        raise BadInput(f"no {entity} with {key} = {record_id!r} in {data}")
    d = engine.evaluate(entity, record, as_of=_as_of(as_of))
    targets = list(rule_ids) or [r for r in engine.visible_rule_ids(entity)
                                 if engine.rule(r).parent is None
                                 and engine.rule(r).kind != "check"]
    for rid in targets:
        click.echo(d.explain(rid, lang=lang, unmask=unmask))
        click.echo("")
    if d.findings:
        click.echo("Temuan:" if lang == "id" else "Findings:")
        for f in d.findings:
            click.echo(f"  [{f.severity}] {f.check}: {f.message}")


@main.command()
@click.argument("data", type=click.Path(exists=True))
@click.option("--members", type=click.Path(exists=True))
@click.option("--entity", default="household", show_default=True)
@click.option("--adapter")
@click.option("--set", "sets", multiple=True, help="Parameter change name=value; repeatable.")
@click.option("--rules", "rule_files", multiple=True, type=click.Path(exists=True),
              help="Changed rule files (loaded on top, with overrides:).")
@click.option("--rule", "rule_ids", multiple=True, required=True,
              help="Rule to compare; repeatable.")
@click.option("--by", default="kelurahan", show_default=True)
@click.option("--backend", type=click.Choice(["duckdb", "spark", "python"]), default="duckdb",
              show_default=True)
@click.option("--changes", "changes_out", type=click.Path(),
              help="Write every changed record to this CSV.")
@plugin_option
@as_of_option
@guarded
def diff(data: str, members: str | None, entity: str, adapter: str | None,
         sets: Sequence[str], rule_files: Sequence[str], rule_ids: Sequence[str], by: str,
         backend: str, changes_out: str | None, plugins: Sequence[str],
         as_of: str | None) -> None:
    """Impact of a rule or parameter change over a population: who gains, who loses."""
    from .whatif import compare

    if not sets and not rule_files:
        raise BadInput("give --set name=value and/or --rules FILE: what changes?")
    before = _engine(plugins)
    after = _engine(plugins, rule_files, sets)
    loaded = _read(before, data, members, adapter, entity)
    summary, changed = compare(before, after, entity, loaded, as_of=_as_of(as_of),
                               rules=list(rule_ids), by=by or None, backend=backend)
    _print_table(summary, f"{entity}: before → after ({', '.join([*sets, *rule_files])})")
    click.echo(f"{changed.num_rows} record(s) changed")
    if changes_out:
        from .safecells import write_csv

        write_csv(changed, changes_out)
        click.echo(f"wrote {changes_out}")


def _print_table(table: Any, title: str, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for col in table.column_names:
        numeric = _is_numeric(table.schema.field(col).type)
        t.add_column(col, justify="right" if numeric else "left", overflow="fold")
    for row in table.to_pylist():
        t.add_row(*("" if v is None else f"{v:,}" if isinstance(v, int) and
                    not isinstance(v, bool) else str(v) for v in row.values()))
    (console or Console()).print(t)


def _is_numeric(ty: Any) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_integer(ty) or pat.is_floating(ty))


def _registers(specs: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in specs:
        if "=" not in spec:
            raise BadInput(f"--register expects name=path, found {spec!r}")
        name, path = spec.split("=", 1)
        if not Path(path).exists():
            raise BadInput(f"--register {name}: no such file {path!r}")
        out[name.strip()] = path
    return out


register_option = click.option(
    "--register", "register_specs", multiple=True,
    help="A reference register: name=path (e.g. death=kematian.csv); repeatable.")


@main.command()
@click.argument("data", type=click.Path(exists=True))
@click.option("--members", type=click.Path(exists=True))
@click.option("--adapter")
@register_option
@click.option("--out", type=click.Path(), default="reconciliation", show_default=True)
@click.option("--unmask", is_flag=True, help="Also write the full NIKs (unmasked columns).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Exit 1 when a finding of this severity or worse exists.")
@plugin_option
@as_of_option
@guarded
def reconcile(data: str, members: str | None, adapter: str | None,
              register_specs: Sequence[str], out: str, unmask: bool, fail_on: str | None,
              plugins: Sequence[str], as_of: str | None) -> None:
    """Match recipients against registers (deaths, civil servants, ...): findings with
    evidence and the recommended action; a name-only match is only "needs verification"."""
    from .recipients.reconcile import reconcile as run

    registers = _registers(register_specs)
    if not registers:
        raise BadInput("give at least one --register name=path")
    engine = _engine(plugins)
    loaded = _read(engine, data, members, adapter, "household")
    rec = run(engine, loaded, registers=registers, as_of=_as_of(as_of), unmask=unmask)
    for p in rec.write(out):
        click.echo(f"wrote {p}")
    click.echo(str(rec.summary()))
    if fail_on:
        order = ["error", "warning", "info"]
        wanted = set(order[: order.index(fail_on) + 1])
        if any(sv in wanted for sv in rec.findings.column("severity").to_pylist()):
            click.echo(f"welfare-rules: findings of severity {fail_on} or worse", err=True)
            sys.exit(1)


@main.command()
@click.argument("data", type=click.Path(exists=True), required=False)
@click.option("--members", type=click.Path(exists=True))
@click.option("--institutions", type=click.Path(exists=True), help="LKS table.")
@click.option("--adapter")
@register_option
@click.option("--previous", type=click.Path(exists=True),
              help="Last month's snapshot (Parquet) to report the changes since.")
@click.option("--save-snapshot", type=click.Path(), help="Save this month's snapshot here.")
@click.option("--demo", "demo_size", type=int,
              help="Report on a generated demo city of this many households instead of DATA.")
@click.option("--out", type=click.Path(), default="report", show_default=True)
@plugin_option
@as_of_option
@guarded
def report(data: str | None, members: str | None, institutions: str | None,
           adapter: str | None, register_specs: Sequence[str], previous: str | None,
           save_snapshot: str | None, demo_size: int | None, out: str,
           plugins: Sequence[str], as_of: str | None) -> None:
    """Write the monthly report: one self-contained HTML file with charts and an XLSX
    workbook (eligibility per kelurahan, findings, LKS per level, changes, proposals)."""
    from .recipients.reallocate import propose_reallocation
    from .recipients.reconcile import reconcile as run_reconcile
    from .recipients.snapshots import Snapshot, compare_snapshots, take_snapshot
    from .reports import write_report

    engine = _engine(plugins)
    registers = _registers(register_specs)
    lks: Any = None
    if demo_size is not None:
        from .demo import generate_city

        city = generate_city(demo_size)
        when = _as_of(as_of) if as_of else city.as_of
        households: Any = city.households
        persons: Any = city.persons
        lks = city.institutions
        if city.death_register is not None and "death" not in registers:
            registers = {**registers, "death": city.death_register}
    elif data is not None:
        when = _as_of(as_of)
        loaded = _read(engine, data, members, adapter, "household")
        click.echo(loaded.summary())
        households, persons = loaded.tables["household"], loaded.tables.get("person")
        if institutions:
            lks = _read(engine, institutions, None, None, "institution").tables["institution"]
    else:
        raise BadInput("give DATA (and --members) or --demo N")
    snap = take_snapshot(engine, households, persons, as_of=when)
    if save_snapshot:
        click.echo(f"wrote {snap.save(save_snapshot)}")
    lks_snap = take_snapshot(engine, lks, entity="institution", as_of=when) \
        if lks is not None else None
    rec = run_reconcile(engine, households, persons, registers=registers, as_of=when) \
        if registers else None
    changes = compare_snapshots(Snapshot.load(previous), snap, engine=engine) \
        if previous else None
    proposal = propose_reallocation(engine, snap, rec, as_of=when) if rec is not None else None
    Path(out).mkdir(parents=True, exist_ok=True)
    files = write_report(Path(out) / "report.html", Path(out) / "report.xlsx", snapshot=snap,
                         reconciliation=rec, institutions=lks_snap, changes=changes,
                         proposal=proposal, engine=engine)
    click.echo(f"wrote {files.html}")
    if files.xlsx is not None:
        click.echo(f"wrote {files.xlsx}")
    if proposal is not None:
        for p in proposal.write(out):
            click.echo(f"wrote {p}")


@main.command()
@click.option("--households", type=int, default=85_000, show_default=True,
              help="Size of the synthetic city.")
@click.option("--seed", type=int, default=3375, show_default=True)
@click.option("--out", type=click.Path(), default="demo-output", show_default=True)
@click.option("--backend", type=click.Choice(["duckdb", "spark", "python"]), default="duckdb",
              show_default=True)
@plugin_option
@guarded
def demo(households: int, seed: int, out: str, backend: str, plugins: Sequence[str]) -> None:
    """Generate a synthetic city the size of Kota Pekalongan, evaluate everything, summarise."""
    import time

    from .demo import generate_city

    t0 = time.perf_counter()
    engine = _engine(plugins)
    city = generate_city(households, seed=seed)
    data_dir = Path(out) / "data"
    city.write(str(data_dir))
    click.echo(f"generated {city.households.num_rows:,} households, {city.persons.num_rows:,} "
               f"persons, {city.institutions.num_rows} LKS into {data_dir}")
    hh = engine.evaluate_batch("household", city.households, members=city.persons,
                               as_of=city.as_of, backend=backend)
    lks = engine.evaluate_batch("institution", city.institutions, as_of=city.as_of,
                                backend=backend)
    for p in hh.write(str(Path(out) / "households")) + lks.write(str(Path(out) / "lks")):
        click.echo(f"wrote {p}")
    _print_summary(hh, "household")
    _print_summary(lks, "institution")
    click.echo(f"done in {time.perf_counter() - t0:.1f} s (as of {city.as_of}, backend "
               f"{backend})")


from .tooling_cli import register as _register_tooling  # noqa: E402  (lint, table)

_register_tooling(main, guarded=guarded, plugin_option=plugin_option)

if __name__ == "__main__":  # pragma: no cover
    main()
