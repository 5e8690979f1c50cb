"""The unchanged pipeline past one machine, each service started here on 127.0.0.1: a Spark
standalone cluster (a master and two workers), a Spark Connect server, and a landing zone in an S3
bucket (moto's S3 server). Every run's tables equal those of the plain local run."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow.fs as pafs
import pyspark
import pytest

from flowguard_assets.generate import generate_landing
from flowguard_assets.errors import LandingError
from flowguard_assets.landing import landing_files, scan
from flowguard_assets.tables import ALL_TABLES
from flowguard_assets_tests.harness import read_table, without
from flowguard_assets_tests.dagster_services import free_port
from flowguard_assets_tests.test_cli import cli

SPARK_HOME = Path(pyspark.__file__).parent
MASTER = "org.apache.spark.deploy.master.Master"
WORKER = "org.apache.spark.deploy.worker.Worker"
CONNECT = "org.apache.spark.sql.connect.service.SparkConnectServer"
# When and by which run a row was written, not what it says.
LOAD_TIMES = ("INGESTION_TIMESTAMP", "LOAD_TIMESTAMP", "EVALUATED_AT", "RUN_ID")


def spark_env(tmp_path: Path) -> dict[str, str]:
    """Environment for Spark's daemon scripts: logs, pids and work files under `tmp_path`."""
    return {
        **os.environ,
        "SPARK_HOME": str(SPARK_HOME),
        "SPARK_LOG_DIR": str(tmp_path / "spark-logs"),
        "SPARK_PID_DIR": str(tmp_path / "spark-pids"),
        "SPARK_WORKER_DIR": str(tmp_path / "spark-work"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def daemon(env: dict[str, str], action: str, cls: str, *args: str) -> None:
    subprocess.run(
        [str(SPARK_HOME / "sbin" / "spark-daemon.sh"), action, cls, *args],
        env=env, check=True, capture_output=True, timeout=60,
    )


def wait_until(ready: Callable[[], bool], what: str, logs: Path) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if ready():
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            tails = "\n".join(p.read_text()[-2000:] for p in logs.glob("*.out"))
            pytest.fail(f"{what} did not come up:\n{tails}")
        time.sleep(1)


def master_state(web_port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/json/", timeout=5) as response:
        return json.load(response)


def local_landing(tmp_path: Path) -> Path:
    landing = tmp_path / "landing"
    if not landing.exists():
        generate_landing(landing, date(2026, 2, 14), 2, orders_per_day=200, clicks_per_day=1000, seed=10)
    return landing


def run_pipeline(tmp_path: Path, name: str, **settings: str) -> subprocess.CompletedProcess:
    """`flowguard run` of Bronze -> Gold for two generated days, warehouse `warehouse-<name>`."""
    landing = local_landing(tmp_path)
    home = tmp_path / f"home-{name}"
    home.mkdir()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(landing),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / f"warehouse-{name}"),
        "SPARK_LOCAL_IP": "127.0.0.1",
        **settings,
    }
    done = cli(env, "flowguard", "run", "--start", "2026-02-14", "--end", "2026-02-15")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def assert_same_tables(tmp_path: Path, name: str) -> None:
    for table in ALL_TABLES:
        rows = read_table(tmp_path / f"warehouse-{name}", table)
        assert rows, table.name
        local = read_table(tmp_path / "warehouse-local", table)
        assert without(rows, *LOAD_TIMES) == without(local, *LOAD_TIMES), table.name


@dataclass(frozen=True)
class Cluster:
    url: str
    web_port: int
    work_dir: Path


@pytest.fixture
def cluster(tmp_path) -> Iterator[Cluster]:
    """A standalone master with two one-core workers on 127.0.0.1; stopped afterwards."""
    env = spark_env(tmp_path)
    port, web_port = free_port(), free_port()
    url = f"spark://127.0.0.1:{port}"
    daemon(env, "start", MASTER, "1", "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(web_port))
    try:
        for number in ("1", "2"):
            daemon(env, "start", WORKER, number, "--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
                   "--webui-port", str(free_port()), url)
        alive = lambda: sum(w["state"] == "ALIVE" for w in master_state(web_port)["workers"]) == 2  # noqa: E731
        wait_until(alive, "the standalone cluster with two workers", tmp_path / "spark-logs")
        yield Cluster(url, web_port, tmp_path / "spark-work")
    finally:
        for number in ("1", "2"):
            daemon(env, "stop", WORKER, number)
        daemon(env, "stop", MASTER, "1")


@pytest.fixture
def connect_server(tmp_path) -> Iterator[str]:
    """A Spark Connect server (local[2]) whose sessions default to another time zone than UTC."""
    env = {**spark_env(tmp_path), "PYSPARK_PYTHON": sys.executable}
    port = free_port()
    daemon(
        env, "submit", CONNECT, "1", "--name", "Spark Connect server", "--master", "local[2]",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.sql.session.timeZone=America/New_York",
        "--conf", "spark.ui.enabled=false",
    )  # fmt: skip
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 1).close() is None,
                   "the Spark Connect server", tmp_path / "spark-logs")
        yield f"sc://127.0.0.1:{port}"
    finally:
        daemon(env, "stop", CONNECT, "1")


def test_bronze_to_gold_on_a_standalone_cluster_equals_the_local_run(cluster, tmp_path):
    run_pipeline(tmp_path, "local", SPARK_MASTER="local[2]")
    run_pipeline(tmp_path, "cluster", SPARK_MASTER=cluster.url)

    # One Spark application for the whole two-day Bronze -> Gold run, its executors on both
    # workers, each sent the driver's FlowGuard code (as nodes without the package need).
    deadline = time.monotonic() + 60  # the master marks the app finished once the driver is gone
    while (state := master_state(cluster.web_port))["activeapps"] and time.monotonic() < deadline:
        time.sleep(1)
    apps = state["completedapps"]
    assert [app["name"] for app in apps] == ["flowguard"]
    shipped = {path.parent.name for path in cluster.work_dir.glob(f"{apps[0]['id']}/*/flowguard_assets.zip")}
    assert len(shipped) == 2, list(cluster.work_dir.rglob("*"))[:50]
    assert_same_tables(tmp_path, "cluster")


def test_bronze_to_gold_through_spark_connect_equals_the_local_run(connect_server, tmp_path):
    run_pipeline(tmp_path, "local", SPARK_MASTER="local[2]")
    # No Java for the run itself: it can only have worked on the server. The session's UTC
    # setting wins over the server's New York default (hours of day would shift otherwise).
    run_pipeline(tmp_path, "connect", SPARK_REMOTE=connect_server, JAVA_HOME="/nonexistent-java")
    assert_same_tables(tmp_path, "connect")


@pytest.fixture
def s3(tmp_path, monkeypatch) -> Iterator[str]:
    """An S3 server (moto) with an empty bucket; the URI options that reach it, credentials in the
    environment (this process's and the runs')."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=(tmp_path / "moto.log").open("w"),
    )
    try:
        wait_until(lambda: socket.create_connection(("127.0.0.1", port), 1).close() is None, "moto's S3 server", tmp_path)
        for name, value in S3_CREDENTIALS.items():
            monkeypatch.setenv(name, value)
        pafs.S3FileSystem(
            endpoint_override=f"127.0.0.1:{port}", scheme="http", allow_bucket_creation=True
        ).create_dir("events")
        yield f"endpoint_override=127.0.0.1:{port}&scheme=http"
    finally:
        server.terminate()
        server.wait(timeout=30)


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def test_a_landing_zone_in_s3_gives_the_same_tables(s3, tmp_path):
    landing = local_landing(tmp_path)
    zone = f"s3a://events/landing?{s3}"
    bucket, root = pafs.FileSystem.from_uri(f"s3://events/landing?{s3}")
    pafs.copy_files(str(landing), root, destination_filesystem=bucket)
    bucket.create_dir(f"{root}/raw.orders.v1/dt=2026-02-15/_inflight")  # not a file: ignored

    listed = lambda root: {  # noqa: E731
        day: sorted((f.topic, f.name, f.size) for f in files)
        for day, files in scan(root, ["raw.orders.v1", "raw.clicks.v1"]).items()
    }
    assert listed(zone) == listed(landing) and sorted(listed(zone)) == [date(2026, 2, 14), date(2026, 2, 15)]
    with pytest.raises(LandingError, match="Landing folder s3a://events/landing/raw.orders.v1/dt=2026-02-16 does not exist"):
        landing_files(zone, "raw.orders.v1", [date(2026, 2, 16)])

    run_pipeline(tmp_path, "local")
    run_pipeline(tmp_path, "s3", FLOWGUARD_LANDING_DIR=zone, **S3_CREDENTIALS)
    assert_same_tables(tmp_path, "s3")
