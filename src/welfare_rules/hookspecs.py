"""The plugin contract: every hook a welfare-rules plugin may implement.

welfare-rules uses pluggy with the project name ``welfare_rules``. A plugin is a module or an
object with functions decorated by :data:`hookimpl`; installed plugins are found through the
entry-point group ``welfare_rules``. The national rule pack and the built-in functions and
adapters are plugins too, registered through these same hooks.

Every hook is a *contribution* hook: it receives a ``register`` callable and calls it once per
thing it contributes. The engine binds ``register`` to the calling plugin, so it knows who gave
what (shown by ``welfare-rules plugins`` and in explanations) and can name both plugins when two
contribute the same name. Hooks are called once per :meth:`Engine.load`, in layer order
(national, then province, then city plugins, by the plugin's ``LAYER`` attribute: ``national``
< ``province`` < ``city``), and each hook's return value is ignored.

A plugin module or object may set ``PLUGIN_NAME`` (shown in ``welfare-rules plugins`` and in
explanations; an installed plugin is named after its distribution), ``LAYER`` (``"province"`` or
``"city"``; default ``"city"``) and ``__version__``. It implements only the hooks it needs; a
``@hookimpl`` function whose name is not one of these hooks (``register_rulez``) fails loading
with a :class:`~welfare_rules.errors.PluginError` (``check_pending``).

Implementations may accept fewer arguments than the spec (pluggy passes only those they name),
which is how hooks evolve: new arguments are added, never removed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

PROJECT = "welfare_rules"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Register = Callable[..., None]


# ---------------------------------------------------------------------------------------------
# Phase 1: the data model. Called first in every Engine.load, before any rule is read, because
# functions, parameters and rules are checked against the schema.


@hookspec
def register_schema(register: Register) -> None:
    """Contribute schema: new entities, or new fields of existing entities.

    When: first, once per :meth:`Engine.load`, layer by layer.

    Args:
        register: call ``register(path)`` with a YAML schema file (``entities: {name: {key,
            label, fields, relations}}``, the format of ``national/schema.yaml``), or
            ``register(mapping)`` with the same data. A field that an earlier layer already
            declared is a load error naming both plugins: a plugin adds fields, it never
            redefines or renames them.

    Returns:
        Nothing (the return value is ignored).

    Implemented by: the built-in plugin (the national schema, DESIGN.md appendix A) and any
    plugin whose rules need fields of their own (Kota Pekalongan adds its LKKS fields to
    ``institution``).
    """


# ---------------------------------------------------------------------------------------------
# Phase 2: what expressions may call, and how data comes in.


@hookspec
def register_functions(register: Register) -> None:
    """Contribute functions usable in rule expressions.

    When: after the schema, before any rule is type-checked, so a plugin's function is checked
    like a built-in (a wrong argument type is a located ``RuleTypeError``).

    Args:
        register: call ``register(function)`` with a :class:`welfare_rules.Function`: a
            ``name``, a ``signature`` text, a ``type_rule`` (argument types → result type, or
            ``TypeError``), a ``python`` implementation (receives ``None`` for unknown) and,
            for the batch backends, ``sql``: a builder ``sql(*args, dialect=None)`` returning a
            sqlglot expression. A function without ``sql`` works in the Python backend; a
            batch backend that needs it reports it by name. Two plugins contributing the same
            function name is a load error naming both.

    Returns:
        Nothing.

    Implemented by: the built-in plugin (``years_between``, ``coalesce``…) and plugins that
    need a computation the language lacks (Kota Pekalongan's ``region_name``).
    """


@hookspec
def register_adapters(register: Register) -> None:
    """Contribute data adapters that read a source format into canonical records.

    When: once per :meth:`Engine.load`, after the functions; ``engine.read(source,
    adapter=name)`` then finds the adapter by name.

    Args:
        register: call ``register(adapter)`` with an object following
            :class:`welfare_rules.adapters.Adapter` (a ``name``, a ``description`` and a
            ``read`` method), usually a :class:`welfare_rules.adapters.MappingAdapter` built
            from a column-mapping YAML (``MappingAdapter.from_yaml(path)``). Two adapters of
            the same name are a load error naming both plugins.

    Returns:
        Nothing.

    Implemented by: the built-in plugin (``canonical``) and regional plugins for their
    exports (``kota-pekalongan``: one row per person, grouped into households).
    """


# ---------------------------------------------------------------------------------------------
# Phase 3: the rules and their values, layered national → province → city.


@hookspec
def register_parameters(register: Register) -> None:
    """Contribute parameters: named values with effective dates, read as of ``as_of``.

    When: after functions and adapters, before the rules (rules are checked against the
    parameters' types).

    Args:
        register: call ``register(path)`` with a folder (a parameter's dotted name is its
            file path under the folder plus the keys inside: ``pkh.yaml`` with key
            ``elderly_age`` gives ``pkh.elderly_age``) or a single YAML file (names are the
            keys inside). A parameter that an earlier layer defines is replaced only when it
            declares ``overrides: true``; otherwise loading fails naming both origins.

    Returns:
        Nothing.

    Implemented by: the national pack (every national threshold and amount) and regional
    plugins (their own values, and overrides such as Kota Pekalongan's UMK for
    ``exclusion.min_wage_month``).
    """


@hookspec
def register_rules(register: Register) -> None:
    """Contribute rulesets (YAML rule files, docs/rules.md).

    When: after the parameters; all rulesets of all layers are then layered, their
    dependencies ordered (a cycle is an error) and every expression type-checked, with every
    mistake of every file reported together.

    Args:
        register: call ``register(path)`` with a ruleset YAML file or a folder of them. A rule
            whose id an earlier layer already defines must declare ``overrides: <id>`` (it then
            replaces that rule with all its named criteria); otherwise loading fails naming
            both plugins and both files. Every rule remembers its origin (plugin, version,
            file), which explanations quote.

    Returns:
        Nothing.

    Implemented by: the national pack and any plugin with rules of its own (Kota
    Pekalongan's region checks and its ``lks_maturity`` ladder).
    """


# ---------------------------------------------------------------------------------------------
# Phase 4: what is checked and reconciled against the rules.


@hookspec
def register_rule_tests(register: Register) -> None:
    """Contribute YAML rule test cases, run by ``welfare-rules test`` and the pytest plugin.

    When: once per :meth:`Engine.load`, after the rules; the engine only records the paths
    (``engine.rule_tests``), the runner reads them.

    Args:
        register: call ``register(path)`` with a test file or a folder of ``test_*.yaml``
            files. A file may name the plugins it needs (``plugins: [kota-pekalongan]``).

    Returns:
        Nothing.

    Implemented by: every rule pack: the national pack and each regional plugin.
    """


@hookspec
def register_registers(register: Register) -> None:
    """Contribute reference registers for reconciliation (death register, civil servants...).

    When: last, once per :meth:`Engine.load`.

    Args:
        register: call ``register(name, spec)`` where ``spec`` is a mapping with ``title``,
            ``match`` (``nik`` and/or ``name_birth_date``), ``action`` and ``severity``.

    Returns:
        Nothing.

    Implemented by: the national pack (the registers BPK matched DTKS against) and regions
    with a register of their own.
    """


# ---------------------------------------------------------------------------------------------
# Last in Engine.load: how batches are evaluated (backends do not depend on the rules).


@hookspec
def register_backends(register: Register) -> None:
    """Contribute batch backends: how ``evaluate_batch`` runs the rules over a table.

    When: last, once per :meth:`Engine.load`.

    Args:
        register: call ``register(backend)`` with an object implementing
            :class:`welfare_rules.backends.base.Backend` (a ``name``, ``reads_parquet``,
            ``native(data)`` and ``run(job) -> Outcome``; subclass
            :class:`~welfare_rules.backends.base.BackendBase` for the defaults). Its ``name``
            is what ``evaluate_batch(backend=...)`` and ``--backend`` accept. A name another
            plugin registered already is a load error naming both plugins.

    Returns:
        Nothing.

    Implemented by: the built-in plugin (``python``, ``duckdb``, ``polars``, ``spark``); a
    plugin with a backend of its own (PostgreSQL, BigQuery). A backend reads only the
    :class:`~welfare_rules.plan.Plan` and the inputs it is given (``docs/architecture.md``).
    """


# ---------------------------------------------------------------------------------------------
# Phase 5: what the reports draw. Not called by Engine.load: the report asks the loaded plugins
# when it draws a map.


@hookspec
def register_boundaries(register: Register) -> None:
    """Contribute the kelurahan boundaries the monthly report draws its map with.

    When: by :func:`welfare_rules.reports.write_report` (not by :meth:`Engine.load`), once per
    report, layer by layer; a later layer's boundaries replace an earlier one's.

    Args:
        register: call ``register(geojson, key="kelurahan", source="...")`` with a GeoJSON
            ``FeatureCollection`` (a path to a ``.geojson`` file or the mapping itself) of
            ``Polygon``/``MultiPolygon`` features; ``key`` names the feature property that
            holds the kelurahan name as the data spells it; ``source`` says where the shapes
            come from and under which licence (shown under the map).

    Returns:
        Nothing.

    Implemented by: a regional plugin that may redistribute its boundaries (none is bundled:
    the report then has no map).
    """


def all_hook_names() -> list[str]:
    """Names of every hook of the contract (used by the docs test)."""
    return [name for name, obj in globals().items()
            if callable(obj) and hasattr(obj, PROJECT + "_spec")]


def hook_signature(name: str) -> str:
    """The exact signature of a hook as the reference page writes it:
    ``register_rules(register: Register) -> None``."""
    import inspect

    fn: Any = globals()[name]
    return f"{name}{inspect.signature(fn)}".replace("'", "")
