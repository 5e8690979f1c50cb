"""Figures gathered while a DataFrame is written, in the same pass (`DataFrame.observe`)."""


from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

EXAMPLES = 5  # values kept per example list: the smallest, in sort order


class DailyCounts:
    """Per partition day, during the next action on `df`: the rows matching each of `conditions`,
    and for each of `examples` (name -> condition, value) the first `EXAMPLES` values of its rows."""

    def __init__(
        self,
        df: DataFrame,
        partition_column: str,
        days: Sequence[date],
        conditions: Mapping[str, Column],
        examples: Mapping[str, tuple[Column, Column]] | None = None,
    ):
        examples = examples or {}
        self._days = list(days)
        self._names = [*conditions, *examples]
        self._observation = Observation()
        day = F.col(partition_column)

        def on(d: date, condition: Column) -> Column:
            return (day == F.lit(d)) & F.coalesce(condition, F.lit(False))

        figures = []
        for d in self._days:
            figures += [F.count_if(on(d, c)).alias(f"{n}@{d}") for n, c in conditions.items()]
            figures += [
                F.slice(F.array_sort(F.collect_list(F.when(on(d, c), v))), 1, EXAMPLES).alias(f"{n}@{d}")
                for n, (c, v) in examples.items()
            ]
        self.df = df.observe(self._observation, *figures)

    def by_day(self) -> dict[date, dict[str, Any]]:
        """The figures (an int per condition, a list per example), once the action on `self.df` has run."""
        values = self._observation.get
        return {d: {name: values[f"{name}@{d}"] for name in self._names} for d in self._days}
