"""Where the Dagster UI is: `flowguard ui` records the address it serves in DAGSTER_HOME, so the
links other commands and the alert sensor print follow the port it was started on; an explicit
FLOWGUARD_UI_URL wins."""

import os
from pathlib import Path

DEFAULT_URL = "http://127.0.0.1:3000"
RECORD = "flowguard-ui-url"  # in DAGSTER_HOME
_ANY_ADDRESS = {"0.0.0.0", "::", ""}


def url_of(host: str, port: int) -> str:
    """The URL of a UI listening on `host`:`port` (this machine's loopback for every address)."""
    return f"http://{'127.0.0.1' if host in _ANY_ADDRESS else host}:{port}"


def record(host: str, port: int) -> str:
    """Record in DAGSTER_HOME the URL of the UI about to listen on `host`:`port`."""
    url = url_of(host, port)
    (Path(os.environ["DAGSTER_HOME"]) / RECORD).write_text(url + "\n")
    return url


def recorded(home: str | None) -> str | None:
    """The URL `flowguard ui` last recorded in `home`, if any."""
    if not home:
        return None
    try:
        return (Path(home) / RECORD).read_text().strip() or None
    except OSError:
        return None
