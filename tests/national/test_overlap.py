"""The programme overlap rules (Risma, 2021; docs/domain.md §2.5) as the dataset-level check
programme_overlap: BPNT with BST, and two programme types other than PKH/BPNT (BST with BLT Dana
Desa), are findings; PKH with BPNT is allowed. The national pack declares receives_bst and
receives_blt_dana_desa, which turns both pairs on."""

from __future__ import annotations

import datetime

import pyarrow as pa

import welfare_rules as wr
from welfare_rules.batch import evaluate_batch

AS_OF = datetime.date(2021, 3, 1)


def test_the_overlap_pairs_are_findings_and_pkh_with_bpnt_is_not() -> None:
    engine = wr.Engine.load()
    households = pa.table({
        "id": ["3375010101210001", "3375010101210002", "3375010101210003"],
        "receives_pkh": [False, False, True],
        "receives_bpnt": [True, False, True],
        "receives_bst": [True, True, False],
        "receives_blt_dana_desa": [False, True, False],
    })
    persons = pa.table({"nik": ["3375010101800001", "3375010101800002", "3375010101800003"],
                        "household_id": ["3375010101210001", "3375010101210002",
                                         "3375010101210003"],
                        "relationship": ["head"] * 3, "is_alive": [True] * 3})
    res = evaluate_batch(engine, "household", households, members=persons, as_of=AS_OF,
                         validate=False)
    rows = [r for r in res.findings.to_pylist() if r["check"] == "programme_overlap"]
    messages = sorted(r["message"] for r in rows)
    assert len(rows) == 2, rows
    assert "Keluarga menerima BPNT dan BST sekaligus" in messages[0]
    assert "Keluarga menerima BST dan BLT DANA DESA sekaligus" in messages[1]
