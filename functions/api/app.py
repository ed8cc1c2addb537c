"""The FastAPI app: wiring only. Logic lives in the skylane package."""

from fastapi import FastAPI

from functions.api.cold_start import serve
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
    # Served by the app itself, each route built by the first request that may match it
    # (functions/api/cold_start.py): a cold start builds the route it serves, not all 27.
    for module in (ops, uploads, submit, batch, status, jobs, cancel, schedules, dashboard):
        serve(api, module.router)
    install_error_handlers(api)
    api.add_middleware(BodySizeLimit)
    api.add_middleware(StagePrefix)
    # Outermost (added last): even a 413 or a refused request carries its id.
    api.add_middleware(RequestId)
    return api


app = create_app()
