"""Jobs, the daily schedule (`jobs`), the landing and history sensors (`sensors`), and alerts
(`alerts`)."""

from flowguard_assets.automation.jobs import daily_job, daily_schedule, gmv_refresh_job
from flowguard_assets.automation.sensors import sensors

__all__ = ["daily_job", "daily_schedule", "gmv_refresh_job", "sensors"]
