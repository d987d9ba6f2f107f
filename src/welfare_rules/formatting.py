"""Numbers as people read them in tables, reasons and charts: thousands separated, whole
rupiah without decimals, missing as a dash."""

from __future__ import annotations

from typing import Any


def number(v: Any) -> str:
    """``1234567`` → ``1,234,567``; ``2.5`` → ``2.50``; ``None`` → ``-``."""
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v - round(v)) < 1e-9 or abs(v) >= 1000 else f"{v:,.2f}"
    if isinstance(v, int) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)
