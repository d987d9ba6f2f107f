"""Batch evaluation: a table of records through the SQL backends (or the Python reference).

:func:`evaluate_batch` takes whatever ingestion reads (a
:class:`~welfare_rules.adapters.LoadResult`), a path, a DataFrame, an Arrow table or a DuckDB
relation (a Spark DataFrame for Spark), compiles the rules in force on ``as_of`` once
(:mod:`welfare_rules.backends.sql`) and runs them as one query per output: DuckDB in process by
default (with a memory limit and a temporary directory, so inputs larger than memory spill),
Spark for clusters, or record by record through :meth:`Engine.evaluate` (``backend="python"``).
All three give the same table shape and, as the differential tests check, the same values.

The :class:`BatchResult` holds one row per record (the key, carried columns such as
``kelurahan``, each rule's value and ``<rule>__status``), the member results, the findings (rule
checks plus the dataset-level checks of ``dataset_checks.yaml``), the quarantine from ingestion,
the UNIQUE/ANY violations (``errors``; they never abort a batch) and the engine fingerprint.
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import shutil
import tempfile
import types as pytypes
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from . import types as t
from ._yaml import load_yaml_file
from .adapters.result import QUARANTINE_SCHEMA, Link, LoadResult, empty_table
from .backends import runtime
from .backends.sql import ROW, STATUS_SUFFIX, EntityQuery, SqlCompiler
from .decision import Decision, mask_id
from .errors import EvaluationError, HitPolicyError

if TYPE_CHECKING:
    from .engine import Engine

BACKENDS = ("duckdb", "spark", "python")
DATASET_CHECKS_FILE = Path(__file__).parent / "dataset_checks.yaml"
FINDINGS_SCHEMA = pa.schema([
    ("check", pa.string()), ("severity", pa.string()), ("entity", pa.string()),
    ("record_id", pa.string()), ("member_id", pa.string()), ("message", pa.string()),
])
ERRORS_SCHEMA = pa.schema([("record_id", pa.string()), ("rule", pa.string()),
                           ("message", pa.string())])
_CARRY = ("kecamatan", "kelurahan")
_counter = itertools.count()


def load_dataset_checks(path: str | Path = DATASET_CHECKS_FILE) -> dict[str, dict[str, Any]]:
    """The dataset-level check definitions (``dataset_checks.yaml``) as plain data."""
    data, _ = load_yaml_file(path)
    return {str(k): dict(v) for k, v in (data or {}).items()}


def _arrow_type(ty: t.Type) -> pa.DataType | None:
    return {"bool": pa.bool_(), "int": pa.int64(), "decimal": pa.float64(), "str": pa.string(),
            "enum": pa.string(), "date": pa.date32()}.get(ty.kind)


# ---------------------------------------------------------------------------------------------
# Inputs


class _Inputs:
    """Normalised inputs: Arrow tables (or a Parquet path / Spark frames) per entity."""

    def __init__(self, entity: str, child: str | None) -> None:
        self.entity = entity
        self.child = child
        self.tables: dict[str, Any] = {}  # entity -> pa.Table | Path (parquet) | spark DF
        self.quarantine: pa.Table = empty_table(QUARANTINE_SCHEMA)
        self.load: LoadResult | None = None

    def arrow(self, entity: str) -> pa.Table | None:
        v = self.tables.get(entity)
        if v is None or isinstance(v, pa.Table):
            return v
        if isinstance(v, Path):
            import pyarrow.parquet as pq

            return pq.read_table(v)
        return v.toArrow()  # a Spark DataFrame


def _to_arrow(obj: Any) -> pa.Table | None:
    if obj is None or isinstance(obj, pa.Table):
        return obj
    mod = type(obj).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    if mod.startswith("polars"):
        return obj.to_arrow()
    if mod.startswith("duckdb"):
        return _fetch(obj)
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all()
    return None


def _is_spark(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyspark")


def _normalise(engine: Engine, entity: str, data: Any, members: Any, *, adapter: Any,
               validate: bool, backend: str) -> _Inputs:
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    inp = _Inputs(entity, rel.entity if rel else None)
    if isinstance(data, LoadResult):
        inp.load = data
        inp.quarantine = data.quarantine
        inp.tables = dict(data.tables)
        return inp
    if _is_spark(data):
        if backend != "spark":
            raise EvaluationError("a Spark DataFrame can only be evaluated with backend='spark'")
        inp.tables[entity] = data
        if members is not None and rel is not None:
            inp.tables[rel.entity] = members
        return inp
    if not validate:
        for ent_name, obj in ((entity, data), (rel.entity if rel else None, members)):
            if ent_name is None or obj is None:
                continue
            if isinstance(obj, str | Path) and str(obj).endswith(".parquet") and \
                    backend in ("duckdb", "spark"):
                inp.tables[ent_name] = Path(obj)
                continue
            tbl = _to_arrow(obj)
            if tbl is None:
                break
            inp.tables[ent_name] = tbl
        else:
            return inp
    loaded = engine.read(data, adapter=adapter, members=members, entity=entity)
    inp.load = loaded
    inp.quarantine = loaded.quarantine
    inp.tables = dict(loaded.tables)
    return inp


def _with_row(tbl: pa.Table) -> pa.Table:
    if ROW in tbl.column_names:
        return tbl
    import numpy as np

    return tbl.append_column(ROW, pa.array(np.arange(tbl.num_rows, dtype=np.int64)))


# ---------------------------------------------------------------------------------------------
# The result


class BatchResult:
    """The outcome of :func:`evaluate_batch`.

    Attributes:
        entity: the entity evaluated.
        as_of: the evaluation date.
        backend: ``duckdb``, ``spark`` or ``python``.
        quarantine: rows ingestion could not read (possibly empty).
        fingerprint: :meth:`Engine.fingerprint` — rule, parameter and plugin versions, ``as_of``.
        rule_ids: the rules with a value column, in rule order.
    """

    def __init__(self, engine: Engine, entity: str, as_of: datetime.date, backend: str, *,
                 results: Callable[[], pa.Table], members: Callable[[], pa.Table | None],
                 findings: Callable[[], pa.Table], inputs: _Inputs, rule_ids: Sequence[str],
                 error_rules: Sequence[str], cleanup: Callable[[], None] | None = None,
                 results_path: Path | None = None):
        self.engine = engine
        self.entity = entity
        self.as_of = as_of
        self.backend = backend
        self.rule_ids = list(rule_ids)
        self.error_rules = list(error_rules)
        self.quarantine = inputs.quarantine
        self.fingerprint = engine.fingerprint(as_of)
        self.results_path = results_path
        self._inputs = inputs
        self._get_results = results
        self._get_members = members
        self._get_findings = findings
        self._results: pa.Table | None = None
        self._members: pa.Table | None = None
        self._findings: pa.Table | None = None
        self._cleanup = cleanup

    # -- tables -------------------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """One row per record: key, carried columns, ``<rule>`` and ``<rule>__status``."""
        if self._results is None:
            self._results = self._get_results()
        return self._results

    def to_pandas(self) -> Any:
        return self.to_arrow().to_pandas()

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def write_parquet(self, path: str | Path) -> Path:
        import pyarrow.parquet as pq

        out = Path(path)
        if self.results_path is not None and self._results is None:
            shutil.copyfile(self.results_path, out)
        else:
            pq.write_table(self.to_arrow(), out)
        return out

    @property
    def member_results(self) -> pa.Table | None:
        """One row per member (person key, parent key, person rules and statuses)."""
        if self._members is None:
            self._members = self._get_members()
        return self._members

    @property
    def findings(self) -> pa.Table:
        """check, severity, entity, record_id, member_id, message (NIKs masked)."""
        if self._findings is None:
            self._findings = self._get_findings()
        return self._findings

    @property
    def errors(self) -> pa.Table:
        """UNIQUE/ANY decision-table violations: record_id, rule, message (value NULL)."""
        res = self.to_arrow()
        key = self.engine.schema.entity(self.entity).key
        rows: list[dict[str, Any]] = []
        for rid in self.error_rules:
            st = res.column(rid + STATUS_SUFFIX)
            mask = pc.fill_null(pc.equal(st, "error"), False)
            ids = res.column(key).filter(mask).to_pylist()
            policy = self.engine.rule(rid, self.as_of).table
            what = "several rows matched" if policy and policy.hit_policy == "unique" \
                else "matching rows give different outputs"
            rows += [{"record_id": str(i), "rule": rid,
                      "message": f"decision table '{rid}': {what}"} for i in ids]
        return pa.Table.from_pylist(rows, schema=ERRORS_SCHEMA)

    # -- reports ------------------------------------------------------------------------------

    def summary(self, by: str | Sequence[str] = "kelurahan") -> pa.Table:
        """Per group: records, how many are eligible (true) for each top-level condition
        rule, and ``findings__<check>``: findings per check (records of the group concerned).

        Args:
            by: one or more carried columns (see ``carry`` of :func:`evaluate_batch`).
        """
        by_cols = [by] if isinstance(by, str) else list(by)
        res = self.to_arrow()
        missing = [b for b in by_cols if b not in res.column_names]
        if missing:
            raise EvaluationError(f"cannot summarise by {missing}: not among the carried "
                                  f"columns; pass carry=[...] to evaluate_batch")
        key = self.engine.schema.entity(self.entity).key
        conds = [rid for rid in self.rule_ids
                 if (r := self.engine.rule(rid, self.as_of)).kind == "condition"
                 and r.parent is None]
        cols = {b: res.column(b) for b in by_cols}
        cols["records"] = pa.array([1] * res.num_rows, pa.int64())
        for c in conds:
            cols[c] = pc.cast(pc.fill_null(res.column(c), False), pa.int64())
        f = self.findings
        checks = sorted(set(f.column("check").to_pylist()))
        if checks:
            rec_ids = pc.cast(res.column(key), pa.string())
            for c in checks:
                ids = f.filter(pc.equal(f.column("check"), c)).column("record_id")
                counts: dict[str, int] = {}
                for i in ids.to_pylist():
                    counts[i] = counts.get(i, 0) + 1
                cols[f"findings__{c}"] = pa.array([counts.get(i, 0) for i in
                                                   rec_ids.to_pylist()], pa.int64())
        tbl = pa.table(cols)
        sums = [n for n in tbl.column_names if n not in by_cols]
        out = tbl.group_by(by_cols, use_threads=False).aggregate([(n, "sum") for n in sums])
        out = out.rename_columns([c[:-4] if c.endswith("_sum") else c
                                  for c in out.column_names])
        return out.select([*by_cols, *sums]).sort_by([(b, "ascending") for b in by_cols])

    def record(self, row_or_id: int | str) -> dict[str, Any]:
        """The input record (with its members) at a row number or with this key."""
        key = self.engine.schema.entity(self.entity).key
        tbl = self._inputs.arrow(self.entity)
        if tbl is None:
            raise EvaluationError("the input table is not available")
        if isinstance(row_or_id, int) and not isinstance(row_or_id, bool):
            rec = tbl.slice(row_or_id, 1).to_pylist()
        else:
            rec = tbl.filter(pc.equal(tbl.column(key), str(row_or_id))).slice(0, 1).to_pylist()
        if not rec:
            raise KeyError(f"no {self.entity} record {row_or_id!r}")
        record = {k: v for k, v in rec[0].items() if k != ROW}
        ent = self.engine.schema.entity(self.entity)
        for rel in ent.relations.values():
            kids = self._inputs.arrow(rel.entity)
            if kids is None:
                record[rel.name] = []
                continue
            sel = kids.filter(pc.equal(kids.column(rel.key), str(record.get(key))))
            record[rel.name] = [{k: v for k, v in r.items() if k != ROW}
                                for r in sel.to_pylist()]
        return record

    def explain(self, row_or_id: int | str, rule: str, lang: str = "id") -> str:
        """Re-evaluate one record with the Python backend and explain ``rule`` for it."""
        d = self.engine.evaluate(self.entity, self.record(row_or_id), as_of=self.as_of)
        return d.explain(rule, lang=lang)

    def write(self, directory: str | Path) -> list[Path]:
        """Write results.parquet, results.csv, members.parquet, findings.csv and
        quarantine.csv into ``directory`` (created if absent)."""
        import pyarrow.csv as pa_csv
        import pyarrow.parquet as pq

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = [self.write_parquet(out / "results.parquet")]
        res = self.to_arrow()
        pa_csv.write_csv(_csv_safe(res), out / "results.csv")
        paths.append(out / "results.csv")
        mem = self.member_results
        if mem is not None:
            pq.write_table(mem, out / "members.parquet")
            paths.append(out / "members.parquet")
        pa_csv.write_csv(self.findings, out / "findings.csv")
        pa_csv.write_csv(self.quarantine, out / "quarantine.csv")
        paths += [out / "findings.csv", out / "quarantine.csv"]
        return paths

    def close(self) -> None:
        """Release the backend's resources (temporary files, the DuckDB connection)."""
        if self._cleanup is not None:
            self._cleanup()
            self._cleanup = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # best effort at interpreter exit
            self.close()

    def __repr__(self) -> str:
        return (f"<BatchResult {self.entity} as_of={self.as_of} backend={self.backend}: "
                f"{len(self.rule_ids)} rules>")


def _csv_safe(tbl: pa.Table) -> pa.Table:
    """Lists and structs as JSON text, so the CSV writer accepts them."""
    import json

    cols = []
    for c in tbl.columns:
        if pa.types.is_list(c.type) or pa.types.is_struct(c.type):
            c = pa.array([None if v is None else json.dumps(v, default=str)
                          for v in c.to_pylist()], pa.string())
        cols.append(c)
    return pa.table(cols, names=tbl.column_names)


# ---------------------------------------------------------------------------------------------
# Entry point


def evaluate_batch(engine: Engine, entity: str, data: Any, *, members: Any = None,
                   as_of: datetime.date, backend: str = "duckdb", adapter: Any = None,
                   validate: bool = True, dataset_checks: Any = True,
                   carry: Sequence[str] | None = None, lang: str = "id",
                   output: str | Path | None = None, memory_limit: str = "1GB",
                   temp_directory: str | Path | None = None, threads: int | None = None,
                   spark: Any = None) -> BatchResult:
    """Evaluate every record of a table.

    Args:
        engine: the loaded engine.
        entity: ``household``, ``person``, ``institution`` or a plugin's entity.
        data: a :class:`LoadResult` (from :meth:`Engine.read`), a path (CSV, Parquet, ...), a
            pandas/polars DataFrame, an Arrow table, a DuckDB relation, or (Spark) a Spark
            DataFrame.
        members: the child table (persons of households), for inputs other than a LoadResult.
        as_of: the evaluation date (rules and parameters in force).
        backend: ``duckdb`` (default, in process), ``spark`` or ``python`` (the reference,
            record by record).
        adapter: the adapter used to read ``data`` (see :meth:`Engine.read`).
        validate: read the input through ingestion (quarantine, canonical types). ``False``
            trusts canonical input: Parquet files are scanned directly by DuckDB, which is what
            scales to inputs larger than memory.
        dataset_checks: ``True`` for ``dataset_checks.yaml``, ``False`` for none, or a mapping
            of definitions (same format) that replaces those of the file.
        carry: input columns copied into the results (default: kecamatan, kelurahan).
        lang: language of finding messages (``id`` or ``en``).
        output: DuckDB: write the results straight to this Parquet file (streamed, so the
            result never has to fit in memory); ``to_arrow()`` then reads it back.
        memory_limit: DuckDB memory limit; beyond it DuckDB spills to ``temp_directory``.
        temp_directory: where DuckDB spills (default: a fresh temporary directory).
        threads: DuckDB threads (default: all cores).
        spark: the SparkSession for ``backend="spark"`` (default: a local session).

    Raises:
        EvaluationError: an unknown backend or entity, or a function without SQL.
        ParameterError: a rule in force needs a parameter without a value on ``as_of``.
    """
    if backend not in BACKENDS:
        raise EvaluationError(f"unknown backend '{backend}' (expected one of "
                              f"{', '.join(BACKENDS)})")
    if entity not in engine.schema.entities:
        raise EvaluationError(f"unknown entity '{entity}'")
    if isinstance(as_of, str):
        as_of = datetime.date.fromisoformat(as_of)
    checks = _checks(dataset_checks)
    inputs = _normalise(engine, entity, data, members, adapter=adapter, validate=validate,
                        backend=backend)
    ent = engine.schema.entity(entity)
    carry_cols = [c for c in (carry if carry is not None else _CARRY) if c in ent.fields]
    if backend == "python":
        return _run_python(engine, entity, inputs, as_of, checks, carry_cols, lang)
    if backend == "duckdb":
        return _run_duckdb(engine, entity, inputs, as_of, checks, carry_cols, lang,
                           output=output, memory_limit=memory_limit,
                           temp_directory=temp_directory, threads=threads)
    return _run_spark(engine, entity, inputs, as_of, checks, carry_cols, lang, spark)


def _checks(spec: Any) -> dict[str, dict[str, Any]]:
    if spec is True or spec is None:
        return load_dataset_checks()
    if spec is False:
        return {}
    if isinstance(spec, str | Path):
        return load_dataset_checks(spec)
    return {str(k): dict(v) for k, v in dict(spec).items()}


def _carry_select(q: EntityQuery, carry: Sequence[str], key: str) -> Any:
    """The result query with carried input columns after the key."""
    from sqlglot import exp

    from .backends.sql import col

    res = q.result.copy()
    extra = [exp.alias_(col(c), c, quoted=True) for c in carry]
    exprs = res.expressions
    res.set("expressions", [exprs[0], *extra, *exprs[1:]])
    return res


def _compile(engine: Engine, compiler_cls: type[SqlCompiler], entity: str, as_of: datetime.date,
             lang: str, columns: Sequence[str], member_columns: Sequence[str] | None
             ) -> tuple[SqlCompiler, EntityQuery]:
    comp = compiler_cls(engine, as_of, lang=lang)
    q = comp.compile_entity(entity, "src_entity", columns,
                            "src_members" if member_columns is not None else None,
                            member_columns or ())
    return comp, q


def _findings_union(comp: SqlCompiler, q: EntityQuery, ds: Any,
                    tables: Mapping[str, str] | None = None) -> Any:
    """Rule findings (by record, severity, check, member) then dataset findings (by check,
    record, member), as one ordered query (over the layers kept in ``tables``, if given:
    see :meth:`EntityQuery.with_tables`)."""
    from sqlglot import exp

    from .backends.sql import case, col

    cols = [col(c) for c in FINDINGS_SCHEMA.names]
    sev = case([(exp.EQ(this=col("severity"), expression=exp.Literal.string(v)),
                 exp.Literal.number(i)) for i, v in enumerate(("error", "warning", "info"))],
               exp.Literal.number(9))
    zero = exp.Literal.number(0)
    mem = exp.Coalesce(this=col("__mem_row"), expressions=[exp.Literal.number(-1)])
    parts = []
    if q.findings is not None:
        parts.append(exp.select(*cols, exp.alias_(zero.copy(), "__p"),
                                exp.alias_(col("__rec_row"), "__o1"), exp.alias_(sev, "__o2"),
                                exp.alias_(col("check"), "__o3"), exp.alias_(mem, "__o4"),
                                exp.alias_(zero.copy(), "__o5"))
                     .from_(exp.alias_(exp.Subquery(this=q.findings), "z0", table=True)))
    if ds is not None:
        parts.append(exp.select(*cols, exp.alias_(exp.Literal.number(1), "__p"),
                                exp.alias_(zero.copy(), "__o1"), exp.alias_(zero.copy(), "__o2"),
                                exp.alias_(col("check"), "__o3"),
                                exp.alias_(col("__rec_row"), "__o4"),
                                exp.alias_(mem.copy(), "__o5"))
                     .from_(exp.alias_(exp.Subquery(this=ds), "z1", table=True)))
    if not parts:
        return None
    body: exp.Expression = parts[0]
    if len(parts) == 2:
        body = exp.union(parts[0], parts[1], distinct=False)
    select = exp.select(*[c.copy() for c in cols]).from_(
        exp.alias_(exp.Subquery(this=body), "z", table=True)).order_by(
        *[col(c) for c in ("__p", "__o1", "__o2", "__o3", "__o4", "__o5")])
    return q.with_ctes(select) if tables is None else q.with_tables(select, tables)


# ---------------------------------------------------------------------------------------------
# DuckDB


def _run_duckdb(engine: Engine, entity: str, inputs: _Inputs, as_of: datetime.date,
                checks: Mapping[str, Any], carry: Sequence[str], lang: str, *,
                output: str | Path | None, memory_limit: str,
                temp_directory: str | Path | None, threads: int | None) -> BatchResult:
    import duckdb

    from .backends.duckdb import DuckDBCompiler

    tmp = Path(tempfile.mkdtemp(prefix="welfare-rules-"))
    config: dict[str, Any] = {"memory_limit": memory_limit,
                              "temp_directory": str(temp_directory or tmp / "spill"),
                              "preserve_insertion_order": False}
    if threads:
        config["threads"] = threads
    con = duckdb.connect(config=config)
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)

    def register(name: str, src: Any) -> list[str]:
        if isinstance(src, Path):
            r = con.read_parquet(str(src), file_row_number=True)
            cols = [c for c in r.columns if c != "file_row_number"]
            if ROW not in r.columns:
                r = r.project(", ".join(f'"{c}"' for c in cols) +
                              f', file_row_number AS "{ROW}"')
            r.create_view(name)
            return list(r.columns)
        tbl = _with_row(src)
        con.register(name, tbl)
        return list(tbl.column_names)

    columns = register("src_entity", inputs.tables[entity])
    mcols = None
    if rel is not None and rel.entity in inputs.tables:
        mcols = register("src_members", inputs.tables[rel.entity])
    comp, q = _compile(engine, DuckDBCompiler, entity, as_of, lang, columns, mcols)
    ds = comp.dataset_findings(checks, entity, mcols is not None) if checks else None
    res_sql = comp.sql(q.with_ctes(_carry_select(q, carry, ent.key)))
    results_path: Path | None = None
    cached: pa.Table | None = None
    # The results query joins the records to their members' aggregates with the aggregates
    # (one narrow row per record) on the build side. DuckDB estimates a GROUP BY's output as
    # large as its input (all the members), so it would swap the sides and hold the whole
    # (wide) entity table in memory through the members' window sorts, which then spill
    # (docs/performance.md has the figures): keep the sides as written, for this query only.
    con.execute("SET disabled_optimizers = 'build_side_probe_side'")
    try:
        if output is not None:
            results_path = Path(output)
            con.sql(res_sql).write_parquet(str(results_path))
        else:
            cached = _as_text(_fetch(con.sql(res_sql)))
    finally:
        con.execute("RESET disabled_optimizers")

    def results() -> pa.Table:
        if cached is not None:
            return cached
        import pyarrow.parquet as pq

        assert results_path is not None
        return pq.read_table(results_path)

    def members() -> pa.Table | None:
        if q.members is None:
            return None
        return _as_text(_fetch(con.sql(comp.sql(q.with_ctes(q.members)))))

    def findings() -> pa.Table:
        f = _findings_union(comp, q, ds)
        if f is None:
            return empty_table(FINDINGS_SCHEMA)
        return _fetch(con.sql(comp.sql(f))).cast(FINDINGS_SCHEMA)

    def cleanup() -> None:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)

    return BatchResult(engine, entity, as_of, "duckdb", results=results, members=members,
                       findings=findings, inputs=inputs, rule_ids=q.rule_ids,
                       error_rules=q.error_rules, cleanup=cleanup, results_path=results_path)


def _as_text(tbl: pa.Table) -> pa.Table:
    """Status columns come from DuckDB as ENUMs (Arrow dictionaries): plain text, as from every
    backend."""
    for i, f in enumerate(tbl.schema):
        if pa.types.is_dictionary(f.type) and f.name.endswith(STATUS_SUFFIX):
            tbl = tbl.set_column(i, f.name, tbl.column(i).cast(pa.string()))
    return tbl


def _fetch(rel: Any) -> pa.Table:
    for name in ("to_arrow_table", "fetch_arrow_table"):
        if hasattr(rel, name):
            result: pa.Table = getattr(rel, name)()
            return result
    out = rel.arrow()
    return out.read_all() if hasattr(out, "read_all") else out


# ---------------------------------------------------------------------------------------------
# Spark


def _run_spark(engine: Engine, entity: str, inputs: _Inputs, as_of: datetime.date,
               checks: Mapping[str, Any], carry: Sequence[str], lang: str, spark: Any
               ) -> BatchResult:
    """The chain is evaluated once: its last member and entity layers are kept by the
    executors (:func:`~welfare_rules.backends.spark.keep`) and the result, member and
    findings queries read them. Spark inlines CTEs, so each query (each branch of the
    findings union) would otherwise plan and run the whole chain again."""
    from sqlglot import exp

    from .backends.spark import SparkCompiler, driver_guard, keep, local_session

    spark = spark or local_session()
    memory = None
    with contextlib.suppress(Exception):
        memory = spark.sparkContext.getConf().get("spark.driver.memory")
    ent = engine.schema.entity(entity)
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

    def register(name: str, src: Any) -> tuple[str, list[str]]:
        # an Arrow table becomes a LocalRelation, whose rows every plan would carry in the
        # driver (and the optimiser compute over there); a row number added here is not
        # deterministic: both are read once and kept
        fresh = isinstance(src, pa.Table)
        if isinstance(src, pa.Table):
            df = spark.createDataFrame(_spark_safe(_with_row(src)))
        elif isinstance(src, Path):
            df = spark.read.parquet(str(src))
        else:
            df = src
        if ROW not in df.columns:
            from pyspark.sql import functions as F

            df = df.withColumn(ROW, F.monotonically_increasing_id())
            fresh = True
        return view_of(name, df, kept=fresh), list(df.columns)

    def cleanup() -> None:
        for release in releases:
            release()
        for v in views:
            with contextlib.suppress(Exception):  # the session may be gone
                spark.catalog.dropTempView(v)
        releases.clear()
        views.clear()

    comp = SparkCompiler(engine, as_of, lang=lang)
    layers: dict[str, str] = {}  # kept layer -> its view

    def arrow(select: Any) -> pa.Table:
        return spark.sql(comp.sql(select)).toArrow()

    try:
        with driver_guard(spark, "evaluating the rules", memory):
            view, columns = register("entity", inputs.tables[entity])
            mview, mcols = None, None
            if rel is not None and rel.entity in inputs.tables:
                mview, mcols = register("members", inputs.tables[rel.entity])
            q = comp.compile_entity(entity, view, columns, mview, mcols or ())
            ds = comp.dataset_findings(checks, entity, mcols is not None) if checks else None
            for name in q.ends():  # in chain order: a layer reads those kept before it
                layer = exp.select(exp.Star()).from_(exp.to_table(name, quoted=True))
                layers[name] = view_of(name, spark.sql(comp.sql(q.with_tables(layer, layers))),
                                       kept=True)
            table = arrow(q.with_tables(_carry_select(q, carry, ent.key), layers))
    except BaseException:
        cleanup()
        raise

    def members() -> pa.Table | None:
        if q.members is None:
            return None
        with driver_guard(spark, "computing the member results", memory):
            return arrow(q.with_tables(q.members, layers))

    def findings() -> pa.Table:
        f = _findings_union(comp, q, ds, layers)
        if f is None:
            return empty_table(FINDINGS_SCHEMA)
        with driver_guard(spark, "computing the findings", memory):
            return arrow(f).cast(FINDINGS_SCHEMA)

    return BatchResult(engine, entity, as_of, "spark", results=lambda: table, members=members,
                       findings=findings, inputs=inputs, rule_ids=q.rule_ids,
                       error_rules=q.error_rules, cleanup=cleanup)


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


# ---------------------------------------------------------------------------------------------
# Python (the reference, record by record)


class _Lenient:
    """Evaluates a record whose UNIQUE/ANY table is violated: that rule is NULL (status
    'error') and the rest is evaluated as usual, as the SQL backends do."""

    def __init__(self, engine: Engine, entity: str, as_of: datetime.date):
        from .engine import _Plan

        self.errors: list[tuple[str, str]] = []
        shim = pytypes.SimpleNamespace(**{k: getattr(runtime, k) for k in dir(runtime)
                                          if not k.startswith("__")})

        def hit(rule_id: str, *args: Any) -> Any:
            try:
                return runtime.hit(rule_id, *args)
            except HitPolicyError as exc:
                self.errors.append((rule_id, str(exc)))
                return None

        shim.hit = hit
        in_force = engine.in_force(as_of)
        compiled = engine._compile(entity, in_force, {"_rt": shim})
        params, since = engine.params_at(as_of)
        self.plan = _Plan(compiled, params, since, in_force, engine._param_index)
        self.engine, self.entity, self.as_of = engine, entity, as_of

    def evaluate(self, record: Mapping[str, Any]) -> tuple[Decision, list[tuple[str, str]]]:
        self.errors = []
        values, members = self.plan.compiled.run(record, self.plan.params, self.as_of)
        d = Decision(self.engine, self.entity, record, self.as_of, self.plan, values, members)
        return d, list(self.errors)


def _run_python(engine: Engine, entity: str, inputs: _Inputs, as_of: datetime.date,
                checks: Mapping[str, Any], carry: Sequence[str], lang: str) -> BatchResult:
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    load = inputs.load
    if load is None:
        tables = {k: inputs.arrow(k) for k in inputs.tables}
        links = {entity: Link(rel.name, rel.entity, rel.key, ent.key)} if rel else {}
        main = tables.get(entity)
        n_rows = main.num_rows if main is not None else 0
        load = LoadResult({k: v for k, v in tables.items() if v is not None},
                          empty_table(QUARANTINE_SCHEMA), n_rows, n_rows, 0, links=links)
    in_force = engine.in_force(as_of)
    rule_ids = engine.visible_rule_ids(entity)
    child = rel.entity if rel else None
    mrule_ids = engine.visible_rule_ids(child) if child else []
    cent = engine.schema.entity(child) if child else None
    lenient: _Lenient | None = None
    rows: list[dict[str, Any]] = []
    mrows: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    for record in load.iter_records(entity):
        errs: list[tuple[str, str]] = []
        try:
            d = engine.evaluate(entity, record, as_of=as_of, validate=False)  # read, or trusted
        except HitPolicyError:
            if lenient is None:
                lenient = _Lenient(engine, entity, as_of)
            d, errs = lenient.evaluate(record)
        err_ids = {rid for rid, _ in errs}
        row: dict[str, Any] = {ent.key: record.get(ent.key)}
        for c in carry:
            row[c] = record.get(c)
        for rid in rule_ids:
            if rid in in_force and rid in d._slots:
                row[rid] = d.value(rid)
                row[rid + STATUS_SUFFIX] = "error" if rid in err_ids else d.status(rid)
            else:
                row[rid] = None
                row[rid + STATUS_SUFFIX] = None
        rows.append(row)
        if child and cent is not None and rel is not None:
            for md in d.members:
                mrow: dict[str, Any] = {cent.key: md.record.get(cent.key),
                                        rel.key: record.get(ent.key)}
                for rid in mrule_ids:
                    if rid in in_force and rid in md._slots:
                        mrow[rid] = md.value(rid)
                        mrow[rid + STATUS_SUFFIX] = md.status(rid)
                    else:
                        mrow[rid] = None
                        mrow[rid + STATUS_SUFFIX] = None
                mrows.append(mrow)
        for f in _python_findings(d, lang):
            findings.append(f)
        if checks:
            records.append(record)
    findings += _python_dataset_findings(engine, entity, records, checks, lang)
    schema = _result_schema(engine, entity, rule_ids, carry, ent.key)
    table = _table(rows, schema)
    mtable = None
    if child and cent is not None and rel is not None:
        mtable = _table(mrows, _result_schema(engine, child, mrule_ids, [rel.key], cent.key))
    ftable = pa.Table.from_pylist(findings, schema=FINDINGS_SCHEMA)
    errs_rules = [rid for rid in rule_ids if rid in in_force
                  and (r := in_force[rid]).kind == "table" and r.table is not None
                  and r.table.hit_policy in ("unique", "any")]
    return BatchResult(engine, entity, as_of, "python", results=lambda: table,
                       members=lambda: mtable, findings=lambda: ftable, inputs=inputs,
                       rule_ids=rule_ids, error_rules=errs_rules)


def _result_schema(engine: Engine, entity: str, rule_ids: Sequence[str], carry: Sequence[str],
                   key: str) -> list[tuple[str, pa.DataType | None]]:
    ent = engine.schema.entity(entity)
    out: list[tuple[str, pa.DataType | None]] = [(key, pa.string())]
    for c in carry:
        fld = ent.fields.get(c)
        out.append((c, _arrow_type(fld.type) if fld else pa.string()))
    for rid in rule_ids:
        out.append((rid, _arrow_type(engine.rule_types.get(rid, t.ANY))))
        out.append((rid + STATUS_SUFFIX, pa.string()))
    return out


def _table(rows: list[dict[str, Any]], schema: list[tuple[str, pa.DataType | None]]
           ) -> pa.Table:
    arrays, names = [], []
    for name, ty in schema:
        values = [r.get(name) for r in rows]
        if ty is not None and pa.types.is_integer(ty) and any(isinstance(v, float)
                                                                for v in values):
            ty = pa.float64()
        try:
            arrays.append(pa.array(values, type=ty))
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            arrays.append(pa.array(values))
        names.append(name)
    return pa.table(arrays, names=names)


def _python_findings(d: Decision, lang: str) -> Iterator[dict[str, Any]]:
    from .decision import _compute_findings

    for f in _compute_findings(d, lang):
        yield {"check": f.check, "severity": f.severity, "entity": f.entity,
               "record_id": f.record_id, "member_id": f.member_id, "message": f.message}


def _fmt(value: Any, name: str, entity: str) -> str:
    if name in ("nik", "household_id") or (name == "id" and entity == "household"):
        return mask_id(value)
    return "?" if value is None else str(value)


def _render(template: str, resolve: Callable[[str], str | None]) -> str:
    import re

    def sub(m: re.Match[str]) -> str:
        v = resolve(m.group(1))
        return m.group(0) if v is None else v

    return re.sub(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", sub, template)


def _python_dataset_findings(engine: Engine, entity: str, records: list[dict[str, Any]],
                             checks: Mapping[str, Any], lang: str) -> list[dict[str, Any]]:
    from .schema import Text

    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    out: list[dict[str, Any]] = []
    for cid, spec in checks.items():
        kind = spec.get("kind")
        message = Text.of(spec.get("message")).get(lang)
        severity = str(spec.get("severity", "warning"))
        if kind == "duplicate_key":
            target = spec.get("entity", "person")
            keys = [str(k) for k in spec.get("key", ())]
            across = str(spec.get("across"))
            norm = set(spec.get("normalise", ()) or ())
            rows: list[tuple[dict[str, Any], dict[str, Any], int | None]]
            if target == entity:
                rows = [(r, r, None) for r in records]
                tent = ent
            elif rel is not None and target == rel.entity:
                tent = engine.schema.entity(target)
                rows = [(m, r, i) for r in records for i, m in enumerate(r.get(rel.name) or ())]
            else:
                continue
            if not keys or any(k not in tent.fields for k in keys):
                continue

            def keyof(m: Mapping[str, Any], keys: list[str] = keys, norm: set[str] = norm
                       ) -> tuple[Any, ...] | None:
                vals = []
                for k in keys:
                    v = m.get(k)
                    if v is None:
                        return None
                    vals.append(str(v).strip(" ").lower() if k in norm else v)
                return tuple(vals)

            def across_of(m: Mapping[str, Any], r: Mapping[str, Any], across: str = across,
                          target: str = target) -> Any:
                if rel is not None and target == rel.entity and across == rel.key:
                    return r.get(ent.key)
                return m.get(across)

            groups: dict[tuple[Any, ...], set[Any]] = {}
            for m, r, _ in rows:
                k = keyof(m)
                a = across_of(m, r)
                if k is not None:
                    s = groups.setdefault(k, set())
                    if a is not None:
                        s.add(a)
            for m, r, _ in rows:
                k = keyof(m)
                if k is None or len(groups.get(k, ())) < 2:
                    continue
                count = len(groups[k])

                def resolve(name: str, m: Mapping[str, Any] = m, count: int = count,
                            tent: Any = tent) -> str | None:
                    if name == "count":
                        return str(count)
                    if name in tent.fields:
                        v = m.get(name)
                        if isinstance(v, bool):
                            return str(v)
                        return _fmt(v, name, tent.name)
                    return None

                member = m.get(tent.key) if tent is not ent else None
                out.append({"check": cid, "severity": severity, "entity": target,
                            "record_id": _s(r.get(ent.key)), "member_id": _s(member),
                            "message": _render(message, resolve)})
        elif kind == "forbidden_combination":
            progs = {str(k): str(v) for k, v in (spec.get("programmes") or {}).items()}
            for r in records:
                for pair in spec.get("forbidden", ()) or ():
                    a, b = (str(x) for x in pair)
                    fa, fb = progs.get(a, ""), progs.get(b, "")
                    if fa not in ent.fields or fb not in ent.fields:
                        continue
                    if r.get(fa) is True and r.get(fb) is True:
                        def resolve2(name: str, a: str = a, b: str = b,
                                     r: Mapping[str, Any] = r) -> str | None:
                            if name in ("a", "b"):
                                return (a if name == "a" else b).upper()
                            if name in ent.fields:
                                v = r.get(name)
                                return str(v) if isinstance(v, bool) else _fmt(v, name, entity)
                            return None

                        out.append({"check": cid, "severity": severity, "entity": entity,
                                    "record_id": _s(r.get(ent.key)), "member_id": None,
                                    "message": _render(message, resolve2)})
    out.sort(key=lambda f: f["check"])  # stable: within a check, record then member order
    return out


def _s(v: Any) -> str | None:
    return None if v is None else str(v)
