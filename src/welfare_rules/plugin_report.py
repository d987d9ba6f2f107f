"""What plugins are installed and what each loaded plugin contributes.

This backs ``welfare-rules plugins [--json]``: :func:`describe` lists the plugins of a loaded
engine with everything each contributed (schema fields, rulesets and rule ids, parameters,
functions, adapters, rule tests, registers), :func:`installed` lists the installed entry points
of the group ``welfare_rules`` whether loaded or not, and :func:`render_text` prints both for a
person. Everything is plain data (lists, dicts, strings), ready for JSON.
"""

from __future__ import annotations

import importlib.metadata as md
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .plugins import ENTRY_POINT_GROUP

if TYPE_CHECKING:
    from .engine import Engine

__all__ = ["describe", "installed", "render_text"]

_BUILTIN = "welfare-rules"


def describe(engine: Engine) -> list[dict[str, Any]]:
    """Each plugin loaded in ``engine``, in layer order, with what it contributes.

    Returns:
        One dict per plugin: ``name``, ``version``, ``layer``, ``source``, ``requires`` (the
        plugins it layers on, by entry-point name) and ``contributes``,
        a dict with ``fields`` (``entity.field`` names), ``entities`` (entities it declared
        first), ``rulesets`` (``[{id, version, file, rules}]``), ``rules`` (all visible rule ids
        it defines), ``overrides`` (rule and parameter names it replaces from an earlier layer),
        ``parameters``, ``functions`` (``[{name, signature, sql}]``), ``adapters``,
        ``rule_tests`` (paths) and ``registers``. Empty lists are kept, so the shape is fixed.
    """
    out: list[dict[str, Any]] = []
    for info in engine.plugins:
        out.append({
            "name": info.name,
            "version": info.version,
            "layer": info.layer,
            "source": info.source,
            "requires": list(info.requires),
            "contributes": _contributions(engine, info.name),
        })
    return out


def _contributions(engine: Engine, plugin: str) -> dict[str, Any]:
    fields: list[str] = []
    entities: list[str] = []
    for ent in engine.schema.entities.values():
        mine = [f for f in ent.fields.values() if f.origin.plugin == plugin]
        fields.extend(f"{ent.name}.{f.name}" for f in mine)
        key = ent.fields.get(ent.key)
        if key is not None and key.origin.plugin == plugin:
            entities.append(ent.name)

    rulesets: dict[str, dict[str, Any]] = {}
    rules: list[str] = []
    overrides: list[str] = []
    for rid in engine.order:
        for r in engine.rules[rid]:
            if r.origin.plugin != plugin:
                continue
            rs = rulesets.setdefault(r.ruleset, {"id": r.ruleset, "version": r.version,
                                                 "file": r.origin.file, "rules": []})
            if not r.hidden and rid not in rs["rules"]:
                rs["rules"].append(rid)
                rules.append(rid)
            if r.overrides and rid not in overrides:
                overrides.append(rid)

    params = sorted(name for name, p in engine.parameters.items() if p.origin.plugin == plugin)
    overrides.extend(f"param.{name}" for name in params
                     if engine.parameters[name].overrides)
    # The built-ins' SQL builders are attached by the batch backends by name.
    functions = [{"name": f.name, "signature": f.signature,
                  "sql": f.sql is not None or f.plugin == _BUILTIN,
                  "description": f.description}
                 for f in sorted(engine.functions.values(), key=lambda f: f.name)
                 if f.plugin == plugin]
    adapters = sorted(c.name for c in engine.contributions
                      if c.plugin == plugin and c.kind == "adapter")
    tests = [str(path) for path, who in engine.rule_tests if who == plugin]
    registers = sorted(name for name, spec in engine.registers.items()
                       if isinstance(spec, Mapping) and spec.get("plugin") == plugin)
    return {
        "entities": entities,
        "fields": fields,
        "rulesets": sorted(rulesets.values(), key=lambda r: str(r["id"])),
        "rules": rules,
        "overrides": overrides,
        "parameters": params,
        "functions": functions,
        "adapters": adapters,
        "rule_tests": tests,
        "registers": registers,
    }


def installed() -> list[dict[str, Any]]:
    """Every installed entry point of the group ``welfare_rules``, loaded or not.

    Returns:
        One dict per entry point: ``name`` (what ``Engine.load(plugins=[...])`` takes),
        ``module``, ``dist`` and ``version`` of the distribution, and ``allowed``: whether
        ``WELFARE_RULES_PLUGINS`` lets it load. Nothing is imported.
    """
    allowed_env = os.environ.get("WELFARE_RULES_PLUGINS")
    allowed = None if allowed_env is None else {
        x.strip() for x in allowed_env.split(",") if x.strip()}
    out = []
    for ep in sorted(md.entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(ep, "dist", None)
        out.append({
            "name": ep.name,
            "module": ep.value,
            "dist": dist.metadata["Name"] if dist is not None else "",
            "version": dist.version if dist is not None else "",
            "allowed": allowed is None or ep.name in allowed,
        })
    return out


def render_text(data: Mapping[str, Any] | Sequence[Mapping[str, Any]],
                installed_plugins: Sequence[Mapping[str, Any]] | None = None) -> str:
    """A readable listing of :func:`describe` (and :func:`installed`) output.

    Args:
        data: ``{"loaded": describe(engine), "installed": installed()}`` (what the CLI
            builds), or the list from :func:`describe` alone.
        installed_plugins: the :func:`installed` list, when ``data`` is a list.
    """
    if isinstance(data, Mapping):
        loaded: Sequence[Mapping[str, Any]] = data.get("loaded") or []
        inst = data.get("installed") if installed_plugins is None else installed_plugins
    else:
        loaded, inst = data, installed_plugins
    lines: list[str] = []
    if inst is not None:
        lines.append("Installed plugins (entry-point group welfare_rules):")
        if not inst:
            lines.append("  none")
        for ep in inst:
            note = "" if ep.get("allowed", True) else "  [not allowed by WELFARE_RULES_PLUGINS]"
            lines.append(f"  {ep['name']:<20} {ep.get('dist', '')} {ep.get('version', '')}"
                         f"{note}".rstrip())
        lines.append("")
    chain = ["national"] + [f"{p.get('layer', '')} {p['name']} {p.get('version', '')}".rstrip()
                            for p in loaded if p.get("source") != "built-in"]
    lines.append("Layers: " + " → ".join(chain))
    lines.append("Loaded plugins, in layer order:")
    for p in loaded:
        lines.append(f"  {p['name']} {p.get('version', '')}".rstrip()
                     + f"  ({p.get('layer', '')}, {p.get('source', '')})")
        if p.get("requires"):
            lines.append("    requires: " + ", ".join(p["requires"]))
        lines.extend(_render_contributions(p.get("contributes") or {}))
    return "\n".join(lines)


def _render_contributions(c: Mapping[str, Any]) -> list[str]:
    pad = "      "
    out: list[str] = []

    def listing(label: str, items: Sequence[str]) -> None:
        if items:
            out.append(f"    {label} ({len(items)}): " + _wrap(", ".join(items), pad))

    listing("entities", c.get("entities") or [])
    listing("fields", c.get("fields") or [])
    for rs in c.get("rulesets") or []:
        where = f" [{rs['file']}]" if rs.get("file") else ""
        out.append(f"    ruleset {rs['id']} {rs.get('version', '')}".rstrip() + where)
        if rs.get("rules"):
            out.append(pad + _wrap(", ".join(rs["rules"]), pad))
    listing("overrides", c.get("overrides") or [])
    listing("parameters", c.get("parameters") or [])
    fns = c.get("functions") or []
    if fns:
        out.append(f"    functions ({len(fns)}):")
        for f in fns:
            sql = "" if f.get("sql") else "  (no SQL: Python backend only)"
            out.append(f"{pad}{f['signature']}{sql}")
    listing("adapters", c.get("adapters") or [])
    listing("rule tests", ["/".join(Path(x).parts[-2:]) for x in c.get("rule_tests") or []])
    listing("registers", c.get("registers") or [])
    if not out:
        out.append("    (contributes nothing)")
    return out


def _wrap(text: str, pad: str, width: int = 96) -> str:
    words = text.split(" ")
    lines: list[str] = []
    cur = ""
    for w in words:
        if cur and len(pad) + len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    lines.append(cur)
    return ("\n" + pad).join(lines)
