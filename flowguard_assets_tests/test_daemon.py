"""FlowGuard run by Dagster's own daemon and webserver, as the README starts them."""

import time
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from flowguard_assets.tables import DAILY_GMV_METRICS, ORDERS_CLEAN
from flowguard_assets_tests.harness import read_table
from flowguard_assets_tests.dagster_services import keep_landing_sensor_off, running_platform, wait_for

BAD_DAY = date(2026, 2, 20)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(tmp_path_factory.mktemp("platform")) as started:
        yield started


def test_a_failing_gate_blocks_gold_and_alerts_within_a_few_intervals(platform):
    landing = Path(platform.env["FLOWGUARD_LANDING_DIR"])
    generate_landing(landing, BAD_DAY, 1, orders_per_day=300, clicks_per_day=1500, seed=4, rates=AnomalyRates(malformed=0.25))
    receiver = platform.receiver

    def gate_alerts():
        return [p for p in receiver.posts if "`valid_rate`" in p["text"] and "2026-02-20" in p["text"]]

    alerts = wait_for(gate_alerts, 420, "the gate alert at the webhook")
    assert "valid rate" in alerts[0]["text"] and "minimum 95.00%" in alerts[0]["text"]
    assert platform.url + "/runs/" in alerts[0]["text"]
    warehouse = Path(platform.env["FLOWGUARD_WAREHOUSE_DIR"])
    assert {r["DATE_PARTITION"] for r in read_table(warehouse, ORDERS_CLEAN)} == {BAD_DAY}
    assert read_table(warehouse, DAILY_GMV_METRICS) == []
    instance = platform.instance()
    (run,) = instance.get_runs()
    assert run.tags["flowguard/trigger"] == "new day" and run.tags["dagster/partition"] == "2026-02-20"


def test_a_ui_backfill_of_a_range_is_one_run(platform):
    landing = Path(platform.env["FLOWGUARD_LANDING_DIR"])
    generate_landing(landing, date(2026, 2, 10), 3, orders_per_day=300, clicks_per_day=1500, seed=8)
    keep_landing_sensor_off(landing, "dt=2026-02-1[012]/*")
    backfill_id = platform.backfill(["2026-02-10", "2026-02-11", "2026-02-12"])
    instance = platform.instance()
    backfill = dg.RunsFilter(tags={"dagster/backfill": backfill_id})

    def finished():
        runs = instance.get_runs(backfill)
        return runs if runs and all(r.is_finished for r in runs) else None

    wait_for(finished, 600, "the backfill's run")
    time.sleep(15)  # a second run would have been launched by now
    (run,) = instance.get_runs(backfill)
    assert run.is_success
    assert (run.tags[RANGE_START_TAG], run.tags[RANGE_END_TAG]) == ("2026-02-10", "2026-02-12")
    assert len(run.asset_selection) == 8
    gmv = read_table(Path(platform.env["FLOWGUARD_WAREHOUSE_DIR"]), DAILY_GMV_METRICS)
    assert {r["DATE"] for r in gmv} == {date(2026, 2, 10), date(2026, 2, 11), date(2026, 2, 12)}
