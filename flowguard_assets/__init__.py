"""FlowGuard's Dagster code location: `dagster ... -m flowguard_assets` loads `defs`.

`defs` is loaded on first access, so Spark's Python workers, which import the package's landing
reader, do not load Dagster or read the environment.
"""

__version__ = "1.0.0"


def __getattr__(name: str):
    if name == "defs":
        from flowguard_assets.definitions import defs

        return defs
    raise AttributeError(f"module 'flowguard_assets' has no attribute {name!r}")


def __dir__() -> list[str]:
    return ["__version__", "defs"]
