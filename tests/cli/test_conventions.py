"""The command line's conventions: the first line (version, as-of date, plugins), ``--json`` on
every command, ``--version``, ``-q``, tables that never split a word, one-line errors (exit 2)
for every failure, a missing optional package named with its pip line, rule tests under their
own plugins and a plugin folder checked in its plugin's context."""

from __future__ import annotations

import datetime
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from welfare_rules.cli import main

PLUGIN = Path(__file__).parents[2] / "plugins" / "kota-pekalongan"
PLUGIN_PKG = PLUGIN / "src" / "welfare_rules_kota_pekalongan"


def run(*args: str) -> tuple[int, str, str]:
    r = CliRunner().invoke(main, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A small demo city written as CSV and Parquet (households, persons, death register)."""
    from welfare_rules.demo import generate_city

    out = tmp_path_factory.mktemp("city")
    generate_city(600, seed=7).write(str(out))
    return out


def first_id(city: Path) -> str:
    import pyarrow.parquet as pq

    return str(pq.read_table(city / "households.parquet").column("id")[5])


def commands(city: Path, tmp: Path) -> dict[str, list[str]]:
    hh, pp = str(city / "households.csv"), str(city / "persons.csv")
    return {
        "demo": ["demo", "--households", "400", "--out", str(tmp / "demo")],
        "evaluate": ["evaluate", hh, "--members", pp, "--out", str(tmp / "eval"),
                     "--as-of", "2024-07-01"],
        "explain": ["explain", hh, "--members", pp, "--id", first_id(city),
                    "--as-of", "2024-07-01", "--rule", "pkh_eligible"],
        "diff": ["diff", hh, "--members", pp, "--set", "pkh.max_desil=5", "--rule",
                 "pkh_eligible", "--as-of", "2024-07-01"],
        "reconcile": ["reconcile", hh, "--members", pp, "--register",
                      f"death={city / 'death_register.csv'}", "--out", str(tmp / "rec"),
                      "--as-of", "2024-07-01"],
        "report": ["report", "--demo", "2000", "--out", str(tmp / "report")],
        "check": ["check", str(PLUGIN_PKG / "rules")],
        "test": ["test", str(Path(__file__).parents[2] / "src" / "welfare_rules" / "national"
                             / "tests" / "test_programmes.yaml")],
        "schema": ["schema"],
        "plugins": ["plugins"],
    }


AS_OF_COMMANDS = {"demo", "evaluate", "explain", "diff", "reconcile", "report"}


def test_every_command_prints_its_result_as_json_on_stdout(city: Path, tmp_path: Path) -> None:
    for name, args in commands(city, tmp_path).items():
        code, out, err = run(*args, "--json")
        assert code == 0, f"{name}: {err}"
        doc = json.loads(out)  # nothing else on stdout
        assert doc["version"], name
        if name in AS_OF_COMMANDS:
            assert re.fullmatch(r"\d{4}-\d\d-\d\d", doc["as_of"]), name
        if name != "schema":
            assert "welfare-rules-national" in doc["plugins"], name
        # the first line, on stderr, names the version, the date and the plugins
        first = err.splitlines()[0]
        assert first.startswith("welfare-rules "), (name, first)
        if name in AS_OF_COMMANDS:
            assert f"as of {doc['as_of']}" in first, (name, first)
            assert "plugins: " in first, (name, first)
            assert "welfare-rules-national" in first, (name, first)
    # some contents
    _, out, _ = run(*commands(city, tmp_path)["diff"], "--json")
    rows = json.loads(out)["tables"]["diff"]
    assert rows
    for r in rows:  # every count is explained: changed = gained + lost + other
        assert r["changed"] == r["gained"] + r["lost"] + r["other"]


def test_the_as_of_date_says_where_it_came_from(city: Path) -> None:
    hh = str(city / "households.csv")
    _, _, err = run("explain", hh, "--id", first_id(city), "--rule", "poor_bps")
    assert "(today; --as-of to change)" in err.splitlines()[0]
    _, _, err = run("explain", hh, "--id", first_id(city), "--rule", "poor_bps",
                    "--as-of", "2024-07-01")
    assert "as of 2024-07-01 (--as-of)" in err.splitlines()[0]


def test_json_and_quiet_work_before_the_command_too(city: Path, tmp_path: Path) -> None:
    code, out, err = run("-q", "--json", *commands(city, tmp_path)["check"])
    assert code == 0
    assert json.loads(out)["ok"] is True
    assert err == ""


def test_quiet_prints_no_messages(city: Path, tmp_path: Path) -> None:
    code, out, err = run(*commands(city, tmp_path)["evaluate"], "-q")
    assert code == 0
    assert err == ""
    assert "Jumlah" in out  # the tables are the result, they still print


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert re.fullmatch(r"welfare-rules \d+\.\d+\.\d+\S*\n", out)


def test_tables_have_totals_titles_and_never_split_a_word(city: Path, tmp_path: Path) -> None:
    from welfare_rules import Engine

    code, out, _ = run(*commands(city, tmp_path)["evaluate"], "--lang", "en")
    assert code == 0
    from welfare_rules.explain import title_on

    engine = Engine.load()
    # the titles as shown: their parameters filled with the values in force (the run's date)
    words = {w for rid in ("poor_bps", "pkh_eligible", "bpnt_eligible", "pbi_eligible")
             for w in title_on(engine, rid, datetime.date(2024, 7, 1), "en").split()}
    assert "9" in words  # poor_bps: "at least 9 of the 14 BPS criteria"
    cells = {c for line in out.splitlines() for c in re.split(r"[│┃|\s]+", line) if c}
    missing = {w for w in words if w not in cells}
    assert not missing, f"split or missing header words: {missing}\n{out}"
    assert "Total" in out
    assert "pkh_elig" not in out  # titles, not ids
    _, out_id, _ = run(*commands(city, tmp_path)["evaluate"])
    assert engine.rule("pkh_eligible").title.get("id").split()[0] in out_id
    assert "Jumlah" in out_id


def test_households_and_persons_are_counted_apart(city: Path, tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    n_hh = pq.read_table(city / "households.parquet").num_rows
    n_p = pq.read_table(city / "persons.parquet").num_rows
    code, out, err = run(*commands(city, tmp_path)["evaluate"], "--json")
    assert code == 0
    read = json.loads(out)["read"]
    assert read["household"]["read"] == n_hh
    assert read["person"]["read"] == n_p
    assert f"read {n_hh:,} households" in err
    assert f"{n_p:,} persons" in err


def test_explain_selects_the_record_without_reading_the_whole_file(
        city: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from welfare_rules.engine import Engine

    sources: list[str] = []
    real = Engine.read

    def spy(self: Engine, source: Any, *args: Any, **kwargs: Any) -> Any:
        sources.append(str(source))
        return real(self, source, *args, **kwargs)

    monkeypatch.setattr(Engine, "read", spy)
    for suffix in ("csv", "parquet"):
        sources.clear()
        code, out, err = run("explain", str(city / f"households.{suffix}"), "--members",
                             str(city / f"persons.{suffix}"), "--id", first_id(city),
                             "--rule", "pkh_eligible", "--as-of", "2024-07-01", "--json")
        assert code == 0, err
        assert "was not read whole" in err
        assert sources
        assert str(city) not in sources[0]
        doc = json.loads(out)
        assert doc["decisions"][0]["rule"] == "pkh_eligible"
    # the same decision as from the whole file
    from welfare_rules.lookup import read_one

    engine = Engine.load()
    whole = next(r for r in engine.read(str(city / "households.csv"),
                                        members=str(city / "persons.csv")).iter_records()
                 if r["id"] == first_id(city))
    one, _ = read_one(engine, city / "households.csv", first_id(city),
                      members=city / "persons.csv")
    assert one == whole


def test_an_absent_id_is_exit_2_and_masked(city: Path) -> None:
    code, _, err = run("explain", str(city / "households.parquet"), "--id",
                       "3375999999999999")
    assert code == 2
    assert "3375999999999999" not in err
    assert err.strip().splitlines()[-1].startswith("welfare-rules: no household")


def test_any_error_is_one_line_and_exit_2_never_a_traceback(
        city: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from welfare_rules.engine import Engine

    def boom(*_a: Any, **_k: Any) -> Any:
        raise RuntimeError("something unexpected\nsecond line")

    monkeypatch.setattr(Engine, "evaluate_batch", boom)
    r = CliRunner().invoke(main, commands(city, tmp_path)["evaluate"])
    assert r.exit_code == 2
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("welfare-rules: internal error, RuntimeError: something unexpected")
    assert "second line" not in r.stderr
    assert "Traceback" not in r.output
    assert not isinstance(r.exception, RuntimeError)


def test_a_missing_optional_package_exits_2_at_once_with_the_pip_line(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import welfare_rules.demo as demo

    def never(*_a: Any, **_k: Any) -> Any:
        raise AssertionError("work started before the dependency check")

    monkeypatch.setattr(demo, "generate_city", never)
    monkeypatch.setitem(sys.modules, "plotly", None)  # import plotly raises ImportError
    code, _, err = run("report", "--demo", "300", "--out", str(tmp_path / "r"))
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        "welfare-rules: report needs the Python package 'plotly', which is not installed: "
        "pip install 'welfare-rules[report]'")
    assert not (tmp_path / "r").exists()
    monkeypatch.setitem(sys.modules, "pyspark", None)
    code, _, err = run("demo", "--households", "300", "--backend", "spark")
    assert code == 2
    assert "pip install 'welfare-rules[spark]'" in err


def test_test_with_a_city_plugin_runs_national_cases_under_the_national_pack() -> None:
    code, out, _err = run("test", "-p", "kota-pekalongan", "--json")
    assert code == 0, out[-3000:]
    doc = json.loads(out)
    assert doc["failed"] == 0
    by_file: dict[str, set[tuple[str, ...]]] = {}
    for c in doc["cases"]:
        by_file.setdefault(c["location"].rsplit(":", 2)[0], set()).add(tuple(c["plugins"]))
    national = [f for f in by_file if "/national/tests/" in f]
    city = [f for f in by_file if "welfare_rules_kota_pekalongan" in f]
    assert national
    assert city
    assert all(by_file[f] == {()} for f in national)
    assert all(by_file[f] == {("kota-pekalongan",)} for f in city)
    # -p selects more files, it does not add cases to the national ones
    # (the city's files and those of the province it requires, jawa-tengah)
    _, out_n, _ = run("test", "--json")
    assert json.loads(out_n)["passed"] + sum(
        1 for c in doc["cases"] if "welfare_rules_kota_pekalongan" in c["location"]
        or "welfare_rules_jawa_tengah" in c["location"]) == doc["passed"]


def test_a_test_file_that_declares_no_plugins_runs_under_p(tmp_path: Path) -> None:
    f = tmp_path / "cases.yaml"
    f.write_text("- name: the city's UMK is loaded\n  entity: household\n  as_of: 2024-07-01\n"
                 "  input: {id: '3375011501200001', head_income_month: 2400000, members: []}\n"
                 "  output: {excl_income_above_min_wage: true}\n")
    code, out, _ = run("test", str(f), "-p", "kota-pekalongan")
    assert code == 0, out
    code, out, _ = run("test", str(f))  # national UMK is higher: the case fails
    assert code == 1


def test_a_malformed_plugins_declaration_is_located(tmp_path: Path) -> None:
    f = tmp_path / "cases.yaml"
    f.write_text("plugins: kota-pekalongan\ncases: []\n")
    code, out, _ = run("test", str(f))
    assert code == 1
    assert f"{f}:1:" in out
    assert "'plugins' is a list of plugin names" in out


@pytest.mark.parametrize("target", [PLUGIN_PKG / "rules", PLUGIN_PKG / "parameters", PLUGIN])
def test_check_a_plugin_folder_in_the_context_of_its_plugin(target: Path) -> None:
    for extra in ((), ("-p", "kota-pekalongan")):
        code, out, err = run("check", str(target), *extra)
        assert code == 0, err
        assert out.startswith("ok:")
        assert "of kota-pekalongan" in out
    code, out, _ = run("check", str(PLUGIN_PKG / "rules"), "--json")
    assert json.loads(out)["rulesets"] == 4


def test_check_of_a_plugin_folder_still_finds_its_errors(tmp_path: Path) -> None:
    """A plain folder (no installed plugin owns it) is loaded as user rules, as before."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: t_bad\nentity: household\nrules:\n  - id: t_bad_a\n"
                   "    when: param.no_such.parameter > 1\n")
    code, _, err = run("check", str(bad))
    assert code == 2
    assert f"{bad}:5:" in err


def test_report_draws_the_trend_over_a_folder_of_saved_snapshots(tmp_path: Path) -> None:
    hist = tmp_path / "snapshots"
    hist.mkdir()
    code, _, err = run("report", "--demo", "2000", "--as-of", "2024-06-01", "--out",
                       str(tmp_path / "june"), "--save-snapshot", str(hist / "2024-06.parquet"))
    assert code == 0, err
    code, out, err = run("report", "--demo", "2000", "--history", str(hist), "--out",
                         str(tmp_path / "july"), "--json", "--locale", "en_US")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["as_of"] == "2024-07-01"
    assert doc["headline"]["change"]["since"] == "2024-06-01"
    page = (tmp_path / "july" / "report.html").read_text(encoding="utf-8")
    assert 'id="chart-trend"' in page
    assert f"{doc['headline']['households']:,}" in page  # en_US grouping


def test_check_refuses_a_plugin_folder_that_differs_from_the_installed_plugin(
        tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "welfare_rules_kota_pekalongan"
    shutil.copytree(PLUGIN_PKG, copy, ignore=shutil.ignore_patterns("__pycache__"))
    code, _, err = run("check", str(copy / "rules"))
    assert code == 0, err  # the same files as the installed plugin
    rules = copy / "rules" / "household.yaml"
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    code, _, err = run("check", str(copy / "rules"))
    assert code == 2
    assert "differs from the installed plugin 'kota-pekalongan'" in err
    assert "rules/household.yaml" in err


def test_check_of_a_plugin_that_is_not_installed_says_how_to_check_it_with_it(
        tmp_path: Path) -> None:
    """A plugin's folder is checked over the national pack while the plugin is not installed
    (its developer checks it before installing). Its rules may read the plugin's own schema and
    parameters: then they gave 54 errors that are not theirs (found by the fresh-install CLI
    sweep), and the last line says so and how to check it with its plugin."""
    import shutil

    dist = tmp_path / "kota-baru"
    shutil.copytree(PLUGIN, dist, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    src = dist / "src"
    (src / "welfare_rules_kota_pekalongan").rename(src / "welfare_rules_kota_baru")
    project = dist / "pyproject.toml"
    project.write_text(project.read_text(encoding="utf-8").replace(
        'kota-pekalongan = "welfare_rules_kota_pekalongan"',
        'kota-baru = "welfare_rules_kota_baru"'), encoding="utf-8")
    rules = dist / "src" / "welfare_rules_kota_baru" / "rules"
    for target in (dist, rules):
        code, _, err = run("check", str(target))
        assert code == 2
        last = err.splitlines()[-1]
        assert "error(s) checking" in last, last
        assert "over the national pack" in last
        assert "the plugin 'kota-baru'" in last
        assert "which is not installed" in last
        assert f"pip install -e {dist}" in last
        assert "Traceback" not in err
    code, _, err = run("check", str(rules), "--alone")
    assert "not installed" not in err


def test_check_of_a_plugin_that_is_not_installed_passes_when_its_rules_need_only_the_pack(
        tmp_path: Path) -> None:
    """Rules of a not-yet-installed plugin that read only the national pack's fields are
    checked over it and pass, as before the plugin folder was recognised (review 4 F7); a
    malformed pyproject.toml is no plugin, not an internal error."""
    dist = tmp_path / "my-city"
    (dist / "rules").mkdir(parents=True)
    (dist / "pyproject.toml").write_text(
        '[project]\nname = "my-city"\n[project.entry-points.welfare_rules]\n'
        'my-city = "my_city"\n', encoding="utf-8")
    (dist / "rules" / "r.yaml").write_text(
        "id: my_city_set\nentity: household\nversion: '1'\nrules:\n"
        "  - id: my_big_house\n    when: floor_area_m2 > 100\n", encoding="utf-8")
    code, out, err = run("check", str(dist / "rules"))
    assert code == 0, err
    assert out.startswith("ok:")
    for bad in ('project = "x"\n', '[project]\nentry-points = "x"\n'):
        (dist / "pyproject.toml").write_text(bad, encoding="utf-8")
        code, out, err = run("check", str(dist / "rules"))
        assert code == 0, err
        assert "internal error" not in err
