"""Lambda entry point: the FastAPI app behind API Gateway (HTTP API 2.0 or REST API 1.0)."""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from functions.api.cold_start import collector_paused, defer_import

ROUTE_HELPERS = (
    "functions.api.job_listing",
    "functions.api.job_logs",
    "functions.api.schedule_actions",
    "functions.api.upload_objects",
    "functions.api.views",
    "skylane.queues.dead_letters",
    "skylane.queues.pairs",
    "skylane.queues.stats",
    "skylane.schedules.invocations",
)

with collector_paused():
    # Powertools' Logger imports its JMESPath helpers (jmespath, gzip: about 25 ms) for
    # correlation_id_path, which skylane does not use.
    defer_import("aws_lambda_powertools.utilities.jmespath_utils")
    # What only some routes use, imported by their first request (routes import these
    # modules, not names from them).
    for module in ROUTE_HELPERS:
        defer_import(module)
    from mangum import Mangum

    from functions.api.app import app
    from functions.api.snapstart import register_hooks
    from skylane.observability.logs import logger
    from skylane.observability.tracing import traced

if TYPE_CHECKING:
    # Only a type: importing it at run time would cost the cold start a module or three.
    from aws_lambda_powertools.utilities.typing import LambdaContext

# lifespan off: clients are created lazily and cached, never per request or at startup events.
asgi_handler: Callable[[dict[str, Any], Any], Any] = traced(Mangum(app, lifespan="off"))
register_hooks(app)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: "LambdaContext") -> Any:
    return asgi_handler(event, context)
