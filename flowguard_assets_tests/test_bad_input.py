"""Random and adversarial landing lines through Bronze and Silver (hypothesis): no crash, one row
per line, every bad line flagged with a SPEC code, a valid row only when the rules hold."""

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowguard_assets.landing import landing_files, read_lines
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.tables import CLICKS_RAW, ORDERS_RAW
from flowguard_assets.transforms.bronze import to_bronze
from flowguard_assets.transforms.silver import CLICK_RULES, ORDER_RULES, to_silver
from flowguard_assets_tests import contract
from flowguard_assets_tests.harness import CLICKS, ORDERS, envelope

DAY = date(2026, 2, 14)
CODES = set(ORDER_RULES.codes)
GOOD = {
    "event_id": "e-1",
    "timestamp": "2026-02-14T12:00:00Z",
    "order_id": "o-1",
    "user_id": 1,
    "item_id": 1,
    "price": 9.5,
}
ANY_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
EVENTS = st.fixed_dictionaries(
    {}, optional={field: ANY_JSON for field in [*GOOD, "quantity", "status", "order_type"]}
)
CLICK_EVENTS = st.fixed_dictionaries(
    {"event_id": st.uuids().map(str), "timestamp": st.just(GOOD["timestamp"]), "user_id": st.just(1)},
    optional={"is_click": ANY_JSON, "event_type": ANY_JSON | st.sampled_from(["click", "impression"])},
)


def _bad_lines() -> list[bytes]:
    """Lines that must all be flagged."""
    nested = "[" * 5000 + "]" * 5000
    deep_value = '{"a":' * 3000 + "1" + "}" * 3000
    return [
        b"\x00\x01\x02 not json",
        b'{"topic": "raw.orders.v1", "partition": 0, "offset": 1, "value": {"event_id": "\xff\xfe"}}',
        nested.encode(),
        envelope(json.loads('{"a": 1}')).replace('{"a": 1}', deep_value).encode(),
        envelope({**GOOD, "order_id": "x" * 3_000_000, "price": "free"}).encode(),
        envelope({**GOOD, "user_id": 10**40}).encode(),
        envelope({**GOOD, "price": 1e308}).encode(),
        '{"topic": "raw.orders.v1", "partition": 0, "offset": 9, "value": {"event_id": "a", "event_id": "", "price": -1}}'.encode(),
        envelope({**GOOD, "timestamp": "2026-02-14T12:00:00\x00Z"}).encode(),
        envelope([GOOD]).encode(),
    ]


@pytest.fixture(scope="module")
def catalog(spark):
    return FoodCatalogResource().load()


def through_silver(spark, catalog, folder: Path, lines: list[bytes], topic=ORDERS) -> list[dict]:
    target = folder / topic / f"dt={DAY.isoformat()}"
    target.mkdir(parents=True, exist_ok=True)
    (target / "input.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    raw, rules = (ORDERS_RAW, ORDER_RULES) if topic == ORDERS else (CLICKS_RAW, CLICK_RULES)
    bronze = to_bronze(read_lines(spark, landing_files(folder, topic, [DAY])), raw)
    return [r.asDict() for r in to_silver(bronze, catalog, rules, "test").collect()]


def assert_consistent(row: dict) -> None:
    """Flags agree with each other, and a row is valid only when SPEC's rules hold."""
    errors = row["VALIDATION_ERRORS"]
    assert row["IS_VALID"] == (errors is None)
    assert errors is None or set(errors.split(",")) <= CODES
    if row["IS_VALID"]:
        assert row["EVENT_ID"] and row["ORDER_ID"]
        assert row["USER_ID"] > 0 and row["ITEM_ID"] > 0 and row["QUANTITY"] > 0
        assert 0 < row["PRICE"] < 10000 and row["ORDER_AMOUNT"] == row["PRICE"] * row["QUANTITY"]
        assert row["ORDER_TIMESTAMP"].date() == DAY
        assert row["STATUS"] in ("placed", "confirmed", "delivered", "cancelled")
        assert row["ENRICHED_ITEM_NAME"] is not None


def test_adversarial_lines_are_each_kept_and_flagged(spark, catalog, tmp_path):
    lines = _bad_lines()
    rows = through_silver(spark, catalog, tmp_path, [envelope(GOOD).encode(), *lines, envelope(GOOD, offset=2).encode()])
    assert len(rows) == len(lines) + 2  # the invalid bytes did not lose the rest of the file
    by_line = sorted(rows, key=lambda r: r["SOURCE_LINE"])
    assert by_line[0]["IS_VALID"] and by_line[-1]["IS_VALID"]
    for row in by_line[1:-1]:
        assert row["IS_VALID"] is False and row["VALIDATION_ERRORS"], row["SOURCE_LINE"]
        assert_consistent(row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(
    events=st.lists(EVENTS, min_size=1, max_size=15),
    junk=st.lists(st.binary(min_size=1, max_size=60).filter(lambda b: b"\n" not in b and b.strip()), max_size=5),
)
def test_random_events_and_bytes_never_crash_and_are_judged_by_the_rules(spark, catalog, tmp_path_factory, events, junk):
    lines = [envelope(event, offset=n).encode() for n, event in enumerate(events)] + junk
    rows = through_silver(spark, catalog, tmp_path_factory.mktemp("random"), lines)
    assert len(rows) == len(lines)
    for row in rows:
        assert_consistent(row)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(events=st.lists(CLICK_EVENTS, min_size=1, max_size=15))
def test_any_is_click_and_event_type_are_judged_by_the_rules(spark, catalog, tmp_path_factory, events):
    lines = [envelope(event, topic=CLICKS, offset=n).encode() for n, event in enumerate(events)]
    rows = sorted(through_silver(spark, catalog, tmp_path_factory.mktemp("clicks"), lines, CLICKS),
                  key=lambda r: r["SOURCE_LINE"])
    for n, (event, row) in enumerate(zip(events, rows, strict=True), start=1):
        expected = contract.expect(contract.Line(CLICKS, DAY, "input.jsonl", n, "", {}, event), set())
        assert row["VALIDATION_ERRORS"] == (",".join(expected.codes) or None), event
        if row["IS_VALID"]:
            assert row["EVENT_TYPE"] == expected.values["EVENT_TYPE"], event
