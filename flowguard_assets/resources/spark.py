"""The Spark session resource: one session per run, shared by every asset step of the run."""


import os
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_pyspark import LazyPySparkResource
from pydantic import Field
from pyspark.sql import SparkSession
from pyspark.sql.connect.client.retries import DefaultPolicy

from flowguard_assets.errors import FlowGuardError

_DEFAULT_CONF = {
    "spark.app.name": "flowguard",
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
_LOOPBACK = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
# A Connect client waits this long for a server that does not answer: a probe before any work,
# a few seconds inside a run (then the step fails, and Dagster's retry policy may try it again).
_PROBE_RETRIES, _RUN_RETRIES = 2, 5


class SparkUnavailable(FlowGuardError):
    """The Spark Connect server named by SPARK_REMOTE does not answer."""

    transient = True


def driver_memory() -> str:
    return os.environ.get("SPARK_DRIVER_MEMORY", _DRIVER_MEMORY)


def spark_config(master: str = "local[*]", remote: str | None = None) -> dict[str, Any]:
    """FlowGuard's Spark settings for `master` (SPARK_MASTER), or for a Spark Connect server at
    `remote` (SPARK_REMOTE), where only session settings (UTC, ...) apply."""
    if remote:
        return {"spark.remote": remote} | {k: v for k, v in _DEFAULT_CONF.items() if k.startswith("spark.sql.")}
    conf = {"spark.master": master, **_DEFAULT_CONF}
    conf["spark.driver.memory"] = driver_memory()
    # A local driver talks only to itself: bind to loopback, whatever the host name says.
    return conf | _LOOPBACK if master.startswith("local") else conf


def server_config(port: int, master: str) -> dict[str, str]:
    """The settings of FlowGuard's Spark Connect server: gRPC on 127.0.0.1:`port`, FlowGuard's
    defaults for its sessions, and the JVM's metrics (for its heap in `flowguard spark status`)."""
    conf = {k: v for k, v in _DEFAULT_CONF.items() if k != "spark.app.name"}
    conf |= {
        "spark.connect.grpc.binding.address": "127.0.0.1",
        "spark.connect.grpc.binding.port": str(port),
        "spark.metrics.conf.driver.source.jvm.class": "org.apache.spark.metrics.source.JvmSource",
    }
    return conf | _LOOPBACK if master.startswith("local") else conf


class SparkResource(LazyPySparkResource):
    """dagster-pyspark's lazy session (`spark_config`, `spark_session`), started on first use.

    Jobs run with the in-process executor, so every step of a run gets the same session: a
    Bronze -> Gold run starts Spark once. On a cluster or a Connect server the session first
    receives this package's code, which the executors import to parse landing lines.
    """

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @classmethod
    def on(cls, master: str = "local[*]", remote: str | None = None) -> "SparkResource":
        return cls(spark_config=spark_config(master, remote))

    @property
    def _master(self) -> str:
        return self.spark_config.get("spark.remote") or self.spark_config.get("spark.master", "local[*]")

    @property
    def spark_session(self) -> SparkSession:
        started = SparkSession.getActiveSession() is None
        if "spark.remote" not in self.spark_config:
            # Python workers run this interpreter (it has the package) unless PYSPARK_PYTHON says.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if self._master.startswith("local"):
            os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        session = super().spark_session
        if started:
            remote = self.spark_config.get("spark.remote")
            version = session.version
            where = f"the Spark Connect server {remote}" if remote else f"a local session ({self._master})"
            dg.get_dagster_logger().info(f"Spark session started: Spark {version} on {where}")
            if not self._master.startswith("local"):
                self._ship_package(session)
        return session

    def _init_session(self) -> None:
        """A Connect session is probed before it is configured: setting its configuration is
        already a call to the server, and the client's default retries wait for minutes."""
        remote = self.spark_config.get("spark.remote")
        if remote and self._spark_session is None:
            session = SparkSession.getActiveSession() or SparkSession.builder.remote(remote).create()
            _probe(session, remote)
            for key, value in self.spark_config.items():
                if key != "spark.remote":
                    session.conf.set(key, value)
            self._spark_session = session
        super()._init_session()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        """A run's Connect session ends with the run, so the server keeps nothing of it (cached
        data, artifacts); a local session ends with its process anyway."""
        if "spark.remote" in self.spark_config and (session := SparkSession.getActiveSession()):
            session.stop()

    def _ship_package(self, session: SparkSession) -> None:
        """Send this package's code to the executors: a cluster runs the driver's version of
        FlowGuard without installing it on every node."""
        package = Path(__file__).resolve().parents[1]
        archive = Path(tempfile.mkdtemp(prefix="flowguard-")) / f"{package.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(package.rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    bundle.write(path, path.relative_to(package.parent))
        if "spark.remote" in self.spark_config:
            session.addArtifacts(str(archive), pyfile=True)
        else:
            session.sparkContext.addPyFile(str(archive))


def _probe(session: SparkSession, remote: str) -> None:
    """Ask the server its Spark version with few retries: an unreachable server fails the run
    before any work, naming its URL; then the run's own, longer, retries apply."""
    client = session.client
    client.set_retry_policies([DefaultPolicy(max_retries=_PROBE_RETRIES)])
    try:
        session.version
    except Exception as error:
        session.stop()
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise SparkUnavailable(
            f"Spark Connect server {remote} is not reachable ({reason[:200]});"
            " start it with `flowguard spark start`, or unset SPARK_REMOTE for a local session"
        ) from None
    client.set_retry_policies([DefaultPolicy(max_retries=_RUN_RETRIES)])


class SparkBacked(dg.ConfigurableResource):
    """A resource that reads or writes through the run's Spark session, which it gets itself."""

    spark: dg.ResourceDependency[SparkResource] = Field(default_factory=SparkResource.on)
