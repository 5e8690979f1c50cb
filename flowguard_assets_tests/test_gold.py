"""Gold metrics of SPEC §3 on small hand-computed Silver fixtures, on real PySpark.

Days: D0 has one earlier order (user 2); D1 and D2 are busy; D3 has nothing; D4 has one late
night order after the empty day.
"""

from datetime import date, datetime
from decimal import Decimal

import pytest
from pyspark.testing import assertDataFrameEqual

from flowguard_assets.tables import CLICKS_CLEAN, DAILY_BUYERS, FOOD_ITEM_PERFORMANCE, ORDERS_CLEAN, USER_FUNNEL_METRICS
from flowguard_assets.transforms import gold
from flowguard_assets_tests.harness import EXACT, typed_frame

pytestmark = pytest.mark.fast

D0, D1, D2, D3, D4 = (date(2026, 2, d) for d in (9, 10, 11, 12, 13))


def at(day: date, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day.isoformat()}T{clock}")


def order(day, clock, order_id, user, item, price, quantity=1, status="placed", valid=True, duplicate=False):
    price = Decimal(price)
    return {
        "ORDER_ID": order_id,
        "USER_ID": user,
        "ITEM_ID": item,
        "QUANTITY": quantity,
        "PRICE": price,
        "STATUS": status,
        "ORDER_TIMESTAMP": at(day, clock),
        "ORDER_AMOUNT": price * quantity,
        "ENRICHED_ITEM_NAME": f"Dish {item}",
        "ENRICHED_CATEGORY": "Mains" if item % 2 else "Sides",
        "IS_VALID": valid,
        "IS_DUPLICATE": duplicate,
        "DATE_PARTITION": day,
    }


def event(day, clock, kind, user, session, item, valid=True, duplicate=False):
    return {
        "EVENT_TYPE": kind,
        "USER_ID": user,
        "SESSION_ID": session,
        "ITEM_ID": item,
        "CLICK_TIMESTAMP": at(day, clock),
        "ENRICHED_ITEM_NAME": None if item is None else f"Dish {item}",
        "ENRICHED_CATEGORY": None if item is None else ("Mains" if item % 2 else "Sides"),
        "IS_VALID": valid,
        "IS_DUPLICATE": duplicate,
        "DATE_PARTITION": day,
    }


ORDERS = [
    order(D0, "18:00:00", "o0", 2, 1, "71.00"),
    order(D1, "12:10:00", "o1", 1, 1, "10.00", quantity=2),
    order(D1, "12:10:00", "o1", 1, 2, "5.50"),
    order(D1, "19:05:00", "o2", 2, 1, "10.00"),
    order(D1, "19:40:00", "o3", 3, 3, "7.25", status="cancelled"),
    order(D1, "20:15:00", "o9", 3, 4, "5.50"),
    order(D1, "08:00:00", "o4", 2, 2, "5.50", quantity=3, duplicate=True),
    order(D1, "09:00:00", "o5", 4, 1, "10.00", valid=False),
    order(D2, "12:00:00", "o6", 1, 1, "5.00"),
    order(D2, "12:30:00", "o7", 5, 3, "5.01"),
    order(D4, "23:59:59", "o10", 11, 1, "8.00"),
]
EVENTS = [
    event(D1, "12:00:00", "impression", 1, "s1", 1),
    event(D1, "12:00:01", "impression", 1, "s1", 2),
    event(D1, "12:00:02", "click", 1, "s1", 1),
    event(D1, "19:00:00", "impression", 2, "s2", 1),
    event(D1, "19:00:01", "click", 2, "s2", 1),
    event(D1, "19:00:02", "click", 2, "s2", 1),
    event(D1, "10:00:00", "impression", 7, "s3", 3),
    event(D1, "11:00:00", "click", 8, None, 2),
    event(D1, "11:30:00", "click", 9, "s4", None),
    event(D1, "11:31:00", "click", 9, "s4", 3, valid=False),
    event(D1, "11:32:00", "click", 9, "s4", 3, duplicate=True),
    *[event(D2, f"15:00:{n:02d}", "click", 10, "s9", 5) for n in range(11)],
]
BUYERS_BEFORE = [{"USER_ID": 2, "DATE_PARTITION": D0}]


def frame(spark, table, rows):
    return spark.createDataFrame([{c: row.get(c) for c in table.column_names} for row in rows], table.spark_schema)


@pytest.fixture(scope="module")
def inputs(spark):
    days = spark.createDataFrame([(d,) for d in (D1, D2, D3, D4)], "DATE date")
    return (
        days,
        frame(spark, ORDERS_CLEAN, ORDERS),
        frame(spark, CLICKS_CLEAN, EVENTS),
        frame(spark, DAILY_BUYERS, BUYERS_BEFORE),
    )


def by(rows, *keys):
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r.asDict() for r in rows}


def picked(row: dict, expected: dict) -> dict:
    return {k: row[k] for k in expected}


def decimals(values: tuple) -> tuple:
    """`values` with each text turned into a Decimal."""
    return tuple(Decimal(v) if isinstance(v, str) else v for v in values)


@pytest.fixture(scope="module")
def gmv(inputs):
    days, orders, _, buyers = inputs
    return by(gold.daily_gmv_metrics(days, orders, buyers, "t").collect(), "DATE")


def test_daily_gmv_busy_day(gmv):
    expected = {
        "TOTAL_REVENUE": Decimal("41.00"),
        "ORDER_COUNT": 3,
        "TOTAL_ITEMS_SOLD": 5,
        "AVG_ORDER_VALUE": Decimal("13.67"),
        "UNIQUE_USERS": 3,
        "NEW_USERS": 2,  # users 1 and 3; user 2 ordered on D0; user 3's D1 cancelled order is not O(D)
        "RETURNING_USERS": 1,
        "CANCELLED_ORDERS": 1,
        "REVENUE_GROWTH_PCT": Decimal("-42.25"),  # (41 - 71) / 71
        "ORDER_GROWTH_PCT": Decimal("200.00"),
    }
    assert picked(gmv[D1], expected) == expected
    assert gmv[D1]["PROCESSING_VERSION"] == "t" and gmv[D1]["LOAD_TIMESTAMP"] is not None


def test_daily_gmv_half_cent_rounds_away_from_zero_and_returning_users(gmv):
    expected = {
        "TOTAL_REVENUE": Decimal("10.01"),
        "ORDER_COUNT": 2,
        "AVG_ORDER_VALUE": Decimal("5.01"),  # 5.005
        "UNIQUE_USERS": 2,
        "NEW_USERS": 1,  # user 5; user 1 ordered on D1
        "RETURNING_USERS": 1,
        "CANCELLED_ORDERS": 0,
        "REVENUE_GROWTH_PCT": Decimal("-75.59"),  # (10.01 - 41) / 41 = -75.585...
        "ORDER_GROWTH_PCT": Decimal("-33.33"),
    }
    assert picked(gmv[D2], expected) == expected


def test_daily_gmv_day_without_orders_and_growth_after_it(gmv):
    assert {k: gmv[D3][k] for k in ("TOTAL_REVENUE", "ORDER_COUNT", "AVG_ORDER_VALUE", "UNIQUE_USERS", "NEW_USERS")} == {
        "TOTAL_REVENUE": Decimal("0.00"),
        "ORDER_COUNT": 0,
        "AVG_ORDER_VALUE": None,
        "UNIQUE_USERS": 0,
        "NEW_USERS": 0,
    }
    assert (gmv[D3]["REVENUE_GROWTH_PCT"], gmv[D3]["ORDER_GROWTH_PCT"]) == (Decimal("-100.00"), Decimal("-100.00"))
    # D3 has no revenue, so D4's growth is null.
    assert (gmv[D4]["REVENUE_GROWTH_PCT"], gmv[D4]["ORDER_GROWTH_PCT"]) == (None, None)
    assert (gmv[D4]["NEW_USERS"], gmv[D4]["TOTAL_REVENUE"]) == (1, Decimal("8.00"))


def test_growth_is_null_when_the_previous_day_was_never_materialized(spark, inputs):
    _, orders, _, buyers = inputs
    days = spark.createDataFrame([(D1,)], "DATE date")
    without_d0 = orders.where(orders.DATE_PARTITION >= D1)
    (row,) = gold.daily_gmv_metrics(days, without_d0, buyers, "t").collect()
    assert (row["REVENUE_GROWTH_PCT"], row["ORDER_GROWTH_PCT"]) == (None, None)
    assert row["NEW_USERS"] == 2


def test_new_users_come_from_the_history_summary(spark, inputs):
    _, orders, _, _ = inputs
    days = spark.createDataFrame([(D2,)], "DATE date")
    no_history = frame(spark, DAILY_BUYERS, [])
    (row,) = gold.daily_gmv_metrics(days, orders.where(orders.DATE_PARTITION >= D1), no_history, "t").collect()
    # User 1's D1 order is in the Silver read for growth (D-1), so it still counts as history.
    assert (row["NEW_USERS"], row["RETURNING_USERS"]) == (1, 1)
    summary = frame(spark, DAILY_BUYERS, [{"USER_ID": 5, "DATE_PARTITION": D0}])
    (row,) = gold.daily_gmv_metrics(days, orders.where(orders.DATE_PARTITION >= D1), summary, "t").collect()
    assert (row["NEW_USERS"], row["RETURNING_USERS"]) == (0, 2)


@pytest.fixture(scope="module")
def item_frame(inputs):
    """Cached: read as a DataFrame and as rows."""
    days, orders, clicks, _ = inputs
    return gold.food_item_performance(days, orders, clicks, "t").cache()


@pytest.fixture(scope="module")
def items(item_frame):
    return by(item_frame.collect(), "DATE", "ITEM_ID")


def test_food_items_of_a_day(spark, item_frame, items):
    columns = [
        "ITEM_ID", "TOTAL_ORDERS", "TOTAL_QUANTITY", "TOTAL_REVENUE", "UNIQUE_BUYERS", "AVG_PRICE",
        "CLICK_COUNT", "IMPRESSION_COUNT", "CONVERSION_RATE", "CLICK_THROUGH_RATE",
        "RANK_BY_REVENUE", "RANK_BY_ORDERS", "RANK_BY_CONVERSION", "IS_TOP_SELLER",
        "IS_UNDERPERFORMING",
    ]  # fmt: skip
    expected = [
        (1, 2, 3, "30.00", 2, "10.00", 3, 2, "66.67", "150.00", 1, 1, 2, True, False),
        (2, 1, 1, "5.50", 1, "5.50", 1, 1, "100.00", "100.00", 2, 2, 1, False, False),
        (3, 0, 0, "0.00", 0, None, 0, 1, None, "0.00", 4, 4, 3, False, False),
        (4, 1, 1, "5.50", 1, "5.50", 0, 0, None, None, 2, 2, 3, False, False),
    ]
    assertDataFrameEqual(
        item_frame.where(item_frame.DATE == D1).select(columns),
        typed_frame(spark, FOOD_ITEM_PERFORMANCE, columns, [decimals(row) for row in expected]),
        **EXACT,
    )
    assert (items[(D1, 3)]["ITEM_NAME"], items[(D1, 3)]["CATEGORY"]) == ("Dish 3", "Mains")


def test_food_items_underperforming_and_top_seller(items):
    assert sorted(k[1] for k in items if k[0] == D2) == [1, 3, 5]
    five = items[(D2, 5)]
    assert (five["CLICK_COUNT"], five["CONVERSION_RATE"], five["IS_UNDERPERFORMING"]) == (11, Decimal("0.00"), True)
    assert [items[(D2, i)]["RANK_BY_REVENUE"] for i in (3, 1, 5)] == [1, 2, 3]
    assert [items[(D2, i)]["IS_TOP_SELLER"] for i in (3, 1, 5)] == [True, False, False]
    assert not [k for k in items if k[0] == D3]


def test_user_funnel(spark, inputs):
    days, orders, clicks, _ = inputs
    columns = [
        "DATE", "TOTAL_SESSIONS", "TOTAL_IMPRESSIONS", "TOTAL_CLICKS", "TOTAL_ORDERS", "TOTAL_REVENUE",
        "IMPRESSION_TO_CLICK_RATE", "CLICK_TO_ORDER_RATE", "SESSION_TO_ORDER_RATE",
        "AVG_CLICKS_PER_SESSION", "AVG_ORDERS_PER_SESSION", "AVG_REVENUE_PER_SESSION",
        "USERS_WITH_CLICKS", "USERS_WITH_ORDERS", "ACTIVE_USERS",
    ]  # fmt: skip
    expected = [
        (D1, 4, 4, 5, 3, "41.00", "125.00", "60.00", "75.00", "1.25", "0.75", "10.25", 4, 3, 6),
        (D2, 1, 0, 11, 2, "10.01", None, "18.18", "200.00", "11.00", "2.00", "10.01", 1, 2, 3),
        (D3, 0, 0, 0, 0, "0.00", None, None, None, None, None, None, 0, 0, 0),
        # The late-night order of D4 without any session: no per-session or per-click rate.
        (D4, 0, 0, 0, 1, "8.00", None, None, None, None, None, None, 0, 1, 1),
    ]
    assertDataFrameEqual(
        gold.user_funnel_metrics(days, orders, clicks, "t").select(columns),
        typed_frame(spark, USER_FUNNEL_METRICS, columns, [decimals(row) for row in expected]),
        **EXACT,
    )


@pytest.fixture(scope="module")
def hourly(inputs):
    days, orders, _, _ = inputs
    return by(gold.hourly_order_patterns(days, orders, "t").collect(), "DATE", "HOUR_OF_DAY")


def test_hourly_patterns_are_zero_filled_with_shared_peak_ranks(hourly):
    assert sorted(h for d, h in hourly if d == D1) == list(range(24))
    assert len(hourly) == 4 * 24
    busy = {12: ("25.50", "62.20"), 19: ("10.00", "24.39"), 20: ("5.50", "13.41")}
    for hour, (revenue, revenue_pct) in busy.items():
        row = hourly[(D1, hour)]
        assert (row["ORDER_COUNT"], row["UNIQUE_USERS"], row["PEAK_RANK"], row["IS_PEAK_HOUR"]) == (1, 1, 1, True)
        assert (row["TOTAL_REVENUE"], row["AVG_ORDER_VALUE"]) == (Decimal(revenue), Decimal(revenue))
        assert (row["PCT_OF_DAILY_ORDERS"], row["PCT_OF_DAILY_REVENUE"]) == (Decimal("33.33"), Decimal(revenue_pct))
    quiet = hourly[(D1, 3)]
    assert (quiet["ORDER_COUNT"], quiet["TOTAL_REVENUE"], quiet["AVG_ORDER_VALUE"]) == (0, Decimal("0.00"), None)
    assert (quiet["PEAK_RANK"], quiet["IS_PEAK_HOUR"], quiet["PCT_OF_DAILY_ORDERS"]) == (4, False, Decimal("0.00"))


def test_hourly_zero_hours_are_never_peaks(hourly):
    assert (hourly[(D2, 12)]["ORDER_COUNT"], hourly[(D2, 12)]["PEAK_RANK"]) == (2, 1)
    assert [hourly[(D2, h)]["IS_PEAK_HOUR"] for h in (11, 13)] == [False, False]
    assert hourly[(D2, 13)]["PEAK_RANK"] == 2
    empty = [hourly[(D3, h)] for h in range(24)]
    assert all(r["PEAK_RANK"] == 1 and not r["IS_PEAK_HOUR"] for r in empty)
    assert all(r["PCT_OF_DAILY_ORDERS"] is None and r["PCT_OF_DAILY_REVENUE"] is None for r in empty)
    assert hourly[(D4, 23)]["ORDER_COUNT"] == 1

