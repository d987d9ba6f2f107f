"""The evaluation date of the recipient jobs, as they all accept it.

Their queries are built by :mod:`welfare_rules.sqlbuild` (sqlglot trees, values bound as
parameters), so no quoting helper lives here.
"""

from __future__ import annotations

import datetime

from ..types import parse_iso_date

__all__ = ["as_date"]


def as_date(as_of: datetime.date | str | None) -> datetime.date:
    """A date, an ISO ``YYYY-MM-DD`` string, or ``None`` (today) as a date."""
    if as_of is None:
        return datetime.date.today()
    if isinstance(as_of, str):
        return parse_iso_date(as_of)
    return as_of
