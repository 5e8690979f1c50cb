"""Bronze assets: every landing line of a topic, one row each (SPEC §3)."""


import dagster as dg
from pyspark.sql import functions as F

from flowguard_assets.partitions import partition_days
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.resources.spark import SparkResource
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import CLICKS_RAW, ORDERS_RAW, Table
from flowguard_assets.transforms.bronze import to_bronze
from flowguard_assets.transforms.metrics import DailyCounts
from flowguard_assets.wiring import add_daily_metadata, clear_failures, table_asset

TOPICS = {ORDERS_RAW.name: "raw.orders.v1", CLICKS_RAW.name: "raw.clicks.v1"}


def bronze_asset(table: Table) -> dg.AssetsDefinition:
    topic = TOPICS[table.name]

    @table_asset(table)
    def _bronze(
        context: dg.AssetExecutionContext,
        spark: SparkResource,
        landing: LandingZoneResource,
        warehouse: Warehouse,
    ) -> dg.MaterializeResult:
        days = partition_days(context)
        with clear_failures():
            session = spark.get_session()
            files = landing.files(topic, days)
            rows = to_bronze(landing.read(session, files), table)
            counts = DailyCounts(
                rows,
                table.partition_column,
                days,
                {"rows": F.lit(True), "malformed_lines": F.col("_MALFORMED")},
            )
            warehouse.write(session, table, counts.df, days)
        add_daily_metadata(
            context,
            {
                day: {
                    "dagster/row_count": figures["rows"],
                    "files_read": sum(f.partition_date == day for f in files),
                    "malformed_lines": figures["malformed_lines"],
                }
                for day, figures in counts.by_day().items()
            },
        )
        return dg.MaterializeResult(metadata={"topic": topic})

    return _bronze


orders_raw = bronze_asset(ORDERS_RAW)
clicks_raw = bronze_asset(CLICKS_RAW)
