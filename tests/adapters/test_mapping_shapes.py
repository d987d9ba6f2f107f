"""A mapping whose ``defaults`` or ``aliases`` has the wrong shape is a located MappingError,
never an AttributeError (review #18)."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.adapters import MappingAdapter, MappingError


@pytest.mark.parametrize(("text", "line", "message"), [
    ("defaults:\n  - household.desil\n", 5, "'defaults' must map 'entity.field' to a value"),
    ("defaults: 3\n", 4, "'defaults' must map 'entity.field' to a value"),
    ("defaults: household.desil\n", 4, "'defaults' must map"),
], ids=["a list", "a number", "a text"])
def test_defaults_that_are_not_a_mapping_are_refused_where_they_are(
        tmp_path: Path, text: str, line: int, message: str) -> None:
    y = tmp_path / "m.yaml"
    y.write_text("name: t\ncolumns:\n  A: household.id\n" + text)
    with pytest.raises(MappingError, match=message) as info:
        MappingAdapter.from_yaml(y)
    assert str(info.value).startswith(f"{y}:{line}:")


@pytest.mark.parametrize("aliases", ["3", "{a: b}", "[[x]]"])
def test_aliases_that_are_not_headers_are_refused_where_they_are(tmp_path: Path,
                                                                 aliases: str) -> None:
    y = tmp_path / "m.yaml"
    y.write_text(f"name: t\ncolumns:\n  A:\n    field: household.id\n    aliases: {aliases}\n")
    with pytest.raises(MappingError, match="'aliases' must be a header or a list") as info:
        MappingAdapter.from_yaml(y)
    assert str(info.value).startswith(f"{y}:5:")


def test_aliases_as_one_header_or_a_list_are_accepted() -> None:
    for aliases in ("NO_KK", ["NO_KK", "nokk"]):
        spec = MappingAdapter.from_dict({"columns": {"A": {"field": "household.id",
                                                           "aliases": aliases}}}).spec
        assert "NO_KK" in spec.columns[0].aliases
