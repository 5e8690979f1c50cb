"""`flowguard spark start|stop|status`: the instance's warm Spark Connect server."""

import argparse
import os
import time

from flowguard_assets import spark_server
from flowguard_assets.config import load_settings


def start(port: int | None = None) -> tuple[spark_server.Server, bool]:
    """The server, started on SPARK_MASTER (default `local[*]`) unless it is up, on `port`
    (default FLOWGUARD_SPARK_PORT, else Spark Connect's 15002); prints it."""
    from flowguard_assets.resources.spark import driver_memory  # here: the resources take a second to import

    settings = load_settings()
    server, started = spark_server.start(port or settings.spark_port, settings.spark_master, driver_memory())
    state = "started" if started else "already running"
    print(f"Spark Connect server {state}: {server.url} (pid {server.pid}, log {server.log})", flush=True)
    return server, started


def _describe(server: spark_server.Server) -> str:
    uptime = int(time.time() - server.started_at)
    heap = spark_server.heap_used(server)
    heap_text = f", heap in use {heap / 2**20:,.0f} MiB" if heap is not None else ""
    hours, rest = divmod(uptime, 3600)
    return f"up: {server.url}, pid {server.pid}, uptime {hours}h{rest // 60:02d}m{rest % 60:02d}s{heap_text}"


def cmd_spark(args: argparse.Namespace) -> int:
    if args.action == "start":
        start(args.port)
        return 0
    if args.action == "stop":
        server = spark_server.stop()
        print(f"Spark Connect server {server.url} stopped" if server else "No Spark Connect server was running")
        return 0
    server = spark_server.running()
    print(f"Spark Connect server {_describe(server)}" if server else "Spark Connect server: not running")
    return 0 if server else 1


def warm_remote() -> str | None:
    """The URL `flowguard run` uses: FlowGuard's own server when it is up and neither
    SPARK_REMOTE nor SPARK_MASTER names another Spark."""
    if os.environ.get("SPARK_REMOTE") or os.environ.get("SPARK_MASTER"):
        return None
    server = spark_server.running()
    return server.url if server else None


def port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"not a TCP port number (1-65535): {text!r}")
    return int(text)


def add_parser(commands: argparse._SubParsersAction) -> None:
    spark = commands.add_parser("spark", help="the warm Spark Connect server of DAGSTER_HOME's instance")
    spark.add_argument("action", choices=("start", "stop", "status"))
    spark.add_argument("--port", type=port, help="gRPC port (default FLOWGUARD_SPARK_PORT, else 15002)")
    spark.set_defaults(handler=cmd_spark)
