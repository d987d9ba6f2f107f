"""DuckDB text helpers the recipient jobs and the reports share: quoting an identifier, a
string literal, and the evaluation date.

Some of these jobs' queries still take values as quoted text through :func:`string_literal`;
they are to be built as sqlglot trees or with DuckDB's relational API instead, which need no
quoting at all.
"""

from __future__ import annotations

import datetime

__all__ = ["as_date", "ident", "string_literal"]


def ident(name: str) -> str:
    """``name`` as a quoted SQL identifier (``"a""b"`` for ``a"b``)."""
    return '"' + name.replace('"', '""') + '"'


def string_literal(s: str) -> str:
    """``s`` as a quoted SQL string literal (``'it''s'``)."""
    return "'" + s.replace("'", "''") + "'"


def as_date(as_of: datetime.date | str | None) -> datetime.date:
    """A date, an ISO ``YYYY-MM-DD`` string, or ``None`` (today) as a date."""
    if as_of is None:
        return datetime.date.today()
    if isinstance(as_of, str):
        return datetime.date.fromisoformat(as_of)
    return as_of
