"""Every failure a client can cause or meet becomes a clear JSON answer, never a bare 500."""

from typing import Any

from botocore.exceptions import ClientError
from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from skylane.core.errors import DependencyUnavailable, InvalidInput, PermissionMissing
from skylane.core.outages import permission_missing
from skylane.jobs.idempotency import IdempotencyConflict
from skylane.observability.logs import logger

RETRY_AFTER_SECONDS = 5


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(InvalidInput, _invalid_input)
    app.add_exception_handler(DependencyUnavailable, _dependency_unavailable)
    app.add_exception_handler(IdempotencyConflict, _idempotency_conflict)
    app.add_exception_handler(PermissionMissing, _permission_missing)
    app.add_exception_handler(ClientError, _aws_error)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # Only where and what: echoing the offending input back could return megabytes.
    errors = [
        {
            "loc": list(error.get("loc", [])),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": errors}
    )


async def _invalid_input(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidInput)
    detail: list[dict[str, Any]] = [
        {"loc": ["body", exc.field], "msg": exc.message, "type": "value_error"}
    ]
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT, content={"detail": detail}
    )


async def _idempotency_conflict(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={
            "detail": [
                {
                    "loc": ["header", "Idempotency-Key"],
                    "msg": str(exc),
                    "type": "idempotency_conflict",
                }
            ]
        },
    )


async def _dependency_unavailable(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DependencyUnavailable)
    logger.warning("dependency unavailable", extra={"service": exc.service, "reason": exc.detail})
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={
            "detail": f"{exc.service} is unavailable right now.{_nothing_accepted(request)} "
            f"Try again in {RETRY_AFTER_SECONDS} seconds."
        },
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _nothing_accepted(request: Request) -> str:
    return " No job was accepted." if request.method == "POST" else ""


async def _permission_missing(request: Request, exc: Exception) -> JSONResponse:
    """A configuration fault: retrying cannot help, so no 503 and no Retry-After."""
    assert isinstance(exc, PermissionMissing)
    logger.error(
        "AWS permission missing",
        extra={"service": exc.service, "operation": exc.operation, "reason": exc.detail},
    )
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={
            "detail": "skylane is not allowed to do this in its AWS account: a permission is "
            f"missing from its deployment.{_nothing_accepted(request)} The operators' logs "
            "name the denied action."
        },
    )


async def _aws_error(request: Request, exc: Exception) -> JSONResponse:
    """An AWS error no route turned into an answer: a missing permission, or a bug."""
    assert isinstance(exc, ClientError)
    denied = permission_missing(exc)
    if denied is not None:
        return await _permission_missing(request, denied)
    logger.exception("unexpected AWS error", exc_info=exc)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "skylane failed to handle this request."},
    )
