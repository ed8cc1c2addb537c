"""ASGI middleware: one request id per request, on every log line and on the response.

Mangum puts the API Gateway event in the scope ("aws.event"); its requestContext.requestId is
the id API Gateway also writes to its access log. Locally (uvicorn) a client's X-Request-Id
or a fresh uuid is used. Submissions made while the request runs carry it to the worker.
"""

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from functions.api.middleware import send_json_error
from skylane.observability import request_ids

_HEADER_KEY = request_ids.HEADER.lower().encode()


class RequestId:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = dict(scope.get("headers", [])).get(_HEADER_KEY)
        try:
            request_id = request_ids.choose(
                scope.get("aws.event"),
                header.decode("latin-1") if header is not None else None,
            )
        except request_ids.InvalidRequestId as exc:
            await send_json_error(send, 400, str(exc))
            return

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() != _HEADER_KEY
                ]
                headers.append((_HEADER_KEY, request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with request_ids.bound(request_id):
            await self.app(scope, receive, send_with_id)
