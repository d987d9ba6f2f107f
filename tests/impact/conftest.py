"""Fixtures of the impact and allocation tests: the national engine, a reform of it, and a
small generated city."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

import welfare_rules as wr
from welfare_rules.demo import City, generate_city

REFORM = """\
title: {id: PKH sampai desil 6 dan BPNT Rp250.000, en: PKH up to decile 6 and BPNT Rp250,000}
reference: Contoh usulan untuk pengujian (test reform)
parameters:
  pkh.max_desil: 6
  bpnt.amount_month:
    values: {2024-01-01: 250000}
"""


@pytest.fixture(scope="session")
def reform_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    p = tmp_path_factory.mktemp("reform") / "pkh6.yaml"
    p.write_text(textwrap.dedent(REFORM), encoding="utf-8")
    return p


@pytest.fixture(scope="session")
def base() -> wr.Engine:
    return wr.Engine.load()


@pytest.fixture(scope="session")
def reformed(reform_file: Path) -> wr.Engine:
    return wr.Engine.load(reform=reform_file)


@pytest.fixture(scope="session")
def city() -> City:
    return generate_city(600, seed=19, missing_rate=0.05)

