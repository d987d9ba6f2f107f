"""Register files are read with the bounded, located YAML loader (review #19): the national
registers.yaml as a pack's, never with a bare yaml.safe_load."""

from __future__ import annotations

from pathlib import Path

import pytest

from welfare_rules.errors import RuleLoadError
from welfare_rules.packs import read_registers
from welfare_rules.recipients import reconcile


@pytest.mark.parametrize(("text", "message"), [
    ("- death\n- civil_servant\n", "must be a mapping of register names"),
    ("death: [nik, name]\n", "register 'death' must be a mapping"),
    ("a: &x [1]\nb: *x\n", "alias"),
])
def test_the_national_registers_file_is_read_with_the_bounded_loader(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, message: str) -> None:
    p = tmp_path / "registers.yaml"
    p.write_text(text, encoding="utf-8")
    monkeypatch.setattr(reconcile, "NATIONAL_REGISTERS", p)
    with pytest.raises(RuleLoadError, match=message) as info:
        reconcile.load_registers()
    assert str(info.value).startswith(f"{p}:")


def test_the_bundled_registers_read_the_same_through_the_loader() -> None:
    specs = read_registers(reconcile.NATIONAL_REGISTERS)
    assert {"death", "civil_servant"} <= set(specs)
    assert set(reconcile.load_registers()) == set(specs)

