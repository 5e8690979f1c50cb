"""The column lineage the UI shows (`tables.LINEAGE`), tested against the Gold transforms: a Gold
column that changes when one Silver column changes must name that column among its sources.

Full tier only: about 50 Spark jobs on the small fixtures of `test_gold.py`.
"""

from flowguard_assets.tables import (
    CLICKS_CLEAN,
    DAILY_BUYERS,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    LINEAGE,
    ORDERS_CLEAN,
    USER_FUNNEL_METRICS,
)
from flowguard_assets.transforms import gold
from flowguard_assets_tests.test_gold import BUYERS_BEFORE, D1, D2, D3, D4, EVENTS, ORDERS, frame

_PERTURBED = {  # a Silver value column -> a change of it that keeps every row valid and good
    "ORDER_ID": lambda row: "one-order",
    "USER_ID": lambda row: 1,
    "ITEM_ID": lambda row: None if row["ITEM_ID"] is None else row["ITEM_ID"] + 100,  # a new id each
    "QUANTITY": lambda row: row["QUANTITY"] * 2,
    "PRICE": lambda row: row["PRICE"] + 1,
    "ORDER_AMOUNT": lambda row: row["ORDER_AMOUNT"] + 1,
    "ENRICHED_ITEM_NAME": lambda row: row["ENRICHED_ITEM_NAME"] and row["ENRICHED_ITEM_NAME"] + "!",
    "ENRICHED_CATEGORY": lambda row: row["ENRICHED_CATEGORY"] and row["ENRICHED_CATEGORY"] + "!",
    "EVENT_TYPE": lambda row: "impression" if row["EVENT_TYPE"] == "click" else "click",
    "SESSION_ID": lambda row: "one-session",
}
# Item ids join orders to clicks: they change in both at once, so the items stay the same rows.
_IN_BOTH = {"ITEM_ID"}


def _gold_tables(spark, orders, events):
    days = spark.createDataFrame([(d,) for d in (D1, D2, D3, D4)], "DATE date")
    o, c = frame(spark, ORDERS_CLEAN, orders), frame(spark, CLICKS_CLEAN, events)
    buyers = frame(spark, DAILY_BUYERS, BUYERS_BEFORE)
    return {
        DAILY_GMV_METRICS: gold.daily_gmv_metrics(days, o, buyers, "t"),
        FOOD_ITEM_PERFORMANCE: gold.food_item_performance(days, o, c, "t"),
        USER_FUNNEL_METRICS: gold.user_funnel_metrics(days, o, c, "t"),
        HOURLY_ORDER_PATTERNS: gold.hourly_order_patterns(days, o, "t"),
    }


def _columns(df) -> dict[str, list]:
    """Each column's values, sorted: a change shows whatever the order of the rows."""
    rows = df.collect()
    return {c: sorted(repr(r[c]) for r in rows) for c in df.columns}


def test_column_lineage_names_every_silver_column_a_gold_column_changes_with(spark):
    """Changing one Silver column at a time: every Gold column with lineage that changes must list
    that Silver column among its sources."""
    baseline = {table: _columns(df) for table, df in _gold_tables(spark, ORDERS, EVENTS).items()}
    found = 0
    for column, change in _PERTURBED.items():
        trials = [(ORDERS_CLEAN,), (CLICKS_CLEAN,)] if column not in _IN_BOTH else [(ORDERS_CLEAN, CLICKS_CLEAN)]
        for changed in trials:
            changed = [t for t in changed if column in t.column_names]
            if not changed:
                continue
            orders = [{**r, column: change(r)} for r in ORDERS] if ORDERS_CLEAN in changed else ORDERS
            events = [{**r, column: change(r)} for r in EVENTS] if CLICKS_CLEAN in changed else EVENTS
            for table, df in _gold_tables(spark, orders, events).items():
                after = _columns(df)
                for name, sources in LINEAGE[table.name].items():
                    if after[name] != baseline[table][name]:
                        found += 1
                        assert any((t, column) in sources for t in changed), (
                            f"{table.name}.{name} changes with {column} of {[t.name for t in changed]}"
                        )
    assert found > 30  # the changes reach the Gold columns at all
