"""docs/explanations.md shows the summary and the full explanation of one household in both
languages (issue 15): the record in the page is evaluated and each text block is checked."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).parents[2] / "docs" / "explanations.md"


def _section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("## One household, both levels, both languages")
    return text[start:text.index("\n## ", start + 3)]


def test_the_page_shows_both_levels_in_both_languages_of_the_same_household() -> None:
    section = _section()
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    scope: dict[str, Any] = {}
    exec(code.group(1), scope)  # the page's own record and evaluation
    d = scope["d"]
    blocks = re.findall(r"```text\n(.*?)\n```", section, re.S)
    wanted = [("id", "summary"), ("en", "summary"), ("id", "full"), ("en", "full")]
    assert len(blocks) == len(wanted)
    for block, (lang, level) in zip(blocks, wanted, strict=True):
        assert block == d.explain("pkh_eligible", lang=lang, level=level), (lang, level)
