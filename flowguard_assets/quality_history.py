"""AUDIT.CHECK_RESULTS (SPEC §4, Quality history): every check evaluation, next to the data.

Each step that evaluates checks writes its evaluations in one write through the warehouse, scoped
to the run and the step's checked assets: writing them again replaces that run's rows for those
assets, and every other run's rows stay.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import dagster as dg
from flowguard_assets.resources.warehouse import Warehouse
from flowguard_assets.tables import CHECK_RESULTS


@dataclass(frozen=True)
class Verdict:
    """One check's evaluation for one day."""

    check: dg.AssetCheckKey
    day: date
    passed: bool
    metadata: dict[str, Any]
    description: str = ""
    severity: dg.AssetCheckSeverity = field(default=dg.AssetCheckSeverity.ERROR)
    observed: float | None = None  # the measured value: a rate, a ratio or a count
    threshold: float | None = None  # the bound it is held to, where there is one


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 6)))


def record(warehouse: Warehouse, run_id: str, verdicts: Sequence[Verdict]) -> None:
    """Write `verdicts` (one step's) as the run's rows of AUDIT.CHECK_RESULTS for their assets."""
    if not verdicts:
        return
    evaluated_at = datetime.now(UTC).replace(tzinfo=None)
    rows = [
        {
            "CHECK_NAME": v.check.name,
            "ASSET_KEY": v.check.asset_key.to_user_string(),
            "PASSED": v.passed,
            "SEVERITY": v.severity.value,
            "OBSERVED": _decimal(v.observed),
            "THRESHOLD": _decimal(v.threshold),
            "DETAILS": json.dumps(v.metadata, default=str, sort_keys=True),
            "RUN_ID": run_id,
            "EVALUATED_AT": evaluated_at,
            "PARTITION_DATE": v.day,
        }
        for v in verdicts
    ]
    assets = sorted({row["ASSET_KEY"] for row in rows})
    days = sorted({v.day for v in verdicts})
    warehouse.write_rows(CHECK_RESULTS, rows, days, scope={"RUN_ID": [run_id], "ASSET_KEY": assets})
