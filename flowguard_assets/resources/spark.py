"""The Spark session resource: one session per run, shared by every asset step of the run."""


import os
import sys
import tempfile
import zipfile
from pathlib import Path

import dagster as dg
from pydantic import Field
from pyspark.sql import SparkSession

_DEFAULT_CONF = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.adaptive.enabled": "true",
    "spark.sql.adaptive.coalescePartitions.enabled": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
    # Adaptive execution coalesces these to the data.
    "spark.sql.shuffle.partitions": "8",
}
_DRIVER_MEMORY = "4g"  # local mode runs the executors in the driver; SPARK_DRIVER_MEMORY overrides


class SparkResource(dg.ConfigurableResource):
    """A SparkSession on `master` (SPARK_MASTER), or a Spark Connect session when `remote` is set.

    Jobs run with the in-process executor, so every step of a run gets the same session from
    `get_session()`: a Bronze -> Gold run starts Spark once.
    """

    master: str = Field(default="local[*]", description="Spark master URL (SPARK_MASTER)")
    remote: str | None = Field(default=None, description="Spark Connect URL (SPARK_REMOTE)")

    def get_session(self) -> SparkSession:
        started = SparkSession.getActiveSession() is None
        session = self._session()
        if started:
            dg.get_dagster_logger().info(
                f"Spark session started: {session.version} on {self.remote or self.master}"
            )
            if self.remote or not self.master.startswith("local"):
                self._ship_package(session)
        return session

    def _ship_package(self, session: SparkSession) -> None:
        """Send this package's code to the executors, which import it to parse landing lines:
        a cluster runs the driver's version of FlowGuard without installing it on every node."""
        package = Path(__file__).resolve().parents[1]
        archive = Path(tempfile.mkdtemp(prefix="flowguard-")) / f"{package.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(package.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    bundle.write(path, path.relative_to(package.parent))
        if self.remote:
            session.addArtifacts(str(archive), pyfile=True)
        else:
            session.sparkContext.addPyFile(str(archive))

    def _session(self) -> SparkSession:
        settings = self._settings()
        if self.remote:
            # A Connect session runs on the server's driver: only session settings (UTC, ...) apply.
            builder = SparkSession.builder.remote(self.remote)
            settings = {key: value for key, value in settings.items() if key.startswith("spark.sql.")}
        else:
            # Python workers run this interpreter (it has the package) unless PYSPARK_PYTHON says.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            builder = SparkSession.builder.master(self.master).appName("flowguard")
        for key, value in settings.items():
            builder = builder.config(key, value)
        return builder.getOrCreate()

    def _settings(self) -> dict[str, str]:
        settings = {
            **_DEFAULT_CONF,
            "spark.driver.memory": os.environ.get("SPARK_DRIVER_MEMORY", _DRIVER_MEMORY),
        }
        if self.master.startswith("local"):
            # A local driver talks only to itself: bind to loopback, whatever the host name says.
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
            settings |= {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
        return settings
