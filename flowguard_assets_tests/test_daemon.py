"""FlowGuard run by Dagster's own daemon and webserver, as the README starts them."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from flowguard_assets.tables import DAILY_GMV_METRICS, ORDERS_CLEAN
from flowguard_assets_tests.harness import read_table
from flowguard_assets_tests.test_automation import Receiver

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
BAD_DAY = date(2026, 2, 20)
ALL_KEYS = [
    "bronze/orders_raw", "bronze/clicks_raw", "silver/orders_clean", "silver/clicks_clean",
    "gold/daily_gmv_metrics", "gold/food_item_performance", "gold/user_funnel_metrics",
    "gold/hourly_order_patterns",
]  # fmt: skip


def wait_for(condition, timeout: float, what: str, every: float = 2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """dagster-daemon and dagster-webserver on a fresh DAGSTER_HOME with the shipped dagster.yaml."""
    root = tmp_path_factory.mktemp("platform")
    home = root / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.local.yaml", home / "dagster.yaml")
    dg.DagsterInstance.from_config(str(home)).dispose()  # create the storage before two processes race to
    receiver = Receiver()
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(root / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(root / "warehouse"),
        "FLOWGUARD_ALERT_WEBHOOK_URL": receiver.url,
        "FLOWGUARD_SENSOR_INTERVAL_SECONDS": "5",
        "FLOWGUARD_LANDING_SETTLE_SECONDS": "2",
        "FLOWGUARD_UI_URL": f"http://127.0.0.1:{port}",
    }
    workspace = ["-w", str(ROOT / "workspace.yaml")]
    processes = [
        subprocess.Popen([str(BIN / "dagster-daemon"), "run", *workspace], env=env, cwd=ROOT, start_new_session=True, stdout=open(root / "daemon.out", "w"), stderr=open(root / "daemon.log", "w")),
        subprocess.Popen([str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(port), *workspace], env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=open(root / "webserver.log", "w")),
    ]
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: _location_loaded(url), 180, "the webserver to load the code location")
    try:
        yield {"env": env, "root": root, "receiver": receiver, "url": url, "home": home}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        receiver.close()


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    request = urllib.request.Request(
        url + "/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def _location_loaded(url: str) -> bool:
    query = "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus } } } }"
    try:
        entries = graphql(url, query)["workspaceOrError"]["locationEntries"]
    except (OSError, KeyError, TypeError, ValueError):
        return False
    return bool(entries) and all(e["loadStatus"] == "LOADED" for e in entries)


def test_a_failing_gate_blocks_gold_and_alerts_within_a_few_intervals(platform):
    landing = Path(platform["env"]["FLOWGUARD_LANDING_DIR"])
    generate_landing(landing, BAD_DAY, 1, orders_per_day=300, clicks_per_day=1500, seed=4, rates=AnomalyRates(malformed=0.25))
    receiver = platform["receiver"]

    def gate_alerts():
        return [p for p in receiver.posts if "`valid_rate`" in p["text"] and "2026-02-20" in p["text"]]

    alerts = wait_for(gate_alerts, 420, "the gate alert at the webhook")
    assert "valid rate" in alerts[0]["text"] and "minimum 95.00%" in alerts[0]["text"]
    assert platform["url"] + "/runs/" in alerts[0]["text"]
    warehouse = Path(platform["env"]["FLOWGUARD_WAREHOUSE_DIR"])
    assert {r["DATE_PARTITION"] for r in read_table(warehouse, ORDERS_CLEAN)} == {BAD_DAY}
    assert read_table(warehouse, DAILY_GMV_METRICS) == []
    instance = dg.DagsterInstance.from_config(str(platform["home"]))
    (run,) = instance.get_runs()
    assert run.tags["flowguard/trigger"] == "new day" and run.tags["dagster/partition"] == "2026-02-20"


BACKFILL = """
mutation Backfill($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message }
  }
}
"""


def test_a_ui_backfill_of_a_range_is_one_run(platform):
    landing = Path(platform["env"]["FLOWGUARD_LANDING_DIR"])
    generate_landing(landing, date(2026, 2, 10), 3, orders_per_day=300, clicks_per_day=1500, seed=8)
    # Keep the landing sensor off these days (it waits for files to settle): only the backfill runs.
    future = time.time() + 86_400
    for path in landing.rglob("dt=2026-02-1[012]/*"):
        os.utime(path, (future, future))
    params = {
        "partitionNames": ["2026-02-10", "2026-02-11", "2026-02-12"],
        "assetSelection": [{"path": key.split("/")} for key in ALL_KEYS],
        "fromFailure": False,
    }
    launched = graphql(platform["url"], BACKFILL, {"params": params})["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    instance = dg.DagsterInstance.from_config(str(platform["home"]))
    backfill = dg.RunsFilter(tags={"dagster/backfill": launched["backfillId"]})

    def finished():
        runs = instance.get_runs(backfill)
        return runs if runs and all(r.is_finished for r in runs) else None

    wait_for(finished, 600, "the backfill's run")
    time.sleep(15)  # a second run would have been launched by now
    (run,) = instance.get_runs(backfill)
    assert run.is_success
    assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == ("2026-02-10", "2026-02-12")
    assert len(run.asset_selection) == 8
    gmv = read_table(Path(platform["env"]["FLOWGUARD_WAREHOUSE_DIR"]), DAILY_GMV_METRICS)
    assert {r["DATE"] for r in gmv} == {date(2026, 2, 10), date(2026, 2, 11), date(2026, 2, 12)}
