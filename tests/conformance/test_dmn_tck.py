"""DMN TCK conformance of the decision-table hit policies (48 cases nobody here wrote).

``dmn-tck-hit-policies.json`` holds the 16 models of the DMN Technology Compatibility Kit
(github.com/dmn-tck/tck, compliance level 2, Apache License 2.0, see ``DMN-TCK-LICENSE.txt``)
that exercise UNIQUE, ANY, PRIORITY, FIRST, RULE ORDER, OUTPUT ORDER and COLLECT (plain, SUM,
MIN, COUNT). Each model is turned into our own format: its inputs become fields of an entity
declared for it (names sanitised into identifiers, with a mapping kept), its decision a
decision-table rule whose cells are the TCK's FEEL unary tests written verbatim, and every case
is evaluated through the public engine API. COLLECT without an aggregation returns its matches in
no defined order, so those are compared as multisets.
"""

from __future__ import annotations

import collections
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

HERE = Path(__file__).parent
ROOT = HERE.parents[1]
try:
    import welfare_rules.engine  # noqa: F401
except ImportError:  # running from a checkout without an editable install
    sys.path.insert(0, str(ROOT / "src"))

from welfare_rules.engine import Engine  # noqa: E402
from welfare_rules.expr.functions import builtin_functions  # noqa: E402
from welfare_rules.hookspecs import hookimpl  # noqa: E402

TCK = json.loads((HERE / "dmn-tck-hit-policies.json").read_text(encoding="utf-8"))
TYPES = {"number": "decimal", "string": "str", "boolean": "bool"}


def identifier(name: str) -> str:
    """A DMN name ("Approval Status", "0004-simpletable-U") as a rule-language identifier."""
    s = re.sub(r"\W+", "_", name).strip("_").lower()
    return s if s and not s[0].isdigit() else f"n_{s}"


def feel_list(text: str | None) -> list[str]:
    """The literals of a FEEL list of allowed values: '"High", "Low"' -> ["High", "Low"]."""
    if not text:
        return []
    return [part.strip().strip('"') for part in text.split(",")]


def entity_of(model: dict[str, Any]) -> str:
    return "tck_" + identifier(model["model"])


def rule_of(model: dict[str, Any], decision: dict[str, Any]) -> str:
    """Rule ids are global, so the model's name is part of the decision's (joined by one
    underscore: two in a row are kept for the backends' own column names, docs/rules.md)."""
    return f"{entity_of(model)}_{identifier(decision['name'])}"


def field_map(model: dict[str, Any]) -> dict[str, str]:
    """TCK input name -> our field name."""
    return {i["expression"]: identifier(i["expression"])
            for d in model["decisions"] for i in d["inputs"]}


def schema_of(models: list[dict[str, Any]]) -> dict[str, Any]:
    entities: dict[str, Any] = {}
    for model in models:
        fields: dict[str, Any] = {"id": {"type": "str"}}
        names = field_map(model)
        for dec in model["decisions"]:
            for inp in dec["inputs"]:
                allowed = feel_list(inp["allowed"])
                spec: dict[str, Any] = {"type": TYPES[inp["type"]]}
                if allowed and inp["type"] == "string":
                    spec = {"type": "enum", "values": allowed}
                fields[names[inp["expression"]]] = spec
        entities[entity_of(model)] = {"key": "id", "fields": fields}
    return {"entities": entities}


def ruleset_of(model: dict[str, Any]) -> dict[str, Any]:
    names = field_map(model)
    rules = []
    for dec in model["decisions"]:
        multi = len(dec["outputs"]) > 1
        outputs = [{"name": o["name"] or dec["name"], "values": feel_list(o["allowed"])}
                   for o in dec["outputs"]]
        rows = []
        for row in dec["rules"]:
            then: Any = (dict(zip([o["name"] for o in outputs], row["outputs"], strict=True))
                         if multi else row["outputs"][0])
            rows.append({"when": list(row["inputs"]), "then": then})
        table: dict[str, Any] = {
            "hit_policy": dec["hit_policy"],  # as DMN writes it: "RULE ORDER", "COLLECT"
            "inputs": [names[i["expression"]] for i in dec["inputs"]],
            "outputs": outputs,
            "rows": rows,
        }
        if dec["aggregation"]:
            table["aggregation"] = dec["aggregation"]
        rules.append({"id": rule_of(model, dec), "title": {"id": dec["name"], "en": dec["name"]},
                      "table": table})
    return {"id": entity_of(model), "entity": entity_of(model), "version": "tck",
            "title": {"id": model["model"], "en": model["model"]},
            "reference": "DMN TCK " + model["model"], "rules": rules}


class TckPack:
    PLUGIN_NAME = "dmn-tck"
    LAYER = "city"

    def __init__(self, folder: Path):
        self.folder = folder

    @hookimpl
    def register_schema(self, register: Any) -> None:
        register(self.folder / "schema.yaml")

    @hookimpl
    def register_functions(self, register: Any) -> None:
        for fn in builtin_functions():
            register(fn)

    @hookimpl
    def register_rules(self, register: Any) -> None:
        register(self.folder / "rules")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    folder = tmp_path_factory.mktemp("tck")
    (folder / "rules").mkdir()
    (folder / "schema.yaml").write_text(yaml.safe_dump(schema_of(TCK["models"])),
                                        encoding="utf-8")
    for model in TCK["models"]:
        (folder / "rules" / f"{entity_of(model)}.yaml").write_text(
            yaml.safe_dump(ruleset_of(model), sort_keys=False, allow_unicode=True),
            encoding="utf-8")
    return Engine.load(plugins=[TckPack(folder)], builtins=False)


CASES = [pytest.param(model, dec, case, id=f"{model['model']}/{case['id']}")
         for model in TCK["models"] for case in model["cases"]
         for dec in model["decisions"] if dec["name"] in case["expected"]]


def _multiset(items: list[Any]) -> collections.Counter[str]:
    return collections.Counter(json.dumps(i, sort_keys=True) for i in items)


def test_the_tck_file_holds_48_cases_over_every_hit_policy():
    """The copied TCK subset is complete: 48 cases, all seven hit policies."""
    policies = {d["hit_policy"] for m in TCK["models"] for d in m["decisions"]}
    assert (48, {"UNIQUE", "ANY", "PRIORITY", "FIRST", "RULE ORDER", "OUTPUT ORDER",
                 "COLLECT"}) == (len(CASES), policies)


def test_the_licence_of_the_tck_cases_is_kept_beside_them():
    """The Apache licence travels with the copied cases."""
    assert "Apache License" in (HERE / "DMN-TCK-LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(("model", "decision", "case"), CASES)
def test_dmn_tck_case(engine, model, decision, case):
    """Our decision table gives the TCK's expected result for the case."""
    names = field_map(model)
    record = {"id": case["id"], **{names[k]: v for k, v in case["inputs"].items()}}
    d = engine.evaluate(entity_of(model), record, as_of="2024-01-01")
    expected = case["expected"][decision["name"]]
    actual = d.value(rule_of(model, decision))
    if decision["hit_policy"] == "COLLECT" and not decision["aggregation"]:
        assert _multiset(expected) == _multiset(actual)
    else:
        assert expected == actual
