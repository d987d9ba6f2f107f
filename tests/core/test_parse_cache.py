"""The parse cache of YAML files: a file read from the cache gives exactly what parsing it gives
(data, the class and location of every string, the positions of every value), the engines built
either way are identical and report the same located errors, and an entry that is stale,
tampered with or written by someone else is never used."""

from __future__ import annotations

import datetime
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from welfare_rules import _parse_cache, _yaml
from welfare_rules.engine import Engine
from welfare_rules.errors import RuleLoadError

from .conftest import ROOT, build_engine, load_errors, ruleset


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv(_parse_cache.CACHE_DIR_ENV, str(root))
    monkeypatch.delenv(_parse_cache.CACHE_ENV, raising=False)
    return root


def _entries(root: Path) -> list[Path]:
    return sorted(root.glob("??/*.json"))


def _exact(a: Any, b: Any, where: str = "") -> None:
    """Equal, of the same classes, and every located string at the same place."""
    assert a.__class__ is b.__class__, where
    if isinstance(a, dict):
        assert list(a) == list(b), where
        for (ka, va), (kb, vb) in zip(a.items(), b.items(), strict=True):
            _exact(ka, kb, where)
            _exact(va, vb, f"{where}/{ka}")
    elif isinstance(a, list):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _exact(x, y, f"{where}/{i}")
    else:
        assert a == b, where
        if isinstance(a, _yaml.LocatedStr):
            assert (a.file, a.line, a.col, a.style) == (b.file, b.line, b.col, b.style), where


def _read_cold_and_warm(f: Path, root: Path) -> tuple[Any, Any]:
    text = f.read_text(encoding="utf-8")
    cold = _yaml.load_yaml(text, str(f))  # never the cache
    before = len(_entries(root)) if root.exists() else 0
    first = _yaml.load_yaml_file(f, cache=True)  # parses and stores
    # a text with a 16-digit run (a NIK, a No. KK) is never stored
    stored = not re.search(r"(?<![0-9])[0-9]{16,}(?![0-9])", text)
    assert len(_entries(root)) == before + stored, f
    warm = _yaml.load_yaml_file(f, cache=True)  # from the cache
    _exact(first[0], cold[0])
    return cold, warm


def test_every_bundled_yaml_file_reads_the_same_from_the_cache(cache):
    files = sorted((ROOT / "src").rglob("*.yaml")) + sorted((ROOT / "plugins").rglob("*.yaml"))
    assert len(files) > 50
    for f in files:
        (data_c, pos_c), (data_w, pos_w) = _read_cold_and_warm(f, cache)
        _exact(data_w, data_c, str(f))
        assert pos_w._at == pos_c._at, f
        assert pos_w.file == pos_c.file


def test_a_cached_read_does_not_parse(cache, tmp_path, monkeypatch):
    f = tmp_path / "a.yaml"
    f.write_text("id: t\nrules:\n  - {id: a, value: 1}\n", encoding="utf-8")
    _yaml.load_yaml_file(f, cache=True)

    def no_parse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("parsed although cached")

    monkeypatch.setattr(_yaml, "load_yaml", no_parse)
    assert _yaml.load_yaml_file(f, cache=True)[0] == {"id": "t", "rules": [{"id": "a", "value": 1}]}


_scalars = (st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1)
            | st.floats(allow_nan=False, allow_infinity=False, width=32)
            | st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
                      max_size=12)
            | st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31)))
_keys = st.text("abcxyz_é", min_size=1, max_size=6) | st.integers(0, 99)
_docs = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(_keys, inner, max_size=4), max_leaves=25)


@settings(max_examples=60, deadline=None)
@given(doc=_docs, flow=st.booleans())
def test_any_document_reads_the_same_from_the_cache(tmp_path_factory, doc, flow):
    root = tmp_path_factory.mktemp("c")
    f = root / "doc.yaml"
    f.write_text(yaml.safe_dump({"doc": doc}, default_flow_style=flow, allow_unicode=True),
                 encoding="utf-8")
    os.environ[_parse_cache.CACHE_DIR_ENV] = str(root / "cache")
    try:
        (data_c, pos_c), (data_w, pos_w) = _read_cold_and_warm(f, root / "cache")
    except RuleLoadError:
        return  # a float with more digits than a backend holds: refused, never cached
    finally:
        del os.environ[_parse_cache.CACHE_DIR_ENV]
    _exact(data_w, data_c)
    assert pos_w._at == pos_c._at


def _engine_facts(engine: Engine) -> Any:
    return (sorted((k, repr(v)) for k, v in engine.rules.items()),
            sorted(engine.schema.entities), repr(engine.parameters))


def test_engines_loaded_from_the_cache_are_identical(cache, monkeypatch):
    monkeypatch.setenv(_parse_cache.CACHE_ENV, "off")
    cold = Engine.load()
    assert not cache.exists()
    monkeypatch.delenv(_parse_cache.CACHE_ENV)
    Engine.load()  # fills the cache
    assert len(_entries(cache)) > 20
    warm = Engine.load()
    assert _engine_facts(warm) == _engine_facts(cold)
    from welfare_rules.demo import generate_city

    city = generate_city(40, seed=3)
    a = cold.evaluate_batch("household", city.households, members=city.persons,
                            as_of=datetime.date(2024, 7, 1), backend="python").to_arrow()
    b = warm.evaluate_batch("household", city.households, members=city.persons,
                            as_of=datetime.date(2024, 7, 1), backend="python").to_arrow()
    assert a.equals(b)


BAD = ruleset("""
    - id: t_a
      value: x +
    - id: t_b
      value: no_such_field * 2
    - id: t_c
      when: "'text' > 1"
      value: 1
    """)


def test_errors_found_after_parsing_are_located_the_same_from_the_cache(cache, tmp_path):
    cold = [str(e) for e in load_errors(tmp_path / "one", {"r.yaml": BAD})]
    assert _entries(cache)  # the file parsed: what is wrong is in the rules, not the YAML
    warm = [str(e) for e in load_errors(tmp_path / "one", {"r.yaml": BAD})]
    assert len(cold) >= 3
    assert all("r.yaml:" in e for e in cold)
    assert warm == cold


def test_a_file_that_does_not_parse_is_not_cached_and_fails_the_same_way(cache, tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("id: t\nrules: [\n  - {id: x\n", encoding="utf-8")
    errors = []
    for _ in range(2):
        with pytest.raises(RuleLoadError) as exc:
            _yaml.load_yaml_file(f, cache=True)
        errors.append(str(exc.value))
    assert errors[0] == errors[1]
    assert errors[0].startswith(f"{f}:")
    assert not _entries(cache)


def test_a_changed_file_is_read_afresh(cache, tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("a: 1\n", encoding="utf-8")
    assert _yaml.load_yaml_file(f, cache=True)[0] == {"a": 1}
    f.write_text("a: 2\n", encoding="utf-8")
    assert _yaml.load_yaml_file(f, cache=True)[0] == {"a": 2}
    # the same text under another path is another entry (the locations name the file)
    g = tmp_path / "q.yaml"
    g.write_text("a: 2\n", encoding="utf-8")
    assert _yaml.load_yaml_file(g, cache=True)[0] == {"a": 2}
    assert len(_entries(cache)) == 3


def _only_entry(root: Path) -> Path:
    (entry,) = _entries(root)
    return entry


def _rewrite(entry: Path, body: Any, *, fix_digest: bool) -> None:
    head = json.loads(entry.read_bytes().partition(b"\n")[0])
    data = json.dumps(body).encode("utf-8")
    if fix_digest:
        import hashlib

        head["sha256"] = hashlib.sha256(data).hexdigest()
    entry.write_bytes(json.dumps(head).encode() + b"\n" + data)


def _read_twice_with(cache: Path, tmp_path: Path, tamper: Any) -> Any:
    f = tmp_path / "t.yaml"
    f.write_text("when: x > 1\nn: 3\n", encoding="utf-8")
    want = _yaml.load_yaml_file(f, cache=True)[0]
    tamper(_only_entry(cache))
    got = _yaml.load_yaml_file(f, cache=True)[0]
    _exact(got, want)
    return got


def _body(entry: Path) -> Any:
    return json.loads(entry.read_bytes().partition(b"\n")[2])


@pytest.mark.parametrize("how", ["digest", "truncated", "key", "int64", "shape", "nan"])
def test_a_tampered_entry_is_ignored(cache, tmp_path, how):
    def tamper(entry: Path) -> None:
        body = _body(entry)
        if how == "digest":  # a changed value without its digest
            body["data"][1][3] = 4
            _rewrite(entry, body, fix_digest=False)
        elif how == "truncated":
            entry.write_bytes(entry.read_bytes()[:-7])
        elif how == "key":  # another file's entry copied over this one
            head, _, rest = entry.read_bytes().partition(b"\n")
            h = json.loads(head)
            h["key"] = "0" * 64
            entry.write_bytes(json.dumps(h).encode() + b"\n" + rest)
        elif how == "int64":  # a value the reader refuses, with a matching digest
            body["data"][1][3] = 2**70
            _rewrite(entry, body, fix_digest=True)
        elif how == "shape":  # not what the encoder writes
            body["data"] = ["x", {"when": "x > 1"}]
            _rewrite(entry, body, fix_digest=True)
        else:
            entry.write_bytes(entry.read_bytes().replace(b"3]", b"NaN]"))
            _rewrite(entry, json.loads(entry.read_bytes().partition(b"\n")[2]),
                     fix_digest=True)

    got = _read_twice_with(cache, tmp_path, tamper)
    assert got["n"] == 3
    assert _body(_only_entry(cache))["data"][1][3] == 3  # and replaced by a good entry


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX permissions")
def test_an_entry_others_could_have_written_is_ignored(cache, tmp_path):
    seen = []

    def tamper(entry: Path) -> None:
        body = _body(entry)
        body["data"][1][3] = 4  # a valid entry with a valid digest ...
        _rewrite(entry, body, fix_digest=True)
        seen.append(_yaml.load_yaml_file(tmp_path / "t.yaml", cache=True)[0]["n"])
        entry.chmod(0o666)  # ... that anyone may have written

    got = _read_twice_with(cache, tmp_path, lambda e: None)  # a good entry first
    assert got["n"] == 3
    f = tmp_path / "t.yaml"
    tamper(_only_entry(cache))
    assert seen == [4]  # the user's own entry is the user's own business
    assert _yaml.load_yaml_file(f, cache=True)[0]["n"] == 3


def test_the_cache_can_be_turned_off(cache, tmp_path, monkeypatch):
    monkeypatch.setenv(_parse_cache.CACHE_ENV, "off")
    f = tmp_path / "a.yaml"
    f.write_text("a: 1\n", encoding="utf-8")
    assert _yaml.load_yaml_file(f, cache=True)[0] == {"a": 1}
    assert not cache.exists()


def test_an_unwritable_cache_directory_only_costs_the_cache(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv(_parse_cache.CACHE_DIR_ENV, str(blocker / "cache"))
    f = tmp_path / "a.yaml"
    f.write_text("a: [1, 2]\n", encoding="utf-8")
    assert _yaml.load_yaml_file(f, cache=True)[0] == {"a": [1, 2]}


def test_build_engine_from_cache_matches(cache, tmp_path):
    rules = {"r.yaml": ruleset("""
        - id: t_a
          value: x * 2
        """)}
    a = build_engine(tmp_path / "a", rules)
    b = build_engine(tmp_path / "a", rules)
    assert _engine_facts(a) == _engine_facts(b)
    assert a.evaluate("household", {"x": 2}).value("t_a") == 4 == b.evaluate(
        "household", {"x": 2}).value("t_a")



def test_files_that_may_hold_personal_data_are_never_cached(cache, tmp_path):
    """Only a pack's rule, parameter and schema files are cached: a rule-test case file holds
    records (NIK, No. KK, names) and is never copied to the cache directory (review3 F1)."""
    from welfare_rules.testing.runner import load_cases

    nik = "3375019876543210"
    f = tmp_path / "cases.yaml"
    f.write_text(f"- name: one\n  as_of: 2024-01-01\n  input: {{id: '3375012345678901', "
                 f"members: [{{nik: '{nik}'}}]}}\n  output: {{x: true}}\n", encoding="utf-8")
    assert [c.name for c in load_cases(f)] == ["one"]
    Engine.load()  # the pack's files are cached, so the cache is on
    entries = _entries(cache)
    assert len(entries) > 20
    assert not [e for e in entries if nik in e.read_text(encoding="utf-8")]


def test_a_folder_given_to_check_caches_no_rule_test_case(cache, tmp_path):
    """``check`` (and ``Engine.load(rules=[folder])``) reads every YAML under the folder as a
    ruleset; a plugin-shaped folder of one's own holds rule-test cases beside its rules. Only
    files shaped like a ruleset are cached, and never a text with a 16-digit run (review 4 F4:
    the case file was parsed and stored before it was found not to be a ruleset)."""
    from click.testing import CliRunner

    from welfare_rules.cli import main

    nik, name = "3375014404900001", "Siti Aminah"
    (tmp_path / "pk" / "rules").mkdir(parents=True)
    (tmp_path / "pk" / "tests").mkdir()
    (tmp_path / "pk" / "rules" / "r.yaml").write_text(
        "id: t_set\nentity: household\nversion: '1'\nrules:\n"
        "  - id: t_big\n    when: floor_area_m2 > 100\n", encoding="utf-8")
    case = tmp_path / "pk" / "tests" / "cases.yaml"
    case.write_text(f"- name: one\n  input: {{id: '3375019876543210', members: "
                    f"[{{nik: '{nik}', name: '{name}'}}]}}\n  output: {{t_big: true}}\n",
                    encoding="utf-8")
    # shaped like a ruleset, with a NIK in a message: parsed, never stored
    (tmp_path / "pk" / "rules" / "s.yaml").write_text(
        "id: t_set2\nentity: household\nversion: '1'\nrules:\n  - id: t_nik\n"
        f"    when: id == '{nik[:-1]}2'\n", encoding="utf-8")
    for target in ("pk", "pk/tests/cases.yaml"):
        CliRunner().invoke(main, ["check", str(tmp_path / target)])
    Engine.load(rules=[tmp_path / "pk" / "rules"])
    entries = _entries(cache)
    assert len(entries) > 20  # the pack's files and r.yaml were cached
    assert any("t_big" in e.read_text(encoding="utf-8") for e in entries)
    for e in entries:
        body = e.read_text(encoding="utf-8")
        assert nik not in body
        assert nik[:-1] not in body
        assert name not in body
