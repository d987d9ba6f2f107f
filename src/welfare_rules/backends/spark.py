"""The Spark batch backend: the SQL compiler's Spark dialect and a session helper.

The same rule files run unchanged on a cluster: the compiler emits Spark SQL through sqlglot, and
the runner registers the inputs as temporary views. :func:`local_session` makes a quiet local
session (``local[2]``, few shuffle partitions) for tests and laptops.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlglot import exp

from ..adapters.result import empty_table
from ..errors import OUT_OF_RANGE, EvaluationError, out_of_range
from ..expr.regex import java_pattern
from .base import FINDINGS_SCHEMA, ROW, BackendBase, Job, Outcome
from .sql import PARENT, EntityQuery, SqlCompiler, alias, col
from .sqlrun import carry_select, findings_as_shown, findings_query, with_row

__all__ = ["DRIVER_MEMORY_ENV", "SparkBackend", "SparkCompiler", "bounded_arithmetic",
           "driver_guard", "driver_memory", "keep", "local_session"]


class SparkCompiler(SqlCompiler):
    """Spark SQL spelling of the constructs that differ between dialects."""

    dialect = "spark"
    skips_after_null = True

    def compile_entity(self, entity: str, source: str, columns: Sequence[str] | Mapping[str, str],
                       members_source: str | None = None,
                       member_columns: Sequence[str] | Mapping[str, str] = (),
                       outputs: Sequence[str] | None = None) -> EntityQuery:
        """As :meth:`SqlCompiler.compile_entity`, with the child records distributed by their
        parent key as they are read (``DISTRIBUTE BY __parent``): the rank windows (partitioned
        by the parent key and more) and the aggregation by parent then read them as they are,
        one shuffle instead of one per window and one for the aggregation."""
        q = super().compile_entity(entity, source, columns, members_source, member_columns,
                                   outputs=outputs)
        for _, select in q.ctes:
            if any(e.alias_or_name == PARENT for e in select.expressions):
                select.set("distribute", exp.Distribute(expressions=[col(PARENT)]))
                break
        return q

    def struct_sql(self, fields: Sequence[tuple[str, exp.Expression]]) -> exp.Expression:
        # Spark declares a field built from a literal NOT NULL, and pyspark's toArrow() then
        # refuses a null struct (a row whose status is error or unknown: "nulls in input
        # cannot be viewed as non-nullable"): each field is read through NULLIF(v, NULL) (v
        # itself), which Spark's analysis declares nullable, as the shared schema does
        return super().struct_sql([(k, exp.Nullif(this=v, expression=exp.Null()))
                                   for k, v in fields])

    def evaluates_sql(self, values: Sequence[exp.Expression]) -> exp.Expression:
        # Spark's optimizer folds ``v IS NULL`` to false for an operand it knows is never null
        # (``coalesce(y, 4) * C``), and then never evaluates it (review 4, F13); the hash of
        # the values reads each one, and an int is never below the least int
        return exp.LT(this=exp.Anonymous(this="hash", expressions=list(values)),
                      expression=exp.Literal.number(-2**31))

    def full_match_sql(self, s: exp.Expression, pattern: str) -> exp.Expression:
        # Java regexes with RE2's meaning, anchored at both ends (expr/regex.py)
        return exp.RegexpLike(this=s, expression=exp.Literal.string(java_pattern(pattern)))

    def fn_days_between(self, a: list[exp.Expression], node: object, ctx: object
                        ) -> exp.Expression:
        return exp.Anonymous(this="datediff", expressions=[a[1], a[0]])

    def add_months_sql(self, d: exp.Expression, months: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="add_months", expressions=[d, months])

    def fail_sql(self, detail: str) -> exp.Expression:
        return exp.Anonymous(this="raise_error", expressions=[exp.Literal.string(
            f"{OUT_OF_RANGE}: {detail}")])

    def floor_double(self, value: exp.Expression) -> exp.Expression:
        # Spark's FLOOR of a DOUBLE is a BIGINT, which overflows (ANSI) beyond 2**63; a double
        # of 2**52 or more is a whole number already, so it is its own floor
        v = exp.Paren(this=value)
        whole = exp.GTE(this=exp.Abs(this=v), expression=exp.Literal.number(
            "4503599627370496.0"))
        return exp.Case(ifs=[exp.If(this=whole, true=v)],
                        default=exp.cast(exp.Floor(this=v), "DOUBLE"))

    def finite(self, value: exp.Expression, decimal: bool) -> exp.Expression:
        # DOUBLE arithmetic overflows to infinity even in ANSI mode (which makes BIGINT
        # overflow raise): raise the shared error, as DuckDBCompiler.finite does. NaN compares
        # above every number in Spark, so it is caught too.
        if not decimal:
            return value
        v = exp.Paren(this=value)
        beyond = exp.GT(this=exp.Abs(this=v), expression=exp.Literal.number(
            "1.7976931348623157E308"))
        return exp.Case(ifs=[exp.If(this=beyond, true=self.fail_sql(
            "a decimal beyond the 64-bit range"))], default=v)


DRIVER_MEMORY_ENV = "WELFARE_RULES_SPARK_DRIVER_MEMORY"


def driver_memory() -> str:
    """``spark.driver.memory`` of :func:`local_session`: ``$WELFARE_RULES_SPARK_DRIVER_MEMORY``,
    else 4g."""
    return os.environ.get(DRIVER_MEMORY_ENV, "4g")


def local_session(app_name: str = "welfare-rules", *, cores: int = 2,
                  shuffle_partitions: int = 4, java_options: Sequence[str] = ()) -> Any:
    """A local SparkSession with quiet logs and few shuffle partitions.

    Args:
        app_name: the Spark application name.
        cores: worker threads (``local[cores]``).
        shuffle_partitions: ``spark.sql.shuffle.partitions`` (the default 200 is slow locally).
        java_options: more options of the driver JVM, after the session's own. Many short
            queries over small data (a test suite) run faster with
            ``("-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=256m")``: the JVM's
            optimizing compiler, busy on a core of its own for Catalyst's code, is left out,
            and the code cache made large enough for what the other compiler writes
            (docs/testing.md, session 12); a long batch wants the optimizing compiler, so it
            is not the default.
    """
    from pyspark.sql import SparkSession

    options = " ".join(["-XX:+ExitOnOutOfMemoryError", *java_options])

    spark = (SparkSession.builder.master(f"local[{cores}]").appName(app_name)
             .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config(ANSI, "true")  # BIGINT overflow raises (bounded_arithmetic), never wraps
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             # the results come back to Python through Arrow in the driver
             .config("spark.driver.memory", driver_memory())
             # a JVM out of memory may lose a scheduler thread and leave every call waiting
             # forever: exit instead, so the Python side fails (see driver_guard)
             .config("spark.driver.extraJavaOptions", options)
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    # a failed task (an overflow, the compiler's raise_error) is logged by the executor and
    # the scheduler of the driver JVM with its stack, then raised to the caller, where
    # bounded_arithmetic turns it into the shared error: logged twice over on stderr. Only
    # those two loggers are turned down; a job's failure still reaches the caller in full
    jvm: Any = spark._jvm  # the driver JVM's gateway (classic sessions)
    log4j = jvm.org.apache.logging.log4j
    for name in _TASK_FAILURE_LOGGERS:
        log4j.core.config.Configurator.setLevel(name, log4j.Level.FATAL)
    return spark


#: the driver JVM's loggers that log a failed task before the job's failure is raised
_TASK_FAILURE_LOGGERS = ("org.apache.spark.executor.Executor",
                         "org.apache.spark.scheduler.TaskSetManager")
#: PySpark's loggers that log an error with a query context as the exception is made
_QUERY_ERROR_LOGGERS = ("SQLQueryContextLogger", "DataFrameQueryContextLogger")


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


@contextlib.contextmanager
def driver_guard(spark: Any, doing: str, memory: str | None = None) -> Iterator[None]:
    """Turn the loss of the Spark driver (its JVM exited, e.g. out of memory, or was killed)
    into an :class:`~welfare_rules.errors.EvaluationError` that says how to give it more
    memory. Other errors pass through unchanged.

    Args:
        spark: the session.
        doing: what was being computed (for the message).
        memory: ``spark.driver.memory`` as read before (a dead JVM cannot be asked).
    """
    try:
        yield
    except Exception as exc:
        reason = _driver_lost(spark, exc)
        if reason is None:
            raise
        setting = f"spark.driver.memory is {memory}; " if memory else ""
        raise EvaluationError(
            f"the Spark driver {reason} while {doing} ({setting}give it more with "
            f"{DRIVER_MEMORY_ENV}, e.g. {DRIVER_MEMORY_ENV}=8g, or use the duckdb "
            f"backend)") from exc


def _driver_lost(spark: Any, exc: BaseException) -> str | None:
    """How the driver JVM was lost, if ``exc`` comes from losing it; else None."""
    from py4j.protocol import (  # type: ignore[import-untyped]
        Py4JError,
        Py4JJavaError,
        Py4JNetworkError,
    )

    network = isinstance(exc, Py4JNetworkError | ConnectionError | EOFError)
    if isinstance(exc, Py4JJavaError) or not (network or isinstance(exc, Py4JError)):
        return None  # a Java exception (the JVM answered), or not Py4J's at all
    proc = getattr(getattr(getattr(spark, "_sc", None), "_gateway", None), "proc", None)
    code = None
    if proc is not None:
        with contextlib.suppress(Exception):  # after a broken connection, it may still be
            code = proc.wait(timeout=10 if network else 0)  # on its way out
    if code is None:
        return "(JVM) stopped answering" if network else None
    if code == 3:  # -XX:+ExitOnOutOfMemoryError
        return "(JVM) ran out of memory and exited"
    if code < 0:
        return f"(JVM) was killed by signal {-code} (the system may be out of memory)"
    return f"(JVM) exited with code {code}"


#: Spark's ANSI mode: on, integer overflow raises instead of wrapping around silently.
ANSI = "spark.sql.ansi.enabled"
#: Spark's error classes for arithmetic past the 64-bit range (with ANSI on)
_OVERFLOWS = ("ARITHMETIC_OVERFLOW", "CAST_OVERFLOW", "DATETIME_OVERFLOW", "long overflow")


@contextlib.contextmanager
def bounded_arithmetic(spark: Any) -> Iterator[None]:
    """Run Spark queries in ANSI mode (the session's setting is restored after), and turn an
    overflow or the compiler's ``raise_error`` into the error every backend gives
    (:func:`~welfare_rules.errors.out_of_range`)."""
    before = spark.conf.get(ANSI, None)
    spark.conf.set(ANSI, "true")
    # PySpark logs a query's error as it builds the exception: raised here (or turned into
    # the shared error), so not logged as well
    loggers = [logging.getLogger(name) for name in _QUERY_ERROR_LOGGERS]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    except Exception as exc:
        first = next((line for line in str(exc).splitlines() if line.strip()), "")
        if OUT_OF_RANGE in first:
            detail = first.split(f"{OUT_OF_RANGE}: ", 1)[-1].split(" SQLSTATE:", 1)[0]
            raise out_of_range(detail.strip()) from None
        if any(k in first for k in _OVERFLOWS):
            raise out_of_range(first.split(". ", 1)[0]) from None
        raise
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        if before is None:  # never set in this session: back to Spark's own default
            spark.conf.unset(ANSI)
        elif before != "true":
            spark.conf.set(ANSI, before)


_counter = itertools.count()


class SparkBackend(BackendBase):
    """The batch backend for clusters: the same rules as Spark SQL over temporary views.

    The chain is evaluated once: its last member and entity layers are kept by the executors
    (:func:`keep`) and the result, member and findings queries read them. Spark inlines CTEs,
    so each query (each branch of the findings union) would otherwise plan and run the whole
    chain again. Takes Spark DataFrames as they are (:meth:`native`) and scans Parquet paths.
    """

    name = "spark"
    reads_parquet = True

    def native(self, data: Any) -> bool:
        return type(data).__module__.startswith("pyspark")

    def run(self, job: Job) -> Outcome:
        plan, entity, inputs = job.plan, job.entity, job.inputs
        spark = job.spark or local_session()
        memory = None
        with contextlib.suppress(Exception):
            memory = spark.sparkContext.getConf().get("spark.driver.memory")
        ent = plan.schema.entity(entity)
        rel = next(iter(ent.relations.values()), None)
        run = next(_counter)
        views: list[str] = []
        releases: list[Callable[[], None]] = []

        def view_of(name: str, df: Any, *, kept: bool) -> str:
            if kept:
                df, release = keep(df)
                releases.append(release)
            view = f"wr_{run}_{name}"
            df.createOrReplaceTempView(view)
            views.append(view)
            return view

        def register(name: str, src: Any) -> tuple[str, dict[str, str]]:
            # an Arrow table becomes a LocalRelation, whose rows every plan would carry in the
            # driver (and the optimiser compute over there); a row number added to a frame of
            # the caller's is not deterministic (its partitions may come out of a shuffle in
            # another order each time): both are read once and kept. A Parquet scan splits
            # the file the same way every time, so its row numbers are the same in every
            # query: it is read where it is used, only the columns the query needs
            fresh = isinstance(src, pa.Table)
            if isinstance(src, pa.Table):
                df = spark.createDataFrame(_spark_safe(with_row(src)))
            elif isinstance(src, Path):
                df = spark.read.parquet(str(src))
            else:
                df = src
            if ROW not in df.columns:
                from pyspark.sql import functions as F

                df = df.withColumn(ROW, F.monotonically_increasing_id())
                fresh = fresh or not isinstance(src, Path)
            return view_of(name, df, kept=fresh), dict(df.dtypes)

        def cleanup() -> None:
            for release in releases:
                release()
            for v in views:
                with contextlib.suppress(Exception):  # the session may be gone
                    spark.catalog.dropTempView(v)
            releases.clear()
            views.clear()

        comp = SparkCompiler(plan, lang=job.lang)
        layers: dict[str, str] = {}  # kept layer -> its view (of the query of the results)
        whole: list[tuple[EntityQuery, dict[str, str]]] = []  # every rule's, when asked for

        def arrow(select: Any) -> pa.Table:
            out: pa.Table = spark.sql(comp.sql(select)).toArrow()
            return out

        def in_order(select: exp.Select) -> pa.Table:
            # the result rows in input order: sorted by the driver once they are there, not
            # by Spark (a global ORDER BY samples its input in a job of its own, then shuffles)
            unordered = select.copy()
            unordered.set("order", None)
            unordered.set("expressions", [*unordered.expressions,
                                          alias(col(ROW), ROW, quoted=True)])
            out = arrow(unordered)
            rows = out.column(ROW)
            if len(rows) > 1 and not pc.all(pc.less_equal(rows[:-1], rows[1:])).as_py():
                out = out.take(pc.sort_indices(rows))
            return out.drop_columns([ROW])

        def kept_ends(query: EntityQuery, prefix: str) -> dict[str, str]:
            kept: dict[str, str] = {}
            for name in query.ends():  # in chain order: a layer reads those kept before it
                layer = exp.select(exp.Star()).from_(exp.to_table(name, quoted=True))
                kept[name] = view_of(prefix + name,
                                     spark.sql(comp.sql(query.with_tables(layer, kept))),
                                     kept=True)
            return kept

        try:
            with driver_guard(spark, "evaluating the rules", memory), \
                    bounded_arithmetic(spark):
                view, columns = register("entity", inputs.tables[entity])
                mview, mcols = None, None
                if rel is not None and rel.entity in inputs.tables:
                    mview, mcols = register("members", inputs.tables[rel.entity])
                q = comp.compile_entity(entity, view, columns, mview, mcols or (),
                                        outputs=job.outputs)
                if job.outputs is None:
                    # the member results and findings read the chain too: kept once for all
                    layers.update(kept_ends(q, ""))
                    whole.append((q, layers))
                    table = in_order(q.with_tables(carry_select(q, job.carry), layers))
                else:  # a selection, read by this query alone: one query, no layer kept
                    table = in_order(q.with_ctes(carry_select(q, job.carry)))
        except BaseException:
            cleanup()
            raise

        def full() -> tuple[EntityQuery, dict[str, str]]:
            # member results and findings come from every rule: compiled and evaluated when
            # asked for, if the results were a selection
            if not whole:
                fq = comp.compile_entity(entity, view, columns, mview, mcols or ())
                whole.append((fq, kept_ends(fq, "all_")))
            return whole[0]

        def members() -> pa.Table | None:
            with driver_guard(spark, "computing the member results", memory), \
                    bounded_arithmetic(spark):
                fq, kept = full()
                if fq.members is None:
                    return None
                return arrow(fq.with_tables(fq.members, kept))

        def findings() -> pa.Table:
            with driver_guard(spark, "computing the findings", memory), \
                    bounded_arithmetic(spark):
                fq, kept = full()
                ds = comp.dataset_findings(job.checks, entity, mcols is not None) \
                    if job.checks else None
                f = findings_query(comp, fq, ds, kept)
                if f is None:
                    return empty_table(FINDINGS_SCHEMA)
                return findings_as_shown(arrow(f))

        return Outcome(results=lambda: table, members=members, findings=findings,
                       rule_ids=q.rule_ids, error_rules=q.error_rules, cleanup=cleanup)


def _spark_safe(tbl: pa.Table) -> pa.Table:
    """Spark cannot take dictionary or large string columns from Arrow: plain types."""
    cols = []
    for c in tbl.columns:
        if pa.types.is_dictionary(c.type):
            c = c.cast(c.type.value_type)
        if pa.types.is_large_string(c.type):
            c = c.cast(pa.string())
        if pa.types.is_null(c.type):
            c = c.cast(pa.string())
        cols.append(c)
    return pa.table(cols, names=tbl.column_names)
