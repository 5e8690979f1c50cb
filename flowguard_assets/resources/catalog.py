"""The food catalog (SPEC §2): Postgres `foods`, else a JSON file, else the bundled catalog."""


import json
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import psycopg2
from pydantic import Field
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from flowguard_assets.data import bundled_catalog
from flowguard_assets.errors import CatalogError, CatalogUnavailable
from flowguard_assets.resources.spark import SparkBacked

CATALOG_SCHEMA = T.StructType(
    [
        T.StructField("FOOD_ID", T.LongType()),
        T.StructField("NAME", T.StringType()),
        T.StructField("CATEGORY", T.StringType()),
        T.StructField("PRICE", T.DecimalType(10, 2)),
        T.StructField("DESCRIPTION", T.StringType()),
        T.StructField("IS_AVAILABLE", T.BooleanType()),
    ]
)
_FIELDS = ("food_id", "name", "category", "price", "description", "is_available")
_QUERY = "SELECT food_id, name, category, price, description, is_available FROM foods"
_CREATE = """
CREATE TABLE IF NOT EXISTS foods (
    food_id integer PRIMARY KEY,
    name text NOT NULL,
    category text,
    price numeric(10,2),
    description text,
    image_url text,
    is_available boolean NOT NULL DEFAULT true,
    created_at timestamp
)"""
_UPSERT = """
INSERT INTO foods (food_id, name, category, price, description, image_url, is_available, created_at)
VALUES (%(food_id)s, %(name)s, %(category)s, %(price)s, %(description)s, %(image_url)s,
        %(is_available)s, %(created_at)s)
ON CONFLICT (food_id) DO UPDATE SET
    name = EXCLUDED.name, category = EXCLUDED.category, price = EXCLUDED.price,
    description = EXCLUDED.description, image_url = EXCLUDED.image_url,
    is_available = EXCLUDED.is_available, created_at = EXCLUDED.created_at"""


def _row(item: dict[str, Any]) -> tuple:
    price = item.get("price")
    return (
        int(item["food_id"]),
        item.get("name"),
        item.get("category"),
        None if price is None else Decimal(str(price)).quantize(Decimal("0.01"), ROUND_HALF_UP),
        item.get("description"),
        item.get("is_available"),
    )


def catalog_items(file: str | None) -> list[dict[str, Any]]:
    """The catalog objects of a JSON file, or of the bundled catalog when `file` is None."""
    if file is None:
        return bundled_catalog()
    try:
        items = json.loads(Path(file).read_text(encoding="utf-8"))
    except OSError as error:
        raise CatalogError(f"Food catalog file {file} cannot be read: {error.strerror}") from None
    except ValueError as error:
        raise CatalogError(f"Food catalog file {file} is not valid JSON: {error}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise CatalogError(f"Food catalog file {file} is not a JSON array of objects")
    return items


def _rows(items: list[dict[str, Any]], source: str) -> list[tuple]:
    try:
        return [_row(item) for item in items]
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise CatalogError(f"Food catalog {source} is not a valid catalog: {error!r}") from None


class FoodCatalogResource(SparkBacked):
    """Reads the food catalog from Postgres when `host` is set, else from `file`, else bundled."""

    host: str | None = Field(default=None, description="POSTGRES_HOST")
    port: int = Field(default=5432, description="POSTGRES_PORT")
    database: str | None = Field(default=None, description="POSTGRES_DB")
    user: str | None = Field(default=None, description="POSTGRES_USER")
    password: str | None = Field(default=None, description="POSTGRES_PASSWORD")
    file: str | None = Field(default=None, description="FLOWGUARD_CATALOG_FILE")

    @property
    def source(self) -> str:
        """Where the catalog comes from, without credentials."""
        if self.host:
            return f"postgres://{self.host}:{self.port}/{self.database or ''}"
        return f"file {self.file}" if self.file else "bundled catalog"

    def connect(self):
        """A psycopg2 connection to the catalog database (a CatalogError names the host)."""
        try:
            return psycopg2.connect(
                host=self.host,
                port=self.port,
                dbname=self.database,
                user=self.user,
                password=self.password,
                connect_timeout=5,
                application_name="flowguard",
            )
        except psycopg2.Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CatalogUnavailable(
                f"Food catalog unreachable: Postgres at {self.host}:{self.port}"
                f" database {self.database!r}: {reason}"
            ) from None

    def fetch_rows(self) -> list[tuple]:
        """All catalog rows as (FOOD_ID, NAME, CATEGORY, PRICE, DESCRIPTION, IS_AVAILABLE)."""
        if self.host:
            return self._postgres_rows()
        return _rows(catalog_items(self.file), self.source)

    def install(self, items: list[dict[str, Any]]) -> int:
        """Create the Postgres `foods` table if absent and upsert `items` (SPEC §2 objects) by
        food_id, in one transaction: running it again changes nothing."""
        fields = ("food_id", "name", "category", "price", "description", "image_url", "is_available", "created_at")
        connection = self.connect()
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute(_CREATE)
                cursor.executemany(_UPSERT, [{f: item.get(f) for f in fields} for item in items])
            return len(items)
        except psycopg2.Error as error:
            raise CatalogError(
                f"Food catalog at Postgres {self.host}:{self.port} database {self.database!r}"
                f" cannot be written: {str(error).strip().splitlines()[0]}"
            ) from None
        finally:
            connection.close()

    def load(self) -> DataFrame:
        """The catalog as a small Spark DataFrame (CATALOG_SCHEMA), meant to be broadcast.

        An empty catalog is an error: every item would be flagged unknown."""
        rows = self.fetch_rows()
        if not rows:
            raise CatalogError(f"Food catalog from {self.source} is empty")
        return self.spark.spark_session.createDataFrame(rows, CATALOG_SCHEMA)

    def _postgres_rows(self) -> list[tuple]:
        connection = self.connect()
        try:
            with connection.cursor() as cursor:
                cursor.execute(_QUERY)
                return [_row(dict(zip(_FIELDS, record))) for record in cursor.fetchall()]
        except psycopg2.Error as error:
            reason = str(error).strip().splitlines()[0]
            raise CatalogError(
                f"Food catalog at Postgres {self.host}:{self.port} database {self.database!r}"
                f" cannot be read: {reason}"
            ) from None
        finally:
            connection.close()
