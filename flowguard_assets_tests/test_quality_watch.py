"""Beyond the gates (SPEC §4): volume and new fields on Bronze, late Gold per day, and the quality
history in AUDIT.CHECK_RESULTS."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import dagster as dg
import pytest

from flowguard_assets.automation.alerts import alerts_for_run, late_gold_alerts
from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.quality_history import Verdict, record
from flowguard_assets.resources.local_warehouse import LocalWarehouse
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import CHECK_RESULTS, DAILY_GMV_METRICS, ORDERS_PROFILE, ORDERS_RAW
from flowguard_assets.transforms import profile
from flowguard_assets_tests.harness import ORDERS, envelope, make_defs, millis, read_table, write_landing

DAYS = [date(2026, 4, n) for n in range(1, 7)]
UI = "http://127.0.0.1:3000"


def day(n: int, rows: int, **fields: tuple[int, str]) -> profile.DayProfile:
    return profile.DayProfile(date(2026, 4, n), rows, fields)


# --- the rules, in plain Python ----------------------------------------------------------------


@pytest.mark.fast
def test_volume_compares_with_the_median_of_the_seven_latest_days_with_data():
    days = {d.day: d for d in [day(1, 100), day(2, 0), *[day(n, 100 + n) for n in range(3, 11)], day(11, 10)]}
    past = profile.history(days, date(2026, 4, 11))
    assert [p.day.day for p in past] == [4, 5, 6, 7, 8, 9, 10]  # the empty day 2 never counts
    low = profile.volume(days[date(2026, 4, 11)], past, 0.5, 2.0)
    assert (low.passed, low.median, round(low.ratio, 4)) == (False, 107.0, round(10 / 107, 4))
    high = profile.volume(day(11, 300), past, 0.5, 2.0)
    assert not high.passed and high.ratio > 2
    assert profile.volume(day(11, 120), past, 0.5, 2.0).passed


@pytest.mark.fast
def test_volume_needs_three_earlier_days_and_says_so():
    result = profile.volume(day(3, 5), [day(1, 100), day(2, 100)], 0.5, 2.0)
    assert result.passed and result.median is None
    assert "2 earlier days with data, 3 needed" in result.description


@pytest.mark.fast
def test_new_fields_are_unknown_to_the_contract_and_to_the_days_before():
    past = [day(1, 10, promo=(3, "a")), day(2, 10)]
    today = day(3, 10, event_id=(10, "e"), promo=(1, "b"), ad_id=(4, "ad-7"), coupon=(2, '{"x": 1}'))
    result = profile.new_fields(today, past, ORDERS_RAW.event_fields)
    assert not result.passed
    assert result.new == {"ad_id": {"events": 4, "example": "ad-7"}, "coupon": {"events": 2, "example": '{"x": 1}'}}
    assert "ad_id (4 events), coupon (2 events)" in result.description
    # No minimum history: a field is reported on the first day it appears.
    assert not profile.new_fields(day(1, 10, ad_id=(1, "x")), [], ORDERS_RAW.event_fields).passed
    assert profile.new_fields(day(1, 10, order_type=(1, "placed")), [], ORDERS_RAW.event_fields).passed


@pytest.mark.fast
def test_profile_counts_rows_fields_and_keeps_a_short_example_of_unknown_fields(spark):
    long = "x" * 200
    lines = [
        ('{"event_id": "a", "note": "%s"}' % long,),
        ('{"event_id": "b", "nested": {"k": [1, 2]}}',),
        ("not json",),
    ]
    bronze = spark.createDataFrame([(text, DAYS[0]) for (text,) in lines], "RAW_EVENT string, PARTITION_DATE date")
    rows = {r["FIELD"]: r for r in profile.to_profile(bronze, ORDERS_RAW.event_fields, {DAYS[0]: 3})}
    assert {f: (r["ROW_COUNT"], r["EVENTS"]) for f, r in rows.items()} == {"event_id": (3, 2), "note": (3, 1), "nested": (3, 1)}
    assert rows["note"]["EXAMPLE"] == "x" * 80
    assert rows["nested"]["EXAMPLE"] == '{"k":[1,2]}'
    assert rows["event_id"]["EXAMPLE"] is None  # a contract field needs no example
    empty = spark.createDataFrame([("not json", DAYS[1])], "RAW_EVENT string, PARTITION_DATE date")
    (only,) = profile.to_profile(empty, ORDERS_RAW.event_fields, {DAYS[1]: 1})
    assert (only["ROW_COUNT"], only["FIELD"]) == (1, None)


# --- through Dagster ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def watched(tmp_path_factory):
    """Five ordinary days, then a sixth with a tenth of the volume and a new order field."""
    root = tmp_path_factory.mktemp("watch")
    landing, warehouse = root / "landing", root / "warehouse"
    generate_landing(landing, DAYS[0], 5, orders_per_day=300, clicks_per_day=1200, seed=21)
    clean = AnomalyRates(sink_redelivery=0, producer_retry=0, malformed=0, invalid_field=0, unknown_item=0, late=0)
    generate_landing(landing, DAYS[5], 1, orders_per_day=30, clicks_per_day=120, seed=22, rates=clean)
    promo = [
        envelope(
            {"event_id": f"promo-{n}", "timestamp": f"{DAYS[5]}T18:00:00Z", "order_id": f"promo-{n}",
             "user_id": 5000 + n, "item_id": 2, "price": 12.5, "promo_code": "SPRING24"},
            partition=55, offset=n, timestamp_ms=millis(f"{DAYS[5]}T18:00:01"),
        )
        for n in range(2)
    ]  # fmt: skip
    write_landing(landing, ORDERS, DAYS[5], "promo.jsonl", promo)
    with dg.instance_for_test() as instance:
        result = execute_range(make_defs(landing, warehouse), DAYS[0], DAYS[-1], None, instance)
        yield {"result": result, "instance": instance, "warehouse": warehouse}


def evaluations(result, check: str, asset=ORDERS_RAW.asset_key):
    return {
        e.event_specific_data.partition: e.event_specific_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.check_name == check
        and e.event_specific_data.asset_key == asset
    }


def test_volume_and_new_fields_warn_per_partition_and_never_block(watched):
    result = watched["result"]
    assert result.success, "WARN checks never fail a run"
    volume, fields = evaluations(result, "volume"), evaluations(result, "new_fields")
    assert sorted(volume) == sorted(fields) == [d.isoformat() for d in DAYS]  # one per day of the range
    assert all(e.severity == dg.AssetCheckSeverity.WARN for e in [*volume.values(), *fields.values()])
    assert [p for p, e in volume.items() if not e.passed] == [DAYS[5].isoformat()]
    low = volume[DAYS[5].isoformat()].metadata
    assert low["ratio"].value < 0.5 and low["median"].value > 250
    assert low["days_compared"].value == [d.isoformat() for d in DAYS[:5]]  # earlier days of the run
    assert "earlier days with data, 3 needed" in volume[DAYS[1].isoformat()].description
    assert [p for p, e in fields.items() if not e.passed] == [DAYS[5].isoformat()]
    new = fields[DAYS[5].isoformat()].metadata["new_fields"].value
    assert new == {"promo_code": {"events": 2, "example": "SPRING24"}}
    gold_days = {r["DATE"] for r in read_table(watched["warehouse"], DAILY_GMV_METRICS)}
    assert DAYS[5] in gold_days  # a warning does not block Gold


def test_history_comes_from_the_per_day_profile(watched):
    rows = read_table(watched["warehouse"], ORDERS_PROFILE)
    counts = {r["PARTITION_DATE"]: r["ROW_COUNT"] for r in rows}
    bronze = read_table(watched["warehouse"], ORDERS_RAW)
    assert counts == {d: sum(r["PARTITION_DATE"] == d for r in bronze) for d in DAYS}
    assert {r["FIELD"] for r in rows if r["PARTITION_DATE"] == DAYS[5]} >= {"promo_code", "event_id"}


def test_warnings_are_alerted_with_their_figures_as_warnings(watched):
    alerts = alerts_for_run(watched["instance"], watched["result"].run_id, UI)
    mine = {(a.asset, a.check, a.partition): a for a in alerts}
    volume = mine[("bronze/orders_raw", "volume", DAYS[5].isoformat())]
    assert volume.severity == "WARN" and "not blocking" in volume.title
    assert "times the median" in volume.detail
    assert "promo_code" in mine[("bronze/orders_raw", "new_fields", DAYS[5].isoformat())].detail
    assert all(a.severity == "WARN" for a in alerts)  # no gate failed, no run failure
    assert volume.text.startswith("[WARN] FlowGuard warning (not blocking)")


def test_every_evaluation_of_the_run_is_in_the_quality_history(watched):
    rows = read_table(watched["warehouse"], CHECK_RESULTS)
    run_id = watched["result"].run_id
    assert {r["RUN_ID"] for r in rows} == {run_id}
    per_day = 4 + 4 + 12  # Bronze volume/new fields x2, Silver gates x2, Gold checks x4 tables
    assert len(rows) == per_day * len(DAYS)
    (low,) = [r for r in rows if (r["CHECK_NAME"], r["ASSET_KEY"], r["PARTITION_DATE"]) == ("volume", "bronze/orders_raw", DAYS[5])]
    assert (low["PASSED"], low["SEVERITY"]) == (False, "WARN") and low["OBSERVED"] < 0.5
    (gate,) = [r for r in rows if (r["CHECK_NAME"], r["ASSET_KEY"], r["PARTITION_DATE"]) == ("valid_rate", "silver/orders_clean", DAYS[0])]
    assert gate["SEVERITY"] == "ERROR" and gate["THRESHOLD"] == Decimal("0.95") and '"valid_rate"' in gate["DETAILS"]


def test_writing_a_runs_evaluations_again_replaces_that_runs_rows_only(spark, tmp_path):
    warehouse = LocalWarehouse(root=str(tmp_path))
    gate = dg.AssetCheckKey(dg.AssetKey(["silver", "orders_clean"]), "valid_rate")
    dup = dg.AssetCheckKey(dg.AssetKey(["silver", "orders_clean"]), "duplicate_rate")
    volume = dg.AssetCheckKey(ORDERS_RAW.asset_key, "volume")
    record(warehouse, "run-a", [Verdict(gate, DAYS[0], False, {}, observed=0.8), Verdict(dup, DAYS[0], True, {})])
    record(warehouse, "run-a", [Verdict(volume, DAYS[0], True, {}, severity=dg.AssetCheckSeverity.WARN)])
    record(warehouse, "run-b", [Verdict(gate, DAYS[0], True, {}, observed=0.99)])
    record(warehouse, "run-a", [Verdict(gate, DAYS[0], True, {}, observed=0.97)])  # run-a again
    rows = sorted((r["RUN_ID"], r["CHECK_NAME"], r["PASSED"]) for r in read_table(tmp_path, CHECK_RESULTS))
    assert rows == [("run-a", "valid_rate", True), ("run-a", "volume", True), ("run-b", "valid_rate", True)]


# --- late Gold, per day ------------------------------------------------------------------------


def test_late_gold_is_alerted_per_table_and_day_once_and_another_day_does_not_hide_it():
    yesterday = date(2026, 11, 26)
    with dg.instance_for_test() as instance:
        for key in (DAILY_GMV_METRICS.asset_key, dg.AssetKey(["gold", "hourly_order_patterns"])):
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=yesterday.isoformat()))
        # A backfill of an old day just now: Gold of some day is fresh, yesterday's is not.
        for key in (dg.AssetKey(["gold", "food_item_performance"]), dg.AssetKey(["gold", "user_funnel_metrics"])):
            instance.report_runless_asset_event(dg.AssetMaterialization(key, partition="2026-03-01"))
        alerted: list[str] = []
        before = datetime(2026, 11, 27, 2, 59, tzinfo=UTC)
        assert late_gold_alerts(instance, alerted, before, UI) == []
        at = datetime(2026, 11, 27, 3, 0, 30, tzinfo=UTC)
        alerts = late_gold_alerts(instance, alerted, at, UI)
        assert sorted((a.asset, a.partition) for a in alerts) == [
            ("gold/food_item_performance", "2026-11-26"),
            ("gold/user_funnel_metrics", "2026-11-26"),
        ]
        assert all(a.severity == "WARN" and "03:00 UTC" in a.detail for a in alerts)
        assert late_gold_alerts(instance, alerted, at + timedelta(minutes=5), UI) == []  # once
        next_day = late_gold_alerts(instance, alerted, at + timedelta(days=1), UI)
        assert len(next_day) == 4 and {a.partition for a in next_day} == {"2026-11-27"}
    with dg.instance_for_test() as unused:  # Gold never materialized: not in use yet, no alert
        assert late_gold_alerts(unused, [], at, UI) == []


def test_status_shows_the_latest_volume_and_new_fields_result_per_day(watched):
    from flowguard_assets.cli.status import render, watch_statuses

    statuses = watch_statuses(watched["instance"], DAYS)
    cells = {(s.asset, s.day): s.state for s in statuses}
    assert cells[("bronze/orders_raw:volume", DAYS[5])] == "warning"
    assert cells[("bronze/orders_raw:new_fields", DAYS[5])] == "warning"
    assert cells[("bronze/orders_raw:volume", DAYS[0])] == "ok"
    grid = render(statuses, DAYS, {})
    assert any(line.startswith("bronze/orders_raw:volume") and line.split()[-1] == "!" for line in grid.splitlines())


@pytest.mark.fast
def test_the_quality_history_is_an_asset_users_find_in_the_ui():
    from flowguard_assets import defs

    spec = next(s for s in defs.resolve_all_asset_specs() if s.key == CHECK_RESULTS.asset_key)
    assert spec.group_name == "audit" and "Every check evaluation" in spec.description
    columns = [c.name for c in spec.metadata["dagster/column_schema"].columns]
    assert columns == CHECK_RESULTS.column_names
    assert CHECK_RESULTS.asset_key not in defs.resolve_asset_graph().materializable_asset_keys
