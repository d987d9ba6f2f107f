"""Charts for HTML pages: the geometry of a paired bar chart, drawn as SVG by the templates
(``templates/_bars.html.j2``), and the template loader (Jinja2, autoescaped)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..formatting import number
from ..templating import environment

#: the report, impact and allocation page templates
TEMPLATES = Path(__file__).parent / "templates"


def bar_chart(bars: Sequence[Mapping[str, Any]], legend: tuple[str, str], *,
              width: int = 640) -> dict[str, Any]:
    """Geometry of a horizontal paired bar chart (the template draws it as SVG)."""
    top = max([float(b["a"]) for b in bars] + [float(b["b"]) for b in bars] + [1.0])
    label_w, row_h = 220, 30
    scale = (width - label_w - 90) / top
    rows = []
    for i, b in enumerate(bars):
        y = 20 + i * row_h
        rows.append({"label": str(b["label"]), "y": y,
                     "a": {"w": float(b["a"]) * scale, "v": number(b["a"])},
                     "b": {"w": float(b["b"]) * scale, "v": number(b["b"])}})
    return {"rows": rows, "width": width, "height": 30 + len(bars) * row_h, "x0": label_w,
            "legend": legend}


def template(name: str) -> Any:
    """A template of ``reports/templates`` (autoescaped HTML; the environment of
    :func:`welfare_rules.templating.environment`, shared with the report)."""
    return environment(TEMPLATES).get_template(name)
