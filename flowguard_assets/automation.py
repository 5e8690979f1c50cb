"""Jobs, the daily schedule, the landing and history sensors, and alerts.

- `flowguard_daily_schedule` runs the whole chain at 01:00 UTC for the previous day.
- `landing_sensor` requests a day when its landing files change: a day nobody ran by its
  schedule time plus a grace period, or a day already materialized that got late files.
- `new_users_refresh_sensor` re-materializes DAILY_GMV_METRICS for later days when Silver orders
  of an earlier day changed after them (NEW_USERS and growth read earlier days), for the days
  whose own gates pass.
- `flowguard_alerts` posts every failed check (ERROR, or WARN as a warning), every run failure,
  and every Gold table without yesterday's partition at 03:00 UTC, once each.
"""

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import dagster as dg
from dagster._core.execution.plan.objects import StepFailureData  # not exported; the event's data

from flowguard_assets.gates import BLOCKED_DAYS
from flowguard_assets.history import refresh_ranges
from flowguard_assets.landing import LandedFile
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_partitions
from flowguard_assets.resources.alerts import Alert, AlertWebhookResource
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.failures import step_failure_reason
from flowguard_assets.tables import BRONZE_TABLES, DAILY_GMV_METRICS, GOLD_TABLES, TOPICS

SCHEDULE_TIME = time(1, 0)
SCHEDULE_GRACE = timedelta(minutes=30)
_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION
_GOLD = [t.asset_key for t in GOLD_TABLES]
_CHECK_TITLES = {
    dg.AssetCheckSeverity.ERROR: "FlowGuard check failed",
    dg.AssetCheckSeverity.WARN: "FlowGuard warning (not blocking)",
}
GOLD_DEADLINE = time(3, 0)  # Gold of the day before is due by then (UTC)

daily_job = dg.define_asset_job(
    "flowguard_daily",
    selection=dg.AssetSelection.all(),
    description="Bronze -> Silver -> Gold with every check, for a day or a range: one Spark session.",
)
gmv_refresh_job = dg.define_asset_job(
    "new_users_refresh",
    selection=dg.AssetSelection.assets(DAILY_GMV_METRICS.asset_key),
    description="DAILY_GMV_METRICS again for days whose history (NEW_USERS, growth) changed.",
)
daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    name="flowguard_daily_schedule",
    hour_of_day=SCHEDULE_TIME.hour,
    minute_of_hour=SCHEDULE_TIME.minute,
    description="At 01:00 UTC, the whole chain for the previous day.",
)


# --- Landing zone ---------------------------------------------------------------------------


def fingerprint(files: list[LandedFile]) -> str:
    """Changes whenever a finished file of the day appears, grows or is rewritten."""
    parts = sorted(f"{f.topic}/{f.name}:{f.size}:{f.mtime_ns}" for f in files)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _materialized_at(instance: dg.DagsterInstance, day: date) -> float | None:
    """When both Bronze tables of `day` were last materialized (the earlier of the two)."""
    stamps = []
    for key in (table.asset_key for table in BRONZE_TABLES):
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=[day.isoformat()]), limit=1
        ).records
        if not records:
            return None
        stamps.append(records[0].timestamp)
    return min(stamps)


def landing_requests(
    instance: dg.DagsterInstance,
    by_day: dict[date, list[LandedFile]],
    seen: dict[str, str],
    now: datetime,
    settle_seconds: int,
) -> Iterator[dg.RunRequest]:
    """Run requests for days whose landing files changed since `seen` (updated in place)."""
    last = now.date() - timedelta(days=1)  # a day's partition exists once the day is over
    first = daily_partitions.start.date()
    for day, files in sorted(by_day.items()):
        if not first <= day <= last or {f.topic for f in files} != set(TOPICS):
            continue
        stamp = fingerprint(files)
        if seen.get(day.isoformat()) == stamp:
            continue
        newest = max(f.mtime_ns for f in files) / 1e9
        if newest > now.timestamp() - settle_seconds:
            continue  # still landing: wait for the burst to end
        materialized = _materialized_at(instance, day)
        if materialized is None:
            due = datetime.combine(day + timedelta(days=1), SCHEDULE_TIME, UTC) + SCHEDULE_GRACE
            if now < due:
                continue  # the daily schedule's turn
            reason = "new day"
        elif newest > materialized:
            reason = "late files"
        else:
            reason = ""
        seen[day.isoformat()] = stamp
        if reason:
            yield dg.RunRequest(
                run_key=f"{day.isoformat()}:{stamp}",
                partition_key=day.isoformat(),
                tags={"flowguard/trigger": reason},
            )


def _landing_tick(context: dg.SensorEvaluationContext, landing: LandingZoneResource):
    seen = json.loads(context.cursor) if context.cursor else {}
    requests = list(
        landing_requests(
            context.instance,
            landing.scan(TOPICS),
            seen,
            datetime.now(UTC),
            landing.settle_seconds,
        )
    )
    context.update_cursor(json.dumps(seen, sort_keys=True))
    return dg.SensorResult(run_requests=requests)


# --- History refresh ------------------------------------------------------------------------


def _refresh_tick(context: dg.SensorEvaluationContext):
    in_flight = context.instance.get_runs_count(
        dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED])
    )
    if in_flight:
        return dg.SkipReason("a run is in progress")
    ranges, cause = refresh_ranges(context.instance)
    if not ranges:
        return dg.SkipReason("no stale history on a day whose gates pass")
    return [
        dg.RunRequest(
            run_key=f"{first}..{last}@{cause}",
            tags={RANGE_START_TAG: first, RANGE_END_TAG: last, "flowguard/trigger": "history changed"},
        )
        for first, last in ranges
    ]


# --- Alerts ---------------------------------------------------------------------------------


def _run_partitions(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if "dagster/partition" in tags:
        return tags["dagster/partition"]
    if RANGE_START_TAG in tags:
        return f"{tags[RANGE_START_TAG]}..{tags[RANGE_END_TAG]}"
    return None


def _explained(failure: StepFailureData, alerted: set[str]) -> bool:
    """A Gold step that refused days whose failed gates this run has already alerted on."""
    metadata = failure.user_failure_data.metadata if failure.user_failure_data else {}
    blocked = metadata.get(BLOCKED_DAYS)
    return blocked is not None and set(blocked.value) <= alerted


def alerts_for_run(instance: dg.DagsterInstance, run_id: str, ui_url: str) -> list[Alert]:
    """An alert per failed check evaluation of the run, and one for a failure checks do not explain."""
    run = instance.get_run_by_id(run_id)
    if run is None:
        return []
    run_url = f"{ui_url}/runs/{run_id}"
    alerts = []
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        if not evaluation.passed:
            alerts.append(
                Alert(
                    title=_CHECK_TITLES[evaluation.severity],
                    detail=evaluation.description or "the check did not pass",
                    severity=evaluation.severity.value,
                    run_url=run_url,
                    asset=evaluation.asset_key.to_user_string(),
                    partition=evaluation.partition,
                    check=evaluation.check_name,
                )
            )
    if run.status == dg.DagsterRunStatus.FAILURE:
        failures = [
            r.event_log_entry.dagster_event.event_specific_data
            for r in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_FAILURE).records
        ]
        alerted = {alert.partition for alert in alerts if alert.severity == "ERROR"}
        unexplained = [f for f in failures if not _explained(f, alerted)]
        if unexplained or not failures:
            message = step_failure_reason(unexplained[0]) if unexplained else "the run failed"
            alerts.append(
                Alert(
                    title=f"FlowGuard run failed: {run.job_name}",
                    detail=message,
                    severity="ERROR",
                    run_url=run_url,
                    partition=_run_partitions(run),
                )
            )
    return alerts


def finished_runs(
    instance: dg.DagsterInstance, after: int | None, since: float, limit: int = 200
) -> list[tuple[int, str]]:
    """(storage id, run id) of runs that ended after storage id `after` (else after `since`),
    in order; when a page is full, only up to where both kinds of record are complete."""
    found, complete_up_to = [], None
    for event_type in (dg.DagsterEventType.RUN_SUCCESS, dg.DagsterEventType.RUN_FAILURE):
        records = instance.fetch_run_status_changes(
            dg.RunStatusChangeRecordsFilter(
                event_type=event_type,
                after_storage_id=after,
                after_timestamp=None if after is not None else since,
            ),
            limit=limit,
            ascending=True,
        ).records
        found += [(r.storage_id, r.run_id) for r in records]
        if len(records) == limit:
            last = records[-1].storage_id
            complete_up_to = last if complete_up_to is None else min(complete_up_to, last)
    return sorted(f for f in found if complete_up_to is None or f[0] <= complete_up_to)


def late_gold_alerts(
    instance: dg.DagsterInstance, alerted: list[str], now: datetime, ui_url: str
) -> list[Alert]:
    """From 03:00 UTC, an alert per Gold table that does not hold yesterday's partition, once per
    table and day (`alerted`: "asset@day", updated in place). Per partition: a materialization of
    another day does not count. A table never materialized at all is not in use yet: no alert."""
    if now.time() < GOLD_DEADLINE:
        return []
    day = (now.date() - timedelta(days=1)).isoformat()
    if day < daily_partitions.start.date().isoformat():
        return []
    alerts = []
    for key in _GOLD:
        name = key.to_user_string()
        held = instance.get_latest_storage_id_by_partition(key, _MATERIALIZATION)
        if not held or day in held or f"{name}@{day}" in alerted:
            continue
        alerted.append(f"{name}@{day}")
        alerts.append(
            Alert(
                title="FlowGuard Gold is late",
                detail=f"no partition {day} at the 03:00 UTC deadline",
                severity="WARN",
                run_url=f"{ui_url}/assets/{'/'.join(key.path)}",
                asset=name,
                partition=day,
                check="late_gold",
            )
        )
    del alerted[: -len(_GOLD) * 7]  # a week of days is enough to remember
    return alerts


def _alert_tick(context: dg.SensorEvaluationContext, alerts: AlertWebhookResource):
    state = {"runs": None, "late": [], **(json.loads(context.cursor) if context.cursor else {})}
    ui_url = alerts.ui_url
    now = datetime.now(UTC)
    runs = finished_runs(context.instance, state["runs"], (now - timedelta(hours=1)).timestamp())
    pending = [a for _, run_id in runs for a in alerts_for_run(context.instance, run_id, ui_url)]
    pending += late_gold_alerts(context.instance, state["late"], now, ui_url)
    webhook_up = True
    for alert in pending:
        # Once an alert has used up its retries, the rest of this tick only go to the log.
        posted = alerts.send(alert, context.log, post=webhook_up)
        webhook_up = webhook_up and (posted or not alerts.url)
    if runs:
        state["runs"] = runs[-1][0]
    context.update_cursor(json.dumps(state))
    return dg.SkipReason(f"{len(pending)} alerts from {len(runs)} finished runs")


def sensors(interval_seconds: int) -> tuple[dg.SensorDefinition, ...]:
    """The landing, history-refresh and alert sensors, each evaluated every `interval_seconds`
    (FLOWGUARD_SENSOR_INTERVAL_SECONDS)."""
    running = {"minimum_interval_seconds": interval_seconds, "default_status": dg.DefaultSensorStatus.RUNNING}
    return (
        dg.sensor(
            name="landing_sensor",
            job=daily_job,
            description="New or late finished landing files request their day (in-progress files never do).",
            **running,
        )(_landing_tick),
        dg.sensor(
            name="new_users_refresh_sensor",
            job=gmv_refresh_job,
            description="Keeps NEW_USERS and growth right after an earlier day is re-materialized "
            "(only days whose own gates pass).",
            **running,
        )(_refresh_tick),
        dg.sensor(
            name="flowguard_alerts",
            description="Posts each failed check (ERROR or WARN), run failure and late Gold table once.",
            **running,
        )(_alert_tick),
    )
