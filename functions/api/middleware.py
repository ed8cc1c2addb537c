"""Small ASGI middlewares: a body-size limit and API Gateway stage prefixes."""

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Job inputs must fit an SQS message; anything bigger is refused before it is read.
MAX_BODY_BYTES = 256 * 1024


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        # Read the body here (bounded) and replay it: an error raised while the app itself
        # reads would surface as FastAPI's generic 400 instead of a clear 413.
        body = b""
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
            more_body = message.get("more_body", False)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        await send_json_error(
            send,
            413,
            f"Request body is larger than {self.max_bytes} bytes; job inputs must fit in an SQS "
            "message. Upload large inputs with POST /uploads.",
        )


async def send_json_error(send: Send, status: int, detail: str) -> None:
    """An error response in FastAPI's {"detail": ...} shape, from middleware outside the app."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class StagePrefix:
    """Serve /docs correctly behind a REST API (payload 1.0) stage such as /Prod.

    The REST API strips the stage from the path it passes on, so the docs page would ask for
    /openapi.json instead of /Prod/openapi.json. Mangum puts the raw event in the scope; its
    requestContext.path still carries the stage, which becomes the ASGI root_path.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        event = scope.get("aws.event")
        if scope["type"] == "http" and isinstance(event, dict):
            context = event.get("requestContext") or {}
            stage = context.get("stage")
            full_path = context.get("path")
            if (
                isinstance(stage, str)
                and isinstance(full_path, str)
                and stage != "$default"
                and full_path.startswith(f"/{stage}/")
            ):
                scope = {**scope, "root_path": f"/{stage}"}
        await self.app(scope, receive, send)
