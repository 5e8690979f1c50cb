"""Settings from the environment (SPEC §5): defaults, overrides, and errors naming the variable."""

from datetime import date
from pathlib import Path

import pytest

from flowguard_assets.config import load_settings
from flowguard_assets.errors import ConfigError

pytestmark = pytest.mark.fast


def test_defaults_of_spec_section_5():
    settings = load_settings({})

    assert settings.landing_dir == str(Path.cwd() / "data" / "landing")
    assert settings.warehouse_dir == Path.cwd() / "data" / "warehouse"
    assert settings.warehouse == "local"
    assert settings.catalog_file is None
    assert settings.start_date == date(2026, 2, 1)
    assert (settings.min_valid_rate, settings.max_duplicate_rate) == (0.95, 0.05)
    assert settings.spark_master == "local[*]"
    assert settings.postgres_host is None
    assert settings.postgres_port == 5432


def test_values_from_the_environment_override_the_defaults(tmp_path):
    settings = load_settings(
        {
            "FLOWGUARD_LANDING_DIR": "in/landing",
            "FLOWGUARD_WAREHOUSE_DIR": str(tmp_path / "wh"),
            "FLOWGUARD_WAREHOUSE": "snowflake",
            "SNOWFLAKE_ACCOUNT": "acme-prod",
            "SNOWFLAKE_USER": "flowguard",
            "SNOWFLAKE_DATABASE": "ANALYTICS",
            "FLOWGUARD_START_DATE": "2026-03-15",
            "FLOWGUARD_MIN_VALID_RATE": "0.9",
            "FLOWGUARD_MAX_DUPLICATE_RATE": "0",
            "SPARK_MASTER": "spark://spark-master:7077",
            "POSTGRES_HOST": "db.internal",
            "POSTGRES_PORT": "6543",
        }
    )

    assert settings.landing_dir == str(Path.cwd() / "in" / "landing")
    assert settings.warehouse_dir == tmp_path / "wh"
    assert settings.warehouse == "snowflake"
    assert settings.start_date == date(2026, 3, 15)
    assert (settings.min_valid_rate, settings.max_duplicate_rate) == (0.9, 0.0)
    assert settings.spark_master == "spark://spark-master:7077"
    assert (settings.postgres_host, settings.postgres_port) == ("db.internal", 6543)
    assert settings.snowflake == {"account": "acme-prod", "user": "flowguard", "database": "ANALYTICS"}


def test_the_snowflake_warehouse_needs_its_account():
    with pytest.raises(ConfigError, match="SNOWFLAKE_ACCOUNT must be set when FLOWGUARD_WAREHOUSE=snowflake"):
        load_settings({"FLOWGUARD_WAREHOUSE": "snowflake", "SNOWFLAKE_USER": "u", "SNOWFLAKE_DATABASE": "D"})


def test_an_object_store_landing_zone_is_kept_as_its_uri():
    settings = load_settings({"FLOWGUARD_LANDING_DIR": "s3a://events-bucket/landing/"})

    assert settings.landing_dir == "s3a://events-bucket/landing"


def test_empty_values_mean_the_default():
    settings = load_settings({"FLOWGUARD_WAREHOUSE": "", "POSTGRES_PORT": " ", "SPARK_MASTER": ""})

    assert (settings.warehouse, settings.postgres_port, settings.spark_master) == (
        "local",
        5432,
        "local[*]",
    )


@pytest.mark.parametrize(
    "name, value",
    [
        ("FLOWGUARD_MIN_VALID_RATE", "abc"),
        ("FLOWGUARD_MIN_VALID_RATE", "1.5"),
        ("FLOWGUARD_MAX_DUPLICATE_RATE", "-0.1"),
        ("FLOWGUARD_WAREHOUSE", "oracle"),
        ("FLOWGUARD_START_DATE", "yesterday"),
        ("FLOWGUARD_START_DATE", "2026-02-30"),
        ("POSTGRES_PORT", "x"),
        ("POSTGRES_PORT", "70000"),
    ],
)
def test_a_bad_value_raises_config_error_naming_the_variable(name, value):
    with pytest.raises(ConfigError) as raised:
        load_settings({name: value})

    assert name in str(raised.value)
    assert value in str(raised.value)


def test_the_whole_code_location_builds_in_process_for_another_configuration(monkeypatch):
    """Settings flow from one `Settings` into every factory: no environment is read while building."""
    import dagster as dg

    from flowguard_assets.definitions import build_defs

    monkeypatch.setenv("SNOWFLAKE_PASSWORD", "not-a-real-secret")  # read at run time, through EnvVar
    settings = load_settings(
        {
            "FLOWGUARD_WAREHOUSE": "snowflake",
            "SNOWFLAKE_ACCOUNT": "acme",
            "SNOWFLAKE_USER": "flowguard",
            "SNOWFLAKE_DATABASE": "ANALYTICS",
            "POSTGRES_HOST": "catalog.internal",
            "FLOWGUARD_MIN_VALID_RATE": "0.9",
            "FLOWGUARD_VOLUME_HIGH": "3",
            "FLOWGUARD_SENSOR_INTERVAL_SECONDS": "7",
            "FLOWGUARD_LANDING_SETTLE_SECONDS": "5",
            "FLOWGUARD_UI_URL": "http://ui.example:3000/",
        }
    )
    defs = build_defs(settings)
    graph = defs.resolve_asset_graph()
    assert graph.get(dg.AssetKey(["silver", "orders_clean"])).kinds == {"spark", "snowflake", "postgres"}
    assert graph.get(dg.AssetKey(["gold", "daily_gmv_metrics"])).kinds == {"spark", "snowflake"}
    assert {s.name: s.minimum_interval_seconds for s in defs.sensors} == {
        "landing_sensor": 7, "new_users_refresh_sensor": 7, "flowguard_alerts": 7,
    }  # fmt: skip
    thresholds = defs.resources["thresholds"]
    assert (thresholds.min_valid_rate, thresholds.max_duplicate_rate, thresholds.volume_high) == (0.9, 0.05, 3.0)
    assert defs.resources["landing"].settle_seconds == 5
    assert defs.resources["alerts"].ui_url == "http://ui.example:3000"
    assert type(defs.resources["warehouse"]).__name__ == "SnowflakeWarehouse"
    assert defs.resources["catalog"].host == "catalog.internal"
