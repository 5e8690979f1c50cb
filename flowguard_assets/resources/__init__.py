"""Resources, built from the settings: the only place where configuration picks an implementation."""


import os

import dagster as dg

from flowguard_assets.config import Settings
from flowguard_assets.resources.alerts import AlertWebhookResource
from flowguard_assets.resources.catalog import FoodCatalogResource
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.resources.local_warehouse import LocalWarehouse
from flowguard_assets.resources.spark import SparkResource
from flowguard_assets.resources.thresholds import QualityThresholds
from flowguard_assets.resources.warehouse import Warehouse


def secret(name: str) -> dg.EnvVar | None:
    """A secret read from the environment at run time, never stored in definitions."""
    return dg.EnvVar(name) if os.environ.get(name) else None


def build_warehouse(settings: Settings, spark: SparkResource | None = None) -> Warehouse:
    """The local Parquet warehouse, or Snowflake when FLOWGUARD_WAREHOUSE=snowflake, reading into
    `spark` (by default a session on SPARK_MASTER, started on first use)."""
    spark = spark or SparkResource.on(settings.spark_master, settings.spark_remote)
    if settings.warehouse != "snowflake":
        return LocalWarehouse(root=str(settings.warehouse_dir), spark=spark)
    # Imported only for Snowflake: dagster_snowflake takes seconds to import, and every
    # `flowguard` command imports this package (through resources.spark).
    from dagster_snowflake import SnowflakeResource

    from flowguard_assets.resources.snowflake_warehouse import SnowflakeWarehouse

    options = settings.snowflake
    endpoint = {k: options[k] for k in ("host", "port", "protocol") if k in options}
    if "port" in endpoint:
        endpoint["port"] = int(endpoint["port"])
    return SnowflakeWarehouse(
        spark=spark,
        snowflake=SnowflakeResource(
            account=options["account"],
            user=options["user"],
            password=secret("SNOWFLAKE_PASSWORD"),
            private_key=secret("SNOWFLAKE_PRIVATE_KEY"),
            private_key_password=secret("SNOWFLAKE_PRIVATE_KEY_PASSWORD"),
            database=options["database"],
            warehouse=options.get("warehouse"),
            role=options.get("role"),
            timezone="UTC",
            additional_snowflake_connection_args=endpoint or None,
        )
    )


def build_resources(settings: Settings) -> dict[str, dg.ConfigurableResource]:
    """Every resource of the code location; the warehouse, catalog and landing zone share the
    one Spark resource, which starts the session on first use."""
    spark = SparkResource.on(settings.spark_master, settings.spark_remote)
    catalog = (
        FoodCatalogResource(
            host=settings.postgres_host,
            port=settings.postgres_port,
            database=settings.postgres_db,
            user=settings.postgres_user,
            password=secret("POSTGRES_PASSWORD"),
            spark=spark,
        )
        if settings.postgres_host
        else FoodCatalogResource(file=str(settings.catalog_file) if settings.catalog_file else None, spark=spark)
    )
    return {
        "spark": spark,
        "landing": LandingZoneResource(
            path=settings.landing_dir, settle_seconds=settings.landing_settle_seconds, spark=spark
        ),
        "catalog": catalog,
        "warehouse": build_warehouse(settings, spark),
        "alerts": AlertWebhookResource(url=secret("FLOWGUARD_ALERT_WEBHOOK_URL"), ui_url=settings.ui_url),
        "thresholds": QualityThresholds(
            min_valid_rate=settings.min_valid_rate,
            max_duplicate_rate=settings.max_duplicate_rate,
            volume_low=settings.volume_low,
            volume_high=settings.volume_high,
        ),
    }
