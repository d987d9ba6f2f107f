"""The built-in plugin: the national schema, the functions of the rule language, the
canonical adapter and the batch backends (python, duckdb, polars, spark).

Registered through the same hooks as any regional plugin (STYLE.md: built-ins are plugins too).
"""

from __future__ import annotations

from pathlib import Path

from .expr.functions import builtin_functions
from .hookspecs import Register, hookimpl

PLUGIN_NAME = "welfare-rules"
LAYER = "national"


@hookimpl
def register_schema(register: Register) -> None:
    register(Path(__file__).parent / "national" / "schema.yaml")


@hookimpl
def register_functions(register: Register) -> None:
    for fn in builtin_functions():
        register(fn)


@hookimpl
def register_adapters(register: Register) -> None:
    try:
        from .adapters import CanonicalAdapter
    except ImportError:  # the adapters package is optional while it is being built
        return
    register(CanonicalAdapter())


@hookimpl
def register_backends(register: Register) -> None:
    from .backends.duckdb import DuckDBBackend
    from .backends.polars import PolarsBackend
    from .backends.reference import PythonBackend
    from .backends.spark import SparkBackend

    for backend in (PythonBackend(), DuckDBBackend(), PolarsBackend(), SparkBackend()):
        register(backend)
