"""Plugin requirements: a plugin names the plugins it layers on (``REQUIRES``), and loading it
loads them beneath it — national → province → city — or fails with a clear PluginError."""

from __future__ import annotations

import datetime
import types
from typing import Any

import pytest
from click.testing import CliRunner

import welfare_rules.plugins as plugins_mod
from welfare_rules import Engine
from welfare_rules.cli import main
from welfare_rules.errors import PluginError
from welfare_rules.testing import household

PROVINCE = "welfare-rules-jawa-tengah"
CITY = "welfare-rules-kota-pekalongan"


@pytest.fixture(scope="module")
def city() -> Engine:
    return Engine.load(plugins=["kota-pekalongan"])


def test_loading_the_city_loads_the_province_beneath_it(city: Engine) -> None:
    layers = [(p.name, p.layer) for p in city.plugins if p.source != "built-in"]
    assert layers == [(PROVINCE, "province"), (CITY, "city")]


def test_the_city_engine_has_the_provincial_ump_and_the_city_umk(city: Engine) -> None:
    assert city.parameter("jawa_tengah.ump").at(datetime.date(2025, 6, 1))[0] == 2169349
    assert city.parameter("exclusion.min_wage_month").at(datetime.date(2025, 6, 1))[0] == \
        2545138
    assert city.parameter("exclusion.min_wage_month").origin.plugin == CITY
    assert city.parameter("jawa_tengah.ump").origin.plugin == PROVINCE


def test_every_explanation_names_the_layers(city: Engine) -> None:
    d = city.evaluate("household", household(head_income_month=2_000_000),
                      as_of=datetime.date(2025, 6, 1))
    chain = f"national → province {PROVINCE} 0.1.0 → city {CITY} 0.1.0"
    for rid in ("excl_income_above_min_wage", "min_wage_month", "member_count"):
        last = d.explain(rid, lang="en").splitlines()[-1]
        assert last.startswith("Rule from: "), last
        assert last.endswith(f"(layers: {chain})"), last
    # the rule in force comes from the province, over the national one
    assert f"Rule from: {PROVINCE} 0.1.0, rules/lines.yaml" in d.explain("min_wage_month",
                                                                         lang="en")
    assert "lapisan: national → province" in d.explain("member_count", lang="id")


def test_the_province_alone_falls_back_on_the_ump() -> None:
    engine = Engine.load(plugins=["jawa-tengah"])
    d = engine.evaluate("household", household(head_income_month=2_169_350),
                        as_of=datetime.date(2025, 6, 1))
    assert d.value("min_wage_month") == 2169349
    assert d.value("excl_income_above_min_wage") is True


def test_asking_for_the_province_and_the_city_loads_each_once() -> None:
    engine = Engine.load(plugins=["kota-pekalongan", "jawa-tengah"])
    names = [p.name for p in engine.plugins if p.source != "built-in"]
    assert names == [PROVINCE, CITY]


def test_welfare_rules_plugins_shows_the_layers_and_the_requirement() -> None:
    result = CliRunner().invoke(main, ["plugins", "-p", "kota-pekalongan"])
    assert result.exit_code == 0, result.output
    assert (f"Layers: national → province {PROVINCE} 0.1.0 → city {CITY} 0.1.0"
            in result.output)
    assert "requires: jawa-tengah" in result.output


def _plugin(name: str, layer: str = "city", requires: Any = ()) -> types.ModuleType:
    mod = types.ModuleType(name.replace("-", "_"))
    mod.PLUGIN_NAME = name  # type: ignore[attr-defined]
    mod.LAYER = layer  # type: ignore[attr-defined]
    mod.REQUIRES = requires  # type: ignore[attr-defined]
    return mod


class _EntryPoint:
    def __init__(self, name: str, obj: Any):
        self.name, self.obj, self.dist, self.value = name, obj, None, name

    def load(self) -> Any:
        return self.obj


def _fake_entry_points(monkeypatch: pytest.MonkeyPatch, **objs: Any) -> None:
    eps = [_EntryPoint(name.replace("_", "-"), obj) for name, obj in objs.items()]
    monkeypatch.setattr(plugins_mod.md, "entry_points", lambda group=None: eps)


def test_a_missing_requirement_is_a_clear_error() -> None:
    plugin = _plugin("welfare-rules-kota-contoh", requires=["jawa-tengahh"])
    with pytest.raises(PluginError) as err:
        Engine.load(plugins=[plugin])
    msg = str(err.value)
    assert "plugin 'welfare-rules-kota-contoh' requires plugin 'jawa-tengahh'" in msg
    assert "not installed" in msg
    assert "did you mean 'jawa-tengah'" in msg


def test_a_circular_requirement_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _plugin("plugin-a", layer="province", requires=["b"])
    b = _plugin("plugin-b", layer="province", requires=["a"])
    _fake_entry_points(monkeypatch, a=a, b=b)
    with pytest.raises(PluginError, match="circular plugin requirement: a → b → a"):
        Engine.load(plugins=["a"])


def test_a_plugin_requiring_itself_is_circular(monkeypatch: pytest.MonkeyPatch) -> None:
    a = _plugin("plugin-a", requires=["a"])
    _fake_entry_points(monkeypatch, a=a)
    with pytest.raises(PluginError, match="circular plugin requirement: a → a"):
        Engine.load(plugins=["a"])


def test_a_province_cannot_layer_on_a_city(monkeypatch: pytest.MonkeyPatch) -> None:
    city = _plugin("plugin-city", layer="city")
    province = _plugin("plugin-province", layer="province", requires=["city"])
    _fake_entry_points(monkeypatch, city=city, province=province)
    with pytest.raises(PluginError, match=r"province layer.*requires 'city'.*city-layer"):
        Engine.load(plugins=["province"])


def test_requires_must_be_a_list_of_names() -> None:
    with pytest.raises(PluginError, match="REQUIRES must be a list of plugin names"):
        Engine.load(plugins=[_plugin("plugin-x", requires="jawa-tengah")])
