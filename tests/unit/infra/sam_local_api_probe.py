"""Run by SAM CLI's own python, not the project's (tests/unit/infra/test_sam_api_routes.py).

Builds the routes `sam local start-api` would serve for a template, the way it builds them
(InvokeContext._get_stacks, then LocalApiService's ApiProvider and LocalApigwService), and says
which route and function each request would reach. Nothing is served or invoked.

argv: the template, then one ApiAuth value per build. stdin: a JSON list of [method, path].
stdout: JSON, {"samcli": version, "prefix": sys.prefix, "builds": {api_auth: {...}}}.
"""

import json
import sys
from pathlib import Path
from typing import Any

import samcli
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider
from samcli.local.apigw.local_apigw_service import LocalApigwService


class NoLambdaRunner:
    """Stands in for LocalLambdaRunner: the service only asks it whether to debug."""

    def is_debugging(self) -> bool:
        return False


def build(template: Path, api_auth: str, requests: list[list[str]]) -> dict[str, Any]:
    stacks, _ = SamLocalStackProvider.get_stacks(
        str(template),
        parameter_overrides={"ApiAuth": api_auth},
        global_parameter_overrides={"AWS::Region": "us-east-1"},
    )
    provider = ApiProvider(stacks, cwd=str(template.parent))
    service = LocalApigwService(api=provider.api, lambda_runner=NoLambdaRunner())
    service.create()
    # The Flask app and the route table start-api's request handler looks routes up in
    # (_get_current_route): private, but SAM CLI's version is pinned in the Makefile.
    adapter = service._app.url_map.bind("localhost")
    served: dict[str, Any] = {}
    for method, path in requests:
        endpoint, _ = adapter.match(path, method)
        route = service._dict_of_routes.get(f"{endpoint}:{method}")
        served[f"{method} {path}"] = {
            "mounted_at": endpoint,
            "function": route.function_name if route else None,
        }
    routes = [
        {
            "path": route.path,
            "methods": sorted(set(route.methods)),
            "function": route.function_name,
            "payload_format_version": route.payload_format_version,
        }
        for route in provider.routes
    ]
    return {"routes": routes, "served": served}


def main() -> None:
    template, api_auths = Path(sys.argv[1]), sys.argv[2:]
    requests = json.load(sys.stdin)
    builds = {api_auth: build(template, api_auth, requests) for api_auth in api_auths}
    print(json.dumps({"samcli": samcli.__version__, "prefix": sys.prefix, "builds": builds}))


if __name__ == "__main__":
    main()
