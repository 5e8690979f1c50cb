"""Gold assets: the four daily metric tables, from good Silver rows (SPEC §3)."""


from collections.abc import Callable, Sequence
from datetime import date, timedelta
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame, SparkSession

from flowguard_assets import __version__
from flowguard_assets.partitions import daily_partitions, partition_days
from flowguard_assets.resources.spark import SparkResource
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import (
    CLICKS_CLEAN,
    DAILY_BUYERS,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    ORDERS_CLEAN,
    USER_FUNNEL_METRICS,
    Table,
)
from flowguard_assets.transforms import gold
from flowguard_assets.wiring import add_daily_metadata, clear_failures, markdown_table, table_asset

Row = dict[str, Any]
# The daily run starts at 01:00 UTC; Gold for the previous day is due by 03:00 UTC.
FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron="0 3 * * *", lower_bound_delta=timedelta(hours=3))


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _gmv_headline(rows: list[Row]) -> dict[str, Any]:
    (row,) = rows
    return {
        "revenue": _number(row["TOTAL_REVENUE"]),
        "orders": row["ORDER_COUNT"],
        "unique_users": row["UNIQUE_USERS"],
        "new_users": row["NEW_USERS"],
        "avg_order_value": _number(row["AVG_ORDER_VALUE"]),
    }


def _item_headline(rows: list[Row]) -> dict[str, Any]:
    top = min(rows, key=lambda r: (r["RANK_BY_REVENUE"], r["ITEM_ID"]), default=None)
    return {
        "items": len(rows),
        "top_sellers": sum(r["IS_TOP_SELLER"] for r in rows),
        "underperforming": sum(r["IS_UNDERPERFORMING"] for r in rows),
        "top_item": top["ITEM_NAME"] if top else "",
    }


def _funnel_headline(rows: list[Row]) -> dict[str, Any]:
    (row,) = rows
    return {
        "sessions": row["TOTAL_SESSIONS"],
        "clicks": row["TOTAL_CLICKS"],
        "orders": row["TOTAL_ORDERS"],
        "conversion_pct": _number(row["CLICK_TO_ORDER_RATE"]),
        "active_users": row["ACTIVE_USERS"],
    }


def _hourly_headline(rows: list[Row]) -> dict[str, Any]:
    peaks = sorted(r["HOUR_OF_DAY"] for r in rows if r["IS_PEAK_HOUR"])
    return {
        "orders": sum(r["ORDER_COUNT"] for r in rows),
        "peak_hours": ", ".join(f"{hour:02d}:00" for hour in peaks),
    }


def _days(session: SparkSession, days: Sequence[date]) -> DataFrame:
    return session.createDataFrame([(day,) for day in days], "DATE date")


def _publish(
    context: dg.AssetExecutionContext,
    session: SparkSession,
    warehouse: Warehouse,
    table: Table,
    result: DataFrame,
    days: list[date],
    headline: Callable[[list[Row]], dict[str, Any]],
) -> dg.MaterializeResult:
    """Write a Gold table's days and report each day's headline figures and a preview."""
    result = result.cache()
    try:
        warehouse.write(session, table, result, days)
        rows = [row.asDict() for row in result.collect()]
    finally:
        result.unpersist()
    shown = [c for c in table.column_names if c not in ("DATE", "LOAD_TIMESTAMP", "PROCESSING_VERSION")]
    by_day = {day: [r for r in rows if r["DATE"] == day] for day in days}
    add_daily_metadata(
        context,
        {
            day: {
                "dagster/row_count": len(day_rows),
                **headline(day_rows),
                "preview": dg.MetadataValue.md(markdown_table(day_rows[:24], shown)),
            }
            for day, day_rows in by_day.items()
        },
    )
    return dg.MaterializeResult()


@table_asset(
    DAILY_GMV_METRICS,
    deps=[ORDERS_CLEAN.asset_key],
    freshness_policy=FRESHNESS,
)
def daily_gmv_metrics(
    context: dg.AssetExecutionContext, spark: SparkResource, warehouse: Warehouse
) -> dg.MaterializeResult:
    """Growth also reads Silver of the day before each day; NEW_USERS reads the per-day buyer
    summary of every earlier day, never the whole Silver history. Both dependencies on earlier
    days are kept fresh by `new_users_refresh_sensor` (see docs/decisions.md: a shifted partition
    mapping would split every UI backfill in two runs)."""
    days = partition_days(context)
    with clear_failures():
        session = spark.get_session()
        before = days[0] - timedelta(days=1)
        orders = warehouse.read(session, ORDERS_CLEAN, before, days[-1])
        history_start = daily_partitions.start.date()
        buyers_before = warehouse.read(session, DAILY_BUYERS, history_start, before)
        result = gold.daily_gmv_metrics(_days(session, days), orders, buyers_before, __version__)
        return _publish(context, session, warehouse, DAILY_GMV_METRICS, result, days, _gmv_headline)


def _silver_pair(session: SparkSession, warehouse: Warehouse, days: list[date]):
    return (
        warehouse.read(session, ORDERS_CLEAN, days[0], days[-1]),
        warehouse.read(session, CLICKS_CLEAN, days[0], days[-1]),
    )


@table_asset(
    FOOD_ITEM_PERFORMANCE,
    deps=[ORDERS_CLEAN.asset_key, CLICKS_CLEAN.asset_key],
    freshness_policy=FRESHNESS,
)
def food_item_performance(
    context: dg.AssetExecutionContext, spark: SparkResource, warehouse: Warehouse
) -> dg.MaterializeResult:
    days = partition_days(context)
    with clear_failures():
        session = spark.get_session()
        orders, clicks = _silver_pair(session, warehouse, days)
        result = gold.food_item_performance(_days(session, days), orders, clicks, __version__)
        return _publish(
            context, session, warehouse, FOOD_ITEM_PERFORMANCE, result, days, _item_headline
        )


@table_asset(
    USER_FUNNEL_METRICS,
    deps=[ORDERS_CLEAN.asset_key, CLICKS_CLEAN.asset_key],
    freshness_policy=FRESHNESS,
)
def user_funnel_metrics(
    context: dg.AssetExecutionContext, spark: SparkResource, warehouse: Warehouse
) -> dg.MaterializeResult:
    days = partition_days(context)
    with clear_failures():
        session = spark.get_session()
        orders, clicks = _silver_pair(session, warehouse, days)
        result = gold.user_funnel_metrics(_days(session, days), orders, clicks, __version__)
        return _publish(
            context, session, warehouse, USER_FUNNEL_METRICS, result, days, _funnel_headline
        )


@table_asset(HOURLY_ORDER_PATTERNS, deps=[ORDERS_CLEAN.asset_key], freshness_policy=FRESHNESS)
def hourly_order_patterns(
    context: dg.AssetExecutionContext, spark: SparkResource, warehouse: Warehouse
) -> dg.MaterializeResult:
    days = partition_days(context)
    with clear_failures():
        session = spark.get_session()
        orders = warehouse.read(session, ORDERS_CLEAN, days[0], days[-1])
        result = gold.hourly_order_patterns(_days(session, days), orders, __version__)
        return _publish(
            context, session, warehouse, HOURLY_ORDER_PATTERNS, result, days, _hourly_headline
        )
