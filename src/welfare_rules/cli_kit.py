"""What every ``welfare-rules`` command shares: the first line, ``--json``, ``-q``, tables,
progress, optional dependencies and the turning of errors into one line and exit code 2.

A command module (``cli.py`` and the commands other modules register) declares a command with
:func:`command_options` and receives a :class:`Ui`::

    @main.command()
    @command_options
    def lint(ui: Ui, ...) -> None:
        engine = load_engine(ui, plugins)
        ui.header(engine=engine, as_of=when)
        ui.table(rows, title="...", key="lint")
        ui.done()

Human messages go to stderr (the first line names the version, the as-of date and the plugins
loaded); tables go to stdout; with ``--json`` the only thing on stdout is one JSON document
(the command's result, with ``as_of`` and ``plugins``). Progress is shown on a terminal only.
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import importlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import click

from .errors import ErrorGroup, LocatedError, WelfareRulesError
from .masking import mask_text
from .types import parse_iso_date

__all__ = ["OPTIONAL", "BackendChoice", "BadInput", "Ui", "backend_option", "command_options",
           "guarded", "parse_as_of", "require", "version"]

F = TypeVar("F", bound=Callable[..., Any])

#: an optional module → (the extra that installs it, the distribution to name)
OPTIONAL: dict[str, tuple[str, str]] = {
    "pyspark": ("spark", "pyspark"),
    "pandas": ("pandas", "pandas"),
    "polars": ("polars", "polars"),
    "sqlalchemy": ("sql", "SQLAlchemy"),
    "openpyxl": ("report", "openpyxl"),
    "plotly": ("report", "plotly"),
    "jinja2": ("report", "Jinja2"),
    "babel": ("report", "Babel"),
    "kaleido": ("notebook", "kaleido"),
}


class BadInput(click.ClickException):
    """Bad options or input: exit 2 with the message on one line."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"welfare-rules: {self.format_message()}", err=True)


class OneLineGroup(click.Group):
    """The command group: click's usage errors (a file that does not exist, a bad option value,
    a missing option) become one line on stderr and exit 2, like every other error, instead of
    the usage text; ``welfare-rules`` alone still shows the help."""

    def make_context(self, info_name: str | None, args: list[str],
                     parent: click.Context | None = None, **extra: Any) -> click.Context:
        with _one_line_usage():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_usage():
            return super().invoke(ctx)


@contextlib.contextmanager
def _one_line_usage() -> Iterator[None]:
    try:
        yield
    except click.exceptions.NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        where = f" (see {exc.ctx.command_path} --help)" if exc.ctx is not None else ""
        raise BadInput(mask_text(exc.format_message()) + where) from None


def parse_as_of(value: str | None) -> tuple[datetime.date, str]:
    """The evaluation date of an ``--as-of`` option and where it came from (for the first line
    of a command's output): today when the option is not given.

    Raises:
        BadInput: the value is not an ISO date (YYYY-MM-DD).
    """
    if value is None:
        return datetime.date.today(), "today; --as-of to change"
    try:
        return parse_iso_date(value), "--as-of"
    except ValueError:
        raise BadInput(f"--as-of must be a date YYYY-MM-DD, found {value!r}") from None


def version() -> str:
    """The installed version of welfare-rules."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("welfare-rules")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0+unknown"


def pip_line(module: str) -> str:
    """The ``pip install`` line that brings ``module`` (by its optional extra)."""
    extra, dist = OPTIONAL.get(module.split(".")[0], ("", module.split(".")[0]))
    return f"pip install 'welfare-rules[{extra}]'" if extra else f"pip install {dist}"


def require(purpose: str, *modules: str) -> None:
    """Exit 2 at once, before any work, when a module ``purpose`` needs is missing.

    Raises:
        BadInput: a module cannot be imported (the message gives the pip line).
    """
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            raise BadInput(f"{purpose} needs the Python package '{module}', which is not "
                           f"installed: {pip_line(module)}") from None


def _fail(message: str, *, masked: bool = False) -> None:
    # every branch of `guarded` ends here: a duckdb, pyarrow or ValueError message may quote a
    # cell, so it is masked like the library's own errors (a located error masked its message
    # already, not its location: ``masked``)
    click.echo(f"welfare-rules: {message if masked else mask_text(message)}", err=True)
    sys.exit(2)


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def _message(exc: BaseException) -> str:
    """The first line of a library error, ids masked. A plain ``KeyError``'s ``str()`` quotes
    its key; its message is the key itself (the library's own errors are shown as they are)."""
    if isinstance(exc, KeyError) and not isinstance(exc, WelfareRulesError) and exc.args:
        first = str(exc.args[0]).splitlines()
        return mask_text(first[0] if first else type(exc).__name__)
    return mask_text(_first_line(exc))


def guarded(fn: F) -> F:
    """Turn every error into exit code 2 and one line on stderr (every located error of an
    ``ErrorGroup`` first), NIKs masked (:func:`~welfare_rules.masking.mask_text`);
    ``WELFARE_RULES_DEBUG=1`` re-raises, for the traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException,
                SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("WELFARE_RULES_DEBUG"):
                raise
            if isinstance(exc, ErrorGroup) and len(exc.errors) == 1:
                _fail(str(exc.errors[0]), masked=True)  # one located error: one line
            elif isinstance(exc, ErrorGroup):
                for e in exc.errors:
                    click.echo(str(e), err=True)
                _fail(f"{len(exc.errors)} error(s) in the rules")
            elif isinstance(exc, ImportError) and exc.name:
                _fail(f"the Python package '{exc.name}' is not installed: {pip_line(exc.name)}")
            elif isinstance(exc, WelfareRulesError | FileNotFoundError | KeyError | ValueError):
                _fail(_first_line(exc) if isinstance(exc, LocatedError) else _message(exc),
                      masked=isinstance(exc, LocatedError))
            else:
                _fail(f"internal error, {type(exc).__name__}: {_first_line(exc)} (please "
                      f"report it; WELFARE_RULES_DEBUG=1 shows the traceback)")
        return None

    return wrapper  # type: ignore[return-value]


def command_options(fn: F) -> F:
    """Add ``--json`` and ``-q/--quiet`` to a command, pass it a :class:`Ui` as ``ui`` and
    guard it (:func:`guarded`)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, as_json: bool, quiet: bool, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        root = ctx.find_root().params if ctx is not None else {}
        ui = Ui(as_json=as_json or bool(root.get("as_json")),
                quiet=quiet or bool(root.get("quiet")))
        result = fn(*args, ui=ui, **kwargs)
        ui.done()
        return result

    wrapped = guarded(wrapper)
    wrapped = click.option("--quiet", "-q", "quiet", is_flag=True,
                           help="No messages, only results and errors.")(wrapped)
    wrapped = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON document (the result) on stdout; messages "
                                "go to stderr.")(wrapped)
    return wrapped  # type: ignore[return-value]


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime.date | datetime.datetime):
        return v.isoformat()
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    if isinstance(v, set | frozenset | tuple):
        return list(v)
    return str(v)


class Ui:
    """Output of one command run: messages on stderr, results on stdout or as JSON."""

    def __init__(self, *, as_json: bool = False, quiet: bool = False):
        from rich.console import Console

        self.as_json = as_json
        self.quiet = quiet
        self.err = Console(stderr=True, highlight=False, soft_wrap=True)
        self.result: dict[str, Any] = {"version": version()}
        self._done = False

    # -- messages -------------------------------------------------------------------------

    @property
    def progress(self) -> bool:
        """Whether to show progress: on a terminal, unless quiet or JSON."""
        return not self.quiet and not self.as_json and self.err.is_terminal

    def header(self, *, engine: Any = None, as_of: datetime.date | None = None,
               as_of_note: str = "", what: str = "") -> None:
        """The first line: version, as-of date (and where it came from), plugins loaded."""
        parts = [f"welfare-rules {version()}"]
        if what:
            parts.append(what)
        if as_of is not None:
            parts.append(f"as of {as_of.isoformat()}" + (f" ({as_of_note})" if as_of_note
                                                           else ""))
            self.result["as_of"] = as_of.isoformat()
        if engine is not None:
            plugs = [p for p in engine.plugins if p.name != "user rules"]
            parts.append("plugins: " + ", ".join(p.label for p in plugs))
            self.result["plugins"] = {p.name: p.version for p in plugs}
        self.info(" · ".join(parts))

    def info(self, message: str) -> None:
        """A human message on stderr (not with ``-q``)."""
        if not self.quiet:
            self.err.print(message, markup=False, highlight=False)

    def warn(self, message: str) -> None:
        """A message that shows even with ``-q``."""
        self.err.print(f"welfare-rules: {message}", markup=False, highlight=False)

    @contextlib.contextmanager
    def phase(self, description: str) -> Iterator[None]:
        """A spinner with the elapsed time while a phase runs (on a terminal only)."""
        if not self.progress:
            yield
            return
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                      console=self.err, transient=True) as bar:
            bar.add_task(description, total=None)
            yield

    # -- results --------------------------------------------------------------------------

    def set(self, **values: Any) -> None:
        """Record values of the machine result."""
        self.result.update(values)

    def table(self, rows: Any, *, title: str, key: str, headers: Mapping[str, str] | None = None,
              total: str | None = "Total", sum_columns: Sequence[str] | None = None,
              notes: Sequence[str] = (), lang: str = "en") -> None:
        """A table: rich on stdout (headers from ``headers``, a total row over the integer
        columns, words never split; numbers grouped as ``lang`` writes them — ``3.053`` in
        Indonesian, ``3,053`` in English) or, with ``--json``, ``result["tables"][key]``."""
        import pyarrow as pa

        table = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(list(rows))
        data = table.to_pylist()
        self.result.setdefault("tables", {})[key] = data
        if notes:
            self.result.setdefault("notes", {})[key] = list(notes)
        if self.as_json:
            return
        cols = table.column_names
        numeric = {c for c in cols if _is_int(table.schema.field(c).type)
                   or _is_float(table.schema.field(c).type)}
        summed = [c for c in (sum_columns if sum_columns is not None else cols)
                  if c in numeric and _is_int(table.schema.field(c).type)]
        cells = [[_cell(r[c], lang) for c in cols] for r in data]
        totals: list[str] | None = None
        if total and summed and len(data) > 1:
            totals = [_cell(sum(r[c] or 0 for r in data), lang) if c in summed else ""
                      for c in cols]
            totals[0] = totals[0] or total
        _print_rich(title, [(headers or {}).get(c, c) for c in cols],
                    [c in numeric for c in cols], cells, totals, notes)

    def done(self) -> None:
        """Print the JSON result (once), with ``--json``."""
        if self._done:
            return
        self._done = True
        if self.as_json:
            click.echo(json.dumps(self.result, indent=2, ensure_ascii=False, default=_jsonable))


def _is_int(ty: Any) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_integer(ty))


def _is_float(ty: Any) -> bool:
    import pyarrow.types as pat

    return bool(pat.is_floating(ty) or pat.is_decimal(ty))


def _cell(v: Any, lang: str) -> str:
    from .formatting import cell

    return cell(v, lang)


def _fit(natural: list[int], minimum: list[int], room: int) -> list[int]:
    """Column widths: natural widths, the widest cut first toward their longest word until
    the table fits ``room`` (or no column can shrink further)."""
    widths = list(natural)
    while sum(widths) > room:
        shrinkable = [i for i, w in enumerate(widths) if w > minimum[i]]
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda j: widths[j])
        widths[i] -= 1
    return widths


def _print_rich(title: str, headers: Sequence[str], numeric: Sequence[bool],
                cells: Sequence[Sequence[str]], totals: Sequence[str] | None,
                notes: Sequence[str]) -> None:
    """Print a table whose every column is at least as wide as its longest word, so a word
    is never split (headers wrap between words); when even that does not fit, the console
    is widened instead of cutting words."""
    from rich.console import Console
    from rich.table import Table

    rows = [*cells, *([totals] if totals else [])]
    natural = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    minimum = [max([1, *(len(w) for text in (h, *(r[i] for r in rows))
                         for w in text.split())]) for i, h in enumerate(headers)]
    console = Console(highlight=False)
    chrome = 3 * len(headers) + 1  # borders and one space of padding each side
    widths = _fit(natural, minimum, console.width - chrome)
    if sum(widths) + chrome > console.width:
        console = Console(highlight=False, width=sum(widths) + chrome)
    t = Table(title=title, title_justify="left", show_footer=totals is not None)
    for i, h in enumerate(headers):
        t.add_column(h, justify="right" if numeric[i] else "left",
                     footer=totals[i] if totals else "", width=widths[i],
                     overflow="fold")
    for row in cells:
        t.add_row(*row)
    console.print(t)
    for note in notes:
        console.print(note, markup=False, highlight=False)


class BackendChoice(click.Choice):  # type: ignore[type-arg]
    """``--backend``: the names the built-in and installed plugins register, read on use."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        from .errors import PluginError
        from .plugins import backend_names

        try:
            return tuple(backend_names())
        except PluginError:  # a broken installed plugin: the built-in backends still work
            return tuple(backend_names(None))

    @choices.setter
    def choices(self, value: object) -> None:
        pass


#: ``--backend`` of every command that evaluates a batch (``evaluate``, ``impact``, ...).
backend_option = click.option("--backend", type=BackendChoice(), default="duckdb",
                              show_default=True)

#: ``--settle/--no-settle`` of every command that evaluates a batch and reads its statuses
#: (``evaluate``, ``diff``, ``demo``): settling is on by default, as in ``evaluate_batch``.
settle_option = click.option(
    "--settle/--no-settle", "settle", default=True, show_default=True,
    help="Settle unknown outcomes soundly, as `explain` and Engine.evaluate do: an outcome a "
         "blank input cannot change is known (a 74-year-old is elderly whatever is_pregnant "
         "says). --no-settle keeps the backend's three-valued answer (unknown as soon as a "
         "blank input is read), which is faster.")
