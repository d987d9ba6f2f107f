"""The contract every batch backend implements, and what it is given and gives back.

A backend turns a :class:`~welfare_rules.plan.Plan` (the rules in force on a date) into results
for a table of records: it compiles the plan for one entity, runs it over the :class:`Inputs`
and returns an :class:`Outcome` — Arrow tables of results, member results and findings.
:func:`welfare_rules.batch.evaluate_batch` does the rest (reading and validating the input,
the dataset checks' definitions, the :class:`~welfare_rules.batch.BatchResult`).

Backends are contributed by plugins through the ``register_backends`` hook
(:mod:`welfare_rules.hookspecs`); the built-in plugin registers ``python`` (the reference,
record by record), ``duckdb`` (the default, in process), ``polars`` (in process, when Polars
is installed) and ``spark``. A backend written elsewhere (PostgreSQL, BigQuery) needs nothing
from the core but this module and the plan: see ``docs/architecture.md``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence, Set
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import pyarrow as pa
import pyarrow.compute as pc

from .. import types as t
from ..adapters.result import QUARANTINE_SCHEMA, LoadResult, empty_table
from ..errors import EvaluationError
from ..expr import nodes as n
from ..model import Rule
from ..plan import Plan
from .python import rule_nodes

__all__ = ["ERRORS_SCHEMA", "FINDINGS_SCHEMA", "ROW", "STATUS_SUFFIX", "STATUS_TYPE",
           "STATUS_VALUES", "Backend", "BackendBase", "Inputs", "Job", "Outcome", "arrow_type",
           "conform", "needed_rules", "result_fields", "rule_reads", "selected_columns"]

ROW = "__row"  # input order of records (ties in ranks, output order)
STATUS_SUFFIX = "__status"

#: every value a status column takes, in the order of its dictionary
STATUS_VALUES = ("true", "false", "unknown", "value", "error")
#: the Arrow type of a status column: dictionary-encoded text
STATUS_TYPE = pa.dictionary(pa.int8(), pa.string())
_STATUS_DICT = pa.array(STATUS_VALUES, pa.string())

#: the columns of :attr:`Outcome.findings`, in this order
FINDINGS_SCHEMA = pa.schema([
    ("check", pa.string()), ("severity", pa.string()), ("entity", pa.string()),
    ("record_id", pa.string()), ("member_id", pa.string()), ("message", pa.string()),
])
#: the columns of :attr:`welfare_rules.batch.BatchResult.errors`
ERRORS_SCHEMA = pa.schema([("record_id", pa.string()), ("rule", pa.string()),
                           ("message", pa.string())])


class Inputs:
    """The records to evaluate, per entity: an Arrow table, a Parquet path (for backends that
    scan files, :attr:`Backend.reads_parquet`) or a backend's own frame
    (:meth:`Backend.native`, e.g. a Spark DataFrame).

    Attributes:
        entity: the entity evaluated.
        child: its child entity (a household's persons), if it has a relation.
        tables: entity name -> table, path or frame.
        quarantine: rows ingestion could not read (possibly empty).
        load: the :class:`~welfare_rules.adapters.LoadResult` the tables came from, if any.
    """

    def __init__(self, entity: str, child: str | None) -> None:
        self.entity = entity
        self.child = child
        self.tables: dict[str, Any] = {}
        self.quarantine: pa.Table = empty_table(QUARANTINE_SCHEMA)
        self.load: LoadResult | None = None

    def arrow(self, entity: str) -> pa.Table | None:
        """The records of ``entity`` as an Arrow table (read back from Parquet or from a
        frame if need be); ``None`` when there are none."""
        v = self.tables.get(entity)
        if v is None or isinstance(v, pa.Table):
            return v
        if isinstance(v, Path):
            import pyarrow.parquet as pq

            return pq.read_table(v)
        if hasattr(v, "toArrow"):  # a Spark DataFrame
            spark: pa.Table = v.toArrow()
            return spark
        if hasattr(v, "collect") and not hasattr(v, "to_arrow"):  # a Polars LazyFrame
            v = v.collect()
        out: pa.Table = v.to_arrow()  # a Polars DataFrame
        return out


@attrs.frozen
class Job:
    """One evaluation a backend is asked to run.

    Attributes:
        plan: the rules in force and the parameter values on the evaluation date.
        entity: the entity evaluated (its child entity comes along).
        inputs: the records.
        checks: the dataset-level check definitions (``dataset_checks.yaml``), maybe empty.
        carry: input columns copied into the results after the key.
        lang: the language of finding messages (``id`` or ``en``).
        output: write the results straight to this Parquet file (backends that can stream).
        memory_limit: the memory a backend may use before spilling (DuckDB).
        temp_directory: where a backend spills (default: a fresh temporary directory).
        threads: worker threads (default: all cores).
        spark: the SparkSession (Spark; default: a local session).
        outputs: the result columns asked for (``<rule>``: its value and status,
            ``<rule>__status``: the status alone), or ``None`` for every visible rule. A
            backend may compute only these; one that gives more has them dropped.
    """

    plan: Plan
    entity: str
    inputs: Inputs
    checks: Mapping[str, Mapping[str, Any]] = attrs.field(factory=dict)
    carry: Sequence[str] = ()
    lang: str = "id"
    output: str | Path | None = None
    memory_limit: str = "1GB"
    temp_directory: str | Path | None = None
    threads: int | None = None
    spark: Any = None
    outputs: Sequence[str] | None = None

    @property
    def as_of(self) -> datetime.date:
        return self.plan.as_of


@attrs.frozen
class Outcome:
    """What a backend gives back. Tables are computed on first use (``results`` may have been
    computed already); ``cleanup`` releases the backend's resources.

    Attributes:
        results: one row per record: key, carried columns, ``<rule>`` and
            ``<rule>__status`` for each visible rule of the entity, in rule order.
        members: one row per child record (key, parent key, its rules and statuses), or
            ``None`` when the entity has no child.
        findings: :data:`FINDINGS_SCHEMA` rows: rule checks (by record, severity, check,
            member) then dataset checks (by check, record, member).
        rule_ids: the rules with a value column, in order.
        error_rules: the UNIQUE/ANY decision tables whose violations show as status
            ``error``.
        cleanup: releases temporary files, connections, cached frames.
        results_path: the Parquet file the results were written to (``Job.output``).
    """

    results: Callable[[], pa.Table]
    members: Callable[[], pa.Table | None]
    findings: Callable[[], pa.Table]
    rule_ids: Sequence[str]
    error_rules: Sequence[str]
    cleanup: Callable[[], None] | None = None
    results_path: Path | None = None


@runtime_checkable
class Backend(Protocol):
    """A batch backend. Register one with the ``register_backends`` hook, or pass an instance
    as ``evaluate_batch(backend=...)``.

    Attributes:
        name: how users ask for it (``--backend NAME``, ``backend="NAME"``).
        reads_parquet: it scans Parquet paths itself (else they are read into Arrow first).
    """

    name: str
    reads_parquet: bool

    def native(self, data: Any) -> bool:
        """Whether ``data`` is this backend's own kind of table (passed through untouched)."""
        ...

    def run(self, job: Job) -> Outcome:
        """Compile ``job.plan`` for ``job.entity``, run it over ``job.inputs``, and return the
        results."""
        ...


class BackendBase:
    """Defaults for a backend: reads Arrow, takes no native frames."""

    name: str = ""
    reads_parquet: bool = False

    def native(self, data: Any) -> bool:
        return False

    def run(self, job: Job) -> Outcome:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<backend {self.name}>"


# ---------------------------------------------------------------------------------------------
# The result schema: one per entity, derived from the declared rule types, on every backend

_SCALARS: dict[str, pa.DataType] = {
    "bool": pa.bool_(), "int": pa.int64(), "decimal": pa.float64(), "str": pa.string(),
    "enum": pa.string(), "date": pa.date32()}


def arrow_type(ty: t.Type) -> pa.DataType | None:
    """The Arrow type of a value of a rule-language type: ``int`` is int64, ``decimal``
    float64 (the language declares no scale), ``enum`` and ``str`` text, ``date`` date32; a
    list of a known type is a list, a record with known fields a struct. ``None``: not known
    from the types (``any``), left as the backend gives it."""
    scalar = _SCALARS.get(ty.kind)
    if scalar is not None:
        return scalar
    if ty.kind == "list" and ty.elem is not None:
        elem = arrow_type(ty.elem)
        return pa.list_(elem) if elem is not None else None
    if ty.kind == "record" and ty.fields:
        fields = [(name, arrow_type(ft)) for name, ft in ty.fields]
        if all(ft is not None for _, ft in fields):
            return pa.struct([(name, ft) for name, ft in fields if ft is not None])
    return None


def result_fields(plan: Plan, entity: str, rule_ids: Sequence[str], key: str,
                  carry: Sequence[str] = ()) -> list[tuple[str, pa.DataType | None]]:
    """The columns of a result table and their types: the key (text), the carried columns
    (as the schema declares them; text if it does not), then ``<rule>`` (its declared type,
    see :func:`arrow_type`) and ``<rule>__status`` (:data:`STATUS_TYPE`) for each rule."""
    ent = plan.schema.entity(entity)
    out: list[tuple[str, pa.DataType | None]] = [(key, pa.string())]
    for c in carry:
        fld = ent.fields.get(c)
        out.append((c, arrow_type(fld.type) if fld else pa.string()))
    for rid in rule_ids:
        out.append((rid, arrow_type(plan.rule_type(rid))))
        out.append((rid + STATUS_SUFFIX, STATUS_TYPE))
    return out


def selected_columns(rule_ids: Sequence[str], outputs: Sequence[str] | None) -> list[str]:
    """The value and status columns of ``rule_ids`` that ``outputs`` asks for (see
    :attr:`Job.outputs`), in rule order: every one when ``outputs`` is ``None``."""
    wanted = None if outputs is None else set(outputs)
    cols: list[str] = []
    for rid in rule_ids:
        if wanted is None or rid in wanted:
            cols += [rid, rid + STATUS_SUFFIX]
        elif rid + STATUS_SUFFIX in wanted:
            cols.append(rid + STATUS_SUFFIX)
    return cols


def needed_rules(plan: Plan, entity: str, outputs: Sequence[str]) -> set[str]:
    """The rules (of ``entity`` and its child entity) that the result columns ``outputs``
    need: the rules named (``<rule>`` or ``<rule>__status``) and everything they read,
    transitively. A backend given :attr:`Job.outputs` compiles only these."""
    ep = plan.entity_plan(entity)
    want = {o.removesuffix(STATUS_SUFFIX) for o in outputs}
    crules = ep.child.rules if ep.child else []
    known = {r.id for r in ep.rules} | {r.id for r in crules}
    # dependencies point backwards in each entity's order, and parent rules read child
    # rules only: one pass from the end of the parent's rules through the child's
    for r in [*reversed(ep.rules), *reversed(crules)]:
        if r.id in want:
            want |= rule_reads(plan, r, known)
    return want & known


def rule_reads(plan: Plan, rule: Rule, known: Set[str]) -> set[str]:
    """The names of ``known`` that ``rule`` reads: the rules it depends on and every name in
    its expressions (check and aggregation conditions too: a superset is harmless)."""
    deps = plan.model.deps(rule)
    for node in rule_nodes(rule):
        deps |= {s.id for s in n.walk(node) if isinstance(s, n.Name)}
    return deps & set(known)


def conform(tbl: pa.Table, fields: Sequence[tuple[str, pa.DataType | None]]) -> pa.Table:
    """``tbl`` with each of ``fields`` it has cast to its type (statuses dictionary-encoded
    over :data:`STATUS_VALUES`); other columns unchanged.

    Raises:
        EvaluationError: a column holds values its type cannot (a backend gave 2.5 for an
            integer rule, or a status that is none of :data:`STATUS_VALUES`).
    """
    names = tbl.column_names
    for name, ty in fields:
        if ty is None or name not in names:
            continue
        i = names.index(name)
        column = tbl.column(i)
        if ty != STATUS_TYPE and str(column.type) == str(ty):  # list item names count too
            continue
        try:
            fixed = _statuses(column) if ty == STATUS_TYPE else column.cast(ty)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise EvaluationError(f"result column '{name}' is {column.type}, which does not "
                                  f"convert to {ty}: {exc}") from None
        tbl = tbl.set_column(i, name, fixed)
    return tbl


def _statuses(column: pa.ChunkedArray) -> pa.ChunkedArray:
    chunks = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            if chunk.dictionary.equals(_STATUS_DICT):  # DuckDB's ENUM: the same dictionary
                chunks.append(pa.DictionaryArray.from_arrays(chunk.indices.cast(pa.int8()),
                                                             _STATUS_DICT))
                continue
            chunk = chunk.cast(pa.string())
        if pa.types.is_null(chunk.type):
            chunk = chunk.cast(pa.string())
        idx = pc.index_in(chunk, value_set=_STATUS_DICT)
        if idx.null_count != chunk.null_count:
            odd = pc.filter(chunk, pc.and_(pc.is_null(idx), pc.is_valid(chunk)))
            raise pa.ArrowInvalid(f"status {odd[0].as_py()!r} is none of "
                                  f"{', '.join(STATUS_VALUES)}")
        chunks.append(pa.DictionaryArray.from_arrays(idx.cast(pa.int8()), _STATUS_DICT))
    return pa.chunked_array(chunks, STATUS_TYPE)
