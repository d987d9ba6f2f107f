"""The README's commands and its single-record example stay true."""

from __future__ import annotations

import re
from pathlib import Path

README = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands_and_ci_runs_the_second() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, re.S)
    assert first_block is not None
    lines = first_block.group(1).strip().splitlines()
    assert lines == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/welfare-rules demo",
        "bash scripts/test.sh",
    ]
    ci = (Path(__file__).parents[2] / ".ci" / "run").read_text(encoding="utf-8")
    assert ci.strip().splitlines()[-1] == lines[1]


def test_readme_single_household_example_runs_as_documented() -> None:
    block = re.search(r"```python\n(.*?)```", README, re.S)
    assert block is not None
    code = block.group(1).split("\nres = ")[0]
    ns: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), ns)
    d = ns["d"]
    assert (True, "unknown") == (d.value("pkh_eligible"), d.status("poor_bps"))  # type: ignore[attr-defined]
