"""Secrets never leak, the UI binds to loopback, SQL quotes and binds, file names stay data."""

import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg

from flowguard_assets.generate import generate_landing
from flowguard_assets.resources.snowflake_warehouse import create_table_sql, migration_plan, quote
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.tables import DAILY_BUYERS, ORDERS_RAW, Column, Table
from flowguard_assets_tests.harness import ORDERS, envelope, make_defs, read_table, write_landing

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DAY = date(2026, 2, 14)
SENTINELS = {
    "POSTGRES_PASSWORD": "pg-SENTINEL-7f3a",
    "SNOWFLAKE_PASSWORD": "sf-SENTINEL-91c2",
    "SNOWFLAKE_PRIVATE_KEY_PASSWORD": "key-SENTINEL-0b5d",
    "FLOWGUARD_ALERT_WEBHOOK_URL": "http://127.0.0.1:9/hooks/hook-SENTINEL-44aa",
}


def files_containing(folder: Path, needles: list[str]) -> list[str]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {n}" for n in needles if n.encode() in data]
    return hits


def test_secrets_never_reach_logs_metadata_or_errors(tmp_path, pg_database):
    generate_landing(tmp_path / "landing", DAY, 1, orders_per_day=100, clicks_per_day=400, seed=5)
    home = tmp_path / "home"
    home.mkdir()
    env = {
        **os.environ,
        **SENTINELS,
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
        "POSTGRES_HOST": pg_database["host"],
        "POSTGRES_PORT": str(pg_database["port"]),
        "POSTGRES_DB": pg_database["dbname"],
        "POSTGRES_USER": pg_database["user"],
    }
    outputs = []
    for args in (["load-catalog"], ["run", "--start", DAY.isoformat()], ["doctor"], ["status"]):
        done = subprocess.run([str(BIN / "flowguard"), *args], env=env, capture_output=True, text=True, timeout=900)
        outputs.append(done.stdout + done.stderr)
    # A failing run (catalog unreachable) puts its error in the event log too.
    unreachable = {**env, "POSTGRES_PORT": "1"}
    failed = subprocess.run([str(BIN / "flowguard"), "run", "--start", DAY.isoformat()], env=unreachable, capture_output=True, text=True, timeout=900)
    assert failed.returncode == 1 and "Food catalog unreachable: Postgres at 127.0.0.1:1" in failed.stdout
    outputs.append(failed.stdout + failed.stderr)

    secrets = list(SENTINELS.values()) + ["hook-SENTINEL-44aa"]
    assert not [s for s in secrets if any(s in out for out in outputs)]
    assert files_containing(home, secrets) == []  # runs, event logs, metadata, compute logs
    assert files_containing(tmp_path / "warehouse", secrets) == []


def test_every_example_binds_the_webserver_to_loopback():
    texts = {p: p.read_text() for p in [ROOT / "README.md", ROOT / "Makefile", *ROOT.glob("flowguard_assets_tests/*.py")]}
    launches = [
        (path.name, line)
        for path, text in texts.items()
        for line in text.splitlines()
        if re.search(r"dagster(-webserver| dev)\b", line) and not line.lstrip().startswith("#")
        and ("-p" in line or "--port" in line)
    ]
    assert launches
    assert all("127.0.0.1" in line for _, line in launches), launches


def test_sql_identifiers_are_quoted_and_values_bound():
    assert quote('BRONZE"; DROP TABLE X; --') == '"BRONZE""; DROP TABLE X; --"'
    hostile = Table("gold", 'T"1', "DATE", "it's", (Column("DATE", DAILY_BUYERS.columns[-1].type, "a 'quoted' day"),))
    ddl = create_table_sql(hostile)
    assert '"GOLD"."T""1"' in ddl and "COMMENT 'a ''quoted'' day'" in ddl and "COMMENT = 'it''s'" in ddl
    assert migration_plan(hostile, {}) == ['ADD COLUMN "DATE" DATE']
    source = (ROOT / "flowguard_assets" / "resources" / "snowflake_warehouse.py").read_text()
    # Values (partition dates, schema and table names in queries) go as parameters, never pasted.
    assert "WHERE table_schema = %s AND table_name = %s" in source
    assert "BETWEEN %s AND %s" in source and "IN ({placeholders})" in source


def test_a_landing_file_name_cannot_make_a_write_escape_the_warehouse(tmp_path):
    landing, warehouse = tmp_path / "landing", tmp_path / "warehouse"
    hostile = "x..%2F..%2Fescape';DROP TABLE x;--$(touch pwned).jsonl"
    write_landing(landing, ORDERS, DAY, hostile, [envelope({"event_id": "e"})])
    write_landing(landing, "raw.clicks.v1", DAY, "c.jsonl", [envelope({"event_id": "c"}, topic="raw.clicks.v1")])
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(warehouse)}
    assert execute_range(make_defs(landing, warehouse), DAY, DAY, [ORDERS_RAW.asset_key], dg.DagsterInstance.ephemeral()).success
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(warehouse)} == before
    assert [r["SOURCE_FILE"] for r in read_table(warehouse, ORDERS_RAW)] == [hostile]
    assert not list(Path.cwd().glob("pwned"))
