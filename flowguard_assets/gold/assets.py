"""Gold: the four daily metric tables from good Silver rows (SPEC §3), as one step.

One step builds whichever Gold tables a run selects, their Spark queries side by side, for the
days of the run whose Silver gates pass (SPEC §4); a blocked day keeps the Gold it had. Each
table's days are materialized, and reconciled, one by one, so the UI shows exactly which days
the run wrote.
"""


from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame, SparkSession

from flowguard_assets import __version__
from flowguard_assets.checks import emit, gold_check_specs, gold_figures, gold_verdicts, silver_reference
from flowguard_assets.gates import BLOCKED_DAYS, blocked_days, blocked_message
from flowguard_assets.partitions import daily_partitions, partition_days
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
from flowguard_assets.transforms.silver import good_rows
from flowguard_assets.assets_kit import markdown_table, table_spec
from flowguard_assets.failures import clear_failures, RETRY_POLICY

Row = dict[str, Any]


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


@dataclass(frozen=True)
class SilverInputs:
    """What the Gold tables of a run read: the days to build, good Silver orders of those days and
    of the day before the first, good Silver clicks (only the columns Gold reads), earlier buyers
    (NEW_USERS), and the days whose figures are not to be trusted (blocked, so no growth)."""

    days: DataFrame
    orders: DataFrame
    clicks: DataFrame
    buyers_before: DataFrame
    untrusted: list[date]


@dataclass(frozen=True)
class GoldTable:
    table: Table
    reads: tuple[Table, ...]
    build: Callable[[SilverInputs], DataFrame]
    headline: Callable[[list[Row]], dict[str, Any]]


GOLD = (
    GoldTable(
        DAILY_GMV_METRICS,
        (ORDERS_CLEAN,),
        lambda s: gold.daily_gmv_metrics(s.days, s.orders, s.buyers_before, __version__, s.untrusted),
        _gmv_headline,
    ),
    GoldTable(
        FOOD_ITEM_PERFORMANCE,
        (ORDERS_CLEAN, CLICKS_CLEAN),
        lambda s: gold.food_item_performance(s.days, s.orders, s.clicks, __version__),
        _item_headline,
    ),
    GoldTable(
        USER_FUNNEL_METRICS,
        (ORDERS_CLEAN, CLICKS_CLEAN),
        lambda s: gold.user_funnel_metrics(s.days, s.orders, s.clicks, __version__),
        _funnel_headline,
    ),
    GoldTable(
        HOURLY_ORDER_PATTERNS,
        (ORDERS_CLEAN,),
        lambda s: gold.hourly_order_patterns(s.days, s.orders, __version__),
        _hourly_headline,
    ),
)


def _days(session: SparkSession, days: Sequence[date]) -> DataFrame:
    return session.createDataFrame([(day,) for day in days], "DATE date")


def _materializations(spec: GoldTable, rows: list[Row], days: list[date]) -> Iterator[dg.AssetMaterialization]:
    """Each day of a Gold table, with its headline figures and a preview."""
    shown = [c for c in spec.table.column_names if c not in ("DATE", "LOAD_TIMESTAMP", "PROCESSING_VERSION")]
    for day in days:
        day_rows = [r for r in rows if r["DATE"] == day]
        yield dg.AssetMaterialization(
            asset_key=spec.table.asset_key,
            partition=day.isoformat(),
            metadata={
                "dagster/row_count": len(day_rows),
                **spec.headline(day_rows),
                "preview": dg.MetadataValue.md(markdown_table(day_rows[:24], shown)),
            },
        )


def _build(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    selected: list[GoldTable],
    days: list[date],
    untrusted: list[date],
) -> Iterator[Any]:
    """Build, write and reconcile the selected tables for `days` (the days not blocked); the
    tables not selected are reconciled as the warehouse holds them."""
    before = days[0] - timedelta(days=1)
    orders = good_rows(warehouse.read(ORDERS_CLEAN, before, days[-1], gold.ORDER_COLUMNS))
    clicks = good_rows(warehouse.read(CLICKS_CLEAN, days[0], days[-1], gold.CLICK_COLUMNS))
    inputs = SilverInputs(
        days=_days(orders.sparkSession, days),
        orders=orders,
        clicks=clicks,
        buyers_before=warehouse.read(DAILY_BUYERS, daily_partitions.start.date(), before),
        untrusted=untrusted,
    )
    # Each query is a chain of small stages; run side by side, they keep the cores busy.
    with ThreadPoolExecutor(max_workers=len(selected) + 1) as pool:
        built = [(spec, pool.submit(lambda s=spec: s.build(inputs).toArrow())) for spec in selected]
        reference = pool.submit(silver_reference, orders.where(orders.DATE_PARTITION.isin(days)))
        rows = {}
        for spec, future in built:
            result = future.result()
            warehouse.write(spec.table, result, days)  # from the driver: a few rows per day
            rows[spec.table.name] = result.to_pylist()
            yield from _materializations(spec, rows[spec.table.name], days)
        silver = reference.result()
    for spec in GOLD:
        if spec.table.name not in rows:
            held = warehouse.read(spec.table, days[0], days[-1]).collect()
            rows[spec.table.name] = [row.asDict() for row in held]
    figures = {spec.table.name: gold_figures(spec.table, rows[spec.table.name]) for spec in GOLD}
    yield from emit(context, gold_verdicts([s.table for s in selected], figures, silver, days), warehouse)


def _gold(
    context: dg.AssetExecutionContext, warehouse: Warehouse
) -> Iterator[Any]:
    """The selected Gold tables for the run's days whose Silver gates pass (their latest
    evaluation, as the UI shows it); blocked days keep their Gold and fail the step, naming each
    day and gate. Growth against a blocked day is null; NEW_USERS reads every earlier day.

    DAILY_GMV_METRICS also reads Silver of the day before each day and the per-day buyer summary
    of every earlier day, never the whole Silver history; `new_users_refresh_sensor` keeps both
    fresh (see docs/decisions.md: a shifted partition mapping would split every UI backfill)."""
    days = partition_days(context)
    before = days[0] - timedelta(days=1)
    blocked = blocked_days(context.instance, [before, *days])
    built = [day for day in days if day not in blocked]
    selected = [spec for spec in GOLD if spec.table.asset_key in context.selected_asset_keys]
    if built:
        with clear_failures():
            yield from _build(context, warehouse, selected, built, sorted(blocked))
    refused = {day: reason for day, reason in blocked.items() if day in days}
    if refused:
        raise dg.Failure(
            description=blocked_message(refused),
            metadata={BLOCKED_DAYS: [day.isoformat() for day in sorted(refused)]},
            allow_retries=False,
        )


def gold_asset(storage: str) -> dg.AssetsDefinition:
    """The `gold` step: the four Gold tables, stored in `storage`, and their checks."""
    return dg.multi_asset(
        name="gold",
        specs=[table_spec(spec.table, kinds={storage}, deps=[t.asset_key for t in spec.reads]) for spec in GOLD],
        check_specs=[check for spec in GOLD for check in gold_check_specs(spec.table)],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        retry_policy=RETRY_POLICY,
        can_subset=True,
    )(_gold)
