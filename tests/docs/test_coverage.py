"""docs/coverage.md names every fact of docs/domain.md §§1-5 with the rules and parameters that
encode it: each id it names exists in the loaded packs (national, jawa-tengah, kota-pekalongan,
kota-semarang), each id it marks † is marked unverified, and every subsection has rows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from welfare_rules import Engine

DOCS = Path(__file__).resolve().parents[2] / "docs"
SECTIONS = ["1.1", "1.2", "1.3", "1.4", "2.1", "2.2", "2.3", "2.4", "2.5", "3", "4", "5"]
_ID = re.compile(r"`([^`]+)`(†?)")


def _rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 4 and re.fullmatch(r"\d(\.\d)?", cells[0]):
            rows.append(cells)
    return rows


def _ids(cell: str) -> list[tuple[str, bool]]:
    return [(m.group(1), m.group(2) == "†") for m in _ID.finditer(cell)]


class _Packs:
    """The national pack alone (a city's override hides the national ladder's criteria) and with
    the bundled plugins, as one lookup."""

    def __init__(self) -> None:
        self.engines = [Engine.load(), Engine.load(plugins=["kota-pekalongan", "kota-semarang"])]
        self.parameters = {k: v for e in self.engines for k, v in e.parameters.items()}
        self.rules = {k: v for e in self.engines for k, v in e.rules.items()}

    def unverified(self, name: str) -> bool:
        if "." in name:
            # the pack that sets the figure marks it (a city's UMK over the national slot)
            return any(e.parameters[name].unverified for e in self.engines
                       if name in e.parameters)
        return any("UNVERIFIED" in (v.reference or "") for e in self.engines
                   for v in e.rules.get(name, ()))


@pytest.fixture(scope="module")
def engine() -> _Packs:
    return _Packs()


@pytest.fixture(scope="module")
def rows() -> list[list[str]]:
    return _rows((DOCS / "coverage.md").read_text(encoding="utf-8"))


def test_every_subsection_of_domain_md_has_rows(rows: list[list[str]]) -> None:
    domain = (DOCS / "domain.md").read_text(encoding="utf-8")
    for sec in SECTIONS:
        heading = f"### {sec} " if "." in sec else f"## {sec}. "
        assert heading in domain, f"domain.md has no section {sec}"
        assert any(r[0] == sec for r in rows), f"coverage.md has no row for §{sec}"


def test_every_id_named_exists_in_the_loaded_packs(engine: _Packs,
                                                   rows: list[list[str]]) -> None:
    missing = []
    for sec, fact, encoded, _notes in rows:
        for name, _ in _ids(encoded):
            known = name in engine.parameters if "." in name else name in engine.rules
            if not known:
                missing.append(f"§{sec} {fact[:40]}: {name}")
    assert missing == []


def test_every_id_marked_unverified_is_marked_so_in_the_packs(engine: _Packs,
                                                             rows: list[list[str]]) -> None:
    wrong = []
    for _sec, _fact, encoded, _notes in rows:
        for name, dagger in _ids(encoded):
            if not dagger:
                continue
            if not engine.unverified(name):
                wrong.append(name)
    assert wrong == []


def test_a_misspelt_id_is_caught(engine: _Packs) -> None:
    bad = _rows("| 2.4 | a fact | `pkh_eligible`, `pkh.max_desill` | |\n")
    names = [n for _, _, enc, _ in bad for n, _ in _ids(enc)]
    assert [n for n in names if n not in engine.parameters and n not in engine.rules] == [
        "pkh.max_desill"]


def test_the_rows_name_many_ids(rows: list[list[str]]) -> None:
    assert sum(len(_ids(r[2])) for r in rows) > 150
