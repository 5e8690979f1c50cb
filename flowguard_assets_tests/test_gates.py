"""Per-day gates on every path to Gold (SPEC §4): range runs, Gold-only runs, the refresh sensor."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.automation import sensors
from flowguard_assets.automation.alerts import alerts_for_run
from flowguard_assets.generate import generate_landing
from flowguard_assets.partitions import RANGE_END_TAG, RANGE_START_TAG
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import (
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    USER_FUNNEL_METRICS,
)
from flowguard_assets_tests.harness import ORDERS, envelope, make_defs, millis, read_table, without, write_landing
from flowguard_assets_tests.test_assets import failure_messages, snapshot
from flowguard_assets_tests.test_cli import cli, env  # noqa: F401  (the `env` fixture)

DAYS = [date(2026, 3, n) for n in range(1, 6)]
GOLD = (DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE, USER_FUNNEL_METRICS, HOURLY_ORDER_PATTERNS)
STAMPS = ("LOAD_TIMESTAMP",)

_, new_users_refresh_sensor, _ = sensors(interval_seconds=30)


def spoil(landing: Path, day: date, lines: int = 90) -> None:
    """Unreadable order lines for `day`: its orders valid rate falls far below 95%; clicks stay good."""
    write_landing(landing, ORDERS, day, "garbage.jsonl", [f"not json {n}" for n in range(lines)])


def gold_of(warehouse: Path, day: date) -> dict[str, list[dict]]:
    return {t.name: without([r for r in read_table(warehouse, t) if r["DATE"] == day], *STAMPS) for t in GOLD}


def totals_by_day(warehouse: Path) -> dict[date, dict[str, tuple[Decimal, int | None]]]:
    """Per day and Gold table: (revenue, distinct orders where the table counts them)."""
    by_day: dict[date, dict[str, tuple[Decimal, int | None]]] = {}
    for table, orders in [(DAILY_GMV_METRICS, "ORDER_COUNT"), (USER_FUNNEL_METRICS, "TOTAL_ORDERS")]:
        for row in read_table(warehouse, table):
            by_day.setdefault(row["DATE"], {})[table.name] = (row["TOTAL_REVENUE"], row[orders])
    for table in (HOURLY_ORDER_PATTERNS, FOOD_ITEM_PERFORMANCE):
        sums: dict[date, Decimal] = {}
        for row in read_table(warehouse, table):
            sums[row["DATE"]] = sums.get(row["DATE"], Decimal(0)) + row["TOTAL_REVENUE"]
        for day, revenue in sums.items():
            by_day.setdefault(day, {})[table.name] = (revenue, None)
    return by_day


def assert_gold_tables_agree(warehouse: Path) -> None:
    for day, figures in totals_by_day(warehouse).items():
        assert len({revenue for revenue, _ in figures.values()}) == 1, (day, figures)
        orders = figures[DAILY_GMV_METRICS.name][1], figures[USER_FUNNEL_METRICS.name][1]
        assert orders[0] == orders[1], (day, figures)


@pytest.fixture
def five_days(dirs):
    generate_landing(dirs["landing"], DAYS[0], 5, orders_per_day=300, clicks_per_day=1200, seed=17)
    instance = dg.DagsterInstance.ephemeral()
    defs = make_defs(dirs["landing"], dirs["warehouse"])
    assert execute_range(defs, DAYS[0], DAYS[-1], None, instance).success
    return dirs, defs, instance


def test_a_bad_day_in_a_range_blocks_only_its_own_gold(five_days):
    dirs, defs, instance = five_days
    warehouse = dirs["warehouse"]
    before_day3 = gold_of(warehouse, DAYS[2])
    spoil(dirs["landing"], DAYS[2])

    result = execute_range(defs, DAYS[0], DAYS[-1], None, instance)

    assert not result.success
    assert f"Gold not written for {DAYS[2]} (silver/orders_clean valid_rate failed: valid rate" in failure_messages(result)
    written = {(e.asset_key.to_user_string(), e.partition) for e in result.get_asset_materialization_events()}
    for table in GOLD:
        key = table.asset_key.to_user_string()
        assert {p for k, p in written if k == key} == {d.isoformat() for d in DAYS if d != DAYS[2]}
    assert gold_of(warehouse, DAYS[2]) == before_day3  # the blocked day keeps the Gold it had
    gmv = {r["DATE"]: r for r in read_table(warehouse, DAILY_GMV_METRICS)}
    assert gmv[DAYS[3]]["REVENUE_GROWTH_PCT"] is None and gmv[DAYS[3]]["ORDER_GROWTH_PCT"] is None
    assert gmv[DAYS[1]]["REVENUE_GROWTH_PCT"] is not None and gmv[DAYS[4]]["REVENUE_GROWTH_PCT"] is not None
    assert_gold_tables_agree(warehouse)

    alerts = alerts_for_run(instance, result.run_id, "http://127.0.0.1:3000")
    assert [(a.partition, a.asset, a.check) for a in alerts] == [(DAYS[2].isoformat(), "silver/orders_clean", "valid_rate")]

    # Gold-only, for the blocked day: refused with the gate's reason, nothing changes.
    before = snapshot(warehouse)
    gold_only = execute_range(defs, DAYS[2], DAYS[2], [t.asset_key for t in GOLD], instance)
    assert not gold_only.success
    assert "Gold not written for 2026-03-03 (silver/orders_clean valid_rate failed" in failure_messages(gold_only)
    assert snapshot(warehouse) == before
    (alert,) = alerts_for_run(instance, gold_only.run_id, "http://127.0.0.1:3000")
    assert "Gold not written for 2026-03-03" in alert.detail


def test_new_users_are_read_from_every_earlier_day_even_a_blocked_one(five_days):
    dirs, defs, instance = five_days
    good = {r["DATE"]: r["NEW_USERS"] for r in read_table(dirs["warehouse"], DAILY_GMV_METRICS)}
    spoil(dirs["landing"], DAYS[2])
    execute_range(defs, DAYS[0], DAYS[-1], None, instance)
    after = {r["DATE"]: r["NEW_USERS"] for r in read_table(dirs["warehouse"], DAILY_GMV_METRICS)}
    assert after == good  # garbage lines add no buyers: NEW_USERS of every day is unchanged


def test_the_refresh_sensor_never_rebuilds_a_blocked_day(five_days):
    dirs, defs, instance = five_days
    warehouse = dirs["warehouse"]
    spoil(dirs["landing"], DAYS[1])
    before_day2 = gold_of(warehouse, DAYS[1])
    bad = execute_range(defs, DAYS[1], DAYS[1], None, instance)  # Bronze -> Silver -> gates fail
    assert not bad.success
    assert gold_of(warehouse, DAYS[1]) == before_day2

    # Day 2's Silver changed after the Gold of days 3..5: those are refreshed, day 2 is not.
    request = new_users_refresh_sensor(dg.build_sensor_context(instance=instance))
    (request,) = request if isinstance(request, list) else [request]
    assert (request.tags[RANGE_START_TAG], request.tags[RANGE_END_TAG]) == ("2026-03-03", "2026-03-05")
    refresh = execute_range(defs, DAYS[2], DAYS[4], [DAILY_GMV_METRICS.asset_key], instance)
    assert refresh.success, failure_messages(refresh)
    gmv = {r["DATE"]: r for r in read_table(warehouse, DAILY_GMV_METRICS)}
    assert gmv[DAYS[2]]["REVENUE_GROWTH_PCT"] is None  # against a blocked day
    assert gold_of(warehouse, DAYS[1]) == before_day2
    assert_gold_tables_agree(warehouse)

    # Nothing is stale on a day whose gates pass: the sensor launches nothing, now or later.
    assert isinstance(new_users_refresh_sensor(dg.build_sensor_context(instance=instance)), dg.SkipReason)


def test_gold_built_alone_from_changed_silver_fails_agreement(five_days):
    dirs, defs, instance = five_days
    day = DAYS[0]
    late = [
        envelope(
            {"event_id": f"late-{n}", "timestamp": f"{day}T12:00:00Z", "order_id": f"late-{n}",
             "user_id": 900_000 + n, "item_id": 1, "price": "10.00"},
            partition=77, offset=n, timestamp_ms=millis(f"{day}T12:00:01"),
        )
        for n in range(5)
    ]  # fmt: skip
    write_landing(dirs["landing"], ORDERS, day, "late-1.jsonl", late)
    silver = [k for k in defs.resolve_asset_graph().materializable_asset_keys if k.path[0] != "gold"]
    assert execute_range(defs, day, day, silver, instance).success  # gates pass on the new Silver
    gmv_only = execute_range(defs, day, day, [DAILY_GMV_METRICS.asset_key], instance)
    assert gmv_only.success
    (agreement,) = [
        e.event_specific_data
        for e in gmv_only.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.check_name == "agrees_with_other_gold"
    ]
    assert not agreement.passed
    assert USER_FUNNEL_METRICS.name in agreement.description


def test_gold_only_materialize_of_a_blocked_day_from_the_dagster_cli(env):  # noqa: F811
    landing = Path(env["FLOWGUARD_LANDING_DIR"])
    day = DAYS[0]
    generate_landing(landing, day, 1, orders_per_day=300, clicks_per_day=1200, seed=5)
    spoil(landing, day)
    upstream = "bronze/orders_raw,bronze/clicks_raw,silver/orders_clean,silver/clicks_clean"
    silver = cli(env, "dagster", "asset", "materialize", "-m", "flowguard_assets", "--select", upstream, "--partition", day.isoformat())
    assert silver.returncode == 0, silver.stderr[-3000:]  # a failed ERROR check does not fail Silver
    warehouse = Path(env["FLOWGUARD_WAREHOUSE_DIR"])
    before = snapshot(warehouse)
    gold = ",".join(t.asset_key.to_user_string() for t in GOLD)
    refused = cli(env, "dagster", "asset", "materialize", "-m", "flowguard_assets", "--select", gold, "--partition", day.isoformat())
    assert refused.returncode != 0
    assert "Gold not written for 2026-03-01 (silver/orders_clean valid_rate failed: valid rate" in refused.stderr
    assert snapshot(warehouse) == before
    assert read_table(warehouse, DAILY_GMV_METRICS) == []

    ran = cli(env, "flowguard", "run", "--start", day.isoformat(), "--select", "gold")
    assert ran.returncode == 1
    assert "✗ gold: Gold not written for 2026-03-01 (silver/orders_clean valid_rate failed" in ran.stdout
    status = cli(env, "flowguard", "status", "--start", day.isoformat())
    assert "Gold blocked for 2026-03-01: silver/orders_clean valid_rate failed" in status.stdout
    gold_rows = [line.split() for line in status.stdout.splitlines() if line.startswith("gold/")]
    assert gold_rows and all(cells[1] == "⊘" for cells in gold_rows)
