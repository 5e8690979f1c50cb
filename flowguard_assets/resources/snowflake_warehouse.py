"""The Snowflake warehouse: the same tables in the schemas BRONZE, SILVER and GOLD.

A write has Spark (or, for a small table, pyarrow) write the rows as Parquet, uploads the files to a temporary stage (PUT) and,
in one transaction, deletes the run's partitions and bulk-loads the files (COPY INTO): the table
shows the old partitions or the new ones, never a half load. Reads come back to Spark as Arrow.
Tables are created from their schema in `tables.py` and migrated forward (new columns added);
an incompatible change stops the run instead of rewriting data.
"""

import shutil
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import snowflake.connector
from dagster_snowflake import SnowflakeResource
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from flowguard_assets.errors import WarehouseError, WarehouseUnavailable
from flowguard_assets.resources.warehouse import Rows, Warehouse, write_parquet
from flowguard_assets.tables import Table


def quote(identifier: str) -> str:
    """A Snowflake identifier, quoted: names from code or configuration never reach SQL raw."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class ColumnType:
    """A column's Snowflake type as INFORMATION_SCHEMA describes it."""

    family: str
    precision: int | None = None
    scale: int | None = None

    @property
    def sql(self) -> str:
        if self.family == "NUMBER":
            return f"NUMBER({self.precision},{self.scale})"
        return {"TEXT": "VARCHAR", "TIMESTAMP_NTZ": "TIMESTAMP_NTZ(6)"}.get(self.family, self.family)


def column_type(spark_type: T.DataType) -> ColumnType:
    if isinstance(spark_type, T.DecimalType):
        return ColumnType("NUMBER", spark_type.precision, spark_type.scale)
    simple = {
        T.LongType: ColumnType("NUMBER", 19, 0),
        T.IntegerType: ColumnType("NUMBER", 10, 0),
        T.StringType: ColumnType("TEXT"),
        T.BooleanType: ColumnType("BOOLEAN"),
        T.DateType: ColumnType("DATE"),
        T.TimestampType: ColumnType("TIMESTAMP_NTZ"),
    }
    return simple[type(spark_type)]


def create_table_sql(table: Table) -> str:
    """The table's DDL (also written to scripts/snowflake/ for reviewers and DBAs)."""
    name = f"{quote(table.schema.upper())}.{quote(table.name)}"
    columns = ",\n".join(
        f"    {quote(c.name)} {column_type(c.type).sql} COMMENT '{c.description.replace(chr(39), chr(39) * 2)}'"
        for c in table.columns
    )
    comment = table.description.replace("'", "''")
    return f"CREATE TABLE IF NOT EXISTS {name} (\n{columns}\n)\nCOMMENT = '{comment}';\n"


def migration_plan(table: Table, existing: dict[str, ColumnType]) -> list[str]:
    """The ALTER statements that bring an existing table to `table`'s schema.

    Raises WarehouseError for a change that would lose data: a column the code no longer has, or
    a type that is not the same or wider."""
    wanted = {c.name: column_type(c.type) for c in table.columns}
    problems = [f"column {name} is no longer in the schema" for name in existing if name not in wanted]
    statements = []
    for name, want in wanted.items():
        have = existing.get(name)
        if have is None:
            statements.append(f"ADD COLUMN {quote(name)} {want.sql}")
        elif have.family != want.family or have.scale != want.scale:
            problems.append(f"column {name} is {have.sql}, the schema says {want.sql}")
        elif have.precision is not None and want.precision is not None:
            if want.precision < have.precision:
                problems.append(f"column {name} would narrow from {have.sql} to {want.sql}")
            elif want.precision > have.precision:
                statements.append(f"ALTER COLUMN {quote(name)} SET DATA TYPE {want.sql}")
    if problems:
        raise WarehouseError(
            f"Snowflake table {table.qualified_name} has an incompatible schema; migrate it by hand: "
            + "; ".join(problems)
        )
    return statements


class SnowflakeWarehouse(Warehouse):
    """Tables in Snowflake (FLOWGUARD_WAREHOUSE=snowflake), through dagster-snowflake."""

    snowflake: SnowflakeResource

    def _name(self, table: Table) -> str:
        return f"{quote(table.schema.upper())}.{quote(table.name)}"

    @property
    def endpoint(self) -> str:
        """Where Snowflake is, without credentials."""
        extra = self.snowflake.additional_snowflake_connection_args or {}
        host = extra.get("host") or f"{self.snowflake.account}.snowflakecomputing.com"
        return f"{host}:{extra['port']}" if "port" in extra else host

    @contextmanager
    def _cursor(self) -> Iterator:
        with ExitStack() as stack:
            try:
                connection = stack.enter_context(self.snowflake.get_connection())
            except (snowflake.connector.errors.Error, OSError) as error:
                reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
                raise WarehouseUnavailable(f"Snowflake at {self.endpoint} unreachable: {reason}") from None
            cursor = connection.cursor()
            try:
                yield cursor
            finally:
                cursor.close()

    def ensure_table(self, table: Table) -> None:
        """Create `table` if absent, or migrate it forward."""
        with self._cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {quote(table.schema.upper())}")
            cursor.execute(
                "SELECT column_name, data_type, numeric_precision, numeric_scale"
                " FROM information_schema.columns WHERE table_schema = %s AND table_name = %s",
                (table.schema.upper(), table.name),
            )
            existing = {
                name.upper(): ColumnType(kind.upper(), precision, scale)
                for name, kind, precision, scale in cursor.fetchall()
            }
            if not existing:
                cursor.execute(create_table_sql(table))
                return
            for statement in migration_plan(table, existing):
                cursor.execute(f"ALTER TABLE {self._name(table)} {statement}")

    def write(
        self,
        table: Table,
        rows: Rows,
        partitions: Sequence[date],
        scope: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.ensure_table(table)
        folder = Path(tempfile.mkdtemp(prefix="flowguard-load-"))
        try:
            data = folder / "data"
            write_parquet(table, rows, data, partitioned=False)
            files = sorted(data.glob("*.parquet"))
            self._load(table, files, partitions, scope or {})
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _load(
        self, table: Table, files: list[Path], partitions: Sequence[date], scope: Mapping[str, Sequence[str]]
    ) -> None:
        # A stage reference (@name) cannot be quoted; the schema is one of BRONZE/SILVER/GOLD/AUDIT.
        stage = f"{table.schema.upper()}.FLOWGUARD_LOAD_{uuid.uuid4().hex.upper()}"
        partition_column = quote(table.partition_column)
        placeholders = ", ".join(["%s"] * len(partitions))
        with self._cursor() as cursor:
            cursor.execute(f"CREATE TEMPORARY STAGE {stage}")
            for file in files:
                cursor.execute(f"PUT 'file://{file}' @{stage} AUTO_COMPRESS = FALSE")
            cursor.execute("BEGIN")
            try:
                scoped = "".join(
                    f" AND {quote(column)} IN ({', '.join(['%s'] * len(values))})" for column, values in scope.items()
                )
                cursor.execute(
                    f"DELETE FROM {self._name(table)} WHERE {partition_column} IN ({placeholders}){scoped}",
                    [day.isoformat() for day in partitions] + [v for values in scope.values() for v in values],
                )
                if files:
                    self._copy(cursor, table, stage)
                cursor.execute("COMMIT")
            except Exception:
                cursor.execute("ROLLBACK")
                raise

    def _copy(self, cursor, table: Table, stage: str) -> None:
        cursor.execute(
            f"COPY INTO {self._name(table)} FROM @{stage}"
            " FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE"
        )

    def read(
        self,
        table: Table,
        start: date,
        end: date,
        columns: Sequence[str] | None = None,
    ) -> DataFrame:
        selected = list(columns or table.column_names)
        self.ensure_table(table)
        with self._cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(quote(c) for c in selected)} FROM {self._name(table)}"
                f" WHERE {quote(table.partition_column)} BETWEEN %s AND %s",
                (start.isoformat(), end.isoformat()),
            )
            arrow = cursor.fetch_arrow_all(force_return_table=True)
        types = {c.name: c.type for c in table.columns}
        schema = T.StructType([T.StructField(c, types[c]) for c in selected])
        spark = self.spark.spark_session
        if arrow.num_rows == 0:
            return spark.createDataFrame([], schema)
        rows = spark.createDataFrame(arrow.rename_columns(selected))
        return rows.select([F.col(c).cast(types[c]).alias(c) for c in selected])
