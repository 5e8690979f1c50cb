"""FlowGuard's warm Spark: `flowguard spark start|stop|status`, runs on it, and its faults (a
server that cannot be reached, a server killed mid-run), all through the real commands."""

import os
import random
import re
import signal
import time
from pathlib import Path

import pytest

from flowguard_assets.generate import generate_landing
from flowguard_assets_tests.dagster_services import free_port
from flowguard_assets_tests.test_cli import cli
from flowguard_assets_tests.test_reliability import D1, D2, flowguard_run, partitions_snapshot

KILL_TRIALS = int(os.environ.get("FLOWGUARD_SERVER_KILL_TRIALS", "2"))


@pytest.fixture
def env(tmp_path):
    generate_landing(tmp_path / "landing", D1, 2, orders_per_day=300, clicks_per_day=1500, seed=21)
    (tmp_path / "home").mkdir()
    environment = {
        key: value for key, value in os.environ.items() if key not in ("SPARK_REMOTE", "SPARK_MASTER")
    }
    return {
        **environment,
        "DAGSTER_HOME": str(tmp_path / "home"),
        "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "FLOWGUARD_SPARK_PORT": str(free_port()),
    }


@pytest.fixture
def server(env):
    """The instance's server, started with `flowguard spark start`; stopped afterwards."""
    started = cli(env, "flowguard", "spark", "start", timeout=300)
    assert started.returncode == 0, started.stdout + started.stderr
    yield started.stdout
    cli(env, "flowguard", "spark", "stop", timeout=120)


def test_start_status_stop_and_a_run_on_the_warm_server(env, server):
    port = env["FLOWGUARD_SPARK_PORT"]
    url = f"sc://127.0.0.1:{port}"
    log = Path(env["DAGSTER_HOME"]) / "spark" / "connect-server.log"
    assert re.fullmatch(rf"Spark Connect server started: {url} \(pid (\d+), log {log}\)\n", server)
    again = cli(env, "flowguard", "spark", "start")
    assert (again.returncode, again.stdout.split("(")[0]) == (0, f"Spark Connect server already running: {url} ")
    status = cli(env, "flowguard", "spark", "status")
    assert status.returncode == 0
    assert re.fullmatch(rf"Spark Connect server up: {url}, pid \d+, uptime \dh\d\dm\d\ds, heap in use [\d,]+ MiB\n", status.stdout)

    # `flowguard run` with no SPARK_REMOTE or SPARK_MASTER uses the instance's server, and says so.
    done = cli(env, "flowguard", "run", "--start", D1.isoformat(), "--end", D2.isoformat())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert f"as one run on the Spark Connect server {url}" in done.stdout
    assert "Closing session" in log.read_text()  # the run's session ended with the run
    warm = partitions_snapshot(Path(env["FLOWGUARD_WAREHOUSE_DIR"]))

    stopped = cli(env, "flowguard", "spark", "stop", timeout=120)
    assert stopped.stdout == f"Spark Connect server {url} stopped\n"
    down = cli(env, "flowguard", "spark", "status")
    assert (down.returncode, down.stdout) == (1, "Spark Connect server: not running\n")
    local = cli(env, "flowguard", "run", "--start", D1.isoformat(), "--end", D2.isoformat())
    assert local.returncode == 0 and "as one run on a local Spark session" in local.stdout
    # Every table's rows are the same on the server and on a local session.
    local_tables = partitions_snapshot(Path(env["FLOWGUARD_WAREHOUSE_DIR"]))
    assert {k: rows for k, (rows, _) in local_tables.items()} == {k: rows for k, (rows, _) in warm.items()}


def test_an_unreachable_server_fails_the_run_before_any_write_naming_its_url(env):
    url = f"sc://127.0.0.1:{free_port()}"
    done = cli({**env, "SPARK_REMOTE": url}, "flowguard", "run", "--start", D1.isoformat())
    assert done.returncode == 1
    reason = f"Spark Connect server {url} is not reachable"
    failures = [line for line in done.stdout.splitlines() if line.startswith("✗ ")]
    assert failures and all(reason in line and "`flowguard spark start`" in line for line in failures), done.stdout
    assert not Path(env["FLOWGUARD_WAREHOUSE_DIR"]).exists() or not any(Path(env["FLOWGUARD_WAREHOUSE_DIR"]).rglob("*.parquet"))


def _server_pid(env) -> int:
    status = cli(env, "flowguard", "spark", "status")
    return int(re.search(r"pid (\d+)", status.stdout).group(1))


def test_a_server_killed_mid_run_fails_it_leaves_every_partition_old_or_new_and_a_rerun_repairs(env, server):
    warehouse = Path(env["FLOWGUARD_WAREHOUSE_DIR"])
    began = time.monotonic()
    flowguard_run(env)
    duration = time.monotonic() - began
    expected = partitions_snapshot(warehouse)

    rng = random.Random(int(os.environ.get("FLOWGUARD_KILL_SEED", "11")))
    for _ in range(KILL_TRIALS):
        run = flowguard_run(env, wait=False)
        time.sleep(rng.uniform(1, 0.8 * duration))
        os.kill(_server_pid(env), signal.SIGKILL)
        assert run.wait(timeout=600) != 0  # the run fails, it does not hang
        for key, (rows, stamps) in partitions_snapshot(warehouse).items():
            assert rows == expected[key][0], key
            assert len(stamps) == 1, key
        restarted = cli(env, "flowguard", "spark", "start", timeout=300)
        assert restarted.returncode == 0 and "started" in restarted.stdout

    flowguard_run(env)  # after a restart, a rerun repairs and cleans up
    assert {k: v[0] for k, v in partitions_snapshot(warehouse).items()} == {k: v[0] for k, v in expected.items()}
    assert [p for p in warehouse.rglob("_staging/*") if p.is_dir()] == []
