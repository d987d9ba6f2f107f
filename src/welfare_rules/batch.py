"""Batch evaluation: a table of records through a backend.

:func:`evaluate_batch` takes whatever ingestion reads (a
:class:`~welfare_rules.adapters.LoadResult`), a path, a DataFrame, an Arrow table or a DuckDB
relation (a Spark DataFrame for Spark), takes the :class:`~welfare_rules.plan.Plan` of
``as_of`` and hands it with the inputs to a backend (:class:`~welfare_rules.backends.base.Backend`):
by name, one of those the plugins registered (``duckdb``, the default, in process with a memory
limit and a temporary directory so inputs larger than memory spill; ``spark`` for clusters;
``python``, the reference, record by record), or an instance. Every backend gives the same
table shape and, as the differential tests check, the same values.

The :class:`BatchResult` holds one row per record (the key, carried columns such as
``kelurahan``, each rule's value and ``<rule>__status``), the member results, the findings (rule
checks plus the dataset-level checks of ``dataset_checks.yaml``), the quarantine from ingestion,
the UNIQUE/ANY violations (``errors``; they never abort a batch) and the engine fingerprint.
"""

from __future__ import annotations

import contextlib
import datetime
import shutil
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc

from ._yaml import load_yaml_file
from .adapters.record import members_problem
from .adapters.result import LoadResult
from .backends.base import (
    ERRORS_SCHEMA,
    FINDINGS_SCHEMA,
    ROW,
    STATUS_SUFFIX,
    Backend,
    Inputs,
    Job,
    Outcome,
    conform,
    result_fields,
    selected_columns,
)
from .backends.duckdb import fetch_arrow
from .errors import EvaluationError, InputError, NotFoundError, PluginError, did_you_mean
from .masking import mask_table
from .plan import as_of_date
from .settling import Settler

if TYPE_CHECKING:
    from .views import EngineView

__all__ = ["DATASET_CHECKS_FILE", "ERRORS_SCHEMA", "FINDINGS_SCHEMA", "BatchResult",
           "evaluate_batch", "load_dataset_checks", "resolve_backend", "to_pandas"]

DATASET_CHECKS_FILE = Path(__file__).parent / "dataset_checks.yaml"
_CARRY = ("kecamatan", "kelurahan")


def load_dataset_checks(path: str | Path = DATASET_CHECKS_FILE) -> dict[str, dict[str, Any]]:
    """The dataset-level check definitions (``dataset_checks.yaml``) as plain data."""
    data, _ = load_yaml_file(path)
    return {str(k): dict(v) for k, v in (data or {}).items()}


# ---------------------------------------------------------------------------------------------
# Inputs


def _to_arrow(obj: Any) -> pa.Table | None:
    if obj is None or isinstance(obj, pa.Table):
        return obj
    mod = type(obj).__module__
    if mod.startswith("pandas"):
        return pa.Table.from_pandas(obj, preserve_index=False)
    if mod.startswith("polars"):
        return obj.to_arrow()
    if mod.startswith("duckdb"):
        return fetch_arrow(obj)
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all()
    return None


def _is_spark(obj: Any) -> bool:
    return type(obj).__module__.startswith("pyspark")


def _nan_as_missing(table: pa.Table) -> pa.Table:
    """NaN in a floating column is a missing value, as the record contract reads it (pandas
    writes a missing number as NaN), so that no backend sees one (docs/architecture.md,
    "Semantics at the edges")."""
    for i, f in enumerate(table.schema):
        if pa.types.is_floating(f.type):
            col = table.column(i)
            nan = pc.is_nan(col)
            if pc.any(nan).as_py():
                table = table.set_column(i, f, pc.if_else(nan, pa.scalar(None, f.type), col))
    return table


def _normalise(engine: EngineView, entity: str, data: Any, members: Any, *, adapter: Any,
               validate: bool, backend: Backend) -> Inputs:
    ent = engine.schema.entity(entity)
    rel = next(iter(ent.relations.values()), None)
    inp = Inputs(entity, rel.entity if rel else None)
    if isinstance(data, LoadResult):
        inp.load = data
        inp.quarantine = data.quarantine
        inp.tables = dict(data.tables)
        return inp
    if backend.native(data):
        inp.tables[entity] = data
        if members is not None and rel is not None:
            inp.tables[rel.entity] = members
        return inp
    if _is_spark(data):
        raise EvaluationError(f"a Spark DataFrame can only be evaluated with backend='spark' "
                              f"(not '{backend.name}')")
    if not validate:
        for ent_name, obj in ((entity, data), (rel.entity if rel else None, members)):
            if ent_name is None or obj is None:
                continue
            if isinstance(obj, str | Path) and str(obj).endswith(".parquet") and \
                    backend.reads_parquet:
                inp.tables[ent_name] = Path(obj)
                continue
            tbl = _to_arrow(obj)
            if tbl is None:
                break
            inp.tables[ent_name] = _nan_as_missing(tbl)
        else:
            return inp
    loaded = engine.read(data, adapter=adapter, members=members, entity=entity)
    inp.load = loaded
    inp.quarantine = loaded.quarantine
    inp.tables = dict(loaded.tables)
    return inp


# ---------------------------------------------------------------------------------------------
# The result


class BatchResult:
    """The outcome of :func:`evaluate_batch`.

    Attributes:
        entity: the entity evaluated.
        as_of: the evaluation date.
        backend: ``duckdb``, ``spark`` or ``python``.
        quarantine: rows ingestion could not read (possibly empty).
        fingerprint: :meth:`Engine.fingerprint` — rule, parameter and plugin versions, the
            dataset checks in force, ``as_of``.
        rule_ids: the rules with a column in the results (a value and a status, or the status
            alone: see ``outputs`` of :func:`evaluate_batch`), in rule order.
    """

    def __init__(self, engine: EngineView, entity: str, as_of: datetime.date, backend: str,
                 outcome: Outcome, inputs: Inputs, carry: Sequence[str] = (),
                 dataset_checks: Mapping[str, Any] | None = None,
                 outputs: Sequence[str] | None = None, settler: Settler | None = None):
        self.engine = engine
        self.entity = entity
        self.as_of = as_of
        self.backend = backend
        columns = selected_columns(outcome.rule_ids, outputs)
        self.rule_ids = [rid for rid in outcome.rule_ids if rid + STATUS_SUFFIX in columns]
        self.error_rules = [rid for rid in outcome.error_rules if rid in self.rule_ids]
        self.quarantine = inputs.quarantine
        self.fingerprint = engine.fingerprint(as_of, dataset_checks=dataset_checks)
        self.results_path = outcome.results_path
        self._inputs = inputs
        self._get_results = outcome.results
        self._get_members = outcome.members
        self._get_findings = outcome.findings
        self._results: pa.Table | None = None
        self._members: pa.Table | None = None
        self._findings: pa.Table | None = None
        self._cleanup: Callable[[], None] | None = outcome.cleanup
        #: what settled the unknowns (``None``: three-valued, ``settle=False``); its counts
        #: (``settled``, ``evaluated``, ``refused``) are known once the results were read
        self.settler = settler
        plan = engine.plan(as_of)
        ent = plan.schema.entity(entity)
        rel = next(iter(ent.relations.values()), None)
        #: the result columns and their types (the same from every backend)
        wanted = {ent.key, *carry, *columns}
        self.result_fields = [f for f in result_fields(plan, entity, self.rule_ids, ent.key,
                                                       carry) if f[0] in wanted]
        self.member_fields = None if rel is None else result_fields(
            plan, rel.entity, plan.visible_rule_ids(rel.entity),
            plan.schema.entity(rel.entity).key, [rel.key])

    # -- tables -------------------------------------------------------------------------------

    def to_arrow(self) -> pa.Table:
        """One row per record: key, carried columns, ``<rule>`` and ``<rule>__status``."""
        if self._results is None:
            tbl = self._get_results()
            names = [f for f, _ in self.result_fields if f in tbl.column_names]
            if names != tbl.column_names:  # a backend that computed more than was asked
                tbl = tbl.select(names)
            results = conform(tbl, self.result_fields)
            if self.settler is not None:
                results = conform(self.settler.results(results, self.rule_ids),
                                  self.result_fields)
            self._results = results
        return self._results

    def to_pandas(self) -> Any:
        """The results as a pandas DataFrame with nullable dtypes: integers ``Int64``,
        conditions ``boolean``, decimals ``Float64``, text ``string``, statuses ``category``,
        dates and lists Arrow-backed — no ``object`` columns, no floats for integers with
        gaps."""
        return to_pandas(self.to_arrow())

    def to_polars(self) -> Any:
        import polars as pl

        return pl.from_arrow(self.to_arrow())

    def write_parquet(self, path: str | Path) -> Path:
        import pyarrow.parquet as pq

        out = Path(path)
        if self.results_path is not None and self._results is None and self.settler is None:
            shutil.copyfile(self.results_path, out)
        else:
            pq.write_table(self.to_arrow(), out)
        return out

    @property
    def member_results(self) -> pa.Table | None:
        """One row per member (person key, parent key, person rules and statuses)."""
        if self._members is None:
            members = self._get_members()
            if members is not None and self.member_fields is not None:
                members = conform(members, self.member_fields)
                if self.settler is not None:
                    rules = [n for n, _ in self.member_fields if n + STATUS_SUFFIX in
                             members.column_names]
                    members = conform(self.settler.members(members, rules),
                                      self.member_fields)
            self._members = members
        return self._members

    @property
    def findings(self) -> pa.Table:
        """check, severity, entity, record_id, member_id, message.

        The message is text for others: identifiers and 16-digit runs in it are masked on
        every backend (:func:`~welfare_rules.masking.mask_table`); ``record_id`` and
        ``member_id`` keep the full ids for the program (they are masked when written)."""
        if self._findings is None:
            found = self._get_findings()
            if self.settler is not None:  # the findings follow the settled checks
                self.to_arrow()
                _ = self.member_results
                found = self.settler.findings(found)
            self._findings = mask_table(found, columns=("message",))
        return self._findings

    @property
    def errors(self) -> pa.Table:
        """Decision-table errors (value NULL): UNIQUE/ANY violations, and PRIORITY / OUTPUT
        ORDER hits whose output is outside its declared values: record_id, rule, message."""
        res = self.to_arrow()
        key = self.engine.schema.entity(self.entity).key
        rows: list[dict[str, Any]] = []
        for rid in self.error_rules:
            st = res.column(rid + STATUS_SUFFIX)
            mask = pc.fill_null(pc.equal(st, "error"), False)
            ids = res.column(key).filter(mask).to_pylist()
            table = self.engine.rule(rid, self.as_of).table
            policy = table.hit_policy if table else "any"
            what = {"unique": "several rows matched", "any": "matching rows give different "
                    "outputs"}.get(policy) or (
                "a matching row gives an output outside its declared values ("
                + "; ".join(f"{o.name}: {', '.join(map(repr, o.values))}"
                            for o in (table.outputs if table else ()) if o.values) + ")")
            rows += [{"record_id": str(i), "rule": rid,
                      "message": f"decision table '{rid}': {what}"} for i in ids]
        return pa.Table.from_pylist(rows, schema=ERRORS_SCHEMA)

    # -- reports ------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        """A notebook's view: what was evaluated, the counts, the first rows."""
        from .display import table_html

        res = self.to_arrow()
        key = self.engine.schema.entity(self.entity).key
        top = [rid for rid in self.rule_ids
               if (r := self.engine.rule(rid, self.as_of)).parent is None and r.kind != "check"]
        # eligibility first (pkh_eligible, ...), then the other top-level rules
        main = sorted((rid for rid in top if rid in res.column_names),
                      key=lambda rid: not rid.endswith("_eligible"))[:8]
        carried = [c for c in res.column_names if c != key and c not in self.rule_ids
                   and not c.endswith(STATUS_SUFFIX)]
        return table_html(res, title=f"BatchResult: {self.entity}", max_rows=10,
                          columns=[key, *carried, *main],
                          facts=[("as of", self.as_of), ("backend", self.backend),
                                 ("records", res.num_rows), ("rules", len(self.rule_ids)),
                                 ("findings", self.findings.num_rows),
                                 ("quarantined rows", 0 if (ld := self._inputs.load) is None
                                  else ld.rows_quarantined)])

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
                 and r.parent is None and rid in res.column_names]
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
            raise NotFoundError(f"no {self.entity} record {row_or_id!r}")
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
        import pyarrow.parquet as pq

        from .adapters.result import mask_quarantine
        from .safecells import write_csv

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        paths = [self.write_parquet(out / "results.parquet")]
        res = self.to_arrow()
        write_csv(res, out / "results.csv")
        paths.append(out / "results.csv")
        mem = self.member_results
        if mem is not None:
            pq.write_table(mem, out / "members.parquet")
            paths.append(out / "members.parquet")
        write_csv(self.findings, out / "findings.csv")
        write_csv(mask_quarantine(self.quarantine), out / "quarantine.csv")
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


# ---------------------------------------------------------------------------------------------
# Entry point


def evaluate_batch(engine: EngineView, entity: str, data: Any, *, members: Any = None,
                   as_of: datetime.date | str, backend: str | Backend = "duckdb",
                   adapter: Any = None,
                   validate: bool = True, dataset_checks: Any = True,
                   carry: Sequence[str] | str | None = None, lang: str = "id",
                   output: str | Path | None = None, memory_limit: str = "1GB",
                   temp_directory: str | Path | None = None, threads: int | None = None,
                   spark: Any = None, outputs: Sequence[str] | None = None,
                   settle: bool = True, needs: Sequence[str] | bool = False) -> BatchResult:
    """Evaluate every record of a table.

    Args:
        engine: the loaded engine.
        entity: ``household``, ``person``, ``institution`` or a plugin's entity.
        data: a :class:`LoadResult` (from :meth:`Engine.read`), a path (CSV, Parquet, ...), a
            pandas/polars DataFrame, an Arrow table, a DuckDB relation, or (Spark) a Spark
            DataFrame.
        members: the child table (persons of households), for inputs other than a LoadResult.
        as_of: the evaluation date (rules and parameters in force).
        backend: the name of a registered backend (``engine.backends``: ``duckdb``, the
            default, in process; ``spark``; ``python``, the reference, record by record; or
            one a plugin registered), or a :class:`~welfare_rules.backends.base.Backend`.
        adapter: the adapter used to read ``data`` (see :meth:`Engine.read`).
        validate: read the input through ingestion (quarantine, canonical types). ``False``
            trusts canonical input: Parquet files are scanned directly by DuckDB, which is what
            scales to inputs larger than memory.
        dataset_checks: ``True`` for ``dataset_checks.yaml``, ``False`` for none, or a mapping
            of definitions (same format) that replaces those of the file.
        carry: input columns copied into the results after the key: a list of fields,
            ``"all"`` for every field of the entity (``desil``, ``in_dtks``, ... beside the
            rules), or None for kecamatan and kelurahan.
        lang: language of finding messages (``id`` or ``en``).
        output: write the results to this Parquet file, with the shared result schema
            (``to_arrow()``'s, statuses ``dictionary<int8, string>``) from every backend.
            DuckDB and Polars stream it (the result never has to fit in memory; the
            statuses are then re-typed one row group at a time); ``to_arrow()`` then reads
            it back. With ``settle=True`` (the default), or the Python backend, the file is
            the whole result table, written once settled (the input tables are read to find
            the blanks), so memory is bounded only with ``settle=False``.
        memory_limit: DuckDB memory limit; beyond it DuckDB spills to ``temp_directory``.
        temp_directory: where DuckDB spills (default: a fresh temporary directory).
        threads: DuckDB threads (default: all cores); Polars refuses any number but its
            process-wide pool's size (``POLARS_MAX_THREADS``).
        spark: the SparkSession for ``backend="spark"`` (default: a local session).
        outputs: the result columns wanted, by rule: ``"pkh_eligible"`` gives the rule's
            value and its status, ``"pkh_eligible__status"`` the status alone; the key and
            the carried columns come first as always. ``None`` (the default): every visible
            rule of the entity. The SQL backends then compute only those rules and what they
            read, which is much less work than the whole pack; member results and findings
            are unaffected (computed in full when asked for).
        settle: settle unknown outcomes soundly, as :meth:`Engine.evaluate` does: the rows a
            backend leaves unknown that have a blank the rule could be settled over are
            re-decided through the one-record path (:mod:`welfare_rules.settling`), so every
            backend gives the answer of ``Engine.evaluate``. ``False`` keeps the backend's
            three-valued answer (faster; see docs/batch.md for the cost).
        needs: rules (or ``True`` for every rule) that get a ``<rule>__needs`` column: the
            list of blank inputs that would decide an unknown outcome, equal to
            ``Decision.needs(rule)`` (empty when the outcome is known).

    Raises:
        PluginError: ``backend`` is an object that is not a Backend.
        EvaluationError: an unknown backend name, an unknown entity, an unknown rule in
            ``outputs``, or a function without SQL.
        ParameterError: a rule in force needs a parameter without a value on ``as_of``.
    """
    impl = resolve_backend(engine, backend)
    if needs is not False and not settle:
        raise EvaluationError("needs= is computed from settled outcomes: leave settle=True")
    if entity not in engine.schema.entities:
        raise EvaluationError(f"unknown entity '{entity}'")
    if isinstance(as_of, str):
        as_of = as_of_date(as_of)
    checks = _checks(dataset_checks)
    inputs = _normalise(engine, entity, data, members, adapter=adapter, validate=validate,
                        backend=impl)
    _require_members(engine, entity, as_of, inputs)
    carry_cols = _carry_columns(engine, entity, carry)
    wanted = _output_columns(engine, entity, outputs)
    job = Job(engine.plan(as_of), entity, inputs, checks=checks, carry=carry_cols, lang=lang,
              output=output, memory_limit=memory_limit, temp_directory=temp_directory,
              threads=threads, spark=spark, outputs=wanted)
    outcome = impl.run(job)
    result = BatchResult(engine, entity, as_of, impl.name, outcome, inputs, carry_cols,
                         dataset_checks=checks, outputs=wanted)
    needs_rules = _needs_rules(result.rule_ids, needs)
    if settle:
        result.settler = Settler(engine, entity, as_of, inputs, needs_rules)
    if output is not None:
        if settle or result.results_path is None:
            # settled (the file the backend streamed holds three-valued results), or a
            # backend that does not stream (the reference): the file is the result table
            import pyarrow.parquet as pq

            pq.write_table(result.to_arrow(), Path(output))
        else:
            _conform_file(Path(output), result.result_fields)
    return result


def _conform_file(path: Path, fields: Sequence[tuple[str, pa.DataType | None]]) -> None:
    """Give the Parquet file a backend streamed the shared result schema (DuckDB writes the
    statuses as text, Polars as its own dictionary type), one row group at a time: the
    results never have to fit in memory."""
    import pyarrow.parquet as pq

    src = pq.ParquetFile(path)
    if all(src.schema_arrow.field(name).type == ty for name, ty in fields
           if ty is not None and name in src.schema_arrow.names):
        return
    tmp = path.with_name(path.name + ".conform")
    try:
        writer: pq.ParquetWriter | None = None
        for batch in src.iter_batches():
            tbl = conform(pa.Table.from_batches([batch]), fields)
            if writer is None:
                writer = pq.ParquetWriter(tmp, tbl.schema)
            writer.write_table(tbl)
        if writer is None:  # no rows: the empty table, typed
            pq.write_table(conform(src.schema_arrow.empty_table(), fields), tmp)
        else:
            writer.close()
        src.close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _needs_rules(rule_ids: Sequence[str], needs: Sequence[str] | bool) -> list[str]:
    """The rules that get a ``<rule>__needs`` column.

    Raises:
        EvaluationError: ``needs`` names a rule without a value column.
    """
    if needs is True:
        return list(rule_ids)
    if needs is False:
        return []
    if isinstance(needs, str):
        needs = [needs]
    unknown = [r for r in needs if r not in rule_ids]
    if unknown:
        raise EvaluationError(f"needs: {unknown[0]!r} is not a rule of this entity in force"
                              f"{did_you_mean(unknown[0], rule_ids)}")
    return list(dict.fromkeys(needs))


def _require_members(engine: EngineView, entity: str, as_of: datetime.date, inputs: Inputs
                     ) -> None:
    """Members are never silently absent: when the rules in force read a relation and no
    table of its entity was given (nor a column holding it in the records), one clear error on
    every backend, before any of them compiles."""
    ent = engine.schema.entity(entity)
    reads = engine.relation_reads(entity, as_of)
    for rel in ent.relations.values():
        rules = reads.get(rel.name)
        if not rules or inputs.tables.get(rel.entity) is not None:
            continue
        if rel.name in _columns_of(inputs.tables.get(entity)):
            continue  # the records carry their members
        raise InputError([members_problem(entity, rel.name, rel.entity, rules)], entity,
                         subject=f"{entity} table")


def _columns_of(table: Any) -> Sequence[str]:
    """The column names of an input table, path or frame (empty when unknown)."""
    if table is None:
        return ()
    if isinstance(table, pa.Table):
        return list(table.column_names)
    if isinstance(table, Path):
        import pyarrow.parquet as pq

        names: list[str] = pq.read_schema(table).names
        return names
    return [str(c) for c in getattr(table, "columns", ())]


def _output_columns(engine: EngineView, entity: str, outputs: Sequence[str] | str | None
                    ) -> tuple[str, ...] | None:
    """``outputs`` checked against the entity's visible rules.

    Raises:
        EvaluationError: ``outputs`` is a bare string, or names no visible rule of the entity.
    """
    if outputs is None:
        return None
    if isinstance(outputs, str):
        raise EvaluationError(f"outputs={outputs!r}: give a list of rule ids, e.g. "
                              f"outputs=[{outputs!r}]")
    visible = engine.model.visible_rule_ids(entity)
    known = set(visible)
    for o in outputs:
        if o.removesuffix(STATUS_SUFFIX) not in known:
            raise EvaluationError(f"outputs: {o!r} is not a rule of {entity} with a result "
                                  f"column{did_you_mean(o, visible)}")
    return tuple(dict.fromkeys(outputs))


def _carry_columns(engine: EngineView, entity: str, carry: Sequence[str] | str | None) -> list[str]:
    """The input columns to copy into the results.

    Raises:
        EvaluationError: ``carry`` names a field the entity does not have.
    """
    ent = engine.schema.entity(entity)
    if carry is None:
        return [c for c in _CARRY if c in ent.fields]
    if carry == "all":
        return [f for f in ent.fields if f != ent.key and f not in engine.rules]
    if isinstance(carry, str):
        raise EvaluationError(f"carry={carry!r}: give 'all' or a list of fields of {entity}")
    unknown = [c for c in carry if c not in ent.fields]
    if unknown:
        raise EvaluationError(f"carry: {unknown[0]!r} is not a field of {entity}"
                              f"{did_you_mean(unknown[0], ent.fields)}")
    return [c for c in dict.fromkeys(carry) if c != ent.key]


def resolve_backend(engine: EngineView, backend: str | Backend) -> Backend:
    """The backend an engine knows by this name (or the backend given).

    Raises:
        EvaluationError: no registered backend has this name (the message lists those that
            do).
        PluginError: ``backend`` is neither a name nor a Backend.
    """
    if not isinstance(backend, str):
        if not isinstance(backend, Backend):
            raise PluginError(f"backend={backend!r} is neither a backend name nor a Backend "
                              f"(name, reads_parquet, native(), run())", "")
        return backend
    impl = engine.backends.get(backend)
    if impl is None:
        names = ", ".join(sorted(engine.backends)) or "none"
        raise EvaluationError(f"unknown backend '{backend}'{did_you_mean(backend, engine.backends)}"
                              f" (registered: {names})")
    return impl


def to_pandas(tbl: pa.Table) -> Any:
    """An Arrow table as pandas with nullable (or Arrow-backed) dtypes, never ``object``
    columns of Decimals or of booleans with gaps, nor floats for integers with gaps."""
    import pandas as pd

    simple: dict[pa.DataType, Any] = {
        pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.int8(): pd.Int8Dtype(),
        pa.bool_(): pd.BooleanDtype(), pa.float64(): pd.Float64Dtype(),
        pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype()}

    def mapper(ty: pa.DataType) -> Any:
        if ty in simple:
            return simple[ty]
        if pa.types.is_dictionary(ty):
            return None  # categorical
        return pd.ArrowDtype(ty)

    return tbl.to_pandas(types_mapper=mapper)


def _checks(spec: Any) -> dict[str, dict[str, Any]]:
    if spec is True or spec is None:
        return load_dataset_checks()
    if spec is False:
        return {}
    if isinstance(spec, str | Path):
        return load_dataset_checks(spec)
    return {str(k): dict(v) for k, v in dict(spec).items()}


