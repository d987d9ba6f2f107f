"""Plugin discovery, requirements and the plugin manager.

:func:`get_plugin_manager` is a factory (no import-time global state): it adds the hook
specifications, registers the built-in plugins, loads the requested installed plugins from the
entry-point group ``welfare_rules`` and the given modules or objects, then calls
``check_pending()`` so that a misspelled hook implementation fails loudly.

A plugin names the plugins it layers on in a module attribute ``REQUIRES`` (entry-point names,
e.g. ``REQUIRES = ["jawa-tengah"]`` in the Kota Pekalongan plugin): :func:`resolve_plugins` loads
them beneath it, transitively, and refuses a requirement that is not installed, a circle of
requirements, or a requirement on a higher layer (a province cannot layer on a city).

Environment switches:

``WELFARE_RULES_PLUGINS``
    comma-separated entry-point names: the only installed plugins that may load (``none``
    allows none). Unset: any installed plugin may load when asked for.
``WELFARE_RULES_TRACE_HOOKS``
    when set, every hook call is printed to stderr.
"""

from __future__ import annotations

import importlib
import importlib.metadata as md
import inspect
import os
import sys
import types
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError, did_you_mean
from .hookspecs import PROJECT
from .packs import register_pack as register_pack  # a plugin author's helper

ENTRY_POINT_GROUP = "welfare_rules"
LAYERS = {"national": 0, "province": 1, "city": 2}


@attrs.frozen
class PluginInfo:
    """A loaded plugin: its name, distribution version, layer and where it came from."""

    name: str
    version: str = ""
    layer: str = "city"
    source: str = ""  # "built-in", "entry point <dist>", "module", "object"
    obj: Any = attrs.field(default=None, eq=False, repr=False)
    #: the plugins it layers on (entry-point names, the module's ``REQUIRES``)
    requires: tuple[str, ...] = ()
    #: the entry-point name it was loaded by ("" for a module or object)
    entry_point: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}".strip()


def layering(infos: Sequence[PluginInfo]) -> str:
    """The layers of a loaded engine as one line: ``national → province <plugin> → city <plugin>``.

    The built-in plugin and the national pack are the one word ``national``; every other plugin
    is named with its version after its layer, in load order.
    """
    parts = ["national"]
    for info in infos:
        if info.source == "built-in":
            continue
        parts.append(f"{info.layer} {info.label}")
    return " → ".join(parts)


def installed_entry_points() -> list[md.EntryPoint]:
    """The installed plugins' entry points, filtered by ``WELFARE_RULES_PLUGINS``."""
    eps = list(md.entry_points(group=ENTRY_POINT_GROUP))
    allowed = os.environ.get("WELFARE_RULES_PLUGINS")
    if allowed is not None:
        names = {x.strip() for x in allowed.split(",") if x.strip()}
        eps = [ep for ep in eps if ep.name in names]
    return sorted(eps, key=lambda ep: ep.name)


def _dist_version(ep: md.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is not None:
        return dist.metadata["Name"], dist.version
    return ep.name, ""


def _info_for(obj: Any, source: str, name: str | None = None,
              version: str | None = None, entry_point: str | None = None) -> PluginInfo:
    pname = name or getattr(obj, "PLUGIN_NAME", None) or getattr(obj, "__name__", None) \
        or type(obj).__name__
    pversion = version if version is not None else str(getattr(obj, "__version__", "") or "")
    layer = str(getattr(obj, "LAYER", "city"))
    if layer not in LAYERS:
        raise PluginError(f"plugin '{pname}': LAYER must be one of {', '.join(LAYERS)}, "
                          f"found '{layer}'", str(pname))
    requires = getattr(obj, "REQUIRES", ())
    if isinstance(requires, str) or not all(isinstance(r, str) and r for r in requires):
        raise PluginError(f"plugin '{pname}': REQUIRES must be a list of plugin names "
                          f"(entry-point names such as 'jawa-tengah'), found {requires!r}",
                          str(pname))
    return PluginInfo(str(pname), pversion, layer, source, obj, tuple(requires),
                      entry_point or "")


def resolve_plugins(requested: Iterable[Any] | str | None) -> list[PluginInfo]:
    """Turn what :meth:`Engine.load` was given into plugin infos.

    Accepts entry-point names (``"kota-pekalongan"``), dotted module names, module objects and
    plugin objects; ``"installed"`` means every installed plugin allowed by
    ``WELFARE_RULES_PLUGINS``. The plugins each one requires (``REQUIRES``) are added beneath
    it, transitively; a requirement of an allowed plugin is allowed too.

    Raises:
        PluginError: an unknown or disallowed plugin, a requirement that is not installed, a
            circle of requirements, or a requirement on a higher layer.
    """
    if requested is None:
        return []
    if isinstance(requested, str):
        requested = [requested]
    return _with_requirements(_resolve_requested(requested))


def _resolve_requested(requested: Iterable[Any]) -> list[PluginInfo]:
    out: list[PluginInfo] = []
    eps = {ep.name: ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)}
    allowed = os.environ.get("WELFARE_RULES_PLUGINS")
    for item in requested:
        if item == "installed":
            for ep in installed_entry_points():
                out.append(_load_entry_point(ep))
            continue
        if isinstance(item, str):
            if item in eps:
                if allowed is not None and item not in {x.strip() for x in allowed.split(",")}:
                    raise PluginError(f"plugin '{item}' is installed but WELFARE_RULES_PLUGINS="
                                      f"{allowed!r} does not allow it", item)
                out.append(_load_entry_point(eps[item]))
                continue
            try:
                mod = importlib.import_module(item)
            except ImportError:
                raise PluginError(
                    f"no plugin named '{item}'{did_you_mean(item, eps)}: installed plugins are "
                    f"{', '.join(sorted(eps)) or 'none'}; a module path must be importable",
                    item) from None
            out.append(_info_for(mod, "module"))
            continue
        src = "module" if isinstance(item, types.ModuleType) else "object"
        out.append(_info_for(item, src))
    return out


def _load_entry_point(ep: md.EntryPoint) -> PluginInfo:
    try:
        obj = ep.load()
    except Exception as exc:
        raise PluginError(f"plugin '{ep.name}' failed to import: {exc}", ep.name) from exc
    dist, version = _dist_version(ep)
    return _info_for(obj, f"entry point of {dist}", name=dist, version=version,
                     entry_point=ep.name)


def _with_requirements(infos: list[PluginInfo]) -> list[PluginInfo]:
    """``infos`` with every plugin they require, each required one before its requirer."""
    eps = {ep.name: ep for ep in md.entry_points(group=ENTRY_POINT_GROUP)}
    out: list[PluginInfo] = []
    done: dict[str, PluginInfo] = {}  # by plugin name and by entry-point name

    def known(info: PluginInfo) -> PluginInfo | None:
        return done.get(info.name) or (done.get(info.entry_point) if info.entry_point else None)

    def visit(info: PluginInfo, path: tuple[PluginInfo, ...]) -> None:
        if known(info) is not None:
            return
        for req in info.requires:
            chain = " → ".join([*(p.entry_point or p.name for p in (*path, info)), req])
            if any(req in (p.name, p.entry_point) for p in (*path, info)):
                raise PluginError(f"circular plugin requirement: {chain}", info.name)
            dep = done.get(req)
            if dep is None:
                if req not in eps:
                    raise PluginError(
                        f"plugin '{info.name}' requires plugin '{req}', which is not installed"
                        f"{did_you_mean(req, eps)} (installed plugins: "
                        f"{', '.join(sorted(eps)) or 'none'}); install it, e.g. "
                        f"pip install welfare-rules-{req}", info.name)
                dep = _load_entry_point(eps[req])
                visit(dep, (*path, info))
            if LAYERS[dep.layer] > LAYERS[info.layer]:
                raise PluginError(
                    f"plugin '{info.name}' ({info.layer} layer) requires '{req}', which is a "
                    f"{dep.layer}-layer plugin: a plugin can only layer on a lower or the same "
                    f"layer (national → province → city)", info.name)
        done[info.name] = info
        if info.entry_point:
            done[info.entry_point] = info
        out.append(info)

    for info in infos:
        visit(info, ())
    return out


def get_plugin_manager(plugins: Sequence[PluginInfo], *, builtins: bool = True,
                       national: bool = True) -> tuple[pluggy.PluginManager, list[PluginInfo]]:
    """Build a plugin manager with the built-ins and ``plugins`` registered, in layer order.

    Raises:
        PluginError: a plugin implements a hook that does not exist (misspelled), or has the
            wrong arguments, or two plugins have the same name.
    """
    from . import builtin_plugin
    from . import national as national_pack

    pm = pluggy.PluginManager(PROJECT)
    pm.add_hookspecs(hookspecs)
    infos: list[PluginInfo] = []
    if builtins:
        infos.append(PluginInfo("welfare-rules", _own_version(), "national", "built-in",
                                builtin_plugin))
    if builtins and national:
        infos.append(PluginInfo("welfare-rules-national", _own_version(), "national",
                                "built-in", national_pack))
    infos.extend(sorted(plugins, key=lambda p: LAYERS[p.layer]))
    seen: dict[str, PluginInfo] = {}
    for info in list(infos):
        if info.name in seen and seen[info.name].obj is info.obj:
            infos.remove(info)  # asked for twice (e.g. by a test file and by -p): load once
            continue
        if info.name in seen:
            raise PluginError(f"two plugins are named '{info.name}' ({seen[info.name].source} "
                              f"and {info.source})", info.name)
        seen[info.name] = info
        try:
            pm.register(info.obj, name=info.name)
        except ValueError as exc:
            raise PluginError(f"plugin '{info.name}' cannot be registered: {exc}",
                              info.name) from exc
        except pluggy.PluginValidationError as exc:
            raise PluginError(f"plugin '{info.name}': {exc}", info.name) from exc
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        bad = pm.get_name(exc.plugin) or ""  # pluggy gives the plugin object
        names = hookspecs.all_hook_names()
        hint = ""
        for word in str(exc).split():
            hint = hint or did_you_mean(word.strip("'\":,."), names)
        raise PluginError(f"plugin '{bad}': {exc}{hint}", bad) from exc
    if os.environ.get("WELFARE_RULES_TRACE_HOOKS"):
        pm.trace.root.setwriter(lambda s: sys.stderr.write(str(s)))
        pm.enable_tracing()
    return pm, infos


def call_contributions(pm: pluggy.PluginManager, infos: Sequence[PluginInfo], hook: str,
                       make_register: Callable[[PluginInfo], Callable[..., None]]) -> None:
    """Call ``hook`` on each plugin in layer order with a ``register`` bound to that plugin."""
    by_name = {i.name: i for i in infos}
    caller = getattr(pm.hook, hook)
    impls = {impl.plugin_name: impl for impl in caller.get_hookimpls()}
    for info in infos:
        impl = impls.get(info.name)
        if impl is None:
            continue
        register = make_register(by_name[info.name])
        kwargs = {"register": register}
        args = {k: v for k, v in kwargs.items() if k in impl.argnames}
        if os.environ.get("WELFARE_RULES_TRACE_HOOKS"):
            sys.stderr.write(f"welfare_rules: {info.name}.{hook}()\n")
        impl.function(**args)


def backend_names(plugins: Iterable[Any] | str | None = "installed") -> list[str]:
    """The names of the batch backends the built-in plugin and ``plugins`` register
    (``register_backends``), without loading any rules: what ``--backend`` accepts.

    Args:
        plugins: as for :func:`resolve_plugins`; default every installed plugin that
            ``WELFARE_RULES_PLUGINS`` allows.

    Raises:
        PluginError: a plugin cannot be found or loaded.
    """
    pm, infos = get_plugin_manager(resolve_plugins(plugins), national=False)
    names: set[str] = set()

    def make_register(info: PluginInfo) -> Callable[..., None]:
        return lambda backend: names.add(str(getattr(backend, "name", "")))

    call_contributions(pm, infos, "register_backends", make_register)
    return sorted(n for n in names if n)


def _own_version() -> str:
    try:
        return md.version("welfare-rules")
    except md.PackageNotFoundError:
        return "0+unknown"


def describe_hookimpl(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__name__}{inspect.signature(fn)}"

