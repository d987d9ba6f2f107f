"""Encodings and delimiters (issue 11): a file that is UTF-8 except for a few stray bytes is read
as UTF-8 with the damaged rows quarantined; a genuine Windows-1252 file is still Windows-1252;
an adapter declares the delimiters and encodings it accepts, and a file in another one is
refused with what it looks like, not with a header it never split."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.adapters import CanonicalAdapter, MappingAdapter, read
from welfare_rules.adapters._sources import sniff_delimiter, sniff_encoding
from welfare_rules.adapters.mapping import MappingError
from welfare_rules.errors import DataError
from welfare_rules.schema import Schema

from .conftest import EXAMPLES, FIXTURES

PERSONS = (EXAMPLES / "persons.csv").read_text(encoding="utf-8")
EXPORT = (FIXTURES / "pekalongan_export.csv").read_bytes()


def _accented() -> str:
    """The persons example with accented names on every row (UTF-8 evidence throughout)."""
    lines = PERSONS.splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[2] = cells[2].replace("a", "á", 1)  # the name column
        out.append(",".join(cells))
    return "\n".join(out) + "\n"


def test_a_utf8_file_with_one_stray_byte_is_utf8_and_only_that_row_is_quarantined(
        tmp_path: Path, schema: Schema) -> None:
    """Before: one stray byte made the whole file cp1252 — every 'á' became 'Ã¡', every row
    counted as valid, no warning."""
    text = _accented()
    data = text.encode("utf-8")
    third = data.split(b"\n")
    third[3] = third[3].replace(b",", b"\xff,", 1)  # a stray byte in row 3's first cell
    p = tmp_path / "persons.csv"
    p.write_bytes(b"\n".join(third))
    res = read(p, schema, entity="person")
    names = res.tables["person"].column("name").to_pylist()
    assert all("Ã" not in n for n in names)
    assert any("á" in n for n in names)
    assert res.quarantine.column("row").to_pylist() == [3]
    assert res.quarantine.column("reason").to_pylist() == [
        "bytes that cannot be decoded as utf-8"]
    assert res.rows_read == res.rows_valid + res.rows_quarantined == len(text.splitlines()) - 1
    assert any("read as UTF-8" in w and "not UTF-8" in w for w in res.warnings)


def test_a_genuine_windows_1252_file_is_still_windows_1252(tmp_path: Path,
                                                          schema: Schema) -> None:
    p = tmp_path / "persons.csv"
    p.write_bytes(_accented().encode("cp1252"))
    res = read(p, schema, entity="person")
    assert res.rows_quarantined == 0
    assert any("á" in n for n in res.tables["person"].column("name").to_pylist())
    assert res.warnings == []


def test_non_ascii_bytes_far_down_an_ascii_file_decide_the_encoding(tmp_path: Path,
                                                                    schema: Schema) -> None:
    """A cp1252 export whose first 64 KiB are plain ASCII: sniffing the head alone said UTF-8
    and then quarantined every accented row further down."""
    lines = PERSONS.splitlines()
    head, row = lines[0], lines[1].split(",")
    body = []
    for i in range(2500):  # ~250 KiB of ASCII rows with distinct NIKs
        cells = list(row)
        cells[0] = f"33750112048{i:05d}"
        body.append(",".join(cells))
    cells = list(row)
    cells[0], cells[2] = "3375011204899999", "Kramatsarí"
    body.append(",".join(cells))
    p = tmp_path / "persons.csv"
    p.write_bytes(("\n".join([head, *body]) + "\n").encode("cp1252"))
    res = read(p, schema, entity="person")
    assert res.rows_quarantined == 0, res.quarantine.to_pylist()[:3]
    assert res.tables["person"].column("name").to_pylist()[-1] == "Kramatsarí"


@pytest.mark.parametrize(("sample", "expected"), [
    (b"a,b\nKramatsar\xc3\xad,1\n", "utf-8"),
    (b"a,b\nKramatsar\xed,1\n", "cp1252"),
    (b"a,b\nKramatsar\xc3\xad,1\nSiti\xff,2\nBu \xc3\x91oman,3\n", "utf-8"),  # a stray byte
    (b"\xef\xbb\xbfa,b\n", "utf-8-sig"),
    (b"\xff\xfea\x00,\x00b\x00", "utf-16"),
    (b"a,b\n1,2\n", "utf-8"),
])
def test_strict_utf8_first(sample: bytes, expected: str) -> None:
    assert sniff_encoding(sample).encoding == expected


def test_an_encoding_the_adapter_does_not_accept_is_refused_with_what_the_file_looks_like(
        ) -> None:
    with pytest.raises(DataError, match=r"looks UTF-8; the adapter 'x' expects cp1252"):
        sniff_encoding(b"a\nKramatsar\xc3\xad\n", ["windows-1252"], adapter="x")
    with pytest.raises(DataError, match=r"looks UTF-8 \(it starts with a byte-order mark\)"):
        sniff_encoding(b"\xef\xbb\xbfa\n", ["cp1252"])
    with pytest.raises(DataError, match=r"looks not UTF-8 .*expects utf-8"):
        sniff_encoding(b"a\nKramatsar\xed\n", ["utf-8"])
    # ASCII is every encoding at once: the first declared is taken
    assert sniff_encoding(b"a,b\n", ["windows-1252", "utf-8"]).encoding == "cp1252"
    # a declared single-byte code page other than windows-1252 is used for non-UTF-8 bytes
    assert sniff_encoding(b"a\n\xed\n", ["utf-8", "iso-8859-15"]).encoding == "iso8859-15"


def test_a_wrongly_delimited_file_is_refused_with_the_delimiter_it_has(tmp_path: Path,
                                                                       schema: Schema) -> None:
    """Before: "no column for the required field household.id (expected a header 'NO_KK';
    found: NO_KK|NIK|...)" — the header it could not split."""
    p = tmp_path / "households.csv"
    p.write_text((EXAMPLES / "households.csv").read_text())
    with pytest.raises(DataError) as exc:
        read(p, schema, adapter=CanonicalAdapter(delimiter=";"))
    assert str(exc.value).endswith("the file looks comma-separated (its header splits at ','); "
                                   "the adapter 'canonical' expects ';' (save the file with one "
                                   "of those, or declare the delimiter in the adapter)")
    # declared among others, the same file reads
    res = read(p, schema, adapter=CanonicalAdapter(delimiter=[";", ","]), members=None)
    assert res.rows_valid == 3


def test_the_city_adapter_declares_its_formats(pekalongan: MappingAdapter, tmp_path: Path,
                                               schema: Schema) -> None:
    assert pekalongan.spec.delimiters == (";", ",", "\t")
    assert pekalongan.spec.encodings == ("windows-1252", "utf-8", "utf-16")
    piped = EXPORT.replace(b";", b"|")
    p = tmp_path / "export.csv"
    p.write_bytes(piped)
    with pytest.raises(DataError, match=r"looks pipe-separated .*the adapter 'kota-pekalongan' "
                                        r"expects ';' or ',' or '\\t'"):
        read(p, schema, adapter=pekalongan)


def test_sniff_delimiter_among_the_accepted() -> None:
    assert sniff_delimiter("a;b,c;d", [";", ","]) == ";"
    assert sniff_delimiter("a;b,c,d", [";", ","]) == ","
    assert sniff_delimiter("a;b,c,d") == ","
    assert sniff_delimiter("single", [";"]) == ";"  # one column: nothing to refuse


@pytest.mark.parametrize(("data", "fragment"), [
    ({"delimiters": [";;"]}, "a delimiter is one character"),
    ({"encodings": ["klingon-8"]}, "unknown encoding 'klingon-8'"),
    ({"delimiter": ";", "delimiters": [","]}, "not both"),
    ({"encodings": []}, "a text or a list of texts"),
])
def test_a_mapping_declaring_bad_formats_is_refused(data: dict[str, object],
                                                    fragment: str) -> None:
    with pytest.raises(MappingError, match=fragment):
        MappingAdapter.from_dict({"columns": {"NO_KK": "household.id"}, **data})


def test_the_cli_gives_the_delimiter_message_whole_in_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from welfare_rules.cli import main

    p = tmp_path / "export.csv"
    p.write_bytes(EXPORT.replace(b";", b"|"))
    r = CliRunner().invoke(main, ["evaluate", str(p), "-p", "kota-pekalongan", "--adapter",
                                  "kota-pekalongan", "--as-of", "2024-07-01",
                                  "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    lines = [line for line in r.stderr.splitlines() if line.startswith("welfare-rules:")]
    assert len(lines) == 1
    assert lines[0].endswith("expects ';' or ',' or '\\t' (save the file with one of those, or "
                             "declare the delimiter in the adapter)")
    assert "Traceback" not in r.stdout + r.stderr
