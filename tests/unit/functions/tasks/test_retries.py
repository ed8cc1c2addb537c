from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from celery.utils.serialization import get_pickleable_exception

from functions.tasks.documents import DocumentUnreadable
from functions.tasks.messaging import NotConfigured
from functions.tasks.reports import InvalidReportType
from functions.tasks.retries import is_transient
from functions.tasks.s3io import ObjectMissing
from skylane.core.errors import DependencyUnavailable


def client_error(code: str, status: int = 400) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": code},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, "AnyOperation")


def raised_from(cause: BaseException) -> RuntimeError:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError("wrapped") from exc
    except RuntimeError as wrapped:
        return wrapped


@pytest.mark.parametrize(
    "exc",
    [
        client_error("Throttling"),
        client_error("SlowDown", 503),
        client_error("InternalError", 500),
        client_error("MessageRejected"),
        EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://email.us-east-1.amazonaws.com"),
        DependencyUnavailable("DynamoDB", "ThrottlingException"),
        raised_from(client_error("ServiceUnavailable", 503)),
    ],
    ids=lambda exc: type(exc).__name__ + ":" + str(exc)[:40],
)
def test_transient_failures_are_retried(exc: BaseException) -> None:
    assert is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        client_error("NoSuchKey", 404),
        client_error("AccessDenied", 403),
        client_error("InvalidParameterValue"),
        ObjectMissing("s3://uploads/missing.txt does not exist"),
        DocumentUnreadable("broken.pdf is not a readable PDF: EOF marker not found"),
        InvalidReportType("report_type must be one of summary, detailed"),
        NotConfigured("EMAIL_SENDER is not set"),
        ValueError("bad input"),
    ],
    ids=lambda exc: type(exc).__name__ + ":" + str(exc)[:40],
)
def test_permanent_failures_are_not_retried(exc: BaseException) -> None:
    assert not is_transient(exc)


@pytest.mark.parametrize(
    "exc",
    [
        ObjectMissing("s3://uploads/missing.txt does not exist"),
        DocumentUnreadable("broken.pdf is not a readable PDF: EOF marker not found"),
        InvalidReportType("report_type must be one of summary, detailed, not 'weekly'"),
        NotConfigured("EMAIL_SENDER is not set"),
    ],
    ids=lambda exc: type(exc).__name__,
)
def test_worker_errors_reach_the_job_record_as_themselves(exc: Exception) -> None:
    # Celery replaces an exception it cannot pickle with a wrapper, whose name and repr would
    # then be the job's error instead of this message.
    assert get_pickleable_exception(exc) is exc
