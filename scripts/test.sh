#!/usr/bin/env bash
# Install everything the test suite needs into .venv and run it. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e ".[dev]" ./plugins/kota-pekalongan ./plugins/_template
.venv/bin/pytest "$@"
