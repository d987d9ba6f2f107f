"""The Spark runner: the rule chain evaluated once (its last layers kept as tables), what it
keeps released on close, and a lost driver JVM reported instead of waited for."""

from __future__ import annotations

import contextlib
import datetime
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import exp

import welfare_rules as wr
from welfare_rules.backends.sqlrun import findings_query, with_row
from welfare_rules.batch import evaluate_batch, load_dataset_checks
from welfare_rules.errors import EvaluationError

from .compare import differences
from .gen import population

EXAMPLES = Path(wr.__file__).parent / "national" / "examples"
AS_OF = datetime.date(2024, 1, 1)


@pytest.fixture(scope="module")
def loaded(national: wr.Engine) -> Any:
    return national.read(EXAMPLES / "households.csv", members=EXAMPLES / "persons.csv")


def test_queries_over_kept_layers_equal_the_queries_over_every_cte(national: wr.Engine,
                                                                    loaded: Any) -> None:
    """EntityQuery.ends/with_tables: with the last member and household layers stored as
    tables, the result, member and findings queries give the rows of the full queries
    (checked on DuckDB, which runs both quickly), and the result needs no CTE at all."""
    import duckdb

    from welfare_rules.backends.duckdb import DuckDBCompiler

    con = duckdb.connect()
    hh, pp = with_row(loaded.tables["household"]), with_row(loaded.tables["person"])
    con.register("src_entity", hh)
    con.register("src_members", pp)
    comp = DuckDBCompiler(national.plan(AS_OF))
    q = comp.compile_entity("household", "src_entity", hh.column_names, "src_members",
                            pp.column_names)
    assert q.members is not None
    assert q.ends() == [*q.reads(q.members)[:1], *q.reads(q.result)]
    assert q.ends()[0].startswith("p")
    assert q.ends()[1] == q.ctes[-1][0]
    tables: dict[str, str] = {}
    for name in q.ends():
        layer = exp.select(exp.Star()).from_(exp.to_table(name, quoted=True))
        con.execute(f'CREATE TABLE "kept_{name}" AS {comp.sql(q.with_tables(layer, tables))}')
        tables[name] = f"kept_{name}"
    ds = comp.dataset_findings(load_dataset_checks(), "household", True)

    def rows(select: Any) -> pa.Table:
        return con.sql(comp.sql(select)).to_arrow_table()

    tail = q.with_tables(q.result, tables)
    assert not list(tail.find_all(exp.CTE))
    assert differences(rows(q.with_ctes(q.result)), rows(tail), "result") == []
    assert differences(rows(q.with_ctes(q.members)), rows(q.with_tables(q.members, tables)),
                       "members") == []
    full, kept = rows(findings_query(comp, q, ds)), rows(findings_query(comp, q, ds, tables))
    assert full.num_rows > 0
    assert differences(full, kept, "findings") == []


@pytest.mark.spark
def test_spark_keeps_the_inputs_and_last_layers_and_releases_them(national: wr.Engine,
                                                                  loaded: Any, spark: Any
                                                                  ) -> None:
    """Two inputs and two layers are kept (checkpointed) and viewed; close() drops them."""
    jsc = spark.sparkContext._jsc

    def kept() -> set[int]:
        return set(jsc.getPersistentRDDs().keySet().toArray())

    def views() -> set[str]:
        return {t.name for t in spark.catalog.listTables() if t.isTemporary}

    rdds0, views0 = kept(), views()
    res = evaluate_batch(national, "household", loaded, as_of=AS_OF, backend="spark",
                         spark=spark)
    assert res.findings.num_rows > 0
    assert res.member_results is not None
    ours_rdds, ours_views = kept() - rdds0, views() - views0
    assert len(ours_rdds) == 4
    assert len(ours_views) == 4
    res.close()
    assert not ours_rdds & kept()
    assert not ours_views & views()


@pytest.mark.spark
def test_the_local_session_jvm_exits_when_out_of_memory(spark: Any) -> None:
    """An OutOfMemoryError can kill a scheduler thread and leave every call waiting: the
    driver of local_session() exits instead (the Python side then fails, see below). The
    ``java_options`` given (the tests' session leaves C2 out) come after that option."""
    bean = spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean()
    args = list(bean.getInputArguments())
    assert "-XX:+ExitOnOutOfMemoryError" in args
    for option in ("-XX:TieredStopAtLevel=1", "-XX:ReservedCodeCacheSize=256m"):
        assert args.index(option) > args.index("-XX:+ExitOnOutOfMemoryError"), option


def test_a_lost_driver_is_an_evaluation_error_naming_the_memory_setting() -> None:
    """A call that fails because the JVM exited (code 3: out of memory) becomes an
    EvaluationError that names WELFARE_RULES_SPARK_DRIVER_MEMORY; other errors pass."""
    import pyspark  # noqa: F401  (a dev dependency: a broken install fails, never skips)

    from welfare_rules.backends.spark import driver_guard

    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    session = types.SimpleNamespace(_sc=types.SimpleNamespace(
        _gateway=types.SimpleNamespace(proc=proc)))
    lost = (r"ran out of memory and exited while computing the findings \(spark.driver.memory "
            r"is 1g; give it more with WELFARE_RULES_SPARK_DRIVER_MEMORY")
    with pytest.raises(EvaluationError, match=lost), \
            driver_guard(session, "computing the findings", "1g"):
        raise ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(ValueError, match="not about the driver"), \
            driver_guard(session, "computing the findings", "1g"):
        raise ValueError("not about the driver")


def _parquet_inputs(tmp_path: Path) -> tuple[Path, Path]:
    """A generated population as Parquet files of many small row groups, the households in
    an order that is not their key's (so input order is not key order)."""
    import pyarrow.parquet as pq

    hh, pp = population(11, 300, 0.05, AS_OF)
    hh = hh.take(list(range(hh.num_rows))[::-1])
    hpath, ppath = tmp_path / "households.parquet", tmp_path / "persons.parquet"
    pq.write_table(hh, hpath, row_group_size=30)
    pq.write_table(pp, ppath, row_group_size=60)
    return hpath, ppath


@contextlib.contextmanager
def _conf(spark: Any, **settings: str) -> Iterator[None]:
    """Spark settings for the block, the session's own restored after."""
    before = {k: spark.conf.get(k, None) for k in settings}
    for k, v in settings.items():
        spark.conf.set(k, v)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                spark.conf.unset(k)
            else:
                spark.conf.set(k, v)


#: many small input partitions, and no broadcast join: the result rows reach the driver in
#: the order of the join's hash partitions, not the input's
_SCATTERED = {"spark.sql.files.maxPartitionBytes": "2048",
              "spark.sql.files.openCostInBytes": "0",
              "spark.sql.autoBroadcastJoinThreshold": "-1",
              "spark.sql.adaptive.autoBroadcastJoinThreshold": "-1"}


@pytest.mark.spark
def test_a_selection_over_parquet_is_one_query_in_input_order(national: wr.Engine,
                                                              spark: Any, tmp_path: Path
                                                              ) -> None:
    """A selection (``outputs=``) read from Parquet keeps nothing (no input or layer is
    checkpointed: one query reads the files), and its rows equal DuckDB's, in input order,
    though Spark's join returns them in another; the member results, asked for later, too."""
    import pyarrow.parquet as pq

    jsc = spark.sparkContext._jsc
    hpath, ppath = _parquet_inputs(tmp_path)
    kw: dict[str, Any] = {"as_of": AS_OF, "settle": False, "validate": False,
                          "dataset_checks": False,
                          "outputs": ["poor_bps", "pkh_eligible", "deceased_recipient"]}
    ref = evaluate_batch(national, "household", hpath, members=ppath, **kw)
    with _conf(spark, **_SCATTERED):
        kept0 = set(jsc.getPersistentRDDs().keySet().toArray())
        got = evaluate_batch(national, "household", hpath, members=ppath, backend="spark",
                             spark=spark, **kw)
        tbl = got.to_arrow()
        assert set(jsc.getPersistentRDDs().keySet().toArray()) == kept0
        assert tbl.column("id").to_pylist() == pq.read_table(hpath).column("id").to_pylist()
        assert differences(ref.to_arrow(), tbl, "households") == []
        assert differences(ref.member_results, got.member_results, "members") == []
    got.close()


@pytest.mark.spark
def test_members_are_shuffled_once_by_their_parent(national: wr.Engine, spark: Any,
                                                   tmp_path: Path) -> None:
    """SparkCompiler distributes the child records by parent key as they are read: the rank
    windows (by parent and more) and the aggregation by parent read them so, and the plan
    of the whole pack has a single exchange on the parent key (one per window and one for
    the aggregation without it)."""
    from pyspark.sql import functions as F

    from welfare_rules.backends.spark import SparkCompiler

    hpath, ppath = _parquet_inputs(tmp_path)
    cols = {}
    for name, path in (("t_entity", hpath), ("t_members", ppath)):
        df = spark.read.parquet(str(path)).withColumn("__row", F.monotonically_increasing_id())
        df.createOrReplaceTempView(name)
        cols[name] = dict(df.dtypes)
    comp = SparkCompiler(national.plan(AS_OF))
    q = comp.compile_entity("household", "t_entity", cols["t_entity"], "t_members",
                            cols["t_members"])
    windows = sum(1 for _ in q.with_ctes(q.result).find_all(exp.Window))
    assert windows >= 2
    with _conf(spark, **_SCATTERED):
        plan = spark.sql(comp.sql(q.with_ctes(q.result)))._jdf.queryExecution() \
            .executedPlan().toString()
    assert plan.count("hashpartitioning(__parent") == 1, plan
    for name in cols:
        spark.catalog.dropTempView(name)


@pytest.mark.spark
def test_a_user_session_s_ansi_setting_is_restored_even_when_never_set(spark: Any) -> None:
    """bounded_arithmetic runs in ANSI mode and restores the session's setting after; on a
    session where it was never set, it stayed on for the rest of the user's session, which
    changes their own Spark SQL (review2 #19)."""
    from welfare_rules.backends.spark import ANSI, bounded_arithmetic

    before = spark.conf.get(ANSI, None)
    try:
        spark.conf.unset(ANSI)
        unset = spark.conf.get(ANSI, None)
        with bounded_arithmetic(spark):
            assert spark.conf.get(ANSI) == "true"
        assert spark.conf.get(ANSI, None) == unset
        spark.conf.set(ANSI, "false")
        with bounded_arithmetic(spark):
            assert spark.conf.get(ANSI) == "true"
        assert spark.conf.get(ANSI) == "false"
    finally:
        if before is None:
            spark.conf.unset(ANSI)
        else:
            spark.conf.set(ANSI, before)
