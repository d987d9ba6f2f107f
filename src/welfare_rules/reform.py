"""Reforms as files: a named set of parameter changes and overriding rule files.

A reform is what a planner wants to compare with the rules in force ("PKH up to decile 6",
"BPNT Rp250,000 a month from 2025"). It is a YAML file::

    title: {id: PKH sampai desil 6, en: PKH up to decile 6}
    reference: Usulan Dinas Sosial, rapat 3 Maret 2025
    description: optional, free text
    parameters:
      pkh.max_desil: 6                  # this value on every date
      bpnt.amount_month:                # or dated values, merged with the base:
        values: {2025-01-01: 250000}    #   the reform's values from its first date on
    rules:
      - pkh_reform.yaml                 # ruleset files (relative to the reform file); a rule
                                        # that replaces one in force declares overrides: <id>

``Engine.load(reform=path)`` applies it as the last layer, after every plugin and
``rules=``; ``--reform FILE`` does the same on the command line. Every changed parameter
and every reform rule keeps the reform as its origin (explanations quote it, with the file and
line), and :meth:`Engine.fingerprint` names the reform and a digest of its files. Mistakes are
reported together, each with its file and line: an unknown key or parameter (with the closest
name), a value of the wrong type, a missing rule file.
"""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from . import types as t
from ._yaml import Positions, load_yaml, load_yaml_file
from .errors import ErrorGroup, LocatedError, Location, RuleLoadError, did_you_mean
from .loading import iter_yaml_files, parameters_from_data
from .model import Basis, Parameter
from .schema import Origin, Text

__all__ = ["ParameterChange", "Reform", "load_reform"]

_KEYS = ("id", "title", "reference", "description", "parameters", "rules")


@attrs.frozen
class ParameterChange:
    """One parameter a reform changes.

    Attributes:
        name: the dotted parameter name (``pkh.max_desil``).
        values: ``(effective date, value)`` pairs; a single value on every date is dated
            ``datetime.date.min`` here (applied from the base parameter's first date).
        every_date: the value replaces the parameter on every date (the short form).
        reference: the change's own reference, if it gives one.
        location: where the change is written.
    """

    name: str
    values: tuple[tuple[datetime.date, Any], ...]
    every_date: bool
    reference: str = ""
    location: Location = attrs.field(default=Location(), eq=False)


@attrs.frozen
class Reform:
    """A loaded reform (see the module docstring for the file format).

    Attributes:
        id: a short name (the file's stem unless the file sets ``id``).
        title: ``{id, en}``.
        reference: the basis of the proposal (a decision, a meeting, a draft regulation).
        description: free text.
        parameters: the parameter changes, in file order.
        rule_files: ruleset files (absolute paths), loaded as the top layer.
        path: the reform file (``None`` when built from a mapping).
        digest: the first 16 hex digits of a SHA-256 over the reform and its rule files.
    """

    id: str
    title: Text
    reference: str = ""
    description: str = ""
    parameters: tuple[ParameterChange, ...] = ()
    rule_files: tuple[Path, ...] = ()
    path: Path | None = None
    digest: str = ""

    @property
    def origin(self) -> Origin:
        """The origin its parameters and rules carry (shown in explanations)."""
        return Origin(f"reform '{self.id}'", "", self.path.name if self.path else "")

    @property
    def plugin_name(self) -> str:
        """The layer name under which its rule files are loaded."""
        return f"reform '{self.id}'"

    def describe(self, lang: str = "en") -> str:
        """One line: ``reform '<id>': <title> (<reference>)``."""
        ref = f" ({self.reference})" if self.reference else ""
        return f"reform '{self.id}': {self.title.get(lang) or self.id}{ref}"

    def fingerprint(self) -> dict[str, Any]:
        """What :meth:`Engine.fingerprint` records about the reform."""
        return {"id": self.id, "title": self.title.en or self.title.id,
                "reference": self.reference,
                "file": self.path.name if self.path else None, "digest": self.digest}

    def apply_parameters(self, params: dict[str, Parameter]) -> list[LocatedError]:
        """Replace the changed parameters in ``params`` (the layered parameters of a load).

        A value on every date replaces the parameter; dated values keep the base's values
        before the reform's first date and take the reform's from then on. The changed
        parameter's origin is the reform and its reference names the reform file and line.

        Returns:
            the located errors: unknown parameters, values of the wrong type.
        """
        errors: list[LocatedError] = []
        for ch in self.parameters:
            old = params.get(ch.name)
            if old is None:
                errors.append(RuleLoadError(
                    f"reform '{self.id}' changes the unknown parameter '{ch.name}'"
                    f"{did_you_mean(ch.name, params)}", ch.location))
                continue
            try:  # converted to the declared type, or refused (docs/security.md)
                changed = [(d, t.convert(v, old.type)) for d, v in ch.values]
            except ValueError as exc:
                errors.append(RuleLoadError(
                    f"reform '{self.id}': parameter '{ch.name}' is {old.type}; the reform's "
                    f"value is refused: {exc}", ch.location))
                continue
            if ch.every_date:  # from the base's first date (so "since" stays meaningful)
                first = old.values[0][0] if old.values else datetime.date.min
                values: tuple[tuple[datetime.date, Any], ...] = ((first, changed[0][1]),)
            else:
                start = changed[0][0]
                values = tuple(sorted([*((d, v) for d, v in old.values if d < start),
                                       *changed]))
            where = f"{self.path.name if self.path else '<reform>'}:{ch.location.line or '?'}"
            ref = f"{self.describe('en')}, {where}"
            if ch.reference:
                ref += f"; {ch.reference}"
            # the value is the reform's (a proposal, cited as such), not the base's sourced or
            # unverified fact
            basis = Basis(instrument=self.describe("en"),
                          sources=(where, *((ch.reference,) if ch.reference else ())))
            params[ch.name] = attrs.evolve(old, values=values, origin=self.origin,
                                           reference=ref, overrides=ch.name,
                                           location=ch.location, unverified=False,
                                           basis=basis)
        return errors


def load_reform(source: str | Path | Mapping[str, Any] | Reform, *,
                base_dir: str | Path | None = None) -> Reform:
    """Load and check a reform file (or a mapping with the same keys).

    Args:
        source: the reform YAML file, a mapping, or an already loaded :class:`Reform`.
        base_dir: where relative rule files of a mapping are looked up (default: the
            current directory; a file's own folder for a file).

    Raises:
        ErrorGroup: one or more located errors (the reform's file and line).
    """
    if isinstance(source, Reform):
        return source
    path: Path | None = None
    raw = b""
    if isinstance(source, str | Path):
        path = Path(source).resolve()
        if not path.is_file():
            raise ErrorGroup([RuleLoadError(f"reform file not found: {source}",
                                            Location(str(source)))])
        try:
            data, pos = load_yaml_file(path)
        except LocatedError as exc:
            raise ErrorGroup([exc]) from None
        raw = path.read_bytes()
        folder = path.parent
    else:
        data, pos = dict(source), Positions("<reform>")
        raw = repr(sorted(data.items(), key=str)).encode()
        folder = Path(base_dir) if base_dir is not None else Path.cwd()
    fname = path.name if path else "<reform>"
    errors: list[LocatedError] = []
    if not isinstance(data, Mapping):
        raise ErrorGroup([RuleLoadError("a reform file is a mapping with title, reference, "
                                        "parameters and rules", pos.get(()))])
    for k in data:
        if k not in _KEYS:
            errors.append(RuleLoadError(f"reform: unknown key '{k}'{did_you_mean(str(k), _KEYS)}"
                                        f" (expected {', '.join(_KEYS)})", pos.get((str(k),))))
    rid = str(data.get("id") or (path.stem if path else "reform"))
    try:
        title = Text.of(data.get("title"))
    except TypeError as exc:
        errors.append(RuleLoadError(f"reform: title: {exc}", pos.get(("title",))))
        title = Text()
    if not (title.id or title.en):
        errors.append(RuleLoadError("reform: a reform needs a 'title' ({id: ..., en: ...})",
                                    pos.get(("title",)) if "title" in data else pos.get(())))
    changes = _changes(data.get("parameters"), pos, fname, errors)
    files: list[Path] = []
    for i, entry in enumerate(_list(data.get("rules"), pos, "rules", errors)):
        f = Path(str(entry))
        f = f if f.is_absolute() else folder / f
        if not f.exists():
            errors.append(RuleLoadError(f"reform: rule file not found: {entry} (looked in "
                                        f"{folder})", pos.get(("rules", i))))
            continue
        files.append(f.resolve())
    if not changes and not files and not errors:
        errors.append(RuleLoadError("reform: it changes nothing (give 'parameters' or "
                                    "'rules')", pos.get(())))
    if errors:
        raise ErrorGroup(errors, f"invalid reform {fname}")
    h = hashlib.sha256(raw)
    for f in files:
        for y in iter_yaml_files(f):
            h.update(y.read_bytes())
    return Reform(id=rid, title=title, reference=str(data.get("reference") or ""),
                  description=str(data.get("description") or ""), parameters=tuple(changes),
                  rule_files=tuple(files), path=path, digest=h.hexdigest()[:16])


def reform_from_settings(settings: Mapping[str, Any], *, title: str | None = None) -> Reform:
    """A reform from ``{parameter: value}`` (the CLI's ``--set name=value``)."""
    text = title or ", ".join(f"{k}={v}" for k, v in settings.items())
    return load_reform({"id": "set", "title": {"id": text, "en": text},
                        "reference": "--set", "parameters": dict(settings)})


def parse_setting(text: str) -> tuple[str, Any]:
    """``name=value`` with the value read as YAML (``6``, ``250000``, ``true``, ``2025-01-01``).

    Raises:
        ErrorGroup: no ``=`` or an empty name.
    """
    name, eq, value = text.partition("=")
    if not eq or not name.strip():
        raise ErrorGroup([RuleLoadError(f"--set expects name=value, found {text!r}",
                                        Location("--set"))])
    data, _ = load_yaml(value, "--set")
    return name.strip(), data


def _list(value: Any, pos: Positions, key: str, errors: list[LocatedError]) -> Sequence[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        errors.append(RuleLoadError(f"reform: '{key}' is a list of files", pos.get((key,))))
        return []
    return value


def _changes(value: Any, pos: Positions, fname: str,
             errors: list[LocatedError]) -> list[ParameterChange]:
    if value is None:
        return []
    if not isinstance(value, Mapping):
        errors.append(RuleLoadError("reform: 'parameters' maps parameter names to values",
                                    pos.get(("parameters",))))
        return []
    out: list[ParameterChange] = []
    for name, spec in value.items():
        path = ("parameters", str(name))
        loc = pos.get(path)
        if isinstance(spec, Mapping):
            if "values" not in spec:
                errors.append(RuleLoadError(
                    f"reform: parameter '{name}': a mapping needs 'values' ({{date: value}}); "
                    f"a plain value applies on every date", loc))
                continue
            ps, es = parameters_from_data({**spec}, _Shifted(pos, path), Origin(file=fname),
                                          (str(name),))
            errors.extend(es)
            if ps and not ps[0].values:
                errors.append(RuleLoadError(f"reform: parameter '{name}': no values", loc))
            elif ps:
                out.append(ParameterChange(str(name), ps[0].values, False,
                                           str(spec.get("reference") or ""), loc))
        elif isinstance(spec, list):
            errors.append(RuleLoadError(
                f"reform: parameter '{name}': expected a value or {{values: {{date: value}}}},"
                f" found a list", loc))
        else:
            out.append(ParameterChange(str(name), ((datetime.date.min, spec),), True, "", loc))
    return out


class _Shifted(Positions):
    """Positions of a sub-mapping: paths looked up under ``base``."""

    def __init__(self, pos: Positions, base: tuple[str | int, ...]):
        super().__init__(pos.file)
        self._pos = pos
        self._base = base

    def get(self, path: Any) -> Location:
        return self._pos.get((*self._base, *tuple(path)))

    def inner(self, path: Any, line: int, col: int) -> Location:
        return self._pos.inner((*self._base, *tuple(path)), line, col)
