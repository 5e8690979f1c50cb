"""The landing zone as a resource: where Bronze finds each topic's files."""


from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

from pydantic import Field
from pyspark.sql import DataFrame

from flowguard_assets.landing import LandedFile, LandingFile, check_readable, landing_files, read_lines, scan
from flowguard_assets.resources.spark import SparkBacked


class LandingZoneResource(SparkBacked):
    """Where a Kafka sink writes (FLOWGUARD_LANDING_DIR): a folder or an object-store URI."""

    path: str = Field(description="landing zone root, a path or s3://, gs://, abfs:// URI (FLOWGUARD_LANDING_DIR)")
    settle_seconds: int = Field(
        default=60, description="quiet time before a day's new files are run (FLOWGUARD_LANDING_SETTLE_SECONDS)"
    )

    def files(self, topic: str, days: Sequence[date]) -> list[LandingFile]:
        return landing_files(self.path, topic, days)

    @contextmanager
    def reading(self, files: Sequence[LandingFile]) -> Iterator[DataFrame]:
        """The lines of `files`, for the Spark jobs of the block; when one fails, a file that
        cannot be read fails it instead, named (LandingError)."""
        try:
            yield read_lines(self.spark.spark_session, files)
        except Exception:
            check_readable(files)
            raise

    def scan(self, topics: Sequence[str]) -> dict[date, list[LandedFile]]:
        return scan(self.path, topics)
