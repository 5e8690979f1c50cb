"""Storage behind one interface: the assets read and write tables only through `Warehouse`."""


from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import date

import dagster as dg
from pyspark.sql import DataFrame, SparkSession

from flowguard_assets.tables import Table


class WarehouseError(RuntimeError):
    """A table cannot be read or written; the message names the table and the path or host."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached; trying again later may work."""


class Warehouse(dg.ConfigurableResource):
    """Where FlowGuard's tables live: the local Parquet warehouse or Snowflake."""

    @abstractmethod
    def write(
        self,
        spark: SparkSession,
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
        spark: SparkSession,
        table: Table,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> DataFrame:
        """The rows of partitions `start`..`end` (inclusive); empty when none was written."""
