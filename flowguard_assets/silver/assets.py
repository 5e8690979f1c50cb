"""Silver assets: Bronze deduplicated, validated, flagged and enriched (SPEC §3)."""


import dagster as dg
from pyspark.sql import functions as F

from flowguard_assets import __version__
from flowguard_assets.partitions import partition_days
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import DAILY_BUYERS, ORDERS_CLEAN
from flowguard_assets.transforms.metrics import DailyCounts
from flowguard_assets.transforms.silver import (
    BRONZE_READ,
    CLICK_RULES,
    ORDER_RULES,
    Rules,
    to_daily_buyers,
    to_silver,
)
from flowguard_assets.assets_kit import add_daily_metadata, percent, table_asset
from flowguard_assets.failures import clear_failures

def _quality_conditions(codes: tuple[str, ...]) -> dict[str, F.Column]:
    errors = F.split(F.col("VALIDATION_ERRORS"), ",")
    return {
        "rows": F.lit(True),
        "valid": F.col("IS_VALID"),
        "duplicates": F.col("IS_DUPLICATE"),
        **{code: F.array_contains(errors, code) for code in codes},
    }


def _day_metadata(figures: dict[str, int], codes: tuple[str, ...]) -> dict[str, object]:
    rows = figures["rows"]
    valid_rate = figures["valid"] / rows if rows else 1.0
    duplicate_rate = figures["duplicates"] / rows if rows else 0.0
    return {
        "dagster/row_count": rows,
        "valid": figures["valid"],
        "invalid": rows - figures["valid"],
        "duplicates": figures["duplicates"],
        "valid_pct": percent(valid_rate),
        "duplicate_pct": percent(duplicate_rate),
        "valid_rate": valid_rate,
        "duplicate_rate": duplicate_rate,
        **{f"errors/{code}": figures[code] for code in codes},
    }


def silver_asset(rules: Rules, kinds: set[str]) -> dg.AssetsDefinition:
    table = rules.table
    bronze, codes = rules.source, rules.codes

    @table_asset(table, deps=[bronze.asset_key], kinds=kinds)
    def _silver(
        context: dg.AssetExecutionContext,
        catalog: FoodCatalogResource,
        warehouse: Warehouse,
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        with clear_failures():
            foods = catalog.load()
            context.log.info(f"Food catalog from {catalog.source}")
            rows = warehouse.read(bronze, days[0], days[-1], BRONZE_READ)
            silver = to_silver(rows, foods, rules, __version__)
            counts = DailyCounts(silver, table.partition_column, days, _quality_conditions(codes))
            warehouse.write(table, counts.df, days)
            if table is ORDERS_CLEAN:
                written = warehouse.read(ORDERS_CLEAN, days[0], days[-1])
                warehouse.write(DAILY_BUYERS, to_daily_buyers(written, __version__), days)
        add_daily_metadata(
            context,
            {day: _day_metadata(figures, codes) for day, figures in counts.by_day().items()},
        )
        return dg.MaterializeResult(metadata={"catalog": catalog.source})

    return _silver


def silver_assets(storage: str, postgres_catalog: bool) -> list[dg.AssetsDefinition]:
    """ORDERS_CLEAN and CLICKS_CLEAN, stored in `storage`, enriched from Postgres or the file catalog."""
    kinds = {storage, "postgres"} if postgres_catalog else {storage}
    return [silver_asset(ORDER_RULES, kinds), silver_asset(CLICK_RULES, kinds)]
