"""Reforms as files: loading, layering, errors with their location, explanations and
fingerprints."""

from __future__ import annotations

import datetime
import re
import textwrap
from pathlib import Path

import pytest

import welfare_rules as wr
from welfare_rules.reform import load_reform

AS_OF = datetime.date(2024, 7, 1)
HH = {"id": "3375010101010001", "in_dtks": True, "desil": 5,
      "members": [{"nik": "3375014101200001", "birth_date": datetime.date(2020, 1, 1),
                   "is_alive": True, "school_level": "paud", "relationship": "child"}]}


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_a_reform_changes_a_parameter_on_every_date(reformed: wr.Engine, base: wr.Engine) -> None:
    """The short form replaces the value; the base engine is untouched."""
    assert reformed.parameter("pkh.max_desil").at(AS_OF)[0] == 6
    assert base.parameter("pkh.max_desil").at(AS_OF)[0] == 4
    assert base.evaluate("household", HH, as_of=AS_OF).value("pkh_desil") is False
    assert reformed.evaluate("household", HH, as_of=AS_OF).value("pkh_desil") is True


def test_dated_values_keep_the_base_before_the_reform_starts(reformed: wr.Engine) -> None:
    p = reformed.parameter("bpnt.amount_month")
    assert p.at(datetime.date(2023, 6, 1))[0] == 200000
    assert p.at(datetime.date(2024, 1, 1))[0] == 250000


def test_explanations_name_the_reform_file_and_line(reformed: wr.Engine) -> None:
    text = reformed.evaluate("household", HH, as_of=AS_OF).explain("pkh_eligible", lang="en")
    assert re.search(r"pkh\.max_desil = \D*6\b", text)
    assert "reform 'pkh6'" in text
    assert "pkh6.yaml:4" in text


def test_the_fingerprint_names_the_reform(reformed: wr.Engine, base: wr.Engine) -> None:
    fp = reformed.fingerprint(AS_OF)
    assert fp["reform"]["id"] == "pkh6"
    assert len(fp["reform"]["digest"]) == 16
    assert fp["digest"] != base.fingerprint(AS_OF)["digest"]
    assert "reform" not in base.fingerprint(AS_OF)


def test_reform_rule_files_override_rules_in_force(tmp_path: Path) -> None:
    """A reform's ruleset replaces a national rule with ``overrides:`` and says so."""
    write(tmp_path, "rules.yaml", """\
        id: reform_bpnt
        version: "1"
        entity: household
        rules:
          - id: bpnt_eligible
            overrides: bpnt_eligible
            title: {id: BPNT untuk semua di DTKS, en: BPNT for everyone in the DTKS}
            when: in_dtks
        """)
    rf = write(tmp_path, "all_dtks.yaml", """\
        title: {id: BPNT untuk semua di DTKS, en: BPNT for everyone in the DTKS}
        reference: test
        rules: [rules.yaml]
        """)
    eng = wr.Engine.load(reform=rf)
    d = eng.evaluate("household", {**HH, "desil": 9}, as_of=AS_OF)
    assert d.value("bpnt_eligible") is True
    assert "reform 'all_dtks'" in str(eng.rule("bpnt_eligible").origin)
    assert "reform 'all_dtks'" in d.explain("bpnt_eligible", lang="en")


def test_a_reform_rule_without_overrides_is_a_clash(tmp_path: Path) -> None:
    write(tmp_path, "rules.yaml", """\
        id: reform_bpnt
        version: "1"
        entity: household
        rules:
          - id: bpnt_eligible
            when: in_dtks
        """)
    rf = write(tmp_path, "r.yaml", "title: x\nrules: [rules.yaml]\n")
    with pytest.raises(wr.ErrorGroup, match="without 'overrides: bpnt_eligible'"):
        wr.Engine.load(reform=rf)


def test_mistakes_are_reported_together_with_their_line(tmp_path: Path) -> None:
    rf = write(tmp_path, "bad.yaml", """\
        title: {id: salah}
        paramters: {}
        rules: [missing.yaml]
        """)
    with pytest.raises(wr.ErrorGroup) as info:
        load_reform(rf)
    text = str(info.value)
    assert "bad.yaml:2:" in text
    assert "did you mean 'parameters'" in text
    assert "bad.yaml:3:" in text
    assert "missing.yaml" in text


def test_unknown_parameters_and_wrong_types_are_located(tmp_path: Path) -> None:
    rf = write(tmp_path, "bad.yaml", """\
        title: {id: salah}
        parameters:
          pkh.max_desl: 6
          pkh.max_persons: empat
        """)
    with pytest.raises(wr.ErrorGroup) as info:
        wr.Engine.load(reform=rf)
    text = str(info.value)
    assert "bad.yaml:3:" in text
    assert "did you mean 'pkh.max_desil'" in text
    assert "bad.yaml:4:" in text
    assert "is int" in text


def test_a_reform_needs_a_title_and_a_change(tmp_path: Path) -> None:
    with pytest.raises(wr.ErrorGroup, match="needs a 'title'"):
        load_reform(write(tmp_path, "a.yaml", "parameters: {pkh.max_desil: 5}\n"))
    with pytest.raises(wr.ErrorGroup, match="changes nothing"):
        load_reform(write(tmp_path, "b.yaml", "title: x\n"))
