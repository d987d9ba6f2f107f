"""A text cell holds at most types.TEXT_MAX (10,000) characters: the growth analysis counts a text
read from data as that long (bounds.py), so a longer one is refused on input — quarantined
with its reason in a batch read, an InputError from ``Engine.evaluate``."""

from __future__ import annotations

import datetime
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from welfare_rules import Engine, InputError
from welfare_rules.adapters import read
from welfare_rules.bounds import FIELD_TEXT
from welfare_rules.types import TEXT_MAX

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from national.conftest import household, person

AS_OF = datetime.date(2024, 7, 1)
REASON = f"longer than {TEXT_MAX:,} characters"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def test_the_bound_is_the_one_the_growth_analysis_assumes() -> None:
    assert 10_000 == TEXT_MAX == FIELD_TEXT


def test_evaluate_refuses_a_text_past_the_bound_naming_the_field(engine: Engine) -> None:
    rec = household(members=[person(datetime.date(1980, 1, 1), relationship="head",
                                    name="x" * (TEXT_MAX + 1))])
    with pytest.raises(InputError) as info:
        engine.evaluate("household", rec, as_of=AS_OF)
    text = str(info.value)
    assert "name" in text
    assert REASON in text
    assert len(text) < 1_000  # the value is cut in the message, not repeated


def test_evaluate_takes_a_text_at_the_bound(engine: Engine) -> None:
    rec = household(members=[person(datetime.date(1980, 1, 1), relationship="head",
                                    name="x" * TEXT_MAX)], kecamatan="k" * TEXT_MAX)
    engine.evaluate("household", rec, as_of=AS_OF)


def test_a_batch_read_quarantines_the_row_with_the_reason(engine: Engine, tmp_path: Path) -> None:
    rec = household()
    rows = [dict(rec, id="3375010101240001", kecamatan="k" * (TEXT_MAX + 1)),
            dict(rec, id="3375010101240002", kecamatan="k" * TEXT_MAX)]
    table = pa.table({k: [r[k] for r in rows] for k in rows[0] if k != "members"})
    res = read(table, engine.schema)
    q = res.quarantine.to_pylist()
    assert [("kecamatan", REASON)] == [(r["field"], r["reason"]) for r in q]
    assert ["3375010101240002"] == res.tables["household"].column("id").to_pylist()
    # a person's name past the bound: that member row is quarantined, in a batch too
    people = [dict(person(datetime.date(1980, 1, 1), relationship="head", serial=i + 1,
                          name=name), household_id="3375010101240002")
              for i, name in enumerate(["n" * (TEXT_MAX + 1), "n" * TEXT_MAX])]
    members = pa.table({k: [p[k] for p in people] for k in people[0]})
    batch = engine.evaluate_batch("household", table.slice(1), members=members, as_of=AS_OF)
    assert [("name", REASON)] == [(r["field"], r["reason"])
                                  for r in batch.quarantine.to_pylist()]
    assert 1 == batch.to_arrow().num_rows
