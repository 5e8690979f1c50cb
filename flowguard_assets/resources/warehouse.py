"""Storage behind one interface: the assets read and write tables only through `Warehouse`."""


from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date

from pyspark.sql import DataFrame

from flowguard_assets.resources.spark import SparkBacked
from flowguard_assets.tables import Table


class Warehouse(SparkBacked):
    """Where FlowGuard's tables live: the local Parquet warehouse or Snowflake; tables are read
    into, and written from, the run's Spark session."""

    @abstractmethod
    def write(
        self,
        table: Table,
        df: DataFrame,
        partitions: Sequence[date],
        scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        """Replace exactly `partitions` of `table` with the rows of `df`.

        Each partition is replaced atomically: readers and a killed run see it whole, old or new.
        A partition of `partitions` without rows in `df` becomes empty. With `scope` (column ->
        values; every row of `df` has one of them in each column), only the rows those
        partitions hold under the same scope are replaced, and rows of other scopes stay.
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
        """`write` for a few rows made in Python (tuples in `table`'s column order)."""
        self.write(table, self.spark.spark_session.createDataFrame(rows, table.spark_schema), partitions, scope)
