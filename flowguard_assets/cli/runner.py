"""Running FlowGuard's assets for a range of days through Dagster's Python API, with progress."""

import os
import shutil
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor, wait
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob  # not exported: what execute_in_process runs
from dagster._core.definitions.repository_definition.valid_definitions import SINGLETON_REPOSITORY_NAME
from dagster._core.execution.api import execute_run
from dagster._core.execution.job_execution_result import JobExecutionResult
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from flowguard_assets.gates import BLOCKED_DAYS
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from flowguard_assets.failures import error_reason, step_failure_reason

DAYS_TAG = "flowguard/days"
CODE_LOCATION = "flowguard_assets"  # the module the UI loads, so the location's name
_PROGRESS_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_UP_FOR_RETRY,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}


@dataclass
class RunOutcome:
    run_id: str
    success: bool
    failures: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # "asset:check [day]" of ERROR checks
    blocked_days: list[str] = field(default_factory=list)  # days whose Gold was kept as it was
    # partition -> asset key -> the materialization's metadata values
    metadata: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


LOCAL_DAGSTER_YAML = Path(__file__).resolve().parents[2] / "deploy" / "dagster.local.yaml"


def instance() -> dg.DagsterInstance:
    """The Dagster instance of DAGSTER_HOME (default `./.dagster`), as the UI and daemon use. A
    DAGSTER_HOME without a dagster.yaml gets FlowGuard's laptop one (deploy/dagster.local.yaml)."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").absolute())))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and LOCAL_DAGSTER_YAML.exists():
        shutil.copyfile(LOCAL_DAGSTER_YAML, config)
    return dg.DagsterInstance.get()


def describe(event: dg.EventLogEntry) -> str | None:
    """One progress line for a step or check event, or None."""
    dagster_event = event.dagster_event
    if dagster_event is None or dagster_event.event_type not in _PROGRESS_EVENTS:
        return None
    if dagster_event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
        evaluation = dagster_event.event_specific_data
        if evaluation.passed:
            return None
        return (
            f"  ✗ check {evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
            f" [{evaluation.partition}] failed: {evaluation.description or ''}"
        )
    step = dagster_event.step_key or ""
    if dagster_event.event_type == dg.DagsterEventType.STEP_START:
        return f"… {step}"
    if dagster_event.event_type == dg.DagsterEventType.STEP_SUCCESS:
        seconds = dagster_event.event_specific_data.duration_ms / 1000
        return f"✓ {step} ({seconds:.1f}s)"
    data = dagster_event.event_specific_data
    if dagster_event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
        return f"↻ {step}: retrying after: {error_reason(data.error)}"
    return f"✗ {step}: {step_failure_reason(data)}"


def execute_range(
    defs: dg.Definitions,
    start: date,
    end: date,
    selection: Sequence[dg.AssetKey] | None = None,
    dagster_instance: dg.DagsterInstance | None = None,
    run_id: str | None = None,
    log_level: str = "WARNING",
) -> JobExecutionResult:
    """Materialize `selection` (default: every asset) and its checks for `start`..`end` as one
    run in this process. The run records its assets (the runs list's Target column), its day
    range, as Dagster's range tags and as DAYS_TAG, a user tag the runs list shows on every row
    (it hides system tags), and its code location (the Overview timeline); Dagster's console
    log shows `log_level` and above."""
    job = defs.resolve_implicit_global_asset_job_def()
    dagster_instance = dagster_instance or dg.DagsterInstance.ephemeral()
    run = dagster_instance.create_run_for_job(
        job,
        run_id=run_id,
        asset_selection=set(selection or job.asset_layer.executable_asset_keys),
        tags={
            **job.run_tags,
            RANGE_START_TAG: start.isoformat(),
            RANGE_END_TAG: end.isoformat(),
            DAYS_TAG: start.isoformat() if start == end else f"{start}...{end}",
        },
        run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        remote_job_origin=_origin(job),
    )
    return execute_run(InMemoryJob(job), run, dagster_instance)


def _origin(job: dg.JobDefinition) -> RemoteJobOrigin:
    """The job as the UI's code location (`flowguard ui`, workspace.yaml: module flowguard_assets)
    serves it, so the Overview timeline draws the run under that location."""
    location = ManagedGrpcPythonEnvCodeLocationOrigin(
        LoadableTargetOrigin(executable_path=sys.executable, module_name=CODE_LOCATION)
    )
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, SINGLETON_REPOSITORY_NAME), job.name)


def materialize_range(
    defs: dg.Definitions,
    start: date,
    end: date,
    selection: Sequence[dg.AssetKey] | None,
    on_progress: Callable[[str], None],
    dagster_instance: dg.DagsterInstance | None = None,
    log_level: str = "WARNING",
) -> RunOutcome:
    """`execute_range` against the DAGSTER_HOME instance, reporting progress as it goes."""
    dagster_instance = dagster_instance or instance()
    run_id = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(
            execute_range, defs, start, end, selection, dagster_instance, run_id, log_level
        )
        cursor = 0
        while True:
            finished = running.done()
            logs = dagster_instance.all_logs(run_id)
            for event in logs[cursor:]:
                line = describe(event)
                if line:
                    on_progress(line)
            cursor = len(logs)
            if finished:
                break
            wait([running], timeout=0.5)
        result = running.result()  # an error of the run itself is raised here
    step_failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return RunOutcome(
        run_id=run_id,
        success=result.success,
        failures=[event.step_key or "" for event in step_failures],
        failed_checks=_failed_checks(result),
        blocked_days=[day for event in step_failures for day in _blocked(event)],
        metadata=_metadata_by_partition(result),
    )


def _blocked(failure: dg.DagsterEvent) -> list[str]:
    """The days a failed Gold step kept as they were (none for any other failure)."""
    user_failure = failure.step_failure_data.user_failure_data
    blocked = user_failure.metadata.get(BLOCKED_DAYS) if user_failure else None
    return list(blocked.value) if blocked else []


def _failed_checks(result: JobExecutionResult) -> list[str]:
    evaluations = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name} [{e.partition}]"
        for e in evaluations
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]


def _metadata_by_partition(result: JobExecutionResult) -> dict[str, dict[str, dict[str, Any]]]:
    by_partition: dict[str, dict[str, dict[str, Any]]] = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        values = {key: value.value for key, value in materialization.metadata.items()}
        key = materialization.asset_key.to_user_string()
        by_partition.setdefault(materialization.partition or "", {})[key] = values
    return by_partition
