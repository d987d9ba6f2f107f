"""The documentation is self-contained: a user's clone has no ``shared/`` folder, so neither the
README nor a page of docs/ may send the reader to DESIGN.md, STYLE.md or any file outside the
repository (the domain facts are docs/domain.md), and every relative link resolves to a file of
the repository."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FORBIDDEN = re.compile(r"DESIGN\.md|STYLE\.md|\bshared/")
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_no_page_refers_to_files_outside_the_repository() -> None:
    bad = [f"{page.relative_to(ROOT)}:{n}: {line.strip()}" for page in PAGES
           for n, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1)
           if FORBIDDEN.search(line)]
    assert not bad, "references to files outside the project:\n" + "\n".join(bad)


def test_the_domain_facts_are_a_page_of_the_docs() -> None:
    """Pages and rule files cite "domain.md §2.4": that file is docs/domain.md."""
    assert (ROOT / "docs" / "domain.md").is_file()


def test_every_relative_link_resolves() -> None:
    missing = []
    for page in PAGES:
        for target in LINK.findall(page.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target):
                continue  # http:, https:, mailto:
            if not (page.parent / target).exists():
                missing.append(f"{page.relative_to(ROOT)}: {target}")
    assert not missing, "links to files that do not exist:\n" + "\n".join(missing)


def test_the_check_finds_a_reference_outside() -> None:
    assert FORBIDDEN.search("see DESIGN.md §7")
    assert FORBIDDEN.search("../shared/STYLE.md")
    assert not FORBIDDEN.search("see docs/domain.md §2.5")
