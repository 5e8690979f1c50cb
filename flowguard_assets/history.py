"""Which days of DAILY_GMV_METRICS are stale: built before Silver orders of an earlier day changed
(NEW_USERS and growth read earlier days). The refresh sensor rebuilds them; `flowguard status`
shows them."""

from datetime import date, timedelta

import dagster as dg

from flowguard_assets.gates import blocked_days
from flowguard_assets.tables import DAILY_GMV_METRICS, ORDERS_CLEAN

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


def stale_history_days(instance: dg.DagsterInstance) -> tuple[list[str], int]:
    """Days of DAILY_GMV_METRICS materialized before Silver orders of an earlier day changed,
    and the newest Silver materialization (its storage id) that made them stale."""
    silver = instance.get_latest_storage_id_by_partition(ORDERS_CLEAN.asset_key, _MATERIALIZATION)
    gold = instance.get_latest_storage_id_by_partition(DAILY_GMV_METRICS.asset_key, _MATERIALIZATION)
    stale, newest_earlier = [], 0
    for day in sorted(silver.keys() | gold.keys()):
        if day in gold and newest_earlier > gold[day]:
            stale.append(day)
        newest_earlier = max(newest_earlier, silver.get(day, 0))
    return stale, newest_earlier


def refresh_ranges(instance: dg.DagsterInstance) -> tuple[list[tuple[str, str]], int]:
    """The stale days of DAILY_GMV_METRICS whose own gates pass, as ranges of consecutive days,
    and the Silver materialization that made them stale. A blocked day keeps its Gold."""
    stale, cause = stale_history_days(instance)
    blocked = blocked_days(instance, [date.fromisoformat(day) for day in stale])
    ranges: list[tuple[str, str]] = []
    for day in (d for d in stale if date.fromisoformat(d) not in blocked):
        follows = ranges and date.fromisoformat(ranges[-1][1]) + timedelta(days=1) == date.fromisoformat(day)
        ranges[-1:] = [(ranges[-1][0], day)] if follows else [*ranges[-1:], (day, day)]
    return ranges, cause
