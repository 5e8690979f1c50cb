"""FLOWGUARD_WAREHOUSE=snowflake through the real snowflake-connector-python, against fakesnow's
server mode (`snowflake_emulator`). Every statement FlowGuard sends runs on the server: CREATE
SCHEMA/TABLE, information_schema, ALTER TABLE, CREATE TEMPORARY STAGE, PUT,
BEGIN/DELETE/COPY INTO/COMMIT/ROLLBACK and SELECT."""

from datetime import date, datetime
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.config import load_settings
from flowguard_assets.generate import generate_landing
from flowguard_assets.resources import build_resources, build_warehouse
from flowguard_assets.resources.snowflake_warehouse import SnowflakeWarehouse, create_table_sql
from flowguard_assets.errors import WarehouseError
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import (
    ALL_TABLES,
    CHECK_RESULTS,
    DAILY_BUYERS,
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    ORDERS_RAW,
    USER_FUNNEL_METRICS,
)
from flowguard_assets_tests.harness import make_defs, read_table, without
from flowguard_assets_tests.snowflake_emulator import snowflake_emulator

ROOT = Path(__file__).resolve().parents[1]
GOLD = (DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE, USER_FUNNEL_METRICS, HOURLY_ORDER_PATTERNS)
START, END = date(2026, 2, 14), date(2026, 2, 15)


@pytest.fixture(scope="module")
def snowflake_env():
    """The emulator, and the SNOWFLAKE_* environment that points FlowGuard at it."""
    with snowflake_emulator("FLOWGUARD") as emulator, pytest.MonkeyPatch.context() as patch:
        for name, value in emulator.env.items():
            patch.setenv(name, value)
        yield emulator


@pytest.fixture(scope="module")
def chain(snowflake_env, tmp_path_factory):
    """The whole chain for two days in Snowflake, and the same days in the local warehouse."""
    root = tmp_path_factory.mktemp("snowflake")
    generate_landing(root / "landing", START, 2, orders_per_day=300, clicks_per_day=1500, seed=12)
    warehouse = build_warehouse(load_settings())
    assert isinstance(warehouse, SnowflakeWarehouse)
    snowflake_run = execute_range(make_defs(root / "landing", warehouse), START, END, None, dg.DagsterInstance.ephemeral())
    assert snowflake_run.success
    local_run = execute_range(make_defs(root / "landing", root / "local"), START, END, None, dg.DagsterInstance.ephemeral())
    assert local_run.success
    return {"root": root, "warehouse": warehouse, "run_id": snowflake_run.run_id, "local_run_id": local_run.run_id}


def snowflake_rows(spark, chain, table, start=START, end=END):
    return [r.asDict() for r in chain["warehouse"].read(table, start, end).collect()]


def test_every_gold_table_equals_the_local_warehouse_run(spark, chain):
    for table in GOLD:
        in_snowflake = without(snowflake_rows(spark, chain, table), "LOAD_TIMESTAMP")
        local = without(read_table(chain["root"] / "local", table), "LOAD_TIMESTAMP")
        assert in_snowflake and in_snowflake == local, table.name


def test_tables_live_in_the_bronze_silver_gold_audit_schemas(snowflake_env, chain):
    tables = snowflake_env.sql("SELECT table_schema, table_name FROM information_schema.tables"
        " WHERE table_schema IN ('BRONZE', 'SILVER', 'GOLD', 'AUDIT')",
    )
    assert {(t.schema.upper(), t.name) for t in ALL_TABLES} <= {(s.upper(), n.upper()) for s, n in tables}


def test_the_quality_history_is_in_snowflake_and_a_run_replaces_only_its_own_rows(spark, snowflake_env, chain):
    from flowguard_assets.quality_history import Verdict, record

    def history(run_id):
        return snowflake_env.sql('SELECT "CHECK_NAME", "ASSET_KEY", "PASSED", "PARTITION_DATE" FROM AUDIT.CHECK_RESULTS WHERE "RUN_ID" = %s', (run_id,))

    stored = history(chain["run_id"])
    local = read_table(chain["root"] / "local", CHECK_RESULTS)
    assert sorted(stored) == sorted((r["CHECK_NAME"], r["ASSET_KEY"], r["PASSED"], r["PARTITION_DATE"]) for r in local)
    assert len(stored) == 2 * 20  # two days; volume and new fields, gates, Gold checks
    gate = dg.AssetCheckKey(dg.AssetKey(["silver", "orders_clean"]), "valid_rate")
    record(chain["warehouse"], "another-run", [Verdict(gate, START, False, {"why": "test"}, observed=0.5)])
    record(chain["warehouse"], "another-run", [Verdict(gate, START, True, {}, observed=0.99)])
    assert history("another-run") == [("valid_rate", "silver/orders_clean", True, START)]
    assert sorted(history(chain["run_id"])) == sorted(stored)


def test_rematerializing_a_partition_replaces_only_that_partition(spark, snowflake_env, chain):
    before = {d: without(snowflake_rows(spark, chain, ORDERS_RAW, d, d)) for d in (START, END)}
    result = execute_range(make_defs(chain["root"] / "landing", chain["warehouse"]), END, END, [ORDERS_RAW.asset_key], dg.DagsterInstance.ephemeral())
    assert result.success
    assert without(snowflake_rows(spark, chain, ORDERS_RAW, START, START)) == before[START]
    after = snowflake_rows(spark, chain, ORDERS_RAW, END, END)
    assert without(after, "INGESTION_TIMESTAMP") == without(before[END], "INGESTION_TIMESTAMP")
    assert {r["INGESTION_TIMESTAMP"] for r in after}.isdisjoint({r["INGESTION_TIMESTAMP"] for r in before[END]})


def test_a_load_that_fails_halfway_leaves_the_old_rows(spark, snowflake_env, chain, monkeypatch):
    before = without(snowflake_rows(spark, chain, DAILY_GMV_METRICS))

    def copy_then_fail(self, cursor, table, stage):
        cursor.execute(f"COPY INTO GOLD.DAILY_GMV_METRICS FROM @{stage} FILE_FORMAT = (TYPE = PARQUET) MATCH_BY_COLUMN_NAME = CASE_INSENSITIVE")
        raise ConnectionError("connection lost in the middle of the load")

    monkeypatch.setattr(SnowflakeWarehouse, "_copy", copy_then_fail)
    result = execute_range(make_defs(chain["root"] / "landing", chain["warehouse"]), START, END, [DAILY_GMV_METRICS.asset_key], dg.DagsterInstance.ephemeral())
    assert not result.success
    assert without(snowflake_rows(spark, chain, DAILY_GMV_METRICS)) == before


def test_a_table_of_an_earlier_release_gains_the_new_column_and_keeps_its_rows(spark, snowflake_env):
    old = DAILY_BUYERS.columns[:1] + DAILY_BUYERS.columns[2:]  # without LOAD_TIMESTAMP
    snowflake_env.sql("CREATE SCHEMA IF NOT EXISTS MIGRATE")
    snowflake_env.sql('CREATE TABLE MIGRATE."DAILY_BUYERS" ("USER_ID" NUMBER(19,0), "PROCESSING_VERSION" VARCHAR, "DATE_PARTITION" DATE)')
    snowflake_env.sql("INSERT INTO MIGRATE.DAILY_BUYERS VALUES (7, '0.9.0', '2026-02-01')")
    table = type(DAILY_BUYERS)("migrate", "DAILY_BUYERS", "DATE_PARTITION", "test", DAILY_BUYERS.columns)
    assert len(old) == len(table.columns) - 1
    warehouse = build_warehouse(load_settings())
    rows = spark.createDataFrame([(8, datetime(2026, 2, 2, 9, 0), "1.0.0", date(2026, 2, 2))], table.spark_schema)
    warehouse.write(table, rows, [date(2026, 2, 2)])
    stored = sorted(tuple(r) for r in snowflake_env.sql("SELECT USER_ID, LOAD_TIMESTAMP, PROCESSING_VERSION, DATE_PARTITION FROM MIGRATE.DAILY_BUYERS"))
    assert stored == [(7, None, "0.9.0", date(2026, 2, 1)), (8, datetime(2026, 2, 2, 9, 0), "1.0.0", date(2026, 2, 2))]


@pytest.mark.parametrize(
    "ddl, problem",
    [
        ('("USER_ID" NUMBER(38,0), "LOAD_TIMESTAMP" TIMESTAMP_NTZ, "PROCESSING_VERSION" VARCHAR, "DATE_PARTITION" DATE)', "column USER_ID would narrow from NUMBER(38,0) to NUMBER(19,0)"),
        ('("USER_ID" NUMBER(19,0), "LOAD_TIMESTAMP" TIMESTAMP_NTZ, "PROCESSING_VERSION" VARCHAR, "DATE_PARTITION" DATE, "REGION" VARCHAR)', "column REGION is no longer in the schema"),
        ('("USER_ID" VARCHAR, "LOAD_TIMESTAMP" TIMESTAMP_NTZ, "PROCESSING_VERSION" VARCHAR, "DATE_PARTITION" DATE)', "column USER_ID is VARCHAR, the schema says NUMBER(19,0)"),
    ],
)
def test_an_incompatible_table_stops_with_a_clear_message_and_keeps_its_data(spark, snowflake_env, ddl, problem):
    snowflake_env.sql("CREATE SCHEMA IF NOT EXISTS CLASH")
    snowflake_env.sql("DROP TABLE IF EXISTS CLASH.DAILY_BUYERS")
    snowflake_env.sql(f'CREATE TABLE CLASH."DAILY_BUYERS" {ddl}')
    table = type(DAILY_BUYERS)("clash", "DAILY_BUYERS", "DATE_PARTITION", "test", DAILY_BUYERS.columns)
    rows = spark.createDataFrame([(8, None, "1.0.0", date(2026, 2, 2))], table.spark_schema)
    with pytest.raises(WarehouseError, match="CLASH.DAILY_BUYERS has an incompatible schema") as error:
        build_warehouse(load_settings()).write(table, rows, [date(2026, 2, 2)])
    assert problem in str(error.value)
    assert snowflake_env.sql("SELECT COUNT(*) FROM CLASH.DAILY_BUYERS") == [(0,)]


def test_ddl_scripts_for_reviewers_match_the_schemas():
    for table in ALL_TABLES:
        script = ROOT / "scripts" / "snowflake" / f"{table.schema}.{table.name.lower()}.sql"
        assert script.read_text() == create_table_sql(table), f"run `flowguard ddl` ({script})"


def test_credentials_come_only_from_the_environment(snowflake_env, monkeypatch):
    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "s3cret-SENTINEL")
    resource = build_resources(load_settings())["warehouse"].snowflake
    assert isinstance(resource.password, dg.EnvVar) and resource.password.env_var_name == "SNOWFLAKE_PASSWORD"
    assert "s3cret-SENTINEL" not in repr(resource)
