"""Which days may get Gold (SPEC §4): the latest evaluation of every Silver gate, per partition.

Every path to Gold asks this one question of the instance (a full or range run after its own gates,
a Gold-only selection, the refresh sensor, a backfill, `flowguard status`), and reads what the UI
shows for each partition of each gate.
"""

from collections.abc import Sequence
from datetime import date

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter  # not exported; the storage API takes it
from dagster._core.storage.asset_check_execution_record import (
    COMPLETED_ASSET_CHECK_EXECUTION_RECORD_STATUSES as _COMPLETED,
)

from flowguard_assets.tables import CLICKS_CLEAN, ORDERS_CLEAN

GATE_NAMES = ("valid_rate", "duplicate_rate")
GATES = [dg.AssetCheckKey(t.asset_key, name) for t in (ORDERS_CLEAN, CLICKS_CLEAN) for name in GATE_NAMES]
BLOCKED_DAYS = "flowguard/blocked_days"  # metadata of the failure that reports blocked days


def blocked_days(instance: dg.DagsterInstance, days: Sequence[date]) -> dict[date, str]:
    """The days among `days` whose Gold is blocked, each with why: a gate whose latest result
    failed, that has no result, or whose latest result is about an older Silver than the day's.

    The latest *result*: a run that planned a gate and has not evaluated it yet (one running at
    the same time, or one that died) leaves the result before it standing."""
    partitions = [day.isoformat() for day in days]
    infos = {
        (info.check_key, info.partition_key): info
        for info in instance.event_log_storage.get_asset_check_partition_info(
            GATES, partition_keys=partitions
        )
    }
    blocked = {}
    for day, partition in zip(days, partitions):
        reasons = []
        for gate in GATES:
            name = f"{gate.asset_key.to_user_string()} {gate.name}"
            info = infos.get((gate, partition))
            evaluation = _latest_result(instance, gate, partition) if info else None
            if evaluation is None:
                reasons.append(f"{name} was never evaluated")
            elif not evaluation.passed:
                reasons.append(f"{name} failed: {evaluation.description or 'the check did not pass'}")
            elif not _about(evaluation, info.latest_materialization_storage_id):
                reasons.append(f"{name} was not evaluated on the latest Silver")
        if reasons:
            blocked[day] = "; ".join(reasons)
    return blocked


def _latest_result(instance: dg.DagsterInstance, gate: dg.AssetCheckKey, partition: str):
    """The latest completed evaluation of `gate` for `partition`, or None."""
    records = instance.event_log_storage.get_asset_check_execution_history(
        gate, limit=1, status=_COMPLETED, partition_filter=PartitionKeyFilter(key=partition)
    )
    return records[0].event.dagster_event.event_specific_data if records else None


def _about(evaluation: dg.AssetCheckEvaluation, latest_silver: int | None) -> bool:
    """Whether `evaluation` was about the latest Silver materialization of its day."""
    target = evaluation.target_materialization_data
    return latest_silver is None or (target is not None and target.storage_id == latest_silver)


def blocked_message(blocked: dict[date, str]) -> str:
    """One line for a run whose Gold was not written for `blocked` days."""
    days = ", ".join(f"{day.isoformat()} ({reason})" for day, reason in sorted(blocked.items()))
    return f"Gold not written for {days}; the Gold these days had is kept"
