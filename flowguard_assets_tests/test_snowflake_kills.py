"""The kill harness on the Snowflake path: `flowguard run` of 3 days writing to Snowflake (the
emulator, through the real connector) killed at random moments, and at chosen statements inside
the load's transaction (after BEGIN, DELETE, COPY INTO or COMMIT ran on the server, before the
client saw the answer). After each kill every partition of every table is exactly the old
content; the next run makes every table equal to an unkilled run's.

Snowflake leaves the transaction of a client that died open ("detached") and rolls it back once
it blocks another transaction, or after 4 hours; the emulator keeps it forever, so after each
kill the harness ends the dead client's sessions, as Snowflake ends them (docs/decisions.md)."""

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest
from fakesnow.cursor import FakeSnowflakeCursor

from flowguard_assets.generate import generate_landing
from flowguard_assets.tables import Table
from flowguard_assets_tests.dagster_services import wait_for
from flowguard_assets_tests.harness import snapshot_of
from flowguard_assets_tests.snowflake_emulator import fakesnow_server, snowflake_emulator

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
START = date(2026, 2, 14)
DAYS = [START + timedelta(days=i) for i in range(3)]
TRIALS = int(os.environ.get("FLOWGUARD_SNOWFLAKE_KILL_TRIALS", "3"))
TRANSACTION = re.compile(r"\s*(BEGIN|DELETE|COPY INTO|COMMIT|ROLLBACK)\b", re.IGNORECASE)


class Killer:
    """Watches the emulator's statements; kills the run's process group right after the n-th
    statement of a load transaction ran on the server."""

    def __init__(self, harness_session):
        self.harness_session = harness_session
        self.lock = threading.Lock()
        self.in_transaction: set[int] = set()
        self.seen = 0  # transaction statements of the current run
        self.target: tuple[int, int] | None = None  # (statement number, process group)
        self.killed_at: str | None = None
        self.busy = 0

    def arm(self, number: int | None, group: int | None) -> None:
        with self.lock:
            self.seen, self.killed_at = 0, None
            self.target = (number, group) if number else None

    def execute(self, cursor, original, command, *args, **kwargs):
        if cursor._conn is self.harness_session:  # noqa: SLF001 (the emulator's connection)
            return original(cursor, command, *args, **kwargs)
        with self.lock:
            self.busy += 1
        try:
            result = original(cursor, command, *args, **kwargs)
        finally:
            with self.lock:
                self.busy -= 1
        match = TRANSACTION.match(command)
        session = id(cursor._conn)  # noqa: SLF001
        with self.lock:
            if match and (match[1].upper() == "BEGIN" or session in self.in_transaction):
                self.in_transaction.add(session)
                if match[1].upper() in ("COMMIT", "ROLLBACK"):
                    self.in_transaction.discard(session)
                self.seen += 1
                if self.target and self.seen == self.target[0]:
                    self.killed_at = command.strip()[:60]
                    os.killpg(self.target[1], signal.SIGKILL)
                    self.target = None
        return result

    def end_dead_sessions(self) -> int:
        """Ends every session but the harness's own (the run is dead): closing one rolls its
        open transaction back. Waits until the server has no statement of the run in flight."""
        wait_for(lambda: self.busy == 0, 60, "the emulator to finish the dead client's statement", every=0.2)
        ended = 0
        for token, session in list(fakesnow_server.sessions.items()):
            if session is not self.harness_session:
                fakesnow_server.sessions.pop(token).close()
                ended += 1
        self.in_transaction.clear()
        return ended


@pytest.fixture
def emulator(monkeypatch):
    with snowflake_emulator("KILLS") as started:
        token = started.connection.rest.token
        killer = Killer(fakesnow_server.sessions[token])
        original = FakeSnowflakeCursor.execute
        monkeypatch.setattr(FakeSnowflakeCursor, "execute", lambda cursor, *a, **k: killer.execute(cursor, original, *a, **k))
        yield started, killer


def rows_of(emulator):
    def read(table: Table) -> list[dict]:
        cursor = emulator.connection.cursor()
        cursor.execute(f'SELECT * FROM "{table.schema.upper()}"."{table.name}"')
        names = [c.name.upper() for c in cursor.description]
        return [dict(zip(names, row)) for row in cursor.fetchall()]

    return read


def test_runs_killed_on_the_snowflake_path_leave_every_partition_old_or_new(emulator, tmp_path):
    started, killer = emulator
    generate_landing(tmp_path / "landing", START, 3, orders_per_day=150, clicks_per_day=600, seed=23)
    env = {**os.environ, **started.env, "DAGSTER_HOME": str(tmp_path / "home"), "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing")}

    def run(wait=True) -> subprocess.Popen:
        command = [str(BIN / "flowguard"), "run", "--start", DAYS[0].isoformat(), "--end", DAYS[-1].isoformat()]
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=(tmp_path / "run.err").open("w"), start_new_session=True)
        if wait:
            assert process.wait(timeout=900) == 0, (tmp_path / "run.err").read_text()[-3000:]
        return process

    killer.arm(None, None)
    began = time.monotonic()
    run()  # the unkilled run: what every partition holds before each kill, and after the rerun
    duration, statements = time.monotonic() - began, killer.seen
    unkilled = snapshot_of(rows_of(started), DAYS)
    assert statements and all(rows and len(stamps) == 1 for rows, stamps in unkilled.values())

    rng = random.Random(int(os.environ.get("FLOWGUARD_KILL_SEED", "7")))
    moments = []
    for trial in range(TRIALS):
        inside = trial % 2 == 0  # every other kill lands inside a load transaction
        process = run(wait=False)
        killer.arm(rng.randint(1, statements) if inside else None, process.pid)
        if not inside:
            time.sleep(rng.uniform(1, duration))
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=900)
        moments.append(killer.killed_at or "random moment")
        killer.end_dead_sessions()
        for key, (rows, stamps) in snapshot_of(rows_of(started), DAYS).items():
            assert rows == unkilled[key][0], (trial, moments[-1], key)
            assert len(stamps) == 1, (trial, moments[-1], key)
    print(f"{TRIALS} kills on the Snowflake path: {moments}")

    killer.arm(None, None)
    run()  # the next run repairs: every table equals the unkilled run, one write per partition
    for key, (rows, stamps) in snapshot_of(rows_of(started), DAYS).items():
        assert rows == unkilled[key][0] and len(stamps) == 1, key
