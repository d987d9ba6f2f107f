#!/usr/bin/env bash
# Install everything the test suite needs, then lint (ruff), type-check (mypy strict on src/) and
# run the tests. CI runs exactly this (.ci/run).
#   - Python packages: into .venv, from the project's own pyproject files (the library with its
#     dev extra, and the bundled plugins);
#   - Chromium (Debian package) for the report's browser test, when it is missing;
#   - Java 17 for Spark in local mode is expected on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing chromium (Debian package) for the report browser test" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and cannot be installed here (needs root and apt-get);" \
         "the report browser test will fail" >&2
  fi
fi

python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
# The bundled plugins are installed editable, as a plugin's developer would: `welfare-rules check`
# of a plugin's folder then checks the files under test in the context of that same plugin.
.venv/bin/pip install -q -e ".[dev]" -e ./plugins/jawa-tengah -e ./plugins/kota-pekalongan \
  -e ./plugins/kota-semarang -e ./plugins/_template
# Lint and types first (quick, and a failure is cheaper to read here than in pytest's output).
.venv/bin/ruff check src tests plugins benchmarks docs
.venv/bin/mypy
# Two workers: CI has two cores (pytest-xdist); every Spark test on one of them (one JVM, see
# tests/conftest.py); "$@" may add to or override it.
.venv/bin/pytest -n 2 "$@"
