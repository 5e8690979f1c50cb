"""The daily partitions every FlowGuard table shares (SPEC §5)."""

import dagster as dg

from flowguard_assets.config import load_settings

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=load_settings().start_date.isoformat(), timezone="UTC"
)
