"""Faults: runs killed at random moments, concurrent runs, a full disk, services that are down."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from functools import partial
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import generate_landing
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import DAILY_GMV_METRICS, ORDERS_RAW
from flowguard_assets_tests.dagster_services import free_port, keep_landing_sensor_off, location_loaded, wait_for
from flowguard_assets_tests.harness import make_defs, read_table, snapshot_of

BIN = Path(sys.executable).parent
D1, D2 = date(2026, 2, 14), date(2026, 2, 15)
KILL_TRIALS = int(os.environ.get("FLOWGUARD_KILL_TRIALS", "3"))
FRESH_INSTANCE_TRIALS = int(os.environ.get("FLOWGUARD_FRESH_INSTANCE_TRIALS", "3"))
STORAGE_ERRORS = (
    "more than one head", "OperationalError", "IntegrityError", "UNIQUE constraint", "already exists",
    "database is locked", "No dagster instance configuration file", "Traceback",
)  # fmt: skip


def partitions_snapshot(warehouse: Path) -> dict:
    return snapshot_of(partial(read_table, warehouse), (D1, D2))


def flowguard_run(env, *, wait=True) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(BIN / "flowguard"), "run", "--start", D1.isoformat(), "--end", D2.isoformat()],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    if wait:
        assert process.wait(timeout=900) == 0
    return process


@pytest.fixture
def env(tmp_path):
    generate_landing(tmp_path / "landing", D1, 2, orders_per_day=300, clicks_per_day=1500, seed=21)
    return {  # a new DAGSTER_HOME: the first flowguard command creates the instance
        **os.environ,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }


def test_a_run_killed_at_any_moment_leaves_every_partition_old_or_new(env):
    warehouse = Path(env["FLOWGUARD_WAREHOUSE_DIR"])
    began = time.monotonic()
    flowguard_run(env)
    duration = time.monotonic() - began
    expected = partitions_snapshot(warehouse)
    assert all(rows and len(stamps) == 1 for rows, stamps in expected.values())

    rng = random.Random(int(os.environ.get("FLOWGUARD_KILL_SEED", "7")))
    for _ in range(KILL_TRIALS):
        process = flowguard_run(env, wait=False)
        time.sleep(rng.uniform(1, duration))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        for key, (rows, stamps) in partitions_snapshot(warehouse).items():
            # Never missing or half-written: the same rows as before, all from one single write.
            assert rows == expected[key][0], key
            assert len(stamps) == 1, key

    flowguard_run(env)  # the next run works and cleans up what the killed ones left
    assert partitions_snapshot(warehouse).keys() == expected.keys()
    leftovers = [p for p in warehouse.rglob("_staging/*") if p.is_dir()]
    assert leftovers == []


def test_two_runs_of_the_same_days_at_once_do_not_interleave(env):
    warehouse = Path(env["FLOWGUARD_WAREHOUSE_DIR"])
    first, second = flowguard_run(env, wait=False), flowguard_run(env, wait=False)
    assert (first.wait(timeout=900), second.wait(timeout=900)) == (0, 0)
    for key, (rows, stamps) in partitions_snapshot(warehouse).items():
        assert rows and len(stamps) == 1, key


def test_runs_of_different_days_do_not_interfere(env, tmp_path):
    def run_day(day):
        return subprocess.Popen(
            [str(BIN / "flowguard"), "run", "--start", day.isoformat()],
            env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / f"{day}.err").open("w"), start_new_session=True,
        )  # fmt: skip

    warehouse = Path(env["FLOWGUARD_WAREHOUSE_DIR"])
    both = [run_day(D1), run_day(D2)]
    codes = [p.wait(timeout=900) for p in both]
    assert codes == [0, 0], "\n".join((tmp_path / f"{day}.err").read_text()[-3000:] for day in (D1, D2))
    together = partitions_snapshot(warehouse)
    alone = tmp_path / "alone"
    assert execute_range(make_defs(Path(env["FLOWGUARD_LANDING_DIR"]), alone), D1, D2, None, dg.DagsterInstance.ephemeral()).success
    expected = partitions_snapshot(alone)
    # Every partition is one whole write and equals a run of both days, except D2's growth and
    # NEW_USERS: they read D1, so they depend on which run got there first. Re-running D2 (what
    # new_users_refresh_sensor does when D1 changes after it) makes it equal too.
    reads_d1 = (DAILY_GMV_METRICS.name, D2)
    assert all(len(stamps) == 1 for _, stamps in together.values())
    assert {k: v[0] for k, v in together.items() if k != reads_d1} == {k: v[0] for k, v in expected.items() if k != reads_d1}
    assert run_day(D2).wait(timeout=900) == 0
    assert partitions_snapshot(warehouse)[reads_d1][0] == expected[reads_d1][0]


def test_the_ui_and_a_run_started_at_once_on_a_new_instance_both_work(env, tmp_path):
    """`flowguard ui` and `flowguard run` at the same moment on a DAGSTER_HOME that does not exist
    yet, again and again: neither sees a storage error; the run succeeds and the UI serves. The
    UI's runs would use a Spark server elsewhere (SPARK_REMOTE): none is started, none is needed
    here (the landing sensor is kept off the run's days)."""
    keep_landing_sensor_off(Path(env["FLOWGUARD_LANDING_DIR"]), "*/*")
    for trial in range(FRESH_INSTANCE_TRIALS):
        home, port = tmp_path / f"home-{trial}", free_port()
        logs = {name: tmp_path / f"{name}-{trial}.log" for name in ("ui", "run")}
        ui = subprocess.Popen(
            [str(BIN / "flowguard"), "ui", "--port", str(port)],
            env={**env, "DAGSTER_HOME": str(home), "SPARK_REMOTE": f"sc://127.0.0.1:{free_port()}"},
            stdout=logs["ui"].open("w"), stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        run = subprocess.Popen(
            [str(BIN / "flowguard"), "run", "--start", D1.isoformat(), "--select", "bronze"],
            env={**env, "DAGSTER_HOME": str(home)}, stdout=logs["run"].open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        try:
            assert run.wait(timeout=600) == 0, logs["run"].read_text()
            wait_for(lambda: location_loaded(f"http://127.0.0.1:{port}"), 180, f"trial {trial}: the UI")
            output = {name: log.read_text() for name, log in logs.items()}  # before the UI is stopped
        finally:
            os.killpg(ui.pid, signal.SIGTERM)
            ui.wait(timeout=120)
        for name, text in output.items():
            assert not [e for e in STORAGE_ERRORS if e in text], f"trial {trial}, {name}:\n{text}"
        (stored,) = dg.DagsterInstance.from_config(str(home)).get_runs()
        assert stored.is_success


def test_entry_points_opening_a_new_instance_at_the_same_instant_never_corrupt_it(tmp_path):
    """Six processes open one new DAGSTER_HOME at the same instant through FlowGuard's entry point
    (`runner.instance`, which every flowguard command uses). Without its lock this gave Alembic's
    "more than one head" and "table ... already exists" in most trials."""
    at = time.time() + 8  # all imports done by then: they start together
    code = (
        "import sys, time\nfrom flowguard_assets.cli.runner import instance\n"
        "time.sleep(max(0, float(sys.argv[1]) - time.time()))\ninstance().dispose()"
    )
    homes = [tmp_path / f"home-{trial}" for trial in range(FRESH_INSTANCE_TRIALS)]
    opened = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(at + 2 * trial)], env={**os.environ, "DAGSTER_HOME": str(home)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        for trial, home in enumerate(homes)
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=300)[0] for p in opened]
    assert [p.returncode for p in opened] == [0] * len(opened), "\n".join(outputs)
    assert not [o for o in outputs if any(e in o for e in STORAGE_ERRORS)]
    for home in homes:
        assert dg.DagsterInstance.from_config(str(home)).get_runs() == []


def error_text(error) -> str:
    """An error's message and those of its causes."""
    parts = []
    while error is not None:
        parts.append(error.message)
        error = error.cause
    return "\n".join(parts)


@pytest.fixture
def tiny_disk(tmp_path):
    """A 2 MiB file system for the warehouse (a real tmpfs: the disk really fills up)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs to fill a disk and could not: {done.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=True)


def test_a_full_disk_fails_clearly_naming_the_path_and_keeps_the_table(tmp_path, tiny_disk):
    landing = tmp_path / "landing"
    generate_landing(landing, D1, 1, orders_per_day=50, clicks_per_day=200, seed=3)
    generate_landing(landing, D2, 1, orders_per_day=20000, clicks_per_day=100, seed=4)
    selection = [ORDERS_RAW.asset_key]
    assert execute_range(make_defs(landing, tiny_disk), D1, D1, selection, dg.DagsterInstance.ephemeral()).success
    before = read_table(tiny_disk, ORDERS_RAW)
    result = execute_range(make_defs(landing, tiny_disk), D1, D2, selection, dg.DagsterInstance.ephemeral())
    assert not result.success
    failures = [
        e.event_specific_data.error.message
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.STEP_FAILURE
    ]
    assert f"No space left on device writing BRONZE.ORDERS_RAW under {tiny_disk}/bronze/ORDERS_RAW" in failures[0]
    assert read_table(tiny_disk, ORDERS_RAW) == before
    assert [p for p in (tiny_disk / "bronze" / "ORDERS_RAW").iterdir() if p.name.startswith("PARTITION_DATE=")] == [
        tiny_disk / "bronze" / "ORDERS_RAW" / "PARTITION_DATE=2026-02-14"
    ]


def test_an_unreachable_snowflake_is_named_and_retried(tmp_path, monkeypatch):
    from flowguard_assets.config import load_settings
    from flowguard_assets.resources import build_warehouse

    for name, value in {
        "FLOWGUARD_WAREHOUSE": "snowflake", "SNOWFLAKE_ACCOUNT": "flowguard", "SNOWFLAKE_USER": "u",
        "SNOWFLAKE_DATABASE": "D", "SNOWFLAKE_PASSWORD": "s3cret-SENTINEL", "SNOWFLAKE_HOST": "127.0.0.1",
        "SNOWFLAKE_PORT": "1", "SNOWFLAKE_PROTOCOL": "http",
    }.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    landing = tmp_path / "landing"
    generate_landing(landing, D1, 1, orders_per_day=50, clicks_per_day=200, seed=3)
    result = execute_range(make_defs(landing, build_warehouse(load_settings())), D1, D1, [ORDERS_RAW.asset_key], dg.DagsterInstance.ephemeral())
    assert not result.success
    messages = [
        error_text(e.event_specific_data.error)
        for e in result.all_events
        if e.event_type in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    ]
    assert len(messages) == 3  # two retries with backoff, then the failure
    assert all("Snowflake at 127.0.0.1:1 unreachable" in m and "s3cret-SENTINEL" not in m for m in messages), messages
