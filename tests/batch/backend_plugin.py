"""A plugin with a small backend written for the tests: what the differential suite runs
against unchanged, next to the built-in ones (``conftest.pytest_generate_tests``).

``duckdb-parquet`` writes its inputs to Parquet files, lets DuckDB scan them on one thread and
streams the results to a Parquet file, which it reads back: another path through the contract
(files instead of Arrow views, the streamed output, statuses read back as text).
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import attrs
import pyarrow.parquet as pq

from welfare_rules.backends.base import BackendBase, Inputs, Job, Outcome
from welfare_rules.backends.duckdb import DuckDBBackend
from welfare_rules.hookspecs import Register, hookimpl

PLUGIN_NAME = "test-backend-plugin"


class ParquetDuckDB(BackendBase):
    name = "duckdb-parquet"
    reads_parquet = True

    def run(self, job: Job) -> Outcome:
        tmp = Path(tempfile.mkdtemp(prefix="wr-test-backend-"))
        files = Inputs(job.inputs.entity, job.inputs.child)
        for entity in job.inputs.tables:
            tbl = job.inputs.arrow(entity)
            if tbl is not None:
                pq.write_table(tbl, tmp / f"{entity}.parquet")
                files.tables[entity] = tmp / f"{entity}.parquet"
        inner = DuckDBBackend().run(attrs.evolve(job, inputs=files, threads=1,
                                                 output=tmp / "results.parquet"))

        def cleanup() -> None:
            if inner.cleanup is not None:
                inner.cleanup()
            shutil.rmtree(tmp, ignore_errors=True)

        results = pq.read_table(tmp / "results.parquet")
        return attrs.evolve(inner, results=lambda: results, cleanup=cleanup, results_path=None)


@hookimpl
def register_backends(register: Register) -> None:
    register(ParquetDuckDB())
