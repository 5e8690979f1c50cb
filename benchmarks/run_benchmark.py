"""FlowGuard end-to-end benchmark: the whole Bronze -> Gold chain with checks, through Dagster,
cold and warm, side by side with the DuckDB reference (`../shared/bench/duckdb_reference.py`, the
SPEC in plain DuckDB SQL) on the same landing zone, in one invocation.

    .venv/bin/python benchmarks/run_benchmark.py --scenario one-day --repeat 3   # cold, warm / DuckDB
    .venv/bin/python benchmarks/run_benchmark.py --scenario one-day --scale 0.1  # a quick look
    .venv/bin/python benchmarks/run_benchmark.py --scenario fixed-cost           # ~1,000 events, also via the CLI
    .venv/bin/python benchmarks/run_benchmark.py --scenario one-day --soak 20    # 20 warm runs: the server's heap

Each measured run is a fresh process, as a scheduled run is, so start-up is counted. Cold: the run
starts a local Spark session. Warm: the benchmark starts FlowGuard's Spark Connect server with
`flowguard spark start`, makes one warm-up run, then times the runs on it. Prints per run: wall
time, events per second, where FlowGuard's time goes (code location load, Spark start, each step,
orchestration between steps), the Spark jobs the run ran, and the peak memory of the Spark driver
(JVM) and of the Python process; then the median of the repeats, the ratios, and a bare start (a
fresh Python process that starts a local Spark session and counts one row) to compare with.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

START = date(2026, 2, 1)
# name -> (days, clicks per day, orders per day, copies); an order has 1.5 lines on average.
# The generator holds a whole range in memory, so the largest day is one generated day written
# again as other Kafka partitions (see `replicate`).
SCENARIOS = {
    "one-day": (1, 1_000_000, 100_000, 1),
    "thirty-days": (30, 16_000, 2_000, 1),
    "same-size-day": (1, 16_000, 2_000, 1),  # one of the thirty days, alone
    "ten-million": (1, 1_000_000, 100_000, 9),
    "fixed-cost": (1, 850, 100, 1),  # about 1,000 events, also run as a user types it (`cli`)
}
_CLI_SCENARIOS = {"fixed-cost"}
_COPIED_IDS = ("event_id", "order_id", "session_id")


def _copy_line(line: bytes, copy: int) -> bytes:
    """A landing line as Kafka partition `partition + 3 * copy`, with ids of its own; lines that
    are not envelopes stay as they are."""
    try:
        envelope = json.loads(line)
        envelope["partition"] += 3 * copy
        value = envelope["value"]
        event = json.loads(value) if isinstance(value, str) else value
        for key in _COPIED_IDS:
            if isinstance(event.get(key), str) and event[key].strip():
                event[key] += f"-copy{copy}"
        envelope["value"] = json.dumps(event) if isinstance(value, str) else event
    except (ValueError, TypeError, KeyError, AttributeError):
        return line
    return json.dumps(envelope).encode() + b"\n"


def replicate(landing: Path, copies: int) -> int:
    """Add `copies - 1` copies of every finished landing file, streamed line by line; returns
    the number of lines written. Duplicates and anomalies stay what they were within each copy."""
    written = 0
    for path in sorted(landing.glob("*/dt=*/*.jsonl*")):
        if path.name.startswith(("_", ".")):
            continue
        opener = gzip.open if path.name.endswith(".gz") else open
        for copy in range(1, copies):
            with opener(path, "rb") as source, opener(path.with_name(f"copy{copy}-{path.name}"), "wb") as target:
                for line in source:
                    target.write(_copy_line(line, copy) if line.strip() else line)
                    written += bool(line.strip())
    return written


def _peak_kib(pid: int) -> int:
    """VmHWM (peak resident memory) of a live process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def _jvm_children() -> list[int]:
    """The java processes started by this process (the Spark driver)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().split()
        except OSError:
            continue
        if int(fields[3]) == os.getpid() and "java" in fields[1]:
            found.append(int(fields[0]))
    return found


def _days(count: int) -> tuple[date, date]:
    return START, START + timedelta(days=count - 1)


def run_dagster(landing: Path, warehouse: Path, days: int) -> dict:
    """The chain with every check, one run through Dagster, in this (fresh) process."""
    os.environ.update(FLOWGUARD_LANDING_DIR=str(landing), FLOWGUARD_WAREHOUSE_DIR=str(warehouse))
    loading = time.perf_counter()
    import dagster as dg
    from pyspark.sql import SparkSession

    from flowguard_assets import defs
    from flowguard_assets.cli.runner import execute_range

    defs.resolve_implicit_global_asset_job_def()
    instance = dg.DagsterInstance.ephemeral()
    start, end = _days(days)
    began = time.perf_counter()
    result = execute_range(defs, start, end, None, instance)
    wall = time.perf_counter() - began
    jvm_peak = max((_peak_kib(pid) for pid in _jvm_children()), default=0)
    logs = instance.all_logs(result.run_id)
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE)
        and hasattr(event.event_specific_data, "duration_ms")
    }
    spark = [e.timestamp for e in logs if "Spark session started" in e.user_message]
    first = min(e.timestamp for e in logs)
    session = SparkSession.getActiveSession()
    jobs = None if os.environ.get("SPARK_REMOTE") else spark_jobs(session.sparkContext.uiWebUrl)
    phases = {
        "code location load": began - loading,
        "run start to Spark started": (spark[0] - first) if spark else 0.0,
        "orchestration between steps": wall - sum(steps.values()),
    }
    return {
        "success": result.success, "wall": wall, "steps": steps, "phases": phases,
        "spark_starts": len(spark), "jvm_peak_kib": jvm_peak, "spark_jobs": jobs,
    }  # fmt: skip


def spark_jobs(ui_url: str) -> int:
    """The Spark jobs the one application behind the Spark UI at `ui_url` has run so far."""
    def get(path: str) -> list:
        with urllib.request.urlopen(f"{ui_url}/api/v1/applications{path}", timeout=10) as response:
            return json.load(response)

    (app,) = get("")
    return len(get(f"/{app['id']}/jobs"))


def run_bare() -> dict:
    """A bare start: a fresh Python process that starts a local Spark session and counts one row."""
    code = "from pyspark.sql import SparkSession; SparkSession.builder.master('local[*]').getOrCreate().range(1).count()"
    began = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    wall = time.perf_counter() - began
    return {"success": True, "wall": wall, "steps": {}, "phases": {}, "spark_starts": 1, "jvm_peak_kib": 0,
            "python_peak_kib": 0, "process": wall}  # fmt: skip


def run_duckdb(landing: Path, reference: Path, days: int) -> dict:
    """The DuckDB reference on the same landing zone and the bundled catalog, as its own process."""
    catalog = Path(__file__).parents[1] / "flowguard_assets" / "data" / "foods.json"
    day_list = ",".join((START + timedelta(days=n)).isoformat() for n in range(days))
    command = [sys.executable, str(reference), str(landing), str(catalog), day_list, "--threads", str(os.cpu_count())]
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"DuckDB reference failed:\n{done.stderr[-3000:]}")
    timings = json.loads(done.stdout.strip().splitlines()[-1])
    steps = {k: v for k, v in timings.items() if k != "events" and isinstance(v, (int, float))}
    return {"success": True, "wall": wall, "steps": steps, "phases": {}, "spark_starts": 0,
            "jvm_peak_kib": 0, "python_peak_kib": 0, "process": wall}  # fmt: skip


def run_baseline(landing: Path, warehouse: Path, days: int) -> dict:
    """The same transformations as one plain PySpark script: no Dagster, no checks, no metadata,
    Spark's own partition overwrite."""
    from flowguard_assets.landing import landing_files, read_lines
    from flowguard_assets.resources.catalog import FoodCatalogResource
    from flowguard_assets.resources.spark import SparkResource
    from flowguard_assets.tables import (
        CLICKS_CLEAN, CLICKS_RAW, DAILY_BUYERS, DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE,
        HOURLY_ORDER_PATTERNS, ORDERS_CLEAN, ORDERS_RAW, USER_FUNNEL_METRICS, Table,
    )  # fmt: skip
    from flowguard_assets.transforms import gold
    from flowguard_assets.transforms.bronze import to_bronze
    from flowguard_assets.transforms.silver import BRONZE_READ, CLICK_RULES, ORDER_RULES, to_daily_buyers, to_silver

    began = time.perf_counter()
    spark = SparkResource.on().spark_session
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    start, end = _days(days)
    dates = [start + timedelta(days=n) for n in range(days)]

    steps: dict[str, float] = {}

    def write(table: Table, df) -> None:
        began = time.perf_counter()
        path = warehouse / table.schema / table.name
        df.select(table.column_names).write.mode("overwrite").partitionBy(table.partition_column).parquet(str(path))
        steps[table.name] = time.perf_counter() - began

    def read(table: Table):
        return spark.read.parquet(str(warehouse / table.schema / table.name))

    catalog = FoodCatalogResource().load()
    for table, rules in ((ORDERS_RAW, ORDER_RULES), (CLICKS_RAW, CLICK_RULES)):
        write(table, to_bronze(read_lines(spark, landing_files(landing, table.topic, dates)), table))
        write(rules.table, to_silver(read(table).select(BRONZE_READ), catalog, rules, "baseline"))
    orders, clicks = read(ORDERS_CLEAN), read(CLICKS_CLEAN)
    write(DAILY_BUYERS, to_daily_buyers(orders, "baseline"))
    day_frame = spark.createDataFrame([(d,) for d in dates], "DATE date")
    buyers_before = read(DAILY_BUYERS).where("false")
    tables = (
        (DAILY_GMV_METRICS, gold.daily_gmv_metrics(day_frame, orders, buyers_before, "baseline")),
        (FOOD_ITEM_PERFORMANCE, gold.food_item_performance(day_frame, orders, clicks, "baseline")),
        (USER_FUNNEL_METRICS, gold.user_funnel_metrics(day_frame, orders, clicks, "baseline")),
        (HOURLY_ORDER_PATTERNS, gold.hourly_order_patterns(day_frame, orders, "baseline")),
    )
    for table, df in tables:
        write(table, df)
    wall = time.perf_counter() - began
    jvm_peak = max((_peak_kib(pid) for pid in _jvm_children()), default=0)
    return {"success": True, "wall": wall, "steps": steps, "phases": {}, "spark_starts": 1, "jvm_peak_kib": jvm_peak}


def run_cli(landing: Path, warehouse: Path, days: int, remote: str | None) -> dict:
    """`dagster asset materialize` of every table asset for the days, as a user types it, on a
    fresh DAGSTER_HOME (on the Spark Connect server at `remote`, if any): the whole process is
    the figure."""
    from flowguard_assets.tables import BRONZE_TABLES, CLICKS_CLEAN, GOLD_TABLES, ORDERS_CLEAN

    start, end = _days(days)
    keys = [t.asset_key.to_user_string() for t in (*BRONZE_TABLES, ORDERS_CLEAN, CLICKS_CLEAN, *GOLD_TABLES)]
    home = Path(tempfile.mkdtemp(prefix="flowguard-bench-home-"))
    env = {**os.environ, "DAGSTER_HOME": str(home), "FLOWGUARD_LANDING_DIR": str(landing), "FLOWGUARD_WAREHOUSE_DIR": str(warehouse)}
    if remote:
        env["SPARK_REMOTE"] = remote
    command = [
        str(Path(sys.executable).with_name("dagster")), "asset", "materialize", "-m", "flowguard_assets",
        "--select", ",".join(keys), "--partition-range", f"{start}...{end}",
    ]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=Path(__file__).parents[1])
    wall = time.perf_counter() - began
    if done.returncode != 0:
        sys.exit(f"dagster asset materialize failed:\n{done.stderr[-3000:]}")
    return {"success": True, "wall": wall, "steps": {}, "phases": {}, "process": wall, "jvm_peak_kib": 0,
            "python_peak_kib": 0, "spark_starts": (done.stdout + done.stderr).count("Spark session started")}  # fmt: skip


def measure(mode: str, landing: Path, warehouse: Path, days: int, remote: str | None = None) -> dict:
    """Run `mode` in a fresh Python process (on the Spark Connect server at `remote`, if any) and
    collect its figures."""
    command = [sys.executable, __file__, "--child", mode, str(landing), str(warehouse), str(days)]
    env = {**os.environ, "SPARK_REMOTE": remote} if remote else {k: v for k, v in os.environ.items() if k != "SPARK_REMOTE"}
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=Path(__file__).parents[1], env=env)
    if done.returncode != 0:
        sys.exit(f"{mode} run failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"process": time.perf_counter() - began}


def report(name: str, mode: str, figures: dict, events: int) -> None:
    print(
        f"{name:<14} {mode:<9} wall {figures['wall']:7.1f} s (process {figures['process']:6.1f} s)"
        f"   {events / figures['wall']:9,.0f} events/s"
        f"   spark jobs {figures.get('spark_jobs')}   driver JVM peak {figures['jvm_peak_kib'] / 2**20:5.2f} GiB"
        f"   python peak {figures['python_peak_kib'] / 2**20:5.2f} GiB"
        + ("" if figures["success"] else "   RUN FAILED")
    )
    for part, seconds in figures["phases"].items():
        print(f"{'':<26}{part:<42}{seconds:7.1f} s")
    for step, seconds in sorted(figures["steps"].items(), key=lambda item: -item[1]):
        print(f"{'':<26}{'step ' + step:<42}{seconds:7.1f} s")


class WarmServer:
    """FlowGuard's Spark Connect server, started and stopped with `flowguard spark`, on an instance
    of its own; `jobs()` counts the Spark jobs it has run."""

    def __init__(self, workdir: Path):
        self.env = {**os.environ, "DAGSTER_HOME": str(workdir / "spark-home"), "FLOWGUARD_SPARK_PORT": str(_free_port())}
        Path(self.env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
        began = time.perf_counter()
        self._flowguard("start")
        self.start_seconds = time.perf_counter() - began
        self.state = json.loads((Path(self.env["DAGSTER_HOME"]) / "spark" / "server.json").read_text())
        self.url = self.state["url"]

    def _flowguard(self, action: str) -> str:
        flowguard = str(Path(sys.executable).with_name("flowguard"))
        return subprocess.run([flowguard, "spark", action], env=self.env, check=True, capture_output=True, text=True).stdout

    def jobs(self) -> int:
        return spark_jobs(self.state["ui_url"])

    def heap_after_gc(self) -> int:
        """Bytes of heap in use after a full GC (`jcmd GC.run`, where the JDK has it)."""
        subprocess.run(["jcmd", str(self.state["pid"]), "GC.run"], capture_output=True)
        time.sleep(1)
        with urllib.request.urlopen(f"{self.state['ui_url']}/metrics/json/", timeout=10) as response:
            gauges = json.load(response)["gauges"]
        return next(int(g["value"]) for name, g in gauges.items() if name.endswith(".jvm.heap.used"))

    def stop(self) -> None:
        self._flowguard("stop")


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _trial(mode: str, name: str, landing: Path, workdir: Path, days: int, reference: Path, server: WarmServer | None) -> dict:
    """One measured run of `mode`: cold and warm FlowGuard, the CLI (cold, warm), DuckDB, baseline."""
    if mode == "duckdb":
        return run_duckdb(landing, reference, days)
    warm = mode.endswith("warm")
    remote = server.url if warm else None
    before = server.jobs() if warm else 0
    if mode.startswith("cli"):
        figures = run_cli(landing, workdir / name / f"warehouse-{mode}", days, remote)
    else:
        figures = measure("dagster" if mode in ("cold", "warm") else mode, landing, workdir / name / f"warehouse-{mode}", days, remote)
    if warm:
        figures["spark_jobs"] = server.jobs() - before
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenario", action="append", choices=SCENARIOS, help="default: one-day, thirty-days, same-size-day")
    parser.add_argument("--scale", type=float, default=1.0, help="multiply event counts (0.1 for a quick look)")
    parser.add_argument("--baseline", action="store_true", help="also run the bare-Spark baseline")
    parser.add_argument("--no-warm", action="store_true", help="cold runs only (no Spark Connect server)")
    parser.add_argument("--soak", type=int, default=0, help="also N consecutive warm runs, heap after the first and the last")
    parser.add_argument(
        "--reference",
        default=str(Path(__file__).resolve().parents[2] / "shared" / "bench" / "duckdb_reference.py"),
        help="the DuckDB reference script (default: ../shared/bench/duckdb_reference.py)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode; the median run is reported")
    parser.add_argument("--workdir", help="where data goes (default: a temporary folder)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        mode, landing, warehouse, days = args.child
        figures = (run_dagster if mode == "dagster" else run_baseline)(Path(landing), Path(warehouse), int(days))
        figures["python_peak_kib"] = _peak_kib(os.getpid())  # not ru_maxrss: it survives exec from the parent
        print(json.dumps(figures))
        return

    from flowguard_assets.generate import generate_landing

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="flowguard-bench-"))
    print(f"FlowGuard benchmark on {os.cpu_count()} cores, {os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') / 2**30:.0f} GiB, data in {workdir}\n")
    bare = sorted(run_bare()["wall"] for _ in range(args.repeat))[args.repeat // 2]
    print(f"bare start (fresh Python process, local Spark session, count one row): {bare:.1f} s\n")
    server = None if args.no_warm else WarmServer(workdir)
    if server:
        print(f"Spark Connect server started by `flowguard spark start` in {server.start_seconds:.1f} s: {server.url}\n")
    walls = {}
    try:
        for name in args.scenario or ["one-day", "thirty-days", "same-size-day"]:
            days, clicks, orders, copies = SCENARIOS[name]
            landing = workdir / name / "landing"
            summary = generate_landing(
                landing, START, days, orders_per_day=int(orders * args.scale), clicks_per_day=int(clicks * args.scale), seed=1,
                replace=True,  # a --workdir used before holds the same generated days
            )
            events = summary.order_lines + summary.click_lines
            print(f"{name}: {days} day(s), {events:,} landing lines ({summary.order_lines:,} order, {summary.click_lines:,} click)")
            if copies > 1:
                events += replicate(landing, copies)
                print(f"{name}: {copies} copies as other Kafka partitions, {events:,} landing lines")
            modes = ["cold", *([] if server is None else ["warm"]), "duckdb"]
            modes += (["cli-cold", *([] if server is None else ["cli-warm"])] if name in _CLI_SCENARIOS else [])
            modes += ["baseline"] if args.baseline else []
            for mode in modes:
                run = lambda: _trial(mode, name, landing, workdir, days, Path(args.reference), server)  # noqa: E731
                if mode.endswith("warm"):
                    warmup = run()
                    print(f"{'':<26}{'warm-up run on the server':<42}{warmup['process']:7.1f} s")
                trials = sorted((run() for _ in range(args.repeat)), key=lambda figures: figures["process"])
                figures = trials[len(trials) // 2]
                walls[(name, mode)] = figures["process"]
                report(name, mode, figures, events)
                print(f"{'':<26}{'processes, each trial':<42}" + " ".join(f"{t['process']:.1f}" for t in trials))
            for mode in ("cold", "warm"):
                if (name, mode) in walls:
                    ratio = walls[(name, mode)] / walls[(name, "duckdb")]
                    print(f"{name}: FlowGuard {mode} / DuckDB, median of {args.repeat} whole processes: {ratio:.2f}x")
            print()
            if args.soak and server:
                soak(server, name, landing, workdir, days, Path(args.reference), args.soak)
    finally:
        if server:
            server.stop()
    for mode in ("cli-cold", "cli-warm"):
        if ("fixed-cost", mode) in walls:
            seconds = walls[("fixed-cost", mode)]
            print(f"Fixed cost, {mode}: `dagster asset materialize` of about 1,000 events, whole process: {seconds:.1f} s"
                  f" ({seconds / bare:.2f}x a bare start of {bare:.1f} s)")
    if ("one-day", "baseline") in walls:
        overhead = walls[("one-day", "cold")] / walls[("one-day", "baseline")] - 1
        print(f"Dagster overhead on one day, whole processes: {overhead:+.1%}")
    for mode in ("cold", "warm"):
        if ("thirty-days", mode) in walls and ("same-size-day", mode) in walls:
            ratio = walls[("thirty-days", mode)] / walls[("same-size-day", mode)]
            print(f"30 days in one run / one day of the same size, {mode}: {ratio:.2f}x")


def soak(server: WarmServer, name: str, landing: Path, workdir: Path, days: int, reference: Path, runs: int) -> None:
    """`runs` consecutive warm runs on the one server; its heap after a full GC, after the first
    run and after the last."""
    heaps, times = [], []
    for _ in range(runs):
        times.append(_trial("warm", name, landing, workdir, days, reference, server)["process"])
        heaps.append(server.heap_after_gc())
    change = heaps[-1] / heaps[0] - 1
    print(f"{name}: {runs} consecutive warm runs, {min(times):.1f}..{max(times):.1f} s each;"
          f" heap after GC {heaps[0] / 2**20:,.0f} MiB after the first, {heaps[-1] / 2**20:,.0f} MiB after the last ({change:+.1%})")
    print(f"{'':<26}heap after each run, MiB: " + " ".join(f"{h / 2**20:.0f}" for h in heaps) + "\n")


if __name__ == "__main__":
    main()
