"""`sam local start-api` accepts template.yaml: SAM CLI's own ApiProvider, run by the pinned
SAM CLI's interpreter (its uv tool environment, which make installs; no network)."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cfn_tools import load_yaml

from functions.api.app import app

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "template.yaml"
PROBE = Path(__file__).with_name("sam_local_api_probe.py")
UV = REPO / ".local" / "tools" / "bin" / "uv"
API_AUTHS = ("NONE", "IAM", "JWT")
# SAM's name for the method of a $default route; start-api serves it for every method.
ANY_METHOD = "X-AMAZON-APIGATEWAY-ANY-METHOD"


def pinned_sam_cli_version() -> str:
    match = re.search(r"^SAM_CLI_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M)
    assert match, "the Makefile pins SAM_CLI_VERSION"
    return match.group(1)


def template_route_keys() -> set[str]:
    resources = load_yaml(TEMPLATE.read_text())["Resources"]
    return {
        resource["Properties"]["RouteKey"]
        for resource in resources.values()
        if resource["Type"] == "AWS::ApiGatewayV2::Route"
    }


def app_requests() -> list[tuple[str, str]]:
    """One request per operation the FastAPI app documents, path parameters filled in."""
    requests = [("GET", url) for url in (app.docs_url, app.openapi_url, app.redoc_url) if url]
    for path, operations in app.openapi()["paths"].items():
        concrete = re.sub(r"\{[^}]+\}", "x", path)
        requests += [(method.upper(), concrete) for method in operations]
    return requests


@pytest.fixture(scope="module")
def sam() -> dict[str, Any]:
    # --offline: the environment make installed, never a download; `uv tool run ... python`
    # runs that environment's interpreter (checked below by its prefix and samcli's version).
    command = [str(UV), "tool", "run", "--offline", "--quiet"]
    command += ["--from", f"aws-sam-cli=={pinned_sam_cli_version()}", "python", str(PROBE)]
    probe = subprocess.run(
        [*command, str(TEMPLATE), *API_AUTHS],
        input=json.dumps(app_requests()),
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        timeout=120,
        check=False,
    )
    assert probe.returncode == 0, (
        "SAM CLI's ApiProvider rejected template.yaml, or its tool environment is missing"
        f" (make unit installs it):\n{probe.stderr}"
    )
    result: dict[str, Any] = json.loads(probe.stdout)
    return result


def test_the_probe_ran_in_the_pinned_sam_cli_environment(sam: dict[str, Any]) -> None:
    assert sam["samcli"] == pinned_sam_cli_version()
    assert Path(sam["prefix"]) != Path(sys.prefix)


@pytest.mark.parametrize("api_auth", API_AUTHS)
def test_start_api_mounts_every_route_of_the_template(sam: dict[str, Any], api_auth: str) -> None:
    """Every path, for an HTTP API whose app sits behind `$default`: each route key the template
    declares (`$default` and `GET /health`) is mounted for ApiFunction with payload 2.0, and every
    operation the app documents reaches ApiFunction, `/health` by its own route and the rest
    through the `$default` catch-all."""
    build = sam["builds"][api_auth]
    mounted = {
        (method, route["path"])
        for route in build["routes"]
        if route["function"] == "ApiFunction" and route["payload_format_version"] == "2.0"
        for method in route["methods"]
    }
    for key in template_route_keys():
        method, _, path = key.partition(" ") if key != "$default" else (ANY_METHOD, "", key)
        assert (method, path) in mounted, f"{key} not mounted: {build['routes']}"

    served = build["served"]
    assert served["GET /health"] == {"mounted_at": "/health", "function": "ApiFunction"}
    missed = {request: s for request, s in served.items() if s["function"] != "ApiFunction"}
    assert not missed
    assert len(served) == len(app_requests())
