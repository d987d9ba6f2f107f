"""The Polars batch backend: the plan compiled to Polars lazy expressions (:mod:`.polars_compiler`)
and run in process.

Polars is optional (``pip install 'welfare-rules[polars]'``): this module imports it only when
the backend runs, so the engine loads (and registers ``polars``) without it, and choosing the
backend without Polars installed is one clear error naming the pip line.

Inputs are Arrow tables (zero-copy), Parquet paths (scanned lazily) or Polars frames
(:meth:`PolarsBackend.native`). The results come back as Arrow in the one result schema of every
backend: statuses are computed as small integer codes and handed back as the shared dictionary
(:data:`~welfare_rules.backends.base.STATUS_TYPE`); the input order is kept without a sort
(order-preserving joins). Findings' messages are written in Python from the rows the checks
select, with the Python backend's formatting and masking.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..errors import EvaluationError
from ..masking import MASKED_FIELDS, is_masked_field, mask_id, mask_text
from .base import (
    FINDINGS_SCHEMA,
    ROW,
    STATUS_SUFFIX,
    STATUS_VALUES,
    BackendBase,
    Job,
    Outcome,
)

if TYPE_CHECKING:
    import polars as pl

    from .polars_compiler import EntityFrames, Placeholder, RuleFinding

__all__ = ["INSTALL", "PolarsBackend"]

#: what to run when the backend is chosen without Polars installed
INSTALL = "pip install 'welfare-rules[polars]'"
_STATUS_DICT = pa.array(STATUS_VALUES, pa.string())
_SEVERITY = {"error": 0, "warning": 1, "info": 2}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _polars() -> Any:
    try:
        import polars
    except ImportError:
        raise EvaluationError(f"backend 'polars' needs the polars package: {INSTALL}") from None
    return polars


class PolarsBackend(BackendBase):
    """Polars in process: one lazy query for the results, one for the members, the
    findings' queries run together (their shared layers computed once)."""

    name = "polars"
    reads_parquet = True

    def native(self, data: Any) -> bool:
        cls = type(data)
        return cls.__module__.startswith("polars") and cls.__name__ in ("DataFrame",
                                                                         "LazyFrame")

    def run(self, job: Job) -> Outcome:
        pl = _polars()
        from .polars_compiler import PolarsCompiler, dataset_findings

        plan, entity, inputs = job.plan, job.entity, job.inputs
        ent = plan.schema.entity(entity)
        rel = next(iter(ent.relations.values()), None)
        source, columns = _lazy(pl, inputs.tables[entity])
        members = mcols = None
        if rel is not None and rel.entity in inputs.tables:
            members, mcols = _lazy(pl, inputs.tables[rel.entity])
        comp = PolarsCompiler(plan, lang=job.lang)
        _threads(pl, job.threads)
        with bounded():
            ef = comp.compile_entity(entity, source, columns, members, mcols or (),
                                     job.carry, job.outputs)
        whole = [ef] if job.outputs is None else []

        def full() -> EntityFrames:
            # the member results and findings come from every rule: compiled when asked for,
            # if the results were a selection
            if not whole:
                with bounded():
                    whole.append(comp.compile_entity(entity, source, columns, members,
                                                     mcols or (), job.carry))
            return whole[0]

        query = ef.records.select(pl.col(ef.key), *[pl.col(c) for c in job.carry],
                                  *ef.outputs)
        results_path: Path | None = None
        cached: list[pa.Table] = []
        with bounded():
            if job.output is not None:
                # streamed: the statuses written as text (dictionary-encoded), as DuckDB does
                results_path = Path(job.output)
                query.with_columns(_status_text(pl, ef.rule_ids, query)).sink_parquet(
                    results_path)
            else:
                cached.append(_arrow(query.collect(), ef.rule_ids))

        def get_results() -> pa.Table:
            if cached:
                return cached[0]
            import pyarrow.parquet as pq

            assert results_path is not None
            return pq.read_table(results_path)

        def get_members() -> pa.Table | None:
            ef = full()
            if ef.members is None or ef.member_base is None or rel is None:
                return None
            from .polars_compiler import PARENT

            child = plan.schema.entity(rel.entity)
            order = ef.base.select(pl.col(ef.key).alias("__hkey"), pl.col(ROW).alias("__hrow"))
            q = (ef.members.join(order, left_on=PARENT, right_on="__hkey", how="inner")
                 .sort("__hrow", ROW)
                 .select(pl.col(child.key), pl.col(PARENT).alias(rel.key), *ef.member_outputs))
            with bounded():
                return _arrow(q.collect(), ef.member_rule_ids)

        def get_findings() -> pa.Table:
            ef = full()
            rule_parts = ef.findings
            data_parts = dataset_findings(comp, job.checks, entity, ef.base,
                                          ef.member_base) if job.checks else []
            frames = [f.frame for f in rule_parts + data_parts]
            with bounded():
                collected = pl.collect_all(frames) if frames else []
            rows: list[tuple[Any, ...]] = []
            for part, df in zip(rule_parts, collected[:len(rule_parts)], strict=True):
                rows += [((0, r["__rec_row"], _SEVERITY.get(r["severity"], 9), part.check,
                           _nulls_first(r["__mem_row"]), 0), _finding(part, r))
                         for r in df.iter_rows(named=True)]
            for part, df in zip(data_parts, collected[len(rule_parts):], strict=True):
                rows += [((1, part.check, r["__rec_row"], _nulls_first(r["__mem_row"]), 0, 0),
                          _finding(part, r)) for r in df.iter_rows(named=True)]
            rows.sort(key=lambda x: x[0])
            return pa.Table.from_pylist([r for _, r in rows], schema=FINDINGS_SCHEMA)

        return Outcome(results=get_results, members=get_members, findings=get_findings,
                       rule_ids=ef.rule_ids, error_rules=ef.error_rules,
                       results_path=results_path)


def _lazy(pl: Any, src: Any) -> tuple[pl.LazyFrame, list[str]]:
    """An input as a lazy frame with its input order in ``__row``, and its columns."""
    if isinstance(src, Path):
        lf = pl.scan_parquet(src)
    elif isinstance(src, pa.Table):
        lf = pl.from_arrow(src).lazy()
    elif type(src).__name__ == "LazyFrame":
        lf = src
    else:
        lf = src.lazy()
    names = lf.collect_schema().names()
    if ROW not in names:
        lf = lf.with_row_index(ROW).with_columns(pl.col(ROW).cast(pl.Int64))
        names = [ROW, *names]
    return lf, names


def _threads(pl: Any, threads: int | None) -> None:
    """Polars runs on one thread pool per process, sized when Polars is first imported
    (``POLARS_MAX_THREADS``): a job cannot choose its own. A ``threads`` it cannot give is
    refused rather than ignored."""
    if threads is not None and threads != pl.thread_pool_size():
        raise EvaluationError(
            f"backend 'polars' cannot run on {threads} threads: Polars' thread pool has "
            f"{pl.thread_pool_size()} for the whole process, fixed when Polars is first "
            f"imported; set POLARS_MAX_THREADS={threads} in the environment before that, or "
            "leave threads unset")


def _status_text(pl: Any, rule_ids: Sequence[str], query: pl.LazyFrame) -> list[pl.Expr]:
    """The status code columns of ``query`` as the status text (a Polars enum over
    :data:`STATUS_VALUES`, so that Parquet stores them dictionary-encoded)."""
    names = set(query.collect_schema().names())
    enum = pl.Enum(list(STATUS_VALUES))
    return [pl.col(c).replace_strict(list(range(len(STATUS_VALUES))), list(STATUS_VALUES),
                                     return_dtype=enum)
            for c in (rid + STATUS_SUFFIX for rid in rule_ids) if c in names]


def _arrow(df: pl.DataFrame, rule_ids: Sequence[str]) -> pa.Table:
    """A collected frame as Arrow, status codes as the shared status dictionary."""
    tbl = df.to_arrow()
    for rid in rule_ids:
        name = rid + STATUS_SUFFIX
        i = tbl.schema.get_field_index(name)
        if i < 0:
            continue
        codes = tbl.column(i).cast(pa.int8())
        chunks = [pa.DictionaryArray.from_arrays(c, _STATUS_DICT) for c in codes.chunks]
        tbl = tbl.set_column(i, name, pa.chunked_array(chunks, pa.dictionary(pa.int8(),
                                                                            pa.string())))
    return tbl


def _nulls_first(v: Any) -> tuple[int, int]:
    return (0, 0) if v is None else (1, int(v))


def _text(ph: Placeholder, v: Any) -> str:
    """A placeholder's value as the Python backend writes it."""
    if ph.kind == "count":
        return str(v)
    if ph.kind == "dfield":  # dataset checks: identifiers masked, the rest as is
        if is_masked_field(ph.name, ph.entity):
            return mask_id(v)
        return "?" if v is None else str(v)
    if ph.kind == "field" and (ph.name in MASKED_FIELDS
                               or (ph.name == "id" and ph.entity == "household")):
        return mask_id(v)
    return "?" if v is None else mask_text(str(v))


def _finding(part: RuleFinding, row: dict[str, Any]) -> dict[str, Any]:
    texts: dict[str, str] = {}
    for ph in part.placeholders:
        if ph.name in texts:
            continue
        if ph.kind == "upper":
            texts[ph.name] = ph.value
        elif ph.column is not None:
            texts[ph.name] = _text(ph, row[ph.column])

    def sub(m: re.Match[str]) -> str:
        return texts.get(m.group(1), m.group(0))

    return {"check": part.check, "severity": row["severity"], "entity": part.entity,
            "record_id": row["record_id"], "member_id": row["member_id"],
            "message": _PLACEHOLDER.sub(sub, part.template)}


@contextlib.contextmanager
def bounded() -> Iterator[None]:
    """Polars' errors of arithmetic beyond 64 bits (a strict cast back from 128 bits) as the
    error every backend gives (:func:`~welfare_rules.backends.runtime.out_of_range`)."""
    import polars as pl

    from .runtime import OUT_OF_RANGE, out_of_range

    try:
        yield
    except EvaluationError:
        raise
    except pl.exceptions.PolarsError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if OUT_OF_RANGE in str(exc):
            raise out_of_range(str(exc).split(f"{OUT_OF_RANGE}: ", 1)[-1].split(" (")[0]
                               ) from None
        if "i128" in first or ("f64" in first and "i64" in first):
            raise out_of_range("an integer beyond 64 bits") from None
        raise EvaluationError(f"the polars backend failed: {first}") from None
