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


@hookspec
def register_schema(register: Register) -> None:
    """Contribute schema files: new entities, or new fields of existing entities.

    Called first, before any rule is read.

    Args:
        register: call ``register(path)`` with a YAML schema file (format: ``entities: {name:
            {key, label, fields, relations}}``), or ``register(mapping)`` with the same data.
            Adding a field another layer already declared is a load error naming both.
    """


@hookspec
def register_parameters(register: Register) -> None:
    """Contribute parameters: dated values read as of the evaluation date.

    Args:
        register: call ``register(path)`` with a folder (the dotted name of a parameter is its
            file path under the folder plus the keys inside, e.g. ``pkh.yaml`` with key
            ``elderly_age`` gives ``pkh.elderly_age``) or a single YAML file. A parameter that
            another layer already defines must declare ``overrides: true`` (or the name).
    """


@hookspec
def register_rules(register: Register) -> None:
    """Contribute rulesets.

    Args:
        register: call ``register(path)`` with a ruleset YAML file or a folder of them. A rule
            whose id another layer already defines must declare ``overrides: <id>``; otherwise
            loading fails with both origins named.
    """


@hookspec
def register_functions(register: Register) -> None:
    """Contribute functions usable in rule expressions.

    Args:
        register: call ``register(function)`` with a
            :class:`welfare_rules.expr.functions.Function`: a name, a type rule, a Python
            implementation and, for the batch backends, a SQL builder. A batch backend that
            meets a function without SQL reports it by name.
    """


@hookspec
def register_adapters(register: Register) -> None:
    """Contribute data adapters that read a source format into canonical records.

    Args:
        register: call ``register(adapter)`` with an object following
            :class:`welfare_rules.adapters.Adapter` (a ``name`` and a ``read`` method), e.g. a
            :class:`welfare_rules.adapters.MappingAdapter` built from a column-mapping YAML.
    """


@hookspec
def register_rule_tests(register: Register) -> None:
    """Contribute YAML rule test cases, run by ``welfare-rules test`` and the pytest plugin.

    Args:
        register: call ``register(path)`` with a test file or folder.
    """


@hookspec
def register_registers(register: Register) -> None:
    """Contribute reference registers for reconciliation (death register, civil servants...).

    Args:
        register: call ``register(name, spec)`` where ``spec`` is a mapping with ``title``,
            ``match`` (``nik`` and/or ``name_birth_date``), ``action`` and ``severity``.
    """


def all_hook_names() -> list[str]:
    """Names of every hook of the contract (used by the docs test)."""
    return [name for name, obj in globals().items()
            if callable(obj) and hasattr(obj, PROJECT + "_spec")]


def hook_signature(name: str) -> str:
    import inspect

    fn: Any = globals()[name]
    return f"{name}{inspect.signature(fn)}".replace("'", "")
