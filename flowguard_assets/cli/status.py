"""`flowguard status`: each table's days, materialized, stale, blocked or failed (a check, or the day's
last run before it wrote the day), with the reasons under the grid. It reads only the Dagster
instance and `layout`, never the definitions or Spark, so it answers in about two seconds."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from flowguard_assets.failures import step_failure_reason
from flowguard_assets.gates import blocked_days
from flowguard_assets.history import stale_history
from flowguard_assets.layout import ASSET_TABLES, WATCH_CHECKS, check_keys, parents
from flowguard_assets.tables import CLICKS_CLEAN, DAILY_GMV_METRICS, ORDERS_CLEAN

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION
SYMBOLS = {"ok": "✓", "failing": "✗", "failed": "✗", "blocked": "⊘", "stale": "~", "warning": "!", "missing": "·"}
LEGEND = (
    "✓ ok  ✗ failed: a check, or the day's last run before writing it  ⊘ Gold blocked by its Silver gates\n"
    "~ stale: built before what it reads changed  ! warning: a WARN check, never fails a day  · missing"
)


@dataclass(frozen=True)
class PartitionStatus:
    asset: str
    day: date
    state: str  # a key of SYMBOLS
    reason: str = ""  # why it is failed or stale


def _latest_results(instance: dg.DagsterInstance, key: dg.AssetCheckKey) -> dict[str, bool | None]:
    """Per partition, whether the newest evaluation of `key` passed (None: planned, not evaluated)."""
    latest: dict[str, bool | None] = {}
    for record in instance.event_log_storage.get_asset_check_execution_history(key, limit=1000):
        if record.partition and record.partition not in latest:
            evaluation = record.event.dagster_event.event_specific_data if record.event else None
            latest[record.partition] = getattr(evaluation, "passed", None)
    return latest


def _failing_checks(instance: dg.DagsterInstance) -> set[tuple[str, str]]:
    """(asset, partition) pairs whose latest evaluation of some ERROR check failed."""
    return {
        (key.asset_key.to_user_string(), partition)
        for key in check_keys()
        if key.name not in WATCH_CHECKS
        for partition, passed in _latest_results(instance, key).items()
        if passed is False
    }


def _failed_runs(instance: dg.DagsterInstance, days: Sequence[date]) -> dict[tuple[str, str], str]:
    """(asset, partition) pairs whose latest materialization attempt is in a run that failed
    before writing them (what the UI shows as a failed partition), each with the run's reason."""
    shown = {day.isoformat() for day in days}
    attempts = {
        (table.asset_key.to_user_string(), partition): run_id
        for table in ASSET_TABLES
        for partition, (run_id, _) in instance.event_log_storage.get_latest_asset_partition_materialization_attempts_without_materializations(
            table.asset_key
        ).items()
        if partition in shown
    }  # fmt: skip
    run_ids = sorted(set(attempts.values()))
    runs = instance.get_runs(dg.RunsFilter(run_ids=run_ids)) if run_ids else []
    failed = [r.run_id for r in runs if r.status == dg.DagsterRunStatus.FAILURE]
    reasons = {run_id: f"run {run_id[:8]} failed: {_run_reason(instance, run_id)}" for run_id in failed}
    return {cell: reasons[run_id] for cell, run_id in attempts.items() if run_id in reasons}


def _run_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    """The first failed step of a run and its one-line reason."""
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        event = record.dagster_event
        return f"{event.step_key}: {step_failure_reason(event.step_failure_data)}"
    return "before any step"


def watch_statuses(instance: dg.DagsterInstance, days: Sequence[date]) -> list[PartitionStatus]:
    """The latest volume and new-fields result (WARN checks) of each Bronze table and day."""
    keys = sorted((k for k in check_keys() if k.name in WATCH_CHECKS), key=lambda k: (k.asset_key.path, k.name))
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
    return blocked_days(instance, [day for day in days if day.isoformat() in with_silver])


def partition_statuses(
    instance: dg.DagsterInstance, days: Sequence[date], blocked: dict[date, str]
) -> list[PartitionStatus]:
    """The state of every asset and day: a blocked Gold day wins over a failed run, a failed run
    over a failing check, a failing check over stale, stale over ok."""
    ids = {t.asset_key: instance.get_latest_storage_id_by_partition(t.asset_key, _MATERIALIZATION) for t in ASSET_TABLES}
    failing = _failing_checks(instance)
    failed = _failed_runs(instance, days)
    history = stale_history(instance)
    history_reason = (
        f"built before silver/orders_clean of {', '.join(history.changed)} changed (NEW_USERS and growth read"
        " earlier days); new_users_refresh_sensor rebuilds it while the daemon runs"
    )
    statuses = []
    for table in sorted(ASSET_TABLES, key=lambda t: (["bronze", "silver", "gold"].index(t.schema), t.asset_key.path)):
        name = table.asset_key.to_user_string()
        for day in days:
            partition = day.isoformat()
            own = ids[table.asset_key].get(partition)
            newer = sorted(p.to_user_string() for p in parents(table) if ids[p].get(partition, 0) > (own or 0))
            if table.schema == "gold" and day in blocked:
                status = PartitionStatus(name, day, "blocked")
            elif (name, partition) in failed:
                status = PartitionStatus(name, day, "failed", failed[name, partition])
            elif own is None:
                status = PartitionStatus(name, day, "missing")
            elif (name, partition) in failing:
                status = PartitionStatus(name, day, "failing")
            elif newer:
                status = PartitionStatus(name, day, "stale", f"built before {', '.join(newer)} of the day changed")
            elif table is DAILY_GMV_METRICS and partition in history.days:
                status = PartitionStatus(name, day, "stale", history_reason)
            else:
                status = PartitionStatus(name, day, "ok")
            statuses.append(status)
    return statuses


def _days_text(days: Sequence[date]) -> str:
    """Days as compact ranges: 2026-02-14..2026-02-16, 2026-02-18."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and runs[-1][-1] + timedelta(days=1) == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}..{r[-1]}" for r in runs)


def tables_text(assets: Sequence[str]) -> str:
    return ", ".join(assets) if len(assets) <= 3 else f"{len(assets)} tables"


def reasons(statuses: list[PartitionStatus]) -> list[str]:
    """One line per reason, naming its days and tables."""
    grouped: dict[tuple[str, str], dict[str, set[date]]] = {}
    for s in statuses:
        if s.reason:
            grouped.setdefault((SYMBOLS[s.state], s.reason), {}).setdefault(s.asset, set()).add(s.day)
    return [
        f"{symbol} {_days_text(sorted(set().union(*cells.values())))} ({tables_text(list(cells))}): {why}"
        for (symbol, why), cells in grouped.items()
    ]


def render(statuses: list[PartitionStatus], days: Sequence[date], blocked: dict[date, str]) -> str:
    """A grid of assets by day, a legend, why each blocked day is blocked, and why the failed and
    stale cells are so."""
    width = max(len(s.asset) for s in statuses)
    header = " " * width + "  " + " ".join(day.strftime("%d") for day in days)
    months = " " * width + "  " + f"{days[0]:%Y-%m-%d} .. {days[-1]:%Y-%m-%d}"
    lines = [months, header]
    for asset in dict.fromkeys(s.asset for s in statuses):
        cells = [SYMBOLS[s.state].rjust(2) for s in statuses if s.asset == asset]
        lines.append(f"{asset:<{width}}  " + " ".join(cells))
    blocked_lines = [f"⊘ Gold blocked for {day.isoformat()}: {why}" for day, why in sorted(blocked.items())]
    return "\n".join([*lines, "", LEGEND, *blocked_lines, *reasons(statuses)])


def recent_days(instance: dg.DagsterInstance, count: int, first: date) -> list[date]:
    """The `count` days up to the latest materialized partition of any asset, none before `first`."""
    latest = [date.fromisoformat(p) for t in ASSET_TABLES for p in instance.get_materialized_partitions(t.asset_key)]
    end = max(latest) if latest else datetime.now(UTC).date() - timedelta(days=1)
    return [day for n in range(count - 1, -1, -1) if (day := end - timedelta(days=n)) >= first] or [first]
