"""Gold: the four daily metric tables of SPEC §3, from the good Silver rows only.

Each function takes `days` (a DataFrame with one DATE row per partition to produce) and Silver rows
(with DATE_PARTITION), and returns the table's rows for exactly those days.
"""


from collections.abc import Sequence
from datetime import date
from functools import reduce

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from flowguard_assets.tables import (
    DAILY_GMV_METRICS,
    MONEY,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    USER_FUNNEL_METRICS,
)
from flowguard_assets.transforms.rounding import rounded_ratio
from flowguard_assets.transforms.silver import good_rows, placed_orders, stamped

_FLAGS = ("DATE_PARTITION", "IS_VALID", "IS_DUPLICATE")
_ENRICHED = ("ITEM_ID", "ENRICHED_ITEM_NAME", "ENRICHED_CATEGORY", "USER_ID")
# The Silver columns the Gold tables (and their reconciliation) read: a run reads only these.
ORDER_COLUMNS = (*_FLAGS, *_ENRICHED, "ORDER_ID", "STATUS", "QUANTITY", "PRICE", "ORDER_AMOUNT", "ORDER_TIMESTAMP")
CLICK_COLUMNS = (*_FLAGS, *_ENRICHED, "SESSION_ID", "EVENT_TYPE")


def _money_or_zero(name: str) -> Column:
    return F.coalesce(F.col(name), F.lit(0).cast(MONEY))


def _by_day(df: DataFrame) -> DataFrame:
    return df.withColumnRenamed("DATE_PARTITION", "DATE")


def _per_day(days: DataFrame, *figures: DataFrame) -> DataFrame:
    """Every day of `days`, with the columns of each of `figures` (null on a day it lacks)."""
    return reduce(lambda joined, more: joined.join(more, "DATE", "left"), figures, days)


def _zero(name: str) -> Column:
    return F.coalesce(F.col(name), F.lit(0)).alias(name)


def _order_totals(orders: DataFrame) -> DataFrame:
    """Per day of O(D): revenue, distinct orders, items sold and distinct users."""
    return (
        _by_day(placed_orders(orders))
        .groupBy("DATE")
        .agg(
            F.sum("ORDER_AMOUNT").alias("TOTAL_REVENUE"),
            F.count_distinct("ORDER_ID").alias("ORDER_COUNT"),
            F.sum("QUANTITY").alias("TOTAL_ITEMS_SOLD"),
            F.count_distinct("USER_ID").alias("UNIQUE_USERS"),
        )
    )


def daily_gmv_metrics(
    days: DataFrame,
    orders: DataFrame,
    buyers_before: DataFrame,
    version: str,
    untrusted: Sequence[date] = (),
) -> DataFrame:
    """GOLD.DAILY_GMV_METRICS.

    `orders` holds Silver orders of the days and of the day before the first (for growth);
    `buyers_before` is SILVER.DAILY_BUYERS of every day before the first (for NEW_USERS). Growth
    against a day of `untrusted` (its gates failed) is null; NEW_USERS still reads it.
    """
    totals = _order_totals(orders)
    previous = totals.where(~F.col("DATE").isin(*untrusted)).select(
        F.date_add("DATE", 1).alias("DATE"),
        F.col("TOTAL_REVENUE").alias("_PREV_REVENUE"),
        F.col("ORDER_COUNT").alias("_PREV_ORDERS"),
    )
    cancelled = (
        _by_day(good_rows(orders))
        .where(F.col("STATUS") == "cancelled")
        .groupBy("DATE")
        .agg(F.count_distinct("ORDER_ID").alias("CANCELLED_ORDERS"))
    )
    buyers = _by_day(placed_orders(orders)).select("DATE", "USER_ID").distinct()
    history = _by_day(buyers_before).select("DATE", "USER_ID")
    first_order = buyers.unionByName(history).groupBy("USER_ID").agg(F.min("DATE").alias("_FIRST"))
    new_users = (
        buyers.join(first_order, "USER_ID")
        .where(F.col("DATE") == F.col("_FIRST"))
        .groupBy("DATE")
        .agg(F.count("USER_ID").alias("NEW_USERS"))
    )
    revenue = _money_or_zero("TOTAL_REVENUE")
    orders_today = F.coalesce(F.col("ORDER_COUNT"), F.lit(0))
    unique_users = F.coalesce(F.col("UNIQUE_USERS"), F.lit(0))
    new = F.coalesce(F.col("NEW_USERS"), F.lit(0))
    result = (
        _per_day(days, totals, previous, cancelled, new_users)
        .select(
            "DATE",
            revenue.alias("TOTAL_REVENUE"),
            orders_today.alias("ORDER_COUNT"),
            _zero("TOTAL_ITEMS_SOLD"),
            rounded_ratio(revenue, orders_today).alias("AVG_ORDER_VALUE"),
            unique_users.alias("UNIQUE_USERS"),
            new.alias("NEW_USERS"),
            (unique_users - new).alias("RETURNING_USERS"),
            _zero("CANCELLED_ORDERS"),
            rounded_ratio(revenue - F.col("_PREV_REVENUE"), F.col("_PREV_REVENUE"), percent=True)
            .alias("REVENUE_GROWTH_PCT"),
            rounded_ratio(orders_today - F.col("_PREV_ORDERS"), F.col("_PREV_ORDERS"), percent=True)
            .alias("ORDER_GROWTH_PCT"),
        )
    )
    return DAILY_GMV_METRICS.conform(stamped(result, version))


def food_item_performance(
    days: DataFrame, orders: DataFrame, clicks: DataFrame, version: str
) -> DataFrame:
    """GOLD.FOOD_ITEM_PERFORMANCE: one row per item with a row in O(D) or E(D)."""
    item_orders = (
        _by_day(placed_orders(orders))
        .groupBy("DATE", "ITEM_ID")
        .agg(
            F.count_distinct("ORDER_ID").alias("TOTAL_ORDERS"),
            F.sum("QUANTITY").alias("TOTAL_QUANTITY"),
            F.sum("ORDER_AMOUNT").alias("TOTAL_REVENUE"),
            F.count_distinct("USER_ID").alias("UNIQUE_BUYERS"),
            F.sum("PRICE").alias("_PRICE_SUM"),
            F.count("PRICE").alias("_PRICE_COUNT"),
            F.max("ENRICHED_ITEM_NAME").alias("_ORDER_NAME"),
            F.max("ENRICHED_CATEGORY").alias("_ORDER_CATEGORY"),
        )
    )
    item_clicks = (
        _by_day(good_rows(clicks))
        .where(F.col("ITEM_ID").isNotNull())
        .groupBy("DATE", "ITEM_ID")
        .agg(
            F.count_if(F.col("EVENT_TYPE") == "click").alias("CLICK_COUNT"),
            F.count_if(F.col("EVENT_TYPE") == "impression").alias("IMPRESSION_COUNT"),
            F.max("ENRICHED_ITEM_NAME").alias("_CLICK_NAME"),
            F.max("ENRICHED_CATEGORY").alias("_CLICK_CATEGORY"),
        )
    )
    items = item_orders.join(item_clicks, ["DATE", "ITEM_ID"], "full").join(days, "DATE", "left_semi")
    orders_count = F.coalesce(F.col("TOTAL_ORDERS"), F.lit(0))
    clicks_count = F.coalesce(F.col("CLICK_COUNT"), F.lit(0))
    measured = items.select(
        "DATE",
        "ITEM_ID",
        F.coalesce("_ORDER_NAME", "_CLICK_NAME").alias("ITEM_NAME"),
        F.coalesce("_ORDER_CATEGORY", "_CLICK_CATEGORY").alias("CATEGORY"),
        orders_count.alias("TOTAL_ORDERS"),
        _zero("TOTAL_QUANTITY"),
        _money_or_zero("TOTAL_REVENUE").alias("TOTAL_REVENUE"),
        _zero("UNIQUE_BUYERS"),
        rounded_ratio(F.col("_PRICE_SUM"), F.col("_PRICE_COUNT")).alias("AVG_PRICE"),
        clicks_count.alias("CLICK_COUNT"),
        _zero("IMPRESSION_COUNT"),
        rounded_ratio(orders_count, clicks_count, percent=True).alias("CONVERSION_RATE"),
        rounded_ratio(clicks_count, F.coalesce(F.col("IMPRESSION_COUNT"), F.lit(0)), percent=True)
        .alias("CLICK_THROUGH_RATE"),
    )
    day = Window.partitionBy("DATE")
    ranked = measured.select(
        "*",
        F.rank().over(day.orderBy(F.desc("TOTAL_REVENUE"))).alias("RANK_BY_REVENUE"),
        F.rank().over(day.orderBy(F.desc("TOTAL_ORDERS"))).alias("RANK_BY_ORDERS"),
        F.rank().over(day.orderBy(F.desc_nulls_last("CONVERSION_RATE"))).alias("RANK_BY_CONVERSION"),
        (
            (F.percent_rank().over(day.orderBy("TOTAL_REVENUE")) >= 0.9)
            & (F.col("TOTAL_REVENUE") > 0)
        ).alias("IS_TOP_SELLER"),
        (
            (F.col("CLICK_COUNT") > 10)
            & (F.col("CONVERSION_RATE").isNull() | (F.col("CONVERSION_RATE") < 5))
        ).alias("IS_UNDERPERFORMING"),
    )
    return FOOD_ITEM_PERFORMANCE.conform(stamped(ranked, version))


def user_funnel_metrics(
    days: DataFrame, orders: DataFrame, clicks: DataFrame, version: str
) -> DataFrame:
    """GOLD.USER_FUNNEL_METRICS: one row per day."""
    events = _by_day(good_rows(clicks))
    placed = _by_day(placed_orders(orders))
    is_click = F.col("EVENT_TYPE") == "click"
    funnel_events = events.groupBy("DATE").agg(
        F.count_distinct("SESSION_ID").alias("TOTAL_SESSIONS"),
        F.count_if(F.col("EVENT_TYPE") == "impression").alias("TOTAL_IMPRESSIONS"),
        F.count_if(is_click).alias("TOTAL_CLICKS"),
        F.count_distinct(F.when(is_click, F.col("USER_ID"))).alias("USERS_WITH_CLICKS"),
    )
    funnel_orders = placed.groupBy("DATE").agg(
        F.count_distinct("ORDER_ID").alias("TOTAL_ORDERS"),
        F.sum("ORDER_AMOUNT").alias("TOTAL_REVENUE"),
        F.count_distinct("USER_ID").alias("USERS_WITH_ORDERS"),
    )
    active = (
        events.select("DATE", "USER_ID")
        .unionByName(placed.select("DATE", "USER_ID"))
        .groupBy("DATE")
        .agg(F.count_distinct("USER_ID").alias("ACTIVE_USERS"))
    )
    sessions = F.coalesce(F.col("TOTAL_SESSIONS"), F.lit(0))
    impressions = F.coalesce(F.col("TOTAL_IMPRESSIONS"), F.lit(0))
    clicks_count = F.coalesce(F.col("TOTAL_CLICKS"), F.lit(0))
    orders_count = F.coalesce(F.col("TOTAL_ORDERS"), F.lit(0))
    revenue = _money_or_zero("TOTAL_REVENUE")
    result = (
        _per_day(days, funnel_events, funnel_orders, active)
        .select(
            "DATE",
            sessions.alias("TOTAL_SESSIONS"),
            impressions.alias("TOTAL_IMPRESSIONS"),
            clicks_count.alias("TOTAL_CLICKS"),
            orders_count.alias("TOTAL_ORDERS"),
            revenue.alias("TOTAL_REVENUE"),
            rounded_ratio(clicks_count, impressions, percent=True).alias("IMPRESSION_TO_CLICK_RATE"),
            rounded_ratio(orders_count, clicks_count, percent=True).alias("CLICK_TO_ORDER_RATE"),
            rounded_ratio(orders_count, sessions, percent=True).alias("SESSION_TO_ORDER_RATE"),
            rounded_ratio(clicks_count, sessions).alias("AVG_CLICKS_PER_SESSION"),
            rounded_ratio(orders_count, sessions).alias("AVG_ORDERS_PER_SESSION"),
            rounded_ratio(revenue, sessions).alias("AVG_REVENUE_PER_SESSION"),
            _zero("USERS_WITH_CLICKS"),
            _zero("USERS_WITH_ORDERS"),
            _zero("ACTIVE_USERS"),
        )
    )
    return USER_FUNNEL_METRICS.conform(stamped(result, version))


def hourly_order_patterns(days: DataFrame, orders: DataFrame, version: str) -> DataFrame:
    """GOLD.HOURLY_ORDER_PATTERNS: 24 rows per day, zero-filled."""
    placed = _by_day(placed_orders(orders)).withColumn("HOUR_OF_DAY", F.hour("ORDER_TIMESTAMP"))
    hourly = placed.groupBy("DATE", "HOUR_OF_DAY").agg(
        F.count_distinct("ORDER_ID").alias("ORDER_COUNT"),
        F.sum("ORDER_AMOUNT").alias("TOTAL_REVENUE"),
        F.count_distinct("USER_ID").alias("UNIQUE_USERS"),
    )
    daily = placed.groupBy("DATE").agg(
        F.count_distinct("ORDER_ID").alias("_DAY_ORDERS"),
        F.sum("ORDER_AMOUNT").alias("_DAY_REVENUE"),
    )
    hours = days.crossJoin(F.broadcast(days.sparkSession.range(24).select(
        F.col("id").cast("int").alias("HOUR_OF_DAY")
    )))
    orders_count = F.coalesce(F.col("ORDER_COUNT"), F.lit(0))
    revenue = _money_or_zero("TOTAL_REVENUE")
    filled = (
        hours.join(hourly, ["DATE", "HOUR_OF_DAY"], "left")
        .join(daily, "DATE", "left")
        .select(
            "DATE",
            "HOUR_OF_DAY",
            orders_count.alias("ORDER_COUNT"),
            revenue.alias("TOTAL_REVENUE"),
            rounded_ratio(revenue, orders_count).alias("AVG_ORDER_VALUE"),
            _zero("UNIQUE_USERS"),
            rounded_ratio(orders_count, F.col("_DAY_ORDERS"), percent=True)
            .alias("PCT_OF_DAILY_ORDERS"),
            rounded_ratio(revenue, F.col("_DAY_REVENUE"), percent=True)
            .alias("PCT_OF_DAILY_REVENUE"),
        )
    )
    peak_rank = F.rank().over(Window.partitionBy("DATE").orderBy(F.desc("ORDER_COUNT")))
    ranked = filled.withColumn("PEAK_RANK", peak_rank).withColumn(
        "IS_PEAK_HOUR", (F.col("PEAK_RANK") <= 3) & (F.col("ORDER_COUNT") > 0)
    )
    return HOURLY_ORDER_PATTERNS.conform(stamped(ranked, version))
