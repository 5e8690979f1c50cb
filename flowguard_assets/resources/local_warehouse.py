"""The local warehouse: each table a hive-partitioned Parquet dataset at <root>/<schema>/<TABLE>/.

A write stages the new partitions under `<TABLE>/_staging/<write id>/` (readers skip `_` folders),
then swaps each partition folder into place atomically, under a per-table commit lock. A killed
write leaves only its staging folder, which the next write of the table removes.
"""


import errno
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import dagster as dg
from pydantic import Field, PrivateAttr
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from flowguard_assets.resources.atomic_fs import file_lock, replace_dir, restore_parked
from flowguard_assets.partitions import run_days
from flowguard_assets.errors import WarehouseError
from flowguard_assets.resources.warehouse import Rows, Warehouse, arrow_schema, write_parquet
from flowguard_assets.tables import Table

_STAGING = "_staging"


class LocalWarehouse(Warehouse):
    """Parquet datasets under `root` (FLOWGUARD_WAREHOUSE_DIR), readable by any Parquet reader.

    A run holds a lock on each of its days for as long as it runs: a second run of the same day
    waits for the first (it would otherwise read files the first one is replacing); runs of
    different days never wait for each other.
    """

    root: str = Field(description="warehouse root folder (FLOWGUARD_WAREHOUSE_DIR)")
    _day_locks: ExitStack = PrivateAttr(default_factory=ExitStack)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        for day in run_days(run.tags) if run else []:
            lock = Path(self.root) / "_locks" / f"{day.isoformat()}.lock"
            if not self._day_locks.enter_context(file_lock(lock, blocking=False)):
                context.log.info(f"Waiting for another run of {day} to finish")
                self._day_locks.enter_context(file_lock(lock))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._day_locks.close()

    def table_dir(self, table: Table) -> Path:
        return Path(self.root) / table.schema / table.name

    def write(
        self,
        table: Table,
        rows: Rows,
        partitions: Sequence[date],
        scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        table_dir = self.table_dir(table)
        staging = table_dir / _STAGING
        self.clean_up(table)
        write_id = uuid.uuid4().hex
        folders = {f"{table.partition_column}={day.isoformat()}" for day in partitions}
        lock, work = staging / f"{write_id}.lock", staging / write_id
        try:
            with file_lock(lock), _naming_a_full_disk(table, table_dir):
                data = work / "data"
                write_parquet(table, rows, data, partitioned=True, one_file=bool(scope))
                _check_only_expected(table, data, folders)
                with file_lock(table_dir / "_commit.lock"):
                    for folder in sorted(folders):
                        if scope:
                            _replace_scope(data / folder, table_dir / folder, scope)
                            continue
                        if not (data / folder).exists():
                            _write_empty_partition(table, data / folder)
                        replace_dir(data / folder, table_dir / folder, work / "parked")
        finally:
            self._discard(table_dir, work)
            lock.unlink(missing_ok=True)

    def clean_up(self, table: Table) -> None:
        """Remove what killed writes of `table` left behind, restoring any parked partition."""
        table_dir = self.table_dir(table)
        staging = table_dir / _STAGING
        if not staging.is_dir():
            return
        for work in [p for p in staging.iterdir() if p.is_dir()]:
            with file_lock(staging / f"{work.name}.lock", blocking=False) as orphaned:
                if orphaned:
                    self._discard(table_dir, work)
                    (staging / f"{work.name}.lock").unlink(missing_ok=True)

    @staticmethod
    def _discard(table_dir: Path, work: Path) -> None:
        """Remove a write's staging folder, first putting back any partition it left parked."""
        if (work / "parked").is_dir():
            with file_lock(table_dir / "_commit.lock"):
                restore_parked(work / "parked", table_dir)
        shutil.rmtree(work, ignore_errors=True)

    def read(
        self,
        table: Table,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> DataFrame:
        selected = list(columns or table.column_names)
        spark = self.spark.spark_session
        table_dir = self.table_dir(table)
        if not table_dir.is_dir():
            return spark.createDataFrame([], table.spark_schema).select(selected)
        column = F.col(table.partition_column)
        return (
            spark.read.schema(table.spark_schema)
            .parquet(str(table_dir))
            .where(column.between(F.lit(start), F.lit(end)))
            .select(selected)
        )


@contextmanager
def _naming_a_full_disk(table: Table, table_dir: Path) -> Iterator[None]:
    """A full disk is a clear error naming the path, wherever it surfaces (Spark or Python)."""
    try:
        yield
    except Exception as error:
        if "No space left on device" in str(error) or getattr(error, "errno", None) == errno.ENOSPC:
            raise WarehouseError(
                f"No space left on device writing {table.qualified_name} under {table_dir};"
                " the table is unchanged"
            ) from None
        raise


def _check_only_expected(table: Table, data: Path, folders: set[str]) -> None:
    written = {p.name for p in data.iterdir() if p.is_dir()} if data.is_dir() else set()
    unexpected = written - folders
    if unexpected:
        raise WarehouseError(
            f"Refusing to write {table.qualified_name}: rows for partitions outside the run"
            f" ({', '.join(sorted(unexpected))})"
        )


def _replace_scope(new: Path, live: Path, scope: Mapping[str, Sequence[str]]) -> None:
    """Put the one file of `new` (if any) in place of `scope`'s file in partition folder `live`:
    a file rename is atomic, and the files of other scopes stay."""
    key = "|".join(f"{column}={','.join(sorted(values))}" for column, values in sorted(scope.items()))
    target = live / f"scope-{hashlib.sha256(key.encode()).hexdigest()[:32]}.parquet"
    files = sorted(new.glob("*.parquet")) if new.is_dir() else []
    if files:
        live.mkdir(parents=True, exist_ok=True)
        os.replace(files[0], target)
    else:
        target.unlink(missing_ok=True)


def _write_empty_partition(table: Table, folder: Path) -> None:
    """An empty partition is a folder with one Parquet file of the table's columns and no rows."""
    schema = arrow_schema(table, [c for c in table.column_names if c != table.partition_column])
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist([], schema=schema), folder / "part-00000-empty.parquet")
