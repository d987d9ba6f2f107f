"""Property: random damage to a valid export never crashes the reader, and every row is counted
once, as valid or quarantined."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules.adapters import CanonicalAdapter, MappingAdapter, read
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES, FIXTURES

PEKALONGAN = (FIXTURES / "pekalongan_export.csv").read_bytes()
PERSONS = (EXAMPLES / "persons.csv").read_bytes()


@st.composite
def damaged(draw: st.DrawFn, base: bytes, delim: bytes) -> bytes:
    lines = base.replace(b"\r\n", b"\n").rstrip(b"\n").split(b"\n")
    rows = [line.split(delim) for line in lines]
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["blank", "swap", "repeat", "reorder", "garbage",
                                     "truncate", "header"]))
        r = draw(st.integers(1, len(rows) - 1)) if len(rows) > 1 else 0
        if kind == "blank" and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = b""
        elif kind == "swap" and len(rows[r]) > 1:
            i = draw(st.integers(0, len(rows[r]) - 1))
            j = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][i], rows[r][j] = rows[r][j], rows[r][i]
        elif kind == "repeat":
            rows.insert(r, list(rows[r]))
        elif kind == "reorder":
            width = len(rows[0])
            perm = draw(st.permutations(range(width)))
            rows = [[row[p] for p in perm] if len(row) == width else row for row in rows]
        elif kind == "garbage" and rows[r]:
            c = draw(st.integers(0, len(rows[r]) - 1))
            junk = draw(st.binary(min_size=1, max_size=6))
            rows[r][c] = rows[r][c][:2] + junk + rows[r][c][2:]
        elif kind == "header":
            rows.insert(r, list(rows[0]))
    data = b"\n".join(delim.join(row) for row in rows)
    if draw(st.booleans()):  # a truncated last line
        cut = draw(st.integers(0, max(0, len(rows[-1]) * 4)))
        data = data[: max(len(data) - cut, len(delim.join(rows[0])) + 1)]
    return data


def _check(data: bytes, name: str, schema: Schema, adapter: object) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            res = read(path, schema, adapter=adapter, entity="person")  # type: ignore[arg-type]
        except DataError:
            return  # a wholly unreadable file (e.g. the key column's header was damaged)
    q_rows = set(zip(res.quarantine.column("source").to_pylist(),
                     res.quarantine.column("row").to_pylist(), strict=True))
    assert res.rows_read == res.rows_valid + res.rows_quarantined
    assert res.rows_quarantined == len(q_rows)
    assert res.rows_valid == res.tables["person"].num_rows
    assert all(1 <= row <= res.rows_read for _, row in q_rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged(PEKALONGAN, b";"))
def test_damaged_pekalongan_export_never_crashes(data: bytes, schema: Schema,
                                                 pekalongan: MappingAdapter) -> None:
    _check(data, "export.csv", schema, pekalongan)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged(PERSONS, b","))
def test_damaged_canonical_persons_never_crash(data: bytes, schema: Schema) -> None:
    _check(data, "persons.csv", schema, CanonicalAdapter())
