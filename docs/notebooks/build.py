"""Build and execute the analyst notebook (docs/notebooks/analyst.ipynb).

The cells are defined here, as plain Python, so that the test suite can run exactly the same code
(tests/docs/test_notebook.py); this script writes them into a notebook and executes it with a
Jupyter kernel, keeping the outputs, so the rendered notebook shows real results.

Usage: python docs/notebooks/build.py   (needs: pip install nbformat nbclient ipykernel)
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent

CELLS: list[tuple[str, str]] = [
    ("markdown", """\
# welfare-rules in a notebook: eligibility, "why not?", and a what-if

This notebook is what an analyst at a Dinas Sosial does with welfare-rules: evaluate a whole
population, ask why one household is not eligible, and try a policy change — *PKH up to decile 5
instead of 4: who gains, per kelurahan?* The data is the bundled **synthetic** city (no real
person), 5,000 households of the 85,000 the demo generates."""),
    ("code", """\
import welfare_rules as wr
from welfare_rules.demo import generate_city
from welfare_rules.display import setup_notebook

setup_notebook()  # Arrow tables as HTML; charts also as a PNG, so GitHub shows them

engine = wr.Engine.load()                      # the national rule pack
city = generate_city(5_000, seed=3375)
print(len(engine.rules), "rules,", len(engine.parameters), "parameters;",
      city.households.num_rows, "households,", city.persons.num_rows, "persons")"""),
    ("markdown", """\
## Evaluate everyone (embedded DuckDB)

One row per household, a column per rule, and a status column per rule
(`true` / `false` / `unknown` / `value`). `carry="all"` keeps every input column (`desil`,
`in_dtks`, ...) beside the results; the result shows itself as a table."""),
    ("code", """\
res = engine.evaluate_batch("household", city.households, members=city.persons,
                            as_of=city.as_of, carry="all")
res"""),
    ("code", """\
res.summary(by="kecamatan").select(["kecamatan", "records", "poor_bps", "pkh_eligible",
                                    "bpnt_eligible", "pbi_eligible"])"""),
    ("code", """\
df = res.to_pandas()
df[["id", "kelurahan", "poor_bps", "poor_bps_criteria_met", "pkh_eligible",
    "pkh_benefit_year", "bpnt_eligible"]].head()"""),
    ("code", """\
summary = (df.groupby("kelurahan")[["pkh_eligible", "bpnt_eligible", "pbi_eligible"]]
             .sum().astype(int).sort_values("pkh_eligible", ascending=False))
summary.head(10)"""),
    ("markdown", """\
## Why not eligible?

Pick a poor household (by the 14 BPS criteria) that PKH does not reach and ask for the
explanation, in Indonesian as a data officer would read it to the family. NIKs and family-card
numbers are masked."""),
    ("code", """\
poor_not_pkh = df[(df.poor_bps == True) & (df.pkh_eligible == False)]  # noqa: E712
row = poor_not_pkh.iloc[0]
print(res.explain(row["id"], "pkh_eligible", lang="id"))"""),
    ("markdown", """\
## What if PKH reached decile 5?

`welfare_rules.whatif.compare` evaluates the same households with two engines and counts who
gains and who loses, per kelurahan. The changed engine only differs by one parameter."""),
    ("code", """\
from welfare_rules.whatif import compare

wider = wr.Engine.load(parameters={"pkh.max_desil": 5})
impact, changes = compare(engine, wider, "household", city.households, members=city.persons,
                          as_of=city.as_of, rules=["pkh_eligible"], by="kelurahan")
impact = impact.to_pandas().sort_values("gained", ascending=False)
impact.head(10)"""),
    ("code", """\
import plotly.express as px

fig = px.bar(impact, x="kelurahan", y=["before", "gained"],
             title="PKH-eligible households: decile ≤ 4, and those gained with decile ≤ 5")
fig.update_layout(xaxis_tickangle=-45, legend_title_text="")
fig"""),
    ("markdown", """\
Every number above is reproducible: the engine fingerprint records the rule and parameter
versions, the plugins and the date."""),
    ("code", """\
res.fingerprint"""),
]


def build(path: Path = HERE / "analyst.ipynb", execute: bool = True) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    for kind, text in CELLS:
        nb.cells.append(nbformat.v4.new_markdown_cell(text) if kind == "markdown"
                        else nbformat.v4.new_code_cell(text))
    if execute:
        from nbclient import NotebookClient

        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(HERE)}}).execute()
    nbformat.write(nb, path)
    return path


if __name__ == "__main__":
    print(build())
