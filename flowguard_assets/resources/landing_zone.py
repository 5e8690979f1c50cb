"""The landing zone as a resource: where Bronze finds each topic's files."""


from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from flowguard_assets.landing import LandedFile, LandingFile, landing_files, read_lines, scan


class LandingZoneResource(dg.ConfigurableResource):
    """Where a Kafka sink writes (FLOWGUARD_LANDING_DIR): a folder or an object-store URI."""

    path: str = Field(description="landing zone root, a path or s3://, gs://, abfs:// URI (FLOWGUARD_LANDING_DIR)")
    settle_seconds: int = Field(
        default=60, description="quiet time before a day's new files are run (FLOWGUARD_LANDING_SETTLE_SECONDS)"
    )

    def files(self, topic: str, days: Sequence[date]) -> list[LandingFile]:
        return landing_files(self.path, topic, days)

    def read(self, spark: SparkSession, files: Sequence[LandingFile]) -> DataFrame:
        return read_lines(spark, files)

    def scan(self, topics: Sequence[str]) -> dict[date, list[LandedFile]]:
        return scan(self.path, topics)
