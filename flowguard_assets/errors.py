"""FlowGuard's own errors: each names the file, host, table or variable at fault, so its message
is the one line a person reads; a `transient` one (a service that is down) is worth retrying.

Plain Python with no dependencies: Spark's Python workers import it with the landing reader.
"""


class FlowGuardError(RuntimeError):
    """An error FlowGuard explains itself."""

    transient = False


class ConfigError(FlowGuardError, ValueError):
    """A setting from the environment is invalid; the message names the variable."""


class LandingError(FlowGuardError):
    """A landing folder is missing or a landing file cannot be read; names the folder or file."""


class CatalogError(FlowGuardError):
    """The food catalog cannot be read or written; names the host or file."""


class CatalogUnavailable(CatalogError):
    """The catalog's Postgres cannot be reached; trying again later may work."""

    transient = True


class WarehouseError(FlowGuardError):
    """A table cannot be read or written; the message names the table and the path or host."""


class WarehouseUnavailable(WarehouseError):
    """The warehouse cannot be reached; trying again later may work."""

    transient = True
