"""The worked example of docs/impact.md, run by its test (tests/docs/test_impact_doc.py).

Each ``<!-- example:NAME -->`` … ``<!-- /example -->`` block of docs/impact.md holds the output
of the code below; the test runs this file and fails when a block differs. To refresh the page
after a change of rules or code:

    python docs/impact_example.py --write
"""

from __future__ import annotations

import datetime
import re
import sys
import tempfile
from pathlib import Path

import pyarrow as pa

DOC = Path(__file__).with_name("impact.md")
AS_OF = datetime.date(2025, 7, 1)
HOUSEHOLDS = 5000
#: a block: its name, then its text up to the first end marker (possibly empty)
PATTERN = r"<!-- example:(\w+) -->\n((?:(?!<!-- /example -->).)*?)<!-- /example -->"
REFORM = """\
title: {id: PKH sampai desil 6, en: PKH up to decile 6}
reference: Contoh usulan Dinas Sosial (worked example)
parameters:
  pkh.max_desil: 6
  bpnt.amount_month:
    values: {2025-01-01: 250000}
"""


def markdown(table: pa.Table, columns: list[str] | None = None, limit: int | None = None) -> str:
    """A Markdown table, numbers with thousands separators."""
    from welfare_rules.formatting import number

    cols = columns or table.column_names
    rows = table.select(cols).to_pylist()[:limit]
    out = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    for r in rows:
        out.append("| " + " | ".join(number(r[c]) if not isinstance(r[c], str) else r[c]
                                     for c in cols) + " |")
    return "\n".join(out)


def blocks() -> dict[str, str]:
    """Run the example; the output of each step, by block name."""
    import welfare_rules as wr
    from welfare_rules.demo import generate_city

    out: dict[str, str] = {}
    city = generate_city(HOUSEHOLDS, as_of=AS_OF)
    folder = Path(tempfile.mkdtemp())
    reform_file = folder / "pkh_desil6.yaml"
    reform_file.write_text(REFORM, encoding="utf-8")
    out["reform"] = "```yaml\n" + REFORM + "```"

    base = wr.Engine.load()
    reform = wr.Engine.load(reform=reform_file)
    res = wr.impact(base, reform, city.households, members=city.persons, as_of=city.as_of)
    out["totals"] = markdown(res.totals)
    kec = res.by("kecamatan")
    pkh = kec.filter(pa.compute.equal(kec.column("programme"), "pkh"))
    out["kecamatan"] = markdown(pkh, ["kecamatan", "eligible_before", "eligible_after",
                                      "gainers", "losers", "cost_before", "cost_after"])
    from welfare_rules.masking import mask_table

    changes = mask_table(res.changes)
    gains = changes.filter(pa.compute.equal(changes.column("change"), "gains"))
    out["changes"] = markdown(gains, ["id", "kelurahan", "programme", "before", "after",
                                      "rules", "inputs"], limit=3)

    after = reform.evaluate_batch("household", city.households, members=city.persons,
                                  as_of=city.as_of,
                                  carry=["kecamatan", "kelurahan", "desil", "receives_pkh"])
    alloc = wr.allocate(after, "pkh", quota=40, by="kelurahan", rotation="keep", lang="en")
    out["allocation"] = markdown(alloc.summary, limit=5)
    rows = alloc.to_arrow().to_pylist()
    waiting = next(r for r in rows if r["status"] == "waitlist" and r["waitlist"] == 1
                   and not r["kept"])
    out["why"] = ("```text\n>>> alloc.explain(household_id, \"en\")\n"
                  + alloc.explain(waiting["id"], "en") + "\n>>> alloc.explain(household_id, "
                  "\"id\")\n" + alloc.explain(waiting["id"], "id") + "\n```")
    return out


def render(text: str, values: dict[str, str]) -> str:
    """``text`` with every example block replaced by its value."""
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        return f"<!-- example:{name} -->\n{values[name]}\n<!-- /example -->"

    return re.sub(PATTERN, sub, text, flags=re.S)


def main(argv: list[str]) -> None:
    values = blocks()
    text = DOC.read_text(encoding="utf-8")
    new = render(text, values)
    if "--write" in argv:
        DOC.write_text(new, encoding="utf-8")
        print(f"wrote {DOC}")
    else:
        print(new)


def current(text: str) -> dict[str, str]:
    """The blocks as the page has them now."""
    return {m.group(1): m.group(2).rstrip("\n") for m in re.finditer(PATTERN, text, flags=re.S)}


if __name__ == "__main__":
    main(sys.argv[1:])
