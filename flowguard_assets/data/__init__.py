"""Data shipped with the package: the bundled food catalog."""

import json
from importlib import resources


def bundled_catalog() -> list[dict]:
    """The food catalog shipped with the package (SPEC §2 objects)."""
    return json.loads(resources.files(__name__).joinpath("foods.json").read_text(encoding="utf-8"))
