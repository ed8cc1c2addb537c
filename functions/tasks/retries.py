"""Which failures a job retries (3 times, 60 s apart, by default) and which end it."""

from botocore.exceptions import ClientError

from skylane.core.errors import DependencyUnavailable
from skylane.core.outages import is_outage

# SES answers MessageRejected while the sender identity is not verified yet: an operator can
# verify it within the retry window and the same message then goes through.
_RETRYABLE_CODES = frozenset({"MessageRejected"})


def is_transient(exc: BaseException) -> bool:
    """True when the same job could succeed later; anything else fails the job at once."""
    if isinstance(exc, DependencyUnavailable) or is_outage(exc):
        return True
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code") in _RETRYABLE_CODES
    )
