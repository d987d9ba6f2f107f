"""Property: random damage to a valid export never crashes the reader, and every row is counted
once, as valid or quarantined."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from welfare_rules.adapters import CanonicalAdapter, MappingAdapter, read
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES, FIXTURES

PEKALONGAN = (FIXTURES / "pekalongan_export.csv").read_bytes()
PERSONS = (EXAMPLES / "persons.csv").read_bytes()


#: damage that leaves every line a line (no quote to fold lines, no cut): blanks counted exactly
LINE_SAFE = {"blank", "swap", "repeat", "reorder", "header", "blank_line", "stray", "delim_row",
             "bad_person"}


@st.composite
def damaged(draw: st.DrawFn, base: bytes, delim: bytes) -> tuple[bytes, int | None]:
    """A damaged copy of ``base`` and how many blank lines it holds (None when the damage
    may fold or cut lines, so the count is not known exactly)."""
    lines = base.replace(b"\r\n", b"\n").rstrip(b"\n").split(b"\n")
    rows = [line.split(delim) for line in lines]
    kinds: set[str] = set()
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["blank", "swap", "repeat", "reorder", "garbage",
                                     "truncate", "header", "blank_line", "stray", "quote",
                                     "delim_row", "bad_person"]))
        kinds.add(kind)
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
        elif kind == "blank_line":  # empty, spaces, a tab, or delimiters alone
            rows.insert(max(r, 1), [draw(st.sampled_from([b"", b"   ", b"\t", delim * 3]))])
        elif kind == "stray" and rows[r]:  # one byte that is not UTF-8 (nor always cp1252)
            c = draw(st.integers(0, len(rows[r]) - 1))
            byte = bytes([draw(st.integers(0x80, 0xFF))])
            rows[r][c] = rows[r][c][:1] + byte + rows[r][c][1:]
        elif kind == "quote" and rows[r]:  # a quote opened and never closed
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = b'"' + rows[r][c]
        elif kind == "delim_row" and len(rows[r]) > 1:  # one row written with another delimiter
            other = b"|" if delim != b"|" else b","
            rows[r] = [other.join(rows[r]).replace(delim, b"")]
        elif kind == "bad_person" and rows[r]:  # a person cell that does not parse (a date)
            c = draw(st.integers(0, len(rows[r]) - 1))
            rows[r][c] = draw(st.sampled_from([b"31-02-1980", b"X", b"+2", b"7.5"]))
    data = b"\n".join(delim.join(row) for row in rows)
    truncated = draw(st.booleans())
    if truncated:  # a truncated last line
        cut = draw(st.integers(0, max(0, len(rows[-1]) * 4)))
        data = data[: max(len(data) - cut, len(delim.join(rows[0])) + 1)]
    exact = not truncated and kinds <= LINE_SAFE
    blanks = sum(1 for row in rows[1:] if not delim.join(row).replace(delim, b"").strip())
    return data, (blanks if exact else None)


def _check(damage: tuple[bytes, int | None], name: str, schema: Schema, adapter: object
           ) -> None:
    data, blanks = damage
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        path.write_bytes(data)
        try:
            res = read(path, schema, adapter=adapter, entity="person")  # type: ignore[arg-type]
        except DataError:
            return  # a wholly unreadable file (e.g. the key column's header was damaged)
    if blanks is not None:
        assert res.blank_lines == blanks
    q_rows = set(zip(res.quarantine.column("source").to_pylist(),
                     res.quarantine.column("row").to_pylist(), strict=True))
    assert res.rows_read == res.rows_valid + res.rows_quarantined
    assert res.rows_quarantined == len(q_rows)
    assert res.rows_valid == res.tables["person"].num_rows
    assert all(1 <= row <= res.rows_read for _, row in q_rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged(PEKALONGAN, b";"))
def test_damaged_pekalongan_export_never_crashes(data: tuple[bytes, int | None], schema: Schema,
                                                 pekalongan: MappingAdapter) -> None:
    _check(data, "export.csv", schema, pekalongan)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged(PERSONS, b","))
def test_damaged_canonical_persons_never_crash(data: tuple[bytes, int | None],
                                               schema: Schema) -> None:
    _check(data, "persons.csv", schema, CanonicalAdapter())


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(delim=st.sampled_from([b"|", b"#"]), data=st.data())
def test_a_whole_file_in_a_delimiter_the_adapter_does_not_accept_is_refused_by_name(
        delim: bytes, data: st.DataObject, schema: Schema, pekalongan: MappingAdapter) -> None:
    """The wrong delimiter for the whole file: one located error saying what the file looks
    like (a '#'-separated file is not recognised as any: then the header is not found)."""
    damage = data.draw(damaged(PEKALONGAN.replace(b";", delim), delim))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        path.write_bytes(damage[0])
        expected = ("looks pipe-separated" if delim == b"|"
                    else "no column for the required field")
        with pytest.raises(DataError, match=expected):
            read(path, schema, adapter=pekalongan)


HEAD = b"NO_KK,NIK,NAMA\n"
KK = b"3375010101010001"
#: a stray opening quote before the following rows (review 2, finding 9): the fast reader joined
#: them into one cell without a word when the joined record had the right number of cells
STRAY_QUOTES = {
    "quote to the end of the file": (HEAD + KK + b',3375010101010101,"Budi\n'
                                     + KK + b",3375010101010102,Ani\n", 2, 1),
    "quote closed two rows later": (HEAD + KK + b',3375010101010101,"Budi\n'
                                    + KK + b",3375010101010102,Ani\n"
                                    + KK + b',3375010101010103,Cici "x"\n'
                                    + KK + b",3375010101010104,Dodi\n", 4, 1),
    "too many cells after the join": (HEAD + KK + b',3375010101010101,"Budi\n'
                                      + KK + b",3375010101010102,Ani\n"
                                      + KK + b',3375010101010103,"Cici",\n'
                                      + KK + b",3375010101010104,Dodi\n", 4, 2),
}


@pytest.mark.parametrize("case", sorted(STRAY_QUOTES))
def test_a_stray_quote_quarantines_its_line_and_every_row_is_counted(
        case: str, schema: Schema, tmp_path: Path) -> None:
    from welfare_rules import Engine

    data, rows, quarantined = STRAY_QUOTES[case]
    path = tmp_path / "broken.csv"
    path.write_bytes(data)
    res = Engine.load(["kota-pekalongan"]).read(path, adapter="kota-pekalongan")
    assert res.rows_read == rows
    assert res.rows_quarantined == quarantined
    assert res.rows_read == res.rows_valid + res.rows_quarantined
    assert "unclosed quote on line 2" in res.quarantine.column("reason")[0].as_py()
    names = res.tables["person"].column("name").to_pylist()
    assert not any("\n" in (n or "") for n in names), names


def test_a_real_multi_line_value_is_still_read_as_one_cell(schema: Schema,
                                                           tmp_path: Path) -> None:
    """A quoted value over two lines that holds no record of its own is one cell."""
    from welfare_rules import Engine

    path = tmp_path / "ok.csv"
    path.write_bytes(HEAD + KK + b',3375010101010101,"Budi\nSantoso"\n'
                     + KK + b",3375010101010102,Ani\n")
    res = Engine.load(["kota-pekalongan"]).read(path, adapter="kota-pekalongan")
    assert (res.rows_read, res.rows_valid, res.rows_quarantined) == (2, 2, 0)
    assert res.tables["person"].column("name").to_pylist() == ["Budi\nSantoso", "Ani"]
