"""One masking function (welfare_rules.masking) for every text for others, on every backend:
a NIK typed into a free-text field is masked in explanations and in finding messages, whether
the finding comes from the Python backend or from the SQL compiler."""

from __future__ import annotations

import datetime
from typing import Any

import duckdb
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from welfare_rules.masking import mask_id, mask_id_sql

from .test_regex import Backends

AS_OF = datetime.date(2024, 1, 1)
KK = "3375010101010001"
PLANTED = "3375019999990001"  # a NIK typed into a name
NAME = f"Budi {PLANTED}"

RULES = """
- id: t_named
  when: len(name) > 3
- id: t_name_check
  kind: check
  when: len(name) > 3
  severity: warning
  message: {id: "Nama {name} (KK {id})", en: "Name {name} (KK {id})"}
"""


def test_an_explanation_masks_a_nik_typed_into_a_free_text_field(engine_from: Any) -> None:
    eng = engine_from(RULES)
    d = eng.evaluate("household", {"id": KK, "name": NAME}, as_of=AS_OF)
    for lang in ("id", "en"):
        for fmt in ("text", "json", "html"):
            text = d.explain("t_named", lang=lang, fmt=fmt)
            assert PLANTED not in text, text
            assert KK not in text
            assert "Budi 3375********0001" in text
    assert PLANTED in d.explain("t_named", unmask=True)  # in full only on request


def test_finding_messages_mask_free_text_on_every_backend(engine_from: Any) -> None:
    eng = engine_from(RULES, extra_plugins=[Backends()])
    d = eng.evaluate("household", {"id": KK, "name": NAME}, as_of=AS_OF)
    expected = "Nama Budi 3375********0001 (KK 3375********0001)"
    assert [expected] == [f.to_dict()["message"] for f in d.findings]
    table = pa.table({"id": [KK], "name": [NAME]})
    for backend in ("python", "duckdb"):
        res = eng.evaluate_batch("household", table, as_of=AS_OF, backend=backend)
        assert [expected] == res.findings.column("message").to_pylist(), backend
        assert [KK] == res.findings.column("record_id").to_pylist()  # the program's value


@given(st.one_of(st.text(max_size=30), st.from_regex(r"\A[0-9]{9,20}\Z")))
def test_the_sql_spelling_of_mask_id_is_mask_id(value: str) -> None:
    masked = mask_id_sql(exp.column("v")).sql("duckdb")
    got = duckdb.execute(f"SELECT {masked} FROM (SELECT CAST(? AS VARCHAR) AS v)",
                         [value]).fetchone()
    assert got is not None
    assert mask_id(value) == got[0]
