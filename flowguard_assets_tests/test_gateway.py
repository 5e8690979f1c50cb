"""What the real producers send, end to end through Dagster: the events gateway's landing zone
(SPEC 1.1) and today's sample data with other producers' timestamp forms. Every figure is checked
against the tests' own plain-Python reading of SPEC (contract.py), not against the transforms."""

import gzip
import json
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.generate import generate_landing, producer_catalog, write_catalog
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import (
    CLICKS_CLEAN,
    CLICKS_RAW,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    ORDERS_CLEAN,
    ORDERS_RAW,
    USER_FUNNEL_METRICS,
)
from flowguard_assets_tests import contract
from flowguard_assets_tests.harness import envelope, make_defs, millis, read_table, write_landing

DAYS = [date(2026, 2, 14), date(2026, 2, 15)]
GMV = ("TOTAL_REVENUE", "ORDER_COUNT", "TOTAL_ITEMS_SOLD", "UNIQUE_USERS", "NEW_USERS",
       "CANCELLED_ORDERS", "REVENUE_GROWTH_PCT")
FUNNEL = ("TOTAL_SESSIONS", "TOTAL_IMPRESSIONS", "TOTAL_CLICKS", "IMPRESSION_TO_CLICK_RATE",
          "CLICK_TO_ORDER_RATE", "SESSION_TO_ORDER_RATE", "USERS_WITH_CLICKS", "ACTIVE_USERS")


def run_days(landing: Path, warehouse: Path, days: list[date], catalog_file: Path | None = None):
    catalog = FoodCatalogResource(file=str(catalog_file) if catalog_file else None)
    defs = make_defs(landing, warehouse, catalog)
    return execute_range(defs, days[0], days[-1], None, dg.DagsterInstance.ephemeral())


def expected_tables(landing: Path, catalog: list[dict]):
    known = {int(food["food_id"]) for food in catalog}
    return contract.silver(contract.read_landing(landing), known)


def check_evaluations(result: dg.ExecuteInProcessResult) -> list:
    return [e.event_specific_data for e in result.all_events
            if e.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]


def assert_gold_matches(warehouse: Path, tables, days: list[date]) -> dict:
    """DAILY_GMV_METRICS and USER_FUNNEL_METRICS of every day as SPEC's figures say."""
    expected = contract.gold(tables, days)
    gmv = {r["DATE"]: r for r in read_table(warehouse, DAILY_GMV_METRICS)}
    funnel = {r["DATE"]: r for r in read_table(warehouse, USER_FUNNEL_METRICS)}
    assert set(gmv) == set(funnel) == set(days)
    for day in days:
        assert {k: gmv[day][k] for k in GMV} == {k: expected[day][k] for k in GMV}
        assert {k: funnel[day][k] for k in FUNNEL} == {k: expected[day][k] for k in FUNNEL}
        assert gmv[day]["RETURNING_USERS"] == expected[day]["UNIQUE_USERS"] - expected[day]["NEW_USERS"]
    return expected


def silver_as_spec_says(warehouse: Path, table, tables, topic: str) -> None:
    """Every Silver row has the codes, duplicate flag and typed values SPEC gives its line."""
    rows = {(r["DATE_PARTITION"], r["SOURCE_FILE"], r["SOURCE_LINE"]): r for r in read_table(warehouse, table)}
    expected = {(e.line.dt, e.line.file, e.line.number): e
                for (t, _), entries in tables.items() if t == topic for e in entries}
    assert rows.keys() == expected.keys()
    typed = ("STATUS", "QUANTITY") if topic == contract.ORDERS else ("EVENT_TYPE", "SESSION_ID")
    stamp = "ORDER_TIMESTAMP" if topic == contract.ORDERS else "CLICK_TIMESTAMP"
    for key, row in rows.items():
        want = expected[key]
        assert (row["VALIDATION_ERRORS"], row["IS_DUPLICATE"]) == (",".join(want.codes) or None, want.duplicate), key
        if not want.codes:
            assert {c: row[c] for c in ("EVENT_ID", "USER_ID", "ITEM_ID", *typed)} == {
                c: want.values[c] for c in ("EVENT_ID", "USER_ID", "ITEM_ID", *typed)}, key
            assert row[stamp].replace(tzinfo=None) == want.values["TIMESTAMP"].replace(tzinfo=None), key


def edge_cases(landing: Path, day: date) -> None:
    """A file per topic of gateway events on SPEC 1's edges, besides the generated ones."""
    at = f"{day.isoformat()}T12:00:00.123456"
    order = {"event_type": "order", "timestamp": at, "user_id": 4242, "item_id": 3, "price": 9,
             "restaurant_id": "R-001", "location": {"lat": 1, "lng": 2}, "metadata": {}}
    click = {"event_type": "click", "timestamp": at + "Z", "user_id": 4242, "session_id": "s-edge"}
    orders = [
        {"status": None, "order_type": "cancelled"},
        {"order_type": "shipped"},
        {"order_type": "delivered", "timestamp": millis(at)},
        {"order_type": "delivered", "timestamp": f"{day.isoformat()} 13:00:00.1234567"},
    ]
    clicks = [{"is_click": "yes"}, {"is_click": None, "event_type": "impression"},
              {"is_click": "true"}, {"is_click": True, "event_type": "impression", "item_id": 3}]
    for topic, base, changes in ((contract.ORDERS, order, orders), (contract.CLICKS, click, clicks)):
        lines = [envelope({**base, "event_id": f"edge-{day}-{n}", "order_id": f"edge-{day}-{n}", **c},
                          topic=topic, partition=9, offset=n, timestamp_ms=millis(at),
                          headers={"source": "events_gateway"})
                 for n, c in enumerate(changes)]
        write_landing(landing, topic, day, "edge-cases.jsonl", lines)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    """Two days of the events gateway's landing zone and catalog file, run Bronze -> Gold."""
    root = tmp_path_factory.mktemp("gateway")
    landing, warehouse, catalog_file = root / "landing", root / "warehouse", root / "food_items.json"
    generate_landing(landing, DAYS[0], len(DAYS), orders_per_day=300, clicks_per_day=2000, seed=11,
                     producer="gateway")
    for day in DAYS:
        edge_cases(landing, day)
    write_catalog(catalog_file, producer_catalog("gateway"))
    result = run_days(landing, warehouse, DAYS, catalog_file)
    return result, warehouse, expected_tables(landing, producer_catalog("gateway"))


def test_gateway_days_pass_every_gate_and_reach_gold(gateway):
    result, warehouse, _ = gateway
    assert result.success
    evaluations = check_evaluations(result)
    assert evaluations and all(e.passed for e in evaluations if e.severity == dg.AssetCheckSeverity.ERROR)
    # The gateway's fields SPEC 1.1 alone lists are new on the first day they appear, not after.
    warned = {(e.asset_key, e.partition) for e in evaluations if not e.passed}
    assert warned == {(table.asset_key, DAYS[0].isoformat()) for table in (ORDERS_RAW, CLICKS_RAW)}
    (clicks_day1,) = [e for e in evaluations if e.check_name == "new_fields" and not e.passed and e.asset_key == CLICKS_RAW.asset_key]
    assert {"ad_id", "ad_campaign_id", "page_url"} <= set(clicks_day1.metadata["new_fields"].value)
    assert {(e.asset_key, e.partition) for e in evaluations if e.check_name == "valid_rate"} == {
        (table.asset_key, day.isoformat()) for table in (ORDERS_CLEAN, CLICKS_CLEAN) for day in DAYS}


def test_bronze_keeps_what_the_gateway_sent(gateway):
    _, warehouse, _ = gateway
    orders, clicks = read_table(warehouse, ORDERS_RAW), read_table(warehouse, CLICKS_RAW)
    enveloped = [r for r in orders + clicks if r["INGESTION_ID"]]
    assert {(r["PRODUCER_SERVICE"], r["SCHEMA_VERSION"]) for r in enveloped} == {("events_gateway", None)}
    assert {r["STATUS"] for r in orders} == {None}  # the gateway sends order_type
    assert {r["EVENT_TYPE"] for r in clicks if r["EVENT_ID"]} == {"click", "impression"}


def test_every_silver_row_is_valid_or_flagged_as_spec_says(gateway):
    _, warehouse, tables = gateway
    silver_as_spec_says(warehouse, ORDERS_CLEAN, tables, contract.ORDERS)
    silver_as_spec_says(warehouse, CLICKS_CLEAN, tables, contract.CLICKS)
    codes = {c for entries in tables.values() for e in entries for c in e.codes}
    assert {"invalid_status", "invalid_event_type", "invalid_timestamp", "malformed_record"} <= codes
    edges = {(topic, e.line.number): e.codes or [e.values.get("STATUS") or e.values["EVENT_TYPE"]]
             for (topic, day), entries in tables.items() if day == DAYS[0]
             for e in entries if e.line.file == "edge-cases.jsonl"}
    assert edges == {
        (contract.ORDERS, 1): ["cancelled"], (contract.ORDERS, 2): ["invalid_status"],
        (contract.ORDERS, 3): ["invalid_timestamp"], (contract.ORDERS, 4): ["delivered"],
        (contract.CLICKS, 1): ["invalid_event_type"], (contract.CLICKS, 2): ["impression"],
        (contract.CLICKS, 3): ["invalid_event_type"], (contract.CLICKS, 4): ["click"],
    }
    events = [e.line.event for (t, _), entries in tables.items() if t == contract.CLICKS
              for e in entries if e.good]
    assert any(e["is_click"] is False and e["event_type"] == "click" for e in events)


def test_gold_follows_order_type_and_is_click(gateway):
    _, warehouse, tables = gateway
    expected = assert_gold_matches(warehouse, tables, DAYS)
    for day in DAYS:
        cancelled = [e.values for e in tables[contract.ORDERS, day] if e.good and e.values["STATUS"] == "cancelled"]
        assert cancelled and expected[day]["CANCELLED_ORDERS"] > 0
        sent_as_click = [e for e in tables[contract.CLICKS, day] if e.good and e.line.event["event_type"] == "click"]
        assert len(sent_as_click) > 2 * expected[day]["TOTAL_CLICKS"]  # event_type alone overcounts
    day2 = expected[DAYS[1]]
    assert 0 < day2["NEW_USERS"] < day2["UNIQUE_USERS"] and day2["REVENUE_GROWTH_PCT"] is not None
    items = {(r["DATE"], r["ITEM_ID"]): r for r in read_table(warehouse, FOOD_ITEM_PERFORMANCE)}
    for day in DAYS:
        assert expected[day]["ITEM_EVENTS"]
        for item, (clicks, impressions) in expected[day]["ITEM_EVENTS"].items():
            row = items[day, item]
            assert (row["CLICK_COUNT"], row["IMPRESSION_COUNT"]) == (clicks, impressions)
            assert row["CLICK_THROUGH_RATE"] == contract.rounded(clicks * 100, impressions)


def _space_separated(line: str, n: int) -> str:
    """Every fifth readable event's timestamp written with a space instead of `T`."""
    try:
        record = json.loads(line)
        value = record["value"]
        event = json.loads(value) if isinstance(value, str) else value
    except (ValueError, KeyError, TypeError):
        return line
    if n % 5 or not isinstance(event, dict) or not isinstance(event.get("timestamp"), str):
        return line
    event["timestamp"] = event["timestamp"].replace("T", " ", 1)
    record["value"] = json.dumps(event) if isinstance(value, str) else event
    return json.dumps(record)


def test_a_sample_day_with_space_separated_timestamps_reaches_gold(tmp_path):
    landing, warehouse, day = tmp_path / "landing", tmp_path / "warehouse", DAYS[0]
    generate_landing(landing, day, 1, orders_per_day=300, clicks_per_day=1500, seed=4)
    for path in landing.glob("*/dt=*/[!_]*.jsonl*"):
        text = contract.read_text(path)
        rewritten = "\n".join(_space_separated(line, n) for n, line in enumerate(text.split("\n")))
        data = rewritten.encode()
        path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    tables = expected_tables(landing, producer_catalog("flowguard"))
    spaced = [e for entries in tables.values() for e in entries
              if e.line.event and " " in str(e.line.event.get("timestamp"))]
    assert len(spaced) > 0.15 * sum(map(len, tables.values()))

    result = run_days(landing, warehouse, [day])
    assert result.success and all(e.passed for e in check_evaluations(result))
    silver_as_spec_says(warehouse, ORDERS_CLEAN, tables, contract.ORDERS)
    silver_as_spec_says(warehouse, CLICKS_CLEAN, tables, contract.CLICKS)
    assert sum(e.values["TIMESTAMP"] is not None for e in spaced) > 0.95 * len(spaced)
    assert assert_gold_matches(warehouse, tables, [day])[day]["TOTAL_REVENUE"] > 0
