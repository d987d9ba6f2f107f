"""Messages of the record contract mask every identifier field masking knows (review #7, #9)."""

from __future__ import annotations

import warnings

import pytest

from welfare_rules import InputError
from welfare_rules._yaml import Positions
from welfare_rules.adapters.record import InputWarning, check_record
from welfare_rules.masking import MASKED_FIELDS, mask_id
from welfare_rules.schema import Origin, Schema, SchemaBuilder

SHORT = "337501010101000"  # 15 digits: a malformed NIK, not caught by a 16-digit scan
NIK = "3375010101010001"


def _schema(field: str) -> Schema:
    b = SchemaBuilder()
    b.add_data({"entities": {"x": {"key": "code", "fields": {
        "code": "str", field: {"type": "int", "min": 0, "max": 9}}}}}, Positions(None), Origin())
    return b.build()


@pytest.mark.parametrize("field", sorted(MASKED_FIELDS))
def test_an_invalid_value_of_any_identifier_field_is_masked_in_the_input_error(field: str
                                                                              ) -> None:
    with pytest.raises(InputError) as err:
        check_record(_schema(field), "x", {"code": "a", field: SHORT})
    assert SHORT not in str(err.value)
    assert mask_id(SHORT) in str(err.value)


def test_an_unknown_key_that_is_a_nik_is_masked_in_the_input_warning() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check_record(_schema("desil"), "x", {"code": "a", NIK: {"desil": 1}}, strict=False)
    [w] = [w for w in caught if issubclass(w.category, InputWarning)]
    assert NIK not in str(w.message)
    assert mask_id(NIK) in str(w.message)
