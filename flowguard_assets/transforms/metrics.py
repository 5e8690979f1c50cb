"""Per-day figures of a table: gathered while a DataFrame is written, in the same pass
(`DailyCounts`, `DataFrame.observe`: cheap for a few counts), or by one aggregation of the
written rows (`daily_figures`: observed metrics are evaluated row by row outside Spark's
generated code, so many of them cost more than reading the written columns back)."""


from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from pyspark.sql import Column, DataFrame, Observation
from pyspark.sql import functions as F

EXAMPLES = 5  # values kept per example list: the smallest, in sort order


class DailyCounts:
    """Per partition day, during the next action on `df`: the rows matching each of `conditions`."""

    def __init__(self, df: DataFrame, partition_column: str, days: Sequence[date], conditions: Mapping[str, Column]):
        self._days = list(days)
        self._names = list(conditions)
        self._observation = Observation()
        day = F.col(partition_column)
        figures = {
            f"{n}@{d}": (day == F.lit(d)) & F.coalesce(c, F.lit(False)) for d in self._days for n, c in conditions.items()
        }
        self.df = df.observe(self._observation, *_figures(figures, {}))

    def by_day(self) -> dict[date, dict[str, Any]]:
        """The figures (an int per condition), once the action on `self.df` has run."""
        values = self._observation.get
        return {d: {name: values[f"{name}@{d}"] for name in self._names} for d in self._days}


def daily_figures(
    df: DataFrame,
    partition_column: str,
    days: Sequence[date],
    conditions: Mapping[str, Column],
    examples: Mapping[str, tuple[Column, Column]] | None = None,
) -> dict[date, dict[str, Any]]:
    """Per day of `days`, in one aggregation of `df` (a table's written rows): the rows matching
    each of `conditions`, and for each of `examples` (name -> condition, value) the first
    EXAMPLES values of its rows, in sort order; a day without rows has zeros and no examples."""
    examples = examples or {}
    conditions = {n: F.coalesce(c, F.lit(False)) for n, c in conditions.items()}
    found = df.groupBy(partition_column).agg(*_figures(conditions, examples)).collect()
    by_day = {row[partition_column]: row.asDict() for row in found}
    empty = {n: 0 for n in conditions} | {n: [] for n in examples}
    return {d: {n: by_day.get(d, empty)[n] for n in empty} for d in days}


def _figures(conditions: Mapping[str, Column], examples: Mapping[str, tuple[Column, Column]]) -> list[Column]:
    """The rows matching each condition, and the first EXAMPLES values of each example's rows."""
    return [F.count_if(c).alias(n) for n, c in conditions.items()] + [
        F.slice(F.array_sort(F.collect_list(F.when(c, v))), 1, EXAMPLES).alias(n) for n, (c, v) in examples.items()
    ]
