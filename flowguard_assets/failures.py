"""How a step fails on FlowGuard's own errors (`flowguard_assets.errors`), and the one line that
explains a failed step: a transient error is retried (`RETRY_POLICY`), any other fails at once."""


from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from dagster._core.execution.plan.objects import StepFailureData  # not exported; the event's data
from dagster_shared.error import SerializableErrorInfo

from flowguard_assets.errors import FlowGuardError


# A service that is down may be back in a few seconds; bad input or settings will not be.
RETRY_POLICY = dg.RetryPolicy(max_retries=2, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


@contextmanager
def clear_failures() -> Iterator[None]:
    """Turn a FlowGuardError into a one-line step failure, retried only when transient; any other
    error is left to RETRY_POLICY."""
    try:
        yield
    except FlowGuardError as error:
        raise dg.Failure(description=str(error), allow_retries=error.transient) from error


def step_failure_reason(data: StepFailureData) -> str:
    """The line that explains a failed step: our `Failure`'s description, else the innermost error."""
    if data.user_failure_data is not None and data.user_failure_data.description:
        return data.user_failure_data.description
    return error_reason(data.error)


def error_reason(error: SerializableErrorInfo | None) -> str:
    """The first line of the innermost error of `error` (a step retried, say), without its class."""
    if error is None:
        return "the step failed"
    while error.cause is not None and error.cls_name != "Failure":
        error = error.cause
    line = next(iter(error.message.strip().splitlines()), "")
    _, separator, rest = line.partition(f"{error.cls_name}: ")
    return rest if separator else line or error.cls_name
