"""The ``welfare-rules`` command line.

Exit codes: 0 success; 1 findings (or quarantined rows) the user asked to fail on; 2 bad input
(rule files, data, options) or a missing optional package, with a one-line reason on stderr.
No error shows a traceback unless ``WELFARE_RULES_DEBUG`` is set.

Every command prints, as the first line on stderr, the version, the as-of date it used and the
plugins loaded; ``--json`` prints the result as one JSON document on stdout; ``-q`` silences the
messages. The shared machinery is in :mod:`welfare_rules.cli_kit`.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from .cli_kit import (
    BadInput,
    OneLineGroup,
    Ui,
    backend_option,
    command_options,
    guarded,
    parse_as_of,
    require,
    settle_option,
    version,
)
from .errors import ErrorGroup, LocatedError
from .formatting import number

__all__ = ["BadInput", "guarded", "main"]


def _engine(plugins: Sequence[str], rules: Sequence[str] = (), sets: Sequence[str] = ()) -> Any:
    from .engine import Engine

    params: dict[str, Any] = {}
    for s in sets:
        if "=" not in s:
            raise BadInput(f"--set expects name=value, found {s!r}")
        k, v = s.split("=", 1)
        params[k.strip()] = _parse_scalar(v.strip())
    ctx = click.get_current_context(silent=True)
    reform = ctx.find_root().params.get("reform") if ctx is not None else None
    return Engine.load(plugins=list(plugins) or None, rules=list(rules) or None,
                       parameters=params or None, reform=reform)


def _parse_scalar(v: str) -> Any:
    import yaml

    value = yaml.safe_load(v)
    return value


def _backend(backend: str) -> None:
    if backend == "spark":
        require("--backend spark", "pyspark")


plugin_option = click.option("--plugin", "-p", "plugins", multiple=True,
                             help="Plugin to load (entry-point name or module); repeatable.")
as_of_option = click.option("--as-of", "as_of", help="Evaluation date YYYY-MM-DD (default today).")
lang_option = click.option("--lang", type=click.Choice(["id", "en"]), default="id",
                           show_default=True, help="Language of titles and explanations.")


@click.group(cls=OneLineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), "--version", "-V", prog_name="welfare-rules",
                      message="%(prog)s %(version)s")
@click.option("--json", "as_json", is_flag=True, help="Every command: print the result as JSON.")
@click.option("--quiet", "-q", "quiet", is_flag=True, help="Every command: no messages.")
@click.option("--reform", type=click.Path(exists=True, dir_okay=False),
              help="Every command: apply this reform file on top of the plugins (docs/impact.md).")
def main(as_json: bool, quiet: bool, reform: str | None) -> None:
    """Social-assistance eligibility, LKS maturity and data-quality rules."""


# --------------------------------------------------------------------------------------------
# Words of the tables, in Indonesian and English

_WORDS: dict[str, tuple[str, str]] = {
    "records": ("jumlah", "records"),
    "households": ("keluarga", "households"),
    "persons": ("jiwa", "persons"),
    "findings": ("temuan", "findings"),
    "check": ("pemeriksaan", "check"),
    "severity": ("tingkat", "severity"),
    "level": ("tingkat", "level"),
    "lks": ("LKS", "LKS"),
    "needs_verification": ("perlu verifikasi", "needs verification"),
    "total": ("Jumlah", "Total"),
    "rule": ("aturan", "rule"),
    "before": ("sebelum", "before"),
    "after": ("sesudah", "after"),
    "gained": ("bertambah", "gained"),
    "lost": ("berkurang", "lost"),
    "changed": ("berubah", "changed"),
    "other": ("perubahan lain", "other changes"),
    "register": ("register", "register"),
    "match_type": ("jenis kecocokan", "match type"),
    "status": ("status", "status"),
    "action": ("tindakan", "action"),
}


def _word(key: str, lang: str) -> str:
    pair = _WORDS.get(key)
    return (pair[0] if lang == "id" else pair[1]) if pair else key


def _headers(engine: Any, columns: Sequence[str], lang: str,
             as_of: datetime.date | None) -> dict[str, str]:
    """Column headers: rule titles in ``lang`` (their parameters as on ``as_of``) for rule
    columns, else the table words."""
    from .explain import title_on

    out = {}
    for c in columns:
        if c in engine.rules and engine.rule(c, as_of).title.get(lang):
            out[c] = title_on(engine, c, as_of, lang)
        else:
            out[c] = _word(c, lang)
    return out


def _titles(engine: Any, lang: str, as_of: datetime.date | None) -> dict[str, str]:
    from .explain import title_on

    return {rid: title_on(engine, rid, as_of, lang) for rid in engine.rules}


# --------------------------------------------------------------------------------------------
# Rules: check, test, schema, plugins


def _plugin_owning(paths: Sequence[str]) -> dict[str, tuple[str, Path]]:
    """The installed plugins whose folder holds one of ``paths`` (a plugin's own rule or
    parameter folder, or the plugin's distribution folder): entry-point name → (plugin name,
    package folder)."""
    from .plugins import installed_entry_points, resolve_plugins

    found: dict[str, tuple[str, Path]] = {}
    wanted = [Path(p).resolve() for p in paths]
    for ep in installed_entry_points():
        try:
            # the requested plugin, not the plugins it requires (listed before it)
            info = next(i for i in resolve_plugins([ep.name]) if i.entry_point == ep.name)
        except Exception:  # a broken plugin is reported by `plugins`, not here
            continue
        mod_file = getattr(info.obj, "__file__", None)
        if not mod_file:
            continue
        installed = Path(mod_file).resolve().parent
        for w in wanted:
            given = _package_folder(w, installed.name)
            if given is None:
                continue
            if given != installed:
                _same_files(given, installed, ep.name)
            found[ep.name] = (info.name, given)
    return found


def _uninstalled_plugin(paths: Sequence[str]) -> tuple[str, str, Path] | None:
    """The first path inside the distribution folder of a plugin that is not installed (the
    folder's ``pyproject.toml`` declares a ``welfare_rules`` entry point that is not
    installed): ``(path, plugin, folder)``, or None. Its rule files may read the plugin's own
    schema and parameters, which a check over the national pack alone does not have."""
    import tomllib

    from .plugins import installed_entry_points

    def table(value: object, key: str) -> dict[str, object]:
        inner = value.get(key) if isinstance(value, dict) else None
        return inner if isinstance(inner, dict) else {}

    installed = {ep.name for ep in installed_entry_points()}
    for given in paths:
        path = Path(given).resolve()
        for folder in (path, *path.parents):
            project = folder / "pyproject.toml"
            if not project.is_file():
                continue
            try:
                meta = tomllib.loads(project.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                break
            eps = table(table(table(meta, "project"), "entry-points"), "welfare_rules")
            missing = sorted(name for name in eps if name not in installed)
            if missing:
                return given, missing[0], folder
            break
    return None


def _package_folder(path: Path, package: str) -> Path | None:
    """The folder of ``package`` that ``path`` is in or holds (``src/<package>`` of a plugin's
    distribution folder), or None."""
    for p in (path, *path.parents):
        if p.name == package and p.is_dir():
            return p
    for candidate in (path / "src" / package, path / package):
        if candidate.is_dir():
            return candidate
    return None


def _same_files(given: Path, installed: Path, name: str) -> None:
    """Refuse to check a folder whose rule files differ from the installed plugin's: the
    check loads the installed plugin."""
    def files(root: Path) -> dict[str, bytes]:
        return {str(f.relative_to(root)): f.read_bytes() for f in sorted(root.rglob("*"))
                if f.suffix in (".yaml", ".yml", ".py", ".json") and f.is_file()
                and "__pycache__" not in f.parts}

    a, b = files(given), files(installed)
    differ = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    if differ:
        raise BadInput(f"{given} differs from the installed plugin '{name}' ({installed}) in "
                       f"{differ[0]}{f' and {len(differ) - 1} more' if len(differ) > 1 else ''}"
                       f": install it from the folder (pip install -e) to check it with its "
                       f"plugin")


def _under(path: Path, wanted: Sequence[Path]) -> bool:
    return any(w == path or w in path.parents or path in w.parents for w in wanted)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@plugin_option
@click.option("--alone", is_flag=True, help="Check the files without the national pack.")
@command_options
def check(ui: Ui, paths: Sequence[str], plugins: Sequence[str], alone: bool) -> None:
    """Load and type-check rule files; report every error with file:line:column.

    A folder of an installed plugin (its rules, its parameters or the whole plugin) is
    checked in the context of that plugin: the plugin is loaded with the national pack and
    its own files are not loaded a second time.
    """
    from .engine import Engine

    if not paths:
        raise BadInput("give one or more rule files or folders")
    owners = {} if alone else _plugin_owning(paths)
    if owners:
        engine = Engine.load(plugins=list(dict.fromkeys([*plugins, *owners])))
        ui.header(engine=engine, what=f"check in the context of {', '.join(owners)}")
        wanted = [Path(p).resolve() for p in paths]
        own = [c for c in engine.contributions for name, root in owners.values()
               if c.plugin == name and c.kind in ("ruleset", "parameter") and c.file
               and _under((root / c.file).resolve(), wanted)]
        n_rules = len({c.name for c in own if c.kind == "ruleset"})
        n_params = len({c.name for c in own if c.kind == "parameter"})
        ui.set(ok=True, plugins_checked=list(owners), rulesets=n_rules, parameters=n_params,
               rules=len(engine.rules))
        if not ui.as_json:
            click.echo(f"ok: {n_rules} ruleset(s) and {n_params} parameter(s) of "
                       f"{', '.join(owners)} under the given paths, checked with the "
                       f"national pack ({len(engine.rules)} rules loaded)")
        return
    uninstalled = None if alone else _uninstalled_plugin(paths)
    try:
        engine = Engine.load(plugins=list(plugins) or None, rules=list(paths),
                             builtins=not alone)
    except (ErrorGroup, LocatedError) as exc:
        if uninstalled is None:
            raise
        # the errors may be the plugin's schema and parameters missing, not the files' own
        for e in exc.errors if isinstance(exc, ErrorGroup) else [exc]:
            click.echo(str(e), err=True)
        given, name, folder = uninstalled
        count = len(exc.errors) if isinstance(exc, ErrorGroup) else 1
        raise BadInput(f"{count} error(s) checking {given} over the national pack; it is in "
                       f"the folder of the plugin '{name}' ({folder}), which is not "
                       f"installed: if its rules read the plugin's own schema or parameters, "
                       f"install it (pip install -e {folder}) to check it with its plugin"
                       ) from exc
    ui.header(engine=engine, what="check")
    n_user = sum(1 for c in engine.contributions if c.plugin == "user rules")
    ui.set(ok=True, rules=len(engine.rules), rulesets=n_user, parameters=len(engine.parameters))
    if not ui.as_json:
        click.echo(f"ok: {len(engine.rules)} rules loaded ({n_user} ruleset(s) from the given "
                   f"paths), {len(engine.parameters)} parameters")


@main.command("test")
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@plugin_option
@click.option("--verbose", "-v", is_flag=True, help="Print every case, not only failures.")
@click.option("--coverage", is_flag=True, help="Report which criteria, table rows and ladder "
              "levels the cases exercised, per ruleset.")
@click.option("--fail-under", type=float, help="Exit 1 when rule coverage is below N percent.")
@command_options
def test_cmd(ui: Ui, paths: Sequence[str], plugins: Sequence[str], verbose: bool,
             coverage: bool, fail_under: float | None) -> None:
    """Run YAML rule test cases (default: every test file registered by the loaded plugins).

    Each file runs under the plugins it declares (``plugins:``); a registered file that
    declares none runs under the plugin that registered it (the national cases under the
    national pack alone); a file given as PATH that declares none runs under ``-p``.
    """
    from .testing.coverage import RuleCoverage, print_coverage
    from .testing.runner import EngineCache, registered_test_files, run_rule_tests

    engines = EngineCache()
    if paths:
        targets: list[Any] = [(p, tuple(plugins)) for p in paths]
        engine = engines.get(tuple(plugins), {})
    else:
        engine = engines.get(tuple(plugins), {})
        targets = registered_test_files(engine)
    ui.header(engine=engine, what="rule tests")
    cov = RuleCoverage() if coverage or fail_under is not None else None
    with ui.phase("running the rule tests"):
        results = run_rule_tests(targets, engines=engines,
                                 observe=cov.observe if cov is not None else None)
    failed = [r for r in results if not r.passed]
    ui.set(passed=len(results) - len(failed), failed=len(failed),
           cases=[{"name": r.case.name, "location": str(r.case.location), "passed": r.passed,
                   "plugins": [str(p) for p in r.case.plugins],
                   "diffs": list(r.diffs), "error": r.error} for r in results])
    if not ui.as_json:
        for r in results:
            if not r.passed:
                click.echo("FAIL " + r.report())
            elif verbose:
                click.echo(f"ok   {r.case.name}")
        click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    below = cov is not None and print_coverage(ui, cov, fail_under)
    if failed or below:
        ui.done()
        sys.exit(1)


@main.command()
@click.option("--output", "-o", type=click.Path(), help="Write to a file instead of stdout.")
@command_options
def schema(ui: Ui, output: str | None) -> None:
    """Print the JSON Schema of the rule-file format (for editors)."""
    from .jsonschema import rule_file_schema

    ui.header(what="JSON Schema of the rule-file format")
    doc = rule_file_schema()
    text = json.dumps(doc, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        ui.info(f"wrote {output}")
        ui.set(written=[output])
    elif ui.as_json:
        ui.set(schema=doc)
    else:
        click.echo(text)


@main.command()
@plugin_option
@command_options
def plugins(ui: Ui, plugins: Sequence[str]) -> None:
    """List installed plugins, their versions and what each contributes."""
    from . import plugin_report

    engine = _engine(list(plugins) or ["installed"])
    ui.header(engine=engine, what="plugins")
    data = {"loaded": plugin_report.describe(engine), "installed": plugin_report.installed()}
    ui.set(**data)
    if not ui.as_json:
        click.echo(plugin_report.render_text(data))


# --------------------------------------------------------------------------------------------
# Data: evaluate, explain, diff


def _read(ui: Ui, engine: Any, data: str, members: str | None, adapter: str | None,
          entity: str) -> Any:
    """Read the data (the reader shows its own progress bar on a terminal) and say how many
    records of each entity were read, kept and quarantined."""
    loaded = engine.read(data, adapter=adapter, entity=entity, members=members,
                         progress=None if ui.progress else False)
    counts = _load_counts(loaded, entity)
    ui.set(read=counts)
    parts = []
    for ent, c in counts.items():
        parts.append(f"{number(c['read'])} {_plural(ent, c['read'])} "
                     f"({number(c['valid'])} valid, {number(c['quarantined'])} quarantined)")
    ui.info("read " + " and ".join(parts) + f" from {data}"
            + (f" and {members}" if members else ""))
    for w in loaded.warnings:
        ui.info(f"note: {w}")
    return loaded


def _plural(entity: str, n: int) -> str:
    names = {"household": "households", "person": "persons", "institution": "LKS"}
    return entity if n == 1 and entity != "institution" else names.get(entity, entity + "s")


def _load_counts(loaded: Any, entity: str) -> dict[str, dict[str, int]]:
    """Records per entity: read, valid (kept) and quarantined (distinct source rows)."""
    counts: dict[str, dict[str, int]] = loaded.counts(first=entity)
    return counts


def _persons(loaded: Any) -> int | None:
    table = loaded.tables.get("person")
    return None if table is None else int(table.num_rows)


def _quarantine_gate(loaded: Any, max_quarantine: float | None) -> bool:
    """True when the quarantine exceeds the threshold."""
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
@backend_option
@click.option("--out", "out", type=click.Path(), default="welfare-output", show_default=True)
@click.option("--max-quarantine", type=float,
              help="Fail (exit 1) when more rows than this are quarantined (a count, or a "
                   "share if below 1).")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]),
              help="Exit 1 when a finding of this severity or worse exists.")
@settle_option
@plugin_option
@as_of_option
@lang_option
@command_options
def evaluate(ui: Ui, data: str, members: str | None, entity: str, adapter: str | None,
             backend: str, out: str, max_quarantine: float | None, fail_on: str | None,
             settle: bool, plugins: Sequence[str], as_of: str | None, lang: str) -> None:
    """Evaluate a data file (CSV, JSON, JSON Lines, Parquet, XLSX) and write the results."""
    _backend(backend)
    when, note = parse_as_of(as_of)
    engine = _engine(plugins)
    ui.header(engine=engine, as_of=when, as_of_note=note)
    loaded = _read(ui, engine, data, members, adapter, entity)
    too_many = _quarantine_gate(loaded, max_quarantine)
    with ui.phase(f"evaluating {entity} rules ({backend})"):
        res = engine.evaluate_batch(entity, loaded, as_of=when, backend=backend, settle=settle)
    with ui.phase("writing the results"):
        written = [*res.write(out), *loaded.write_quarantine(out)]
    written = list(dict.fromkeys(written))
    for p in written:
        ui.info(f"wrote {p}")
    ui.set(written=[str(p) for p in written])
    with ui.phase("summarising the findings"):
        _print_summary(ui, res, entity, lang, _persons(loaded))
    if too_many:
        ui.warn(f"{loaded.rows_quarantined} rows quarantined, more than --max-quarantine "
                f"{max_quarantine}")
        ui.done()
        sys.exit(1)
    if fail_on and _has_findings(res.findings, fail_on):
        ui.warn(f"findings of severity {fail_on} or worse")
        ui.done()
        sys.exit(1)


def _has_findings(findings: Any, level: str) -> bool:
    order = ["error", "warning", "info"]
    wanted = set(order[: order.index(level) + 1])
    if findings is None or findings.num_rows == 0:
        return False
    return any(s in wanted for s in findings.column("severity").to_pylist())


_MAIN_RULES = {
    "household": ["poor_bps", "pkh_eligible", "bpnt_eligible", "pbi_eligible",
                  "exclusion_review"],
    "institution": ["lks_registered", "lks_documents_complete", "lks_accreditation_valid"],
}

_SUMMARY_TITLES = {
    "household": ("Keluarga per kelurahan: jumlah dan yang memenuhi aturan",
                  "Households per kelurahan: records and rules that hold"),
    "institution": ("LKS per kelurahan: jumlah dan yang memenuhi aturan",
                    "LKS per kelurahan: records and rules that hold"),
    "levels": ("LKS per tingkat kematangan", "LKS per maturity level"),
    "findings": ("Temuan per pemeriksaan", "Findings per check"),
}


def _title(key: str, lang: str, entity: str = "") -> str:
    pair = _SUMMARY_TITLES.get(key)
    if pair is None:
        return f"{entity}: {'jumlah dan aturan yang terpenuhi' if lang == 'id' else 'records'}"
    return pair[0] if lang == "id" else pair[1]


def _print_summary(ui: Ui, res: Any, entity: str, lang: str, persons: int | None = None
                   ) -> None:
    """Per kelurahan: records and the main rules that hold; findings per check; LKS per
    maturity level. Other entities: every top-level condition."""
    import duckdb

    with duckdb.connect() as con:  # closed when the tables are printed, or on an error
        _summary_tables(con, ui, res, entity, lang, persons)


def _summary_tables(con: Any, ui: Ui, res: Any, entity: str, lang: str, persons: int | None
                    ) -> None:
    from sqlglot import exp

    from .sqlbuild import query, relation

    table = res.to_arrow()
    con.register("r", table)
    con.register("f", res.findings)
    engine = res.engine
    by = "kelurahan" if "kelurahan" in table.column_names else None
    wanted = [c for c in _MAIN_RULES.get(entity, []) if c in table.column_names]
    if not wanted:
        wanted = [rid for rid in res.rule_ids if engine.rule(rid).kind == "condition"
                  and engine.rule(rid).parent is None][:6]
    records = {"household": "households", "institution": "lks"}.get(entity, "records")
    rows = relation(con, query(
        "SELECT __group AS __name, count(*) AS __records, __counts FROM r GROUP BY ALL "
        "ORDER BY 1", group=by if by else exp.Literal.string("all"), name=by or "group",
        records=records, counts=[query("count(*) FILTER (WHERE __c) AS __c", c=c)
                                 for c in wanted])).to_arrow_table()
    notes = []
    if entity == "household" and persons is not None:
        notes.append(f"{number(table.num_rows, lang)} {_word('households', lang)}, "
                     f"{number(persons, lang)} {_word('persons', lang)}")
        ui.set(counts={"households": table.num_rows, "persons": persons})
    ui.table(rows, title=_title(entity, lang, entity), key=f"{entity}_by_{by or 'group'}",
             headers=_headers(engine, rows.column_names, lang, res.as_of),
             total=_word("total", lang), notes=notes, lang=lang)
    if "lks_maturity" in table.column_names:
        levels = con.sql("SELECT coalesce(lks_maturity, '(none)') AS level, count(*) AS lks, "
                         "count(*) FILTER (WHERE lks_maturity__status = 'unknown') AS "
                         "needs_verification FROM r GROUP BY ALL ORDER BY 1").to_arrow_table()
        ui.table(_ladder_order(engine, levels), title=_title("levels", lang),
                 key="lks_by_level", headers=_headers(engine, levels.column_names, lang, res.as_of),
                 total=_word("total", lang), lang=lang)
    if res.findings.num_rows:
        checks = con.sql("SELECT \"check\", severity, count(*) AS findings, "
                         "count(DISTINCT record_id) AS records FROM f GROUP BY ALL "
                         "ORDER BY findings DESC").to_arrow_table()
        heads = _headers(engine, checks.column_names, lang, res.as_of)
        heads["records"] = _word(records, lang)
        ui.table(_check_titles(engine, checks, lang, res.as_of), title=_title("findings", lang),
                 key=f"{entity}_findings", headers=heads, total=_word("total", lang),
                 sum_columns=["findings"],
                 notes=[("Satu catatan bisa memiliki beberapa temuan; kolom catatan tidak "
                         "dijumlahkan." if lang == "id" else
                         "One record can have several findings; the records column is not "
                         "added up.")], lang=lang)


def _check_titles(engine: Any, checks: Any, lang: str, as_of: datetime.date | None) -> Any:
    import pyarrow as pa

    from .explain import title_on

    titles = [title_on(engine, c, as_of, lang) if c in engine.rules else c
              for c in checks.column("check").to_pylist()]
    return checks.set_column(0, "check", pa.array(titles, pa.string()))


def _ladder_order(engine: Any, levels: Any) -> Any:
    """The LKS levels in ladder order (lowest first), not alphabetical."""
    if "lks_maturity" not in engine.rules:
        return levels
    ladder = [lv.name for lv in engine.rule("lks_maturity").levels]
    rank = {name: i for i, name in enumerate(ladder)}
    rows = sorted(levels.to_pylist(), key=lambda r: rank.get(r["level"], len(rank)))
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=levels.schema)


@main.command()
@click.argument("data", type=click.Path(exists=True))
@click.option("--id", "record_id", required=True, help="Household id (No. KK) or record key.")
@click.option("--rule", "rule_ids", multiple=True,
              help="Rule to explain (repeatable); default: the main rules of the entity.")
@click.option("--members", type=click.Path(exists=True))
@click.option("--entity", default="household", show_default=True)
@click.option("--adapter")
@click.option("--unmask", is_flag=True, help="Show NIKs and family card numbers in full.")
@click.option("--full", is_flag=True,
              help="The complete trace for officers (every criterion, parameter and source) "
                   "instead of the summary read to the family.")
@click.option("--what-would-change", "what_would_change", is_flag=True,
              help="Also list the smallest changes of the inputs that flip each outcome.")
@plugin_option
@as_of_option
@lang_option
@command_options
def explain(ui: Ui, data: str, record_id: str, rule_ids: Sequence[str], members: str | None,
            entity: str, adapter: str | None, lang: str, unmask: bool, full: bool,
            what_would_change: bool, plugins: Sequence[str], as_of: str | None) -> None:
    """Explain one record's decisions, in Indonesian or English, NIKs masked: a summary of a
    few sentences by default, the complete trace with --full.

    A canonical CSV or Parquet file is not read whole: only the record's rows (and its
    members') are selected, with DuckDB, and then read and checked like any input.
    """
    from .explain import title_on
    from .lookup import read_one
    from .masking import mask_id

    when, note = parse_as_of(as_of)
    engine = _engine(plugins)
    ui.header(engine=engine, as_of=when, as_of_note=note)
    key = engine.schema.entity(entity).key
    with ui.phase(f"looking up {entity} {mask_id(record_id) if not unmask else record_id}"):
        record, how = read_one(engine, data, record_id, entity=entity, members=members,
                               adapter=adapter)
    ui.info(how)
    if record is None:
        raise BadInput(f"no {entity} with {key} = "
                       f"{record_id if unmask else mask_id(record_id)!r} in {data}")
    d = engine.evaluate(entity, record, as_of=when)
    targets = list(rule_ids) or [r for r in engine.visible_rule_ids(entity)
                                 if engine.rule(r).parent is None
                                 and engine.rule(r).kind != "check"]
    # without named rules, the decisions come first and the rules not in force on the date
    # (BLT 2022, ...) are one line at the end
    idle = [] if rule_ids else [r for r in targets if not d.in_force(r)]
    targets = [r for r in targets if r not in idle]
    decisions = []
    level = "full" if full else "summary"
    for rid in targets:
        text = d.explain(rid, lang=lang, level=level, unmask=unmask)
        entry: dict[str, Any] = {"rule": rid, "title": title_on(engine, rid, when, lang),
                                 "value": d.value(rid), "status": d.status(rid),
                                 "needs": d.needs(rid), "explanation": text}
        changes = []
        if what_would_change and _top_level(d):
            changes = d.counterfactuals(rid)
            entry["what_would_change"] = [
                {"changes": {k: _json_safe(v) for k, v in c.changes.items()},
                 "after": _json_safe(c.after), "sentence": c.sentence(lang)} for c in changes]
        decisions.append(entry)
        if not ui.as_json:
            click.echo(text)
            if what_would_change:
                head = "Yang akan mengubah hasil:" if lang == "id" else "What would change it:"
                click.echo(head if changes else head + (" (tidak ditemukan perubahan kecil)"
                                                        if lang == "id" else
                                                        " (no small change found)"))
                for c in changes:
                    click.echo(f"  - {c.sentence(lang)}")
            click.echo("")
    findings = [{"check": f.check, "severity": f.severity, "message": f.message}
                for f in d.findings]
    ui.set(id=record_id if unmask else mask_id(record_id), entity=entity, decisions=decisions,
           findings=findings, not_in_force=idle)
    if d.findings and not ui.as_json:
        click.echo("Temuan:" if lang == "id" else "Findings:")
        for f in d.findings:
            click.echo(f"  [{f.severity}] {f.check}: {f.message}")
    if idle and not ui.as_json:
        from .wording import date as date_words

        head = "Tidak berlaku per" if lang == "id" else "Not in force on"
        titles = "; ".join(title_on(engine, r, when, lang) for r in idle)
        click.echo(f"{head} {date_words(when, lang)}: {titles}")


def _top_level(d: Any) -> bool:
    """Counterfactuals are asked of a top-level decision (not a member's)."""
    return not hasattr(d, "parent")


def _json_safe(v: Any) -> Any:
    return v.isoformat() if isinstance(v, datetime.date) else v


_DIFF_NOTES = {
    "id": ("sebelum/sesudah: catatan yang memenuhi aturan (atau punya nilai selain false)",
           "bertambah: dari false atau tidak diketahui menjadi true; berkurang: dari true "
           "menjadi false atau tidak diketahui",
           "berubah = bertambah + berkurang + perubahan lain (false ↔ tidak diketahui, atau "
           "nilai lain pada aturan bernilai/tingkat)"),
    "en": ("before/after: records for which the rule holds (or has a value other than false)",
           "gained: false or unknown → true; lost: true → false or unknown",
           "changed = gained + lost + other changes (false ↔ unknown, or another value of a "
           "value or ladder rule)"),
}


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
@backend_option
@click.option("--changes", "changes_out", type=click.Path(),
              help="Write every changed record to this CSV.")
@settle_option
@plugin_option
@as_of_option
@lang_option
@command_options
def diff(ui: Ui, data: str, members: str | None, entity: str, adapter: str | None,
         sets: Sequence[str], rule_files: Sequence[str], rule_ids: Sequence[str], by: str,
         backend: str, changes_out: str | None, settle: bool, plugins: Sequence[str],
         as_of: str | None, lang: str) -> None:
    """Impact of a rule or parameter change over a population: who gains, who loses."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .whatif import compare

    if not sets and not rule_files:
        raise BadInput("give --set name=value and/or --rules FILE: what changes?")
    _backend(backend)
    when, note = parse_as_of(as_of)
    before = _engine(plugins)
    after = _engine(plugins, rule_files, sets)
    ui.header(engine=before, as_of=when, as_of_note=note)
    loaded = _read(ui, before, data, members, adapter, entity)
    with ui.phase("evaluating before and after"):
        summary, changed = compare(before, after, entity, loaded, as_of=when,
                                   rules=list(rule_ids), by=by or None, backend=backend,
                                   settle=settle)
    other = pc.subtract(pc.subtract(summary.column("changed"), summary.column("gained")),
                        summary.column("lost"))
    summary = summary.append_column("other", other.cast(pa.int64()))
    titles = _titles(before, lang, when)
    shown = summary.set_column(summary.column_names.index("rule"), "rule", pa.array(
        [titles.get(r, r) for r in summary.column("rule").to_pylist()], pa.string()))
    ui.table(shown, title=f"{entity}: {_word('before', lang)} → {_word('after', lang)} "
             f"({', '.join([*sets, *rule_files])})", key="diff",
             headers=_headers(before, shown.column_names, lang, when), total=_word("total", lang),
             notes=_DIFF_NOTES[lang], lang=lang)
    n_records = len(set(changed.column(before.schema.entity(entity).key).to_pylist()))
    ui.set(changed_values=changed.num_rows, changed_records=n_records)
    ui.info(f"{number(changed.num_rows)} value(s) changed in {number(n_records)} record(s)"
            + (" (a record counts once per rule)" if len(rule_ids) > 1 else ""))
    if changes_out:
        from .safecells import write_csv

        write_csv(changed, changes_out)
        ui.info(f"wrote {changes_out}")
        ui.set(written=[changes_out])


# --------------------------------------------------------------------------------------------
# Recipients: reconcile, report


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
@lang_option
@command_options
def reconcile(ui: Ui, data: str, members: str | None, adapter: str | None,
              register_specs: Sequence[str], out: str, unmask: bool, fail_on: str | None,
              plugins: Sequence[str], as_of: str | None, lang: str) -> None:
    """Match recipients against registers (deaths, civil servants, ...): findings with
    evidence and the recommended action; a name-only match is only "needs verification"."""
    require("reconcile (its workbook)", "openpyxl")
    from .recipients.reconcile import reconcile as run

    registers = _registers(register_specs)
    if not registers:
        raise BadInput("give at least one --register name=path")
    when, note = parse_as_of(as_of)
    engine = _engine(plugins)
    ui.header(engine=engine, as_of=when, as_of_note=note)
    loaded = _read(ui, engine, data, members, adapter, "household")
    with ui.phase("matching against the registers"):
        rec = run(engine, loaded, registers=registers, as_of=when, unmask=unmask)
    with ui.phase("writing the findings"):
        written = rec.write(out)
    for p in written:
        ui.info(f"wrote {p}")
    ui.set(written=[str(p) for p in written])
    summary = rec.summary()
    ui.table(summary, title=("Temuan register per jenis dan tindakan" if lang == "id" else
                             "Register findings by kind and action"), key="reconcile",
             headers=_headers(engine, summary.column_names, lang, when), total=_word("total", lang),
             sum_columns=["findings"],
             notes=[("Keluarga dihitung sekali per baris; satu keluarga bisa muncul di beberapa "
                     "baris." if lang == "id" else "A family is counted once per row; one "
                     "family can appear in several rows.")], lang=lang)
    freed = rec.freed_places()
    if freed.num_rows:
        ui.table(freed, title=("Kuota yang dapat dialihkan (bukti 'hentikan pembayaran')"
                               if lang == "id" else "Places freed ('stop payment' evidence)"),
                 key="freed_places", headers=_headers(engine, freed.column_names, lang, when),
                 total=_word("total", lang), lang=lang)
    if fail_on and _has_findings(rec.findings, fail_on):
        ui.warn(f"findings of severity {fail_on} or worse")
        ui.done()
        sys.exit(1)


@main.command()
@click.argument("data", type=click.Path(exists=True), required=False)
@click.option("--members", type=click.Path(exists=True))
@click.option("--institutions", type=click.Path(exists=True), help="LKS table.")
@click.option("--adapter")
@register_option
@click.option("--previous", type=click.Path(exists=True),
              help="Last month's snapshot (Parquet) to report the changes since.")
@click.option("--history", type=click.Path(exists=True, file_okay=False),
              help="A folder of saved snapshots (*.parquet, --save-snapshot): the trend over "
                   "all of them.")
@click.option("--save-snapshot", type=click.Path(), help="Save this month's snapshot here.")
@click.option("--demo", "demo_size", type=int,
              help="Report on a generated demo city of this many households instead of DATA.")
@click.option("--out", type=click.Path(), default="report", show_default=True)
@click.option("--locale", default="id_ID", show_default=True,
              help="Locale of the report's numbers and dates (id_ID, en_US, ...).")
@plugin_option
@as_of_option
@command_options
def report(ui: Ui, data: str | None, members: str | None, institutions: str | None,
           adapter: str | None, register_specs: Sequence[str], previous: str | None,
           history: str | None, save_snapshot: str | None, demo_size: int | None, out: str,
           locale: str, plugins: Sequence[str], as_of: str | None) -> None:
    """Write the monthly report: one self-contained HTML file with charts and an XLSX
    workbook (headline figures, eligibility per kelurahan, findings, LKS per level, changes,
    trend, proposals)."""
    require("report", "plotly", "openpyxl", "jinja2", "babel")
    from .recipients.reallocate import propose_reallocation
    from .recipients.reconcile import reconcile as run_reconcile
    from .recipients.snapshots import Snapshot, compare_snapshots, take_snapshot
    from .reports import write_report

    engine = _engine(plugins)
    registers = _registers(register_specs)
    lks: Any = None
    if demo_size is not None:
        from .demo import generate_city

        when, note = parse_as_of(as_of) if as_of else (None, "the demo city's date")
        with ui.phase(f"generating a demo city of {number(demo_size)} households"):
            city = generate_city(demo_size)
        when = when or city.as_of
        ui.header(engine=engine, as_of=when, as_of_note=note)
        ui.info(f"demo city: {number(city.households.num_rows)} households, "
                f"{number(city.persons.num_rows)} persons, "
                f"{number(city.institutions.num_rows)} LKS")
        households: Any = city.households
        persons: Any = city.persons
        lks = city.institutions
        if city.death_register is not None and "death" not in registers:
            registers = {**registers, "death": city.death_register}
    elif data is not None:
        when, note = parse_as_of(as_of)
        ui.header(engine=engine, as_of=when, as_of_note=note)
        loaded = _read(ui, engine, data, members, adapter, "household")
        households, persons = loaded.tables["household"], loaded.tables.get("person")
        if institutions:
            lks = _read(ui, engine, institutions, None, None, "institution").tables[
                "institution"]
    else:
        raise BadInput("give DATA (and --members) or --demo N")
    with ui.phase("evaluating the households"):
        snap = take_snapshot(engine, households, persons, as_of=when)
    if save_snapshot:
        ui.info(f"wrote {snap.save(save_snapshot)}")
    with ui.phase("evaluating the LKS"):
        lks_snap = take_snapshot(engine, lks, entity="institution", as_of=when) \
            if lks is not None else None
    with ui.phase("matching against the registers"):
        rec = run_reconcile(engine, households, persons, registers=registers, as_of=when) \
            if registers else None
    with ui.phase("comparing with the saved snapshots"):
        changes = compare_snapshots(Snapshot.load(previous), snap, engine=engine) \
            if previous else None
        saved = [Snapshot.load(p) for p in sorted(Path(history).glob("*.parquet"))
                 if not p.name.endswith(".findings.parquet")] if history else []
        if save_snapshot and history:  # this month's file, if saved there, is `snap` itself
            saved = [s for s in saved if s.as_of != snap.as_of]
    proposal = propose_reallocation(engine, snap, rec, as_of=when) if rec is not None else None
    Path(out).mkdir(parents=True, exist_ok=True)
    with ui.phase("writing the report"):
        files = write_report(Path(out) / "report.html", Path(out) / "report.xlsx",
                             snapshot=snap, reconciliation=rec, institutions=lks_snap,
                             changes=changes, proposal=proposal, engine=engine,
                             history=saved, locale=locale)
        written = [files.html, *([files.xlsx] if files.xlsx is not None else [])]
        if proposal is not None:
            written.extend(proposal.write(out))
    for p in written:
        ui.info(f"wrote {p}")
    ui.set(written=[str(p) for p in written], headline=files.headline)


@main.command()
@click.option("--households", type=int, default=85_000, show_default=True,
              help="Size of the synthetic city.")
@click.option("--seed", type=int, default=3375, show_default=True)
@click.option("--out", type=click.Path(), default="demo-output", show_default=True)
@backend_option
@settle_option
@plugin_option
@lang_option
@command_options
def demo(ui: Ui, households: int, seed: int, out: str, backend: str, settle: bool,
         plugins: Sequence[str], lang: str) -> None:
    """Generate a synthetic city the size of Kota Pekalongan, evaluate everything, summarise."""
    import time

    from .demo import generate_city

    _backend(backend)
    t0 = time.perf_counter()
    engine = _engine(plugins)
    with ui.phase(f"generating a city of {number(households)} households"):
        city = generate_city(households, seed=seed)
    ui.header(engine=engine, as_of=city.as_of, as_of_note="the demo city's date")
    data_dir = Path(out) / "data"
    with ui.phase("writing the city's data"):
        city.write(str(data_dir))
    ui.info(f"generated {number(city.households.num_rows)} households, "
            f"{number(city.persons.num_rows)} "
            f"persons, {number(city.institutions.num_rows)} LKS into {data_dir}")
    with ui.phase(f"evaluating the households ({backend})"):
        hh = engine.evaluate_batch("household", city.households, members=city.persons,
                                   as_of=city.as_of, backend=backend, settle=settle)
    with ui.phase(f"evaluating the LKS ({backend})"):
        lks = engine.evaluate_batch("institution", city.institutions, as_of=city.as_of,
                                    backend=backend, settle=settle)
    with ui.phase("writing the results"):
        written = hh.write(str(Path(out) / "households")) + lks.write(str(Path(out) / "lks"))
    for p in written:
        ui.info(f"wrote {p}")
    ui.set(written=[str(p) for p in written], data=str(data_dir))
    with ui.phase("summarising"):
        _print_summary(ui, hh, "household", lang, city.persons.num_rows)
        _print_summary(ui, lks, "institution", lang)
    ui.info(f"done in {time.perf_counter() - t0:.1f} s (as of {city.as_of}, backend "
            f"{backend})")


from .tooling_cli import register as _register_tooling  # noqa: E402  (lint, table)

_register_tooling(main, plugin_option=plugin_option)
from .impact_cli import register as _register_impact  # noqa: E402  (impact, allocate)

_register_impact(main, plugin_option=plugin_option)

if __name__ == "__main__":  # pragma: no cover
    main()
