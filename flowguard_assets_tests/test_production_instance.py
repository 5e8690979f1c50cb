"""Production mode on the real Postgres server: the catalog in `foods`, Dagster's own storage
(runs, events, check results) from deploy/dagster.production.yaml."""

import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import psycopg2

from flowguard_assets.generate import generate_landing
from flowguard_assets.tables import ORDERS_CLEAN
from flowguard_assets_tests.harness import read_table

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = date(2026, 2, 14)


def flowguard(env, *args):
    return subprocess.run([str(BIN / "flowguard"), *args], env=env, capture_output=True, text=True, timeout=900)


def query(pg, statement):
    with psycopg2.connect(**pg) as connection, connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchall()


def test_a_partition_on_the_postgres_instance_with_the_postgres_catalog(pg_database, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.production.yaml", home / "dagster.yaml")
    generate_landing(tmp_path / "landing", DAY, 1, orders_per_day=300, clicks_per_day=1500, seed=2)
    pg = pg_database
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_HOST": pg["host"],
        "DAGSTER_PG_PORT": str(pg["port"]),
        "DAGSTER_PG_DB": pg["dbname"],
        "DAGSTER_PG_USER": pg["user"],
        "DAGSTER_PG_PASSWORD": "",
        "POSTGRES_HOST": pg["host"],
        "POSTGRES_PORT": str(pg["port"]),
        "POSTGRES_DB": pg["dbname"],
        "POSTGRES_USER": pg["user"],
        "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }

    for _ in range(2):  # loading the catalog twice changes nothing
        loaded = flowguard(env, "load-catalog")
        assert loaded.returncode == 0, loaded.stderr
        assert query(pg, "SELECT count(*), count(DISTINCT food_id) FROM foods") == [(48, 48)]
    query(pg, "UPDATE foods SET name = 'Postgres ' || name RETURNING food_id")

    ran = flowguard(env, "run", "--start", DAY.isoformat())
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]

    assert query(pg, "SELECT status FROM runs") == [("SUCCESS",)]
    materialized = query(
        pg,
        "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
        " AND partition = '2026-02-14'",
    )
    assert materialized == [(8,)]
    checks = query(
        pg,
        "SELECT asset_key, check_name, execution_status FROM asset_check_executions"
        " WHERE partition = '2026-02-14' ORDER BY 1, 2",
    )
    assert ('["silver", "orders_clean"]', "valid_rate", "SUCCEEDED") in checks
    # Volume and new fields per Bronze table, two gates per Silver table, three checks per Gold table.
    assert len(checks) == 2 * 2 + 2 * 2 + 4 * 3
    names = {r["ENRICHED_ITEM_NAME"] for r in read_table(tmp_path / "warehouse", ORDERS_CLEAN) if r["IS_VALID"]}
    assert names and all(name.startswith("Postgres ") for name in names)
