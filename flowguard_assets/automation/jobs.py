"""The jobs and the daily schedule: at 01:00 UTC, the whole chain for the previous day."""

from datetime import time, timedelta

import dagster as dg

from flowguard_assets.tables import DAILY_GMV_METRICS

SCHEDULE_TIME = time(1, 0)
SCHEDULE_GRACE = timedelta(minutes=30)  # after it, the landing sensor runs a day nobody ran

daily_job = dg.define_asset_job(
    "flowguard_daily",
    selection=dg.AssetSelection.all(),
    description="Bronze -> Silver -> Gold with every check, for a day or a range: one Spark session.",
)
gmv_refresh_job = dg.define_asset_job(
    "new_users_refresh",
    selection=dg.AssetSelection.assets(DAILY_GMV_METRICS.asset_key),
    description="DAILY_GMV_METRICS again for days whose history (NEW_USERS, growth) changed.",
)
daily_schedule = dg.build_schedule_from_partitioned_job(
    daily_job,
    name="flowguard_daily_schedule",
    hour_of_day=SCHEDULE_TIME.hour,
    minute_of_hour=SCHEDULE_TIME.minute,
    description="At 01:00 UTC, the whole chain for the previous day.",
)

