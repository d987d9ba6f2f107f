"""Hostile data cannot reach a reader's spreadsheet or leak a NIK, and outputs are reproducible.

One small synthetic city is made hostile: every text field of every household and person holds
a NIK, kelurahan names and person names are spreadsheet formulas. Every file the library writes
for others (the report's HTML and workbook, the reconciliation and reallocation files, the batch
CSVs, the quarantine) is then opened and searched.
"""

from __future__ import annotations

import csv
import datetime
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from openpyxl import load_workbook

from welfare_rules.demo import City, generate_city
from welfare_rules.engine import Engine
from welfare_rules.recipients.reallocate import propose_reallocation, write_proposal
from welfare_rules.recipients.reconcile import reconcile
from welfare_rules.recipients.snapshots import compare_snapshots, take_snapshot
from welfare_rules.reports import write_report
from welfare_rules.safecells import FORMULA_STARTS, safe_csv_table

HYPERLINK = '=HYPERLINK("http://evil.example/";"klik")'
DDE = "=cmd|' /C calc'!A0"
PLANTED = "3375019999990001"  # a NIK typed into free text


def _hostile(city: City) -> City:
    hh = city.households
    n = hh.num_rows
    kel = hh.column("kelurahan").to_pylist()
    kel = [HYPERLINK if i % 7 == 0 else k for i, k in enumerate(kel)]
    hh = hh.set_column(hh.schema.get_field_index("kelurahan"), "kelurahan", pa.array(kel))
    kec = [f"{v} {PLANTED}" for v in hh.column("kecamatan").to_pylist()]  # the free text
    hh = hh.set_column(hh.schema.get_field_index("kecamatan"), "kecamatan", pa.array(kec))
    ps = city.persons
    names = ps.column("name").to_pylist()
    names = [DDE if i % 5 == 0 else f"{v} {PLANTED}" if i % 5 == 1 else v
             for i, v in enumerate(names)]
    ps = ps.set_column(ps.schema.get_field_index("name"), "name", pa.array(names))
    assert n == hh.num_rows
    return City(hh, ps, city.institutions, city.as_of, city.death_register)


@pytest.fixture(scope="module")
def city() -> City:
    return _hostile(generate_city(400, seed=7))


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load()


def raw_ids(city: City) -> set[str]:
    return ({h["id"] for h in city.households.to_pylist()}
            | {p["nik"] for p in city.persons.to_pylist() if p["nik"]} | {PLANTED})


def _write_everything(engine: Engine, city: City, out: Path, *, quiet: bool = False
                      ) -> list[Path]:
    snap = take_snapshot(engine, city.households, city.persons, as_of=city.as_of,
                         backend="python")
    heads = [p for p in city.persons.to_pylist() if p["relationship"] == "head"][:40:3]
    if quiet:  # a register that matches nobody: every quiet month
        heads = [{"nik": "9999999999999999", "name": "Nobody", "birth_date":
                  datetime.date(1950, 1, 1)}]
    death = pa.table({
        "nik": [p["nik"] for p in heads], "name": [p["name"] for p in heads],
        "birth_date": pa.array([p["birth_date"] for p in heads], pa.date32()),
        "death_date": pa.array([datetime.date(2024, 6, 1)] * len(heads), pa.date32()),
        "certificate_number": [f"AK-{PLANTED}" for _ in heads]})
    rec = reconcile(engine, city.households, city.persons, registers={"death": death},
                    as_of=city.as_of)
    previous = take_snapshot(engine, city.households.slice(0, city.households.num_rows - 30),
                             city.persons, as_of=datetime.date(2024, 6, 1), backend="python")
    changes = compare_snapshots(previous, snap, engine=engine)
    proposal = propose_reallocation(engine, snap, rec, members=city.persons)
    files = write_report(out / "report.html", out / "report.xlsx", snapshot=snap,
                         reconciliation=rec, changes=changes, proposal=proposal, engine=engine)
    assert files.xlsx is not None
    paths = [files.html, files.xlsx]
    paths += rec.write(out)
    paths += write_proposal(proposal, out)
    return paths


@pytest.fixture(scope="module")
def written(engine: Engine, city: City, tmp_path_factory: pytest.TempPathFactory
            ) -> list[Path]:
    return _write_everything(engine, city, tmp_path_factory.mktemp("hostile"))


def _cells(path: Path) -> list[tuple[str, Any, str]]:
    out = []
    if path.suffix == ".xlsx":
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                out.extend((ws.title, c.value, c.data_type) for c in row)
    elif path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            out.extend((path.name, v, "s") for row in csv.reader(fh) for v in row)
    return out


def test_the_hostile_values_reached_the_outputs(written: list[Path]) -> None:
    """The test's premise: the formulas are in the files (as text), so the next test means it."""
    texts = [v for p in written for _, v, _ in _cells(p) if isinstance(v, str)]
    assert any(HYPERLINK in v for v in texts)
    assert any("3375********0001" in v for v in texts)


def test_no_workbook_cell_from_data_is_a_formula(written: list[Path]) -> None:
    for path in written:
        if path.suffix != ".xlsx":
            continue
        for sheet, value, data_type in _cells(path):
            assert data_type != "f", (path.name, sheet, value)


def test_no_csv_cell_starts_like_a_formula(written: list[Path]) -> None:
    for path in written:
        if path.suffix != ".csv":
            continue
        for _, value, _ in _cells(path):
            assert not value.startswith(FORMULA_STARTS), (path.name, value)


def test_no_nik_or_kk_in_any_output(written: list[Path], city: City) -> None:
    raw = raw_ids(city)
    for path in written:
        if path.suffix == ".xlsx":
            texts = [str(v) for _, v, _ in _cells(path) if v is not None]
        else:
            texts = [path.read_text(encoding="utf-8")]
        for text in texts:
            found = set(re.findall(r"[0-9]{16}", text)) & raw
            assert not found, (path.name, sorted(found)[:3])


def test_workbooks_are_byte_reproducible(engine: Engine, city: City, tmp_path: Path,
                                         written: list[Path],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Written again years later (the clocks openpyxl and zipfile read, moved on)."""
    import time
    import types
    import zipfile

    import openpyxl.writer.excel as xl_writer

    later = time.mktime((2031, 5, 6, 7, 8, 9, 0, 0, -1))

    class Later(datetime.datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Later:  # type: ignore[override]
            return cls(2031, 5, 6, 7, 8, 9, tzinfo=tz)

    monkeypatch.setattr(xl_writer, "datetime", types.SimpleNamespace(
        datetime=Later, timezone=datetime.timezone))
    monkeypatch.setattr(zipfile, "time", types.SimpleNamespace(
        time=lambda: later, localtime=time.localtime))
    again = _write_everything(engine, city, tmp_path)
    for a, b in zip(sorted(written), sorted(again), strict=True):
        if a.suffix in (".xlsx", ".csv"):
            assert a.read_bytes() == b.read_bytes(), a.name


def test_the_report_works_when_a_register_matches_nobody(engine: Engine, city: City,
                                                         tmp_path: Path) -> None:
    paths = _write_everything(engine, city, tmp_path, quiet=True)
    assert all(p.exists() for p in paths)


def test_safe_csv_table_quotes_every_formula_start() -> None:
    t = pa.table({"s": ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "ok", None],
                  "n": [-1, 2, 3, 4, 5, 6, 7, 8]})
    out = safe_csv_table(t)
    assert ["'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "'\rx", "ok", None] == \
        out.column("s").to_pylist()
    assert t.column("n") == out.column("n")  # numbers stay numbers


def _household_with_members(city: City) -> dict[str, Any]:
    persons = city.persons.to_pylist()
    for hh in city.households.to_pylist():
        members = [p for p in persons if p["household_id"] == hh["id"]]
        if any(p["name"] and PLANTED in p["name"] for p in members):
            return {**hh, "members": members}
    raise AssertionError("no household with a planted NIK")


def test_no_nik_in_explanations_findings_or_batch_files(engine: Engine, city: City,
                                                        tmp_path: Path) -> None:
    raw = raw_ids(city)
    record = _household_with_members(city)
    d = engine.evaluate("household", record, as_of=city.as_of)
    texts = [repr(d), str(d), repr(d.findings), str(d.findings),
             *(repr(m) for m in d.members)]
    for rule in ("pkh_eligible", "bpnt_eligible"):
        texts.append(d.explain(rule))
        texts.append(d.explain(rule, lang="en"))
    for backend in ("python", "duckdb"):
        res = engine.evaluate_batch("household", city.households, members=city.persons,
                                    as_of=city.as_of, backend=backend)
        # the findings in memory: their messages are text for others on every backend
        messages = res.findings.column("message").to_pylist()
        assert any(m.startswith("Digit tanggal lahir NIK") for m in messages)  # {name} in it
        texts.extend(messages)
        texts.extend(res.errors.column("message").to_pylist())
        for path in res.write(tmp_path / backend):
            if path.suffix == ".csv":
                texts.append(path.read_text(encoding="utf-8"))
    for text in texts:
        found = set(re.findall(r"[0-9]{16}", text)) & raw
        assert not found, (text[:200], sorted(found)[:3])
    assert any("3375" in t for t in texts)
    shown = d.explain("pkh_eligible", unmask=True)  # the full numbers only on request
    assert record["id"] in shown
    assert record["id"] not in d.explain("pkh_eligible")
