"""Kelurahan boundaries for the report's map, contributed by plugins (``register_boundaries``).

A plugin calls ``register(geojson, key="kelurahan", source="...")`` with a GeoJSON
``FeatureCollection`` (a path or the mapping) of ``Polygon``/``MultiPolygon`` features whose
property ``key`` holds the kelurahan name. The report draws one choropleth per kelurahan figure
with it, offline (no base map). A malformed collection is a :class:`PluginError` naming the
plugin and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import PluginError

if TYPE_CHECKING:
    from ..engine import Engine

__all__ = ["Boundaries", "load_boundaries", "parse_boundaries"]

_SHAPES = {"Polygon", "MultiPolygon"}


@attrs.frozen
class Boundaries:
    """A checked FeatureCollection: ``names`` in feature order, the property ``key``."""

    geojson: Mapping[str, Any]
    key: str
    source: str
    plugin: str
    names: tuple[str, ...]


def parse_boundaries(geojson: str | Path | Mapping[str, Any], *, key: str = "kelurahan",
                     source: str = "", plugin: str = "") -> Boundaries:
    """Check a FeatureCollection and return it as :class:`Boundaries`.

    Raises:
        PluginError: not a FeatureCollection of polygons, or a feature without ``key``.
    """
    where = f"plugin '{plugin}': boundaries" if plugin else "boundaries"
    if isinstance(geojson, str | Path):
        try:
            data = json.loads(Path(geojson).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise PluginError(f"{where}: cannot read {geojson}: {exc}", plugin) from None
        where = f"{where} {geojson}"
    else:
        data = geojson
    if not isinstance(data, Mapping) or data.get("type") != "FeatureCollection":
        raise PluginError(f"{where}: expected a GeoJSON FeatureCollection", plugin)
    names = []
    for i, feat in enumerate(data.get("features") or []):
        geom = (feat or {}).get("geometry") or {}
        if geom.get("type") not in _SHAPES:
            raise PluginError(f"{where}: feature {i + 1} is a {geom.get('type')!r}, expected "
                              f"Polygon or MultiPolygon", plugin)
        name = ((feat or {}).get("properties") or {}).get(key)
        if not isinstance(name, str) or not name:
            raise PluginError(f"{where}: feature {i + 1} has no property {key!r} (the "
                              f"kelurahan name)", plugin)
        names.append(name)
    if not names:
        raise PluginError(f"{where}: the FeatureCollection has no features", plugin)
    return Boundaries(data, key, source, plugin, tuple(names))


def load_boundaries(engine: Engine) -> Boundaries | None:
    """The boundaries the engine's plugins contribute (the last layer's), or None."""
    from ..plugins import call_contributions, get_plugin_manager

    infos = [i for i in engine.plugins if i.source != "built-in" and i.obj is not None]
    if not infos:
        return None
    pm, ordered = get_plugin_manager(infos)
    found: list[Boundaries] = []

    def make_register(info: Any) -> Any:
        def register(geojson: Any, key: str = "kelurahan", source: str = "") -> None:
            found.append(parse_boundaries(geojson, key=key, source=source, plugin=info.name))
        return register

    call_contributions(pm, ordered, "register_boundaries", make_register)
    return found[-1] if found else None
