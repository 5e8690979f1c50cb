"""`flowguard doctor`: is this machine ready to run FlowGuard? One line per dependency."""

import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pyarrow.fs import FileType

from flowguard_assets.config import Settings
from flowguard_assets.landing import filesystem, scan
from flowguard_assets.tables import TOPICS


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    hint: str = ""

    def line(self) -> str:
        status = "OK  " if self.ok else "FAIL"
        hint = f"  (hint: {self.hint})" if not self.ok and self.hint else ""
        return f"{status} {self.name:<10} {self.detail}{hint}"


def _java(_: Settings) -> Finding:
    java = shutil.which("java")
    if java is None:
        return Finding("java", False, "no java on PATH", "install OpenJDK 17 (apt install openjdk-17-jre-headless)")
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return Finding("java", True, version)


def _spark(settings: Settings) -> Finding:
    from flowguard_assets.resources.spark import SparkResource

    session = SparkResource.on(settings.spark_master, settings.spark_remote).spark_session
    count = session.range(10).count()
    target = settings.spark_remote or settings.spark_master
    return Finding("spark", count == 10, f"Spark {session.version} on {target} answered")


def _landing(settings: Settings) -> Finding:
    root = settings.landing_dir
    fs, path = filesystem(root)
    if fs.get_file_info(path).type != FileType.Directory:
        return Finding("landing", False, f"{root} does not exist", "run `flowguard generate` or set FLOWGUARD_LANDING_DIR")
    days = scan(root, TOPICS)
    if not days:
        return Finding("landing", False, f"{root} has no finished files", "a Kafka sink writes <topic>/dt=YYYY-MM-DD/*.jsonl")
    return Finding("landing", True, f"{root}: {len(days)} days, {min(days)} .. {max(days)}")


def _catalog(settings: Settings) -> Finding:
    from flowguard_assets.resources import build_resources

    catalog = build_resources(settings)["catalog"]
    rows = catalog.fetch_rows()
    if not rows:
        return Finding("catalog", False, f"{catalog.source} is empty", "run `flowguard load-catalog`")
    return Finding("catalog", True, f"{len(rows)} dishes from {catalog.source}")


def _warehouse(settings: Settings) -> Finding:
    if settings.warehouse == "snowflake":
        from flowguard_assets.resources import build_warehouse

        with build_warehouse(settings).snowflake.get_connection() as connection:
            connection.cursor().execute("SELECT 1")
        return Finding("warehouse", True, f"Snowflake database {settings.snowflake['database']} answered")
    root = settings.warehouse_dir
    existing = next(p for p in (root, *root.parents) if p.exists())
    if not os.access(existing, os.W_OK):
        return Finding("warehouse", False, f"{root} is not writable", "set FLOWGUARD_WAREHOUSE_DIR to a writable folder")
    free = shutil.disk_usage(existing).free / 2**30
    return Finding("warehouse", True, f"local Parquet at {root} ({free:.1f} GiB free)")


CHECKS: list[tuple[str, Callable[[Settings], Finding], str]] = [
    ("java", _java, "install OpenJDK 17"),
    ("spark", _spark, "check SPARK_MASTER / SPARK_REMOTE and that Java works"),
    ("landing", _landing, "check FLOWGUARD_LANDING_DIR"),
    ("catalog", _catalog, "check POSTGRES_* or FLOWGUARD_CATALOG_FILE"),
    ("warehouse", _warehouse, "check FLOWGUARD_WAREHOUSE and its settings"),
]


def diagnose(settings: Settings) -> Iterator[Finding]:
    """Each dependency's finding; an exception becomes a failed finding with its first line."""
    for name, check, hint in CHECKS:
        try:
            yield check(settings)
        except Exception as error:  # noqa: BLE001 - doctor reports every failure, never raises
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            yield Finding(name, False, reason, hint)
