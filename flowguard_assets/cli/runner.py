"""Running FlowGuard's assets for a range of days through Dagster's Python API, with progress."""

import fcntl
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
    DAGSTER_HOME without a dagster.yaml gets FlowGuard's laptop one (deploy/dagster.local.yaml).

    Writing that file and creating the storage happen under a lock in DAGSTER_HOME, so entry
    points started at the same moment on a new home (`flowguard ui` and `flowguard run`) never
    read a half-written dagster.yaml or race to create the same SQLite tables."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(Path(".dagster").absolute())))
    home.mkdir(parents=True, exist_ok=True)
    with (home / ".flowguard-instance.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        config = home / "dagster.yaml"
        if not config.exists() and LOCAL_DAGSTER_YAML.exists():
            partial = home / f".dagster.yaml.{os.getpid()}"
            shutil.copyfile(LOCAL_DAGSTER_YAML, partial)
            partial.replace(config)
        return dg.DagsterInstance.get()


def check_line(evaluation: dg.AssetCheckEvaluation) -> str | None:
    """One line for a check that did not pass: `✗` for an ERROR check, `! warning` for a WARN one."""
    if evaluation.passed:
        return None
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name} [{evaluation.partition}]"
    if evaluation.severity == dg.AssetCheckSeverity.WARN:
        return f"  ! warning {name}: {evaluation.description or ''}"
    return f"  ✗ check {name} failed: {evaluation.description or ''}"


def step_line(event: dg.DagsterEvent, checked_days: set[str]) -> str:
    """One line for a step's start, success, retry or failure. A Gold failure that only kept days
    whose failed gates are among `checked_days` (printed above) names the days, not the figures."""
    step, data = event.step_key or "", event.event_specific_data
    if event.event_type == dg.DagsterEventType.STEP_START:
        return f"… {step}"
    if event.event_type == dg.DagsterEventType.STEP_SUCCESS:
        return f"✓ {step} ({data.duration_ms / 1000:.1f}s)"
    if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY:
        return f"↻ {step}: retrying after: {error_reason(data.error)}"
    blocked = _blocked(event)
    if blocked and set(blocked) <= checked_days:
        return f"✗ {step}: not written for {', '.join(blocked)} (failed Silver gates, above); their Gold is kept"
    return f"✗ {step}: {step_failure_reason(data)}"


class Progress:
    """Turns a run's events into progress lines. The checks a step evaluates are printed under
    its own ✓ or ✗ line (its `…` line says it runs), so a ✓ never follows its own failed gates."""

    def __init__(self, on_progress: Callable[[str], None]):
        self.on_progress = on_progress
        self.held: dict[str, list[str]] = {}  # step -> its failed checks, until it ends
        self.failed_gate_days: set[str] = set()  # days of a failed Silver gate

    def __call__(self, record: dg.EventLogEntry) -> None:
        event = record.dagster_event
        if event is None or event.event_type not in _PROGRESS_EVENTS:
            return
        if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            line = check_line(evaluation)
            if line:
                self.held.setdefault(event.step_key or "", []).append(line)
                if evaluation.severity == dg.AssetCheckSeverity.ERROR and evaluation.asset_key.path[0] == "silver":
                    self.failed_gate_days.add(evaluation.partition)
            return
        held = [] if event.event_type == dg.DagsterEventType.STEP_START else self.held.pop(event.step_key or "", [])
        suffix = f"; {len(held)} of its checks did not pass:" if held else ""
        self.on_progress(step_line(event, self.failed_gate_days) + suffix)
        for line in held:
            self.on_progress(line)


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
        cursor, progress = 0, Progress(on_progress)
        while True:
            finished = running.done()
            logs = dagster_instance.all_logs(run_id)
            for event in logs[cursor:]:
                progress(event)
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
