"""Helpers for tests: landing lines, test definitions, reading tables back."""

import gzip
import json
from collections.abc import Callable, Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.dataset as ds
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import types as T

from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.resources.local_warehouse import LocalWarehouse
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import ALL_TABLES, CHECK_RESULTS, Table

# assertDataFrameEqual lets decimals and floats differ by rtol=1e-5 unless told: tests compare exactly.
EXACT = {"rtol": 0, "atol": 0}

ORDERS = "raw.orders.v1"
CLICKS = "raw.clicks.v1"
# Event timestamps SPEC's Timestamps paragraph rejects: each is `invalid_timestamp`.
INVALID_TIMESTAMPS = (
    "yesterday", "2026-02-30T10:00:00Z", "2026-02-30 10:00:00", "2026-02-14T25:00:00Z",
    1771072200000, 1771000000, "20260214T101010Z", "2026-02-14T10:10", "2026-02-14 09:00",
    "2026-02-14  10:10:10", "2026-02-14T10:10:10+0530", "2026-02-14T10:10:10.",
    "2026-02-14T10:10:10.1234567891Z", "2026-02-14t10:10:10z", "2026-02-14T10:10:10Z\n", "2026-02-14",
)


def envelope(
    value: Any,
    *,
    topic: str = ORDERS,
    partition: int = 0,
    offset: int = 1,
    timestamp_ms: int | None = None,
    headers: dict | None = None,
) -> str:
    """A landing line: a Kafka record with `value` as its event."""
    record = {
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "timestamp": timestamp_ms if timestamp_ms is not None else 1771070400000,
        "key": None,
        "value": value,
    }
    if headers is not None:
        record["headers"] = headers
    return json.dumps(record)


def millis(text: str) -> int:
    """Epoch milliseconds of an ISO date-time in UTC."""
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def write_landing(
    root: Path, topic: str, day: date, name: str, lines: list[str], *, gz: bool = False
) -> Path:
    folder = root / topic / f"dt={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    text = "".join(f"{line}\n" for line in lines)
    if gz:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def typed_frame(spark: SparkSession, table: Table, columns: list[str], rows: list[tuple]) -> DataFrame:
    """Expected rows of `columns`, typed as `table` types them."""
    return spark.createDataFrame(rows, T.StructType([table.spark_schema[c] for c in columns]))


def make_defs(
    landing: Path,
    warehouse: Path | Warehouse,
    catalog: FoodCatalogResource | None = None,
    **resources: dg.ConfigurableResource,
) -> dg.Definitions:
    """The shipped code location with test folders, warehouse and catalog (and any other
    resource given, e.g. `thresholds`)."""
    from flowguard_assets import defs

    return dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        resources={
            **defs.resources,
            "landing": LandingZoneResource(path=str(landing)),
            "warehouse": (
                warehouse if isinstance(warehouse, Warehouse) else LocalWarehouse(root=str(warehouse))
            ),
            "catalog": catalog or FoodCatalogResource(),
            **resources,
        },
        executor=dg.in_process_executor,
    )


def read_table(warehouse: Path, table: Table) -> list[dict[str, Any]]:
    """All rows of a local-warehouse table, read with pyarrow (any Parquet reader works)."""
    path = warehouse / table.schema / table.name
    if not path.exists():
        return []
    partitioning = ds.partitioning(pa.schema([(table.partition_column, pa.date32())]), flavor="hive")
    return ds.dataset(path, format="parquet", partitioning=partitioning).to_table().to_pylist()


def without(rows: list[dict[str, Any]], *columns: str) -> list[dict[str, Any]]:
    """Rows without the given columns, sorted, for comparing tables across runs."""
    kept = [{k: v for k, v in row.items() if k not in columns} for row in rows]
    return sorted(kept, key=lambda row: json.dumps(row, default=str, sort_keys=True))


def stamp_column(table: Table) -> str | None:
    """The column that says when a row was written (profiles have none)."""
    names = table.column_names
    return next((c for c in ("INGESTION_TIMESTAMP", "LOAD_TIMESTAMP") if c in names), None)


def snapshot_of(rows_of: Callable[[Table], list[dict[str, Any]]], days: Iterable[date]) -> dict:
    """Per table and day: the rows without their write time, and the set of write times (one per
    whole write). The quality history keeps every run's rows, killed runs' included: it is only
    read (it must stay readable)."""
    snapshot = {}
    for table in ALL_TABLES:
        rows = rows_of(table)  # fails if any file is unreadable
        if table is CHECK_RESULTS:
            continue
        for day in days:
            mine = [r for r in rows if r[table.partition_column] == day]
            stamps = {r.get(stamp_column(table)) for r in mine}
            snapshot[(table.name, day)] = (without(mine, stamp_column(table)), stamps)
    return snapshot
