"""The documentation is self-contained: a user's clone has no ``shared/`` folder, so neither the
README nor a page of docs/ may send the reader to DESIGN.md, STYLE.md, domain.md outside docs/,
or any file outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FORBIDDEN = re.compile(r"DESIGN\.md|STYLE\.md|\bshared/|(?<![\w/])domain\.md")


def test_no_page_refers_to_files_outside_the_repository() -> None:
    bad = []
    for page in PAGES:
        for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            # a bare "domain.md" is a file the reader cannot find; docs/domain.md or a link
            # "(domain.md)" from inside docs/ is the project's own page
            text = re.sub(r"\]\(domain\.md[^)]*\)", "]()", line) if page.parent.name == "docs" \
                else line
            if FORBIDDEN.search(text.replace("docs/domain.md", "")):
                bad.append(f"{page.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not bad, "references to files outside the project:\n" + "\n".join(bad)


def test_the_check_finds_a_reference_outside() -> None:
    assert FORBIDDEN.search("see DESIGN.md §7")
    assert FORBIDDEN.search("(domain.md §2.5)")
    assert FORBIDDEN.search("../shared/STYLE.md")
    assert not FORBIDDEN.search("docs/domain.md".replace("docs/domain.md", ""))
