"""The asset graph as `flowguard status` and `--select` read it without loading the definitions
(no resource or Spark imports, so they answer in about a second): the tables that are assets, each
one's parents (the tables its column lineage reads) and its checks. `test_definitions` asserts it
equals the definitions' graph."""

import dagster as dg

from flowguard_assets.tables import BRONZE_TABLES, CLICKS_CLEAN, GOLD_TABLES, LINEAGE, ORDERS_CLEAN, Table

ASSET_TABLES = (*BRONZE_TABLES, ORDERS_CLEAN, CLICKS_CLEAN, *GOLD_TABLES)
LAYERS = ("bronze", "silver", "gold")
WATCH_CHECKS = ("volume", "new_fields")  # Bronze, WARN: they warn, never fail a day
CHECKS = {
    "bronze": WATCH_CHECKS,
    "silver": ("valid_rate", "duplicate_rate"),  # the gates
    "gold": ("reconciles_with_silver", "agrees_with_other_gold", "keys_unique_and_counts_non_negative"),
}


def parents(table: Table) -> set[dg.AssetKey]:
    """The assets `table` is built from."""
    return {source.asset_key for sources in LINEAGE.get(table.name, {}).values() for source, _ in sources}


def check_keys() -> list[dg.AssetCheckKey]:
    return [dg.AssetCheckKey(t.asset_key, name) for t in ASSET_TABLES for name in CHECKS[t.schema]]


def select(text: str) -> list[dg.AssetKey]:
    """The asset keys a comma-separated list of layers and asset keys names; ValueError naming an
    item that matches none, with the names that would."""
    chosen = []
    for item in (part.strip() for part in text.split(",")):
        matching = [t.asset_key for t in ASSET_TABLES if item in (t.schema, t.asset_key.to_user_string())]
        if not matching:
            names = ", ".join([*LAYERS, *(t.asset_key.to_user_string() for t in ASSET_TABLES)])
            raise ValueError(f"--select {item!r} matches no asset; one of {names}")
        chosen += matching
    return chosen
