"""Bronze assets: every landing line of a topic, one row each (SPEC §3), and the WARN checks that
watch what the gates miss: volume and new fields (SPEC §4)."""


from collections.abc import Iterator
from datetime import date
from typing import Any

import dagster as dg
from pyspark.sql import functions as F

from flowguard_assets.checks import daily_check, emit
from flowguard_assets.partitions import daily_partitions, partition_days
from flowguard_assets.quality_history import Verdict
from flowguard_assets.resources.landing_zone import LandingZoneResource
from flowguard_assets.resources.thresholds import QualityThresholds
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import CLICKS_PROFILE, CLICKS_RAW, ORDERS_PROFILE, ORDERS_RAW, Table
from flowguard_assets.transforms import profile
from flowguard_assets.transforms.bronze import to_bronze
from flowguard_assets.transforms.metrics import DailyCounts
from flowguard_assets.assets_kit import add_daily_metadata, percent, table_asset
from flowguard_assets.failures import clear_failures

_WARN = dg.AssetCheckSeverity.WARN


def _watch_specs(table: Table) -> list[dg.AssetCheckSpec]:
    return [
        daily_check(
            table,
            "volume",
            "WARN: the day's rows are within FLOWGUARD_VOLUME_LOW..HIGH times the median of the 7 "
            "days before it that hold data.",
        ),
        daily_check(
            table,
            "new_fields",
            "WARN: no top-level event field that the contract does not name and the 7 days before "
            "did not carry.",
        ),
    ]


def _watch_verdicts(
    table: Table, profiles: dict[date, profile.DayProfile], days: list[date], bounds: QualityThresholds
) -> list[Verdict]:
    """Volume and new fields for each day of the run, earlier days of the run included in the
    history of later ones."""
    verdicts = []
    for day in days:
        today = profiles.get(day, profile.DayProfile(day, 0, {}))
        past = profile.history(profiles, day)
        compared = [p.day.isoformat() for p in past]
        volume = profile.volume(today, past, bounds.volume_low, bounds.volume_high)
        fields = profile.new_fields(today, past, table.event_fields)
        verdicts += [
            Verdict(
                dg.AssetCheckKey(table.asset_key, "volume"),
                day,
                volume.passed,
                {
                    "rows": volume.rows,
                    "median": volume.median,
                    "ratio": None if volume.ratio is None else round(volume.ratio, 4),
                    "low": bounds.volume_low,
                    "high": bounds.volume_high,
                    "days_compared": compared,
                },
                volume.description,
                _WARN,
                observed=volume.ratio,
            ),
            Verdict(
                dg.AssetCheckKey(table.asset_key, "new_fields"),
                day,
                fields.passed,
                {"new_fields": fields.new, "days_compared": compared},
                fields.description,
                _WARN,
                observed=float(len(fields.new)),
                threshold=0.0,
            ),
        ]
    return verdicts


def _profiles(
    warehouse: Warehouse, table: Table, profile_table: Table, days: list[date]
) -> dict[date, profile.DayProfile]:
    """Write the profile of the run's days from the Bronze just written, and return it with the
    profiles of every earlier day."""
    written = warehouse.read(table, days[0], days[-1], ["RAW_EVENT", "PARTITION_DATE"])
    warehouse.write(profile_table, profile.to_profile(written, table.event_fields).toArrow(), days)
    start = daily_partitions.start.date()
    rows = warehouse.read(profile_table, start, days[-1]).collect()
    return profile.day_profiles([row.asDict() for row in rows])


def bronze_asset(table: Table, profile_table: Table, storage: str) -> dg.AssetsDefinition:
    topic = table.topic

    @table_asset(table, kinds={storage}, check_specs=_watch_specs(table))
    def _bronze(
        context: dg.AssetExecutionContext,
        landing: LandingZoneResource,
        warehouse: Warehouse,
        thresholds: QualityThresholds,
    ) -> Iterator[Any]:
        days = partition_days(context)
        with clear_failures():
            files = landing.files(topic, days)
            with landing.reading(files) as lines:
                counts = DailyCounts(
                    to_bronze(lines, table),
                    table.partition_column,
                    days,
                    {"rows": F.lit(True), "malformed_lines": F.col("_MALFORMED")},
                )
                warehouse.write(table, counts.df, days)
            profiles = _profiles(warehouse, table, profile_table, days)
        add_daily_metadata(
            context,
            {
                day: {
                    "dagster/row_count": figures["rows"],
                    "files_read": sum(f.partition_date == day for f in files),
                    "malformed_lines": figures["malformed_lines"],
                    "malformed_pct": percent(figures["malformed_lines"] / figures["rows"] if figures["rows"] else 0.0),
                }
                for day, figures in counts.by_day().items()
            },
        )
        yield dg.MaterializeResult(metadata={"topic": topic})
        with clear_failures():
            yield from emit(context, _watch_verdicts(table, profiles, days, thresholds), warehouse)

    return _bronze


def bronze_assets(storage: str) -> list[dg.AssetsDefinition]:
    """ORDERS_RAW and CLICKS_RAW, stored in `storage` (a kind: parquet or snowflake)."""
    return [bronze_asset(ORDERS_RAW, ORDERS_PROFILE, storage), bronze_asset(CLICKS_RAW, CLICKS_PROFILE, storage)]
