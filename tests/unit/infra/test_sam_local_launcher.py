"""infra/sam_local.py (make start-api) without Docker: the commands it builds, the images it
picks, the template copy for emulated functions, and how it stops SAM CLI."""

import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest
from cfn_tools import load_yaml

from infra import sam_local
from infra.docker_bridge import gateway_of, is_local_address
from infra.sam_local import (
    EMULATED_TEMPLATE,
    SamLocal,
    choose_images,
    derived_image,
    function_architectures,
    prepare,
    run_supervised,
    sam_environment,
    template_for_emulation,
)

BUILT_TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.13
    Architectures: [arm64]
    Timeout: 10
Resources:
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: ApiFunction
      Handler: functions.api.handler.handler
      Timeout: 28
      Environment:
        Variables:
          JOBS_TABLE: !Ref JobsTable
  OtherFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: OtherFunction
      Handler: other.handler
      Architectures: [x86_64]
  JobsTable:
    Type: AWS::DynamoDB::Table
"""
ENDPOINT_ENV = {
    "AWS_ENDPOINT_URL": "http://127.0.0.1:4599",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture
def build_dir(tmp_path: Path) -> Path:
    (tmp_path / "template.yaml").write_text(BUILT_TEMPLATE)
    return tmp_path


@pytest.fixture(autouse=True)
def no_sam_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sam_local, "sam_tool_prefix", lambda: Path("/sam-env"))


def test_each_function_has_its_own_architecture_or_the_globals(build_dir: Path) -> None:
    assert function_architectures(build_dir / "template.yaml") == {
        "ApiFunction": "arm64",
        "OtherFunction": "x86_64",
    }


def test_the_emulation_copy_changes_only_the_timeouts_of_the_emulated_functions(
    build_dir: Path,
) -> None:
    copy = template_for_emulation(build_dir / "template.yaml", ["ApiFunction", "OtherFunction"])

    assert copy == build_dir / EMULATED_TEMPLATE
    original = load_yaml(BUILT_TEMPLATE)
    rewritten = json.loads(copy.read_text())
    assert rewritten["Resources"]["ApiFunction"]["Properties"]["Timeout"] == 300
    # OtherFunction had the Globals' 10 s.
    assert rewritten["Resources"]["OtherFunction"]["Properties"]["Timeout"] == 300
    for function in ("ApiFunction", "OtherFunction"):
        del rewritten["Resources"][function]["Properties"]["Timeout"]
        original["Resources"][function]["Properties"].pop("Timeout", None)
    assert rewritten == json.loads(json.dumps(original))


def test_a_timeout_already_longer_is_kept(build_dir: Path) -> None:
    copy = template_for_emulation(build_dir / "template.yaml", ["ApiFunction"], timeout=5)

    assert json.loads(copy.read_text())["Resources"]["ApiFunction"]["Properties"]["Timeout"] == 28


@pytest.mark.parametrize(("host", "emulated"), [("x86_64", ("ApiFunction",)), ("arm64", ())])
def test_only_functions_of_another_architecture_run_from_the_copy(
    build_dir: Path, monkeypatch: pytest.MonkeyPatch, host: str, emulated: tuple[str, ...]
) -> None:
    monkeypatch.setattr(sam_local, "host_architecture", lambda: host)
    # Of the two functions one is x86_64: keep this machine's architecture for it.
    template = build_dir / "template.yaml"
    template.write_text(BUILT_TEMPLATE.replace("[x86_64]", f"[{host}]"))

    sam = prepare(ENDPOINT_ENV, "sam", build_dir, build_dir / "env.json")

    assert sam.emulated == emulated
    assert sam.template == (build_dir / EMULATED_TEMPLATE if emulated else template)
    assert sam.images is None


def test_a_build_is_needed(tmp_path: Path) -> None:
    with pytest.raises(sam_local.SamLocalError, match="make build"):
        prepare(ENDPOINT_ENV, "sam", tmp_path, tmp_path / "env.json")


def test_images_sam_stand_in_or_one_of_yours(monkeypatch: pytest.MonkeyPatch) -> None:
    architectures = {"ApiFunction": "arm64", "OtherFunction": "x86_64"}
    stand_ins = {
        "ApiFunction": "skylane-local/lambda-python:3.13-arm64",
        "OtherFunction": "skylane-local/lambda-python:3.13-x86_64",
    }

    assert choose_images("sam", architectures) is None
    assert choose_images("stand-in", architectures) == stand_ins
    assert choose_images("mine:1", architectures) == dict.fromkeys(architectures, "mine:1")
    monkeypatch.setattr(sam_local, "registry_reachable", lambda: True)
    assert choose_images("auto", architectures) is None
    monkeypatch.setattr(sam_local, "registry_reachable", lambda: False)
    assert choose_images("auto", architectures) == stand_ins


def test_sam_cli_derives_its_image_from_the_invoke_images_repository() -> None:
    image = "skylane-local/lambda-python:3.13-arm64"
    assert derived_image(image, "arm64") == "skylane-local/lambda-python:rapid-arm64"


def test_sam_cli_gets_the_emulators_credentials_and_none_of_ours() -> None:
    ours = {
        "PATH": "/bin",
        "AWS_PROFILE": "prod",
        "AWS_SESSION_TOKEN": "t",
        "AWS_REGION": "eu-west-1",
    }

    env = sam_environment(ENDPOINT_ENV, ours)

    assert env == {
        "PATH": "/bin",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "SAM_CLI_TELEMETRY": "0",
    }


def options(argv: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for flag, value in zip(argv, [*argv[1:], ""], strict=True):
        if flag.startswith("--"):
            found.setdefault(flag, []).append("" if value.startswith("--") else value)
    return found


def test_start_api_serves_the_build_in_warm_containers_reaching_the_host(tmp_path: Path) -> None:
    sam = SamLocal(
        build_dir=tmp_path,
        env_vars=tmp_path / "env.json",
        template=tmp_path / "template.yaml",
        endpoint_env=ENDPOINT_ENV,
        images={"ApiFunction": "skylane-local/lambda-python:3.13-arm64"},
    )

    argv = sam.start_api(3001)

    assert argv[:3] == ["/sam-env/bin/sam", "local", "start-api"]
    given = options(argv)
    assert given["--template"] == [str(tmp_path / "template.yaml")]
    assert given["--env-vars"] == [str(tmp_path / "env.json")]
    assert given["--add-host"] == ["host.docker.internal:host-gateway"]
    assert given["--invoke-image"] == ["ApiFunction=skylane-local/lambda-python:3.13-arm64"]
    assert "--skip-pull-image" in given
    assert given["--warm-containers"] == ["EAGER"]
    assert given["--port"] == ["3001"]
    assert given["--host"] == ["127.0.0.1"]
    assert given["--parameter-overrides"] == ["Stage=local"]
    assert "--no-watch" in given
    assert "--force-image-build" not in given


def test_with_sam_clis_own_images_it_pulls_them(tmp_path: Path) -> None:
    sam = SamLocal(tmp_path, tmp_path / "env.json", tmp_path / "template.yaml", ENDPOINT_ENV)

    given = options(sam.invoke("SchedulerFunction", tmp_path / "event.json"))

    assert "--invoke-image" not in given
    assert "--skip-pull-image" not in given
    assert given["--event"] == [str(tmp_path / "event.json")]


CHILD = """
import signal, sys, time
count = 0
def stop(signum, frame):
    global count
    count += 1
signal.signal(signal.SIGINT, stop)
open(sys.argv[1] + ".ready", "w").close()
deadline = time.monotonic() + 5
while not count and time.monotonic() < deadline:
    time.sleep(0.01)
time.sleep(0.5)  # the clean-up, during which a second SIGINT would cut it short
open(sys.argv[1], "w").write(str(count))
"""


@pytest.mark.parametrize("ours_ignored", [False, True], ids=["terminal", "background job"])
def test_one_ctrl_c_reaches_sam_cli_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ours_ignored: bool
) -> None:
    monkeypatch.setattr(sam_local, "lambda_containers", set)
    counted = tmp_path / "count"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    original = signal.getsignal(signal.SIGINT)
    if ours_ignored:
        # A shell's background job starts with SIGINT ignored, and so would SAM CLI.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    before = signal.getsignal(signal.SIGINT)

    def ctrl_c_twice() -> None:
        # The terminal's SIGINT, then `uv run`'s copy of it a moment later.
        deadline = time.monotonic() + 10
        while not Path(f"{counted}.ready").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)

    sender = threading.Thread(target=ctrl_c_twice)
    sender.start()
    try:
        code = run_supervised(
            [sys.executable, str(script), str(counted)], dict(os.environ), tmp_path
        )
        restored = signal.getsignal(signal.SIGINT)
    finally:
        sender.join()
        signal.signal(signal.SIGINT, original)

    assert code == 0
    assert counted.read_text() == "1"
    assert restored is before


def test_the_bridge_gateway_is_named_or_the_subnets_first_address() -> None:
    assert gateway_of([{"Subnet": "172.18.0.0/16", "Gateway": "172.18.0.254"}]) == "172.18.0.254"
    # Docker 20.10's default bridge names no gateway: docker0 has the subnet's first address.
    assert gateway_of([{"Subnet": "172.17.0.0/16"}]) == "172.17.0.1"
    assert gateway_of([{"Subnet": "fd00::/64"}]) is None
    assert gateway_of([]) is None


def test_only_addresses_of_this_machine_are_local() -> None:
    assert is_local_address("127.0.0.1")
    assert not is_local_address("192.0.2.1")  # TEST-NET-1


FLAKY_SAM = """
import pathlib, sys, time
calls = pathlib.Path(sys.argv[1])
calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
if len(calls.read_text()) == 1:
    print("Invoking functions.scheduler.handler.handler (python3.13)", file=sys.stderr, flush=True)
    print("No response from invoke container for SchedulerFunction", file=sys.stderr, flush=True)
    time.sleep(60)  # SAM CLI waiting out the function's Timeout
print('{"job_id": "j", "duplicate": false}')
"""


def test_an_event_sam_cli_could_not_deliver_is_invoked_again_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sam_local, "lambda_containers", set)
    script = tmp_path / "sam.py"
    script.write_text(FLAKY_SAM)
    calls = tmp_path / "calls"
    started = time.monotonic()

    done = sam_local.invoke_until_delivered(
        [sys.executable, str(script), str(calls)], dict(os.environ), tmp_path, timeout=30
    )

    assert time.monotonic() - started < 20
    assert calls.read_text() == "xx"
    assert done.returncode == 0
    assert json.loads(done.stdout) == {"job_id": "j", "duplicate": False}


def test_an_invocation_that_never_delivers_gives_up_after_its_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sam_local, "lambda_containers", set)
    script = tmp_path / "sam.py"
    script.write_text(FLAKY_SAM.replace("== 1", "<= 5"))
    calls = tmp_path / "calls"

    done = sam_local.invoke_until_delivered(
        [sys.executable, str(script), str(calls)], dict(os.environ), tmp_path, attempts=2
    )

    assert calls.read_text() == "xx"
    assert "No response from invoke container" in done.stderr
    assert done.stdout == ""


TIMED_OUT_SAM = """
import pathlib, sys
calls = pathlib.Path(sys.argv[1])
calls.write_text(calls.read_text() + "x" if calls.exists() else "x")
print("START RequestId: 1df08e21 Version: $LATEST", file=sys.stderr, flush=True)
print("Function 'LightFunction' timed out after 300 seconds", file=sys.stderr, flush=True)
print("No response from invoke container for LightFunction", file=sys.stderr, flush=True)
"""


def test_an_event_that_reached_the_function_is_not_invoked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sam_local, "lambda_containers", set)
    script = tmp_path / "sam.py"
    script.write_text(TIMED_OUT_SAM)
    calls = tmp_path / "calls"

    done = sam_local.invoke_until_delivered(
        [sys.executable, str(script), str(calls)], dict(os.environ), tmp_path
    )

    # The function timed out on the event: running it again would run the job twice.
    assert calls.read_text() == "x"
    assert "timed out after 300 seconds" in done.stderr
