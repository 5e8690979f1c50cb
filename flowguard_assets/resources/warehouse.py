"""Storage behind one interface: the assets read and write tables only through `Warehouse`.

A table's rows to write are a Spark DataFrame, or, for a small table (profiles, audit rows, the
Gold tables of a run), a pyarrow Table already on the driver: those are written as Parquet from
here, without a Spark job and its commit protocol for a few rows.
"""


from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from pyspark.sql import DataFrame
from pyspark.sql.pandas.types import to_arrow_schema

from flowguard_assets.resources.spark import SparkBacked
from flowguard_assets.tables import Table

Rows = DataFrame | pa.Table


def arrow_schema(table: Table, columns: Sequence[str] | None = None) -> pa.Schema:
    """`table`'s columns (or `columns` of them) as Arrow types, timestamps in UTC."""
    schema = to_arrow_schema(table.spark_schema, timezone="UTC")
    return schema if columns is None else pa.schema([schema.field(c) for c in columns])


def write_parquet(table: Table, rows: Rows, folder: Path, *, partitioned: bool, one_file: bool = False) -> None:
    """Write `rows` (the table's columns) under `folder` as Parquet: hive-partitioned by the
    table's partition column when `partitioned`, in one file (per partition) when `one_file`."""
    if isinstance(rows, pa.Table):
        arrow = rows.select(table.column_names).cast(arrow_schema(table))
        if arrow.num_rows == 0:
            return
        if partitioned:
            pq.write_to_dataset(arrow, folder, partition_cols=[table.partition_column], basename_template="part-{i}.parquet")
        else:
            folder.mkdir(parents=True)
            pq.write_table(arrow, folder / "part-0.parquet")
        return
    df = rows.select(table.column_names)
    writer = (df.coalesce(1) if one_file else df).write
    (writer.partitionBy(table.partition_column) if partitioned else writer).parquet(str(folder))


class Warehouse(SparkBacked):
    """Where FlowGuard's tables live: the local Parquet warehouse or Snowflake; tables are read
    into, and written from, the run's Spark session."""

    @abstractmethod
    def write(
        self,
        table: Table,
        rows: Rows,
        partitions: Sequence[date],
        scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Replace exactly `partitions` of `table` with `rows` (a DataFrame or a pyarrow Table).

        Each partition is replaced atomically: readers and a killed run see it whole, old or new.
        A partition of `partitions` without rows becomes empty. With `scope` (column -> values;
        every row has one of them in each column), only the rows those partitions hold under
        the same scope are replaced, and rows of other scopes stay.
        """

    @abstractmethod
    def read(
        self,
        table: Table,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> DataFrame:
        """The rows of partitions `start`..`end` (inclusive); empty when none was written."""

    def write_rows(
        self,
        table: Table,
        rows: Sequence[tuple],
        partitions: Sequence[date],
        scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """`write` for a few rows made in Python (tuples in `table`'s column order), without Spark."""
        arrow = pa.Table.from_pylist([dict(zip(table.column_names, row)) for row in rows], schema=arrow_schema(table))
        self.write(table, arrow, partitions, scope)
