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
