"""CLI commands of the rule tooling: ``lint`` and ``table export`` / ``table import``.

Registered on the main ``welfare-rules`` group by :func:`register`. Exit codes follow the CLI:
0 clean, 1 findings of error level (lint), 2 bad input with a one-line reason on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from .cli_kit import Ui, command_options, require
from .hookspecs import hookimpl

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]


class FolderPack:
    """A rule pack folder (``schema.yaml``, ``rules/``, ``parameters/``) loaded as a plugin."""

    LAYER = "city"

    def __init__(self, root: Path):
        self.root = root
        self.PLUGIN_NAME = f"pack {root.name}"

    @hookimpl
    def register_schema(self, register: Any) -> None:
        if (self.root / "schema.yaml").is_file():
            register(self.root / "schema.yaml")

    @hookimpl
    def register_parameters(self, register: Any) -> None:
        if (self.root / "parameters").is_dir():
            register(self.root / "parameters")

    @hookimpl
    def register_rules(self, register: Any) -> None:
        if (self.root / "rules").is_dir():
            register(self.root / "rules")


def is_pack_folder(path: Path) -> bool:
    return path.is_dir() and any((path / x).exists() for x in ("rules", "parameters"))


def _loaded_files(engine: Any) -> set[Path]:
    files = {Path(r.location.file).resolve() for vs in engine.rules.values() for r in vs
             if r.location.file}
    files |= {Path(p.location.file).resolve() for p in engine.parameters.values()
              if p.location.file}
    return files


def lint_engine_for(paths: Sequence[str], plugins: Sequence[str]) -> tuple[Any, list[Path]]:
    """Load what ``welfare-rules lint`` looks at; return the engine and the roots to report on.

    A PATH with a file already loaded (the national pack's folder or a ``-p`` plugin's, or
    anything inside them) is only a filter; a pack
    folder (with ``rules/`` or ``parameters/``) is loaded as a plugin; other files and folders
    are loaded as extra rule files. Without PATH: the named plugins, or else the national pack.
    """
    from . import national
    from .engine import Engine
    from .loading import iter_yaml_files

    base = Engine.load(plugins=list(plugins) or None)
    loaded = _loaded_files(base)
    packs: list[Any] = []
    extra: list[str] = []
    for p in paths:
        path = Path(p)
        files = [f.resolve() for f in iter_yaml_files(path)]
        if any(f in loaded for f in files):
            # a loaded pack's folder (or a file or folder inside it): loading it again would
            # declare its schema, rules and parameters twice; its tests and schema files are
            # not rule files of their own
            continue
        if is_pack_folder(path):
            packs.append(FolderPack(path.resolve()))
        else:
            extra.append(str(path))
    engine = base if not packs and not extra else Engine.load(
        plugins=[*plugins, *packs] or None, rules=extra or None)
    if paths:
        roots = [Path(p).resolve() for p in paths]
    elif plugins:
        roots = sorted({Path(f).resolve().parent for info in engine.plugins
                        if info.obj is not None and info.source != "built-in"
                        for f in [getattr(info.obj, "__file__", "")] if f})
    else:
        roots = [Path(national.__file__).resolve().parent]
    return engine, roots


def register(group: click.Group, *, plugin_option: Decorator) -> None:
    """Add ``lint`` and ``table`` to the ``welfare-rules`` group, with the CLI's ``-p/--plugin``
    option (passed in: this module does not import the CLI module that imports it)."""

    @click.command("lint")
    @click.argument("paths", nargs=-1, type=click.Path(exists=True))
    @plugin_option
    @click.option("--min-severity", type=click.Choice(["error", "warning", "info"]),
                  default="info", show_default=True, help="Hide findings below this severity.")
    @command_options
    def lint_cmd(ui: Ui, paths: Sequence[str], plugins: Sequence[str],
                 min_severity: str) -> None:
        """Static analysis of rule files: table overlaps and gaps, unreachable ladder levels,
        parameter holes, and more. Exit 1 on any error-level finding."""
        from .lint import SEVERITIES, lint

        engine, roots = lint_engine_for(paths, plugins)
        ui.header(engine=engine, what="lint")
        findings = lint(engine, roots)
        shown = [f for f in findings
                 if SEVERITIES.index(f.severity) <= SEVERITIES.index(min_severity)]
        counts = {s: sum(1 for f in findings if f.severity == s) for s in SEVERITIES}
        ui.set(findings=[f.to_dict() for f in shown], counts=counts,
               paths=[str(r) for r in roots])
        if not ui.as_json:
            for f in shown:
                click.echo(str(f))
        ui.info(f"{counts['error']} error(s), {counts['warning']} warning(s), "
                f"{counts['info']} info")
        if counts["error"]:
            ui.done()
            sys.exit(1)

    @click.group("table")
    def table_group() -> None:
        """Decision tables and parameters as spreadsheets: export, edit, import back."""

    @table_group.command("export")
    @click.argument("name")
    @click.option("--xlsx", "out", type=click.Path(), required=True,
                  help="Workbook to write.")
    @plugin_option
    @command_options
    def table_export(ui: Ui, name: str, out: str, plugins: Sequence[str]) -> None:
        """Write decision table or parameter NAME to a workbook (one row per table row, cells
        as DMN unary tests; a parameter: a column per date)."""
        from .engine import Engine
        from .tables import export_xlsx

        require("table export", "openpyxl")
        engine = Engine.load(plugins=list(plugins) or None)
        ui.header(engine=engine, what="table export")
        written = export_xlsx(engine, name, out)
        ui.set(written=str(written), name=name)
        ui.info(f"wrote {written}")

    @table_group.command("import")
    @click.argument("workbook", type=click.Path(exists=True))
    @click.option("--into", "target", type=click.Path(exists=True),
                  help="YAML file to update (default: the file the rule or parameter came "
                       "from).")
    @click.option("--dry-run", is_flag=True, help="Show the diff, change nothing.")
    @plugin_option
    @command_options
    def table_import(ui: Ui, workbook: str, target: str | None, dry_run: bool,
                     plugins: Sequence[str]) -> None:
        """Read an exported workbook back into the YAML; print a diff of what changed."""
        from .engine import Engine
        from .tables import import_xlsx

        require("table import", "openpyxl")
        engine = Engine.load(plugins=list(plugins) or None)
        ui.header(engine=engine, what="table import")
        result = import_xlsx(engine, workbook, target, write=not dry_run)
        ui.set(file=str(result.file), changed=result.changed, diff=result.diff,
               written=result.changed and not dry_run)
        if not result.changed:
            ui.info("no change")
            return
        if not ui.as_json:
            click.echo(result.diff, nl=False)
        if not dry_run:
            ui.info(f"updated {result.file}")

    group.add_command(lint_cmd)
    group.add_command(table_group)
