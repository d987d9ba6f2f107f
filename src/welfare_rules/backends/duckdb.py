"""The DuckDB batch backend: the SQL compiler's DuckDB dialect and an in-process runner.

DuckDB is the default batch backend: embedded, columnar, and able to spill to a temporary
directory under a memory limit, so a city (or a province) fits on a laptop. Sources are
registered as views (Arrow tables, DataFrames, relations) or scanned straight from Parquet.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
from sqlglot import exp

from ..adapters.result import empty_table
from ..errors import EvaluationError
from ..sqlbuild import bind, query, run
from .base import (
    FINDINGS_SCHEMA,
    ROW,
    STATUS_VALUES,
    BackendBase,
    Job,
    Outcome,
    conform,
    result_fields,
)
from .runtime import OUT_OF_RANGE, out_of_range
from .sql import EntityQuery, SqlCompiler, greatest
from .sqlrun import (
    carry_select,
    compile_query,
    findings_as_shown,
    findings_query,
    key_of,
    key_range_select,
    with_row,
)

__all__ = ["MEMBERS_PER_GIB", "STATUSES", "DuckDBBackend", "DuckDBCompiler", "fetch_arrow"]

#: child records (persons) evaluated in one part per GiB of the memory limit. Beyond it the
#: member windows (ranks), the aggregation and the join exceed the limit and spill, and the
#: cost grows faster than the input (docs/performance.md: 3.6x from 1 M to 3 M households,
#: 20x to 10 M, at 1 GB); so larger inputs are evaluated in parts, by ranges of the record key.
MEMBERS_PER_GIB = 4_000_000

#: the household keys sampled to choose the ranges of the parts
SAMPLE_ROWS = 20_000  # written into in_parts' sampling template
_PARTS = "welfare_rules_parts"  # the temporary table the parts are written to

#: every value a status column takes (the ENUM's values: the dictionary of the Arrow status
#: columns, so they convert without a lookup)
STATUSES = STATUS_VALUES


class DuckDBCompiler(SqlCompiler):
    """DuckDB spelling of the constructs that differ between dialects."""

    dialect = "duckdb"

    #: DuckDB's executor skips a null-propagating function's later operands for a vector
    #: (2,048 rows) in which an earlier one is NULL on every row: ``(x + len(name)) + (x + y)``
    #: was unknown for a chunk without names, where Python raises the overflow of ``x + y``
    #: (found by tests/core/test_generated_rules.py)
    skips_after_null = True

    def finite(self, value: exp.Expression, decimal: bool) -> exp.Expression:
        # DuckDB's DOUBLE arithmetic overflows to inf silently (BIGINT raises); error() turns
        # it into the message bounded_arithmetic() maps to the shared EvaluationError.
        if not decimal:
            return value
        v = exp.Paren(this=value)
        # not finite: inf, or NaN (inf - inf, inf * 0 in a chain checked at its top)
        bad = exp.Not(this=exp.func("isfinite", v))
        return exp.Case(ifs=[exp.If(this=bad, true=exp.func(
            "error", exp.Literal.string(f"{OUT_OF_RANGE}: a decimal beyond the 64-bit range")))],
            default=v)

    def sql(self, e: exp.Expression) -> str:
        # DuckDB's Python client tokenizes every query's text in Python to find its parameter
        # markers, and maps the tokens' byte offsets back to characters one character at a
        # time when the text is not ASCII: 0.2 s a query for the kinds pack, whose texts held
        # an ellipsis (an error message) and str.strip()'s whitespace (to_int). The text is
        # kept ASCII: such a string is written as ASCII pieces and CHR() of the others, which
        # DuckDB folds to the same constant.
        return super().sql(_ascii_strings(e))

    def evaluates_sql(self, values: Sequence[exp.Expression]) -> exp.Expression:
        # DuckDB folds ``v IS NULL`` to false where a Parquet file's statistics say a column
        # has no NULL (``y * y IS NULL`` then never computed ``y * y``); the hash of the values
        # reads each one, and a UBIGINT is never below 0
        return exp.LT(this=exp.Anonymous(this="hash", expressions=list(values)),
                      expression=exp.Literal.number(0))

    def opaque(self, value: exp.Expression) -> exp.Expression:
        # greatest() of one value is the value, and the comparison of a function call is not
        # one DuckDB's optimizer rewrites (its move-constants rule would turn y * C > 0 into
        # y > 0, losing the overflow; tests/core/test_operands_evaluated.py)
        return greatest(value)

    def status_column(self, status: exp.Expression) -> exp.Expression:
        # An ENUM is one byte a row where text is sixteen: about a hundred status columns sort,
        # hash and write to Parquet several times faster (they read back from Parquet as text;
        # fetched as Arrow they are dictionaries over STATUS_VALUES, the results' own type).
        # The branches of the CASE are cast, not its result: constants, folded once, instead
        # of a lookup per row.
        def enum(e: exp.Expression) -> exp.Expression:
            return exp.Cast(this=e, to=exp.DataType(
                this=exp.DataType.Type.ENUM,
                expressions=[exp.Literal.string(v) for v in STATUSES]))

        if not isinstance(status, exp.Case):
            return enum(status)
        for branch in status.args.get("ifs") or ():
            branch.set("true", enum(branch.args["true"]))
        default = status.args.get("default")
        status.set("default", enum(default if default is not None else exp.Null()))
        return status

    def add_months_sql(self, d: exp.Expression, months: exp.Expression) -> exp.Expression:
        # DuckDB clamps to the month's end, as the Python backend does; date + interval is a
        # timestamp, hence the cast back
        return exp.cast(exp.Add(this=d, expression=exp.Interval(
            this=exp.Paren(this=months), unit=exp.var("MONTH"))), "DATE")

    def first_sql(self, lst: exp.Expression) -> exp.Expression:
        return exp.Anonymous(this="list_extract", expressions=[lst, exp.Literal.number(1)])

    def fn_days_between(self, a: list[exp.Expression], node: object, ctx: object
                        ) -> exp.Expression:
        return exp.Sub(this=exp.cast(a[1], "DATE"), expression=exp.cast(a[0], "DATE"))


def _ascii_strings(tree: exp.Expression) -> exp.Expression:
    """``tree`` with every string constant that is not ASCII written as ASCII text and
    ``CHR(code)`` joined by ``||`` (in place, as :func:`~.sql.parenthesize`: the result has no
    such constant left, so doing it again changes nothing)."""
    for lit in list(tree.find_all(exp.Literal)):
        text = lit.this
        if not lit.is_string or text.isascii():
            continue
        pieces: list[exp.Expression] = [
            exp.Literal.string(run) if run.isascii()
            else exp.Chr(expressions=[exp.Literal.number(ord(run))])
            for run in re.findall(r"[\x00-\x7f]+|[^\x00-\x7f]", text)]
        joined = pieces[0]
        for piece in pieces[1:]:
            joined = exp.DPipe(this=joined, expression=piece, safe=True)
        replaced = lit.replace(exp.Paren(this=joined) if len(pieces) > 1 else joined)
        if lit is tree:
            tree = replaced
    return tree


def register_input(con: Any, name: str, src: Any) -> dict[str, str]:
    """Register an input table as ``name`` on a DuckDB connection, with its input order in
    ``__row``: a Parquet path as a view over the file (its row numbers), an Arrow table as is
    (row numbers added). Returns the columns and their DuckDB types (``VARCHAR``, ...)."""
    import duckdb

    if isinstance(src, Path):
        r = con.read_parquet(str(src), file_row_number=True)
        cols = [c for c in r.columns if c != "file_row_number"]
        if ROW not in r.columns:
            r = r.select(*[duckdb.ColumnExpression(c) for c in cols],
                         duckdb.ColumnExpression("file_row_number").alias(ROW))
        r.create_view(name)
    else:
        con.register(name, with_row(src))
        r = con.table(name)
    return {c: str(ty) for c, ty in zip(r.columns, r.types, strict=True)}


class DuckDBBackend(BackendBase):
    """The default batch backend: DuckDB in process, one query per output.

    The inputs are registered as views (Arrow tables) or scanned straight from Parquet; DuckDB
    runs under ``Job.memory_limit`` and spills to ``Job.temp_directory`` beyond it, so inputs
    larger than memory are evaluated too. With ``Job.output`` the results stream to a Parquet
    file.
    """

    name = "duckdb"
    reads_parquet = True

    def run(self, job: Job) -> Outcome:
        tmp = Path(tempfile.mkdtemp(prefix="welfare-rules-"))
        held: list[Any] = []
        try:
            return self._run(job, tmp, held)
        except BaseException:  # the Outcome's cleanup releases them otherwise
            for con in held:
                con.close()
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _run(self, job: Job, tmp: Path, held: list[Any]) -> Outcome:
        import duckdb

        plan, entity, inputs = job.plan, job.entity, job.inputs
        config: dict[str, Any] = {"memory_limit": job.memory_limit,
                                  "temp_directory": str(job.temp_directory or tmp / "spill"),
                                  "preserve_insertion_order": False}
        if job.threads:
            config["threads"] = job.threads
        con = duckdb.connect(config=config)
        held.append(con)
        ent = plan.schema.entity(entity)
        rel = next(iter(ent.relations.values()), None)

        columns = register_input(con, "src_entity", inputs.tables[entity])
        mcols = None
        if rel is not None and rel.entity in inputs.tables:
            mcols = register_input(con, "src_members", inputs.tables[rel.entity])
        # The SQL text is kept on the plan for the next batch of the same input shape
        # (Plan.cached): text only, so no two batches share an expression tree (rendering
        # adds parentheses in place, and a compiler holds the rule it is compiling). The
        # trees are this batch's own, compiled when a text is not kept yet.
        shape = (DuckDBCompiler, job.lang, entity, tuple(columns.items()),
                 None if mcols is None else tuple(mcols.items()))
        comp = DuckDBCompiler(plan, lang=job.lang)
        outputs = None if job.outputs is None else tuple(job.outputs)
        trees: dict[tuple[str, ...] | None, EntityQuery] = {}

        def query(wanted: tuple[str, ...] | None) -> EntityQuery:
            if wanted not in trees:
                trees[wanted] = compile_query(comp, entity, columns, mcols,
                                              None if wanted is None else list(wanted))
            return trees[wanted]

        def full() -> EntityQuery:
            # the member results and findings come from every rule: compiled when asked for,
            # if the results were a selection
            return query(None)

        def results_text() -> tuple[str, tuple[str, ...], tuple[str, ...]]:
            q = query(outputs)
            return (comp.sql(q.with_ctes(carry_select(q, job.carry))), tuple(q.rule_ids),
                    tuple(q.error_rules))
        res_sql, rule_ids, error_rules = plan.cached(
            (*shape, "results", outputs, tuple(job.carry)), results_text)
        results_path: Path | None = None
        cached: pa.Table | None = None
        # The results query joins the records to their members' aggregates with the aggregates
        # (one narrow row per record) on the build side. DuckDB estimates a GROUP BY's output
        # as large as its input (all the members), so it would swap the sides and hold the
        # whole (wide) entity table in memory through the members' window sorts, which then
        # spill (docs/performance.md has the figures): keep the sides as written, for this
        # query only.
        con.execute(_RESULTS_OPTIMIZERS_OFF)
        try:
            with bounded_arithmetic():
                parts = 1 if rel is None or mcols is None else \
                    parts_for(con, inputs.tables[rel.entity])
                sqls = [res_sql]
                split: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
                if parts > 1:
                    q = query(outputs)
                    cuts = row_group_cuts(inputs.tables[entity], q, ent.key, parts)
                    if cuts is None:
                        sqls = [in_parts(con, comp, q, carry_select(q, job.carry), ent.key,
                                         parts)]
                    else:  # parts in input order, one after the other: no final sort
                        sqls = ordered_parts(comp, q, carry_select(q, job.carry), ent.key,
                                             cuts)
                        split = _unsplit_windows(con)
                with split:
                    if job.output is not None:
                        results_path = Path(job.output)
                        write_results(con, sqls, results_path, result_fields(
                            plan, entity, list(rule_ids), ent.key, job.carry))
                    else:
                        tables = [fetch_arrow(con.sql(sql)) for sql in sqls]
                        cached = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        finally:
            con.execute("RESET disabled_optimizers")

        def results() -> pa.Table:
            if cached is not None:
                return cached
            import pyarrow.parquet as pq

            assert results_path is not None
            return pq.read_table(results_path)

        def members_text() -> str | None:
            fq = full()
            return None if fq.members is None else comp.sql(fq.with_ctes(fq.members))

        def members() -> pa.Table | None:
            members_sql = plan.cached((*shape, "members"), members_text)
            if members_sql is None:
                return None
            with bounded_arithmetic():
                return fetch_arrow(con.sql(members_sql))

        def findings_text() -> str | None:
            ds = comp.dataset_findings(job.checks, entity, mcols is not None) if job.checks \
                else None
            f = findings_query(comp, full(), ds)
            return None if f is None else comp.sql(f)

        def findings() -> pa.Table:
            # the dataset checks are part of the key, written out whole as given
            checks = json.dumps(job.checks, default=repr)
            f = plan.cached((*shape, "findings", checks), findings_text)
            if f is None:
                return empty_table(FINDINGS_SCHEMA)
            with bounded_arithmetic():
                return findings_as_shown(fetch_arrow(con.sql(f)))

        def cleanup() -> None:
            con.close()
            shutil.rmtree(tmp, ignore_errors=True)

        return Outcome(results=results, members=members, findings=findings,
                       rule_ids=list(rule_ids), error_rules=list(error_rules), cleanup=cleanup,
                       results_path=results_path)


def parts_for(con: Any, members: Any) -> int:
    """How many parts the results of an input with these child records (a Parquet path or an
    Arrow table) are computed in under the connection's memory limit (see
    :data:`MEMBERS_PER_GIB`); 1 when it fits, or when the row count is not known."""
    if isinstance(members, Path):
        import pyarrow.parquet as pq

        rows = int(pq.read_metadata(members).num_rows)
    elif isinstance(members, pa.Table):
        rows = members.num_rows
    else:
        return 1
    limit = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    m = re.fullmatch(r"([0-9.]+)\s*([KMGTP]i?B|bytes)", str(limit).strip())
    if m is None:
        return 1
    units = {"bytes": 0, "KiB": 1, "KB": 1, "MiB": 2, "MB": 2, "GiB": 3, "GB": 3, "TiB": 4,
             "TB": 4, "PiB": 5, "PB": 5}
    gib = float(m.group(1)) * 1024.0 ** units[m.group(2)] / 1024.0 ** 3
    return max(1, math.ceil(rows / (MEMBERS_PER_GIB * max(gib, 1 / 64))))


def row_group_cuts(src: Any, q: EntityQuery, key: str, parts: int) -> list[Any] | None:
    """The keys that cut a Parquet file of records into about ``parts`` runs of whole row
    groups with about equal rows (each run's smallest key, from the second run on), read
    from the file's row-group statistics; ``None`` when these do not prove the cut.

    The cut is proven when every row group's key has a minimum and maximum (integers or
    text, compared as the query compares them: ``h0`` reads the key column as it is) and no
    missing key, and each row group's keys are all above the previous one's. Then the
    records with a key in ``[cut i, cut i+1)`` are exactly the rows of one run, and the
    results of the parts, each sorted by its rows, follow each other in input order: the
    parts are written one after the other, with no sort of the whole result and no table
    to hold it. Anything else (an Arrow table, a file with its own ``__row``, fewer row
    groups than parts, runs more than half again as large as the average) gives ``None``,
    and :func:`in_parts` sorts the parts' results back into input order."""
    if not isinstance(src, Path) or parts < 2:
        return None
    rec, _ = key_of(q, key)
    if not isinstance(rec, exp.Column) or rec.name != key or rec.table:
        return None
    import pyarrow.parquet as pq

    md = pq.read_metadata(src)
    names = [md.schema.column(i).path for i in range(md.num_columns)]
    if key not in names or ROW in names:
        return None
    at = names.index(key)
    groups: list[tuple[Any, int]] = []  # (smallest key, rows) of each row group with rows
    last: Any = None
    for g in range(md.num_row_groups):
        rg = md.row_group(g)
        if rg.num_rows == 0:
            continue
        st = rg.column(at).statistics
        if st is None or not st.has_min_max or not st.has_null_count or st.null_count:
            return None
        lo, hi = st.min, st.max
        if type(lo) not in (int, str) or type(hi) is not type(lo) or \
                (last is not None and not (type(last) is type(lo) and last < lo)):
            return None
        groups.append((lo, rg.num_rows))
        last = hi
    if len(groups) < parts:
        return None
    total = sum(n for _, n in groups)
    starts = list(itertools.accumulate(n for _, n in groups[:-1]))  # row where group g+1 starts
    ends: list[int] = []  # the group index each run after the first starts at
    for k in range(1, parts):
        at_g = 1 + min(range(len(starts)), key=lambda g: abs(starts[g] - k * total / parts))
        if not ends or at_g > ends[-1]:
            ends.append(at_g)
    sizes = [sum(n for _, n in groups[a:b]) for a, b in itertools.pairwise([0, *ends,
                                                                             len(groups)])]
    if max(sizes) > 1.5 * total / parts:
        return None
    return [groups[g][0] for g in ends]


def ordered_parts(comp: SqlCompiler, q: EntityQuery, result: Any, key: str,
                  cuts: list[Any]) -> list[str]:
    """The queries of the parts cut at ``cuts`` (see :func:`row_group_cuts`), each sorted
    in input order: together, in this order, the rows of ``result``."""
    bounds = [None, *[comp.literal(v) for v in cuts], None]
    return [comp.sql(key_range_select(q, result, key, lo, hi, ordered=True))
            for lo, hi in itertools.pairwise(bounds)]


def write_results(con: Any, sqls: list[str], path: Path,
                  fields: list[tuple[str, pa.DataType | None]]) -> None:
    """The rows of the queries ``sqls``, one after the other, streamed into one Parquet
    file at ``path`` in the shared result types (``fields``: the statuses dictionary-encoded
    as :func:`~welfare_rules.backends.base.conform` gives them, so the file needs no second
    pass), a batch of rows at a time: memory holds one batch, not the results."""
    import pyarrow.parquet as pq

    writer: pq.ParquetWriter | None = None
    try:
        for sql in sqls:
            reader = arrow_reader(con.sql(sql))
            if writer is None:
                writer = pq.ParquetWriter(path, conform(reader.schema.empty_table(),
                                                        fields).schema)
            for batch in reader:
                writer.write_table(conform(pa.Table.from_batches([batch]), fields))
    finally:
        if writer is not None:
            writer.close()


def in_parts(con: Any, comp: SqlCompiler, q: EntityQuery, result: Any, key: str,
             parts: int) -> str:
    """Compute ``result`` (the records with their children) part by part, each part the
    records whose key falls in one range (chosen from a sample of the keys, so the parts are
    of about equal size; a Parquet file stored in key order is read range by range), into a
    temporary table; returns the query that reads it back in input order.

    Every part's windows, aggregation and join then fit the memory limit, and the cost stays
    linear in the input instead of spilling (docs/performance.md). Falls back to one part
    (the query as compiled) when the keys cannot be split (fewer distinct keys than parts,
    a key type without a literal)."""
    rec, _ = key_of(q, key)
    fractions = [i / parts for i in range(1, parts)]
    # a constant template (the sample is SAMPLE_ROWS keys); the fractions are bound
    sample = query("SELECT quantile_disc(k, __fractions) FROM (SELECT __key AS k FROM "
                   "src_entity USING SAMPLE reservoir(20000 ROWS) REPEATABLE (1)) "
                   "WHERE k IS NOT NULL", fractions=bind(fractions), key=rec)
    row = run(con, sample).fetchall()[0]
    full = comp.sql(q.with_ctes(result))
    if row is None or row[0] is None:
        return full
    cuts: list[Any] = []
    for v in row[0]:
        if v is not None and (not cuts or v > cuts[-1]):
            cuts.append(v)
    if not cuts:
        return full
    try:
        bounds = [None, *[comp.literal(v) for v in cuts], None]
    except EvaluationError:
        return full
    table = exp.to_table(_PARTS, quoted=True)
    with _unsplit_windows(con):
        for i, (lo, hi) in enumerate(itertools.pairwise(bounds)):
            part = key_range_select(q, result, key, lo, hi)
            into: exp.Expression = exp.Create(
                this=table.copy(), kind="TABLE", expression=part,
                properties=exp.Properties(expressions=[exp.TemporaryProperty()])) if i == 0 \
                else exp.Insert(this=table.copy(), expression=part)
            con.execute(comp.sql(into))
    return comp.sql(exp.select(exp.Star(except_=[exp.column(ROW, quoted=True)])).from_(
        table.copy()).order_by(exp.column(ROW, quoted=True)))


#: the optimizers the results query runs without (see DuckDBBackend._run), and, for the parts
#: of a result computed in parts, also without DuckDB's own splitting of a large window into
#: key ranges (``partitioned_execution`` of recent DuckDB releases: a UNION of one window per
#: range, each over the whole input filtered to its range). A part is already one key range
#: sized to fit the memory limit, and the split, chosen from the whole file's statistics,
#: scanned the members once per range for one range with data: about 0.75 s of 7.5 s CPU
#: for a part of 1 M households (docs/performance.md). Constant texts: no value in them.
_RESULTS_OPTIMIZERS_OFF = "SET disabled_optimizers = 'build_side_probe_side'"
_PARTS_OPTIMIZERS_OFF = \
    "SET disabled_optimizers = 'build_side_probe_side,partitioned_execution'"


@contextlib.contextmanager
def _unsplit_windows(con: Any) -> Iterator[None]:
    """The parts' optimizer settings (see :data:`_PARTS_OPTIMIZERS_OFF`) while in the block,
    where this DuckDB has the window splitting; the results query's ones afterwards."""
    known = {r[0] for r in con.execute("SELECT name FROM duckdb_optimizers()").fetchall()}
    if "partitioned_execution" not in known:
        yield
        return
    con.execute(_PARTS_OPTIMIZERS_OFF)
    try:
        yield
    finally:
        con.execute(_RESULTS_OPTIMIZERS_OFF)


@contextlib.contextmanager
def bounded_arithmetic() -> Iterator[None]:
    """DuckDB's overflow of a BIGINT or DOUBLE as the error every backend gives
    (:func:`~welfare_rules.backends.runtime.out_of_range`)."""
    import duckdb

    try:
        yield
    except duckdb.OutOfRangeException as exc:
        detail = str(exc).splitlines()[0].removeprefix("Out of Range Error: ")
        raise out_of_range(detail) from None
    except duckdb.ConversionException as exc:  # a 128-bit constant cast back to 64 bits
        first = str(exc).splitlines()[0]
        if "out of range" not in first:
            raise
        raise out_of_range(first.removeprefix("Conversion Error: ")) from None
    except duckdb.InvalidInputException as exc:  # DuckDBCompiler.finite's error()
        first = str(exc).splitlines()[0]
        if OUT_OF_RANGE not in first:
            raise
        raise out_of_range(first.split(f"{OUT_OF_RANGE}: ", 1)[-1]) from None


#: rows per Arrow batch of a result streamed into a Parquet file (a row group each; DuckDB's
#: own row-group size): one batch of every rule's columns (about 150) stays near 100 MB
BATCH_ROWS = 122_880


def arrow_reader(rel: Any) -> pa.RecordBatchReader:
    """A DuckDB relation's rows as a stream of Arrow batches of :data:`BATCH_ROWS` rows
    (whichever method this DuckDB has)."""
    name = "to_arrow_reader" if hasattr(rel, "to_arrow_reader") else "fetch_record_batch"
    reader: pa.RecordBatchReader = getattr(rel, name)(BATCH_ROWS)
    return reader


def fetch_arrow(rel: Any) -> pa.Table:
    """A DuckDB relation's rows as an Arrow table (whichever method this DuckDB has)."""
    for name in ("to_arrow_table", "fetch_arrow_table"):
        if hasattr(rel, name):
            result: pa.Table = getattr(rel, name)()
            return result
    out = rel.arrow()
    return out.read_all() if hasattr(out, "read_all") else out
