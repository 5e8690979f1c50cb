"""A local Snowflake for tests: fakesnow's server mode, reached over HTTP by the real
snowflake-connector-python through SNOWFLAKE_HOST/PORT/PROTOCOL.

One emulator bug is patched: fakesnow 0.12's server turns NULL timestamps into 1970-01-01 in its
Arrow results (`fakesnow.arrow.timestamp_to_sf_struct` drops the null mask); the patch keeps the
mask, as Snowflake does. The server runs in the test process, so the patch reaches it.

`fakesnow.server` is both a function and a module; the function is taken before the module is
imported, so every test process can start more than one emulator."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import fakesnow

start_server = fakesnow.server  # importing the fakesnow.server module rebinds that name to the module
import fakesnow.arrow  # noqa: E402
import fakesnow.server as fakesnow_server  # noqa: E402, F401 (its sessions, for tests that end them)
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import snowflake.connector

_original = fakesnow.arrow.timestamp_to_sf_struct


def _timestamps_keep_nulls(ts):
    struct = _original(ts)
    ts = ts.combine_chunks() if isinstance(ts, pa.ChunkedArray) else ts
    return pa.StructArray.from_arrays(struct.flatten(), fields=list(struct.type), mask=pc.is_null(ts))


@dataclass
class Emulator:
    env: dict[str, str]  # the SNOWFLAKE_* settings that point FlowGuard at it
    connection: snowflake.connector.SnowflakeConnection  # the test's own session

    def sql(self, statement: str, params=None) -> list[tuple]:
        cursor = self.connection.cursor()
        cursor.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


@contextmanager
def snowflake_emulator(database: str) -> Iterator[Emulator]:
    """A fakesnow server with `database` created (the server's databases live as long as the
    test process: give each module its own)."""
    patch = pytest.MonkeyPatch()
    patch.setattr(fakesnow.arrow, "timestamp_to_sf_struct", _timestamps_keep_nulls)
    try:
        with start_server() as server:
            for name in ("uvicorn.access", "uvicorn.error"):  # a line per request otherwise
                logging.getLogger(name).setLevel(logging.WARNING)
            env = {
                "FLOWGUARD_WAREHOUSE": "snowflake",
                "SNOWFLAKE_ACCOUNT": server["account"],
                "SNOWFLAKE_USER": server["user"],
                "SNOWFLAKE_PASSWORD": server["password"],
                "SNOWFLAKE_DATABASE": database,
                "SNOWFLAKE_HOST": server["host"],
                "SNOWFLAKE_PORT": str(server["port"]),
                "SNOWFLAKE_PROTOCOL": server["protocol"],
            }
            connection = snowflake.connector.connect(**{**server, "network_timeout": 30})
            connection.cursor().execute(f'CREATE DATABASE IF NOT EXISTS "{database}"')
            connection.cursor().execute(f'USE DATABASE "{database}"')
            try:
                yield Emulator(env, connection)
            finally:
                connection.close()
    finally:
        patch.undo()
