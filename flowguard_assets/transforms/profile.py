"""Bronze profiles and the checks beyond the gates (SPEC §4, Volume and New fields).

A profile is a small per-day summary of a Bronze table (its row count, and each top-level event
field with a count and an example); the checks compare a day with the profiles of the days before
it, so history never means rescanning older Bronze partitions.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from statistics import median

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

HISTORY_DAYS = 7  # the profiles a day is compared with
MIN_HISTORY = 3  # fewer than this, and the checks pass, saying so
EXAMPLE_LENGTH = 80


def to_profile(bronze: DataFrame, known: Sequence[str], rows: Mapping[date, int]) -> list[dict]:
    """The profile rows of `bronze` (PARTITION_DATE, RAW_EVENT), whose days hold `rows` rows:
    per day with rows, its ROW_COUNT and one row per top-level event field with EVENTS (how many
    events carry it) and, for a field the contract does not name (not in `known`), an EXAMPLE; a
    day without any event field has one row with FIELD null.

    One light pass counts every event's keys; only when a field outside `known` shows up, a
    second pass parses the events that carry one, for an example."""
    keys = F.array_distinct(F.json_object_keys("RAW_EVENT"))
    counted = (
        bronze.select("PARTITION_DATE", F.explode(keys).alias("FIELD"))
        .groupBy("PARTITION_DATE", "FIELD")
        .agg(F.count(F.lit(1)).alias("EVENTS"))
        .collect()
    )
    unknown = sorted({row["FIELD"] for row in counted} - set(known))
    examples = _examples(bronze, keys, unknown) if unknown else {}
    by_day: dict[date, list[dict]] = {day: [] for day, count in sorted(rows.items()) if count}
    for row in sorted(counted, key=lambda r: (r["PARTITION_DATE"], r["FIELD"])):
        day, field = row["PARTITION_DATE"], row["FIELD"]
        example = examples.get((day, field))
        by_day[day].append({"FIELD": field, "EVENTS": row["EVENTS"], "EXAMPLE": example})
    return [
        {"ROW_COUNT": rows[day], "PARTITION_DATE": day, **field}
        for day, fields in by_day.items()
        for field in fields or [{"FIELD": None, "EVENTS": None, "EXAMPLE": None}]
    ]


def _examples(bronze: DataFrame, keys: Column, fields: list[str]) -> dict[tuple[date, str], str]:
    """Per day and field of `fields`: its smallest value as JSON text (`null` for JSON null),
    at most EXAMPLE_LENGTH characters, from the events that carry one of them."""
    values = F.from_json("RAW_EVENT", T.MapType(T.StringType(), T.StringType()))
    wanted = F.lit(fields)
    found = (
        bronze.where(F.arrays_overlap(keys, wanted))
        .select("PARTITION_DATE", F.explode(F.map_filter(values, lambda k, _: F.array_contains(wanted, k))).alias("FIELD", "VALUE"))
        .groupBy("PARTITION_DATE", "FIELD")
        .agg(F.substring(F.min(F.coalesce("VALUE", F.lit("null"))), 1, EXAMPLE_LENGTH).alias("EXAMPLE"))
    )
    return {(r["PARTITION_DATE"], r["FIELD"]): r["EXAMPLE"] for r in found.collect()}


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
