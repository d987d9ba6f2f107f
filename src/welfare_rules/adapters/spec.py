"""What the mapping format and the reading pipeline share: the mapping error and how a
mapping's literal values become text (so the pipeline never imports the mapping module, which
imports the pipeline)."""

from __future__ import annotations

from typing import Any

from ..errors import RuleLoadError

__all__ = ["MappingError", "canon_text"]


class MappingError(RuleLoadError):
    """A column mapping does not describe a valid mapping for the schema in use."""


def canon_text(value: Any) -> str:
    """A mapping's literal value (a default, an enum code) as the text the parsers read."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
