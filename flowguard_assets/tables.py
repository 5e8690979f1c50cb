"""One schema definition per table (SPEC §3): it drives the Spark schema, the warehouse DDL and the
column schema shown in the Dagster UI."""


from dataclasses import dataclass

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

MONEY = T.DecimalType(18, 2)
RATE = T.DecimalType(18, 2)


@dataclass(frozen=True)
class Column:
    name: str
    type: T.DataType
    description: str
    field: str | None = None  # Bronze: the top-level event field it is read from, typed by `type`


@dataclass(frozen=True)
class Reconciliation:
    """How a Gold table adds up to the good Silver orders of its day (SPEC §4)."""

    keys: tuple[str, ...]  # its key beyond DATE
    orders_column: str  # its order count
    silver_figure: str  # what that count equals in Silver: orders, order_hours or order_items
    day_orders: bool = False  # the count is the day's distinct orders, the same in every such table


@dataclass(frozen=True)
class Table:
    schema: str
    name: str
    partition_column: str
    description: str
    columns: tuple[Column, ...]
    other_fields: tuple[str, ...] = ()  # Bronze: the event fields SPEC §1 names that no column holds
    topic: str | None = None  # Bronze: the Kafka topic it lands
    reconciliation: Reconciliation | None = None  # Gold

    @property
    def asset_key(self) -> dg.AssetKey:
        return dg.AssetKey([self.schema, self.name.lower()])

    @property
    def qualified_name(self) -> str:
        return f"{self.schema.upper()}.{self.name}"

    @property
    def event_fields(self) -> tuple[str, ...]:
        """Bronze: every top-level event field SPEC §1 names, read into a column or not."""
        return tuple(c.field for c in self.columns if c.field) + self.other_fields

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def spark_schema(self) -> T.StructType:
        return T.StructType([T.StructField(c.name, c.type, nullable=True) for c in self.columns])

    def conform(self, df: DataFrame) -> DataFrame:
        """`df`'s columns in this table's order, cast to this table's types."""
        return df.select([F.col(c.name).cast(c.type).alias(c.name) for c in self.columns])

    @property
    def table_schema(self) -> dg.TableSchema:
        return dg.TableSchema(
            columns=[
                dg.TableColumn(c.name, c.type.simpleString(), description=c.description)
                for c in self.columns
            ]
        )


def _cols(*specs: tuple[str, T.DataType, str]) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


def _event_cols(*specs: tuple[str, T.DataType, str]) -> tuple[Column, ...]:
    """Bronze columns read from a top-level event field: (column, type, field); a typed one
    holds null for a field that is absent or not readable as its type."""

    def description(field: str, type_: T.DataType) -> str:
        if type_ == T.StringType():
            return field
        return f"{field}{' (UTC)' if type_ == T.TimestampType() else ''}; null when absent or unreadable"

    return tuple(Column(name, type_, description(field, type_), field) for name, type_, field in specs)


S, L, I, B = T.StringType(), T.LongType(), T.IntegerType(), T.BooleanType()
TS, D = T.TimestampType(), T.DateType()

_ENVELOPE = _cols(
    ("INGESTION_ID", S, "{topic}-{partition}-{offset}; null when the line has no readable envelope"),
    ("SOURCE_TOPIC", S, "Kafka topic of the record"),
    ("KAFKA_PARTITION", I, "Kafka partition"),
    ("KAFKA_OFFSET", L, "Kafka offset"),
    ("KAFKA_TIMESTAMP", TS, "Kafka record time (UTC)"),
    ("PRODUCER_SERVICE", S, "headers.producer_service, else headers.source"),
    ("SCHEMA_VERSION", S, "headers.schema_version"),
    ("SOURCE_FILE", S, "landing file name the line came from"),
    ("SOURCE_LINE", L, "1-based line number in SOURCE_FILE"),
    ("INGESTION_TIMESTAMP", TS, "when this row was written"),
    ("RAW_EVENT", S, "the event as text; the whole line when it is not JSON"),
)
_LINEAGE = _cols(
    ("INGESTION_ID", S, "Bronze lineage: Kafka topic-partition-offset"),
    ("SOURCE_FILE", S, "landing file name"),
    ("SOURCE_LINE", L, "1-based line number in the landing file"),
)
_QUALITY = _cols(
    ("IS_VALID", B, "true when VALIDATION_ERRORS is null"),
    ("IS_DUPLICATE", B, "a sink redelivery (same INGESTION_ID) or producer retry (same EVENT_ID)"),
    ("VALIDATION_ERRORS", S, "comma-separated validation codes in SPEC order; null when valid"),
)
_ENRICHMENT = _cols(
    ("ENRICHED_ITEM_NAME", S, "catalog name of ITEM_ID"),
    ("ENRICHED_CATEGORY", S, "catalog category of ITEM_ID"),
    ("ENRICHED_DESCRIPTION", S, "catalog description of ITEM_ID"),
)
_LANDED = _cols(("PARTITION_DATE", D, "landing folder date dt=D"))
_LOAD = _cols(
    ("LOAD_TIMESTAMP", TS, "when this row was written"),
    ("PROCESSING_VERSION", S, "FlowGuard version that wrote the row"),
)

ORDERS_RAW = Table(
    "bronze",
    "ORDERS_RAW",
    "PARTITION_DATE",
    "Every landing line of raw.orders.v1, one row per non-empty line, nothing dropped.",
    _ENVELOPE
    + _event_cols(
        ("EVENT_ID", S, "event_id"),
        ("EVENT_TYPE", S, "event_type"),
        ("EVENT_TIMESTAMP", TS, "timestamp"),
        ("ORDER_ID", S, "order_id"),
        ("USER_ID", L, "user_id"),
        ("ITEM_ID", L, "item_id"),
        ("ITEM_NAME", S, "item_name"),
        ("QUANTITY", I, "quantity"),
        ("PRICE", MONEY, "price"),
        ("STATUS", S, "status"),
    )
    + _LANDED,
    ("order_type", "restaurant_id", "city"),
    "raw.orders.v1",
)  # fmt: skip

CLICKS_RAW = Table(
    "bronze",
    "CLICKS_RAW",
    "PARTITION_DATE",
    "Every landing line of raw.clicks.v1, one row per non-empty line, nothing dropped.",
    _ENVELOPE
    + _event_cols(
        ("EVENT_ID", S, "event_id"),
        ("EVENT_TYPE", S, "event_type"),
        ("EVENT_TIMESTAMP", TS, "timestamp"),
        ("USER_ID", L, "user_id"),
        ("SESSION_ID", S, "session_id"),
        ("ITEM_ID", L, "item_id"),
        ("DEVICE_TYPE", S, "device_type"),
    )
    + _LANDED,
    ("is_click", "city"),
    "raw.clicks.v1",
)  # fmt: skip

ORDERS_CLEAN = Table(
    "silver",
    "ORDERS_CLEAN",
    "DATE_PARTITION",
    "Order lines deduplicated, validated, flagged and enriched; one row per Bronze row.",
    _cols(
        ("EVENT_ID", S, "event id"),
        ("ORDER_ID", S, "order id"),
        ("USER_ID", L, "user id; null when missing or invalid"),
        ("ITEM_ID", L, "item id; null when missing or invalid"),
        ("ITEM_NAME", S, "item name as sent"),
        ("QUANTITY", I, "quantity, 1 when absent; null when invalid"),
        ("PRICE", MONEY, "unit price; null when missing or invalid"),
        ("STATUS", S, "status, else order_type, else 'placed'"),
        ("ORDER_TIMESTAMP", TS, "event time (UTC); null when missing or invalid"),
        ("ORDER_AMOUNT", MONEY, "PRICE * QUANTITY"),
    )
    + _ENRICHMENT
    + _QUALITY
    + _LINEAGE
    + _LOAD
    + _cols(("DATE_PARTITION", D, "partition date D")),
)

CLICKS_CLEAN = Table(
    "silver",
    "CLICKS_CLEAN",
    "DATE_PARTITION",
    "Impressions and clicks deduplicated, validated, flagged and enriched; one row per Bronze row.",
    _cols(
        ("EVENT_ID", S, "event id"),
        ("USER_ID", L, "user id; null when missing or invalid"),
        ("SESSION_ID", S, "session id"),
        ("ITEM_ID", L, "item id; null when absent or invalid"),
        ("EVENT_TYPE", S, "'click' or 'impression': a boolean is_click decides, else event_type"),
        ("CLICK_TIMESTAMP", TS, "event time (UTC); null when missing or invalid"),
    )
    + _ENRICHMENT
    + _QUALITY
    + _LINEAGE
    + _LOAD
    + _cols(("DATE_PARTITION", D, "partition date D")),
)

DAILY_BUYERS = Table(
    "silver",
    "DAILY_BUYERS",
    "DATE_PARTITION",
    "Per-day summary written with ORDERS_CLEAN: the distinct users with a good, non-cancelled "
    "order line that day. GOLD.DAILY_GMV_METRICS reads it for NEW_USERS instead of all history.",
    _cols(("USER_ID", L, "user with a good non-cancelled order line on DATE_PARTITION"))
    + _LOAD
    + _cols(("DATE_PARTITION", D, "partition date D")),
)

DAILY_GMV_METRICS = Table(
    "gold",
    "DAILY_GMV_METRICS",
    "DATE",
    "Daily revenue, orders, items and users, with day-over-day growth.",
    _cols(
        ("DATE", D, "partition date D"),
        ("TOTAL_REVENUE", MONEY, "sum of ORDER_AMOUNT over good non-cancelled lines (0 when none)"),
        ("ORDER_COUNT", L, "distinct ORDER_ID"),
        ("TOTAL_ITEMS_SOLD", L, "sum of QUANTITY"),
        ("AVG_ORDER_VALUE", MONEY, "TOTAL_REVENUE / ORDER_COUNT, rounded; null when no orders"),
        ("UNIQUE_USERS", L, "distinct USER_ID"),
        ("NEW_USERS", L, "users with no good non-cancelled order on any earlier materialized day"),
        ("RETURNING_USERS", L, "UNIQUE_USERS - NEW_USERS"),
        ("CANCELLED_ORDERS", L, "distinct ORDER_ID of good cancelled lines"),
        ("REVENUE_GROWTH_PCT", RATE, "revenue change vs D-1 in %; null when D-1 has no revenue"),
        ("ORDER_GROWTH_PCT", RATE, "order count change vs D-1 in %; null when D-1 has no orders"),
    )
    + _LOAD,
    reconciliation=Reconciliation((), "ORDER_COUNT", "orders", day_orders=True),
)

FOOD_ITEM_PERFORMANCE = Table(
    "gold",
    "FOOD_ITEM_PERFORMANCE",
    "DATE",
    "Per item and day: orders, revenue, clicks, conversion and rankings.",
    _cols(
        ("DATE", D, "partition date D"),
        ("ITEM_ID", L, "catalog item id"),
        ("ITEM_NAME", S, "catalog name"),
        ("CATEGORY", S, "catalog category"),
        ("TOTAL_ORDERS", L, "distinct ORDER_ID"),
        ("TOTAL_QUANTITY", L, "sum of QUANTITY (0 when none)"),
        ("TOTAL_REVENUE", MONEY, "sum of ORDER_AMOUNT (0 when none)"),
        ("UNIQUE_BUYERS", L, "distinct USER_ID of order lines"),
        ("AVG_PRICE", MONEY, "average unit PRICE, rounded; null when no orders"),
        ("CLICK_COUNT", L, "good click events on the item"),
        ("IMPRESSION_COUNT", L, "good impression events on the item"),
        ("CONVERSION_RATE", RATE, "TOTAL_ORDERS / CLICK_COUNT * 100, rounded; null when no clicks"),
        ("CLICK_THROUGH_RATE", RATE, "CLICK_COUNT / IMPRESSION_COUNT * 100; null when none"),
        ("RANK_BY_REVENUE", I, "RANK() by TOTAL_REVENUE descending"),
        ("RANK_BY_ORDERS", I, "RANK() by TOTAL_ORDERS descending"),
        ("RANK_BY_CONVERSION", I, "RANK() by CONVERSION_RATE descending, nulls last"),
        ("IS_TOP_SELLER", B, "PERCENT_RANK() by revenue >= 0.9 and TOTAL_REVENUE > 0"),
        ("IS_UNDERPERFORMING", B, "CLICK_COUNT > 10 and conversion null or < 5"),
    )
    + _LOAD,
    reconciliation=Reconciliation(("ITEM_ID",), "TOTAL_ORDERS", "order_items"),
)

USER_FUNNEL_METRICS = Table(
    "gold",
    "USER_FUNNEL_METRICS",
    "DATE",
    "Daily funnel: sessions, impressions, clicks, orders and the rates between them.",
    _cols(
        ("DATE", D, "partition date D"),
        ("TOTAL_SESSIONS", L, "distinct non-null SESSION_ID"),
        ("TOTAL_IMPRESSIONS", L, "good impression events"),
        ("TOTAL_CLICKS", L, "good click events"),
        ("TOTAL_ORDERS", L, "distinct ORDER_ID of good non-cancelled lines"),
        ("TOTAL_REVENUE", MONEY, "as in DAILY_GMV_METRICS"),
        ("IMPRESSION_TO_CLICK_RATE", RATE, "clicks / impressions * 100; null when no impressions"),
        ("CLICK_TO_ORDER_RATE", RATE, "orders / clicks * 100; null when no clicks"),
        ("SESSION_TO_ORDER_RATE", RATE, "orders / sessions * 100; null when no sessions"),
        ("AVG_CLICKS_PER_SESSION", RATE, "clicks / sessions; null when no sessions"),
        ("AVG_ORDERS_PER_SESSION", RATE, "orders / sessions; null when no sessions"),
        ("AVG_REVENUE_PER_SESSION", MONEY, "revenue / sessions; null when no sessions"),
        ("USERS_WITH_CLICKS", L, "distinct users with a good click"),
        ("USERS_WITH_ORDERS", L, "distinct users with a good non-cancelled order line"),
        ("ACTIVE_USERS", L, "distinct users with a good click event or order line"),
    )
    + _LOAD,
    reconciliation=Reconciliation((), "TOTAL_ORDERS", "orders", day_orders=True),
)

HOURLY_ORDER_PATTERNS = Table(
    "gold",
    "HOURLY_ORDER_PATTERNS",
    "DATE",
    "Orders and revenue per UTC hour, 24 zero-filled rows per day, with peak hours.",
    _cols(
        ("DATE", D, "partition date D"),
        ("HOUR_OF_DAY", I, "UTC hour of ORDER_TIMESTAMP, 0-23"),
        ("ORDER_COUNT", L, "distinct ORDER_ID in the hour"),
        ("TOTAL_REVENUE", MONEY, "sum of ORDER_AMOUNT (0 when none)"),
        ("AVG_ORDER_VALUE", MONEY, "revenue / orders, rounded; null when none"),
        ("UNIQUE_USERS", L, "distinct USER_ID"),
        ("PEAK_RANK", I, "RANK() by ORDER_COUNT descending among the 24 hours"),
        ("IS_PEAK_HOUR", B, "PEAK_RANK <= 3 and ORDER_COUNT > 0"),
        ("PCT_OF_DAILY_ORDERS", RATE, "share of the day's orders * 100; null when none"),
        ("PCT_OF_DAILY_REVENUE", RATE, "share of the day's revenue * 100; null when none"),
    )
    + _LOAD,
    reconciliation=Reconciliation(("HOUR_OF_DAY",), "ORDER_COUNT", "order_hours"),
)

BRONZE_TABLES = (ORDERS_RAW, CLICKS_RAW)
TOPICS = tuple(table.topic for table in BRONZE_TABLES)
GOLD_TABLES = (DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE, USER_FUNNEL_METRICS, HOURLY_ORDER_PATTERNS)


def _profile(source: Table) -> Table:
    return Table(
        "bronze",
        f"{source.name}_PROFILE",
        "PARTITION_DATE",
        f"Per-day summary written with {source.name}: its row count and each top-level event field "
        "with its count of events and an example. The volume and new-fields checks read it for "
        "history instead of older Bronze partitions.",
        _cols(
            ("ROW_COUNT", L, f"rows of {source.name} on PARTITION_DATE"),
            ("FIELD", S, "a top-level field of the events; null on the row of a day without events"),
            ("EVENTS", L, "events that carry FIELD"),
            ("EXAMPLE", S, "for a field the contract does not name: one value as JSON text, at most 80 characters"),
            ("PARTITION_DATE", D, "landing folder date dt=D"),
        ),
    )


ORDERS_PROFILE = _profile(ORDERS_RAW)
CLICKS_PROFILE = _profile(CLICKS_RAW)

CHECK_RESULTS = Table(
    "audit",
    "CHECK_RESULTS",
    "PARTITION_DATE",
    "Every check evaluation of every run (gates, reconciliation, volume, new fields), one row per "
    "check and day: quality over time, queryable next to the data.",
    _cols(
        ("CHECK_NAME", S, "the check, e.g. valid_rate"),
        ("ASSET_KEY", S, "the checked asset, e.g. silver/orders_clean"),
        ("PASSED", B, "whether the check passed"),
        ("SEVERITY", S, "ERROR (blocks Gold for the day) or WARN (alerts only)"),
        ("OBSERVED", T.DecimalType(38, 6), "the measured value: a rate, a ratio or a count"),
        ("THRESHOLD", T.DecimalType(38, 6), "the bound it is held to; null where none or two-sided"),
        ("DETAILS", S, "JSON text of the evaluation's figures"),
        ("RUN_ID", S, "the Dagster run that evaluated it"),
        ("EVALUATED_AT", TS, "when it was evaluated (UTC)"),
        ("PARTITION_DATE", D, "the day the evaluation is about"),
    ),
)

ALL_TABLES = (
    ORDERS_RAW,
    CLICKS_RAW,
    ORDERS_CLEAN,
    CLICKS_CLEAN,
    DAILY_BUYERS,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    USER_FUNNEL_METRICS,
    HOURLY_ORDER_PATTERNS,
    ORDERS_PROFILE,
    CLICKS_PROFILE,
    CHECK_RESULTS,
)


def _same(source: Table, *names: str) -> dict[str, list[tuple[Table, str]]]:
    return {name: [(source, name)] for name in names}


_LINEAGE_COLUMNS = ("INGESTION_ID", "SOURCE_FILE", "SOURCE_LINE")
# Where each column comes from, where that is straightforward (shown as column lineage in the UI).
LINEAGE: dict[str, dict[str, list[tuple[Table, str]]]] = {
    ORDERS_CLEAN.name: {
        **_same(ORDERS_RAW, "EVENT_ID", "ORDER_ID", "USER_ID", "ITEM_ID", "ITEM_NAME", "QUANTITY"),
        **_same(ORDERS_RAW, "PRICE", *_LINEAGE_COLUMNS),
        "STATUS": [(ORDERS_RAW, "STATUS"), (ORDERS_RAW, "RAW_EVENT")],
        "ORDER_TIMESTAMP": [(ORDERS_RAW, "EVENT_TIMESTAMP")],
        "ORDER_AMOUNT": [(ORDERS_RAW, "PRICE"), (ORDERS_RAW, "QUANTITY")],
        "DATE_PARTITION": [(ORDERS_RAW, "PARTITION_DATE")],
    },
    CLICKS_CLEAN.name: {
        **_same(CLICKS_RAW, "EVENT_ID", "USER_ID", "SESSION_ID", "ITEM_ID"),
        "EVENT_TYPE": [(CLICKS_RAW, "EVENT_TYPE"), (CLICKS_RAW, "RAW_EVENT")],
        **_same(CLICKS_RAW, *_LINEAGE_COLUMNS),
        "CLICK_TIMESTAMP": [(CLICKS_RAW, "EVENT_TIMESTAMP")],
        "DATE_PARTITION": [(CLICKS_RAW, "PARTITION_DATE")],
    },
    DAILY_GMV_METRICS.name: {
        "DATE": [(ORDERS_CLEAN, "DATE_PARTITION")],
        "TOTAL_REVENUE": [(ORDERS_CLEAN, "ORDER_AMOUNT")],
        "ORDER_COUNT": [(ORDERS_CLEAN, "ORDER_ID")],
        "TOTAL_ITEMS_SOLD": [(ORDERS_CLEAN, "QUANTITY")],
        "AVG_ORDER_VALUE": [(ORDERS_CLEAN, "ORDER_AMOUNT"), (ORDERS_CLEAN, "ORDER_ID")],
        "UNIQUE_USERS": [(ORDERS_CLEAN, "USER_ID")],
        "NEW_USERS": [(ORDERS_CLEAN, "USER_ID")],
        "RETURNING_USERS": [(ORDERS_CLEAN, "USER_ID")],
        "CANCELLED_ORDERS": [(ORDERS_CLEAN, "ORDER_ID"), (ORDERS_CLEAN, "STATUS")],
    },
    FOOD_ITEM_PERFORMANCE.name: {
        "DATE": [(ORDERS_CLEAN, "DATE_PARTITION"), (CLICKS_CLEAN, "DATE_PARTITION")],
        "ITEM_ID": [(ORDERS_CLEAN, "ITEM_ID"), (CLICKS_CLEAN, "ITEM_ID")],
        "ITEM_NAME": [(ORDERS_CLEAN, "ENRICHED_ITEM_NAME"), (CLICKS_CLEAN, "ENRICHED_ITEM_NAME")],
        "CATEGORY": [(ORDERS_CLEAN, "ENRICHED_CATEGORY"), (CLICKS_CLEAN, "ENRICHED_CATEGORY")],
        "TOTAL_ORDERS": [(ORDERS_CLEAN, "ORDER_ID")],
        "TOTAL_QUANTITY": [(ORDERS_CLEAN, "QUANTITY")],
        "TOTAL_REVENUE": [(ORDERS_CLEAN, "ORDER_AMOUNT")],
        "UNIQUE_BUYERS": [(ORDERS_CLEAN, "USER_ID")],
        "AVG_PRICE": [(ORDERS_CLEAN, "PRICE")],
        "CLICK_COUNT": [(CLICKS_CLEAN, "EVENT_TYPE")],
        "IMPRESSION_COUNT": [(CLICKS_CLEAN, "EVENT_TYPE")],
    },
    USER_FUNNEL_METRICS.name: {
        "DATE": [(ORDERS_CLEAN, "DATE_PARTITION"), (CLICKS_CLEAN, "DATE_PARTITION")],
        "TOTAL_SESSIONS": [(CLICKS_CLEAN, "SESSION_ID")],
        "TOTAL_IMPRESSIONS": [(CLICKS_CLEAN, "EVENT_TYPE")],
        "TOTAL_CLICKS": [(CLICKS_CLEAN, "EVENT_TYPE")],
        "TOTAL_ORDERS": [(ORDERS_CLEAN, "ORDER_ID")],
        "TOTAL_REVENUE": [(ORDERS_CLEAN, "ORDER_AMOUNT")],
        "USERS_WITH_CLICKS": [(CLICKS_CLEAN, "USER_ID"), (CLICKS_CLEAN, "EVENT_TYPE")],
        "USERS_WITH_ORDERS": [(ORDERS_CLEAN, "USER_ID")],
        "ACTIVE_USERS": [(CLICKS_CLEAN, "USER_ID"), (ORDERS_CLEAN, "USER_ID")],
    },
    HOURLY_ORDER_PATTERNS.name: {
        "DATE": [(ORDERS_CLEAN, "DATE_PARTITION")],
        "HOUR_OF_DAY": [(ORDERS_CLEAN, "ORDER_TIMESTAMP")],
        "ORDER_COUNT": [(ORDERS_CLEAN, "ORDER_ID")],
        "TOTAL_REVENUE": [(ORDERS_CLEAN, "ORDER_AMOUNT")],
        "UNIQUE_USERS": [(ORDERS_CLEAN, "USER_ID")],
    },
}


def column_lineage(table: Table) -> dg.TableColumnLineage | None:
    """`table`'s column lineage for the Dagster UI, where it is straightforward."""
    deps = LINEAGE.get(table.name)
    if not deps:
        return None
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=source.asset_key, column_name=name) for source, name in sources]
            for column, sources in deps.items()
        }
    )
