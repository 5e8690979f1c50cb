"""Faults: runs killed at random moments, concurrent runs, a full disk, services that are down."""

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import generate_landing
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import ALL_TABLES, CHECK_RESULTS, DAILY_GMV_METRICS, ORDERS_RAW, Table
from flowguard_assets_tests.harness import make_defs, read_table, without

BIN = Path(sys.executable).parent
D1, D2 = date(2026, 2, 14), date(2026, 2, 15)
KILL_TRIALS = int(os.environ.get("FLOWGUARD_KILL_TRIALS", "3"))


def stamp_column(table: Table) -> str | None:
    """The column that says when a row was written (profiles have none)."""
    names = table.column_names
    return next((c for c in ("INGESTION_TIMESTAMP", "LOAD_TIMESTAMP") if c in names), None)


def partitions_snapshot(warehouse: Path) -> dict:
    """Per table and day: the rows without their write time, and the set of write times. The
    quality history keeps every run's rows, killed runs' included: it must stay readable."""
    snapshot = {}
    for table in ALL_TABLES:
        rows = read_table(warehouse, table)  # fails if any file is unreadable
        if table is CHECK_RESULTS:
            continue
        for day in (D1, D2):
            mine = [r for r in rows if r[table.partition_column] == day]
            stamps = {r.get(stamp_column(table)) for r in mine}
            snapshot[(table.name, day)] = (without(mine, stamp_column(table)), stamps)
    return snapshot


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
    (tmp_path / "home").mkdir()
    # An instance in use is initialized; two runs must not race to create its SQLite tables.
    dg.DagsterInstance.from_config(str(tmp_path / "home")).dispose()
    return {
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
