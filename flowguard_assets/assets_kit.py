"""What every FlowGuard table asset shares: its UI attributes, daily partitions and retry policy
(`table_asset`, `table_spec`), and per-day metadata helpers."""


from collections.abc import Mapping
from datetime import date
from typing import Any

import dagster as dg

from flowguard_assets import __version__
from flowguard_assets.failures import RETRY_POLICY
from flowguard_assets.partitions import daily_partitions
from flowguard_assets.tables import Table, column_lineage


OWNER = "team:data-platform"


def _table_attributes(table: Table, kinds: set[str]) -> dict[str, Any]:
    """What the UI shows of a FlowGuard table: key, group, kinds (Spark and `kinds`: the storage,
    any service it reads), owner, version, column schema and lineage."""
    return {
        "key": table.asset_key,
        "group_name": table.schema,
        "description": table.description,
        "kinds": {"spark", *kinds},
        "owners": [OWNER],
        "code_version": __version__,
        "metadata": {
            "dagster/column_schema": table.table_schema,
            "dagster/table_name": table.qualified_name,
            **({"dagster/column_lineage": lineage} if (lineage := column_lineage(table)) else {}),
        },
    }


def table_asset(table: Table, *, kinds: set[str], deps: list[dg.AssetKey] | None = None, **kwargs: Any):
    """`@dg.asset` for a FlowGuard table: its attributes, daily partitions and a single-run
    backfill policy (a range of days is one Spark job)."""
    return dg.asset(
        **_table_attributes(table, kinds),
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        deps=deps,
        retry_policy=RETRY_POLICY,
        **kwargs,
    )


def table_spec(table: Table, *, kinds: set[str], deps: list[dg.AssetKey], **kwargs: Any) -> dg.AssetSpec:
    """A FlowGuard table as one asset of a `@dg.multi_asset` step (its attributes and partitions)."""
    return dg.AssetSpec(
        **_table_attributes(table, kinds), deps=deps, partitions_def=daily_partitions, **kwargs
    )


def add_daily_metadata(
    context: dg.AssetExecutionContext, metadata_by_day: Mapping[date, Mapping[str, Any]]
) -> None:
    """Attach each day's figures to that partition's materialization, so the UI plots them."""
    for day, metadata in metadata_by_day.items():
        context.add_asset_metadata(dict(metadata), partition_key=day.isoformat())


def percent(rate: float) -> float:
    """A rate as the percentage the UI plots (0.8836601 -> 88.37), next to the exact fraction."""
    return round(100 * rate, 2)


def markdown_table(rows: list[Mapping[str, Any]], columns: list[str]) -> str:
    """A small Markdown table of `rows`, for a preview in the Dagster UI."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join("" if r[c] is None else str(r[c]) for c in columns) + " |" for r in rows]
    return "\n".join(lines)
