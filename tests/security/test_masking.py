"""NIKs and No. KK are masked in every text the library produces for others."""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from welfare_rules.decision import Finding
from welfare_rules.errors import EvaluationError, RuleLoadError
from welfare_rules.masking import mask_data, mask_field, mask_id, mask_table, mask_text

NIK = "3375010101900001"


def test_mask_id_keeps_the_region_and_the_last_four_digits() -> None:
    assert "3375********0001" == mask_id(NIK)
    assert "****" == mask_id("1234")
    assert "" == mask_id(None)


def test_a_16_digit_run_in_free_text_is_masked() -> None:
    assert "akta 3375********0001 atas nama X" == mask_text(f"akta {NIK} atas nama X")
    assert f"akta {NIK}" == mask_text(f"akta {NIK}", unmask=True)


def test_shorter_digit_runs_are_left_alone() -> None:
    assert "desil 4, 2024-01-01, 123456789012345" == mask_text(
        "desil 4, 2024-01-01, 123456789012345")


@given(st.text(alphabet="ab -:", max_size=8), st.from_regex(r"\A[0-9]{16}\Z"),
       st.text(alphabet="ab -:", max_size=8))
def test_no_16_digit_run_survives_masking(before: str, nik: str, after: str) -> None:
    import re

    assert re.search(r"[0-9]{16}", mask_text(before + nik + after)) is None


def test_identifier_fields_are_masked_whole_and_other_fields_scanned() -> None:
    assert "3375********0001" == mask_field("nik", NIK)
    assert "3375********0001" == mask_field("id", NIK, entity="household")
    assert "Budi 3375********0001" == mask_field("name", f"Budi {NIK}")
    assert NIK == mask_field("nik", NIK, unmask=True)


def test_mask_data_masks_nested_structures() -> None:
    data = {"nik": "3375010101900002", "note": [f"see {NIK}"], "n": int(NIK), "k": 7}
    assert {"nik": "3375********0002", "note": ["see 3375********0001"],
            "n": "3375********0001", "k": 7} == mask_data(data)


def test_mask_table_masks_text_columns_but_keeps_columns_asked_for_unmasked() -> None:
    t = pa.table({"nik": [NIK, None], "name": [f"x {NIK}", "y"], "nik_unmasked": [NIK, None],
                  "n": [1, 2]})
    out = mask_table(t)
    assert ["3375********0001", None] == out.column("nik").to_pylist()
    assert ["x 3375********0001", "y"] == out.column("name").to_pylist()
    assert [NIK, None] == out.column("nik_unmasked").to_pylist()
    assert t.schema == out.schema
    assert t == mask_table(t, unmask=True)


@pytest.mark.parametrize("column", [
    pa.array([NIK, "x"]).dictionary_encode(),                 # a categorical export column
    pa.array([int(NIK), 3], pa.int64()),                      # a NIK read as a number
    pa.array([[NIK], []], pa.list_(pa.string())),             # members' NIKs in a list
    pa.array([{"nik": NIK}, None], pa.struct([("nik", pa.string())])),
], ids=["dictionary", "int64", "list", "struct"])
def test_mask_table_finds_ids_in_every_column_type(tmp_path: object, column: pa.Array) -> None:
    import pyarrow.csv as pa_csv

    from welfare_rules.safecells import write_csv

    table = pa.table({"nik": column, "note": pa.array([f"kk {NIK}", None])})
    masked = mask_table(table)
    assert NIK not in str(masked.to_pylist())
    assert str(int(NIK)) not in str(masked.to_pylist())
    if pa.types.is_dictionary(column.type):
        assert masked.schema.field("nik").type == column.type  # encoded again
    path = write_csv(table, f"{tmp_path}/out.csv")
    assert NIK not in pa_csv.read_csv(path).to_pandas().to_string()
    assert NIK in str(mask_table(table, unmask=True).to_pylist())


def test_repr_and_str_of_a_finding_mask_the_ids_and_the_message() -> None:
    f = Finding("nik_invalid", "error", f"NIK {NIK} tidak sah", "person", NIK, NIK, 0)
    for text in (repr(f), str(f), repr([f]), str([f])):
        assert NIK not in text
        assert "3375********0001" in text
    assert NIK == f.record_id  # the attribute itself keeps the value for the program
    assert NIK == f.to_dict(unmask=True)["record_id"]


@pytest.mark.parametrize("error", [
    EvaluationError(f"unknown household {NIK}"),
    RuleLoadError(f"bad id {NIK}"),
])
def test_error_messages_mask_the_ids_the_user_typed(error: Exception) -> None:
    assert NIK not in str(error)
    assert "3375********0001" in str(error)


def test_a_batch_writes_its_quarantine_masked(tmp_path: Any) -> None:
    import re

    from welfare_rules.engine import Engine

    hh = tmp_path / "h.csv"
    hh.write_text("id,kelurahan,desil\n3375010101010001,Tirto,2\n"
                  "337501010101003,Tirto,3\n")  # a malformed (15-digit) No. KK
    pp = tmp_path / "p.csv"
    pp.write_text("nik,household_id,relationship\n3375014101900001,3375010101010001,head\n"
                  "337501410190002,3375010101010001,spouse\n")  # a malformed NIK
    engine = Engine.load()
    res = engine.evaluate_batch("household", str(hh), members=str(pp), as_of="2024-01-01")
    assert res.quarantine.num_rows == 2
    out = tmp_path / "out"
    res.write(out)
    text = (out / "quarantine.csv").read_text(encoding="utf-8")
    assert text.count("fewer than 16 digits") == 2  # both rows are there ...
    assert not re.search(r"[0-9]{15,}", text)  # ... with no id in full


def test_write_quarantine_unmask_writes_ids_in_full(tmp_path: Any) -> None:
    """``unmask=True`` is the caller's explicit request: the CSV holds the ids as read (it was
    masked again by the CSV writer; review #10)."""
    from welfare_rules.engine import Engine

    hh = tmp_path / "h.csv"
    hh.write_text("id,kelurahan,desil\n3375010101010001,Tirto,3375010101010009\n")  # a NIK typed
    # into desil: out of range, quarantined with the value
    loaded = Engine.load().read(str(hh))
    assert loaded.rows_quarantined == 1
    loaded.write_quarantine(tmp_path / "plain")
    loaded.write_quarantine(tmp_path / "full", unmask=True)
    assert "3375010101010009" not in (tmp_path / "plain" / "quarantine.csv").read_text()
    assert "3375010101010009" in (tmp_path / "full" / "quarantine.csv").read_text()
