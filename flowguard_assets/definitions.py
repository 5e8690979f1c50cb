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
from flowguard_assets.checks import gold_reconciliation, silver_checks
from flowguard_assets.config import load_settings
from flowguard_assets.gold.assets import (
    daily_gmv_metrics,
    food_item_performance,
    hourly_order_patterns,
    user_funnel_metrics,
)
from flowguard_assets.resources import build_resources
from flowguard_assets.silver.assets import clicks_clean, orders_clean

defs = dg.Definitions(
    assets=[
        orders_raw,
        clicks_raw,
        orders_clean,
        clicks_clean,
        daily_gmv_metrics,
        food_item_performance,
        user_funnel_metrics,
        hourly_order_patterns,
    ],
    asset_checks=[*silver_checks, gold_reconciliation],
    jobs=[daily_job, gmv_refresh_job],
    schedules=[daily_schedule],
    sensors=[landing_sensor, new_users_refresh_sensor, alert_sensor],
    resources=build_resources(load_settings()),
    executor=dg.in_process_executor,
)
