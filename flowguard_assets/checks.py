"""Data-quality gates (SPEC §4): Silver valid and duplicate rates, Gold reconciliation.

Every check is evaluated per partition: a range run reports one result per day. The Silver gates
are blocking ERROR checks, so a failing day stops Gold in the same run.
"""


from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,  # not exported; AssetCheckResult uses it too
)
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.config import load_settings
from flowguard_assets.partitions import daily_partitions, partition_days
from flowguard_assets.resources.spark import SparkResource
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import (
    CLICKS_CLEAN,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    ORDERS_CLEAN,
    USER_FUNNEL_METRICS,
    Table,
)
from flowguard_assets.transforms.silver import VALIDATION_CODES, placed_orders

_EXAMPLES = 5


@dataclass(frozen=True)
class Verdict:
    check: dg.AssetCheckKey
    day: date
    passed: bool
    metadata: dict[str, Any]
    description: str = ""
    severity: dg.AssetCheckSeverity = field(default=dg.AssetCheckSeverity.ERROR)


def emit(context: dg.AssetCheckExecutionContext, verdicts: list[Verdict]) -> Iterator[Any]:
    """One evaluation per check and partition day, then each check's output.

    `AssetCheckResult` can only be yielded once per check in a step, so for a range of days the
    per-day evaluations are yielded directly; blocking ERROR failures still stop downstream steps.
    """
    specs = {spec.key: spec for spec in context.check_specs if spec.key in context.selected_asset_check_keys}
    for verdict in verdicts:
        yield dg.AssetCheckEvaluation(
            target_materialization_data=_target(context.instance, verdict),
            asset_key=verdict.check.asset_key,
            check_name=verdict.check.name,
            passed=verdict.passed,
            metadata=verdict.metadata,
            severity=verdict.severity,
            description=verdict.description,
            blocking=specs[verdict.check].blocking,
            partition=verdict.day.isoformat(),
        )
    assets_def = context.op_execution_context.assets_def
    for key in specs:
        yield dg.Output(None, output_name=assets_def.get_output_name_for_asset_check_key(key))


def _target(
    instance: dg.DagsterInstance, verdict: Verdict
) -> AssetCheckEvaluationTargetMaterializationData | None:
    """The materialization of the day a verdict is about, so the UI shows each day's status
    (what `AssetCheckResult` looks up itself for a single partition)."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=verdict.check.asset_key, asset_partitions=[verdict.day.isoformat()]
        ),
        limit=1,
    ).records
    if not records:
        return None
    latest = records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=latest.storage_id, run_id=latest.run_id, timestamp=latest.timestamp
    )


# --- Silver gates ---------------------------------------------------------------------------


def silver_quality(silver: DataFrame, codes: tuple[str, ...]) -> dict[date, dict[str, Any]]:
    """Per day, in one pass: rows, valid and duplicate counts, examples, and a count per code."""
    errors = F.split(F.col("VALIDATION_ERRORS"), ",")
    examples = lambda flag: F.slice(  # noqa: E731
        F.array_sort(F.collect_list(F.when(flag, F.col("INGESTION_ID")))), 1, _EXAMPLES
    )
    totals = silver.groupBy("DATE_PARTITION").agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_if("IS_VALID").alias("valid"),
        F.count_if("IS_DUPLICATE").alias("duplicates"),
        examples(~F.col("IS_VALID")).alias("invalid_examples"),
        examples(F.col("IS_DUPLICATE")).alias("duplicate_examples"),
        *[F.count_if(F.array_contains(errors, code)).alias(code) for code in codes],
    )
    return {
        row["DATE_PARTITION"]: {**row.asDict(), "codes": {c: row[c] for c in codes if row[c]}}
        for row in totals.collect()
    }


def _top_codes(codes: dict[str, int]) -> dict[str, int]:
    return dict(sorted(codes.items(), key=lambda item: (-item[1], item[0]))[:5])


def _silver_verdicts(table: Table, stats: dict[date, dict[str, Any]], days: list[date]) -> list[Verdict]:
    settings = load_settings()
    verdicts = []
    for day in days:
        s = stats.get(day, {"rows": 0, "valid": 0, "duplicates": 0, "codes": {}})
        rows = s["rows"]
        valid_rate = s["valid"] / rows if rows else 1.0
        duplicate_rate = s["duplicates"] / rows if rows else 0.0
        verdicts += [
            Verdict(
                dg.AssetCheckKey(table.asset_key, "valid_rate"),
                day,
                valid_rate >= settings.min_valid_rate,
                {
                    "rows": rows,
                    "valid": s["valid"],
                    "invalid": rows - s["valid"],
                    "valid_rate": round(valid_rate, 6),
                    "min_valid_rate": settings.min_valid_rate,
                    "top_validation_errors": _top_codes(s["codes"]),
                    "example_ingestion_ids": s.get("invalid_examples", []),
                },
                f"valid rate {valid_rate:.2%} (minimum {settings.min_valid_rate:.2%})",
            ),
            Verdict(
                dg.AssetCheckKey(table.asset_key, "duplicate_rate"),
                day,
                duplicate_rate <= settings.max_duplicate_rate,
                {
                    "rows": rows,
                    "duplicates": s["duplicates"],
                    "duplicate_rate": round(duplicate_rate, 6),
                    "max_duplicate_rate": settings.max_duplicate_rate,
                    "example_ingestion_ids": s.get("duplicate_examples", []),
                },
                f"duplicate rate {duplicate_rate:.2%} (maximum {settings.max_duplicate_rate:.2%})",
            ),
        ]
    return verdicts


def silver_gates(table: Table) -> dg.AssetChecksDefinition:
    @dg.multi_asset_check(
        name=f"{table.name.lower()}_quality",
        specs=[
            dg.AssetCheckSpec(
                "valid_rate",
                asset=table.asset_key,
                blocking=True,
                partitions_def=daily_partitions,
                description="Share of valid rows (IS_VALID) is at least FLOWGUARD_MIN_VALID_RATE.",
            ),
            dg.AssetCheckSpec(
                "duplicate_rate",
                asset=table.asset_key,
                blocking=True,
                partitions_def=daily_partitions,
                description="Share of duplicate rows is at most FLOWGUARD_MAX_DUPLICATE_RATE.",
            ),
        ],
    )
    def _gates(
        context: dg.AssetCheckExecutionContext, spark: SparkResource, warehouse: Warehouse
    ) -> Iterator[Any]:
        days = partition_days(context)
        columns = ["DATE_PARTITION", "IS_VALID", "IS_DUPLICATE", "VALIDATION_ERRORS", "INGESTION_ID"]
        silver = warehouse.read(spark.get_session(), table, days[0], days[-1], columns)
        stats = silver_quality(silver, VALIDATION_CODES[table.name])
        yield from emit(context, _silver_verdicts(table, stats, days))

    return _gates


# --- Gold reconciliation --------------------------------------------------------------------

# Per Gold table: its key beyond DATE, and which Silver figure its order counts add up to.
_GOLD_KEYS = {
    DAILY_GMV_METRICS.name: ((), "ORDER_COUNT", "orders"),
    USER_FUNNEL_METRICS.name: ((), "TOTAL_ORDERS", "orders"),
    HOURLY_ORDER_PATTERNS.name: (("HOUR_OF_DAY",), "ORDER_COUNT", "order_hours"),
    FOOD_ITEM_PERFORMANCE.name: (("ITEM_ID",), "TOTAL_ORDERS", "order_items"),
}


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


def _gold_figures(table: Table, gold: DataFrame) -> dict[date, dict[str, Any]]:
    keys, orders_column, _ = _GOLD_KEYS[table.name]
    counts = [c.name for c in table.columns if isinstance(c.type, (T.LongType, T.IntegerType))]
    figures = gold.groupBy("DATE").agg(
        F.count(F.lit(1)).alias("rows"),
        F.count_distinct(*(["DATE", *keys])).alias("keys"),
        F.sum("TOTAL_REVENUE").alias("revenue"),
        F.sum(orders_column).alias("orders"),
        F.count_if(F.greatest(*[F.col(c) < 0 for c in counts])).alias("negative_rows"),
    )
    return {row["DATE"]: row.asDict() for row in figures.collect()}


def _gold_verdicts(
    table: Table, gold: dict[date, dict[str, Any]], silver: dict[date, dict[str, Any]], days: list[date]
) -> list[Verdict]:
    _, _, reference = _GOLD_KEYS[table.name]
    verdicts = []
    for day in days:
        g = gold.get(day, {"rows": 0, "keys": 0, "revenue": None, "orders": None, "negative_rows": 0})
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
            ),
            Verdict(
                dg.AssetCheckKey(table.asset_key, "keys_unique_and_counts_non_negative"),
                day,
                g["rows"] == g["keys"] and g["negative_rows"] == 0,
                {"rows": g["rows"], "distinct_keys": g["keys"], "negative_rows": g["negative_rows"]},
            ),
        ]
    return verdicts


_RECONCILED = (DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE, USER_FUNNEL_METRICS, HOURLY_ORDER_PATTERNS)


def _gold_specs(table: Table) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            "reconciles_with_silver",
            asset=table.asset_key,
            partitions_def=daily_partitions,
            additional_deps=[ORDERS_CLEAN.asset_key],
            description="The day's revenue and order count agree with the good Silver rows.",
        ),
        dg.AssetCheckSpec(
            "keys_unique_and_counts_non_negative",
            asset=table.asset_key,
            partitions_def=daily_partitions,
            description="One row per key and day; no count is negative.",
        ),
    ]


@dg.multi_asset_check(
    name="gold_reconciliation",
    specs=[spec for table in _RECONCILED for spec in _gold_specs(table)],
    can_subset=True,
)
def gold_reconciliation(
    context: dg.AssetCheckExecutionContext, spark: SparkResource, warehouse: Warehouse
) -> Iterator[Any]:
    """The selected Gold tables against one pass over the good Silver rows of the run's days."""
    days = partition_days(context)
    session = spark.get_session()
    silver = silver_reference(warehouse.read(session, ORDERS_CLEAN, days[0], days[-1]))
    selected = {key.asset_key for key in context.selected_asset_check_keys}
    verdicts = []
    for table in _RECONCILED:
        if table.asset_key in selected:
            gold = _gold_figures(table, warehouse.read(session, table, days[0], days[-1]))
            verdicts += _gold_verdicts(table, gold, silver, days)
    yield from emit(context, verdicts)


silver_checks = [silver_gates(ORDERS_CLEAN), silver_gates(CLICKS_CLEAN)]
