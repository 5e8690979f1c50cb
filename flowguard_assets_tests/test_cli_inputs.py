"""Every `flowguard` command on bad inputs (issue 25 points 1 and 9, and their neighbours): one line
on stderr naming the value and what is allowed, exit code 2, nothing on stdout, no traceback.
Each input is refused before Spark or a run starts, so the whole file takes seconds per input."""

import os
import subprocess
import sys
from pathlib import Path

import pytest


FLOWGUARD = str(Path(sys.executable).parent / "flowguard")
ANOMALIES = ("sink_redelivery", "producer_retry", "malformed", "invalid_field", "unknown_item", "late")
NAMES = "one of bronze, silver, gold, bronze/orders_raw, bronze/clicks_raw, silver/orders_clean"

# (arguments, what the one line must say)
BAD_INPUTS = [
    (["status", "--start", "2026-11-30", "--end", "2026-11-26"], "--end 2026-11-26 is before --start 2026-11-30"),
    (["status", "--days", "0"], "argument --days: '0' is not a whole number from 1 to 31"),
    (["status", "--days", "-3"], "argument --days: '-3' is not a whole number from 1 to 31"),
    (["status", "--days", "400"], "argument --days: '400' is not a whole number from 1 to 31"),
    (["status", "--days", "many"], "argument --days: 'many' is not a whole number from 1 to 31"),
    (["status", "--start", "2026-02-01", "--end", "2026-11-30"], "2026-02-01..2026-11-30 is 303 days; at most 31"),
    (["status", "--start", "2025-12-30"], "--start 2025-12-30 is before FLOWGUARD_START_DATE 2026-02-01"),
    (["status", "--end", "2999-01-01"], "2999-01-01 is not a complete day yet"),
    (["generate", "--days", "0"], "argument --days: '0' is not a whole number from 1 to 366"),
    (["generate", "--days", "-2"], "argument --days: '-2' is not a whole number from 1 to 366"),
    (["generate", "--days", "100000"], "argument --days: '100000' is not a whole number from 1 to 366"),
    (["generate", "--orders", "0"], "argument --orders: '0' is not a whole number from 1 to 2,000,000"),
    (["generate", "--clicks", "-5"], "argument --clicks: '-5' is not a whole number from 1 to 20,000,000"),
    (["generate", "--rate", "malformd=0.2"], f"unknown anomaly 'malformd'; one of {', '.join(ANOMALIES)}"),
    (["generate", "--rate", "malformed=2"], "malformed: not a probability between 0 and 1: '2'"),
    (["generate", "--start", "2026-13-01"], "argument --start: not a date YYYY-MM-DD: '2026-13-01'"),
    (["generate", "--producer", "kafka"], "argument --producer: invalid choice: 'kafka' (choose from 'flowguard', 'gateway')"),
    (["run", "--start", "2026-11-30", "--end", "2026-11-26"], "--end 2026-11-26 is before --start 2026-11-30"),
    (["run", "--start", "2025-01-01"], "--start 2025-01-01 is before FLOWGUARD_START_DATE 2026-02-01"),
    (["run", "--start", "2026-11-30", "--select", "silverr"], f"argument --select: 'silverr' matches no asset; {NAMES}"),
    (["run", "--start", "2026-11-30", "--select", "bronze,gold/gmv"], f"'gold/gmv' matches no asset; {NAMES}"),
    (["run"], "the following arguments are required: --start"),
    (["ui", "--port", "0"], "argument --port: '0' is not a whole number from 1 to 65,535"),
    (["ui", "--port", "70000"], "argument --port: '70000' is not a whole number from 1 to 65,535"),
    (["deploy"], "argument command: invalid choice: 'deploy'"),
]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    keep = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWGUARD_", "DAGSTER_", "POSTGRES_"))}
    return keep | {
        "DAGSTER_HOME": str(root / "home"),
        "FLOWGUARD_LANDING_DIR": str(root / "landing"),
        "FLOWGUARD_WAREHOUSE_DIR": str(root / "warehouse"),
    }


def flowguard(env, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([FLOWGUARD, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("args", "says"), BAD_INPUTS, ids=[" ".join(a) for a, _ in BAD_INPUTS])
def test_a_bad_input_is_one_line_and_exit_code_2(env, args, says):
    done = flowguard(env, *args)
    assert (done.returncode, done.stdout) == (2, ""), done.stdout + done.stderr
    assert done.stderr.endswith("\n") and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("flowguard") and says in done.stderr
    assert "Traceback" not in done.stderr


def test_rate_help_lists_the_anomaly_names(env):
    helped = flowguard(env, "generate", "--help")
    assert helped.returncode == 0
    text = " ".join(helped.stdout.split())  # argparse wraps the help
    assert "ANOMALY is one of sink_redelivery, producer_retry, malformed, invalid_field, unknown_item, late," in text


def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_verbose(env, tmp_path):
    not_a_folder = tmp_path / "landing"
    not_a_folder.write_text("a file where the landing folder should be")
    args = ["generate", "--days", "1", "--orders", "5", "--clicks", "20", "--landing", str(not_a_folder)]
    quiet = flowguard(env, *args)
    assert quiet.returncode == 1 and quiet.stderr.count("\n") == 1, quiet.stderr
    assert quiet.stderr.startswith("flowguard generate: ") and "(--verbose shows where)" in quiet.stderr
    loud = flowguard(env, *args, "--verbose")
    assert loud.returncode == 1 and "Traceback" in loud.stderr


def test_status_in_a_new_dagster_home_writes_flowguards_dagster_yaml_and_says_nothing_of_it(env, tmp_path):
    home = tmp_path / "new_home"
    done = flowguard(env | {"DAGSTER_HOME": str(home)}, "status", "--days", "3")
    assert done.returncode == 0, done.stderr
    assert (home / "dagster.yaml").read_text() == (Path(__file__).parents[1] / "deploy" / "dagster.local.yaml").read_text()
    assert "dagster.yaml" not in done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("OK: no latest check failed on ")


def test_links_follow_the_port_flowguard_ui_recorded_unless_flowguard_ui_url_is_set(tmp_path, monkeypatch):
    from flowguard_assets.config import load_settings
    from flowguard_assets.ui_address import record

    assert load_settings({"DAGSTER_HOME": str(tmp_path)}).ui_url == "http://127.0.0.1:3000"  # nothing recorded
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert record("0.0.0.0", 3111) == "http://127.0.0.1:3111"
    assert load_settings({"DAGSTER_HOME": str(tmp_path)}).ui_url == "http://127.0.0.1:3111"
    explicit = {"DAGSTER_HOME": str(tmp_path), "FLOWGUARD_UI_URL": "https://dagster.example/"}
    assert load_settings(explicit).ui_url == "https://dagster.example"
