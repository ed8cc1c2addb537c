"""Lambda entry point: the FastAPI app behind API Gateway (HTTP API 2.0 or REST API 1.0)."""

from mangum import Mangum

from functions.api.app import app

# lifespan off: clients are created lazily and cached, never per request or at startup events.
handler = Mangum(app, lifespan="off")
