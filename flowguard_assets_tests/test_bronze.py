"""Bronze rules of SPEC §1 and §3, on real PySpark: landing files -> one row per line."""

import gzip
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from flowguard_assets.errors import LandingError
from flowguard_assets.landing import landing_files, read_lines
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.tables import CLICKS_RAW, ORDERS_RAW
from flowguard_assets.transforms.bronze import to_bronze
from flowguard_assets.transforms.parsing import iso_timestamp
from flowguard_assets_tests.harness import CLICKS, INVALID_TIMESTAMPS, ORDERS, envelope, typed_frame, write_landing

pytestmark = pytest.mark.fast

DAY = date(2026, 2, 14)

ORDER = {
    "event_id": "e-1",
    "event_type": "order",
    "timestamp": "2026-02-14T12:30:00Z",
    "order_id": "o-1",
    "user_id": 42,
    "item_id": "7",
    "item_name": "Margherita",
    "quantity": 2,
    "price": "12.50",
    "status": "placed",
    "city": "Berlin",
}


def bronze_frame(spark, landing: Path, topic=ORDERS, table=ORDERS_RAW, days=(DAY,)):
    return to_bronze(read_lines(spark, landing_files(landing, topic, list(days))), table)


def bronze(spark, landing: Path, topic=ORDERS, table=ORDERS_RAW, days=(DAY,)):
    rows = bronze_frame(spark, landing, topic, table, days).collect()
    return sorted((r.asDict() for r in rows), key=lambda r: (r["SOURCE_FILE"], r["SOURCE_LINE"]))


def test_one_row_per_non_empty_line_including_garbage(spark, tmp_path):
    lines = [
        envelope(ORDER, offset=1),
        "this is not JSON",
        "",
        "[1, 2, 3]",
        "42",
        '"a string"',
        "null",
        '{"topic": "raw.orders.v1", "partition": 0',
        envelope(ORDER, offset=2),
        "   ",
    ]
    write_landing(tmp_path, ORDERS, DAY, "part-1.jsonl", lines)
    rows = bronze(spark, tmp_path)
    assert [r["SOURCE_LINE"] for r in rows] == [1, 2, 4, 5, 6, 7, 8, 9]
    assert all(r["SOURCE_FILE"] == "part-1.jsonl" and r["PARTITION_DATE"] == DAY for r in rows)
    garbage = {r["SOURCE_LINE"]: r for r in rows}
    # A line that is not a JSON object keeps its whole text as RAW_EVENT and has no envelope.
    for number, text in [(2, "this is not JSON"), (4, "[1, 2, 3]"), (5, "42"), (7, "null")]:
        assert garbage[number]["RAW_EVENT"] == text
        assert garbage[number]["INGESTION_ID"] is None
        assert garbage[number]["EVENT_ID"] is None
    assert garbage[8]["RAW_EVENT"] == '{"topic": "raw.orders.v1", "partition": 0'


def test_envelope_and_typed_event_columns(spark, tmp_path):
    line = envelope(
        ORDER,
        partition=2,
        offset=1001,
        timestamp_ms=1771072201234,
        headers={"producer_service": "order-service", "schema_version": "3"},
    )
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", [line])
    (row,) = bronze(spark, tmp_path)
    assert row["INGESTION_ID"] == "raw.orders.v1-2-1001"
    assert (row["SOURCE_TOPIC"], row["KAFKA_PARTITION"], row["KAFKA_OFFSET"]) == (
        "raw.orders.v1",
        2,
        1001,
    )
    assert row["KAFKA_TIMESTAMP"] == datetime(2026, 2, 14, 12, 30, 1, 234000)
    assert (row["PRODUCER_SERVICE"], row["SCHEMA_VERSION"]) == ("order-service", "3")
    assert row["EVENT_ID"] == "e-1" and row["EVENT_TYPE"] == "order" and row["ORDER_ID"] == "o-1"
    assert row["EVENT_TIMESTAMP"] == datetime(2026, 2, 14, 12, 30)
    assert (row["USER_ID"], row["ITEM_ID"], row["QUANTITY"]) == (42, 7, 2)
    assert row["PRICE"] == Decimal("12.50")
    assert row["ITEM_NAME"] == "Margherita" and row["STATUS"] == "placed"
    assert row["INGESTION_TIMESTAMP"] is not None
    # Unknown fields (city) stay in RAW_EVENT.
    assert json.loads(row["RAW_EVENT"])["city"] == "Berlin"


def test_value_given_as_a_json_string(spark, tmp_path):
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", [envelope(json.dumps(ORDER))])
    (row,) = bronze(spark, tmp_path)
    assert json.loads(row["RAW_EVENT"]) == ORDER
    assert row["EVENT_ID"] == "e-1" and row["USER_ID"] == 42 and row["PRICE"] == Decimal("12.50")


def test_value_that_is_not_an_object_is_kept_as_text(spark, tmp_path):
    lines = [envelope(5, offset=1), envelope("not an event", offset=2), envelope(None, offset=3)]
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", lines)
    rows = bronze(spark, tmp_path)
    assert [r["RAW_EVENT"] for r in rows] == ["5", "not an event", None]
    assert [r["INGESTION_ID"] for r in rows] == [f"raw.orders.v1-0-{n}" for n in (1, 2, 3)]
    assert all(r["EVENT_ID"] is None for r in rows)


def test_unreadable_fields_are_null_in_bronze(spark, tmp_path):
    event = {**ORDER, "user_id": "abc", "item_id": 1.5, "price": "free", "timestamp": "yesterday"}
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", [envelope(event)])
    (row,) = bronze(spark, tmp_path)
    assert (row["USER_ID"], row["ITEM_ID"], row["PRICE"], row["EVENT_TIMESTAMP"]) == (None,) * 4
    assert row["EVENT_ID"] == "e-1"


def test_ingestion_id_needs_topic_partition_and_offset(spark, tmp_path):
    no_offset = json.dumps({"topic": ORDERS, "partition": 1, "value": ORDER})
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", [no_offset, envelope(ORDER, offset=7)])
    columns = ["SOURCE_LINE", "INGESTION_ID"]
    expected = typed_frame(spark, ORDERS_RAW, columns, [(1, None), (2, "raw.orders.v1-0-7")])
    assertDataFrameEqual(bronze_frame(spark, tmp_path).select(columns), expected)


def test_gzip_files_and_in_progress_files(spark, tmp_path):
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl.gz", [envelope(ORDER, offset=1)], gz=True)
    write_landing(tmp_path, ORDERS, DAY, "b.jsonl", [envelope(ORDER, offset=2), ""])
    write_landing(tmp_path, ORDERS, DAY, "_tmp-1.jsonl", [envelope(ORDER, offset=3)])
    write_landing(tmp_path, ORDERS, DAY, ".hidden.jsonl", [envelope(ORDER, offset=4)])
    write_landing(tmp_path, ORDERS, DAY, "notes.txt", ["not a landing file"])
    columns = ["SOURCE_FILE", "KAFKA_OFFSET"]
    expected = typed_frame(spark, ORDERS_RAW, columns, [("a.jsonl.gz", 1), ("b.jsonl", 2)])
    assertDataFrameEqual(bronze_frame(spark, tmp_path).select(columns), expected)


def test_clicks_columns(spark, tmp_path):
    click = {
        "event_id": "c-1",
        "event_type": "click",
        "timestamp": "2026-02-14T08:00:00.250+01:00",
        "user_id": "17",
        "session_id": "s-1",
        "item_id": None,
        "device_type": "ios",
    }
    write_landing(tmp_path, CLICKS, DAY, "c.jsonl", [envelope(click, topic=CLICKS)])
    (row,) = bronze(spark, tmp_path, CLICKS, CLICKS_RAW)
    assert row["INGESTION_ID"] == "raw.clicks.v1-0-1"
    assert (row["EVENT_TYPE"], row["USER_ID"], row["SESSION_ID"]) == ("click", 17, "s-1")
    assert row["ITEM_ID"] is None and row["DEVICE_TYPE"] == "ios"
    assert row["EVENT_TIMESTAMP"] == datetime(2026, 2, 14, 7, 0, 0, 250000)


def test_invalid_utf8_does_not_lose_the_rest_of_the_file(spark, tmp_path):
    folder = tmp_path / ORDERS / f"dt={DAY}"
    folder.mkdir(parents=True)
    good = envelope(ORDER, offset=2).encode()
    (folder / "a.jsonl").write_bytes(b'{"topic": "x\xff\xfe", "offset": 1}\n' + good + b"\n")
    rows = bronze(spark, tmp_path)
    assert len(rows) == 2
    assert rows[0]["SOURCE_TOPIC"] == "x\ufffd\ufffd"
    assert rows[1]["INGESTION_ID"] == "raw.orders.v1-0-2"


def test_missing_day_folder_is_an_error_naming_it(tmp_path):
    with pytest.raises(LandingError, match=f"{tmp_path}/raw.orders.v1/dt=2026-02-14"):
        landing_files(tmp_path, ORDERS, [DAY])


def read_through_the_zone(landing: Path) -> list:
    """Bronze rows as the asset reads them: a failing read names the file it could not read."""
    zone = LandingZoneResource(path=str(landing))
    with zone.reading(zone.files(ORDERS, [DAY])) as lines:
        return to_bronze(lines, ORDERS_RAW).collect()


def test_corrupt_gzip_fails_with_its_path(spark, tmp_path):
    folder = tmp_path / ORDERS / f"dt={DAY}"
    folder.mkdir(parents=True)
    compressed = gzip.compress("".join(f"{envelope(ORDER, offset=n)}\n" for n in range(50)).encode())
    (folder / "broken.jsonl.gz").write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(LandingError, match=f"Cannot read landing file {folder}/broken.jsonl.gz"):
        read_through_the_zone(tmp_path)


def test_file_that_is_not_gzip_fails_with_its_path(spark, tmp_path):
    folder = tmp_path / ORDERS / f"dt={DAY}"
    folder.mkdir(parents=True)
    (folder / "plain.jsonl.gz").write_text(envelope(ORDER))
    with pytest.raises(LandingError, match=f"Cannot read landing file {folder}/plain.jsonl.gz"):
        read_through_the_zone(tmp_path)


def test_producer_service_is_the_producer_service_header_else_source(spark, tmp_path):
    headers = [
        {"producer_service": "order-service", "source": "events_gateway"},
        {"event_type": "order", "source": "events_gateway", "user_id": "42", "timestamp": "1771072200000"},
        {"schema_version": "1"},
    ]
    lines = [envelope(ORDER, offset=n, headers=h) for n, h in enumerate(headers)]
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", lines)
    columns = ["SOURCE_LINE", "PRODUCER_SERVICE", "SCHEMA_VERSION"]
    expected = typed_frame(
        spark, ORDERS_RAW, columns, [(1, "order-service", None), (2, "events_gateway", None), (3, None, "1")]
    )
    assertDataFrameEqual(bronze_frame(spark, tmp_path).select(columns), expected)


def test_bronze_types_what_the_gateway_event_says(spark, tmp_path):
    order = {k: v for k, v in ORDER.items() if k != "status"} | {"order_type": "cancelled"}
    click = {"event_id": "c-1", "event_type": "click", "is_click": False, "user_id": 5,
             "timestamp": "2026-02-14T10:00:00.123456"}
    write_landing(tmp_path, ORDERS, DAY, "o.jsonl", [envelope(order)])
    write_landing(tmp_path, CLICKS, DAY, "c.jsonl", [envelope(click, topic=CLICKS)])
    (order_row,) = bronze(spark, tmp_path)
    (click_row,) = bronze(spark, tmp_path, CLICKS, CLICKS_RAW)
    assert order_row["STATUS"] is None  # Silver reads order_type
    assert click_row["EVENT_TYPE"] == "click"  # Silver reads is_click
    assert click_row["EVENT_TIMESTAMP"] == datetime(2026, 2, 14, 10, 0, 0, 123456)


TIMESTAMPS = {
    "2026-02-14 21:07:07": datetime(2026, 2, 14, 21, 7, 7),
    "2026-02-14T22:37:51.467Z": datetime(2026, 2, 14, 22, 37, 51, 467000),
    "2026-02-14T19:06:37+05:30": datetime(2026, 2, 14, 13, 36, 37),
    "2026-02-14T01:32:32.993340999": datetime(2026, 2, 14, 1, 32, 32, 993340),
    **dict.fromkeys(INVALID_TIMESTAMPS),
}


def test_event_timestamp_follows_the_spec_forms(spark, tmp_path):
    lines = [envelope({**ORDER, "timestamp": text}, offset=n) for n, text in enumerate(TIMESTAMPS)]
    write_landing(tmp_path, ORDERS, DAY, "a.jsonl", lines)
    columns = ["SOURCE_LINE", "EVENT_TIMESTAMP"]
    expected = typed_frame(spark, ORDERS_RAW, columns, list(enumerate(TIMESTAMPS.values(), start=1)))
    assertDataFrameEqual(bronze_frame(spark, tmp_path).select(columns), expected)


def test_a_timestamp_without_zone_is_utc_whatever_the_session_time_zone(spark):
    texts = ["2026-02-14 10:00:00", "2026-02-14T10:00:00.5", "2026-02-14T10:00:00Z"]
    frame = spark.createDataFrame([(t,) for t in texts], "t string")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Kolkata")
    try:
        micros = [r[0] for r in frame.select(F.unix_micros(iso_timestamp(F.col("t")))).collect()]
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    ten_utc = int(datetime(2026, 2, 14, 10, tzinfo=timezone.utc).timestamp() * 1_000_000)
    assert micros == [ten_utc, ten_utc + 500_000, ten_utc]
