"""``welfare-rules impact`` and ``welfare-rules allocate``: tables, JSON, XLSX and HTML
output, and one-line errors with exit code 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from click.testing import CliRunner

from welfare_rules.cli import main
from welfare_rules.demo import City


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def files(city: City, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    d = tmp_path_factory.mktemp("city")
    hh = city.households.append_column("w", pa.array([2.0] * city.households.num_rows))
    pacsv.write_csv(hh, d / "households.csv")
    pacsv.write_csv(city.persons, d / "persons.csv")
    return {"data": str(d / "households.csv"), "members": str(d / "persons.csv"),
            "dir": str(d), "as_of": city.as_of.isoformat()}


def test_impact_json_totals_and_outputs(files: dict[str, str], reform_file: Path) -> None:
    out = Path(files["dir"])
    code, stdout, err = run(
        "impact", files["data"], "--members", files["members"], "--reform", str(reform_file),
        "--as-of", files["as_of"], "--json", "--xlsx", str(out / "i.xlsx"),
        "--html", str(out / "i.html"), "--changes", str(out / "ch.csv"))
    assert code == 0, err
    doc = json.loads(stdout)
    totals = {r["programme"]: r for r in doc["tables"]["totals"]}
    assert totals["pkh"]["eligible_after"] - totals["pkh"]["eligible_before"] == \
        totals["pkh"]["gainers"] - totals["pkh"]["losers"]
    assert {r["kecamatan"] for r in doc["tables"]["by"]} >= {"Pekalongan Barat"}
    assert doc["reform"]["id"] == "pkh6"
    assert "<svg" in (out / "i.html").read_text(encoding="utf-8")
    changes = (out / "ch.csv").read_text(encoding="utf-8")
    assert "pkh_desil: false → true" in changes
    assert "3375010" not in changes  # ids masked


def test_impact_weighted_doubles_the_totals(files: dict[str, str]) -> None:
    args = ["impact", files["data"], "--members", files["members"], "--set",
            "pkh.max_desil=5", "--as-of", files["as_of"], "--json", "--by", ""]
    plain = json.loads(run(*args)[1])["tables"]["totals"]
    code, stdout, err = run(*args, "--weights", "w")
    assert code == 0, err
    weighted = json.loads(stdout)["tables"]["totals"]
    for a, b in zip(plain, weighted, strict=True):
        assert b["gainers"] == 2 * a["gainers"]
        assert b["households"] == 2 * a["households"]


def test_impact_table_cells_are_grouped_in_the_command_language(files: dict[str, str]) -> None:
    """Every number cell of a CLI table is grouped as ``--lang`` writes numbers (Babel):
    ``1.699.200.000`` in Indonesian, ``1,699,200,000`` in English — not Python's ``:,``
    whatever the language (the summary and the cells disagreed)."""
    args = ["impact", files["data"], "--members", files["members"], "--set",
            "pkh.max_desil=5", "--as-of", files["as_of"], "--by", "", "-q"]
    for lang, sep, other in (("id", ".", ","), ("en", ",", ".")):
        code, stdout, err = run(*args, "--lang", lang)
        assert code == 0, err
        cells = [c for line in stdout.splitlines() if "│" in line
                 for c in re.split(r"[│\s]+", line) if c[:1].isdigit()]
        assert any(re.fullmatch(rf"\d{{1,3}}(\{sep}\d{{3}})+", c) for c in cells), (lang, cells)
        assert not any(other in c for c in cells), (lang, cells)


def test_impact_errors_are_one_line(files: dict[str, str], reform_file: Path) -> None:
    code, _, err = run("impact", files["data"], "--members", files["members"])
    assert code == 2
    assert "give --reform FILE or --set" in err
    code, _, err = run("impact", files["data"], "--members", files["members"], "--set",
                       "pkh.max_desl=5")
    assert code == 2
    assert "did you mean 'pkh.max_desil'" in err
    code, _, err = run("impact", files["data"], "--members", files["members"], "--set",
                       "pkh.max_desil=5", "--weights", "nope")
    assert code == 2
    assert "no column 'nope'" in err
    assert "Traceback" not in err


def test_allocate_quota_file_and_outputs(files: dict[str, str]) -> None:
    out = Path(files["dir"])
    (out / "q.csv").write_text("kelurahan,quota\nKlego,3\nDegayu,2\n", encoding="utf-8")
    code, stdout, err = run(
        "allocate", files["data"], "--members", files["members"], "--programme", "pkh",
        "--quota", str(out / "q.csv"), "--as-of", files["as_of"], "--json",
        "--xlsx", str(out / "a.xlsx"), "--html", str(out / "a.html"),
        "--csv", str(out / "a.csv"), "--lang", "en")
    assert code == 0, err
    rows = {r["kelurahan"]: r for r in json.loads(stdout)["tables"]["summary"]}
    assert rows["Klego"]["allocated"] == min(3, rows["Klego"]["eligible"])
    assert rows["Setono"]["quota"] == 0
    assert rows["Setono"]["allocated"] == 0
    text = (out / "a.csv").read_text(encoding="utf-8")
    assert "Waitlist no. 1 for PKH" in text
    assert "<svg" in (out / "a.html").read_text(encoding="utf-8")


def test_allocate_errors_are_one_line(files: dict[str, str]) -> None:
    out = Path(files["dir"])
    (out / "bad.csv").write_text("kelurahan,quota\nKlego,lima\n", encoding="utf-8")
    code, _, err = run("allocate", files["data"], "--programme", "pkh", "--quota",
                       str(out / "bad.csv"))
    assert code == 2
    assert "bad.csv:2: quota for 'Klego' must be a whole number" in err
    code, _, err = run("allocate", files["data"], "--programme", "pkhx", "--quota", "3")
    assert code == 2
    assert "unknown programme 'pkhx'" in err


def test_the_global_reform_option_applies_to_every_command(files: dict[str, str],
                                                            reform_file: Path,
                                                            city: City) -> None:
    hid = city.households.column("id")[0].as_py()
    code, stdout, err = run("--reform", str(reform_file), "explain", files["data"],
                            "--members", files["members"], "--id", hid, "--rule",
                            "pkh_eligible", "--as-of", files["as_of"], "--lang", "en",
                            "--full")
    assert code == 0, err
    assert "reform 'pkh6'" in err  # the first line names the layers loaded
    assert re.search(r"pkh\.max_desil = \D*6\b", stdout)


def test_impact_accepts_a_plugin_backend_and_refuses_an_unknown_one(
        files: dict[str, str], reform_file: Path) -> None:
    code, stdout, err = run(
        "impact", files["data"], "--members", files["members"], "--reform", str(reform_file),
        "--as-of", files["as_of"], "--json", "--backend", "polars")
    assert code == 0, err
    assert {r["programme"] for r in json.loads(stdout)["tables"]["totals"]} >= {"pkh"}
    code, _, err = run("impact", files["data"], "--reform", str(reform_file),
                       "--backend", "duckbd")
    assert code == 2
    assert "duckbd" in err
