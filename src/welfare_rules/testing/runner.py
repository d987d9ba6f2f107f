"""YAML rule test cases: loading, running, and reporting differences.

A test file is a list of cases, or a mapping with ``plugins`` (the entry-point names of the
plugins its cases run with, besides the national pack), ``defaults`` (keys every case inherits)
and ``cases``::

    - name: a household meeting exactly 9 criteria is poor
      entity: household
      as_of: 2024-01-01
      parameters: {bps.min_criteria: 9}
      input: {...}
      output: {poor_bps: true}
      status: {poor_bps: "true"}
      members_output: [{age: 44}]
      findings: [deceased_recipient]

Every case has an ``as_of`` (its own or the file's ``defaults``): a case run as of today would
pass one year and fail the next. ``output`` compares values (``null`` means unknown); numbers
compare with a tolerance of one thousandth. A failure reports the case's name and each
differing value, never a traceback.

Each file runs under its own declaration: the file's ``plugins`` when it has them, else the
plugins it was given (for a file a plugin registers: that plugin; for the national pack's
files: none). Loading more plugins for a run (``welfare-rules test -p kota-pekalongan``) selects
more files; it never changes the plugins a file's cases run with, so the national cases keep
their national parameters when a city's UMK is loaded beside them.
"""

from __future__ import annotations

import contextlib
import datetime
import math
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .._yaml import load_yaml_file
from ..errors import LocatedError, Location, WelfareRulesError
from ..types import parse_iso_date

_CASE_KEYS = {"name", "entity", "as_of", "parameters", "input", "output", "status",
              "members_output", "findings", "plugins", "error", "on_invalid"}
#: What a case checks besides ``output``/``status``: any of these, even empty, is an expectation
#: (``findings: []`` expects none, ``members_output: []`` no members).
_EXPECTING = ("members_output", "findings", "error")


@attrs.frozen
class RuleTestCase:
    """One YAML case."""

    name: str
    location: Location
    entity: str
    as_of: datetime.date
    input: Mapping[str, Any]
    output: Mapping[str, Any] = attrs.field(factory=dict)
    status: Mapping[str, str] = attrs.field(factory=dict)
    members_output: Sequence[Mapping[str, Any]] | None = None
    findings: Sequence[str] | None = None
    parameters: Mapping[str, Any] = attrs.field(factory=dict)
    plugins: tuple[str, ...] = ()
    error: str | None = None  # the expected error message fragment, if the case must fail
    on_invalid: str = "raise"  # Engine.evaluate's on_invalid: "unknown" takes bad input as missing


@attrs.frozen
class CaseResult:
    case: RuleTestCase
    diffs: tuple[str, ...] = ()
    error: str | None = None

    @property
    def passed(self) -> bool:
        return not self.diffs and self.error is None

    def report(self) -> str:
        lines = [f"{self.case.location}: {self.case.name}"]
        if self.error:
            lines.append(f"    error: {self.error}")
        lines.extend(f"    {d}" for d in self.diffs)
        return "\n".join(lines)


class RuleTestFileError(LocatedError):
    """A rule test file is malformed."""


def load_cases(path: str | Path, plugins: Sequence[Any] = ()) -> list[RuleTestCase]:
    """Read the cases of one YAML test file.

    Args:
        path: the file.
        plugins: the plugins its cases run with when the file declares none.

    Raises:
        RuleTestFileError: the file is not a list of cases, or a case is malformed, has no
            ``as_of`` (or not a date YYYY-MM-DD) or expects nothing (located).
    """
    data, pos = load_yaml_file(path)
    defaults: dict[str, Any] = {}
    file_plugins: tuple[Any, ...] = tuple(plugins)
    items = data
    if isinstance(data, Mapping):
        declared = data.get("plugins")
        if declared is not None:
            if not isinstance(declared, list) or not all(isinstance(x, str) for x in declared):
                raise RuleTestFileError("'plugins' is a list of plugin names",
                                        pos.get(("plugins",)))
            file_plugins = tuple(declared)
        defaults = dict(data.get("defaults") or {})
        items = data.get("cases")
    if not isinstance(items, list):
        raise RuleTestFileError("a rule test file is a list of cases (or a mapping with "
                                "'cases')", pos.get(()))
    base: tuple[str | int, ...] = ("cases",) if isinstance(data, Mapping) else ()
    cases = []
    for i, raw in enumerate(items):
        where = pos.get((*base, i))
        if not isinstance(raw, Mapping):
            raise RuleTestFileError("a case is a mapping", where)
        item = {**defaults, **raw}
        extra = set(item) - _CASE_KEYS
        if extra:
            raise RuleTestFileError(f"case {i + 1}: unknown key(s) {sorted(extra)} (expected "
                                    f"{sorted(_CASE_KEYS)})", where)
        for key in ("name", "input"):
            if key not in item:
                raise RuleTestFileError(f"case {i + 1}: '{key}' is required", where)
        if not (item.get("output") or item.get("status")) \
                and all(item.get(k) is None for k in _EXPECTING):
            raise RuleTestFileError(
                f"case {i + 1} ('{item['name']}') expects nothing, so it could never fail: give "
                "at least one of 'output' or 'status' (not empty), 'members_output', 'findings' "
                "or 'error'", where)
        as_of = _case_date(item, i, pos.get((*base, i, "as_of")) if "as_of" in raw
                           else pos.get(("defaults", "as_of")) if "as_of" in defaults else where)
        cases.append(RuleTestCase(
            name=str(item["name"]), location=where, entity=str(item.get("entity", "household")),
            as_of=as_of, input=item["input"], output=item.get("output") or {},
            status=item.get("status") or {}, members_output=item.get("members_output"),
            findings=item.get("findings"), parameters=item.get("parameters") or {},
            plugins=file_plugins + tuple(item.get("plugins") or ()), error=item.get("error"),
            on_invalid=str(item.get("on_invalid", "raise"))))
    return cases


def _case_date(item: Mapping[str, Any], i: int, where: Location) -> datetime.date:
    """A case's ``as_of``: required (a case run as of today passes one year and fails the
    next), a date or a text ``YYYY-MM-DD``."""
    if "as_of" not in item:
        raise RuleTestFileError(
            f"case {i + 1} ('{item['name']}'): 'as_of' is required (the date the case is "
            "evaluated on, YYYY-MM-DD; in the case or in 'defaults')", where)
    as_of = item["as_of"]
    if isinstance(as_of, datetime.datetime):
        return as_of.date()
    if isinstance(as_of, datetime.date):
        return as_of
    if isinstance(as_of, str):
        with contextlib.suppress(ValueError):
            return parse_iso_date(as_of)
    raise RuleTestFileError(f"case {i + 1} ('{item['name']}'): 'as_of' is a date YYYY-MM-DD, "
                            f"found {as_of!r}", where)


def iter_case_files(path: str | Path) -> list[Path]:
    p = Path(path)
    if p.is_dir():
        return sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml"))
    return [p]


def registered_test_files(engine: Any) -> list[tuple[Path, tuple[Any, ...]]]:
    """The test files the engine's plugins registered, each with the plugins it runs under
    when it declares none: the registering plugin (the national pack's files: none)."""
    by_name = {p.name: p for p in engine.plugins}
    out = []
    for path, plugin in engine.rule_tests:
        info = by_name.get(plugin)
        own: tuple[Any, ...] = ()
        if info is not None and info.layer != "national" and info.source != "built-in" \
                and info.obj is not None:
            own = (info.obj,)
        out.append((Path(path), own))
    return out


_REGISTERED: dict[Path, tuple[Any, ...]] | None = None
_REGISTERED_LOCK = threading.Lock()


def plugins_registering(path: str | Path) -> tuple[Any, ...]:
    """The installed plugin whose ``register_rule_tests`` registers ``path`` (or a folder
    holding it), as the plugins a file that declares none runs under; ``()`` when none does.

    Only the plugins' ``register_rule_tests`` hooks are called (no engine is loaded), once
    per process.
    """
    global _REGISTERED
    with _REGISTERED_LOCK:
        if _REGISTERED is None:
            _REGISTERED = _registered_paths()
        found = Path(path).resolve()
        for root, plugins in _REGISTERED.items():
            if root == found or root in found.parents:
                return plugins
    return ()


def _registered_paths() -> dict[Path, tuple[Any, ...]]:
    from ..plugins import installed_entry_points, resolve_plugins

    out: dict[Path, tuple[Any, ...]] = {}
    for ep in installed_entry_points():
        try:
            info = resolve_plugins([ep.name])[0]
        except WelfareRulesError:
            continue  # a broken plugin is reported by `welfare-rules plugins`
        hook = getattr(info.obj, "register_rule_tests", None)
        if hook is None:
            continue
        paths: list[Any] = []
        hook(paths.append)
        for registered in paths:
            out[Path(registered).resolve()] = (ep.name,)
    return out


class EngineCache:
    """Engines by (plugins, parameter overrides): loading is the slow part of a test run."""

    def __init__(self, base_plugins: Sequence[Any] = ()):
        self.base = tuple(base_plugins)
        self._engines: dict[Any, Any] = {}
        self._lock = threading.Lock()

    def get(self, plugins: Sequence[Any], parameters: Mapping[str, Any]) -> Any:
        from ..engine import Engine

        key = (tuple(map(_key, (*self.base, *plugins))),
               tuple(sorted((k, repr(v)) for k, v in parameters.items())))
        with self._lock:
            eng = self._engines.get(key)
            if eng is None:
                plugs = [*self.base, *plugins]
                eng = Engine.load(plugins=plugs or None, parameters=dict(parameters) or None)
                self._engines[key] = eng
            return eng


def _key(p: Any) -> Any:
    return p if isinstance(p, str) else id(p)


def _same(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or (expected == actual and type(expected) is type(actual))
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-3)
    if isinstance(expected, str) and isinstance(actual, datetime.date):
        return expected == actual.isoformat()
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    if isinstance(expected, Mapping) and isinstance(actual, Mapping):
        return set(expected) == set(actual) and all(_same(expected[k], actual[k])
                                                    for k in expected)
    return bool(expected == actual)


def _show(v: Any) -> str:
    return "unknown" if v is None else repr(v)


def run_case(case: RuleTestCase, engines: EngineCache,
             observe: Callable[[Any], None] | None = None) -> CaseResult:
    """Run one case; never raises for a failing case (the result says what differs).

    ``observe`` is called with the case's decision (rule coverage uses it).
    """
    try:
        engine = engines.get(case.plugins, case.parameters)
        d = engine.evaluate(case.entity, case.input, as_of=case.as_of,
                            on_invalid=case.on_invalid)
        if observe is not None:
            observe(d)
        diffs: list[str] = []
        for rid, want in case.output.items():
            got = d.value(rid)
            if not _same(want, got):
                diffs.append(f"{rid}: expected {_show(want)}, got {_show(got)}")
        for rid, want in case.status.items():
            got = d.status(rid)
            if str(want) != got:
                diffs.append(f"status of {rid}: expected {want}, got {got}")
        if case.members_output is not None:
            members = d.members
            if len(members) != len(case.members_output):
                diffs.append(f"members_output lists {len(case.members_output)} members, the "
                             f"record has {len(members)}")
            for i, (md, want_m) in enumerate(zip(members, case.members_output, strict=False)):
                for rid, want in (want_m or {}).items():
                    got = md.value(rid)
                    if not _same(want, got):
                        diffs.append(f"member {i + 1} {rid}: expected {_show(want)}, got "
                                     f"{_show(got)}")
        if case.findings is not None:
            got_f = sorted(f.check for f in d.findings)
            if sorted(case.findings) != got_f:
                diffs.append(f"findings: expected {sorted(case.findings)}, got {got_f}")
        if case.error is not None:
            diffs.append(f"expected an error containing {case.error!r}, but it evaluated")
        return CaseResult(case, tuple(diffs))
    except (WelfareRulesError, KeyError) as exc:
        msg = str(exc)
        if case.error is not None and case.error in msg:
            return CaseResult(case)
        return CaseResult(case, error=f"{type(exc).__name__}: {msg}")


def run_rule_tests(paths: Iterable[str | Path | tuple[str | Path, Sequence[Any]]],
                   plugins: Sequence[Any] = (),
                   engines: EngineCache | None = None,
                   observe: Callable[[Any], None] | None = None) -> list[CaseResult]:
    """Run every case of the given files or folders.

    Args:
        paths: files or folders; an item ``(path, plugins)`` gives the plugins its files run
            under when they declare none (default: ``plugins``).
        plugins: the plugins of files that declare none and have none of their own.
        engines: a cache of loaded engines (shared between runs).
        observe: called with every case's decision (see :mod:`welfare_rules.testing.coverage`).
    """
    engines = engines or EngineCache()
    results = []
    for item in paths:
        path, own = item if isinstance(item, tuple) else (item, tuple(plugins))
        for f in iter_case_files(path):
            try:
                cases = load_cases(f, own)
            except LocatedError as exc:
                dummy = RuleTestCase(f.name, exc.location or Location(str(f)), "household",
                                     datetime.date.today(), {})
                results.append(CaseResult(dummy, error=str(exc)))
                continue
            for case in cases:
                results.append(run_case(case, engines, observe))
    return results
