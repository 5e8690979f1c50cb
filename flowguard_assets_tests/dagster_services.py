"""Dagster's own daemon and webserver on a fresh DAGSTER_HOME, started as the README starts them,
for tests that drive FlowGuard as a user does (GraphQL, as the UI sends it) and stop its parts."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets_tests.test_automation import Receiver

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ALL_KEYS = [
    "bronze/orders_raw", "bronze/clicks_raw", "silver/orders_clean", "silver/clicks_clean",
    "gold/daily_gmv_metrics", "gold/food_item_performance", "gold/user_funnel_metrics",
    "gold/hourly_order_patterns",
]  # fmt: skip
BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def wait_for(condition, timeout: float, what: str, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        url + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def location_loaded(url: str) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
    try:
        entries = graphql(url, query)["workspaceOrError"]["locationEntries"]
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


@dataclass
class Platform:
    """The daemon and the webserver of one instance, each stoppable and startable again."""

    root: Path
    home: Path
    env: dict[str, str]
    url: str
    receiver: Receiver
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start(self, name: str) -> None:
        workspace = ["-w", str(ROOT / "workspace.yaml")]
        command = {
            "daemon": [str(BIN / "dagster-daemon"), "run", *workspace],
            "webserver": [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", self.url.rsplit(":", 1)[1], *workspace],
        }[name]  # fmt: skip
        self.processes[name] = subprocess.Popen(
            command, env=self.env, cwd=ROOT, start_new_session=True,
            stdout=(self.root / f"{name}.out").open("a"), stderr=(self.root / f"{name}.log").open("a"),
        )  # fmt: skip

    def stop(self, name: str, *, group: bool = True) -> None:
        """SIGTERM to the process and its children (`group`), or to the process alone, as a
        supervisor that restarts only the daemon does."""
        process = self.processes.pop(name)
        if group:
            os.killpg(process.pid, signal.SIGTERM)
        else:
            process.terminate()
        process.wait(timeout=120)

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.home))

    def backfill(self, days: list[str]) -> str:
        """A backfill of every asset over `days`, launched as the UI launches it; its id."""
        params = {"partitionNames": days, "assetSelection": [{"path": k.split("/")} for k in ALL_KEYS], "fromFailure": False}
        launched = graphql(self.url, BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert launched["__typename"] == "LaunchBackfillSuccess", launched
        return launched["backfillId"]


@contextmanager
def running_platform(root: Path, dagster_yaml: Path = ROOT / "deploy" / "dagster.local.yaml") -> Iterator[Platform]:
    """dagster-daemon and dagster-webserver on a fresh DAGSTER_HOME with the shipped dagster.yaml,
    alerts going to a local webhook, the sensors ticking every 5 s."""
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(dagster_yaml, home / "dagster.yaml")
    dg.DagsterInstance.from_config(str(home)).dispose()  # create the storage before two processes race to
    receiver = Receiver()
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(root / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(root / "warehouse"),
        "FLOWGUARD_ALERT_WEBHOOK_URL": receiver.url,
        "FLOWGUARD_SENSOR_INTERVAL_SECONDS": "5",
        "FLOWGUARD_LANDING_SETTLE_SECONDS": "2",
        "FLOWGUARD_UI_URL": url,
    }
    platform = Platform(root, home, env, url, receiver)
    try:
        platform.start("daemon")
        platform.start("webserver")
        wait_for(lambda: location_loaded(url), 180, "the webserver to load the code location")
        yield platform
    finally:
        for name in list(platform.processes):
            platform.stop(name)
        receiver.close()


def keep_landing_sensor_off(landing: Path, pattern: str) -> None:
    """Files the landing sensor ignores for a day (it waits for files to settle): only what the
    test launches runs them."""
    future = time.time() + 86_400
    for path in landing.rglob(pattern):
        os.utime(path, (future, future))
