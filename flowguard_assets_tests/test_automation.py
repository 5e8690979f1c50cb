"""Schedule and sensors through Dagster's evaluation APIs, against real temporary instances."""

import json
import threading
import time
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import dagster as dg
import pytest

from flowguard_assets.automation import daily_schedule, sensors
from flowguard_assets.automation.sensors import CHANGED_DAYS_TAG
from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.resources.alerts import AlertWebhookResource
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import CLICKS_CLEAN, CLICKS_RAW, DAILY_GMV_METRICS, ORDERS_CLEAN, ORDERS_RAW
from flowguard_assets_tests.harness import CLICKS, ORDERS, envelope, make_defs, write_landing

D14, D15, D16 = date(2026, 2, 14), date(2026, 2, 15), date(2026, 2, 16)
landing_sensor, new_users_refresh_sensor, alert_sensor = sensors(interval_seconds=30)
UI = "http://ui.example:3000"


class Receiver:
    """A local HTTP webhook that records JSON posts; answers `status`."""

    def __init__(self, status: int = 200):
        self.posts: list[dict] = []
        self.status = status
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts.append(json.loads(body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/T000/SECRET-TOKEN"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


# --- schedule ---------------------------------------------------------------------------------


@pytest.mark.fast
def test_schedule_tick_at_one_requests_the_previous_day():
    from flowguard_assets import defs

    schedule = defs.resolve_schedule_def(daily_schedule.name)
    with dg.instance_for_test() as instance:
        tick = datetime(2026, 2, 15, 1, 0, tzinfo=UTC)
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        (request,) = schedule.evaluate_tick(context).run_requests
    assert request.partition_key == "2026-02-14"
    assert schedule.cron_schedule == "0 1 * * *"
    assert schedule.execution_timezone in (None, "UTC")


# --- landing sensor ---------------------------------------------------------------------------


def land(root, day, name, topics=(ORDERS, CLICKS)):
    for topic in topics:
        write_landing(root, topic, day, name, [envelope({"event_id": name}, topic=topic)])


def evaluate_landing(instance, root, cursor, settle_seconds=0):
    landing = LandingZoneResource(path=str(root), settle_seconds=settle_seconds)
    # The landing zone holds the Spark resource (never started here): resources with nested
    # resources are set up in the context's scope, as the daemon does.
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources={"landing": landing}) as context:
        result = landing_sensor(context)
        return result.run_requests, context.cursor


def test_landing_sensor_requests_each_new_day_once(tmp_path):
    with dg.instance_for_test() as instance:
        land(tmp_path, D14, "a.jsonl")
        land(tmp_path, D15, "a.jsonl")
        requests, cursor = evaluate_landing(instance, tmp_path, None)
        assert sorted(r.partition_key for r in requests) == ["2026-02-14", "2026-02-15"]
        assert {r.tags["flowguard/trigger"] for r in requests} == {"new day"}
        assert evaluate_landing(instance, tmp_path, cursor)[0] == []

        # A burst of files for a new day is one request; an in-progress file is none.
        for name in ("a.jsonl", "b.jsonl", "c.jsonl.gz"):
            land(tmp_path, D16, name)
        requests, cursor = evaluate_landing(instance, tmp_path, cursor)
        assert [r.partition_key for r in requests] == ["2026-02-16"]
        land(tmp_path, D16, "_tmp-0001.jsonl")
        land(tmp_path, D16, ".part.jsonl")
        assert evaluate_landing(instance, tmp_path, cursor)[0] == []


def test_landing_sensor_waits_for_both_topics_and_for_the_burst_to_settle(tmp_path):
    with dg.instance_for_test() as instance:
        land(tmp_path, D14, "a.jsonl", topics=(ORDERS,))
        requests, cursor = evaluate_landing(instance, tmp_path, None)
        assert requests == []
        land(tmp_path, D14, "a.jsonl", topics=(CLICKS,))
        assert evaluate_landing(instance, tmp_path, cursor, settle_seconds=3600)[0] == []
        assert [r.partition_key for r in evaluate_landing(instance, tmp_path, cursor)[0]] == ["2026-02-14"]


def test_landing_sensor_requests_a_materialized_day_again_for_a_late_file(tmp_path):
    with dg.instance_for_test() as instance:
        land(tmp_path, D14, "a.jsonl")
        time.sleep(0.05)
        for key in (ORDERS_RAW.asset_key, CLICKS_RAW.asset_key):
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-02-14"))
        requests, cursor = evaluate_landing(instance, tmp_path, None)
        assert requests == []  # already materialized after its files landed

        time.sleep(0.05)
        write_landing(tmp_path, ORDERS, D14, "late-1.jsonl", [envelope({"event_id": "late"})])
        (request,) = evaluate_landing(instance, tmp_path, cursor)[0]
        assert (request.partition_key, request.tags["flowguard/trigger"]) == ("2026-02-14", "late files")
        assert evaluate_landing(instance, tmp_path, evaluate_landing(instance, tmp_path, cursor)[1])[0] == []


# --- history refresh ---------------------------------------------------------------------------


def materialize(instance, key, *days):
    for day in days:
        instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=day.isoformat()))


def silver_with_gates(instance, *days, passed=True):
    """Silver of `days` materialized and every gate evaluated on it, in one run."""
    from flowguard_assets.checks import Verdict, _targets
    from flowguard_assets.gates import GATES

    @dg.op(out={})
    def silver_and_gates(context: dg.OpExecutionContext):
        for table in (ORDERS_CLEAN, CLICKS_CLEAN):
            for day in days:
                yield dg.AssetMaterialization(table.asset_key, partition=day.isoformat())
        verdicts = [Verdict(gate, day, passed, {}) for gate in GATES for day in days]
        targets = _targets(context.instance, verdicts)
        for v in verdicts:
            yield dg.AssetCheckEvaluation(
                asset_key=v.check.asset_key, check_name=v.check.name, passed=passed,
                partition=v.day.isoformat(), target_materialization_data=targets[v.check.asset_key, v.day],
            )  # fmt: skip

    assert dg.GraphDefinition(name="gates", node_defs=[silver_and_gates]).to_job().execute_in_process(instance=instance).success


def test_refresh_sensor_rematerializes_later_new_users_after_an_earlier_day_changes():
    with dg.instance_for_test() as instance:
        silver_with_gates(instance, D14, D15, D16)
        materialize(instance, DAILY_GMV_METRICS.asset_key, D14, D15, D16)
        context = dg.build_sensor_context(instance=instance)
        assert isinstance(new_users_refresh_sensor(context), dg.SkipReason)

        silver_with_gates(instance, D14)  # late data re-ran D14's Silver
        materialize(instance, DAILY_GMV_METRICS.asset_key, D14)
        (request,) = new_users_refresh_sensor(dg.build_sensor_context(instance=instance))
        assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2026-02-15", "2026-02-16")
        assert request.job_name in (None, "new_users_refresh")
        assert request.tags[CHANGED_DAYS_TAG] == "2026-02-14"  # the run says which earlier day changed

        materialize(instance, DAILY_GMV_METRICS.asset_key, D15, D16)
        assert isinstance(new_users_refresh_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)


def test_refresh_sensor_skips_days_whose_gates_failed_or_are_not_current():
    with dg.instance_for_test() as instance:
        d17 = date(2026, 2, 17)
        silver_with_gates(instance, D14, D15, D16, d17)
        materialize(instance, DAILY_GMV_METRICS.asset_key, D14, D15, D16, d17)
        silver_with_gates(instance, D14)
        silver_with_gates(instance, D16, passed=False)  # a bad re-run of D16: its gates fail
        requests = new_users_refresh_sensor(dg.build_sensor_context(instance=instance))
        assert [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in requests] == [
            ("2026-02-15", "2026-02-15"),
            ("2026-02-17", "2026-02-17"),
        ]
        assert {r.tags[CHANGED_DAYS_TAG] for r in requests} == {"2026-02-14, 2026-02-16"}
        materialize(instance, CLICKS_CLEAN.asset_key, d17)  # Silver newer than its gate results
        (request,) = new_users_refresh_sensor(dg.build_sensor_context(instance=instance))
        assert request.tags[RANGE_START_TAG] == request.tags[RANGE_END_TAG] == "2026-02-15"


# --- alerts -----------------------------------------------------------------------------------


def evaluate_alerts(instance, url, cursor=None):
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"alerts": AlertWebhookResource(url=url, backoff_seconds=0.01, ui_url=UI)},
    )
    alert_sensor(context)
    return context.cursor


@pytest.fixture(scope="module")
def gate_failure_instance(tmp_path_factory):
    """A real instance holding one run whose Silver gates failed (a day with 20% garbage)."""
    root = tmp_path_factory.mktemp("gates")
    generate_landing(root / "landing", D14, 1, orders_per_day=300, clicks_per_day=1500, seed=9, rates=AnomalyRates(malformed=0.2))
    with dg.instance_for_test() as instance:
        selection = [ORDERS_RAW.asset_key, CLICKS_RAW.asset_key, ORDERS_CLEAN.asset_key, dg.AssetKey(["silver", "clicks_clean"])]
        result = execute_range(make_defs(root / "landing", root / "warehouse"), D14, D14, selection, instance)
        failed = [e for e in result.all_events if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION and not e.event_specific_data.passed]
        assert result.success and len(failed) == 2  # Silver is written; its gates fail, not the run
        yield instance, result.run_id


def test_alert_sensor_posts_each_failed_check_once(gate_failure_instance, receiver):
    instance, run_id = gate_failure_instance
    cursor = evaluate_alerts(instance, receiver.url)
    texts = sorted(post["text"] for post in receiver.posts)
    assert len(texts) == 2  # valid_rate of orders and of clicks; the duplicate rates passed
    for text, asset in zip(texts, ["silver/clicks_clean", "silver/orders_clean"]):
        assert f"check `valid_rate` on `{asset}` partition 2026-02-14" in text
        assert "valid rate" in text and "(minimum 95.00%)" in text
        assert f"{UI}/runs/{run_id}" in text
        assert text.startswith("[ERROR]")
    assert all(post["blocks"] for post in receiver.posts)
    evaluate_alerts(instance, receiver.url, cursor)
    assert len(receiver.posts) == 2  # nothing twice, nothing for the checks that passed


def test_alert_sensor_retries_a_failing_webhook_and_keeps_going(gate_failure_instance):
    instance, _ = gate_failure_instance
    down = Receiver(status=500)
    try:
        cursor = evaluate_alerts(instance, down.url)
        # The first alert is tried three times; the rest of the tick goes to the log only.
        assert len(down.posts) == 3
        assert json.loads(cursor)["runs"] is not None
    finally:
        down.close()


def test_alert_sensor_without_a_url_only_logs(gate_failure_instance, capfd):
    instance, _ = gate_failure_instance
    cursor = evaluate_alerts(instance, None)
    assert json.loads(cursor)["runs"] is not None
    assert capfd.readouterr().err.count("FlowGuard alert [ERROR] FlowGuard check failed") == 2


def test_alert_sensor_reports_a_run_failure_that_is_not_a_check(tmp_path, receiver):
    with dg.instance_for_test() as instance:
        result = execute_range(make_defs(tmp_path / "nowhere", tmp_path / "warehouse"), D14, D14, [ORDERS_RAW.asset_key], instance)
        assert not result.success
        evaluate_alerts(instance, receiver.url)
    (post,) = receiver.posts
    assert "FlowGuard run failed" in post["text"]
    assert "partition 2026-02-14" in post["text"]
    assert f"{tmp_path}/nowhere/raw.orders.v1/dt=2026-02-14" in post["text"]


def test_an_unreachable_catalog_is_retried_then_alerted_by_host(tmp_path, receiver):
    landing = tmp_path / "landing"
    generate_landing(landing, D14, 1, orders_per_day=40, clicks_per_day=100)
    down = FoodCatalogResource(host="127.0.0.1", port=1, database="catalog", user="flowguard")
    defs = make_defs(landing, tmp_path / "warehouse", catalog=down)
    with dg.instance_for_test() as instance:
        result = execute_range(defs, D14, D14, [ORDERS_RAW.asset_key, CLICKS_RAW.asset_key, ORDERS_CLEAN.asset_key], instance)
        assert not result.success
        retries = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
        assert [e.step_key for e in retries] == ["silver__orders_clean"] * 2
        evaluate_alerts(instance, receiver.url)
    (post,) = receiver.posts
    assert "Food catalog unreachable: Postgres at 127.0.0.1:1 database 'catalog'" in post["text"]


def test_alert_sensor_posts_late_gold_for_yesterday_once(receiver, monkeypatch):
    import flowguard_assets.automation.alerts as alerts

    class AtThreeUtc(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 11, 27, 3, 0, 30, tzinfo=UTC)

    monkeypatch.setattr(alerts, "datetime", AtThreeUtc)
    with dg.instance_for_test() as instance:
        for key in alerts._GOLD:
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-11-25"))
        cursor = evaluate_alerts(instance, receiver.url)
        evaluate_alerts(instance, receiver.url, cursor)
    assert len(receiver.posts) == 4  # each Gold table once; the day before yesterday does not count
    texts = sorted(post["text"] for post in receiver.posts)
    assert all(t.startswith("[WARN] FlowGuard Gold is late") and "partition 2026-11-26" in t for t in texts)
    assert "`gold/daily_gmv_metrics`" in texts[0]


def test_webhook_url_never_reaches_logs(gate_failure_instance, capfd):
    instance, _ = gate_failure_instance
    down = Receiver(status=503)
    try:
        evaluate_alerts(instance, down.url)
        logged = capfd.readouterr().err
        assert f"Alert webhook at 127.0.0.1:{down.server.server_port} failed" in logged
        assert "FlowGuard alert [ERROR]" in logged
        assert "SECRET-TOKEN" not in logged and "/hooks/" not in logged
    finally:
        down.close()
