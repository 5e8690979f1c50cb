"""Shared fixtures: one real Spark session, a real Postgres database, landing-zone builders."""

import os
import signal
import uuid
from pathlib import Path

import psycopg2
import pytest

from flowguard_assets.resources.spark import SparkResource

PG = {
    "host": os.environ.get("FLOWGUARD_TEST_PG_HOST", "127.0.0.1"),
    "port": int(os.environ.get("FLOWGUARD_TEST_PG_PORT", "5432")),
    "user": os.environ.get("FLOWGUARD_TEST_PG_USER", "postgres"),
}


def pytest_configure(config):
    """CI may start the suite as a background job, which ignores SIGINT. After each in-process
    run Dagster gives SIGTERM whatever SIGINT has, so every process the tests start afterwards
    would ignore SIGTERM, and Dagster's log tails and servers could not be stopped. Restore the
    usual handlers."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session")
def spark():
    """The one local Spark session of the test process (as a run shares one)."""
    return SparkResource.on("local[2]").spark_session


@pytest.fixture
def pg_database():
    """A fresh database on the real PostgreSQL server, dropped afterwards."""
    name = f"flowguard_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=5, **PG)
    except psycopg2.OperationalError as error:
        pytest.fail(f"These tests need PostgreSQL at {PG['host']}:{PG['port']}: {error}")
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**PG, "dbname": name}
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    return {"landing": tmp_path / "landing", "warehouse": tmp_path / "warehouse"}
