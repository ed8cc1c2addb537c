"""Outages (503) are told apart from bad requests (4xx)."""

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from kombu.exceptions import OperationalError

from skylane.core.errors import DependencyUnavailable, PermissionMissing
from skylane.core.outages import is_outage, permission_missing, unavailable_as


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        client_error("ThrottlingException", 400),
        client_error("ProvisionedThroughputExceededException", 400),
        client_error("InternalError", 500),
        client_error("Anything", 503),
    ],
)
def test_outages(error: Exception) -> None:
    assert is_outage(error)


@pytest.mark.parametrize(
    "error",
    [client_error("ValidationException", 400), client_error("NoSuchKey", 404), ValueError("x")],
)
def test_not_outages(error: Exception) -> None:
    assert not is_outage(error)


def test_kombu_wrapped_botocore_errors_are_outages() -> None:
    wrapped = OperationalError("publish failed")
    wrapped.__cause__ = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert is_outage(wrapped)


def test_unavailable_as_names_the_service() -> None:
    with pytest.raises(DependencyUnavailable) as raised, unavailable_as("SQS"):
        raise client_error("ServiceUnavailable", 503)
    assert raised.value.service == "SQS"
    assert "ServiceUnavailable" in str(raised.value)


def test_unavailable_as_lets_request_errors_through() -> None:
    with pytest.raises(ClientError), unavailable_as("S3"):
        raise client_error("NoSuchBucket", 404)


@pytest.mark.parametrize(
    "code", ["AccessDenied", "AccessDeniedException", "AuthorizationError", "InvalidClientTokenId"]
)
def test_a_refused_permission_is_no_outage_even_with_a_5xx_status(code: str) -> None:
    assert not is_outage(client_error(code, 403))
    assert not is_outage(client_error(code, 500))


def test_unavailable_as_turns_a_refused_permission_into_permission_missing() -> None:
    with pytest.raises(PermissionMissing) as raised, unavailable_as("SQS"):
        raise OperationalError("send failed") from client_error("AccessDenied", 403)
    assert raised.value.service == "SQS"
    assert raised.value.operation == "Op"
    assert str(raised.value) == "SQS denied Op: AccessDenied: m"


def test_any_403_is_a_refused_identity() -> None:
    # An error body the client could not parse leaves only the status as the code.
    denied = permission_missing(client_error("403", 403))
    assert denied is not None
    assert not is_outage(client_error("403", 403))


def test_permission_missing_is_none_for_other_errors() -> None:
    assert permission_missing(client_error("ThrottlingException", 400)) is None
    assert permission_missing(ValueError("x")) is None
