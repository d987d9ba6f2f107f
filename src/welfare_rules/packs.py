"""Rule packs laid out the usual way, registered without repeating the hook bodies.

A rule pack is a folder: ``schema.yaml``, ``parameters/``, ``rules/``, ``tests/`` and maybe
``registers.yaml``. :func:`register_pack` gives its plugin module the hook implementations
that register them (also importable as ``welfare_rules.plugins.register_pack``).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

from ._yaml import load_yaml_file
from .errors import RuleLoadError
from .hookspecs import Register, hookimpl

__all__ = ["read_registers", "register_pack"]


def register_pack(folder: str | Path, namespace: MutableMapping[str, Any] | None = None, *,
                  schema: str | None = "schema.yaml") -> dict[str, Callable[..., None]]:
    """The hook implementations of a rule pack laid out the usual way, so that a plugin
    module does not repeat them::

        HERE = Path(__file__).parent
        register_pack(HERE, globals())    # defines register_schema, register_rules, ...

    Each part that exists in ``folder`` gets its hook: ``schema.yaml`` (``register_schema``;
    another file name with ``schema=``), ``parameters/`` (``register_parameters``), ``rules/``
    (``register_rules``), ``tests/`` (``register_rule_tests``) and ``registers.yaml``
    (``register_registers``: ``{name: spec}``, read with the bounded YAML loader and refused
    with a located :class:`~welfare_rules.errors.RuleLoadError` unless it is a mapping of
    mappings). A plugin adds its other hooks (functions,
    adapters, backends) itself, as usual.

    Args:
        folder: the folder of the pack (usually the plugin module's own).
        namespace: where to define the hook functions (the module's ``globals()``); pluggy
            finds them there as it finds hand-written ones.
        schema: the pack's schema file (``None``: none; the national pack registers
            ``fields.yaml``, its ``schema.yaml`` being the built-in plugin's).

    Returns:
        The hook functions, by hook name.
    """
    here = Path(folder)
    hooks: dict[str, Callable[..., None]] = {}

    def path_hook(name: str, path: Path) -> None:
        def hook(register: Register) -> None:
            register(path)

        hook.__name__ = hook.__qualname__ = name
        hook.__doc__ = f"Register {path.name} of the pack in {here}."
        hooks[name] = hookimpl(hook)

    if schema and (here / schema).is_file():
        path_hook("register_schema", here / schema)
    for name, part in (("register_parameters", "parameters"), ("register_rules", "rules"),
                       ("register_rule_tests", "tests")):
        if (here / part).is_dir():
            path_hook(name, here / part)
    if (here / "registers.yaml").is_file():
        def register_registers(register: Register) -> None:
            for reg, spec in read_registers(here / "registers.yaml").items():
                register(reg, spec)

        hooks["register_registers"] = hookimpl(register_registers)
    if namespace is not None:
        namespace.update(hooks)
    return hooks


def read_registers(path: str | Path) -> dict[str, dict[str, Any]]:
    """A ``registers.yaml`` file as ``{name: spec}``, read with the bounded, located YAML loader.

    Raises:
        RuleLoadError: the file is not YAML within the loader's limits, or not a mapping of
            register names to mappings (located at the offending value).
    """
    data, pos = load_yaml_file(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise RuleLoadError(f"{Path(path).name} must be a mapping of register names to their "
                            f"specs; found {type(data).__name__}", pos.get(()))
    out: dict[str, dict[str, Any]] = {}
    for reg, spec in data.items():
        if not isinstance(spec, dict):
            raise RuleLoadError(f"register '{reg}' must be a mapping (title, fields, key, "
                                f"match, ...); found {type(spec).__name__}",
                                pos.get((str(reg),)))
        out[str(reg)] = spec
    return out
