"""The landing zone as a resource: where Bronze finds each topic's files."""


from collections.abc import Sequence
from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field
from pyspark.sql import DataFrame, SparkSession

from flowguard_assets.landing import LandedFile, LandingFile, landing_files, read_lines, scan


class LandingZoneResource(dg.ConfigurableResource):
    """The folder a Kafka sink writes into (FLOWGUARD_LANDING_DIR)."""

    path: str = Field(description="landing zone root (FLOWGUARD_LANDING_DIR)")

    def files(self, topic: str, days: Sequence[date]) -> list[LandingFile]:
        return landing_files(Path(self.path), topic, days)

    def read(self, spark: SparkSession, files: Sequence[LandingFile]) -> DataFrame:
        return read_lines(spark, files)

    def scan(self, topics: Sequence[str]) -> dict[date, list[LandedFile]]:
        return scan(Path(self.path), topics)
