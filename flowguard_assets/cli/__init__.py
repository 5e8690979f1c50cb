"""The `flowguard` command: sample data, runs through Dagster, and a readable summary."""

import argparse
import os
import signal
import subprocess
import sys
from dataclasses import fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from flowguard_assets.cli import spark as spark_commands
from flowguard_assets.config import load_settings
from flowguard_assets.errors import ConfigError
from flowguard_assets.generate import (
    GENERATORS,
    AnomalyRates,
    LandingOccupied,
    generate_landing,
    producer_catalog,
    write_catalog,
)
from flowguard_assets.ui_address import record as record_ui_address

DEMO_DAYS = 7


def last_week() -> date:
    """The first of the last DEMO_DAYS complete UTC days: the demo's data is recent, so the
    UI's partition plots, the schedule and the late-Gold alert all have something to show."""
    return datetime.now(UTC).date() - timedelta(days=DEMO_DAYS)


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, its errors as one line (`flowguard status: argument --days: ...`), exit code 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


STATUS_MOST_DAYS = 31  # a status grid wider than a month does not fit a terminal


def _count(low: int, high: int):
    """An argparse type: a whole number from `low` to `high`."""

    def count(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number from {low:,} to {high:,}")
        return value

    return count


def local_landing() -> Path:
    """FLOWGUARD_LANDING_DIR as a folder sample data can be written to."""
    location = load_settings().landing_dir
    if "://" in location:
        raise CliError(f"sample data is written to a local folder, and FLOWGUARD_LANDING_DIR is {location}")
    return Path(location)


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date YYYY-MM-DD: {text!r}") from None


ANOMALIES = [f.name for f in fields(AnomalyRates)]


def _rate(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    if name not in ANOMALIES:
        raise argparse.ArgumentTypeError(f"unknown anomaly {name!r}; one of {', '.join(ANOMALIES)}")
    try:
        probability = float(value)
    except ValueError:
        probability = -1.0
    if not 0 <= probability <= 1:
        raise argparse.ArgumentTypeError(f"{name}: not a probability between 0 and 1: {value!r}")
    return name, probability


def generate_days(landing: Path, start: date, days: int, **options: object):
    """`generate_landing`, its refusal to mix with files already there as a one-line error."""
    try:
        return generate_landing(landing, start, days, **options)
    except LandingOccupied as error:
        raise CliError(str(error)) from None


def cmd_generate(args: argparse.Namespace) -> None:
    landing = Path(args.landing) if args.landing else local_landing()
    rates = AnomalyRates(**dict(args.rate or []))
    summary = generate_days(
        landing,
        args.start,
        args.days,
        orders_per_day=args.orders,
        clicks_per_day=args.clicks,
        seed=args.seed,
        rates=rates,
        producer=args.producer,
        replace=args.replace,
    )
    if args.catalog_file:
        write_catalog(Path(args.catalog_file), producer_catalog(args.producer))
    print(
        f"Wrote {summary.files} files ({summary.order_lines} order lines, {summary.click_lines}"
        f" click lines) for {args.start}..{summary.days[-1]} under {landing}"
    )


def _selection(text: str) -> list[dg.AssetKey]:
    """An argparse type: layers and asset keys, comma-separated."""
    from flowguard_assets.layout import select

    try:
        return select(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--select ")) from None


def day_range(start: date, end: date, most: int | None = None) -> list[date]:
    """The days `start`..`end`, or a CliError when they are reversed, before FLOWGUARD_START_DATE,
    not over yet, or more than `most`."""
    from flowguard_assets.partitions import daily_partitions

    if end < start:
        raise CliError(f"--end {end} is before --start {start}")
    first = load_settings().start_date
    if start < first:
        raise CliError(f"--start {start} is before FLOWGUARD_START_DATE {first}")
    last = date.fromisoformat(daily_partitions.get_last_partition_key())
    if end > last:
        raise CliError(f"{end} is not a complete day yet: the latest day is {last} (days end at midnight UTC)")
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    if most and len(days) > most:
        raise CliError(f"{start}..{end} is {len(days)} days; at most {most} at a time")
    return days


def run_days(
    start: date, end: date, selection: list[dg.AssetKey] | None = None, verbose: bool = False
) -> bool:
    """Materialize `select` for `start`..`end` as one Dagster run; print progress, a summary,
    the days whose Gold was kept, and the run's link in the UI. Dagster's own log (stack traces
    included) reaches stderr only when `verbose`. The run uses the instance's warm Spark Connect
    server when it is up (`flowguard spark start`) and no other Spark is configured."""
    from flowguard_assets.cli.spark import warm_remote

    if remote := warm_remote():
        os.environ["SPARK_REMOTE"] = remote
    from flowguard_assets import defs
    from flowguard_assets.cli.runner import materialize_range

    day_range(start, end)
    settings = load_settings()
    spark = f"the Spark Connect server {settings.spark_remote}" if settings.spark_remote else "a local Spark session"
    print(f"FlowGuard: materializing {start}..{end} as one run on {spark}")
    log_level = "WARNING" if verbose else "CRITICAL"
    outcome = materialize_range(defs, start, end, selection, print, log_level=log_level)
    print_summary(outcome.metadata, start, end)
    if outcome.blocked_days:
        print(f"Gold kept as it was for {', '.join(outcome.blocked_days)} (blocked by their Silver gates, above)")
    link = f"{settings.ui_url}/runs/{outcome.run_id}"
    if not outcome.success:
        print(f"Run failed in {', '.join(outcome.failures) or 'a step'}: {link}")
    elif outcome.failed_checks:
        print(f"Run finished with {len(outcome.failed_checks)} failed checks: {link}")
    else:
        print(f"Run succeeded: {link}")
    return outcome.success and not outcome.failed_checks


def print_summary(metadata: dict, start: date, end: date) -> None:
    """A table of each day's headline figures, from the run's materialization metadata."""
    header = ("day", "revenue", "orders", "users", "new", "conv %", "valid orders", "valid clicks")
    print("\n" + "  ".join(f"{h:>12}" for h in header))
    day = start
    while day <= end:
        figures = metadata.get(day.isoformat(), {})
        gmv = figures.get("gold/daily_gmv_metrics", {})
        funnel = figures.get("gold/user_funnel_metrics", {})
        orders = figures.get("silver/orders_clean", {})
        clicks = figures.get("silver/clicks_clean", {})
        cells = (
            day.isoformat(),
            _fmt(gmv.get("revenue"), "{:,.2f}"),
            _fmt(gmv.get("orders")),
            _fmt(gmv.get("unique_users")),
            _fmt(gmv.get("new_users")),
            _fmt(funnel.get("conversion_pct"), "{:.2f}"),
            _fmt(orders.get("valid_rate"), "{:.2%}"),
            _fmt(clicks.get("valid_rate"), "{:.2%}"),
        )
        print("  ".join(f"{c:>12}" for c in cells))
        day += timedelta(days=1)


def _fmt(value: object, pattern: str = "{}") -> str:
    return "-" if value is None else pattern.format(value)


def cmd_run(args: argparse.Namespace) -> int:
    return 0 if run_days(args.start, args.end or args.start, args.select, args.verbose) else 1


def cmd_load_catalog(args: argparse.Namespace) -> None:
    from flowguard_assets.resources import build_resources
    from flowguard_assets.errors import CatalogError
    from flowguard_assets.resources.catalog import catalog_items

    catalog = build_resources(load_settings())["catalog"]
    if not catalog.host:
        raise CliError("POSTGRES_HOST is not set: there is no catalog database to load")
    try:
        count = catalog.install(catalog_items(args.file))
    except CatalogError as error:
        raise CliError(str(error)) from error
    print(f"Loaded {count} dishes into {catalog.source} (table foods)")


def cmd_ddl(args: argparse.Namespace) -> None:
    from flowguard_assets.resources.snowflake_warehouse import create_table_sql
    from flowguard_assets.tables import ALL_TABLES

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for table in ALL_TABLES:
        path = out / f"{table.schema}.{table.name.lower()}.sql"
        path.write_text(create_table_sql(table))
        print(path)


def cmd_status(args: argparse.Namespace) -> int:
    from flowguard_assets.cli.runner import instance
    from flowguard_assets.cli.status import (
        gold_blocked,
        partition_statuses,
        recent_days,
        render,
        tables_text,
        watch_statuses,
    )

    first, last = args.start or args.end, args.end or args.start
    days = day_range(first, last, STATUS_MOST_DAYS) if first else []  # refused before the instance opens
    dagster_instance = instance()
    days = days or recent_days(dagster_instance, args.days, load_settings().start_date)
    blocked = gold_blocked(dagster_instance, days)
    statuses = partition_statuses(dagster_instance, days, blocked)
    print(render(statuses + watch_statuses(dagster_instance, days), days, blocked))
    failing: dict[date, list[str]] = {}
    for status in statuses:
        if status.state in ("failing", "failed"):
            failing.setdefault(status.day, []).append(status.asset)
    if failing:
        days_failing = ", ".join(f"{day} ({tables_text(assets)})" for day, assets in sorted(failing.items()))
        print(f"FAILING: the latest check or run failed on {days_failing}")
        return 1
    print(f"OK: no latest check failed on {days[0]}..{days[-1]}")
    return 0


def cmd_ui(args: argparse.Namespace) -> int:
    """`dagster dev` (webserver and daemon) on the DAGSTER_HOME instance, created here first so
    its two processes never race to create a new SQLite instance, with its runs on the
    instance's warm Spark Connect server (started here unless it is up or SPARK_REMOTE names
    another, and stopped on exit if started here). SIGINT and SIGTERM are passed on to
    `dagster dev`, also when started in the background (which ignores SIGINT)."""
    from flowguard_assets import spark_server
    from flowguard_assets.cli.runner import instance
    from flowguard_assets.cli.spark import start

    instance().dispose()
    record_ui_address(args.host, args.port)  # links printed elsewhere follow this port
    started = False
    env = dict(os.environ)
    if not env.get("SPARK_REMOTE"):
        server, started = start()
        env["SPARK_REMOTE"] = server.url
    dagster = str(Path(sys.executable).parent / "dagster")
    command = [dagster, "dev", "-m", "flowguard_assets", "-h", args.host, "-p", str(args.port)]
    try:
        # Handlers set before the child starts: it begins with default ones, not ignored ones.
        process = None
        forward = lambda signum, _frame: process and process.send_signal(signum)  # noqa: E731
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, forward)
        process = subprocess.Popen(command, env=env)
        return process.wait()
    finally:
        if started:
            spark_server.stop()
            print("Spark Connect server stopped", flush=True)


def cmd_doctor(args: argparse.Namespace) -> int:
    from flowguard_assets.cli.doctor import diagnose

    findings = []
    for finding in diagnose(load_settings()):
        print(finding.line(), flush=True)
        findings.append(finding)
    return 0 if all(f.ok for f in findings) else 1


def cmd_demo(args: argparse.Namespace) -> int:
    settings = load_settings()
    start = last_week()
    end = start + timedelta(days=DEMO_DAYS - 1)
    landing = local_landing()
    summary = generate_days(landing, start, DEMO_DAYS, replace=True)
    print(f"Sample data: {summary.order_lines + summary.click_lines} lines in {summary.files} files")
    ok = run_days(start, end, verbose=args.verbose)
    print(
        f"\nLanding zone: {landing}\nTables: {settings.warehouse_dir} ({settings.warehouse} warehouse)"
        f"\nDagster instance (runs, events, check results): {os.environ['DAGSTER_HOME']}"
        "\nNext: `make ui` to browse the runs, assets and checks; `.venv/bin/flowguard status` for"
        " each day's state; `make clean` to start over"
    )
    return 0 if ok else 1


def parser() -> argparse.ArgumentParser:
    top = _Parser(prog="flowguard", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", help="also print Dagster's and Spark's log and the stack trace of an unexpected error"
    )

    generate = commands.add_parser("generate", parents=[common], help="write a sample landing zone")
    generate.add_argument(
        "--start", type=_day, default=last_week(), help="first day (default: a week ago)"
    )
    generate.add_argument("--days", type=_count(1, 366), default=DEMO_DAYS, help="number of days, 1 to 366")
    generate.add_argument("--landing", help="landing zone root (default FLOWGUARD_LANDING_DIR)")
    generate.add_argument("--orders", type=_count(1, 2_000_000), default=1000, help="orders per day")
    generate.add_argument(
        "--clicks", type=_count(1, 20_000_000), default=24000, help="impressions and clicks per day"
    )
    generate.add_argument("--seed", type=int, default=7, help="random seed")
    generate.add_argument(
        "--rate", type=_rate, action="append", metavar="ANOMALY=P",
        help=f"probability P (0 to 1) of an anomaly per event, repeatable; ANOMALY is one of {', '.join(ANOMALIES)}",
    )
    generate.add_argument(
        "--producer",
        choices=sorted(GENERATORS),
        default="flowguard",
        help="flowguard: SPEC 1's events (default); gateway: as the app's events gateway sends them",
    )
    generate.add_argument(
        "--replace",
        action="store_true",
        help="replace the files generate wrote before for these days (never other files)",
    )
    generate.add_argument(
        "--catalog-file", help="also write the sample food catalog (JSON, in the producer's format) here"
    )
    generate.set_defaults(handler=cmd_generate)

    run = commands.add_parser("run", parents=[common], help="materialize days through Dagster as one run")
    run.add_argument("--start", type=_day, required=True, help="first day (YYYY-MM-DD)")
    run.add_argument("--end", type=_day, help="last day (default: --start)")
    run.add_argument("--select", type=_selection, help="layers or asset keys, comma-separated (default: all)")
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser("demo", parents=[common], help="generate a week of sample data and run everything")
    demo.set_defaults(handler=cmd_demo)

    load = commands.add_parser(
        "load-catalog", parents=[common], help="create and fill the Postgres foods table (POSTGRES_*); idempotent"
    )
    load.add_argument("--file", help="catalog JSON (default: the bundled catalog)")
    load.set_defaults(handler=cmd_load_catalog)

    status = commands.add_parser(
        "status", parents=[common], help="which days of which tables are materialized, stale or failing a check"
    )
    status.add_argument("--start", type=_day, help="first day (default: the last --days days)")
    status.add_argument("--end", type=_day, help="last day (default: --start)")
    status.add_argument(
        "--days", type=_count(1, STATUS_MOST_DAYS), default=14,
        help=f"how many recent days to show, 1 to {STATUS_MOST_DAYS} (not before FLOWGUARD_START_DATE)",
    )  # fmt: skip
    status.set_defaults(handler=cmd_status)

    ui = commands.add_parser("ui", parents=[common], help="the Dagster UI and daemon (dagster dev) on DAGSTER_HOME")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on")
    ui.add_argument("--port", type=_count(1, 65535), default=3000, help="port to listen on (make ui PORT=N)")
    ui.set_defaults(handler=cmd_ui)

    doctor = commands.add_parser("doctor", parents=[common], help="check Java, Spark, landing zone, catalog, warehouse")
    doctor.set_defaults(handler=cmd_doctor)

    spark_commands.add_parser(commands)

    ddl = commands.add_parser("ddl", parents=[common], help="write the Snowflake DDL of every table")
    ddl.add_argument("--out", default="scripts/snowflake", help="folder for the .sql files")
    ddl.set_defaults(handler=cmd_ddl)
    return top


QUIET_SPARK_LOG = Path(__file__).resolve().parents[1] / "data" / "log4j2-quiet.properties"
LOCAL_SPARK_COMMANDS = ("run", "demo", "doctor")  # may start a local Spark driver in this process


def quiet_local_spark() -> None:
    """Spark's log4j notices and warnings off in a local driver this process starts, its errors
    kept: SPARK_SUBMIT_OPTS reaches the driver JVM that pyspark launches."""
    option = f"-Dlog4j2.configurationFile={QUIET_SPARK_LOG}"
    os.environ["SPARK_SUBMIT_OPTS"] = f"{option} {os.environ.get('SPARK_SUBMIT_OPTS', '')}".strip()


def main(argv: list[str] | None = None) -> int:
    # Dagster stops a run's log-capture helpers with SIGTERM; an ignored SIGTERM inherited from
    # whoever started us would be inherited by them too, and they would never stop.
    if signal.getsignal(signal.SIGTERM) is signal.SIG_IGN:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    args = parser().parse_args(argv)
    if args.command in LOCAL_SPARK_COMMANDS and not args.verbose:
        quiet_local_spark()
    try:
        return args.handler(args) or 0
    except (CliError, ConfigError) as error:
        print(f"flowguard: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # one line unless --verbose: a traceback is not a message
        if getattr(args, "verbose", False):
            raise
        first = (str(error).strip().splitlines() or [""])[0]
        print(f"flowguard {args.command}: {type(error).__name__}: {first} (--verbose shows where)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
