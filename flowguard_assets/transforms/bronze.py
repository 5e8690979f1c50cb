"""Bronze: landing lines -> one typed row per line (SPEC §3, BRONZE.ORDERS_RAW / CLICKS_RAW)."""


from collections.abc import Callable

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.tables import MONEY, Table
from flowguard_assets.transforms.parsing import iso_timestamp, integer, is_object, money, parse_object

_ENVELOPE_FIELDS = ["topic", "partition", "offset", "timestamp", "headers", "value"]


# How a Bronze column of each type reads its event field's JSON text (`Column.field`).
_PARSERS: dict[T.DataType, Callable[[Column], Column]] = {
    T.StringType(): lambda raw: raw,
    T.LongType(): integer,
    T.IntegerType(): lambda raw: integer(raw, "int"),
    T.TimestampType(): iso_timestamp,
    MONEY: money,
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
    fields = {c.name: (c.field, _PARSERS[c.type]) for c in table.columns if c.field}
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
