"""The daily partitions every FlowGuard table shares (SPEC §5)."""

from collections.abc import Mapping
from datetime import date, timedelta

import warnings

import dagster as dg

from flowguard_assets.config import start_date

# Single-run backfill policies and partitioned checks are the documented way to run ranges in
# one Spark job; Dagster still labels them beta or preview.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

daily_partitions = dg.DailyPartitionsDefinition(start_date=start_date().isoformat(), timezone="UTC")


def partition_days(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> list[date]:
    """The days of the run's partition range, in order."""
    window = context.partition_time_window
    first, end = window.start.date(), window.end.date()
    return [first + timedelta(days=n) for n in range((end - first).days)]


RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_days(tags: Mapping[str, str]) -> list[date]:
    """The days a run is for, from its partition or partition-range tags (in order)."""
    if "dagster/partition" in tags:
        return [date.fromisoformat(tags["dagster/partition"])]
    if RANGE_START_TAG not in tags:
        return []
    first, last = date.fromisoformat(tags[RANGE_START_TAG]), date.fromisoformat(tags[RANGE_END_TAG])
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
