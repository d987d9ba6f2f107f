"""Shared fixtures for the adapter tests: the national schema and the Pekalongan mapping."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
try:
    import welfare_rules  # noqa: F401
except ImportError:  # running from a checkout without an editable install
    sys.path.insert(0, str(ROOT / "src"))

from welfare_rules.adapters import MappingAdapter  # noqa: E402
from welfare_rules.schema import Origin, Schema, load_schema  # noqa: E402

NATIONAL_SCHEMA = ROOT / "src" / "welfare_rules" / "national" / "schema.yaml"
PEKALONGAN_MAPPING = (ROOT / "plugins" / "kota-pekalongan" / "src" / "welfare_rules_kota_pekalongan"
                      / "export.yaml")
FIXTURES = Path(__file__).parent / "fixtures"
EXAMPLES = ROOT / "src" / "welfare_rules" / "national" / "examples"


@pytest.fixture(scope="session")
def schema() -> Schema:
    return load_schema([(NATIONAL_SCHEMA, Origin())])


@pytest.fixture(scope="session")
def pekalongan() -> MappingAdapter:
    return MappingAdapter.from_yaml(PEKALONGAN_MAPPING)
