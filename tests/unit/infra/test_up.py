import json
from pathlib import Path

from infra.emulator import AwsEndpoint, Emulator
from infra.emulators import MINISTACK_KIND
from infra.template import DeployedStack
from infra.up import (
    containers_row,
    docker_reachable_url,
    parse_args,
    schedules_row,
    write_sam_env_vars,
)


def test_loopback_urls_become_docker_host_urls() -> None:
    assert docker_reachable_url("http://127.0.0.1:4599") == "http://host.docker.internal:4599"
    assert docker_reachable_url("http://localhost:4566") == "http://host.docker.internal:4566"
    assert docker_reachable_url("http://localstack:4566") == "http://localstack:4566"


def test_sam_env_vars_file_has_the_functions_env_and_endpoint(tmp_path: Path) -> None:
    stack = DeployedStack(
        stack_name="skylane-local",
        outputs={},
        parameters={},
        physical_ids={},
        function_envs={"ApiFunction": {"JOBS_TABLE": "skylane-local-jobs"}},
    )
    path = write_sam_env_vars(
        stack, AwsEndpoint(url="http://127.0.0.1:4599"), tmp_path / ".local" / "env.json"
    )
    assert json.loads(path.read_text()) == {
        "ApiFunction": {
            "JOBS_TABLE": "skylane-local-jobs",
            "AWS_ENDPOINT_URL": "http://host.docker.internal:4599",
        }
    }


def test_port_options() -> None:
    assert parse_args([]).api_port == 8000
    assert parse_args(["--port", "9000"]).api_port == 9000
    args = parse_args(["--api-port", "9001", "--emulator-port", "4600", "--no-worker"])
    assert (args.api_port, args.emulator_port, args.no_worker) == (9001, 4600, True)


def test_sam_env_vars_file_has_every_functions_env(tmp_path: Path) -> None:
    stack = DeployedStack(
        stack_name="skylane-local",
        outputs={},
        parameters={},
        physical_ids={},
        function_envs={
            "ApiFunction": {"JOBS_TABLE": "t", "AWS_ENDPOINT_URL": "http://127.0.0.1:4599"},
            "LightFunction": {"LIGHT_QUEUE_URL": "q"},
        },
    )
    path = write_sam_env_vars(stack, AwsEndpoint(url="http://127.0.0.1:4599"), tmp_path / "e.json")
    url = "http://host.docker.internal:4599"
    assert json.loads(path.read_text()) == {
        "ApiFunction": {"JOBS_TABLE": "t", "AWS_ENDPOINT_URL": url},
        "LightFunction": {"LIGHT_QUEUE_URL": "q", "AWS_ENDPOINT_URL": url},
    }


def test_the_summary_says_how_containers_reach_the_emulator() -> None:
    embedded = Emulator(endpoint=AwsEndpoint(url="http://127.0.0.1:4599"), server=object())  # type: ignore[arg-type]
    yours = Emulator(endpoint=AwsEndpoint(url="http://localhost:4566"))

    assert containers_row(embedded, ["172.17.0.1"]) == (
        "http://host.docker.internal:4599 (the emulator listens on 172.17.0.1 too, Docker's bridge)"
    )
    assert containers_row(embedded, []).startswith(
        "http://host.docker.internal:4599 (loopback only"
    )
    assert containers_row(yours, []) == "http://host.docker.internal:4566"


def test_the_summary_says_who_fires_the_schedules() -> None:
    moto = Emulator(endpoint=AwsEndpoint(url="http://127.0.0.1:4599"), server=object())  # type: ignore[arg-type]
    ministack = Emulator(
        endpoint=AwsEndpoint(url="http://127.0.0.1:4599", kind=MINISTACK_KIND),
        process=object(),  # type: ignore[arg-type]
    )
    assert schedules_row(moto, scheduler=True) == "fired locally"
    assert schedules_row(ministack, scheduler=True) == (
        "fired locally (ministack's own Scheduler has them disabled)"
    )
    assert schedules_row(ministack, scheduler=False) == "not fired (--no-scheduler)"
    assert containers_row(ministack, []).startswith("none: ministack listens on loopback only")
