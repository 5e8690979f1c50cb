"""Bronze profiles and the checks beyond the gates (SPEC §4, Volume and New fields).

A profile is a small per-day summary of a Bronze table (its row count, and each top-level event
field with a count and an example); the checks compare a day with the profiles of the days before
it, so history never means rescanning older Bronze partitions.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import median

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

HISTORY_DAYS = 7  # the profiles a day is compared with
MIN_HISTORY = 3  # fewer than this, and the checks pass, saying so
EXAMPLE_LENGTH = 80


def to_profile(bronze: DataFrame, known: Sequence[str]) -> DataFrame:
    """Per day of `bronze` (PARTITION_DATE, RAW_EVENT): ROW_COUNT, and one row per top-level
    event field with EVENTS (how many events carry it) and, for a field the contract does not name
    (not in `known`), an EXAMPLE; a day without any event field has one row with FIELD null.

    One aggregation of the events' keys: every event's keys are scanned, only the events that
    carry an unknown field are parsed for an example, and a day's rows are counted on the first
    key of each event (or its only row, when it has none)."""
    keys = F.array_distinct(F.json_object_keys("RAW_EVENT"))
    named = F.lit(list(known)) if known else F.array().cast("array<string>")
    is_unknown = lambda field: ~F.array_contains(named, field)  # noqa: E731
    fields = F.from_json("RAW_EVENT", T.MapType(T.StringType(), T.StringType()))
    unknown = F.when(F.exists(keys, is_unknown), F.map_filter(fields, lambda k, _: is_unknown(k)))
    exploded = bronze.select("PARTITION_DATE", unknown.alias("_UNKNOWN"), F.posexplode_outer(keys).alias("_POS", "FIELD"))
    example = F.when(is_unknown(F.col("FIELD")), F.coalesce(F.try_element_at("_UNKNOWN", F.col("FIELD")), F.lit("null")))
    per_field = exploded.groupBy("PARTITION_DATE", "FIELD").agg(
        F.count_if(F.coalesce(F.col("_POS") == 0, F.lit(True))).alias("_ROWS"),
        F.count(F.lit(1)).alias("_EVENTS"),
        F.substring(F.min(example), 1, EXAMPLE_LENGTH).alias("EXAMPLE"),
    )
    day = Window.partitionBy("PARTITION_DATE")
    return per_field.select(
        F.sum("_ROWS").over(day).alias("ROW_COUNT"),
        "FIELD",
        F.when(F.col("FIELD").isNotNull(), F.col("_EVENTS")).alias("EVENTS"),
        "EXAMPLE",
        "PARTITION_DATE",
        F.count("FIELD").over(day).alias("_FIELDS"),
    ).where(F.col("FIELD").isNotNull() | (F.col("_FIELDS") == 0)).drop("_FIELDS")


@dataclass(frozen=True)
class DayProfile:
    day: date
    rows: int
    fields: Mapping[str, tuple[int, str]]  # field -> (events, example)


def day_profiles(rows: Sequence[Mapping]) -> dict[date, DayProfile]:
    """Profile rows (as collected) grouped by day."""
    by_day: dict[date, dict] = {}
    for row in rows:
        day = by_day.setdefault(row["PARTITION_DATE"], {"rows": row["ROW_COUNT"], "fields": {}})
        if row["FIELD"] is not None:
            day["fields"][row["FIELD"]] = (row["EVENTS"], row["EXAMPLE"])
    return {d: DayProfile(d, p["rows"], p["fields"]) for d, p in sorted(by_day.items())}


def history(profiles: Mapping[date, DayProfile], day: date) -> list[DayProfile]:
    """The latest HISTORY_DAYS profiles before `day` that hold data."""
    earlier = [p for d, p in sorted(profiles.items()) if d < day and p.rows > 0]
    return earlier[-HISTORY_DAYS:]


@dataclass(frozen=True)
class VolumeResult:
    passed: bool
    rows: int
    median: float | None
    ratio: float | None
    compared: list[date]
    description: str


def volume(today: DayProfile, past: list[DayProfile], low: float, high: float) -> VolumeResult:
    """The day's rows against the median of `past`: fails outside `low`..`high` times it."""
    compared = [p.day for p in past]
    if len(past) < MIN_HISTORY:
        return VolumeResult(
            True, today.rows, None, None, compared,
            f"{today.rows} rows; {len(past)} earlier days with data, {MIN_HISTORY} needed to compare",
        )  # fmt: skip
    middle = float(median(p.rows for p in past))
    ratio = today.rows / middle
    passed = low <= ratio <= high
    return VolumeResult(
        passed, today.rows, middle, ratio, compared,
        f"{today.rows} rows, {ratio:.2f} times the median {middle:g} of the {len(past)} days before"
        f" (bounds {low:g}..{high:g})",
    )  # fmt: skip


@dataclass(frozen=True)
class NewFieldsResult:
    passed: bool
    new: dict[str, dict[str, object]]  # field -> {"events": n, "example": text}
    compared: list[date]
    description: str


def new_fields(today: DayProfile, past: list[DayProfile], known: Sequence[str]) -> NewFieldsResult:
    """Top-level event fields the contract does not name and no event of `past` carried. Unlike
    volume it needs no minimum history: a field is reported on the first day it appears."""
    compared = [p.day for p in past]
    seen = set(known).union(*(p.fields for p in past))
    new = {
        field: {"events": events, "example": example}
        for field, (events, example) in sorted(today.fields.items())
        if field not in seen
    }
    description = (
        "new fields: " + ", ".join(f"{f} ({v['events']} events)" for f, v in new.items())
        if new
        else f"no field the contract and the {len(past)} days before do not know"
    )
    return NewFieldsResult(not new, new, compared, description)
