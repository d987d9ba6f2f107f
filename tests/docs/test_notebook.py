"""The analyst notebook's code runs as written, and the committed notebook is that code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs" / "notebooks"


def _cells() -> list[tuple[str, str]]:
    spec = importlib.util.spec_from_file_location("nb_build", DOCS / "build.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return list(mod.CELLS)


def test_notebook_code_runs() -> None:
    """Every code cell runs in order in one namespace (the last expression of a cell too)."""
    ns: dict[str, object] = {}
    for kind, text in _cells():
        if kind == "code":
            exec(compile(text, "<notebook cell>", "exec"), ns)
    impact = ns["impact"]
    assert int(impact["gained"].sum()) > 0  # type: ignore[index]
    assert int(impact["lost"].sum()) == 0  # type: ignore[index]


def test_committed_notebook_matches_its_source_and_was_executed() -> None:
    nb = json.loads((DOCS / "analyst.ipynb").read_text(encoding="utf-8"))
    sources = [("".join(c["source"]) if isinstance(c["source"], list) else c["source"])
               for c in nb["cells"]]
    assert sources == [text for _, text in _cells()]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("outputs") for c in code), "rebuild with: python docs/notebooks/build.py"


def test_every_chart_of_the_executed_notebook_has_a_static_image() -> None:
    """GitHub and nbviewer run no JavaScript: a plotly output must carry a PNG beside it."""
    import base64

    nb = json.loads((DOCS / "analyst.ipynb").read_text(encoding="utf-8"))
    charts = 0
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            html = "".join(data.get("text/html", []))
            if "application/vnd.plotly.v1+json" in data or "plotly" in html.lower():
                charts += 1
                assert "image/png" in data, "a chart without a static image: rebuild with " \
                    "python docs/notebooks/build.py (kaleido and Chromium installed)"
                png = base64.b64decode("".join(data["image/png"]))
                assert png.startswith(b"\x89PNG")
                assert len(png) > 5_000
    assert charts >= 1


def test_the_notebook_shows_results_as_html_tables() -> None:
    nb = json.loads((DOCS / "analyst.ipynb").read_text(encoding="utf-8"))
    html = ["".join(o["data"]["text/html"]) for c in nb["cells"] for o in c.get("outputs", [])
            if "text/html" in o.get("data", {})]
    assert any("BatchResult: household" in h for h in html)
    assert any("desil" in h for h in html if "BatchResult" in h)  # carry="all"
