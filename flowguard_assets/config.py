"""Environment -> settings, in one place (SPEC §5).

Secrets (POSTGRES_PASSWORD, SNOWFLAKE_PASSWORD, FLOWGUARD_ALERT_WEBHOOK_URL, ...) are not read here: resources take them through
`dagster.EnvVar`, so their values never reach definitions, logs or the UI.
"""


import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flowguard_assets.errors import ConfigError
from flowguard_assets.ui_address import DEFAULT_URL, recorded


@dataclass(frozen=True)
class Settings:
    landing_dir: str  # an absolute local path, or an object-store URI (s3://, gs://, abfs://)
    warehouse: str
    warehouse_dir: Path
    catalog_file: Path | None
    postgres_host: str | None
    postgres_port: int
    postgres_db: str | None
    postgres_user: str | None
    snowflake: dict[str, str]
    spark_master: str
    spark_remote: str | None
    spark_port: int  # of FlowGuard's own Spark Connect server
    start_date: date
    min_valid_rate: float
    max_duplicate_rate: float
    volume_low: float
    volume_high: float
    sensor_interval_seconds: int
    landing_settle_seconds: int
    ui_url: str


def _text(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _number(env: Mapping[str, str], name: str, default: float, ok, expected: str) -> float:
    """A number setting that `ok` accepts, else a ConfigError saying it must be `expected`."""
    raw = _text(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = None
    if value is None or not ok(value):
        raise ConfigError(f"{name} must be {expected}, got {raw!r}")
    return value


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, lambda v: 0.0 <= v <= 1.0, "a number between 0 and 1")


def _factor(env: Mapping[str, str], name: str, default: float) -> float:
    return _number(env, name, default, lambda v: v > 0, "a positive number (times the recent median)")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"{name} must be a TCP port number, got {raw!r}")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _text(env, name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}")
    return int(raw)


def _date(env: Mapping[str, str], name: str, default: str) -> date:
    raw = _text(env, name) or default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from None


def _location(text: str) -> str:
    return text.rstrip("/") if "://" in text else str(Path(text).absolute())


def start_date(env: Mapping[str, str] | None = None) -> date:
    """FLOWGUARD_START_DATE, the first daily partition: read alone, as the partitions are defined on import."""
    return _date(os.environ if env is None else env, "FLOWGUARD_START_DATE", "2026-02-01")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (_text(env, name) or default).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


_SNOWFLAKE = ("ACCOUNT", "USER", "DATABASE", "WAREHOUSE", "ROLE", "HOST", "PORT", "PROTOCOL")
_SNOWFLAKE_REQUIRED = ("ACCOUNT", "USER", "DATABASE")


def _snowflake(env: Mapping[str, str]) -> dict[str, str]:
    """SNOWFLAKE_* connection settings (not secrets), required when the warehouse is Snowflake."""
    found = {name.lower(): value for name in _SNOWFLAKE if (value := _text(env, f"SNOWFLAKE_{name}"))}
    if (_text(env, "FLOWGUARD_WAREHOUSE") or "").lower() == "snowflake":
        for name in _SNOWFLAKE_REQUIRED:
            if name.lower() not in found:
                raise ConfigError(f"SNOWFLAKE_{name} must be set when FLOWGUARD_WAREHOUSE=snowflake")
    if "port" in found:
        _port(env, "SNOWFLAKE_PORT", 443)
    return found


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read FlowGuard's settings from the environment, with SPEC §5's defaults."""
    env = os.environ if env is None else env
    catalog_file = _text(env, "FLOWGUARD_CATALOG_FILE")
    return Settings(
        landing_dir=_location(_text(env, "FLOWGUARD_LANDING_DIR") or "data/landing"),
        warehouse=_choice(env, "FLOWGUARD_WAREHOUSE", "local", ("local", "snowflake")),
        warehouse_dir=Path(_text(env, "FLOWGUARD_WAREHOUSE_DIR") or "data/warehouse").absolute(),
        catalog_file=Path(catalog_file).absolute() if catalog_file else None,
        postgres_host=_text(env, "POSTGRES_HOST"),
        postgres_port=_port(env, "POSTGRES_PORT", 5432),
        postgres_db=_text(env, "POSTGRES_DB"),
        postgres_user=_text(env, "POSTGRES_USER"),
        snowflake=_snowflake(env),
        spark_master=_text(env, "SPARK_MASTER") or "local[*]",
        spark_remote=_text(env, "SPARK_REMOTE"),
        spark_port=_port(env, "FLOWGUARD_SPARK_PORT", 15002),
        start_date=start_date(env),
        min_valid_rate=_rate(env, "FLOWGUARD_MIN_VALID_RATE", 0.95),
        max_duplicate_rate=_rate(env, "FLOWGUARD_MAX_DUPLICATE_RATE", 0.05),
        volume_low=_factor(env, "FLOWGUARD_VOLUME_LOW", 0.5),
        volume_high=_factor(env, "FLOWGUARD_VOLUME_HIGH", 2.0),
        sensor_interval_seconds=_seconds(env, "FLOWGUARD_SENSOR_INTERVAL_SECONDS", 30),
        landing_settle_seconds=_seconds(env, "FLOWGUARD_LANDING_SETTLE_SECONDS", 60),
        ui_url=(_text(env, "FLOWGUARD_UI_URL") or recorded(env.get("DAGSTER_HOME")) or DEFAULT_URL).rstrip("/"),
    )
