"""The real `dagster` and `flowguard` command lines against a real instance in DAGSTER_HOME."""

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import pytest

from flowguard_assets.config import load_settings
from flowguard_assets.generate import AnomalyRates, generate_landing
from flowguard_assets.cli.runner import execute_range
from flowguard_assets.resources.thresholds import QualityThresholds
from flowguard_assets.tables import (
    DAILY_GMV_METRICS,
    FOOD_ITEM_PERFORMANCE,
    HOURLY_ORDER_PATTERNS,
    USER_FUNNEL_METRICS,
)
from flowguard_assets_tests.dagster_services import free_port
from flowguard_assets_tests.harness import make_defs, read_table, without

BIN = Path(sys.executable).parent
ALL_KEYS = (
    "bronze/orders_raw,bronze/clicks_raw,silver/orders_clean,silver/clicks_clean,"
    "gold/daily_gmv_metrics,gold/food_item_performance,gold/user_funnel_metrics,"
    "gold/hourly_order_patterns"
)
GOLD = (DAILY_GMV_METRICS, FOOD_ITEM_PERFORMANCE, USER_FUNNEL_METRICS, HOURLY_ORDER_PATTERNS)


@pytest.fixture
def env(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    return {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "FLOWGUARD_LANDING_DIR": str(tmp_path / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "warehouse"),
    }


def cli(env, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / args[0]), *args[1:]], env=env, capture_output=True, text=True, timeout=timeout
    )


def instance_at(env) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(env["DAGSTER_HOME"])


def test_asset_list_names_every_table(env):
    listed = cli(env, "dagster", "asset", "list", "-m", "flowguard_assets")
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == set(ALL_KEYS.split(","))


def test_bronze_then_silver_ranges_from_the_dagster_cli(env):
    generate_landing(Path(env["FLOWGUARD_LANDING_DIR"]), date(2026, 2, 14), 3, orders_per_day=300, clicks_per_day=1500)
    bronze = cli(env, "dagster", "asset", "materialize", "-m", "flowguard_assets", "--select", "bronze/orders_raw,bronze/clicks_raw", "--partition-range", "2026-02-14...2026-02-16")
    assert bronze.returncode == 0, bronze.stderr[-3000:]
    silver = cli(env, "dagster", "asset", "materialize", "-m", "flowguard_assets", "--select", "bronze/orders_raw,bronze/clicks_raw,silver/orders_clean,silver/clicks_clean", "--partition-range", "2026-02-14...2026-02-16")
    assert silver.returncode == 0, silver.stderr[-3000:]

    instance = instance_at(env)
    runs = instance.get_runs()
    assert len(runs) == 2 and all(r.is_success for r in runs)
    key = dg.AssetKey(["silver", "orders_clean"])
    history = instance.event_log_storage.get_asset_check_execution_history(dg.AssetCheckKey(key, "valid_rate"), limit=10)
    assert sorted(r.event.dagster_event.event_specific_data.partition for r in history) == ["2026-02-14", "2026-02-15", "2026-02-16"]
    materialized = instance.get_materialized_partitions(key)
    assert materialized == {"2026-02-14", "2026-02-15", "2026-02-16"}


def test_thirty_days_as_one_run_equal_one_run_per_day(env, tmp_path):
    # Days this small would trip the gates by chance; this test is about ranges, not gates.
    env |= {"FLOWGUARD_MIN_VALID_RATE": "0.5", "FLOWGUARD_MAX_DUPLICATE_RATE": "0.5"}
    start, days = date(2026, 2, 1), 30
    landing = Path(env["FLOWGUARD_LANDING_DIR"])
    generate_landing(landing, start, days, orders_per_day=60, clicks_per_day=400, seed=30)
    one_run = cli(env, "dagster", "asset", "materialize", "-m", "flowguard_assets", "--select", ALL_KEYS, "--partition-range", "2026-02-01...2026-03-02", timeout=1800)
    assert one_run.returncode == 0, one_run.stderr[-3000:]
    assert len(instance_at(env).get_runs()) == 1

    daily = tmp_path / "daily_warehouse"
    defs = make_defs(landing, daily, thresholds=QualityThresholds(min_valid_rate=0.5, max_duplicate_rate=0.5))
    instance = dg.DagsterInstance.ephemeral()
    for n in range(days):
        day = start + timedelta(days=n)
        assert execute_range(defs, day, day, None, instance).success, day

    stamps = ("LOAD_TIMESTAMP",)
    for table in GOLD:
        ranged = read_table(Path(env["FLOWGUARD_WAREHOUSE_DIR"]), table)
        assert len({r["DATE"] for r in ranged}) == days
        assert without(ranged, *stamps) == without(read_table(daily, table), *stamps), table.name


def test_flowguard_run_shows_progress_and_a_summary_then_status_shows_the_days(env):
    generate_landing(Path(env["FLOWGUARD_LANDING_DIR"]), date(2026, 2, 14), 3, orders_per_day=300, clicks_per_day=1500)
    ran = cli(env, "flowguard", "run", "--start", "2026-02-14", "--end", "2026-02-16")
    assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    out = ran.stdout
    assert "FlowGuard: materializing 2026-02-14..2026-02-16 as one run" in out
    assert "✓ bronze__orders_raw" in out and "✓ gold (" in out
    summary = out[out.index("revenue") :].splitlines()
    assert [line.split()[0] for line in summary[1:4]] == ["2026-02-14", "2026-02-15", "2026-02-16"]
    assert all(line.split()[1] != "-" for line in summary[1:4])  # revenue of each day

    assert out.splitlines()[-1] == f"Run succeeded: http://127.0.0.1:3000/runs/{run_ids(env)[0]}"
    assert not re.search(r"^\S+ \S+ WARN |Spark's default log4j profile", ran.stderr, re.MULTILINE), ran.stderr  # --verbose shows them

    status = cli(env, "flowguard", "status", "--start", "2026-02-13", "--end", "2026-02-16")
    assert status.returncode == 0, status.stderr
    rows = {line.split()[0]: line.split()[1:] for line in status.stdout.splitlines()[:-1] if "/" in line}
    watch = {f"bronze/{t}:{check}" for t in ("orders_raw", "clicks_raw") for check in ("volume", "new_fields")}
    assert set(rows) == set(ALL_KEYS.split(",")) | watch
    assert all(cells == ["·", "✓", "✓", "✓"] for key, cells in rows.items() if key not in watch)
    assert status.stdout.splitlines()[-1] == "OK: no latest check failed on 2026-02-13..2026-02-16"


def run_ids(env) -> list[str]:
    instance = instance_at(env)
    try:
        return [run.run_id for run in instance.get_runs()]
    finally:
        instance.dispose()


def test_a_bad_day_reads_as_data_not_a_crash_and_status_fails(env):
    generate_landing(Path(env["FLOWGUARD_LANDING_DIR"]), date(2026, 2, 14), 1, orders_per_day=300,
                     clicks_per_day=1500, rates=AnomalyRates(malformed=0.2), seed=1)
    env = {**env, "FLOWGUARD_UI_URL": "http://ui.example:3000"}
    ran = cli(env, "flowguard", "run", "--start", "2026-02-14")
    assert ran.returncode == 1, ran.stdout[-2000:] + ran.stderr[-2000:]
    lines = ran.stdout.splitlines()
    figure = r"valid rate \d+\.\d\d% \(minimum 95\.00%\)"
    for table in ("orders_clean", "clicks_clean"):  # one line per failed check and day, with figures
        (line,) = [ln for ln in lines if f"check silver/{table}:" in ln]
        assert re.fullmatch(rf"  ✗ check silver/{table}:valid_rate \[2026-02-14\] failed: {figure}", line)
    assert "Gold kept as it was for 2026-02-14 (blocked by their Silver gates, above)" in lines
    (run_id,) = run_ids(env)
    assert lines[-1] == f"Run failed in gold: http://ui.example:3000/runs/{run_id}"
    for noise in ("Traceback", "Stack Trace", "dagster._core", "DagsterAssetCheckFailedError"):
        assert noise not in ran.stdout + ran.stderr, noise

    status = cli(env, "flowguard", "status", "--start", "2026-02-13", "--end", "2026-02-14")
    assert status.returncode == 1, status.stdout
    assert status.stdout.splitlines()[-1] == (
        "FAILING: the latest check or run failed on 2026-02-14 (silver/clicks_clean, silver/orders_clean)"
    )


def test_status_shows_a_day_whose_run_failed_for_lack_of_landing_files_as_failed_and_why(env):
    ran = cli(env, "flowguard", "run", "--start", "2026-02-17")  # no landing files at all
    assert ran.returncode == 1, ran.stdout[-2000:] + ran.stderr[-2000:]
    (run_id,) = run_ids(env)
    status = cli(env, "flowguard", "status", "--start", "2026-02-16", "--end", "2026-02-17")
    assert status.returncode == 1, status.stdout
    lines = status.stdout.splitlines()
    rows = {ln.split()[0]: ln.split()[1:] for ln in lines if ln.startswith(("bronze/", "silver/", "gold/"))}
    assert {key: cells for key, cells in rows.items() if ":" not in key} == {key: ["·", "✗"] for key in ALL_KEYS.split(",")}
    (why,) = [ln for ln in lines if ln.startswith("✗ 2026-02-17")]
    assert re.fullmatch(
        rf"✗ 2026-02-17 \(8 tables\): run {run_id[:8]} failed: bronze__(orders|clicks)_raw: Landing folder \S+"
        r" does not exist: no raw\.(orders|clicks)\.v1 data for 2026-02-17",
        why,
    )
    assert lines[-1] == "FAILING: the latest check or run failed on 2026-02-17 (8 tables)"


def test_a_warn_check_reads_as_a_warning_and_an_error_check_as_a_failure():
    from flowguard_assets.cli.runner import check_line

    def evaluation(severity):
        return dg.AssetCheckEvaluation(
            asset_key=dg.AssetKey(["bronze", "clicks_raw"]), check_name="new_fields", passed=False,
            severity=severity, description="2 new fields", partition="2026-02-14",
        )  # fmt: skip

    warn, error = evaluation(dg.AssetCheckSeverity.WARN), evaluation(dg.AssetCheckSeverity.ERROR)
    assert check_line(warn) == "  ! warning bronze/clicks_raw:new_fields [2026-02-14]: 2 new fields"
    assert check_line(error) == "  ✗ check bronze/clicks_raw:new_fields [2026-02-14] failed: 2 new fields"


def test_flowguard_errors_are_one_line_with_a_non_zero_exit(env):
    early = cli(env, "flowguard", "run", "--start", "2025-01-01")
    assert (early.returncode, early.stderr) == (2, "flowguard: --start 2025-01-01 is before FLOWGUARD_START_DATE 2026-02-01\n")
    future = (date.today() + timedelta(days=3)).isoformat()
    ahead = cli(env, "flowguard", "run", "--start", future)
    assert ahead.returncode == 2 and ahead.stdout == ""
    assert re.fullmatch(rf"flowguard: {future} is not a complete day yet: the latest day is \S+ \(days end at midnight UTC\)\n", ahead.stderr)
    typo = cli(env, "flowguard", "run", "--start", "2026-02-14", "--select", "silverr")
    assert (typo.returncode, typo.stdout) == (2, "")  # before "materializing"
    assert typo.stderr.startswith("flowguard run: argument --select: 'silverr' matches no asset; one of bronze, silver, gold, ")
    bad = cli({**env, "FLOWGUARD_MIN_VALID_RATE": "lots"}, "flowguard", "status")
    assert bad.returncode == 2
    assert bad.stderr == "flowguard: FLOWGUARD_MIN_VALID_RATE must be a number between 0 and 1, got 'lots'\n"
    for command in ("generate", "run", "demo", "status", "doctor", "ui", "spark", "load-catalog", "ddl"):
        helped = cli(env, "flowguard", command, "--help")
        assert helped.returncode == 0 and "usage: flowguard" in helped.stdout, command


def test_doctor_says_ok_or_why_not(env):
    generate_landing(Path(env["FLOWGUARD_LANDING_DIR"]), date(2026, 2, 14), 1, orders_per_day=50, clicks_per_day=200)
    healthy = cli(env, "flowguard", "doctor")
    assert healthy.returncode == 0, healthy.stdout
    assert [line.split()[:2] for line in healthy.stdout.splitlines()] == [
        ["OK", "java"], ["OK", "spark"], ["OK", "landing"], ["OK", "catalog"], ["OK", "warehouse"]
    ]
    assert "Spark's default log4j profile" not in healthy.stderr, healthy.stderr
    broken = cli({**env, "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": "1", "POSTGRES_DB": "catalog"}, "flowguard", "doctor", "--verbose")
    assert broken.returncode == 1
    assert "Spark's default log4j profile" in broken.stderr  # Spark's own log, with --verbose
    (catalog,) = [line for line in broken.stdout.splitlines() if " catalog " in line]
    assert catalog.startswith("FAIL catalog") and "127.0.0.1:1" in catalog and "hint:" in catalog


def test_ui_creates_the_instance_first_and_stops_on_sigterm_from_a_script(env):
    """`flowguard ui` (make ui) started as a script's background job, which ignores SIGINT: it
    starts the instance's warm Spark Connect server for its runs, and stops it on the way out."""
    port, spark_port = free_port(), free_port()
    env = {**env, "FLOWGUARD_SPARK_PORT": str(spark_port)}
    env.pop("SPARK_REMOTE", None)
    ui = subprocess.Popen(
        [str(BIN / "flowguard"), "ui", "--port", str(port)], env=env, cwd=Path(__file__).parents[1],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN), start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                assert ui.poll() is None and time.monotonic() < deadline, "the UI did not come up"
                time.sleep(2)
        assert (Path(env["DAGSTER_HOME"]) / "history" / "runs.db").exists()
        assert cli(env, "flowguard", "spark", "status").stdout.startswith(f"Spark Connect server up: sc://127.0.0.1:{spark_port},")
        # Links printed by other commands (and the alert sensor) follow the UI's port.
        assert load_settings(env).ui_url == f"http://127.0.0.1:{port}"
        assert load_settings(env | {"FLOWGUARD_UI_URL": "https://ui.example"}).ui_url == "https://ui.example"
        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=90) is not None
        assert cli(env, "flowguard", "spark", "status").returncode == 1  # stopped with the UI
    finally:
        if ui.poll() is None:
            os.killpg(ui.pid, signal.SIGKILL)
            ui.wait()
    assert "will not be used" not in ui.stderr.read()
