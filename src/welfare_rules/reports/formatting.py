"""Numbers, money and dates for the report, in the reader's locale (Babel).

Indonesian by default: ``1.234.567``, ``Rp1.234.567``, ``1 Juli 2024``; ``locale="en_US"`` gives
``1,234,567``. ``None`` prints as an empty cell, never as ``None``.
"""

from __future__ import annotations

import datetime
from typing import Any

from .. import wording
from ..types import parse_iso_date

__all__ = ["Formatter"]


class Formatter:
    """Formatting functions bound to one locale (used as Jinja2 filters)."""

    def __init__(self, locale: str = "id_ID"):
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(locale)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"unknown locale {locale!r} (e.g. id_ID, en_US)") from None
        self.locale = locale
        self.lang = locale.split("_")[0]

    def number(self, value: Any, digits: int = 0) -> str:
        """A number with the locale's grouping; floats with ``digits`` decimals
        (:func:`welfare_rules.wording.number`)."""
        if value is None or value == "":
            return ""
        if isinstance(value, bool):
            return ("ya" if value else "tidak") if self.lang == "id" else str(value).lower()
        if isinstance(value, int):
            return wording.number(value, self.locale, decimals=0)
        if isinstance(value, float):
            return wording.number(value, self.locale, decimals=digits)
        return str(value)

    def signed(self, value: Any) -> str:
        """A change: ``+12``, ``−3``, ``0``."""
        if value is None:
            return ""
        text = self.number(abs(value))
        return ("+" if value > 0 else "−" if value < 0 else "") + text

    def money(self, value: Any) -> str:
        """Rupiah without decimals: ``Rp1.234.567``."""
        from babel.numbers import format_currency

        if value is None:
            return ""
        return str(format_currency(round(float(value)), "IDR", format="¤#,##0",
                                   currency_digits=False, locale=self.locale))

    def money_short(self, value: Any) -> str:
        """Rupiah, compact: ``Rp1,2 M`` (miliar), for the headline."""
        from babel.numbers import format_compact_currency

        if value is None:
            return ""
        return str(format_compact_currency(float(value), "IDR", fraction_digits=1,
                                           locale=self.locale))

    def date(self, value: Any) -> str:
        """``1 Juli 2024``."""
        from babel.dates import format_date

        if value is None:
            return ""
        if isinstance(value, str):
            value = parse_iso_date(value)
        return str(format_date(value, format="long", locale=self.locale))

    def cell(self, value: Any) -> str:
        """Any table cell: numbers grouped, dates long, the rest as text."""
        if isinstance(value, datetime.date):
            return self.date(value)
        if isinstance(value, int | float | bool):
            return self.number(value, 2 if isinstance(value, float) else 0)
        return "" if value is None else str(value)
