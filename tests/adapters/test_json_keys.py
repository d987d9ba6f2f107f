"""JSON and JSON Lines keys spelt two ways are refused as duplicate CSV headers are (review #17)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from welfare_rules.adapters import read
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

NIK = "3375010101010001"


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
@pytest.mark.parametrize("records", [
    [{"id": NIK, "desil": 1, "DESIL": 9}],                   # in one record
    [{"id": NIK, "desil": 1}, {"id": NIK[:-1] + "2", "Desil": 9}],  # in two records
], ids=["one record", "two records"])
def test_keys_differing_only_in_case_are_refused(tmp_path: Path, schema: Schema, suffix: str,
                                                 records: list[dict[str, object]]) -> None:
    p = tmp_path / f"h{suffix}"
    p.write_text(json.dumps(records) if suffix == ".json"
                 else "\n".join(json.dumps(r) for r in records), encoding="utf-8")
    with pytest.raises(DataError, match=r"the keys 'desil' and '(DESIL|Desil)' differ only in "
                                        r"case"):
        read(p, schema, chunk_size=1)


def test_keys_spelt_one_way_in_every_record_are_read(tmp_path: Path, schema: Schema) -> None:
    p = tmp_path / "h.jsonl"
    p.write_text("\n".join(json.dumps({"ID": NIK[:-1] + str(i), "DESIL": i}) for i in (1, 2)),
                 encoding="utf-8")
    res = read(p, schema, chunk_size=1)
    assert res.tables["household"].column("desil").to_pylist() == [1, 2]
