"""Telling 'the service is down or throttling' apart from 'the request was wrong'."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from skylane.core.errors import DependencyUnavailable, PermissionMissing

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


# Error codes that mean "this identity may not do that": a missing permission.
_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AuthorizationError",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
    }
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    current: BaseException | None = exc
    while current is not None:
        yield current
        current = current.__cause__ or current.__context__


def permission_missing(exc: BaseException, service: str = "AWS") -> PermissionMissing | None:
    """The missing permission behind exc (or an error it was raised from), if that is the cause."""
    for cause in _causes(exc):
        if isinstance(cause, PermissionMissing):
            return cause
        if isinstance(cause, ClientError):
            error = cause.response.get("Error", {})
            status = cause.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            # 403 is AWS's status for a refused identity, whatever code the body names.
            if error.get("Code") in _DENIED_CODES or status == 403:
                detail = f"{error.get('Code')}: {error.get('Message', '')}".strip(": ")
                return PermissionMissing(service, cause.operation_name, detail)
    return None


def is_outage(exc: BaseException) -> bool:
    """True when exc, or an error it was raised from, says the service could not serve us now.

    The cause chain matters because kombu re-raises botocore errors as its own OperationalError.
    """
    if permission_missing(exc) is not None:
        return False
    return any(_is_outage_error(cause) for cause in _causes(exc))


def _is_outage_error(exc: BaseException) -> bool:
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        return code in _UNAVAILABLE_CODES or status >= 500
    # Connection refused, DNS failure, timeouts: botocore raises these without a response.
    return isinstance(exc, BotoCoreError | ConnectionError | TimeoutError)


@contextmanager
def unavailable_as(service: str) -> Iterator[None]:
    """Turn an outage of `service` into DependencyUnavailable and a refusal for want of a
    permission into PermissionMissing; let other errors through."""
    try:
        yield
    except DependencyUnavailable:
        raise
    except Exception as exc:
        denied = permission_missing(exc, service)
        if denied is not None:
            raise denied from exc
        if is_outage(exc):
            raise DependencyUnavailable(service, _describe(exc)) from exc
        raise


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip(": ")
    return type(exc).__name__
