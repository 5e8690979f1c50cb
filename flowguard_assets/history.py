"""Which days of DAILY_GMV_METRICS are stale: built before Silver orders of an earlier day changed
(NEW_USERS and growth read earlier days). The refresh sensor rebuilds them; `flowguard status`
shows them."""

from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from flowguard_assets.gates import blocked_days
from flowguard_assets.tables import DAILY_GMV_METRICS, ORDERS_CLEAN

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


@dataclass(frozen=True)
class StaleHistory:
    days: list[str]  # DAILY_GMV_METRICS days built before Silver orders of an earlier day changed
    changed: list[str]  # those earlier days
    cause: int  # the newest Silver orders materialization (its storage id)


def stale_history(instance: dg.DagsterInstance) -> StaleHistory:
    """The stale days of DAILY_GMV_METRICS and the earlier days whose Silver orders made them so."""
    silver = instance.get_latest_storage_id_by_partition(ORDERS_CLEAN.asset_key, _MATERIALIZATION)
    gold = instance.get_latest_storage_id_by_partition(DAILY_GMV_METRICS.asset_key, _MATERIALIZATION)
    stale, changed, earlier = [], set(), {}
    for day in sorted(silver.keys() | gold.keys()):
        after = {d for d, storage_id in earlier.items() if day in gold and storage_id > gold[day]}
        if after:
            stale.append(day)
            changed |= after
        if day in silver:
            earlier[day] = silver[day]
    return StaleHistory(stale, sorted(changed), max(earlier.values(), default=0))


def refresh_ranges(instance: dg.DagsterInstance) -> tuple[list[tuple[str, str]], StaleHistory]:
    """The stale days of DAILY_GMV_METRICS whose own gates pass, as ranges of consecutive days,
    and what made them stale. A blocked day keeps its Gold."""
    history = stale_history(instance)
    blocked = blocked_days(instance, [date.fromisoformat(day) for day in history.days])
    ranges: list[tuple[str, str]] = []
    for day in (d for d in history.days if date.fromisoformat(d) not in blocked):
        follows = ranges and date.fromisoformat(ranges[-1][1]) + timedelta(days=1) == date.fromisoformat(day)
        ranges[-1:] = [(ranges[-1][0], day)] if follows else [*ranges[-1:], (day, day)]
    return ranges, history
