"""The bounds the checks hold each day to (SPEC §4, §5), as a resource: the UI shows them."""


import dagster as dg
from pydantic import Field


class QualityThresholds(dg.ConfigurableResource):
    """The Silver gates' rates and the Bronze volume watch's factors."""

    min_valid_rate: float = Field(default=0.95, description="FLOWGUARD_MIN_VALID_RATE")
    max_duplicate_rate: float = Field(default=0.05, description="FLOWGUARD_MAX_DUPLICATE_RATE")
    volume_low: float = Field(default=0.5, description="FLOWGUARD_VOLUME_LOW, times the recent median")
    volume_high: float = Field(default=2.0, description="FLOWGUARD_VOLUME_HIGH, times the recent median")
