"""One cold start, run in a fresh interpreter: import a handler module, invoke it once with an
API Gateway HTTP API (2.0) event for GET /health, print the timings as JSON.

``python -m bench.coldstart_probe functions.api.handler``
"""

import time

STARTED = time.perf_counter()

import importlib  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

EVENT = Path(__file__).resolve().parents[1] / "tests" / "events" / "http_api_proxy.json"


class LambdaContext:
    function_name = "ApiFunction"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    aws_request_id = "bench-request"


def health_event() -> dict[str, Any]:
    event: dict[str, Any] = json.loads(EVENT.read_text())
    event.update(
        rawPath="/health",
        rawQueryString="",
        headers={"accept": "application/json"},
        cookies=[],
        queryStringParameters=None,
        pathParameters={"proxy": "health"},
        isBase64Encoded=False,
        body=None,
    )
    event["requestContext"]["http"].update(method="GET", path="/health")
    return event


def main() -> None:
    event = health_event()
    cpu_before = time.process_time()
    before_import = time.perf_counter()
    module = importlib.import_module(sys.argv[1])
    imported = time.perf_counter()
    response = module.handler(event, LambdaContext())
    answered = time.perf_counter()
    cpu_used = time.process_time() - cpu_before
    if response["statusCode"] != 200:
        raise SystemExit(f"/health answered {response['statusCode']}: {response.get('body')}")
    print(
        json.dumps(
            {
                "import_s": imported - before_import,
                "first_request_s": answered - imported,
                "import_and_first_request_s": answered - before_import,
                # CPU time of the same span: what wall time would be on an idle machine, far
                # less disturbed by other processes than wall time.
                "import_and_first_request_cpu_s": cpu_used,
                "since_interpreter_s": answered - STARTED,
            }
        )
    )


if __name__ == "__main__":
    main()
