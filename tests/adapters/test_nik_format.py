"""Who owns the shape of a NIK (issue 11, design point): the schema's 16-digit pattern, on every
validated path — an adapter quarantines the row with the reason, ``evaluate`` raises
``InputError`` (or, with ``on_invalid="unknown"``, gives an ``input.invalid`` finding of
severity error). Those are the flag for a malformed NIK. The national ``nik_format`` check stays
as the guard of input that no contract read (``evaluate_batch(validate=False)``: trusted
canonical tables), where it is the only flag; the later NIK checks (province, day, date,
serial, sex) flag NIKs of the right shape that are still wrong. docs/data.md says so."""

from __future__ import annotations

import datetime

import pyarrow as pa
import pytest

from welfare_rules import Engine, InputError

AS_OF = datetime.date(2024, 7, 1)
SHORT, GOOD = "337501410190001", "3375014101900001"


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def _people() -> pa.Table:
    return pa.table({"nik": [SHORT, GOOD], "name": ["Ani", "Budi"],
                     "sex": ["female", "female"],
                     "birth_date": pa.array([datetime.date(1990, 1, 1)] * 2, pa.date32())})


@pytest.mark.parametrize("backend", ["python", "duckdb"])
def test_nik_format_flags_a_malformed_nik_in_input_no_contract_read(engine: Engine,
                                                                    backend: str) -> None:
    """The path the check exists for: it is reachable, and it is the flag there."""
    res = engine.evaluate_batch("person", _people(), as_of=AS_OF, backend=backend,
                                validate=False)
    checks = [(f["check"], f["record_id"]) for f in res.findings.to_pylist()]
    assert [c for c, _ in checks] == ["nik_format"]


def test_through_validation_the_quarantine_reason_is_the_flag(engine: Engine) -> None:
    res = engine.evaluate_batch("person", _people(), as_of=AS_OF, backend="duckdb")
    assert res.quarantine.select(["row", "field"]).to_pylist() == [{"row": 1, "field": "nik"}]
    assert "fewer than 16 digits" in res.quarantine.column("reason")[0].as_py()
    assert res.findings.num_rows == 0  # no second flag for the same mistake


def test_a_record_is_refused_or_flagged_as_input_invalid(engine: Engine) -> None:
    rec = {"nik": SHORT, "name": "Ani", "sex": "female", "birth_date": datetime.date(1990, 1, 1)}
    with pytest.raises(InputError, match="nik: expected 16 digits"):
        engine.evaluate("person", rec, as_of=AS_OF)
    d = engine.evaluate("person", rec, as_of=AS_OF, on_invalid="unknown")
    assert [(f.check, f.severity) for f in d.findings] == [("input.invalid", "error")]
    assert d.value("nik_format") is None  # the NIK is missing to the rules: no guess
