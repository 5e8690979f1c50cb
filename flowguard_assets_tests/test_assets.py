"""The assets through Dagster: real runs on a real (ephemeral) instance, real Spark, real files."""

import gzip
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.failures import step_failure_reason
from flowguard_assets.tables import (
    CLICKS_RAW,
    DAILY_BUYERS,
    DAILY_GMV_METRICS,
    HOURLY_ORDER_PATTERNS,
    ORDERS_CLEAN,
    ORDERS_RAW,
)
from flowguard_assets_tests.harness import (
    CLICKS,
    ORDERS,
    envelope,
    make_defs,
    millis,
    read_table,
    without,
    write_landing,
)

FEB = date(2026, 2, 1)
BRONZE = [ORDERS_RAW.asset_key, CLICKS_RAW.asset_key]


def snapshot(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Every data file of the warehouse with its size and modification time."""
    return {
        str(p.relative_to(warehouse)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in warehouse.rglob("*.parquet")
        if not any(part.startswith("_") for part in p.relative_to(warehouse).parts)
    }


def days(*numbers: int) -> list[date]:
    return [date(2026, 2, n) for n in numbers]


@pytest.fixture
def small_landing(dirs):
    summary = generate_landing(dirs["landing"], date(2026, 2, 14), 3, orders_per_day=300, clicks_per_day=1500, seed=3)
    return dirs, summary


def run(dirs, start, end, selection=None, instance=None, catalog=None):
    defs = make_defs(dirs["landing"], dirs["warehouse"], catalog)
    return execute_range(defs, start, end, selection, instance or dg.DagsterInstance.ephemeral())


def failure_messages(result: dg.ExecuteInProcessResult) -> str:
    return "\n".join(
        step_failure_reason(event.event_specific_data)
        for event in result.all_events
        if event.event_type == dg.DagsterEventType.STEP_FAILURE
    )


def test_bronze_range_is_one_run_and_one_day_can_be_replaced_alone(small_landing):
    dirs, summary = small_landing
    instance = dg.DagsterInstance.ephemeral()
    result = run(dirs, date(2026, 2, 14), date(2026, 2, 16), BRONZE, instance)
    assert result.success
    assert len(instance.get_runs()) == 1
    orders = read_table(dirs["warehouse"], ORDERS_RAW)
    clicks = read_table(dirs["warehouse"], CLICKS_RAW)
    assert (len(orders), len(clicks)) == (summary.order_lines, summary.click_lines)
    assert {r["PARTITION_DATE"] for r in orders} == set(days(14, 15, 16))
    materialized = result.get_asset_materialization_events()
    assert sorted(e.partition for e in materialized if e.asset_key == ORDERS_RAW.asset_key) == [
        "2026-02-14",
        "2026-02-15",
        "2026-02-16",
    ]

    before = snapshot(dirs["warehouse"])
    assert run(dirs, date(2026, 2, 15), date(2026, 2, 15), BRONZE, instance).success
    after = snapshot(dirs["warehouse"])
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed and all("=2026-02-15" in path for path in changed)
    assert without(read_table(dirs["warehouse"], ORDERS_RAW), "INGESTION_TIMESTAMP") == without(
        orders, "INGESTION_TIMESTAMP"
    )


def test_missing_landing_folder_fails_naming_it_and_changes_nothing(small_landing):
    dirs, _ = small_landing
    assert run(dirs, date(2026, 2, 14), date(2026, 2, 14), BRONZE).success
    before = snapshot(dirs["warehouse"])
    result = run(dirs, date(2026, 2, 14), date(2026, 2, 17), BRONZE)
    assert not result.success
    assert f"{dirs['landing']}/raw.orders.v1/dt=2026-02-17" in failure_messages(result)
    assert snapshot(dirs["warehouse"]) == before


def test_corrupt_gzip_fails_with_its_path_and_changes_nothing(small_landing):
    dirs, _ = small_landing
    assert run(dirs, date(2026, 2, 14), date(2026, 2, 15), BRONZE).success
    before = snapshot(dirs["warehouse"])
    broken = dirs["landing"] / ORDERS / "dt=2026-02-15" / "zz-broken.jsonl.gz"
    payload = gzip.compress(b"".join(envelope({"n": n}).encode() + b"\n" for n in range(200)))
    broken.write_bytes(payload[: len(payload) // 2])
    result = run(dirs, date(2026, 2, 14), date(2026, 2, 15), [ORDERS_RAW.asset_key])
    assert not result.success
    assert f"Cannot read landing file {broken}" in failure_messages(result)
    assert snapshot(dirs["warehouse"]) == before


def test_unreachable_catalog_fails_silver_clearly_and_keeps_it(small_landing):
    dirs, _ = small_landing
    day = date(2026, 2, 14)
    assert run(dirs, day, day, BRONZE + [ORDERS_CLEAN.asset_key]).success
    before = snapshot(dirs["warehouse"])
    down = FoodCatalogResource(host="127.0.0.1", port=1, database="catalog", user="flowguard", password="s3cret-SENTINEL")
    result = run(dirs, day, day, [ORDERS_CLEAN.asset_key], catalog=down)
    assert not result.success
    message = failure_messages(result)
    assert "Food catalog unreachable: Postgres at 127.0.0.1:1" in message
    assert "s3cret-SENTINEL" not in message
    assert snapshot(dirs["warehouse"]) == before


def test_silver_enriches_from_a_postgres_catalog(small_landing, pg_database):
    import psycopg2

    dirs, _ = small_landing
    with psycopg2.connect(**pg_database) as connection, connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE foods (food_id integer PRIMARY KEY, name text, category text,"
            " price numeric(10,2), description text, image_url text, is_available boolean,"
            " created_at timestamp)"
        )
        cursor.execute(
            "INSERT INTO foods SELECT g, 'PG dish ' || g, 'PG', 9.99, 'from postgres', NULL, true,"
            " now() FROM generate_series(1, 48) g"
        )
    catalog = FoodCatalogResource(
        host=pg_database["host"],
        port=pg_database["port"],
        database=pg_database["dbname"],
        user=pg_database["user"],
    )
    day = date(2026, 2, 14)
    assert run(dirs, day, day, BRONZE + [ORDERS_CLEAN.asset_key], catalog=catalog).success
    enriched = {r["ENRICHED_ITEM_NAME"] for r in read_table(dirs["warehouse"], ORDERS_CLEAN) if r["IS_VALID"]}
    assert enriched and all(name.startswith("PG dish ") for name in enriched)


def test_failing_gate_blocks_gold_for_that_partition_in_the_same_run(dirs):
    bad_day = date(2026, 2, 20)
    generate_landing(dirs["landing"], bad_day, 1, orders_per_day=150, clicks_per_day=600, seed=5, rates=AnomalyRates(malformed=0.2))
    instance = dg.DagsterInstance.ephemeral()
    result = run(dirs, bad_day, bad_day, instance=instance)
    assert not result.success
    check = dg.AssetCheckKey(ORDERS_CLEAN.asset_key, "valid_rate")
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
        and e.event_specific_data.asset_check_key == check
    ]
    assert [(e.partition, e.passed) for e in evaluations] == [("2026-02-20", False)]
    assert evaluations[0].metadata["valid_rate"].value < 0.95
    assert evaluations[0].metadata["top_validation_errors"].value["malformed_record"] > 0
    assert read_table(dirs["warehouse"], ORDERS_CLEAN)  # Silver keeps every row for investigation
    assert read_table(dirs["warehouse"], DAILY_GMV_METRICS) == []
    assert read_table(dirs["warehouse"], HOURLY_ORDER_PATTERNS) == []
    materialized = {e.asset_key.path[0] for e in result.get_asset_materialization_events()}
    assert materialized == {"bronze", "silver"}


def test_check_results_are_recorded_per_partition(small_landing):
    dirs, _ = small_landing
    instance = dg.DagsterInstance.ephemeral()
    assert run(dirs, date(2026, 2, 14), date(2026, 2, 16), instance=instance).success
    for asset_key, name in [
        (ORDERS_CLEAN.asset_key, "valid_rate"),
        (ORDERS_CLEAN.asset_key, "duplicate_rate"),
        (DAILY_GMV_METRICS.asset_key, "reconciles_with_silver"),
    ]:
        history = instance.event_log_storage.get_asset_check_execution_history(
            dg.AssetCheckKey(asset_key, name), limit=10
        )
        partitions = sorted(r.event.dagster_event.event_specific_data.partition for r in history)
        assert partitions == ["2026-02-14", "2026-02-15", "2026-02-16"]
        assert all(r.status.value == "SUCCEEDED" for r in history)


def test_rematerializing_a_day_twice_is_idempotent_and_local(small_landing):
    dirs, _ = small_landing
    instance = dg.DagsterInstance.ephemeral()
    assert run(dirs, date(2026, 2, 14), date(2026, 2, 16), instance=instance).success
    tables = [ORDERS_RAW, ORDERS_CLEAN, DAILY_BUYERS, DAILY_GMV_METRICS, HOURLY_ORDER_PATTERNS]
    stamps = ("INGESTION_TIMESTAMP", "LOAD_TIMESTAMP")
    first = {t.name: without(read_table(dirs["warehouse"], t), *stamps) for t in tables}
    before = snapshot(dirs["warehouse"])
    for _ in range(2):
        assert run(dirs, date(2026, 2, 15), date(2026, 2, 15), instance=instance).success
    after = snapshot(dirs["warehouse"])
    changed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
    assert changed and all("=2026-02-15" in path for path in changed)
    assert {t.name: without(read_table(dirs["warehouse"], t), *stamps) for t in tables} == first


def test_late_order_for_an_earlier_day_corrects_new_users(dirs):
    def order_line(day, user, offset, late=False):
        event = {
            "event_id": f"e-{day.day}-{user}",
            "timestamp": f"{day.isoformat()}T12:00:00Z",
            "order_id": f"o-{day.day}-{user}",
            "user_id": user,
            "item_id": 1,
            "price": 10,
        }
        stamp = millis(f"{day.isoformat()}T12:00:01") + (86_400_000 * 2 if late else 0)
        return envelope(event, offset=offset, timestamp_ms=stamp)

    d1, d2, d3 = days(10, 11, 12)
    for n, (day, users) in enumerate([(d1, [1]), (d2, [2]), (d3, [3, 4])]):
        write_landing(dirs["landing"], ORDERS, day, "a.jsonl", [order_line(day, u, 10 * n + u) for u in users])
        write_landing(dirs["landing"], CLICKS, day, "a.jsonl", [])
    instance = dg.DagsterInstance.ephemeral()
    assert run(dirs, d1, d3, instance=instance).success
    gmv = {r["DATE"]: r for r in read_table(dirs["warehouse"], DAILY_GMV_METRICS)}
    assert (gmv[d3]["NEW_USERS"], gmv[d3]["RETURNING_USERS"]) == (2, 0)

    # User 3's order of d1 arrives late, in a new file of d1's folder.
    write_landing(dirs["landing"], ORDERS, d1, "late-1.jsonl", [order_line(d1, 3, 99, late=True)])
    assert run(dirs, d1, d1, instance=instance).success
    assert run(dirs, d2, d3, [DAILY_GMV_METRICS.asset_key], instance=instance).success
    gmv = {r["DATE"]: r for r in read_table(dirs["warehouse"], DAILY_GMV_METRICS)}
    assert (gmv[d1]["NEW_USERS"], gmv[d1]["ORDER_COUNT"]) == (2, 2)
    assert (gmv[d3]["NEW_USERS"], gmv[d3]["RETURNING_USERS"]) == (1, 1)
    assert gmv[d2]["REVENUE_GROWTH_PCT"] == -50  # 10 vs 20 on d1 with the late order
