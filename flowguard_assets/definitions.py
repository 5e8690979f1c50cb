"""The FlowGuard code location: one Definitions object."""

import dagster as dg

from flowguard_assets.automation import (
    alert_sensor,
    daily_job,
    daily_schedule,
    gmv_refresh_job,
    landing_sensor,
    new_users_refresh_sensor,
)
from flowguard_assets.bronze.assets import clicks_raw, orders_raw
from flowguard_assets.checks import silver_checks
from flowguard_assets.config import load_settings
from flowguard_assets.gold.assets import gold_tables
from flowguard_assets.resources import build_resources
from flowguard_assets.silver.assets import clicks_clean, orders_clean
from flowguard_assets.tables import CHECK_RESULTS
from flowguard_assets.wiring import table_spec

defs = dg.Definitions(
    assets=[
        orders_raw,
        clicks_raw,
        orders_clean,
        clicks_clean,
        gold_tables,
        # Written by every check step, not materialized by itself: shown so users find it.
        table_spec(CHECK_RESULTS, deps=[]),
    ],
    asset_checks=silver_checks,
    jobs=[daily_job, gmv_refresh_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor, new_users_refresh_sensor, alert_sensor],
    resources=build_resources(load_settings()),
    executor=dg.in_process_executor,
)
