"""``--settle/--no-settle`` of the commands that evaluate a batch (issue 15, item 5): settling is
on by default; ``--no-settle`` keeps the backend's three-valued answer."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
from click.testing import CliRunner

from welfare_rules.cli import main

#: a 74-year-old woman with is_pregnant blank: elderly whatever the answer, so PKH-eligible
#: once settled, unknown three-valued
HOUSEHOLDS = "id,kelurahan,desil,in_dtks\n3375010101010001,Tirto,2,true\n"
PERSONS = ("nik,household_id,sex,birth_date,relationship,is_alive,disability,school_level\n"
           "3375014106490001,3375010101010001,female,1949-06-01,head,true,none,none\n")


def _inputs(tmp_path: Path) -> tuple[str, str]:
    hh, pp = tmp_path / "households.csv", tmp_path / "persons.csv"
    hh.write_text(HOUSEHOLDS)
    pp.write_text(PERSONS)
    return str(hh), str(pp)


def _evaluate(tmp_path: Path, *switch: str) -> dict[str, object]:
    hh, pp = _inputs(tmp_path)
    out = tmp_path / ("out" + "".join(switch))
    r = CliRunner().invoke(main, ["evaluate", hh, "--members", pp, "--out", str(out),
                                  "--as-of", "2024-07-01", *switch])
    assert r.exit_code == 0, r.stderr
    row: dict[str, object] = pq.read_table(out / "results.parquet").to_pylist()[0]
    return row


def test_evaluate_settles_by_default_and_not_with_no_settle(tmp_path: Path) -> None:
    default = _evaluate(tmp_path)
    settled = _evaluate(tmp_path, "--settle")
    raw = _evaluate(tmp_path, "--no-settle")
    assert (default["pkh_eligible"], default["pkh_eligible__status"]) == (True, "true")
    assert settled == default
    assert (raw["pkh_eligible"], raw["pkh_eligible__status"]) == (None, "unknown")


def test_diff_settles_by_default_and_not_with_no_settle(tmp_path: Path) -> None:
    hh, pp = _inputs(tmp_path)

    def lost(*switch: str) -> int:
        r = CliRunner().invoke(main, ["--json", "diff", hh, "--members", pp,
                                      "--rule", "pkh_eligible", "--set", "pkh.max_desil=1",
                                      "--by", "kelurahan", "--as-of", "2024-07-01", *switch])
        assert r.exit_code == 0, r.stderr
        rows = json.loads(r.stdout)["tables"]["diff"]
        return sum(int(x["lost"]) for x in rows)

    # desil 2 above a maximum of 1: settled, the woman was eligible and loses it; three-valued
    # she was unknown before, so nothing true was lost
    assert lost() == 1
    assert lost("--no-settle") == 0


def test_the_switch_is_documented_in_the_help() -> None:
    for cmd in ("evaluate", "diff", "demo"):
        r = CliRunner().invoke(main, [cmd, "--help"])
        assert r.exit_code == 0
        assert "--settle / --no-settle" in r.stdout
        assert "three-valued" in r.stdout
