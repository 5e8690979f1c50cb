"""Silver: deduplicate, validate, flag, type and enrich Bronze rows (SPEC §3, SILVER.*_CLEAN).

Every Bronze row of a partition gives exactly one Silver row: bad and duplicate rows are kept and
flagged, never dropped.
"""


from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from flowguard_assets.tables import CLICKS_CLEAN, CLICKS_RAW, DAILY_BUYERS, MONEY, ORDERS_CLEAN, ORDERS_RAW, Table
from flowguard_assets.transforms.parsing import (
    integer,
    is_missing,
    is_null_json,
    is_object,
    iso_timestamp,
    json_boolean,
    money,
    parse_object,
)

MALFORMED, UNKNOWN_ITEM = "malformed_record", "unknown_item"  # the first and last codes of every table
ORDER_STATUSES = ("placed", "confirmed", "delivered", "cancelled")
CLICK_EVENT_TYPES = ("click", "impression")
_MAX_PRICE = 10000
_FIRST = ("KAFKA_TIMESTAMP", "KAFKA_PARTITION", "KAFKA_OFFSET", "SOURCE_FILE", "SOURCE_LINE")
ROW_KEY = ("PARTITION_DATE", "SOURCE_FILE", "SOURCE_LINE")  # one Bronze row: a line of a landing file
BRONZE_COLUMNS = [
    "INGESTION_ID",
    "KAFKA_TIMESTAMP",
    "KAFKA_PARTITION",
    "KAFKA_OFFSET",
    "SOURCE_FILE",
    "SOURCE_LINE",
    "RAW_EVENT",
    "PARTITION_DATE",
]
# What Silver reads of Bronze: the columns it carries, and EVENT_ID to find duplicates unparsed.
BRONZE_READ = [*BRONZE_COLUMNS, "EVENT_ID"]


Fields = dict[str, Column]


@dataclass(frozen=True)
class Check:
    """One validation code, and when a row gets it: from the event's raw fields and typed columns."""

    code: str
    fails: Callable[[Fields, Fields], Column]


@dataclass(frozen=True)
class Rules:
    """How one topic's events become Silver rows."""

    table: Table
    source: Table  # the Bronze table read
    fields: tuple[str, ...]
    variants: tuple[str, ...]  # fields read as VARIANT, where their JSON type matters
    typed: Callable[[Fields], Fields]
    checks: tuple[Check, ...]  # in SPEC order, between malformed_record and unknown_item

    @property
    def codes(self) -> tuple[str, ...]:
        """Every validation code a row of the table can get, in SPEC order."""
        return (MALFORMED, *(check.code for check in self.checks), UNKNOWN_ITEM)


def _positive(raw: Column, type_name: str = "bigint") -> Column:
    number = integer(raw, type_name)
    return F.when(number > 0, number)


def _present(raw: Column) -> Column:
    return F.when(~is_missing(raw), raw)


def _missing(field: str) -> Check:
    """`missing_<field>` when the field is absent, null or empty."""
    return Check(f"missing_{field}", lambda raw, typed: is_missing(raw[field]))


def _unreadable(field: str, column: str) -> Check:
    """`invalid_<field>` when the field is there but its typed column could not be read."""
    return Check(f"invalid_{field}", lambda raw, typed: ~is_missing(raw[field]) & typed[column].isNull())


def _required(field: str, column: str) -> tuple[Check, ...]:
    """`missing_<field>` when absent or empty, else `invalid_<field>` when it does not parse."""
    return _missing(field), _unreadable(field, column)


def _timestamp_checks(column: str) -> tuple[Check, ...]:
    def outside(raw: Fields, typed: Fields) -> Column:
        return typed[column].isNotNull() & (F.to_date(typed[column]) != F.col("PARTITION_DATE"))

    return (*_required("timestamp", column), Check("timestamp_outside_partition", outside))


def _order_typed(raw: dict[str, Column]) -> dict[str, Column]:
    quantity = F.when(is_missing(raw["quantity"]), F.lit(1)).otherwise(
        _positive(raw["quantity"], "int")
    )
    price = money(raw["price"])
    price = F.when((price > 0) & (price < _MAX_PRICE), price)
    return {
        "EVENT_ID": _present(raw["event_id"]),
        "ORDER_ID": _present(raw["order_id"]),
        "USER_ID": _positive(raw["user_id"]),
        "ITEM_ID": _positive(raw["item_id"]),
        "ITEM_NAME": raw["item_name"],
        "QUANTITY": quantity,
        "PRICE": price,
        "STATUS": F.coalesce(raw["status"], raw["order_type"], F.lit("placed")),
        "ORDER_TIMESTAMP": iso_timestamp(raw["timestamp"]),
        "ORDER_AMOUNT": (price * quantity).cast(MONEY),
    }


_ORDER_CHECKS = (
    _missing("event_id"),
    _missing("order_id"),
    *_required("user_id", "USER_ID"),
    *_required("item_id", "ITEM_ID"),
    *_timestamp_checks("ORDER_TIMESTAMP"),
    *_required("price", "PRICE"),
    Check("invalid_quantity", lambda raw, typed: typed["QUANTITY"].isNull()),
    Check("invalid_status", lambda raw, typed: ~typed["STATUS"].isin(*ORDER_STATUSES)),
)


def _click_typed(raw: dict[str, Column]) -> dict[str, Column]:
    is_click = json_boolean(raw["is_click"])
    event_type = F.when(is_click, F.lit("click")).when(~is_click, F.lit("impression"))
    return {
        "EVENT_ID": _present(raw["event_id"]),
        "USER_ID": _positive(raw["user_id"]),
        "SESSION_ID": raw["session_id"],
        "ITEM_ID": _positive(raw["item_id"]),
        "EVENT_TYPE": F.coalesce(event_type, _present(raw["event_type"])),
        "CLICK_TIMESTAMP": iso_timestamp(raw["timestamp"]),
    }


def _bad_is_click(raw: Fields) -> Column:
    """`is_click` is there but is not a JSON boolean (`"true"` as a string is not one)."""
    return ~is_null_json(raw["is_click"]) & json_boolean(raw["is_click"]).isNull()


def _unknown_event_type(raw: Fields, typed: Fields) -> Column:
    event_type = typed["EVENT_TYPE"]
    return _bad_is_click(raw) | (event_type.isNotNull() & ~event_type.isin(*CLICK_EVENT_TYPES))


_CLICK_CHECKS = (
    _missing("event_id"),
    Check("missing_event_type", lambda raw, typed: ~_bad_is_click(raw) & typed["EVENT_TYPE"].isNull()),
    Check("invalid_event_type", _unknown_event_type),
    *_required("user_id", "USER_ID"),
    _unreadable("item_id", "ITEM_ID"),  # optional: absent is fine
    *_timestamp_checks("CLICK_TIMESTAMP"),
)


ORDER_RULES = Rules(
    ORDERS_CLEAN,
    ORDERS_RAW,
    ("event_id", "timestamp", "order_id", "user_id", "item_id", "item_name", "quantity", "price", "status",
     "order_type"),
    (),
    _order_typed,
    _ORDER_CHECKS,
)
CLICK_RULES = Rules(
    CLICKS_CLEAN,
    CLICKS_RAW,
    ("event_id", "event_type", "is_click", "timestamp", "user_id", "session_id", "item_id"),
    ("is_click",),
    _click_typed,
    _CLICK_CHECKS,
)



def to_silver(bronze: DataFrame, catalog: DataFrame, rules: Rules, version: str) -> DataFrame:
    """One Silver row per Bronze row: typed, flagged (`VALIDATION_ERRORS`, `IS_VALID`,
    `IS_DUPLICATE`) and enriched from `catalog` (FOOD_ID, NAME, CATEGORY, DESCRIPTION)."""
    event = parse_object(F.col("RAW_EVENT"), list(rules.fields), rules.variants)
    parsed = bronze.select(*BRONZE_COLUMNS, event.alias("_event"))
    malformed = ~is_object(F.col("_event"), F.col("RAW_EVENT"))
    raw = {field: F.col("_event")[field] for field in rules.fields}
    typed = {name: F.when(~malformed, column) for name, column in rules.typed(raw).items()}
    foods = F.broadcast(
        catalog.select(
            F.col("FOOD_ID").alias("_FOOD_ID"),
            F.col("NAME").alias("ENRICHED_ITEM_NAME"),
            F.col("CATEGORY").alias("ENRICHED_CATEGORY"),
            F.col("DESCRIPTION").alias("ENRICHED_DESCRIPTION"),
        )
    )
    typed_rows = parsed.select(
        *BRONZE_COLUMNS,
        "_event",
        malformed.alias("_MALFORMED"),
        *[column.alias(name) for name, column in typed.items()],
    ).join(foods, F.col("ITEM_ID") == F.col("_FOOD_ID"), "left")

    columns = {name: F.col(name) for name in typed}
    checks = [(check.code, check.fails(raw, columns)) for check in rules.checks]
    checks.append((UNKNOWN_ITEM, F.col("ITEM_ID").isNotNull() & F.col("_FOOD_ID").isNull()))
    codes = F.concat_ws(",", *[F.when(condition, F.lit(code)) for code, condition in checks])
    errors = F.when(F.col("_MALFORMED"), F.lit(MALFORMED)).otherwise(
        F.when(codes != "", codes)
    )
    flagged = (
        typed_rows.withColumn("VALIDATION_ERRORS", errors)
        .withColumn("IS_VALID", F.col("VALIDATION_ERRORS").isNull())
        .join(F.broadcast(duplicates(bronze)), list(ROW_KEY), "left")
        .withColumn("IS_DUPLICATE", F.coalesce("_DUPLICATE", F.lit(False)))
    )
    return rules.table.conform(stamped(flagged.withColumn("DATE_PARTITION", F.col("PARTITION_DATE")), version))


def stamped(df: DataFrame, version: str) -> DataFrame:
    """`df` with the load columns of every Silver and Gold table: LOAD_TIMESTAMP (now) and
    PROCESSING_VERSION (the FlowGuard version that wrote the row)."""
    return df.withColumn("LOAD_TIMESTAMP", F.current_timestamp()).withColumn("PROCESSING_VERSION", F.lit(version))


def duplicates(bronze: DataFrame) -> DataFrame:
    """The Bronze rows SPEC's two-step `IS_DUPLICATE` flags, by row (`ROW_KEY`): first same
    INGESTION_ID, then same EVENT_ID among the rest; the first row of a group (by Kafka time,
    partition, offset, file, line) is the original. Only the keys are sorted, never whole rows."""
    first = [F.col(name).asc_nulls_last() for name in _FIRST]
    keys = bronze.select(
        *ROW_KEY, "INGESTION_ID", *_FIRST[:3], F.when(~is_missing(F.col("EVENT_ID")), F.col("EVENT_ID")).alias("EVENT_ID")
    )
    by_record = Window.partitionBy("PARTITION_DATE", "INGESTION_ID").orderBy(*first)
    redelivered = F.col("INGESTION_ID").isNotNull() & (F.row_number().over(by_record) > 1)
    step1 = keys.withColumn("_REDELIVERED", redelivered)
    by_event = Window.partitionBy("PARTITION_DATE", "EVENT_ID").orderBy("_REDELIVERED", *first)
    retried = ~F.col("_REDELIVERED") & F.col("EVENT_ID").isNotNull() & (F.row_number().over(by_event) > 1)
    flagged = step1.withColumn("_DUPLICATE", F.col("_REDELIVERED") | retried)
    return flagged.where("_DUPLICATE").select(*ROW_KEY, "_DUPLICATE")


def good_rows(silver: DataFrame) -> DataFrame:
    """The rows Gold reads: valid and not duplicate."""
    return silver.where(F.col("IS_VALID") & ~F.col("IS_DUPLICATE"))


def placed_orders(silver_orders: DataFrame) -> DataFrame:
    """SPEC's O(D): good order lines that are not cancelled."""
    return good_rows(silver_orders).where(F.col("STATUS") != "cancelled")


def to_daily_buyers(silver_orders: DataFrame, version: str) -> DataFrame:
    """SILVER.DAILY_BUYERS: the distinct users of O(D) per day."""
    buyers = placed_orders(silver_orders).select("DATE_PARTITION", "USER_ID").distinct()
    return DAILY_BUYERS.conform(stamped(buyers, version))
