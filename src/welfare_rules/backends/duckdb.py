"""The DuckDB batch backend: the SQL compiler's DuckDB dialect and an in-process runner.

DuckDB is the default batch backend: embedded, columnar, and able to spill to a temporary
directory under a memory limit, so a city (or a province) fits on a laptop. Sources are
registered as views (Arrow tables, DataFrames, relations) or scanned straight from Parquet.
"""

from __future__ import annotations

from sqlglot import exp

from .sql import SqlCompiler

#: every value a status column takes
STATUSES = ("true", "false", "unknown", "value", "error")


class DuckDBCompiler(SqlCompiler):
    """DuckDB spelling of the constructs that differ between dialects."""

    dialect = "duckdb"

    def status_column(self, status: exp.Expression) -> exp.Expression:
        # An ENUM is one byte a row where text is sixteen: about a hundred status columns sort,
        # hash and write to Parquet several times faster (they read back from Parquet as text,
        # and the runner decodes them to text when it fetches Arrow). The branches of the CASE
        # are cast, not its result: constants, folded once, instead of a lookup per row.
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
