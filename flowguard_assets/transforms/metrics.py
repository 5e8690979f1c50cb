"""Counts gathered while a DataFrame is written, in the same pass (`DataFrame.observe`)."""


from collections.abc import Mapping, Sequence
from datetime import date

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F


class DailyCounts:
    """Counts rows matching each condition, per partition day, during the next action on `df`."""

    def __init__(
        self,
        df: DataFrame,
        partition_column: str,
        days: Sequence[date],
        conditions: Mapping[str, Column],
    ):
        self._days = list(days)
        self._names = list(conditions)
        self._observation = Observation()
        day = F.col(partition_column)
        self.df = df.observe(
            self._observation,
            *[
                F.count_if((day == F.lit(d)) & F.coalesce(condition, F.lit(False))).alias(
                    f"{name}@{d.isoformat()}"
                )
                for d in self._days
                for name, condition in conditions.items()
            ],
        )

    def by_day(self) -> dict[date, dict[str, int]]:
        """The counts, once the action on `self.df` has run."""
        values = self._observation.get
        return {
            d: {name: int(values[f"{name}@{d.isoformat()}"]) for name in self._names}
            for d in self._days
        }
