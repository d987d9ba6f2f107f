"""docs/impact.md shows what its example code produces (docs/impact_example.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCS = Path(__file__).parents[2] / "docs"


def test_the_impact_page_matches_its_example() -> None:
    spec = importlib.util.spec_from_file_location("impact_example", DOCS / "impact_example.py")
    assert spec is not None
    assert spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    page = (DOCS / "impact.md").read_text(encoding="utf-8")
    shown = example.current(page)
    produced = example.blocks()
    assert sorted(shown) == sorted(produced)
    for name, text in produced.items():
        assert shown[name] == text, f"docs/impact.md block '{name}' is stale: run " \
                                    f"python docs/impact_example.py --write"
