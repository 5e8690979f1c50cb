"""The code location's names, built in-process: every asset key, asset check key, job, schedule and
sensor name against the committed snapshots/definitions.txt, so renaming or dropping one shows up
as a diff in review rather than as lost history or a silent schedule in production.

After an intended change, rewrite the snapshot and commit it with the change:
FLOWGUARD_UPDATE_SNAPSHOT=1 .venv/bin/python -m pytest flowguard_assets_tests/test_definitions.py
"""

import difflib
import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.fast

SNAPSHOT = Path(__file__).parent / "snapshots" / "definitions.txt"
UPDATE = "FLOWGUARD_UPDATE_SNAPSHOT"
REWRITE = f"{UPDATE}=1 .venv/bin/python -m pytest flowguard_assets_tests/test_definitions.py"


def definition_names() -> list[str]:
    """`<kind> <name>` for everything the code location serves (Dagster's implicit job too)."""
    from flowguard_assets import defs

    repository = defs.get_repository_def()
    graph = defs.resolve_asset_graph()
    names = {
        "asset": [key.to_user_string() for key in graph.get_all_asset_keys()],
        "check": [key.to_user_string() for key in graph.asset_check_keys],
        "job": repository.job_names,
        "schedule": [schedule.name for schedule in repository.schedule_defs],
        "sensor": [sensor.name for sensor in repository.sensor_defs],
    }
    return [f"{kind} {name}" for kind, found in names.items() for name in sorted(found)]


def test_definitions_match_the_snapshot():
    current = definition_names()
    if os.environ.get(UPDATE) == "1":
        header = f"# <kind> <name>, sorted; `{REWRITE}` rewrites this file\n"
        SNAPSHOT.write_text(header + "".join(f"{line}\n" for line in current))
        pytest.fail(f"{SNAPSHOT} rewritten because {UPDATE}=1: review it, commit it, run again without {UPDATE}")
    committed = [line for line in SNAPSHOT.read_text().splitlines() if not line.startswith("#")]
    if current != committed:
        diff = difflib.unified_diff(committed, current, f"{SNAPSHOT.name} (committed)", "defs (built now)", lineterm="")
        pytest.fail(
            f"The definitions differ from {SNAPSHOT}; if that is intended, run `{REWRITE}` and commit "
            "the file:\n" + "\n".join(diff),
            pytrace=False,
        )


def test_the_layout_status_reads_is_the_definitions_graph():
    """`flowguard status` and `--select` read `layout` instead of loading the definitions."""
    from flowguard_assets import defs, layout

    graph = defs.resolve_asset_graph()
    assert {t.asset_key: layout.parents(t) for t in layout.ASSET_TABLES} == {
        key: set(graph.get(key).parent_keys) for key in graph.materializable_asset_keys
    }
    assert sorted(layout.check_keys()) == sorted(graph.asset_check_keys)
    chosen = layout.select("silver, gold/daily_gmv_metrics")
    assert [k.to_user_string() for k in chosen] == ["silver/orders_clean", "silver/clicks_clean", "gold/daily_gmv_metrics"]
    with pytest.raises(ValueError, match=r"^--select 'silverr' matches no asset; one of bronze, silver, gold, bronze/orders_raw, "):
        layout.select("silverr")
