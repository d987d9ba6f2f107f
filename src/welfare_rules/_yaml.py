"""YAML reading that remembers where every value was written.

Rule files are read with PyYAML's safe loader only. Besides the plain Python data, the reader
returns a table from each value's path (a tuple of keys and list indices) to its location, so that
errors found later, by cattrs or by the expression checker, can point at ``file:line:column``.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, RuleLoadError

PathKey = tuple[str | int, ...]


class LocatedStr(str):
    """A string read from YAML that remembers where it was written.

    It is a real ``str`` (equal to and hashing like the plain text); ``where`` gives the
    location of a position inside it, so an expression's errors can point into the file.
    """

    __slots__ = ("col", "file", "line", "style")
    file: str | None
    line: int
    col: int
    style: str | None

    def where(self, line: int = 1, col: int = 0) -> Location:
        """Location of (1-based ``line``, 0-based ``col``) inside this string."""
        if self.style in ("|", ">"):
            return Location(self.file, self.line + line, col + 1)
        offset = 1 if self.style in ("'", '"') else 0
        if line == 1:
            return Location(self.file, self.line, self.col + offset + col)
        return Location(self.file, self.line + line - 1, col + 1)


def located(text: str, file: str | None, line: int, col: int, style: str | None) -> LocatedStr:
    s = LocatedStr(text)
    s.file, s.line, s.col, s.style = file, line, col, style
    return s


class Positions:
    """Locations of the values of one YAML document, by path."""

    def __init__(self, file: str | None):
        self.file = file
        self._at: dict[PathKey, tuple[int, int, str | None]] = {}

    def add(self, path: PathKey, node: yaml.Node) -> None:
        style = node.style if isinstance(node, yaml.ScalarNode) else None
        self._at[path] = (node.start_mark.line + 1, node.start_mark.column + 1, style)

    def get(self, path: PathKey) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p and p not in self._at:
            p = p[:-1]
        line, col, _ = self._at.get(p, (None, None, None))
        return Location(self.file, line, col)

    def inner(self, path: PathKey, line: int, col: int) -> Location:
        """The location of a position (1-based ``line``, 0-based ``col``) inside a scalar."""
        if tuple(path) not in self._at:
            return self.get(path)
        sline, scol, style = self._at[tuple(path)]
        if style in ("|", ">"):
            return Location(self.file, sline + line, col + 1)
        offset = 1 if style in ("'", '"') else 0
        if line == 1:
            return Location(self.file, sline, scol + offset + col)
        return Location(self.file, sline + line - 1, col + 1)


def _construct(node: yaml.Node, path: PathKey, pos: Positions, loader: yaml.SafeLoader) -> Any:
    pos.add(path, node)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = loader.construct_object(knode, deep=True)
            if isinstance(key, datetime.date | int | float | bool):
                key_for_path: str | int = str(key)
            else:
                key_for_path = key
            if key in out:
                raise RuleLoadError(
                    f"duplicate key '{key}'",
                    Location(pos.file, knode.start_mark.line + 1, knode.start_mark.column + 1),
                )
            out[key] = _construct(vnode, (*path, key_for_path), pos, loader)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(v, (*path, i), pos, loader) for i, v in enumerate(node.value)]
    value = loader.construct_object(node, deep=True)
    if isinstance(value, str):
        return located(value, pos.file, node.start_mark.line + 1, node.start_mark.column + 1,
                       node.style if isinstance(node, yaml.ScalarNode) else None)
    return value


def load_yaml(text: str, file: str | None = None) -> tuple[Any, Positions]:
    """Parse one YAML document safely; return the data and the positions of its values.

    Raises:
        RuleLoadError: the text is not valid YAML (with the location PyYAML reports).
    """
    pos = Positions(file)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, pos
        return _construct(node, (), pos, loader), pos
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        raise RuleLoadError(f"invalid YAML: {exc.problem or exc}", loc) from None
    except yaml.YAMLError as exc:
        raise RuleLoadError(f"invalid YAML: {exc}", Location(file)) from None
    finally:
        loader.dispose()


def load_yaml_file(path: str | Path) -> tuple[Any, Positions]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleLoadError(f"cannot read file: {exc}", Location(str(p))) from None
    return load_yaml(text, str(p))
