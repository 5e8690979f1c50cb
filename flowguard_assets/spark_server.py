"""FlowGuard's warm Spark: one Spark Connect server for the platform that runs all day.

`flowguard spark start|stop|status` (and `flowguard ui`, around `dagster dev`) run Spark's own
server, `SparkConnectServer` from the pyspark package, through `spark-submit`. What a running
server is (URL, pid, log, UI) is written to `$DAGSTER_HOME/spark/server.json`, so each Dagster
instance has its one server, and the runs of that instance find it.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

import pyspark

from flowguard_assets.errors import FlowGuardError

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"
_READY_SECONDS = 180
_STOP_SECONDS = 30
_UI_LINE = re.compile(r"started service 'SparkUI' on port (\d+)")


class SparkServerError(FlowGuardError):
    """The server cannot be started, or did not come up; names its URL and log."""


@dataclass(frozen=True)
class Server:
    url: str  # sc://127.0.0.1:PORT
    pid: int
    log: str
    started_at: float  # seconds since the epoch
    ui_url: str | None = None

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def state_dir() -> Path:
    """Where the server of this instance keeps its state and log: `$DAGSTER_HOME/spark`."""
    return Path(os.environ.get("DAGSTER_HOME") or ".dagster").absolute() / "spark"


def _state_file() -> Path:
    return state_dir() / "server.json"


def _alive(pid: int) -> bool:
    """`pid` is a live Spark Connect server (not a finished one whose pid was reused)."""
    try:
        return SERVER_CLASS.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def _accepts(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def running() -> Server | None:
    """This instance's server, when its process is alive and it accepts connections."""
    try:
        server = Server(**json.loads(_state_file().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    return server if _alive(server.pid) and _accepts(server.port) else None


def start(port: int, master: str, driver_memory: str) -> tuple[Server, bool]:
    """This instance's server, started unless one is up (then `False`): on `master`, bound to
    127.0.0.1:`port`, its Python workers on this interpreter. Returns once it runs a query."""
    if server := running():
        return server, False
    if _accepts(port):
        raise SparkServerError(f"port {port} on 127.0.0.1 is already taken: choose another with --port")
    folder = state_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "connect-server.log"
    command = [str(Path(pyspark.__file__).parent / "bin" / "spark-submit"), "--class", SERVER_CLASS]
    command += ["--name", "FlowGuard Spark Connect server", "--master", master, "--driver-memory", driver_memory]
    from flowguard_assets.resources.spark import server_config  # here: every `flowguard` command imports this module

    for key, value in server_config(port, master).items():
        command += ["--conf", f"{key}={value}"]
    env = {**os.environ, "PYSPARK_PYTHON": os.environ.get("PYSPARK_PYTHON", sys.executable)}
    if master.startswith("local"):
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    with log.open("ab") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True
        )
    server = Server(f"sc://127.0.0.1:{port}", process.pid, str(log), time.time())
    _wait_ready(server, process)
    server = Server(**{**asdict(server), "ui_url": _ui_url(log)})
    _state_file().write_text(json.dumps(asdict(server)))
    return server, True


def _wait_ready(server: Server, process: subprocess.Popen) -> None:
    """Wait until the server runs a query through a session of its own."""
    from pyspark.sql import SparkSession

    deadline = time.monotonic() + _READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SparkServerError(f"the Spark Connect server exited with {process.returncode}; see {server.log}")
        if _accepts(server.port):
            session = SparkSession.builder.remote(server.url).create()
            try:
                session.range(1).count()
                return
            finally:
                session.stop()
        time.sleep(0.5)
    _terminate(process.pid)
    raise SparkServerError(f"the Spark Connect server at {server.url} did not come up in {_READY_SECONDS} s; see {server.log}")


def _ui_url(log: Path) -> str | None:
    found = _UI_LINE.search(log.read_text(errors="replace"))
    return f"http://127.0.0.1:{found.group(1)}" if found else None


def stop() -> Server | None:
    """Stop this instance's server (None: none was running)."""
    server = running()
    if server:
        _terminate(server.pid)
    _state_file().unlink(missing_ok=True)
    return server


def _terminate(pid: int) -> None:
    """SIGTERM, then SIGKILL after `_STOP_SECONDS`; returns once the process is gone."""
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + _STOP_SECONDS
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.2)


def heap_used(server: Server) -> int | None:
    """Bytes of the server's JVM heap in use (Spark's JVM metrics), None when not available."""
    if not server.ui_url:
        return None
    try:
        with urllib.request.urlopen(f"{server.ui_url}/metrics/json/", timeout=5) as response:
            gauges = json.load(response)["gauges"]
    except (OSError, ValueError, KeyError):
        return None
    return next((int(g["value"]) for name, g in gauges.items() if name.endswith(".jvm.heap.used")), None)
