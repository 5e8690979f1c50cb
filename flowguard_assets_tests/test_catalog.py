"""The food catalog of SPEC §2: bundled file, JSON file, real PostgreSQL, and clear errors."""

import json
from decimal import Decimal

import psycopg2
import pytest

from flowguard_assets.cli import main
from flowguard_assets.config import load_settings
from flowguard_assets.resources import build_resources
from flowguard_assets.errors import CatalogError
from flowguard_assets.resources.catalog import CATALOG_SCHEMA, FoodCatalogResource

SECRET = "s3cret-SENTINEL"

FOODS = [
    (1, "Margherita", "Pizza", Decimal("11.50"), "Tomato and basil", True),
    (2, "Ramen", "Noodles", Decimal("14.05"), None, False),
    (3, "Tiramisu", "Dessert", Decimal("6.00"), "Mascarpone", True),
]


def postgres_catalog(db: dict, **overrides) -> FoodCatalogResource:
    settings = {
        "host": db["host"],
        "port": db["port"],
        "database": db["dbname"],
        "user": db["user"],
        "password": SECRET,
        **overrides,
    }
    return FoodCatalogResource(**settings)


def create_foods(db: dict, rows: list[tuple]) -> None:
    """SPEC §2's `foods` table, filled with `rows` (the catalog's six fields)."""
    with psycopg2.connect(**db) as connection, connection.cursor() as cursor:
        cursor.execute(
            """CREATE TABLE foods (
                   food_id integer PRIMARY KEY, name text, category text, price numeric(10,2),
                   description text, image_url text, is_available boolean, created_at timestamp)"""
        )
        for row in rows:
            cursor.execute(
                "INSERT INTO foods VALUES (%s, %s, %s, %s, %s, %s, %s, now())",
                (*row[:5], f"https://img.example/{row[0]}.jpg", row[5]),
            )
    connection.close()


def assert_catalog_error(raised: pytest.ExceptionInfo, *named: str) -> None:
    message = str(raised.value)
    for text in named:
        assert text in message
    assert SECRET not in message


def test_bundled_catalog():
    catalog = FoodCatalogResource()
    rows = catalog.fetch_rows()

    assert catalog.source == "bundled catalog"
    assert len(rows) >= 40
    ids = [row[0] for row in rows]
    assert len(set(ids)) == len(ids) and all(isinstance(i, int) and i > 0 for i in ids)
    prices = [row[3] for row in rows]
    assert all(isinstance(p, Decimal) and p.as_tuple().exponent == -2 and p > 0 for p in prices)
    assert all(row[1] and row[2] for row in rows)  # every food has a name and a category


def test_json_file_catalog(spark, tmp_path):
    path = tmp_path / "foods.json"
    items = [
        {"food_id": 7, "name": "Pho", "category": "Soup", "price": 9.5, "description": "Beef",
         "image_url": "x", "is_available": True, "created_at": "2026-01-01T00:00:00"},
        {"food_id": "8", "name": "Bao", "category": "Snack", "price": "4.1",
         "is_available": False},
    ]
    path.write_text(json.dumps(items), encoding="utf-8")
    catalog = FoodCatalogResource(file=str(path))

    assert catalog.fetch_rows() == [
        (7, "Pho", "Soup", Decimal("9.50"), "Beef", True),
        (8, "Bao", "Snack", Decimal("4.10"), None, False),
    ]
    df = catalog.load()
    assert df.schema == CATALOG_SCHEMA
    assert [row.FOOD_ID for row in df.orderBy("FOOD_ID").collect()] == [7, 8]
    assert str(path) in catalog.source


def test_json_file_and_postgres_round_a_third_decimal_alike(pg_database, tmp_path):
    """KNOWN BUG (left failing): Postgres stores 4.125 in numeric(10,2) as 4.13 (half away from
    zero, SPEC's "rounded"); the JSON-file catalog quantizes half-even and gets 4.12."""
    foods = [(i, "A", "X", Decimal(p), None, True) for i, p in ((1, "4.125"), (2, "0.005"))]
    create_foods(pg_database, foods)
    path = tmp_path / "foods.json"
    path.write_text(json.dumps([{"food_id": 1, "price": "4.125"}, {"food_id": 2, "price": 0.005}]))

    from_postgres = [row[3] for row in sorted(postgres_catalog(pg_database).fetch_rows())]
    from_file = [row[3] for row in FoodCatalogResource(file=str(path)).fetch_rows()]

    assert from_postgres == [Decimal("4.13"), Decimal("0.01")]
    assert from_file == from_postgres


@pytest.mark.parametrize(
    "content", [None, "{not json", '{"food_id": 1}', '[{"name": "no id"}]'],
    ids=["missing", "invalid-json", "not-an-array", "no-food-id"],
)
def test_unreadable_file_raises_catalog_error_naming_the_file(spark, tmp_path, content):
    path = tmp_path / "catalog.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    catalog = FoodCatalogResource(file=str(path))

    for read in (catalog.fetch_rows, lambda: catalog.load()):
        with pytest.raises(CatalogError) as raised:
            read()
        assert_catalog_error(raised, str(path))


def test_empty_catalog_raises_in_load(spark, tmp_path):
    path = tmp_path / "empty.json"
    path.write_text("[]", encoding="utf-8")
    catalog = FoodCatalogResource(file=str(path))

    assert catalog.fetch_rows() == []
    with pytest.raises(CatalogError, match="empty") as raised:
        catalog.load()
    assert_catalog_error(raised, str(path))


def test_postgres_catalog(spark, pg_database):
    create_foods(pg_database, FOODS)
    catalog = postgres_catalog(pg_database)

    assert sorted(catalog.fetch_rows()) == FOODS
    df = catalog.load()
    assert df.schema == CATALOG_SCHEMA
    assert sorted(tuple(row) for row in df.collect()) == FOODS


def test_empty_postgres_catalog_raises_in_load(spark, pg_database):
    create_foods(pg_database, [])
    catalog = postgres_catalog(pg_database)

    with pytest.raises(CatalogError, match="empty") as raised:
        catalog.load()
    assert_catalog_error(raised, pg_database["host"], str(pg_database["port"]))


def test_database_without_foods_table_raises(pg_database):
    catalog = postgres_catalog(pg_database)

    with pytest.raises(CatalogError, match="foods") as raised:
        catalog.fetch_rows()
    db = pg_database
    assert_catalog_error(raised, db["host"], str(db["port"]), db["dbname"])


@pytest.mark.parametrize(
    "overrides",
    [{"port": 1}, {"database": "flowguard_no_such_database"}],
    ids=["closed-port", "missing-database"],
)
def test_unreachable_postgres_raises_catalog_error_without_password(spark, pg_database, overrides):
    catalog = postgres_catalog(pg_database, **overrides)

    for read in (catalog.fetch_rows, lambda: catalog.load()):
        with pytest.raises(CatalogError) as raised:
            read()
        assert_catalog_error(raised, catalog.host, f"{catalog.host}:{catalog.port}")
        assert raised.value.__cause__ is None


def test_source_never_contains_the_password(pg_database, tmp_path):
    catalogs = [
        postgres_catalog(pg_database),
        FoodCatalogResource(host="db.internal", user="flowguard", password=SECRET),
        FoodCatalogResource(file=str(tmp_path / "foods.json"), password=SECRET),
    ]

    assert catalogs[0].source == (
        f"postgres://{pg_database['host']}:{pg_database['port']}/{pg_database['dbname']}"
    )
    assert all(SECRET not in catalog.source for catalog in catalogs)


GATEWAY_FOODS = [
    {"food_id": 1, "name": "Chicken Biryani", "category": "Biryani", "price": 299,
     "description": "Hyderabadi dum biryani", "image_url": "https://img.example/1.jpg",
     "is_available": True},
    {"food_id": 2, "name": "Paneer Tikka", "category": "Starters", "price": 249,
     "description": "Char-grilled cottage cheese", "image_url": "https://img.example/2.jpg",
     "is_available": False},
]
GATEWAY_ROWS = [
    (1, "Chicken Biryani", "Biryani", Decimal("299.00"), "Hyderabadi dum biryani", True),
    (2, "Paneer Tikka", "Starters", Decimal("249.00"), "Char-grilled cottage cheese", False),
]


def test_the_gateway_food_items_file_is_a_catalog_file(spark, tmp_path, monkeypatch):
    path = tmp_path / "food_items.json"
    path.write_text(json.dumps(GATEWAY_FOODS, indent=2), encoding="utf-8")
    monkeypatch.delenv("POSTGRES_HOST", raising=False)
    monkeypatch.setenv("FLOWGUARD_CATALOG_FILE", str(path))
    catalog = build_resources(load_settings())["catalog"]

    assert catalog.fetch_rows() == GATEWAY_ROWS
    assert sorted(tuple(row) for row in catalog.load().collect()) == GATEWAY_ROWS


def test_load_catalog_installs_the_gateway_file_into_postgres(pg_database, tmp_path, monkeypatch, capsys):
    path = tmp_path / "food_items.json"
    path.write_text(json.dumps(GATEWAY_FOODS), encoding="utf-8")
    db = pg_database
    for name, value in [("POSTGRES_HOST", db["host"]), ("POSTGRES_PORT", str(db["port"])),
                        ("POSTGRES_DB", db["dbname"]), ("POSTGRES_USER", db["user"])]:
        monkeypatch.setenv(name, value)

    assert main(["load-catalog", "--file", str(path)]) == 0
    assert main(["load-catalog", "--file", str(path)]) == 0  # idempotent
    assert "Loaded 2 dishes" in capsys.readouterr().out
    with psycopg2.connect(**db) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT food_id, price, image_url, created_at FROM foods ORDER BY food_id")
        stored = cursor.fetchall()
    connection.close()
    assert stored == [(1, Decimal("299.00"), "https://img.example/1.jpg", None),
                      (2, Decimal("249.00"), "https://img.example/2.jpg", None)]
    assert sorted(postgres_catalog(db, password=None).fetch_rows()) == GATEWAY_ROWS
