"""The FastAPI app: wiring only. Logic lives in the skylane package."""

from fastapi import FastAPI

from functions.api.error_handlers import install_error_handlers
from functions.api.middleware import BodySizeLimit, StagePrefix
from functions.api.request_id_middleware import RequestId
from functions.api.routes import (
    batch,
    cancel,
    dashboard,
    jobs,
    ops,
    schedules,
    status,
    submit,
    uploads,
)


def create_app() -> FastAPI:
    api = FastAPI(
        title="skylane",
        summary="Submit long-running jobs and follow them to their result.",
        version="0.1.0",
    )
    # ops (with /health) first: FastAPI builds each route's matching context the first time a
    # request is matched against it, in order, so a cold /health builds only its own.
    for module in (ops, uploads, submit, batch, status, jobs, cancel, schedules, dashboard):
        api.include_router(module.router)
    install_error_handlers(api)
    api.add_middleware(BodySizeLimit)
    api.add_middleware(StagePrefix)
    # Outermost (added last): even a 413 or a refused request carries its id.
    api.add_middleware(RequestId)
    return api


app = create_app()
