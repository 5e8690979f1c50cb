"""Faults of the platform that runs all day, driven as a user drives it (a UI backfill through the
daemon's run queue): the run worker killed mid-backfill, the daemon restarted mid-backfill."""

import os
import signal
import time
from datetime import date, timedelta
from functools import partial
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.execution.backfill import BulkActionStatus  # not exported
from dagster._core.storage.tags import PARENT_RUN_ID_TAG, RETRY_NUMBER_TAG, ROOT_RUN_ID_TAG  # not exported

from flowguard_assets.cli.runner import execute_range
from flowguard_assets.generate import generate_landing
from flowguard_assets_tests.dagster_services import keep_landing_sensor_off, running_platform, wait_for
from flowguard_assets_tests.harness import make_defs, read_table, snapshot_of

pytestmark = pytest.mark.slow

START = date(2026, 3, 1)
DAYS = [START + timedelta(days=i) for i in range(10)]
NAMES = [d.isoformat() for d in DAYS]
NEW_DAY = START + timedelta(days=10)  # lands during the daemon's restart


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    generate_landing(root / "landing", START, 10, orders_per_day=200, clicks_per_day=1000, seed=31)
    keep_landing_sensor_off(root / "landing", "dt=2026-03-*/*")
    with running_platform(root) as started:
        yield started


@pytest.fixture(scope="module")
def unkilled(platform):
    """The 10 days in one in-process run, never interrupted: what every table must end up as."""
    reference = platform.root / "reference"
    result = execute_range(make_defs(platform.root / "landing", reference), DAYS[0], DAYS[-1], None, dg.DagsterInstance.ephemeral())
    assert result.success
    return snapshot_of(partial(read_table, reference), DAYS)


def tables(platform) -> dict:
    return snapshot_of(partial(read_table, Path(platform.env["FLOWGUARD_WAREHOUSE_DIR"])), DAYS)


def assert_equal_to_unkilled(platform, unkilled) -> None:
    """Every table and day holds the unkilled run's rows, from one single write: none missing,
    none doubled, nothing of a killed attempt left beside the retry's."""
    snapshot = tables(platform)
    for key, (rows, stamps) in unkilled.items():
        assert snapshot[key][0] == rows, key
        assert len(snapshot[key][1]) == 1, key


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The run worker's pid, from the run's engine event "Started process for run (pid: N)"."""
    for record in instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT).records:
        event = record.event_log_entry.dagster_event
        if event.message.startswith("Started process for run"):
            return int(event.event_specific_data.metadata["pid"].value)
    return None


def bronze_done(instance: dg.DagsterInstance, run_id: str) -> bool:
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION).records
    keys = {r.event_log_entry.dagster_event.asset_key.to_user_string() for r in records}
    return {"bronze/orders_raw", "bronze/clicks_raw"} <= keys


def backfill_past_bronze(platform, instance: dg.DagsterInstance) -> tuple[str, dg.RunsFilter, dg.DagsterRun]:
    """A UI backfill of the 10 days, once its run has materialized Bronze: the id, a filter for
    its runs, and the run."""
    backfill_id = platform.backfill(NAMES)
    runs = dg.RunsFilter(tags={"dagster/backfill": backfill_id})
    run = wait_for(lambda: next(iter(instance.get_runs(runs)), None), 120, "the backfill's run")
    wait_for(lambda: bronze_done(instance, run.run_id), 600, "Bronze of the backfill's run")
    return backfill_id, runs, run


def test_a_run_worker_killed_mid_backfill_is_failed_retried_and_repaired(platform, unkilled):
    instance = platform.instance()
    _, runs, first = backfill_past_bronze(platform, instance)
    pid = worker_pid(instance, first.run_id)
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    wait_for(lambda: instance.get_run_by_id(first.run_id).is_finished, 300, "the killed run to be marked", every=0.5)
    marked = time.monotonic() - killed
    failed = instance.get_run_by_id(first.run_id)
    assert failed.status == dg.DagsterRunStatus.FAILURE
    print(f"killed run worker (pid {pid}) marked failed in {marked:.1f}s")

    def retry():
        retries = instance.get_runs(dg.RunsFilter(tags={PARENT_RUN_ID_TAG: first.run_id}))
        return retries[0] if retries and retries[0].is_finished else None

    retried = wait_for(retry, 900, "the automatic retry to finish")
    assert retried.is_success
    assert (retried.tags[ROOT_RUN_ID_TAG], retried.tags[RETRY_NUMBER_TAG]) == (first.run_id, "1")
    assert len(instance.get_runs(runs)) == 2  # the killed run and its one retry
    assert_equal_to_unkilled(platform, unkilled)

    def alerts():
        failures = [p["text"] for p in platform.receiver.posts if first.run_id in p["text"] and "run failed" in p["text"]]
        recoveries = [p["text"] for p in platform.receiver.posts if retried.run_id in p["text"] and "recovered" in p["text"]]
        return (failures, recoveries) if failures and recoveries else None

    failures, recoveries = wait_for(alerts, 120, "the failure and the recovery alerts")
    time.sleep(15)  # three more alert ticks: nothing is posted twice
    assert len([p for p in platform.receiver.posts if p["text"] in failures]) == 1
    assert len([p for p in platform.receiver.posts if p["text"] in recoveries]) == 1
    assert "terminated by signal 9 (SIGKILL); Dagster retries the run automatically" in failures[0]
    assert f"automatic retry 1 of run {first.run_id} succeeded" in recoveries[0]


def test_a_daemon_restarted_mid_backfill_finishes_it_once_and_its_sensors_carry_on(platform, unkilled):
    instance = platform.instance()
    backfill_id, runs, _ = backfill_past_bronze(platform, instance)
    # A new day lands while the daemon is down: its landing sensor must run it once, after.
    generate_landing(platform.root / "landing", NEW_DAY, 1, orders_per_day=200, clicks_per_day=1000, seed=32, in_progress_file=False)
    platform.stop("daemon", group=False)  # SIGTERM to the daemon alone, as its supervisor sends
    time.sleep(10)
    platform.start("daemon")

    def backfill_done():
        backfill = instance.get_backfill(backfill_id)
        return backfill if backfill.status not in (BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING) else None

    assert wait_for(backfill_done, 900, "the backfill to complete").status == BulkActionStatus.COMPLETED_SUCCESS
    new_day = dg.RunsFilter(tags={"dagster/partition": NEW_DAY.isoformat(), "flowguard/trigger": "new day"})
    wait_for(lambda: [r for r in instance.get_runs(new_day) if r.is_finished], 900, "the new day's run")
    time.sleep(20)  # four more sensor ticks: a second run of the new day would be requested by now
    assert [r.is_success for r in instance.get_runs(runs)] == [True]  # the run went on; no retry needed
    assert len(instance.get_runs(new_day)) == 1
    assert_equal_to_unkilled(platform, unkilled)
    keys = [r.tags["dagster/run_key"] for r in instance.get_runs() if "dagster/run_key" in r.tags]
    assert keys and len(keys) == len(set(keys)), keys
