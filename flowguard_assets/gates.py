"""Which days may get Gold (SPEC §4): the latest evaluation of every Silver gate, per partition.

Every path to Gold asks this one question of the instance (a full or range run after its own gates,
a Gold-only selection, the refresh sensor, a backfill, `flowguard status`), and reads what the UI
shows for each partition of each gate.
"""

from collections.abc import Sequence
from datetime import date

import dagster as dg
from dagster._core.event_api import PartitionKeyFilter  # not exported; the storage API takes it
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus

from flowguard_assets.tables import CLICKS_CLEAN, ORDERS_CLEAN

GATE_NAMES = ("valid_rate", "duplicate_rate")
GATES = [dg.AssetCheckKey(t.asset_key, name) for t in (ORDERS_CLEAN, CLICKS_CLEAN) for name in GATE_NAMES]
BLOCKED_DAYS = "flowguard/blocked_days"  # metadata of the failure that reports blocked days


def blocked_days(instance: dg.DagsterInstance, days: Sequence[date]) -> dict[date, str]:
    """The days among `days` whose Gold is blocked, each with why: a gate whose latest evaluation
    failed, that was never evaluated (or planned by a run that did not evaluate it), or whose
    latest evaluation is older than the day's Silver."""
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
            info = infos.get((gate, partition))
            name = f"{gate.asset_key.to_user_string()} {gate.name}"
            if info is None:
                reasons.append(f"{name} was never evaluated")
            elif info.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED:
                reasons.append(f"{name} has no result from its latest run")
            elif info.latest_execution_status == AssetCheckExecutionRecordStatus.FAILED:
                reasons.append(f"{name} failed: {_description(instance, gate, partition)}")
            elif not info.is_current:
                reasons.append(f"{name} was not evaluated on the latest Silver")
        if reasons:
            blocked[day] = "; ".join(reasons)
    return blocked


def _description(instance: dg.DagsterInstance, gate: dg.AssetCheckKey, partition: str) -> str:
    records = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [gate], partition_filter=PartitionKeyFilter(key=partition)
    )
    evaluation = records[gate].event.dagster_event.event_specific_data
    return evaluation.description or "the check did not pass"


def blocked_message(blocked: dict[date, str]) -> str:
    """One line for a run whose Gold was not written for `blocked` days."""
    days = ", ".join(f"{day.isoformat()} ({reason})" for day, reason in sorted(blocked.items()))
    return f"Gold not written for {days}; the Gold these days had is kept"
