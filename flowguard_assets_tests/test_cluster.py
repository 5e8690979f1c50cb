"""The unchanged pipeline on a real Spark standalone cluster: a master and two workers on 127.0.0.1."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyspark
import pytest

from flowguard_assets.generate import generate_landing
from flowguard_assets.tables import ALL_TABLES
from flowguard_assets_tests.harness import read_table, without
from flowguard_assets_tests.test_cli import cli

SPARK_HOME = Path(pyspark.__file__).parent
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
LOAD_TIMES = ("INGESTION_TIMESTAMP", "LOAD_TIMESTAMP")  # when a row was written, not what it says


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def daemon(env: dict[str, str], action: str, cls: str, number: int, *args: str) -> None:
    subprocess.run(
        [str(SPARK_HOME / "sbin" / "spark-daemon.sh"), action, cls, str(number), *args],
        env=env, check=True, capture_output=True, timeout=60,
    )


def master_state(web_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=5) as response:
        return json.load(response)


@dataclass(frozen=True)
class Cluster:
    url: str
    web_port: int
    work_dir: Path


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """A standalone master with two one-core workers on 127.0.0.1; stopped afterwards."""
    env = {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOG_DIR": str(tmp_path / "spark-logs"),
        "SPARK_PID_DIR": str(tmp_path / "spark-pids"),
        "SPARK_WORKER_DIR": str(tmp_path / "spark-work"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }
    port, web_port = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    daemon(env, "start", MASTER, 1, "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web_port))
    try:
        for number in (1, 2):
            daemon(env, "start", WORKER, number, "--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
                   "--webui-port", str(free_port()), url)
        deadline = time.monotonic() + 90
        while True:
            try:
                if sum(w["state"] == "ALIVE" for w in master_state(web_port)["workers"]) == 2:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                logs = "\n".join(p.read_text()[-2000:] for p in (tmp_path / "spark-logs").glob("*.out"))
                pytest.fail(f"the standalone cluster did not come up with two workers:\n{logs}")
            time.sleep(1)
        yield Cluster(url, web_port, tmp_path / "spark-work")
    finally:
        for number in (1, 2):
            daemon(env, "stop", WORKER, number)
        daemon(env, "stop", MASTER, 1)


def test_bronze_to_gold_on_a_standalone_cluster_equals_the_local_run(cluster, tmp_path):
    landing = tmp_path / "landing"
    generate_landing(landing, date(2026, 2, 14), 2, orders_per_day=200, clicks_per_day=1000, seed=10)
    runs = {}
    for name, master in (("local", "local[2]"), ("cluster", cluster.url)):
        home = tmp_path / f"home-{name}"
        home.mkdir()
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "FLOWGUARD_LANDING_DIR": str(landing),
            "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / f"warehouse-{name}"),
            "SPARK_MASTER": master,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
        runs[name] = cli(env, "flowguard", "run", "--start", "2026-02-14", "--end", "2026-02-15")
        assert runs[name].returncode == 0, runs[name].stdout[-3000:] + runs[name].stderr[-3000:]

    # One Spark application for the whole two-day Bronze -> Gold run, its executors on both
    # workers, each sent the driver's FlowGuard code (as nodes without the package need).
    deadline = time.monotonic() + 60  # the master marks the app finished once the driver is gone
    while (state := master_state(cluster.web_port))["activeapps"] and time.monotonic() < deadline:
        time.sleep(1)
    apps = state["completedapps"]
    assert [app["name"] for app in apps] == ["flowguard"]
    shipped = {path.parent.name for path in cluster.work_dir.glob(f"{apps[0]['id']}/*/flowguard_assets.zip")}
    assert len(shipped) == 2, list(cluster.work_dir.rglob("*"))[:50]
    for table in ALL_TABLES:
        on_cluster = read_table(tmp_path / "warehouse-cluster", table)
        assert on_cluster, table.name
        assert without(on_cluster, *LOAD_TIMES) == without(
            read_table(tmp_path / "warehouse-local", table), *LOAD_TIMES
        ), table.name
