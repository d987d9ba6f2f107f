"""The contract every batch backend implements, and what it is given and gives back.

A backend turns a :class:`~welfare_rules.plan.Plan` (the rules in force on a date) into results
for a table of records: it compiles the plan for one entity, runs it over the :class:`Inputs`
and returns an :class:`Outcome` — Arrow tables of results, member results and findings.
:func:`welfare_rules.batch.evaluate_batch` does the rest (reading and validating the input,
the dataset checks' definitions, the :class:`~welfare_rules.batch.BatchResult`).

Backends are contributed by plugins through the ``register_backends`` hook
(:mod:`welfare_rules.hookspecs`); the built-in plugin registers ``python`` (the reference,
record by record), ``duckdb`` (the default, in process) and ``spark``. A backend written
elsewhere (Polars, PostgreSQL, BigQuery) needs nothing from the core but this module and the
plan: see ``docs/architecture.md``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import pyarrow as pa

from ..adapters.result import QUARANTINE_SCHEMA, LoadResult, empty_table
from ..plan import Plan

__all__ = ["ERRORS_SCHEMA", "FINDINGS_SCHEMA", "ROW", "STATUS_SUFFIX", "Backend",
           "BackendBase", "Inputs", "Job", "Outcome"]

ROW = "__row"  # input order of records (ties in ranks, output order)
STATUS_SUFFIX = "__status"

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
        out: pa.Table = v.toArrow()  # a Spark DataFrame
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
