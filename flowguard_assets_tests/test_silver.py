"""Silver rules of SPEC §3, on real PySpark: flags, codes, types, duplicates, enrichment."""

import json
from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.testing import assertDataFrameEqual

from flowguard_assets.landing import LINE_SCHEMA
from flowguard_assets.resources.catalog import CATALOG_SCHEMA
from flowguard_assets.tables import CLICKS_CLEAN, CLICKS_RAW, ORDERS_RAW
from flowguard_assets.transforms.bronze import to_bronze
from flowguard_assets.transforms.silver import CLICK_RULES, ORDER_RULES, to_silver
from flowguard_assets_tests.harness import CLICKS, INVALID_TIMESTAMPS, envelope, millis, typed_frame

pytestmark = pytest.mark.fast

DAY = date(2026, 2, 14)


class _Absent:
    """A field left out of the event (a stable repr keeps test ids the same in every process)."""

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT = _Absent()

ORDER = {
    "event_id": "e-1",
    "event_type": "order",
    "timestamp": "2026-02-14T12:30:00Z",
    "order_id": "o-1",
    "user_id": 42,
    "item_id": 7,
    "item_name": "Margherita",
    "quantity": 2,
    "price": 12.5,
    "status": "delivered",
}
CLICK = {
    "event_id": "c-1",
    "event_type": "click",
    "timestamp": "2026-02-14T09:00:00Z",
    "user_id": 42,
    "session_id": "s-1",
    "item_id": 7,
    "device_type": "web",
}


def changed(event: dict, **changes) -> dict:
    result = {**event, **changes}
    return {k: v for k, v in result.items() if v is not ABSENT}


@pytest.fixture(scope="module")
def catalog(spark):
    rows = [(i, f"Dish {i}", "Mains", Decimal("10.00"), f"About dish {i}", True) for i in (1, 7, 8)]
    return spark.createDataFrame(rows, CATALOG_SCHEMA)


def _silver_frame(spark, catalog, lines, rules=ORDER_RULES, day=DAY):
    """Silver of landing lines given as text (line n of f.jsonl) or (text, file, line number)."""
    records = [
        (day, *line[1:], line[0]) if isinstance(line, tuple) else (day, "f.jsonl", n, line)
        for n, line in enumerate(lines, start=1)
    ]
    raw_table = ORDERS_RAW if rules is ORDER_RULES else CLICKS_RAW
    bronze = to_bronze(spark.createDataFrame(records, LINE_SCHEMA), raw_table)
    return to_silver(bronze, catalog, rules, "test")


def _silver_runner(spark, catalog):
    """Silver rows for landing lines, in line order."""

    def run(lines, rules=ORDER_RULES, day=DAY):
        rows = _silver_frame(spark, catalog, lines, rules, day).collect()
        return sorted((r.asDict() for r in rows), key=lambda r: (r["SOURCE_FILE"], r["SOURCE_LINE"]))

    return run


def only_row_of_line(rows, number):
    """The one Silver row of line `number` of f.jsonl."""
    (row,) = [r for r in rows if r["SOURCE_LINE"] == number]
    return row


@pytest.fixture
def silver(spark, catalog):
    return _silver_runner(spark, catalog)


@pytest.fixture
def silver_frame(spark, catalog):
    return lambda lines, rules=ORDER_RULES: _silver_frame(spark, catalog, lines, rules)


def test_a_valid_order_is_typed_enriched_and_traced(silver):
    (row,) = silver([envelope(ORDER, partition=1, offset=9)])
    assert row["IS_VALID"] is True and row["VALIDATION_ERRORS"] is None
    assert row["IS_DUPLICATE"] is False
    assert (row["EVENT_ID"], row["ORDER_ID"], row["USER_ID"], row["ITEM_ID"]) == ("e-1", "o-1", 42, 7)
    assert (row["QUANTITY"], row["PRICE"], row["ORDER_AMOUNT"]) == (2, Decimal("12.50"), Decimal("25.00"))
    assert row["STATUS"] == "delivered" and row["ITEM_NAME"] == "Margherita"
    assert row["ORDER_TIMESTAMP"] == datetime(2026, 2, 14, 12, 30)
    assert (row["ENRICHED_ITEM_NAME"], row["ENRICHED_CATEGORY"], row["ENRICHED_DESCRIPTION"]) == (
        "Dish 7",
        "Mains",
        "About dish 7",
    )
    assert (row["INGESTION_ID"], row["SOURCE_FILE"], row["SOURCE_LINE"]) == (
        "raw.orders.v1-1-9",
        "f.jsonl",
        1,
    )
    assert row["DATE_PARTITION"] == DAY and row["PROCESSING_VERSION"] == "test"
    assert row["LOAD_TIMESTAMP"] is not None


ORDER_CASES = [
        ({"event_id": ABSENT}, "missing_event_id"),
        ({"event_id": ""}, "missing_event_id"),
        ({"event_id": None}, "missing_event_id"),
        ({"order_id": ABSENT}, "missing_order_id"),
        ({"order_id": ""}, "missing_order_id"),
        ({"user_id": ABSENT}, "missing_user_id"),
        ({"user_id": ""}, "missing_user_id"),
        ({"user_id": "abc"}, "invalid_user_id"),
        ({"user_id": -3}, "invalid_user_id"),
        ({"user_id": 0}, "invalid_user_id"),
        ({"user_id": 12.5}, "invalid_user_id"),
        ({"user_id": True}, "invalid_user_id"),
        ({"user_id": {"id": 1}}, "invalid_user_id"),
        ({"user_id": 99999999999999999999}, "invalid_user_id"),
        ({"item_id": ABSENT}, "missing_item_id"),
        ({"item_id": 0}, "invalid_item_id"),
        ({"item_id": "seven"}, "invalid_item_id"),
        ({"timestamp": ABSENT}, "missing_timestamp"),
        ({"timestamp": ""}, "missing_timestamp"),
        *[({"timestamp": text}, "invalid_timestamp") for text in INVALID_TIMESTAMPS],
        ({"timestamp": "2026-02-15T00:00:00Z"}, "timestamp_outside_partition"),
        ({"timestamp": "2026-02-14T23:30:00-05:00"}, "timestamp_outside_partition"),
        ({"timestamp": "2026-02-13T23:59:59.999999"}, "timestamp_outside_partition"),
        ({"price": ABSENT}, "missing_price"),
        ({"price": ""}, "missing_price"),
        ({"price": "free"}, "invalid_price"),
        ({"price": 0}, "invalid_price"),
        ({"price": -5}, "invalid_price"),
        ({"price": 10000}, "invalid_price"),
        ({"price": "12.345"}, "invalid_price"),
        ({"quantity": 0}, "invalid_quantity"),
        ({"quantity": -1}, "invalid_quantity"),
        ({"quantity": 2.5}, "invalid_quantity"),
        ({"quantity": "two"}, "invalid_quantity"),
        ({"status": "shipped"}, "invalid_status"),
        ({"status": ""}, "invalid_status"),
        ({"status": ABSENT, "order_type": "shipped"}, "invalid_status"),
        ({"status": None, "order_type": ""}, "invalid_status"),
        ({"item_id": 99}, "unknown_item"),
]
CLICK_CASES = [
        ({"event_id": ABSENT}, "missing_event_id"),
        ({"event_type": ABSENT}, "missing_event_type"),
        ({"event_type": ""}, "missing_event_type"),
        ({"event_type": "hover"}, "invalid_event_type"),
        ({"is_click": "yes"}, "invalid_event_type"),
        ({"is_click": "true"}, "invalid_event_type"),
        ({"is_click": 1}, "invalid_event_type"),
        ({"is_click": ""}, "invalid_event_type"),
        ({"is_click": {"value": True}}, "invalid_event_type"),
        ({"is_click": "false", "event_type": ABSENT}, "invalid_event_type"),
        ({"is_click": None, "event_type": ABSENT}, "missing_event_type"),
        ({"user_id": ABSENT}, "missing_user_id"),
        ({"user_id": "u-1"}, "invalid_user_id"),
        ({"item_id": -1}, "invalid_item_id"),
        ({"item_id": "x"}, "invalid_item_id"),
        ({"timestamp": ABSENT}, "missing_timestamp"),
        *[({"timestamp": text}, "invalid_timestamp") for text in INVALID_TIMESTAMPS],
        ({"timestamp": "2026-02-13T09:00:00Z"}, "timestamp_outside_partition"),
        ({"item_id": 99}, "unknown_item"),
]


def _one_case_per_line(silver, event, cases, rules, topic):
    """Every case in one Spark job: case n is line n."""
    lines = [envelope(changed(event, **changes), topic=topic, offset=n) for n, (changes, _) in enumerate(cases)]
    return silver(lines, rules)


@pytest.fixture(scope="module")
def order_case_rows(spark, catalog):
    return _one_case_per_line(_silver_runner(spark, catalog), ORDER, ORDER_CASES, ORDER_RULES, "raw.orders.v1")


@pytest.fixture(scope="module")
def click_case_rows(spark, catalog):
    return _one_case_per_line(_silver_runner(spark, catalog), CLICK, CLICK_CASES, CLICK_RULES, CLICKS)


@pytest.mark.parametrize("case", range(len(ORDER_CASES)), ids=[f"{c}-{list(ch.items())[0]}" for ch, c in ORDER_CASES])
def test_each_order_code_alone(order_case_rows, case):
    row = order_case_rows[case]
    assert row["VALIDATION_ERRORS"] == ORDER_CASES[case][1]
    assert row["IS_VALID"] is False


def test_order_codes_combine_in_spec_order(silver):
    event = changed(
        ORDER,
        event_id="",
        order_id=ABSENT,
        user_id="x",
        item_id=99,
        timestamp="2026-02-15T08:00:00+00:00",
        price=0,
        quantity=-1,
        status="lost",
    )
    (row,) = silver([envelope(event)])
    assert row["VALIDATION_ERRORS"] == (
        "missing_event_id,missing_order_id,invalid_user_id,timestamp_outside_partition,"
        "invalid_price,invalid_quantity,invalid_status,unknown_item"
    )
    every_missing = {"event_type": "order"}
    (row,) = silver([envelope(every_missing)])
    assert row["VALIDATION_ERRORS"] == (
        "missing_event_id,missing_order_id,missing_user_id,missing_item_id,missing_timestamp,"
        "missing_price"
    )


MALFORMED_LINES = [
    "not json",
    "[1, 2]",
    '{"topic": "raw.orders.v1", "partition": 0, "offset": 1}',
    envelope(5),
    envelope("just text"),
    envelope([ORDER]),
    envelope(json.dumps(json.dumps(ORDER))),
]


@pytest.fixture(scope="module")
def malformed_rows(spark, catalog):
    """Every malformed line in one Spark job."""
    return _silver_runner(spark, catalog)(MALFORMED_LINES)


@pytest.mark.parametrize("line", MALFORMED_LINES)
def test_malformed_record_is_the_only_code(malformed_rows, line):
    row = only_row_of_line(malformed_rows, MALFORMED_LINES.index(line) + 1)
    assert row["VALIDATION_ERRORS"] == "malformed_record"
    assert row["EVENT_ID"] is None and row["QUANTITY"] is None and row["STATUS"] is None


def test_defaults_and_numbers_given_as_strings(silver):
    event = changed(ORDER, quantity=ABSENT, status=ABSENT, user_id="42", item_id="7", price="9.90")
    (row,) = silver([envelope(event)])
    assert row["IS_VALID"] is True
    assert (row["USER_ID"], row["ITEM_ID"], row["QUANTITY"], row["STATUS"]) == (42, 7, 1, "placed")
    assert (row["PRICE"], row["ORDER_AMOUNT"]) == (Decimal("9.90"), Decimal("9.90"))
    (row,) = silver([envelope(changed(ORDER, status=None, quantity=None))])
    assert (row["STATUS"], row["QUANTITY"], row["IS_VALID"]) == ("placed", 1, True)


def test_value_given_as_a_json_string_is_validated_like_an_object(silver):
    (row,) = silver([envelope(json.dumps(changed(ORDER, price="abc")))])
    assert row["VALIDATION_ERRORS"] == "invalid_price"


TIMESTAMP_FORMS = [
    ("2026-02-14T12:30:00Z", datetime(2026, 2, 14, 12, 30)),
    ("2026-02-14T12:30:00+02:00", datetime(2026, 2, 14, 10, 30)),
    ("2026-02-14T01:30:00+05:30", datetime(2026, 2, 13, 20, 0)),
    ("2026-02-14T12:30:00", datetime(2026, 2, 14, 12, 30)),
    ("2026-02-14T12:30:00.123456Z", datetime(2026, 2, 14, 12, 30, 0, 123456)),
    ("2026-02-14T12:30:00.5-01:00", datetime(2026, 2, 14, 13, 30, 0, 500000)),
    ("2026-02-14 21:07:07", datetime(2026, 2, 14, 21, 7, 7)),
    ("2026-02-14 21:07:07Z", datetime(2026, 2, 14, 21, 7, 7)),
    ("2026-02-14 21:07:07.25+01:00", datetime(2026, 2, 14, 20, 7, 7, 250000)),
    ("2026-02-14T22:37:51.467Z", datetime(2026, 2, 14, 22, 37, 51, 467000)),
    ("2026-02-14T19:06:37+05:30", datetime(2026, 2, 14, 13, 36, 37)),
    ("2026-02-14T01:32:32.993340", datetime(2026, 2, 14, 1, 32, 32, 993340)),
    # 7 to 9 fraction digits are truncated to the microsecond, never rounded.
    ("2026-02-14T12:30:00.1234567Z", datetime(2026, 2, 14, 12, 30, 0, 123456)),
    ("2026-02-14 23:59:59.999999999", datetime(2026, 2, 14, 23, 59, 59, 999999)),
    ("2026-02-14T12:30:00.00000099+00:00", datetime(2026, 2, 14, 12, 30)),
]


@pytest.fixture(scope="module")
def timestamp_rows(spark, catalog):
    cases = [({"timestamp": text}, expected) for text, expected in TIMESTAMP_FORMS]
    return _one_case_per_line(_silver_runner(spark, catalog), ORDER, cases, ORDER_RULES, "raw.orders.v1")


@pytest.mark.parametrize("text, expected", TIMESTAMP_FORMS)
def test_timestamp_forms(timestamp_rows, text, expected):
    row = only_row_of_line(timestamp_rows, TIMESTAMP_FORMS.index((text, expected)) + 1)
    assert row["ORDER_TIMESTAMP"] == expected
    outside = expected.date() != DAY
    assert row["VALIDATION_ERRORS"] == ("timestamp_outside_partition" if outside else None)


def test_sink_redelivery_in_the_same_and_another_file(silver):
    line = envelope(ORDER, offset=5)
    rows = silver([(line, "b.jsonl", 3), (line, "a.jsonl", 7), (line, "a.jsonl", 2)])
    flags = {(r["SOURCE_FILE"], r["SOURCE_LINE"]): r["IS_DUPLICATE"] for r in rows}
    # Same Kafka time, partition and offset: the file name, then the line, decides the original.
    assert flags == {("a.jsonl", 2): False, ("a.jsonl", 7): True, ("b.jsonl", 3): True}
    assert all(r["IS_VALID"] for r in rows)


def test_producer_retry_keeps_the_earliest_record(silver):
    first = envelope(ORDER, offset=10, timestamp_ms=millis("2026-02-14T12:30:01"))
    retry = envelope(ORDER, offset=11, timestamp_ms=millis("2026-02-14T12:30:04"))
    rows = silver([retry, first])  # the retry comes first in the file
    assert {r["INGESTION_ID"]: r["IS_DUPLICATE"] for r in rows} == {
        "raw.orders.v1-0-11": True,
        "raw.orders.v1-0-10": False,
    }


def test_tie_break_order_partition_then_offset(silver):
    same_time = millis("2026-02-14T12:30:00")
    lines = [
        envelope(ORDER, partition=2, offset=1, timestamp_ms=same_time),
        envelope(ORDER, partition=1, offset=9, timestamp_ms=same_time),
        envelope(ORDER, partition=1, offset=8, timestamp_ms=same_time),
    ]
    rows = silver(lines)
    originals = [r["INGESTION_ID"] for r in rows if not r["IS_DUPLICATE"]]
    assert originals == ["raw.orders.v1-1-8"]


def test_step_two_only_looks_at_rows_not_marked_in_step_one(silver):
    record = envelope(ORDER, offset=1, timestamp_ms=millis("2026-02-14T12:30:05"))
    retry = envelope(ORDER, offset=2, timestamp_ms=millis("2026-02-14T12:30:09"))
    rows = silver([(record, "a.jsonl", 1), (retry, "a.jsonl", 2), (record, "b.jsonl", 1)])
    flags = {(r["SOURCE_FILE"], r["SOURCE_LINE"]): r["IS_DUPLICATE"] for r in rows}
    assert flags == {("a.jsonl", 1): False, ("a.jsonl", 2): True, ("b.jsonl", 1): True}


def test_rows_without_kafka_time_come_last(silver):
    timed = envelope(ORDER, offset=3, timestamp_ms=millis("2026-02-14T23:00:00"))
    untimed = json.dumps({"topic": "raw.orders.v1", "partition": 0, "offset": 2, "value": ORDER})
    rows = silver([untimed, timed])
    assert {r["INGESTION_ID"]: r["IS_DUPLICATE"] for r in rows} == {
        "raw.orders.v1-0-2": True,
        "raw.orders.v1-0-3": False,
    }


def test_rows_without_any_key_are_never_duplicates(silver):
    rows = silver(["garbage", "garbage", envelope({"event_type": "order"}, offset=1)])
    assert [r["IS_DUPLICATE"] for r in rows] == [False, False, False]


def test_duplication_and_validity_are_independent(silver):
    invalid_first = envelope(changed(ORDER, price="free"), offset=1, timestamp_ms=millis("2026-02-14T12:30:00"))
    valid_retry = envelope(ORDER, offset=2, timestamp_ms=millis("2026-02-14T12:30:03"))
    rows = silver([invalid_first, valid_retry])
    assert [(r["IS_VALID"], r["IS_DUPLICATE"]) for r in rows] == [(False, False), (True, True)]


@pytest.mark.parametrize("case", range(len(CLICK_CASES)), ids=[f"{c}-{list(ch.items())[0]}" for ch, c in CLICK_CASES])
def test_each_click_code_alone(click_case_rows, case):
    assert click_case_rows[case]["VALIDATION_ERRORS"] == CLICK_CASES[case][1]


def test_clicks_optional_fields_and_enrichment(spark, silver_frame):
    frame = silver_frame(
        [
            envelope(changed(CLICK, item_id=None, session_id=None), topic=CLICKS, offset=1),
            envelope(changed(CLICK, item_id=ABSENT, event_type="impression", event_id="c-2"), topic=CLICKS, offset=2),
            envelope(changed(CLICK, event_id="c-3", user_id="42"), topic=CLICKS, offset=3),
        ],
        CLICK_RULES,
    )
    columns = [
        "SOURCE_LINE", "VALIDATION_ERRORS", "EVENT_TYPE", "USER_ID", "SESSION_ID", "ITEM_ID",
        "ENRICHED_ITEM_NAME", "CLICK_TIMESTAMP",
    ]  # fmt: skip
    nine = datetime(2026, 2, 14, 9, 0)
    expected = [
        (1, None, "click", 42, None, None, None, nine),
        (2, None, "impression", 42, "s-1", None, None, nine),
        (3, None, "click", 42, "s-1", 7, "Dish 7", nine),
    ]
    assertDataFrameEqual(frame.select(columns), typed_frame(spark, CLICKS_CLEAN, columns, expected))


def test_click_codes_combine_and_malformed_stays_alone(silver):
    rows = silver(
        [
            envelope(changed(CLICK, event_id="", event_type="hover", user_id=-1, item_id=0, timestamp="x"), topic=CLICKS),
            "{broken",
        ],
        CLICK_RULES,
    )
    assert [r["VALIDATION_ERRORS"] for r in rows] == [
        "missing_event_id,invalid_event_type,invalid_user_id,invalid_item_id,invalid_timestamp",
        "malformed_record",
    ]


STATUS_CASES = [
    ({"status": ABSENT, "order_type": "cancelled"}, "cancelled"),
    ({"status": None, "order_type": "delivered"}, "delivered"),
    ({"status": "confirmed", "order_type": "cancelled"}, "confirmed"),
    ({"status": ABSENT, "order_type": None}, "placed"),
    ({"status": ABSENT, "order_type": ABSENT}, "placed"),
]


@pytest.fixture(scope="module")
def status_rows(spark, catalog):
    return _one_case_per_line(_silver_runner(spark, catalog), ORDER, STATUS_CASES, ORDER_RULES, "raw.orders.v1")


@pytest.mark.parametrize("changes, status", STATUS_CASES)
def test_status_reads_order_type_when_status_is_absent_or_null(status_rows, changes, status):
    row = only_row_of_line(status_rows, STATUS_CASES.index((changes, status)) + 1)
    assert (row["STATUS"], row["VALIDATION_ERRORS"]) == (status, None)


CLICK_TYPE_CASES = [
    ({"is_click": True, "event_type": "impression"}, "click"),
    ({"is_click": False, "event_type": "click"}, "impression"),
    ({"is_click": False, "event_type": ABSENT}, "impression"),
    ({"is_click": True, "event_type": "hover"}, "click"),
    ({"is_click": None, "event_type": "impression"}, "impression"),
    ({"is_click": ABSENT, "event_type": "impression"}, "impression"),
]


@pytest.mark.parametrize("as_string", [False, True], ids=["object", "json-string-value"])
def test_a_boolean_is_click_decides_the_event_type(spark, silver_frame, as_string):
    events = [changed(CLICK, event_id=f"c-{n}", **changes) for n, (changes, _) in enumerate(CLICK_TYPE_CASES)]
    values = [json.dumps(event) if as_string else event for event in events]
    frame = silver_frame([envelope(value, topic=CLICKS, offset=n) for n, value in enumerate(values)], CLICK_RULES)
    columns = ["SOURCE_LINE", "EVENT_TYPE", "VALIDATION_ERRORS"]
    expected = [(n, event_type, None) for n, (_, event_type) in enumerate(CLICK_TYPE_CASES, start=1)]
    assertDataFrameEqual(frame.select(columns), typed_frame(spark, CLICKS_CLEAN, columns, expected))


def test_an_invalid_is_click_keeps_the_event_type_sent(silver):
    (row,) = silver([envelope(changed(CLICK, is_click="yes"), topic=CLICKS)], CLICK_RULES)
    assert (row["EVENT_TYPE"], row["IS_VALID"]) == ("click", False)
