"""Silver assets: Bronze deduplicated, validated, flagged and enriched (SPEC §3), each with its
two gates (SPEC §4), evaluated from one aggregation of the day as written."""


from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

import dagster as dg
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from flowguard_assets import __version__
from flowguard_assets.partitions import partition_days
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import DAILY_BUYERS, ORDERS_CLEAN
from flowguard_assets.transforms.metrics import daily_figures
from flowguard_assets.transforms.silver import (
    BRONZE_READ,
    CLICK_RULES,
    ORDER_RULES,
    Rules,
    to_daily_buyers,
    to_silver,
)
from flowguard_assets.assets_kit import add_daily_metadata, percent, table_asset
from flowguard_assets.checks import emit, gate_specs, silver_rates, silver_verdicts
from flowguard_assets.failures import clear_failures
from flowguard_assets.resources.thresholds import QualityThresholds
from flowguard_assets.quality_history import Verdict


def _quality_figures(silver: DataFrame, rules: Rules, days: list[date]) -> dict[date, dict[str, Any]]:
    """Rows, valid, duplicates and each code per day of the written `silver`, and example
    INGESTION_IDs of the flagged."""
    errors = F.split(F.col("VALIDATION_ERRORS"), ",")
    conditions = {
        "rows": F.lit(True),
        "valid": F.col("IS_VALID"),
        "duplicates": F.col("IS_DUPLICATE"),
        **{code: F.array_contains(errors, code) for code in rules.codes},
    }
    examples = {
        "invalid_examples": (~F.col("IS_VALID"), F.col("INGESTION_ID")),
        "duplicate_examples": (F.col("IS_DUPLICATE"), F.col("INGESTION_ID")),
    }
    return daily_figures(silver, rules.table.partition_column, days, conditions, examples)


def gate_verdict(verdicts: list[Verdict]) -> str:
    """A Silver day's gates in a few words, the first thing its partition page shows."""
    failed = [f"{v.check.name}: {v.description}" for v in verdicts if not v.passed]
    return f"FAILED {'; '.join(failed)} (Gold blocked)" if failed else "passed"


def _day_metadata(
    figures: Mapping[str, Any], codes: tuple[str, ...], gate: str, catalog: str
) -> dict[str, object]:
    """A Silver day's metadata: the gates' verdict first, then the rates as percentages, named so
    the UI, which plots entries sorted by name ('%' before letters), plots them first; all per
    partition (a run-wide entry would be listed before them)."""
    rows = figures["rows"]
    valid_rate, duplicate_rate = silver_rates(figures)
    return {
        "gate": gate,
        "% valid": percent(valid_rate),
        "% duplicates": percent(duplicate_rate),
        "dagster/row_count": rows,
        "valid": figures["valid"],
        "invalid": rows - figures["valid"],
        "duplicates": figures["duplicates"],
        "valid_rate": valid_rate,
        "duplicate_rate": duplicate_rate,
        **{f"errors/{code}": figures[code] for code in codes},
        "catalog": catalog,
    }


def silver_asset(rules: Rules, kinds: set[str]) -> dg.AssetsDefinition:
    table = rules.table
    bronze, codes = rules.source, rules.codes

    @table_asset(table, deps=[bronze.asset_key], kinds=kinds, check_specs=gate_specs(table))
    def _silver(
        context: dg.AssetExecutionContext,
        catalog: FoodCatalogResource,
        warehouse: Warehouse,
        thresholds: QualityThresholds,
    ) -> Iterator[Any]:
        with clear_failures():
            foods = catalog.load()
            context.log.info(f"Food catalog from {catalog.source}")
            days = partition_days(context)
            rows = warehouse.read(bronze, days[0], days[-1], BRONZE_READ)
            warehouse.write(table, to_silver(rows, foods, rules, __version__), days)
            written = warehouse.read(table, days[0], days[-1])
            figures = _quality_figures(written, rules, days)
            if table is ORDERS_CLEAN:
                warehouse.write(DAILY_BUYERS, to_daily_buyers(written, __version__).toArrow(), days)
        verdicts = silver_verdicts(rules, figures, thresholds)
        gates = {day: gate_verdict([v for v in verdicts if v.day == day]) for day in figures}
        add_daily_metadata(
            context, {day: _day_metadata(f, codes, gates[day], catalog.source) for day, f in figures.items()}
        )
        yield dg.MaterializeResult()
        with clear_failures():
            yield from emit(context, verdicts, warehouse)

    return _silver


def silver_assets(storage: str, postgres_catalog: bool) -> list[dg.AssetsDefinition]:
    """ORDERS_CLEAN and CLICKS_CLEAN, stored in `storage`, enriched from Postgres or the file catalog."""
    kinds = {storage, "postgres"} if postgres_catalog else {storage}
    return [silver_asset(ORDER_RULES, kinds), silver_asset(CLICK_RULES, kinds)]
