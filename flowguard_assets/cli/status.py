"""`flowguard status`: each table's days, materialized, stale, blocked or failing a check, from the
instance."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg

from flowguard_assets.history import stale_history_days
from flowguard_assets.gates import blocked_days
from flowguard_assets.tables import CLICKS_CLEAN, DAILY_GMV_METRICS, ORDERS_CLEAN

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION
SYMBOLS = {"ok": "✓", "failing": "✗", "blocked": "⊘", "stale": "~", "warning": "!", "missing": "·"}
WATCH_CHECKS = ("volume", "new_fields")  # WARN checks: they warn, never fail a day


@dataclass(frozen=True)
class PartitionStatus:
    asset: str
    day: date
    state: str  # ok, failing, blocked, stale, warning (a WARN check) or missing


def _latest_results(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dict[str, bool | None]:
    """Per partition, whether the newest evaluation of `key` passed (None: planned, not evaluated)."""
    latest: dict[str, bool | None] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=1000):
        if record.partition and record.partition not in latest:
            evaluation = record.event.dagster_event.event_specific_data if record.event else None
            latest[record.partition] = getattr(evaluation, "passed", None)
    return latest


def _failing_checks(
    instance: dg.DagsterInstance, check_keys: Sequence[dg.AssetCheckKey]
) -> set[tuple[str, str]]:
    """(asset, partition) pairs whose latest evaluation of some ERROR check failed."""
    return {
        (key.asset_key.to_user_string(), partition)
        for key in check_keys
        if key.name not in WATCH_CHECKS
        for partition, passed in _latest_results(instance, key).items()
        if passed is False
    }


def watch_statuses(
    instance: dg.DagsterInstance, defs: dg.Definitions, days: Sequence[date]
) -> list[PartitionStatus]:
    """The latest volume and new-fields result (WARN checks) of each Bronze table and day."""
    keys = sorted(
        (k for k in defs.resolve_asset_graph().asset_check_keys if k.name in WATCH_CHECKS),
        key=lambda k: (k.asset_key.path, k.name),
    )
    statuses = []
    for key in keys:
        latest = _latest_results(instance, key)
        name = f"{key.asset_key.to_user_string()}:{key.name}"
        for day in days:
            passed = latest.get(day.isoformat())
            statuses.append(PartitionStatus(name, day, {True: "ok", False: "warning"}.get(passed, "missing")))
    return statuses


def gold_blocked(instance: dg.DagsterInstance, days: Sequence[date]) -> dict[date, str]:
    """The days with Silver whose Gold is blocked by their gates, and why."""
    with_silver = set()
    for table in (ORDERS_CLEAN, CLICKS_CLEAN):
        with_silver |= instance.get_materialized_partitions(table.asset_key)
    return {day: why for day, why in blocked_days(instance, days).items() if day.isoformat() in with_silver}


def partition_statuses(
    instance: dg.DagsterInstance, defs: dg.Definitions, days: Sequence[date], blocked: dict[date, str]
) -> list[PartitionStatus]:
    """The state of every asset and day: a blocked Gold day wins over a failing check, a failing
    check over stale, stale over ok."""
    graph = defs.resolve_asset_graph()
    ids = {
        key: instance.get_latest_storage_id_by_partition(key, _MATERIALIZATION)
        for key in graph.materializable_asset_keys
    }
    failing = _failing_checks(instance, list(graph.asset_check_keys))
    history_stale, _ = stale_history_days(instance)
    statuses = []
    for key in sorted(ids, key=lambda k: ({"bronze": 0, "silver": 1, "gold": 2}[k.path[0]], k.path)):
        name = key.to_user_string()
        for day in days:
            partition = day.isoformat()
            own = ids[key].get(partition)
            upstream_newer = any(
                ids[parent].get(partition, 0) > (own or 0) for parent in graph.get(key).parent_keys
            )
            if key.path[0] == "gold" and day in blocked:
                state = "blocked"
            elif own is None:
                state = "missing"
            elif (name, partition) in failing:
                state = "failing"
            elif upstream_newer or (key == DAILY_GMV_METRICS.asset_key and partition in history_stale):
                state = "stale"
            else:
                state = "ok"
            statuses.append(PartitionStatus(name, day, state))
    return statuses


def render(statuses: list[PartitionStatus], days: Sequence[date], blocked: dict[date, str]) -> str:
    """A grid of assets by day, a legend, and why each blocked day is blocked."""
    width = max(len(s.asset) for s in statuses)
    header = " " * width + "  " + " ".join(day.strftime("%d") for day in days)
    months = " " * width + "  " + f"{days[0]:%Y-%m-%d} .. {days[-1]:%Y-%m-%d}"
    lines = [months, header]
    for asset in dict.fromkeys(s.asset for s in statuses):
        cells = [SYMBOLS[s.state].rjust(2) for s in statuses if s.asset == asset]
        lines.append(f"{asset:<{width}}  " + " ".join(cells))
    legend = "  ".join(f"{symbol} {state}" for state, symbol in SYMBOLS.items())
    reasons = [f"Gold blocked for {day.isoformat()}: {why}" for day, why in sorted(blocked.items())]
    return "\n".join([*lines, "", legend, *reasons])


def recent_days(instance: dg.DagsterInstance, defs: dg.Definitions, count: int = 14) -> list[date]:
    """The `count` days up to the latest materialized partition of any asset."""
    latest = [
        date.fromisoformat(p)
        for key in defs.resolve_asset_graph().materializable_asset_keys
        for p in instance.get_materialized_partitions(key)
    ]
    end = max(latest) if latest else date.today() - timedelta(days=1)
    return [end - timedelta(days=n) for n in range(count - 1, -1, -1)]
