"""Telling 'the service is down or throttling' apart from 'the request was wrong'."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from skylane.errors import DependencyUnavailable

# Error codes that mean "try again later", not "your request is wrong".
_UNAVAILABLE_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestLimitExceeded",
        "ProvisionedThroughputExceededException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "SlowDown",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "RequestTimeout",
        "RequestTimeoutException",
        "AWS.SimpleQueueService.ServiceUnavailable",
    }
)


def is_outage(exc: BaseException) -> bool:
    """True when exc, or an error it was raised from, says the service could not serve us now.

    The cause chain matters because kombu re-raises botocore errors as its own OperationalError.
    """
    current: BaseException | None = exc
    while current is not None:
        if _is_outage_error(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_outage_error(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _UNAVAILABLE_CODES or status >= 500
    # Connection refused, DNS failure, timeouts: botocore raises these without a response.
    return isinstance(exc, BotoCoreError | ConnectionError | TimeoutError)


@contextmanager
def unavailable_as(service: str) -> Iterator[None]:
    """Turn an outage of `service` into DependencyUnavailable; let other errors through."""
    try:
        yield
    except DependencyUnavailable:
        raise
    except Exception as exc:
        if is_outage(exc):
            raise DependencyUnavailable(service, _describe(exc)) from exc
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return type(exc).__name__
