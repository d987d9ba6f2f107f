"""Numbers as people read them in tables, reasons and charts: thousands separated, whole
rupiah without decimals, missing as a dash (:func:`number`), and a table cell (:func:`cell`).

Both format through :func:`welfare_rules.wording.number` (Babel), in English by default — the
CLI tables, notebook tables and the English reasons of impact use them.
"""

from __future__ import annotations

from typing import Any

from .wording import number as _grouped

__all__ = ["cell", "number"]


def number(v: Any, lang: str = "en") -> str:
    """A figure: ``1234567`` → ``1,234,567``; ``2.5`` → ``2.50``; ``1234.5`` → ``1,235``;
    ``None`` → ``-``."""
    if v is None:
        return "-"
    if isinstance(v, float):
        whole = abs(v - round(v)) < 1e-9 or abs(v) >= 1000
        return _grouped(v, lang, decimals=0 if whole else 2)
    if isinstance(v, int) and not isinstance(v, bool):
        return _grouped(v, lang, decimals=0)
    return str(v)


def cell(v: Any, lang: str = "en") -> str:
    """A table cell: ``None`` empty, booleans ``true``/``false``, integers grouped, decimals
    with two decimals, anything else as text."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return _grouped(v, lang, decimals=0)
    if isinstance(v, float):
        return _grouped(v, lang, decimals=2)
    return str(v)
