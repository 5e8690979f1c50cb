"""Bronze: landing lines -> one typed row per line (SPEC §3, BRONZE.ORDERS_RAW / CLICKS_RAW)."""


from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from flowguard_assets.tables import CLICKS_RAW, ORDERS_RAW, Table
from flowguard_assets.transforms.parsing import iso_timestamp, integer, is_object, money, parse_object

_ENVELOPE_FIELDS = ["topic", "partition", "offset", "timestamp", "headers", "value"]


def _text(raw: Column) -> Column:
    return raw


def _int(raw: Column) -> Column:
    return integer(raw, "int")


# Bronze column -> (event field, parser of the field's JSON text)
EventFields = dict[str, tuple[str, Callable[[Column], Column]]]

ORDER_FIELDS: EventFields = {
    "EVENT_ID": ("event_id", _text),
    "EVENT_TYPE": ("event_type", _text),
    "EVENT_TIMESTAMP": ("timestamp", iso_timestamp),
    "ORDER_ID": ("order_id", _text),
    "USER_ID": ("user_id", integer),
    "ITEM_ID": ("item_id", integer),
    "ITEM_NAME": ("item_name", _text),
    "QUANTITY": ("quantity", _int),
    "PRICE": ("price", money),
    "STATUS": ("status", _text),
}
CLICK_FIELDS: EventFields = {
    "EVENT_ID": ("event_id", _text),
    "EVENT_TYPE": ("event_type", _text),
    "EVENT_TIMESTAMP": ("timestamp", iso_timestamp),
    "USER_ID": ("user_id", integer),
    "SESSION_ID": ("session_id", _text),
    "ITEM_ID": ("item_id", integer),
    "DEVICE_TYPE": ("device_type", _text),
}
FIELDS_BY_TABLE: dict[str, EventFields] = {
    ORDERS_RAW.name: ORDER_FIELDS,
    CLICKS_RAW.name: CLICK_FIELDS,
}


def envelope_columns(line: Column) -> dict[str, Column]:
    """The Kafka envelope of a landing line, and its event as text (`RAW_EVENT`); the producer is
    header `producer_service`, else header `source` (the events gateway's)."""
    envelope = parse_object(line, _ENVELOPE_FIELDS)
    is_envelope = is_object(envelope, line)
    topic, partition, offset = envelope["topic"], integer(envelope["partition"], "int"), integer(
        envelope["offset"]
    )
    readable = is_envelope & (F.trim(topic) != "") & partition.isNotNull() & offset.isNotNull()

    def header(name: str) -> Column:
        return F.get_json_object(envelope["headers"], f"$.{name}")

    return {
        "INGESTION_ID": F.when(readable, F.concat_ws("-", topic, partition, offset)),
        "SOURCE_TOPIC": topic,
        "KAFKA_PARTITION": partition,
        "KAFKA_OFFSET": offset,
        "KAFKA_TIMESTAMP": F.timestamp_millis(integer(envelope["timestamp"])),
        "PRODUCER_SERVICE": F.coalesce(header("producer_service"), header("source")),
        "SCHEMA_VERSION": header("schema_version"),
        "RAW_EVENT": F.when(is_envelope, envelope["value"]).otherwise(line),
    }


def to_bronze(lines: DataFrame, table: Table) -> DataFrame:
    """One Bronze row per landing line: the table's columns, plus `_MALFORMED` (the line or its
    value is not a JSON object) for the run's metadata; the warehouse writes only the table's.

    `lines` has PARTITION_DATE, SOURCE_FILE, SOURCE_LINE and LINE (the line's text).
    """
    fields = FIELDS_BY_TABLE[table.name]
    with_envelope = lines.select(
        "PARTITION_DATE", "SOURCE_FILE", "SOURCE_LINE", *_aliased(envelope_columns(F.col("LINE")))
    )
    event = parse_object(F.col("RAW_EVENT"), [field for field, _ in fields.values()])
    is_event = is_object(F.col("_event"), F.col("RAW_EVENT"))
    return with_envelope.withColumn("_event", event).select(
        *with_envelope.columns,
        F.current_timestamp().alias("INGESTION_TIMESTAMP"),
        *[F.when(is_event, parse(F.col("_event")[field])).alias(name) for name, (field, parse) in fields.items()],
        (~is_event).alias("_MALFORMED"),
    ).select(*table.column_names, "_MALFORMED")


def _aliased(columns: dict[str, Column]) -> list[Column]:
    return [column.alias(name) for name, column in columns.items()]
