"""The Spark batch backend: the SQL compiler's Spark dialect and a session helper.

The same rule files run unchanged on a cluster: the compiler emits Spark SQL through sqlglot, and
the runner registers the inputs as temporary views. :func:`local_session` makes a quiet local
session (``local[2]``, few shuffle partitions) for tests and laptops.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from .sql import SqlCompiler


class SparkCompiler(SqlCompiler):
    """Spark SQL spelling of the constructs that differ between dialects."""

    dialect = "spark"

    def full_match_sql(self, s: exp.Expression, pattern: str) -> exp.Expression:
        # Java regexes: anchor both ends (\\z: the very end, not before a final newline)
        return exp.RegexpLike(this=s, expression=exp.Literal.string(f"^(?:{pattern})\\z"))

    def fn_days_between(self, a: list[exp.Expression], node: object, ctx: object
                        ) -> exp.Expression:
        return exp.Anonymous(this="datediff", expressions=[a[1], a[0]])

    def add_months_sql(self, d: exp.Expression, months: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="add_months", expressions=[d, months])


def local_session(app_name: str = "welfare-rules", *, cores: int = 2,
                  shuffle_partitions: int = 4) -> Any:
    """A local SparkSession with quiet logs and few shuffle partitions.

    Args:
        app_name: the Spark application name.
        cores: worker threads (``local[cores]``).
        shuffle_partitions: ``spark.sql.shuffle.partitions`` (the default 200 is slow locally).
    """
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master(f"local[{cores}]").appName(app_name)
             .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             # the results come back to Python through Arrow in the driver: 1 GB (the
             # default) runs out on the demo city (85,000 households, ~200 columns)
             .config("spark.driver.memory",
                     os.environ.get("WELFARE_RULES_SPARK_DRIVER_MEMORY", "4g"))
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def keep(df: Any) -> tuple[Any, Callable[[], None]]:
    """``df`` computed now and kept by the executors (in memory, spilling to disk), as a frame
    whose plan no longer carries how it was computed; and a function that releases it.

    The batch runner keeps the inputs and the last layers of the rule chain this way, so the
    output queries neither re-evaluate the chain nor carry its plan (or the input rows of a
    local relation) through the driver's optimiser. A local checkpoint is not fault tolerant:
    if an executor holding a block is lost, queries over it fail rather than recompute.
    """
    from pyspark import StorageLevel

    out = df.localCheckpoint(eager=True, storageLevel=StorageLevel.MEMORY_AND_DISK)

    def release() -> None:
        # the checkpointed RDD behind the frame's plan (classic sessions); otherwise the
        # context cleaner frees the blocks once the frame is garbage
        with contextlib.suppress(Exception):
            out._jdf.queryExecution().analyzed().rdd().unpersist(False)

    return out, release
