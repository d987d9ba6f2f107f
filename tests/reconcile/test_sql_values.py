"""No value is ever pasted into SQL text (issue 13 item 5).

Two guards. The recipient jobs, the reports and the what-if diff run with hostile values where
SQL text used to be assembled: kelurahan and kecamatan names, a register declared by a plugin
with quotes in its name, title and columns, a register file whose path has quotes, a programme
with a quote in its name. And an ``ast`` scan of ``src/welfare_rules`` fails on SQL text built
from pieces: an f-string with SQL in it, or ``execute``/``sql``/``query`` given a concatenation,
``%``, ``.format()`` or ``.join()``, or a hand-written quoting of identifiers or strings.
"""

from __future__ import annotations

import ast
import csv
import datetime
import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from welfare_rules.engine import Engine
from welfare_rules.hookspecs import hookimpl
from welfare_rules.recipients.reallocate import propose_reallocation
from welfare_rules.recipients.reconcile import ACTION_STOP, reconcile
from welfare_rules.recipients.snapshots import compare_snapshots
from welfare_rules.reports import report_tables
from welfare_rules.sqlbuild import bind, query, relation

SRC = Path(__file__).resolve().parents[2] / "src" / "welfare_rules"
KEL = "x'); DROP TABLE t; --"
KEC = 'Kec "Barat"; DELETE FROM rh; --'
REGISTER = "o'neil \"list\"); --"
TITLE = "Daftar 'O'Neil'; --"
KEY = 'cert"no\'); --'
PROG = "it's"  # a programme: receives_it's, it's_eligible
AS_OF = datetime.date(2025, 6, 1)
NIKS = ["3375011111111111", "3375012222222222", "3375013333333333", "3375014444444444"]
KKS = ["3375010101250001", "3375010101250002"]


class HostileRegisters:
    """A plugin declaring a register whose name, title and key column have quotes in them."""

    PLUGIN_NAME = "hostile-registers"

    @hookimpl
    def register_registers(self, register: Any) -> None:
        register(REGISTER, {"title": TITLE, "fields": {"nik": "str", KEY: "str"}, "key": KEY,
                            "match": ["nik"], "action": ACTION_STOP, "severity": "error"})


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.load(plugins=[HostileRegisters()])


def _households() -> pa.Table:
    return pa.table({"id": KKS, "kecamatan": [KEC, KEC], "kelurahan": [KEL, KEL],
                     "receives_pkh": [True, False], f"receives_{PROG}": [True, False]})


def _persons() -> pa.Table:
    return pa.table({
        "nik": NIKS, "household_id": [KKS[0], KKS[0], KKS[1], KKS[1]],
        "name": ["Siti O'Hara", "Budi \"B\"", "José", "王小明"],
        "birth_date": [datetime.date(1950, 1, 1)] * 4,
        "relationship": ["head", "spouse", "head", "child"],
        "is_alive": [True, True, True, True]})


def test_reconcile_takes_hostile_names_registers_and_paths_as_values(
        engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "death 'register' \"june\"; --.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["nik", "name", "birth_date", "death_date", "certificate_number"])
        w.writerow([NIKS[0], "Siti O'Hara", "1950-01-01", "2025-05-01", "AK-1'; --"])
    hostile = pa.table({"nik": [NIKS[0]], KEY: ["K'1\"; --"]})
    res = reconcile(engine, _households(), _persons(), as_of=AS_OF, programmes=["pkh", PROG],
                    registers={"death": str(path), REGISTER: hostile})
    got = {(f["register"], f["register_title"], f["register_key"], f["kecamatan"],
            f["kelurahan"], f["programmes"]) for f in res.findings.to_pylist()
           if f["match_type"] == "nik"}
    assert got == {
        ("death", "Death register (Dukcapil)", "AK-1'; --", KEC, KEL, f"pkh, {PROG}"),
        (REGISTER, TITLE, "K'1\"; --", KEC, KEL, f"pkh, {PROG}"),
    }
    sources = set(res.findings.column("register_source").to_pylist())
    assert str(path) in sources
    records = [json.loads(f["register_record"]) for f in res.findings.to_pylist()
               if f["register"] == REGISTER]
    assert records == [{"nik": "3375********1111", KEY: "K'1\"; --"}]
    freed = res.freed_places(["pkh", PROG]).to_pylist()
    assert {(r["programme"], r["kecamatan"], r["kelurahan"], r["places"]) for r in freed} == {
        ("pkh", KEC, KEL, 1), (PROG, KEC, KEL, 1)}
    assert {r["register"] for r in res.summary().to_pylist()} == {"death", REGISTER}


def _results(score: list[int], eligible: list[bool]) -> pa.Table:
    return pa.table({"id": KKS, "kecamatan": [KEC, KEC], "kelurahan": [KEL, KEL],
                     "desil": [1, 2], "priority_score": score,
                     f"{PROG}_eligible": eligible, f"receives_{PROG}": [False, False],
                     "pkh_eligible": eligible, "receives_pkh": [True, False]})


def test_reallocation_snapshots_and_report_take_hostile_values(engine: Engine) -> None:
    places = pa.table({"programme": [PROG], "kelurahan": [KEL], "places": [1]})
    prop = propose_reallocation(engine, _results([5, 7], [True, True]), places,
                                programmes=[PROG], as_of=AS_OF, exclude=[])
    proposed = [(r["programme"], r["kelurahan"], r["role"], r["place"])
                for r in prop.table.to_pylist()]
    assert proposed == [(PROG, KEL, "proposed", 1), (PROG, KEL, "reserve", None)]
    assert [(r["programme"], r["kelurahan"], r["places"]) for r in prop.summary.to_pylist()] \
        == [(PROG, KEL, 1)]

    old, new = _results([5, 7], [True, False]), _results([5, 7], [True, True])
    diff = compare_snapshots(old, new, rules=[f"{PROG}_eligible"], key="id")
    assert [(r["rule"], r["kelurahan"], r["change"]) for r in diff.changed.to_pylist()] == [
        (f"{PROG}_eligible", KEL, "gained")]

    tables = report_tables(new, changes=diff, proposal=prop, programmes=["pkh", PROG])
    by_kel = tables["eligibility by kelurahan"].to_pylist()
    assert [(r["kecamatan"], r["kelurahan"], r["households"], r[f"{PROG}_eligible"])
            for r in by_kel] == [(KEC, KEL, 2, 2)]


def test_the_query_builder_quotes_identifiers_and_binds_values() -> None:
    import duckdb

    con = duckdb.connect()
    con.register("t", pa.table({KEY: ["a"], "kelurahan": [KEL]}))
    q = query("SELECT __c AS __alias FROM t WHERE kelurahan = __kel", c=KEY, alias=KEL,
              kel=bind(KEL))
    assert KEL not in q.text.replace('"' + KEL.replace('"', '""') + '"', "")  # only as a name
    assert list(q.params.values()) == [KEL]
    assert relation(con, q).to_arrow_table().to_pydict() == {KEL: ["a"]}
    with pytest.raises(KeyError, match="__kel"):
        query("SELECT 1 WHERE x = __kel")
    with pytest.raises(KeyError, match="no query hole"):
        query("SELECT 1", kel=bind(1))


# -- the scan ---------------------------------------------------------------------------------

_SQL = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|CREATE|INSERT|UPDATE|DELETE|UNION|GROUP BY|"
                  r"ORDER BY|FILTER|CASE WHEN)\b")
_RUNNERS = {"execute", "executemany", "sql", "query"}


def _built(node: ast.expr) -> bool:
    """An expression that assembles text from pieces."""
    if isinstance(node, ast.JoinedStr):
        return any(not isinstance(v, ast.Constant) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("format", "join"))


def sql_text_problems(source: str, where: str) -> list[str]:
    """The places in ``source`` where SQL text is built from values or quoted by hand."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr) and _built(node):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            if _SQL.search(str(text)):
                problems.append(f"{where}:{node.lineno}: an f-string of SQL")
        elif isinstance(node, ast.Call) and node.args:
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
            if name in _RUNNERS and _built(node.args[0]):
                problems.append(f"{where}:{node.lineno}: {name}() of assembled text "
                                f"{ast.unparse(node.args[0])[:50]!r}")
            if name == "replace" and len(node.args) == 2 and all(
                    isinstance(a, ast.Constant) for a in node.args) and \
                    (node.args[0].value, node.args[1].value) in (("'", "''"), ('"', '""')):
                problems.append(f"{where}:{node.lineno}: hand-written SQL quoting")
    return problems


def test_no_module_builds_sql_text_from_values() -> None:
    problems = [p for f in sorted(SRC.rglob("*.py"))
                for p in sql_text_problems(f.read_text(encoding="utf-8"),
                                           str(f.relative_to(SRC)))]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("bad", [
    'con.execute(f"SELECT * FROM t WHERE k = \'{k}\'")',
    'con.sql("SELECT " + cols + " FROM t")',
    'con.sql("SELECT %s FROM t" % cols)',
    'con.execute("SELECT {} FROM t".format(cols))',
    'con.execute(" UNION ALL ".join(parts))',
    'sql = f"CREATE TEMP TABLE {name} AS SELECT 1"',
    'quoted = name.replace(\'"\', \'""\')',
])
def test_the_scan_finds_sql_built_from_values(bad: str) -> None:
    assert sql_text_problems(bad, "x.py"), bad


def test_the_scan_lets_templates_and_messages_pass() -> None:
    ok = ('run(con, query("SELECT __c FROM t WHERE k = __k", c=c, k=bind(k)))\n'
          'raise DataError(f"register {name!r}: no column from the file")\n'
          'con.execute("CREATE TEMP TABLE x AS SELECT 1")\n')
    assert sql_text_problems(ok, "x.py") == []
