"""The FlowGuard code location: one Definitions object, built from one `Settings`."""

import dagster as dg

from flowguard_assets.automation import daily_job, daily_schedule, gmv_refresh_job, sensors
from flowguard_assets.bronze.assets import bronze_assets
from flowguard_assets.config import Settings, load_settings
from flowguard_assets.gold.assets import gold_asset
from flowguard_assets.resources import build_resources
from flowguard_assets.silver.assets import silver_assets
from flowguard_assets.tables import CHECK_RESULTS
from flowguard_assets.assets_kit import table_spec


def build_defs(settings: Settings) -> dg.Definitions:
    """Assets, checks, jobs, schedule, sensors and resources for `settings`: the only place
    where settings enter the definitions."""
    storage = "snowflake" if settings.warehouse == "snowflake" else "parquet"
    return dg.Definitions(
        assets=[
            *bronze_assets(storage),
            *silver_assets(storage, postgres_catalog=bool(settings.postgres_host)),
            gold_asset(storage),
            # Written by every check step, not materialized by itself: shown so users find it.
            table_spec(CHECK_RESULTS, kinds={storage}, deps=[]),
        ],
        jobs=[daily_job, gmv_refresh_job],
        schedules=[daily_schedule],
        sensors=sensors(settings.sensor_interval_seconds),
        resources=build_resources(settings),
        executor=dg.in_process_executor,
    )


defs = build_defs(load_settings())
