"""The sensors: `landing_sensor` requests a day when its landing files change (a day nobody ran
by its schedule time plus a grace period, or a day already materialized that got late files);
`new_users_refresh_sensor` re-materializes DAILY_GMV_METRICS for later days when Silver orders of
an earlier day changed after them (NEW_USERS and growth read earlier days), for the days whose own
gates pass; `flowguard_alerts` posts alerts (`automation.alerts`)."""

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import dagster as dg

from flowguard_assets.automation.alerts import alert_tick
from flowguard_assets.automation.jobs import SCHEDULE_GRACE, SCHEDULE_TIME, daily_job, gmv_refresh_job
from flowguard_assets.history import refresh_ranges
from flowguard_assets.landing import LandedFile
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_partitions
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.tables import BRONZE_TABLES, TOPICS

CHANGED_DAYS_TAG = "flowguard/changed_days"  # a refresh run's cause: the earlier days whose Silver orders changed


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
    ranges, history = refresh_ranges(context.instance)
    if not ranges:
        return dg.SkipReason("no stale history on a day whose gates pass")
    changed = ", ".join(history.changed)
    context.log.info(f"silver/orders_clean of {changed} changed after later days' DAILY_GMV_METRICS")
    return [
        dg.RunRequest(
            run_key=f"{first}..{last}@{history.cause}",
            tags={
                RANGE_START_TAG: first,
                RANGE_END_TAG: last,
                "flowguard/trigger": "history changed",
                CHANGED_DAYS_TAG: changed,
            },
        )
        for first, last in ranges
    ]


# --- All three ----------------------------------------------------------------------------


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
        )(alert_tick),
    )
