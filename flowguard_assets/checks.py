"""Data-quality checks (SPEC §4): the Silver gates (valid and duplicate rates) and Gold
reconciliation, and how every check's per-day evaluations are emitted.

Every check is evaluated per partition: a range run reports one result per day. A failing Silver
gate blocks Gold for its own day only, on every path to Gold (`flowguard_assets.gates`).
"""


from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # not exported; AssetCheckResult uses it too
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.partitions import daily_partitions
from flowguard_assets.quality_history import Verdict, record
from flowguard_assets.resources.thresholds import QualityThresholds
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import GOLD_TABLES, ORDERS_CLEAN, Table
from flowguard_assets.transforms.silver import Rules, placed_orders
from flowguard_assets.assets_kit import percent

_MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


def daily_check(table: Table, name: str, description: str, **kwargs: Any) -> dg.AssetCheckSpec:
    """A check of `table` evaluated per daily partition."""
    return dg.AssetCheckSpec(
        name, asset=table.asset_key, partitions_def=daily_partitions, description=description, **kwargs
    )


def emit(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
    verdicts: list[Verdict],
    warehouse: Warehouse,
) -> Iterator[Any]:
    """One evaluation per check and partition day, also written to AUDIT.CHECK_RESULTS, then
    each selected check's output.

    `AssetCheckResult` can only be yielded once per check in a step, so the per-day evaluations are
    yielded directly, each pointing at its day's materialization so the UI shows every day's status.
    None is `blocking` in Dagster's sense, which would stop Gold for every day of the run: the
    Silver gates block Gold per day, through `gates.blocked_days`.
    """
    op_context = context.op_execution_context
    selected = op_context.selected_asset_check_keys
    verdicts = [v for v in verdicts if v.check in selected]
    record(warehouse, op_context.run_id, verdicts)
    targets = _targets(context.instance, verdicts)
    for verdict in verdicts:
        yield dg.AssetCheckEvaluation(
            target_materialization_data=targets.get((verdict.check.asset_key, verdict.day)),
            asset_key=verdict.check.asset_key,
            check_name=verdict.check.name,
            passed=verdict.passed,
            metadata=verdict.metadata,
            severity=verdict.severity,
            description=verdict.description,
            partition=verdict.day.isoformat(),
        )
    for key in selected:
        yield dg.Output(None, output_name=op_context.assets_def.get_output_name_for_asset_check_key(key))


def _targets(
    instance: dg.DagsterInstance, verdicts: list[Verdict]
) -> dict[tuple[dg.AssetKey, date], AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each asset and day the verdicts are about (what
    `AssetCheckResult` looks up itself for a single partition), two lookups per asset."""
    targets = {}
    for asset_key in {v.check.asset_key for v in verdicts}:
        latest = instance.get_latest_storage_id_by_partition(asset_key, _MATERIALIZATION)
        days = {v.day.isoformat() for v in verdicts if v.check.asset_key == asset_key}
        ids = [latest[day] for day in days if day in latest]
        if not ids:
            continue
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=ids), limit=len(ids)
        ).records
        for record in records:
            day = date.fromisoformat(record.partition_key)
            targets[asset_key, day] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            )
    return targets


# --- Silver gates ---------------------------------------------------------------------------


def _top_codes(codes: dict[str, int]) -> dict[str, int]:
    return dict(sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:5])


def silver_rates(figures: Mapping[str, Any]) -> tuple[float, float]:
    """A Silver day's valid and duplicate rates; a day without rows is all valid, no duplicates."""
    rows = figures["rows"]
    return (figures["valid"] / rows, figures["duplicates"] / rows) if rows else (1.0, 0.0)


def silver_verdicts(
    rules: Rules, figures: dict[date, dict[str, Any]], bounds: QualityThresholds
) -> list[Verdict]:
    """Both gates of `rules.table` for each day of `figures` (`DailyCounts` of the Silver write:
    rows, valid, duplicates, a count per code, invalid and duplicate examples)."""
    table, verdicts = rules.table, []
    for day, s in figures.items():
        rows = s["rows"]
        valid_rate, duplicate_rate = silver_rates(s)
        verdicts += [
            Verdict(
                dg.AssetCheckKey(table.asset_key, "valid_rate"),
                day,
                valid_rate >= bounds.min_valid_rate,
                {
                    "rows": rows,
                    "valid": s["valid"],
                    "invalid": rows - s["valid"],
                    "valid_pct": percent(valid_rate),
                    "min_valid_pct": percent(bounds.min_valid_rate),
                    "valid_rate": round(valid_rate, 6),
                    "min_valid_rate": bounds.min_valid_rate,
                    "top_validation_errors": _top_codes({c: s[c] for c in rules.codes if s[c]}),
                    "example_ingestion_ids": s["invalid_examples"],
                },
                f"valid rate {valid_rate:.2%} (minimum {bounds.min_valid_rate:.2%})",
                observed=valid_rate,
                threshold=bounds.min_valid_rate,
            ),
            Verdict(
                dg.AssetCheckKey(table.asset_key, "duplicate_rate"),
                day,
                duplicate_rate <= bounds.max_duplicate_rate,
                {
                    "rows": rows,
                    "duplicates": s["duplicates"],
                    "duplicate_pct": percent(duplicate_rate),
                    "max_duplicate_pct": percent(bounds.max_duplicate_rate),
                    "duplicate_rate": round(duplicate_rate, 6),
                    "max_duplicate_rate": bounds.max_duplicate_rate,
                    "example_ingestion_ids": s["duplicate_examples"],
                },
                f"duplicate rate {duplicate_rate:.2%} (maximum {bounds.max_duplicate_rate:.2%})",
                observed=duplicate_rate,
                threshold=bounds.max_duplicate_rate,
            ),
        ]
    return verdicts


def gate_specs(table: Table) -> list[dg.AssetCheckSpec]:
    """The two gates of a Silver table, evaluated in its own step from the figures of the write.

    They are `blocking` in the UI's sense; their evaluations are not, so a failed day fails no step:
    Gold skips each day whose latest gate result failed (`gates.blocked_days`)."""
    return [
        daily_check(
            table,
            "valid_rate",
            "Share of valid rows (IS_VALID) is at least FLOWGUARD_MIN_VALID_RATE.",
            blocking=True,
        ),
        daily_check(
            table,
            "duplicate_rate",
            "Share of duplicate rows is at most FLOWGUARD_MAX_DUPLICATE_RATE.",
            blocking=True,
        ),
    ]


# --- Gold reconciliation --------------------------------------------------------------------

# The tables whose order counts are distinct orders of the day, so must be equal.
_DAY_ORDERS = tuple(t.name for t in GOLD_TABLES if t.reconciliation.day_orders)
_NO_ROWS = {"rows": 0, "keys": 0, "revenue": None, "orders": None, "negative_rows": 0}


def gold_check_specs(table: Table) -> list[dg.AssetCheckSpec]:
    """The checks every Gold step evaluates for each day it writes."""
    return [
        daily_check(
            table,
            "reconciles_with_silver",
            "The day's revenue and order count agree with the good Silver rows.",
            additional_deps=[ORDERS_CLEAN.asset_key],
        ),
        daily_check(
            table,
            "agrees_with_other_gold",
            "The day's revenue (and distinct orders) equal those of the other Gold tables.",
        ),
        daily_check(table, "keys_unique_and_counts_non_negative", "One row per key and day; no count is negative."),
    ]


def silver_reference(orders: DataFrame) -> dict[date, dict[str, Any]]:
    """Per day of O(D): revenue, orders, (order, hour) pairs and (order, item) pairs."""
    hour = F.hour("ORDER_TIMESTAMP")
    totals = (
        placed_orders(orders)
        .groupBy("DATE_PARTITION")
        .agg(
            F.sum("ORDER_AMOUNT").alias("revenue"),
            F.count_distinct("ORDER_ID").alias("orders"),
            F.count_distinct("ORDER_ID", hour).alias("order_hours"),
            F.count_distinct("ORDER_ID", "ITEM_ID").alias("order_items"),
        )
    )
    return {row["DATE_PARTITION"]: row.asDict() for row in totals.collect()}


def gold_figures(table: Table, rows: Sequence[Mapping[str, Any]]) -> dict[date, dict[str, Any]]:
    """Per day of a Gold table's rows: rows, distinct keys (a key with a null counts for none,
    as in SQL), revenue, orders (null when no row has a figure, as SQL's SUM) and rows with a
    negative count."""
    keys, orders_column = table.reconciliation.keys, table.reconciliation.orders_column
    counts = [c.name for c in table.columns if isinstance(c.type, (T.LongType, T.IntegerType))]
    by_day: dict[date, list[Mapping[str, Any]]] = {}
    for row in rows:
        by_day.setdefault(row["DATE"], []).append(row)

    def total(day_rows: list[Mapping[str, Any]], column: str) -> Any:
        values = [r[column] for r in day_rows if r[column] is not None]
        return sum(values) if values else None

    return {
        day: {
            "rows": len(day_rows),
            "keys": len({key for r in day_rows if None not in (key := tuple(r[k] for k in keys))}),
            "revenue": total(day_rows, "TOTAL_REVENUE"),
            "orders": total(day_rows, orders_column),
            "negative_rows": sum(any((r[c] or 0) < 0 for c in counts) for r in day_rows),
        }
        for day, day_rows in by_day.items()
    }


def _agreement(table: Table, day: date, gold: dict[str, dict[date, dict[str, Any]]]) -> Verdict:
    """`table`'s revenue of `day` against every other Gold table that holds the day, and its
    distinct orders against the other table that counts them."""
    held = {name: figures[day] for name, figures in gold.items() if day in figures}
    own = held[table.name]
    revenue = {name: float(f["revenue"] or 0) for name, f in held.items()}
    orders = {name: f["orders"] or 0 for name, f in held.items() if name in _DAY_ORDERS}
    revenue_differs = sorted(name for name, value in revenue.items() if value != revenue[table.name])
    orders_differ = (
        sorted(name for name, value in orders.items() if value != orders[table.name])
        if table.name in orders
        else []
    )
    differing = sorted(set(revenue_differs) | set(orders_differ))
    description = (
        f"revenue {float(own['revenue'] or 0)} here, but "
        + ", ".join(f"{name} {revenue[name]} ({orders.get(name, '-')} orders)" for name in differing)
        if differing
        else "revenue and orders agree with the other Gold tables"
    )
    return Verdict(
        dg.AssetCheckKey(table.asset_key, "agrees_with_other_gold"),
        day,
        not differing,
        {
            "revenue": revenue,
            "orders": orders,
            "tables_without_day": sorted(t.name for t in GOLD_TABLES if t.name not in held),
        },
        description,
        observed=float(len(differing)),
        threshold=0.0,
    )


def gold_verdicts(
    tables: list[Table],
    gold: dict[str, dict[date, dict[str, Any]]],
    silver: dict[date, dict[str, Any]],
    days: list[date],
) -> list[Verdict]:
    """The Gold checks of `tables` for `days`: `gold` holds `gold_figures` of every Gold table."""
    written = {table.name for table in tables}
    gold = {  # a table written for a day holds it, rows or not
        name: {**({day: _NO_ROWS for day in days} if name in written else {}), **figures}
        for name, figures in gold.items()
    }
    verdicts = []
    for table in tables:
        reference = table.reconciliation.silver_figure
        for day in days:
            g = gold[table.name][day]
            s = silver.get(day, {"revenue": None, reference: 0})
            gold_revenue, silver_revenue = g["revenue"] or 0, s["revenue"] or 0
            gold_orders, silver_orders = g["orders"] or 0, s[reference]
            verdicts += [
                Verdict(
                    dg.AssetCheckKey(table.asset_key, "reconciles_with_silver"),
                    day,
                    gold_revenue == silver_revenue and gold_orders == silver_orders,
                    {
                        "gold_revenue": float(gold_revenue),
                        "silver_revenue": float(silver_revenue),
                        "gold_orders": gold_orders,
                        "silver_orders": silver_orders,
                    },
                    f"revenue {gold_revenue} vs {silver_revenue} in Silver, orders {gold_orders} vs {silver_orders}",
                    observed=float(gold_revenue - silver_revenue),
                    threshold=0.0,
                ),
                _agreement(table, day, gold),
                Verdict(
                    dg.AssetCheckKey(table.asset_key, "keys_unique_and_counts_non_negative"),
                    day,
                    g["rows"] == g["keys"] and g["negative_rows"] == 0,
                    {"rows": g["rows"], "distinct_keys": g["keys"], "negative_rows": g["negative_rows"]},
                    observed=float(g["rows"] - g["keys"] + g["negative_rows"]),
                    threshold=0.0,
                ),
            ]
    return verdicts

