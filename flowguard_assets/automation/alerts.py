"""Alerts: every failed check (ERROR, or WARN as a warning), every run failure, every automatic
retry that succeeded, and every Gold table without yesterday's partition at 03:00 UTC, each posted
once by the `flowguard_alerts` sensor."""

import json
from datetime import UTC, datetime, time, timedelta

import dagster as dg
from dagster._core.execution.plan.objects import StepFailureData  # not exported; the event's data
from dagster._core.storage.tags import RETRY_NUMBER_TAG, ROOT_RUN_ID_TAG, WILL_RETRY_TAG  # not exported

from flowguard_assets.failures import step_failure_reason
from flowguard_assets.gates import BLOCKED_DAYS
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_partitions
from flowguard_assets.resources.alerts import Alert, AlertWebhookResource
from flowguard_assets.tables import GOLD_TABLES

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION
_GOLD = [t.asset_key for t in GOLD_TABLES]
_CHECK_TITLES = {
    dg.AssetCheckSeverity.ERROR: "FlowGuard check failed",
    dg.AssetCheckSeverity.WARN: "FlowGuard warning (not blocking)",
}
GOLD_DEADLINE = time(3, 0)  # Gold of the day before is due by then (UTC)


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


def _crash_reason(instance: dg.DagsterInstance, run_id: str) -> str:
    """Why a run failed outside its steps (its process died, monitoring gave up on it): the first
    sentence of Dagster's last engine event before the run's failure."""
    kinds = {dg.DagsterEventType.ENGINE_EVENT, dg.DagsterEventType.RUN_FAILURE}
    records = instance.get_records_for_run(run_id, of_type=kinds, ascending=False).records
    after_failure = False
    for record in records:  # newest first
        event = record.event_log_entry.dagster_event
        if event.event_type == dg.DagsterEventType.RUN_FAILURE:
            after_failure = True
        elif after_failure:
            return event.message.split(". ")[0].removesuffix(".")
    return "the run failed"


def _recovery(run: dg.DagsterRun, run_url: str) -> Alert:
    return Alert(
        title=f"FlowGuard run recovered: {run.job_name}",
        detail=(
            f"automatic retry {run.tags[RETRY_NUMBER_TAG]} of run {run.tags[ROOT_RUN_ID_TAG]}"
            " succeeded; nothing to do"
        ),
        severity="INFO",
        run_url=run_url,
        partition=_run_partitions(run),
    )


def alerts_for_run(instance: dg.DagsterInstance, run_id: str, ui_url: str) -> list[Alert]:
    """An alert per failed check evaluation of the run, one for a failure checks do not explain
    (saying when Dagster retries the run), and one when an automatic retry succeeded."""
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
            message = step_failure_reason(unexplained[0]) if unexplained else _crash_reason(instance, run_id)
            if run.tags.get(WILL_RETRY_TAG) == "true":
                message += "; Dagster retries the run automatically"
            alerts.append(
                Alert(
                    title=f"FlowGuard run failed: {run.job_name}",
                    detail=message,
                    severity="ERROR",
                    run_url=run_url,
                    partition=_run_partitions(run),
                )
            )
    elif run.status == dg.DagsterRunStatus.SUCCESS and RETRY_NUMBER_TAG in run.tags:
        alerts.append(_recovery(run, run_url))
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


def alert_tick(context: dg.SensorEvaluationContext, alerts: AlertWebhookResource):
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
