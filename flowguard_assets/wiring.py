"""Dagster wiring shared by the Bronze, Silver and Gold assets."""


import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from typing import Any

import dagster as dg
from dagster_shared.error import SerializableErrorInfo

from flowguard_assets import __version__
from flowguard_assets.config import ConfigError
from flowguard_assets.landing import LandingError
from flowguard_assets.partitions import daily_partitions
from flowguard_assets.resources.catalog import CatalogError, CatalogUnavailable
from flowguard_assets.resources.warehouse import WarehouseError, WarehouseUnavailable
from flowguard_assets.tables import Table, column_lineage


OWNER = "team:data-platform"
_KNOWN_ERRORS = (LandingError, CatalogError, WarehouseError, ConfigError)
_TRANSIENT_ERRORS = (CatalogUnavailable, WarehouseUnavailable)
# A service that is down may be back in a few seconds; bad input or settings will not be.
RETRY_POLICY = dg.RetryPolicy(
    max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
# An error of ours raised inside a Spark Python worker reaches the driver as text.
_WORKER_ERROR = re.compile(r"(?:LandingError|CatalogError|WarehouseError): (.+)")


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


@contextmanager
def clear_failures() -> Iterator[None]:
    """Turn FlowGuard's own errors, also when raised in a Spark worker, into a one-line failure;
    only a service that is down is retried (RETRY_POLICY), and so is any unexpected error."""
    try:
        yield
    except _KNOWN_ERRORS as error:
        transient = isinstance(error, _TRANSIENT_ERRORS)
        raise dg.Failure(description=str(error), allow_retries=transient) from error
    except Exception as error:
        match = _WORKER_ERROR.search(str(error))
        if match is None:
            raise
        raise dg.Failure(description=match.group(1).strip(), allow_retries=False) from error


def root_cause(error: SerializableErrorInfo) -> str:
    """The line that explains a failed step: our `Failure` (it names the file, host or variable)
    wherever retries or Spark wrapped it, else the innermost error."""
    chain = [error]
    while chain[-1].cause is not None:
        chain.append(chain[-1].cause)
    cause = next((e for e in chain if e.cls_name == "Failure"), chain[-1])
    line = cause.message.strip().splitlines()[0] if cause.message.strip() else cause.cls_name
    return line.removeprefix("dagster._core.definitions.events.Failure: ")
