"""The rule expression language: nodes, parsing, the function registry and type checking."""

from .nodes import Node
from .parse import parse

__all__ = ["Node", "parse"]
