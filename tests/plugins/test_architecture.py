"""The plugin architecture: discovery, layering with overrides, misspelled hooks, plugin
functions in expressions, the environment switch, and provenance in explanations.

The installed plugins come from the README's test command (``scripts/test.sh`` installs
``plugins/kota-pekalongan`` and ``plugins/_template``).
"""

from __future__ import annotations

import datetime
import textwrap
from pathlib import Path
from typing import Any

import pytest

from welfare_rules import (
    Engine,
    ErrorGroup,
    Function,
    InputError,
    PluginError,
    RuleTypeError,
    hookimpl,
)
from welfare_rules.adapters.record import InputWarning
from welfare_rules.expr.functions import simple_signature
from welfare_rules.plugins import installed_entry_points
from welfare_rules.testing import institution

AS_OF = datetime.date(2024, 7, 1)
CITY = "welfare-rules-kota-pekalongan"


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


class FilePlugin:
    """A plugin object contributing rule files from a folder (as a test would write one)."""

    LAYER = "city"
    __version__ = "9.9"

    def __init__(self, name: str, rules: Path | None = None, params: Path | None = None,
                 functions: list[Function] | None = None):
        self.PLUGIN_NAME = name
        self._rules, self._params, self._functions = rules, params, functions or []

    @hookimpl
    def register_rules(self, register: Any) -> None:
        if self._rules is not None:
            register(self._rules)

    @hookimpl
    def register_parameters(self, register: Any) -> None:
        if self._params is not None:
            register(self._params)

    @hookimpl
    def register_functions(self, register: Any) -> None:
        for fn in self._functions:
            register(fn)


# A registered LKS that meets every national criterion of berkembang but takes no part in the
# LKKS: the national ladder says berkembang, the city's says embrio.
NATIONAL_BERKEMBANG = institution(
    legal_entity=True, notarial_deed=True, menkumham_approval=True, npwp="01.234.567.8-901.000",
    ad_art=True, officers_complete=True, work_programme=True,
    domicile_letter_date=datetime.date(2023, 5, 2), registration_number="460/015/2023",
    registration_date=datetime.date(2023, 6, 1), active_programmes=2, reports_last_3_years=3,
    clients_per_year=40, social_workers=2, accreditation_grade="none", funding_sources=1,
    founded=datetime.date(2015, 1, 1), lkks_meetings_attended=0, lkks_recommendation=False,
    reports_to_dinsos_last_year=0)


# ---------------------------------------------------------------------------------------------
# Discovery


def test_the_installed_city_plugin_is_discovered_through_its_entry_point() -> None:
    eps = {ep.name: ep for ep in installed_entry_points()}
    assert "kota-pekalongan" in eps, (
        "plugins/kota-pekalongan is not installed: run the README's test command "
        "(bash scripts/test.sh) or pip install -e ./plugins/kota-pekalongan")
    assert eps["kota-pekalongan"].value == "welfare_rules_kota_pekalongan"
    assert eps["kota-pekalongan"].dist is not None
    assert eps["kota-pekalongan"].dist.version == "0.1.0"


def test_loading_by_entry_point_name_records_the_plugin_name_version_and_layer() -> None:
    engine = Engine.load(plugins=["kota-pekalongan"])
    info = {p.name: p for p in engine.plugins}[CITY]
    assert (info.version, info.layer) == ("0.1.0", "city")
    assert info.source == f"entry point of {CITY}"
    assert engine.fingerprint()["plugins"][CITY] == "0.1.0"


def test_an_unknown_plugin_name_is_an_error_that_suggests_the_installed_one() -> None:
    with pytest.raises(PluginError, match="did you mean 'kota-pekalongan'"):
        Engine.load(plugins=["kota-pekalongn"])


# ---------------------------------------------------------------------------------------------
# Layering: the city's ladder replaces the national one


def _national(record: dict[str, Any]) -> Any:
    """The national engine given a city record: the city's fields are not its own (a warning
    with ``strict=False``, an InputError otherwise)."""
    engine = Engine.load()
    with pytest.raises(InputError, match="lkks_recommendation"):
        engine.evaluate("institution", record, as_of=AS_OF)
    with pytest.warns(InputWarning, match="unknown field 'lkks_recommendation' ignored"):
        return engine.evaluate("institution", record, as_of=AS_OF, strict=False)


def test_the_city_ranks_an_lks_by_its_own_ladder_and_the_national_engine_by_the_default() -> None:
    national = _national(NATIONAL_BERKEMBANG)
    city = Engine.load(plugins=["kota-pekalongan"]).evaluate("institution", NATIONAL_BERKEMBANG,
                                                              as_of=AS_OF)
    assert national.value("lks_maturity") == "berkembang"
    assert city.value("lks_maturity") == "embrio"
    assert city.value("kp_lks_attends_lkks") is False


def test_the_explanation_names_the_plugin_version_and_file() -> None:
    engine = Engine.load(plugins=["kota-pekalongan"])
    d = engine.evaluate("institution", NATIONAL_BERKEMBANG, as_of=AS_OF)
    text = d.explain("lks_maturity", lang="en")
    assert f"{CITY} 0.1.0, rules/lks.yaml" in text
    assert "Attends LKKS coordination meetings" in text
    assert engine.rule("lks_maturity").origin.plugin == CITY
    national = _national(NATIONAL_BERKEMBANG)
    assert "welfare-rules-national" in national.explain("lks_maturity", lang="en")


def test_overriding_the_ladder_removes_the_national_named_criteria() -> None:
    engine = Engine.load(plugins=["kota-pekalongan"])
    assert "lks_tumbuh_documents" not in engine.rules  # a national ladder criterion
    assert "lks_documents_complete" in engine.rules  # a national rule the city reuses


def test_the_city_umk_overrides_the_national_minimum_wage_parameter() -> None:
    engine = Engine.load(plugins=["kota-pekalongan"])
    p = engine.parameter("exclusion.min_wage_month")
    assert p.origin.plugin == CITY
    assert p.at(datetime.date(2024, 3, 1))[0] == 2_389_801
    assert Engine.load().parameter("exclusion.min_wage_month").at(AS_OF)[0] is None


def test_a_plugin_redefining_a_national_rule_without_overrides_fails_naming_both(
        tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "lks.yaml", """\
        id: clash
        entity: institution
        rules:
          - id: lks_registered
            when: not is_missing(registration_number)
        """)
    with pytest.raises(ErrorGroup) as err:
        Engine.load(plugins=[FilePlugin("welfare-rules-clash", rules)])
    msg = str(err.value)
    assert "rule 'lks_registered' is defined by welfare-rules-national" in msg
    assert "rules/lks.yaml" in msg
    assert "welfare-rules-clash 9.9" in msg
    assert "overrides: lks_registered" in msg


def test_with_overrides_the_same_plugin_loads_and_its_rule_wins(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "lks.yaml", """\
        id: clash
        entity: institution
        rules:
          - id: lks_registered
            overrides: lks_registered
            when: not is_missing(registration_number)
        """)
    engine = Engine.load(plugins=[FilePlugin("welfare-rules-clash", rules)])
    assert engine.rule("lks_registered").origin.plugin == "welfare-rules-clash"
    d = engine.evaluate("institution", institution(registration_number="1"), as_of=AS_OF)
    assert d.value("lks_registered") is True


def test_a_parameter_clash_without_overrides_names_both_origins(tmp_path: Path) -> None:
    params = write(tmp_path / "parameters" / "exclusion.yaml", """\
        min_wage_month:
          type: int
          values: {2024-01-01: 2000000}
        """)
    with pytest.raises(ErrorGroup, match=r"'exclusion.min_wage_month' is defined by "
                                         r"welfare-rules-national .* and again by "
                                         r"welfare-rules-p 9.9"):
        Engine.load(plugins=[FilePlugin("welfare-rules-p", params=tmp_path / "parameters")])
    assert params.exists()


def test_two_city_plugins_overriding_one_rule_need_each_their_own_declaration(
        tmp_path: Path) -> None:
    """The city plugin already overrides lks_maturity; a second plugin redefining it without
    'overrides' clashes with the city plugin, not with the national pack."""
    rules = write(tmp_path / "rules" / "x.yaml", """\
        id: x
        entity: institution
        rules:
          - id: lks_maturity
            ladder: [{level: embrio}]
        """)
    with pytest.raises(ErrorGroup, match=f"defined by {CITY} 0.1.0"):
        Engine.load(plugins=["kota-pekalongan", FilePlugin("welfare-rules-x", rules)])


# ---------------------------------------------------------------------------------------------
# Misspelled hooks


class Misspelled:
    PLUGIN_NAME = "welfare-rules-typo"

    @hookimpl
    def register_rulez(self, register: Any) -> None:  # not a hook
        raise AssertionError("never called")


def test_a_misspelled_hook_implementation_fails_loudly() -> None:
    with pytest.raises(PluginError) as err:
        Engine.load(plugins=[Misspelled()])
    msg = str(err.value)
    assert "register_rulez" in msg
    assert "welfare-rules-typo" in msg
    assert "register_rules" in msg  # the suggestion
    assert err.value.plugin == "welfare-rules-typo"


def test_a_hook_with_an_unknown_argument_fails_loudly() -> None:
    class WrongArgs:
        PLUGIN_NAME = "welfare-rules-wrong-args"

        @hookimpl
        def register_rules(self, register: Any, engine: Any) -> None:
            raise AssertionError("never called")

    with pytest.raises(PluginError, match="welfare-rules-wrong-args"):
        Engine.load(plugins=[WrongArgs()])


# ---------------------------------------------------------------------------------------------
# Functions


def _shout(text: str) -> str:
    return text.upper() + "!"


SHOUT = Function("shout", "shout(str) -> str", simple_signature(["text"], "str"), _shout,
                 description="upper case with an exclamation mark")


def test_a_plugin_function_is_usable_in_rule_expressions(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "r.yaml", """\
        id: shouting
        entity: institution
        rules:
          - id: shouted_name
            value: shout(name)
          - id: shouted_is_loud
            when: shout(name) == "LKS!"
        """)
    engine = Engine.load(plugins=[FilePlugin("welfare-rules-shout", rules, functions=[SHOUT])])
    d = engine.evaluate("institution", institution(name="lks"), as_of=AS_OF)
    assert d.value("shouted_name") == "LKS!"
    assert d.value("shouted_is_loud") is True
    assert d.value("shouted_name") is not None
    missing = engine.evaluate("institution", institution(name=None), as_of=AS_OF)
    assert missing.value("shouted_name") is None  # unknown in, unknown out
    assert engine.functions["shout"].plugin == "welfare-rules-shout"


def test_a_plugin_function_is_type_checked_like_a_built_in(tmp_path: Path) -> None:
    rules = write(tmp_path / "rules" / "r.yaml", """\
        id: shouting
        entity: institution
        rules:
          - id: shouted_count
            value: shout(staff_count)
        """)
    with pytest.raises(ErrorGroup) as err:
        Engine.load(plugins=[FilePlugin("welfare-rules-shout", rules, functions=[SHOUT])])
    errors = [e for e in err.value.errors if isinstance(e, RuleTypeError)]
    assert len(errors) == 1, str(err.value)
    e = errors[0]
    assert e.location is not None
    assert e.location.file is not None
    assert e.location.file.endswith("r.yaml")
    assert e.location.line == 5
    assert "argument 1 must be text, found int" in str(e)


def test_the_city_function_region_name_agrees_in_python_and_sql() -> None:
    import duckdb
    import welfare_rules_kota_pekalongan as city
    from sqlglot import exp

    fn = Engine.load(plugins=["kota-pekalongan"]).functions["region_name"]
    assert fn.sql is not None
    con = duckdb.connect()
    try:
        for raw in ["Pekalongan Barat", "  pekalongan   barat ", "Kuripan\tYosorejo", "x"]:
            sql = fn.sql(exp.Literal.string(raw), dialect="duckdb").sql(dialect="duckdb")
            assert con.execute("SELECT " + sql).fetchall() == [(city.region_name(raw),)]
    finally:
        con.close()


def test_two_plugins_contributing_the_same_function_name_fail(tmp_path: Path) -> None:
    with pytest.raises(PluginError, match="'shout' is contributed by both"):
        Engine.load(plugins=[FilePlugin("welfare-rules-a", functions=[SHOUT]),
                             FilePlugin("welfare-rules-b", functions=[SHOUT])])


# ---------------------------------------------------------------------------------------------
# The environment switch


def test_welfare_rules_plugins_limits_which_installed_plugins_load(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELFARE_RULES_PLUGINS", "my-region")
    assert [ep.name for ep in installed_entry_points()] == ["my-region"]
    with pytest.raises(PluginError, match="WELFARE_RULES_PLUGINS"):
        Engine.load(plugins=["kota-pekalongan"])
    names = {p.name for p in Engine.load(plugins="installed").plugins}
    assert CITY not in names
    assert "welfare-rules-my-region" in names


def test_welfare_rules_plugins_none_loads_no_installed_plugin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WELFARE_RULES_PLUGINS", "none")
    assert installed_entry_points() == []
    names = {p.name for p in Engine.load(plugins="installed").plugins}
    assert names == {"welfare-rules", "welfare-rules-national"}


def test_without_the_switch_installed_loads_every_installed_plugin(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WELFARE_RULES_PLUGINS", raising=False)
    names = {p.name for p in Engine.load(plugins="installed").plugins}
    assert {CITY, "welfare-rules-my-region"} <= names


def test_a_module_object_loads_without_installation() -> None:
    import welfare_rules_kota_pekalongan as city

    engine = Engine.load(plugins=[city])
    info = {p.name: p for p in engine.plugins}[CITY]
    assert (info.source, info.version) == ("module", "0.1.0")


def test_the_same_plugin_asked_for_twice_loads_once() -> None:
    import welfare_rules_kota_pekalongan as city

    engine = Engine.load(plugins=["kota-pekalongan", city])
    assert [p.name for p in engine.plugins].count(CITY) == 1
