"""``make start-api`` (``python -m infra.sam_local start-api``): the built Lambda packages, served
by ``sam local start-api`` in Lambda runtime containers, against the stack ``make up`` runs.

Environment, network, runtime images, warm containers and emulation (a longer Timeout under
qemu): the README's *Other ways to run it locally*, "sam local start-api".
"""

import argparse
import functools
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from infra.docker_bridge import ADD_HOST, host_addresses_for_containers
from infra.local_iam import CREDENTIAL_VARIABLES
from infra.processes import LIGHT_FUNCTION, SCHEDULER_FUNCTION
from infra.stack_state import STATE_PATH, StackNotRunning, StackState
from infra.template import API_FUNCTION

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_DIR = REPO_ROOT / ".aws-sam" / "build"
ENV_VARS_PATH = REPO_ROOT / ".local" / "sam-env-vars.json"
UV = REPO_ROOT / ".local" / "tools" / "bin" / "uv"
DEFAULT_PORT = 3000
WARM_CONTAINERS = "EAGER"
AUTO, SAM_IMAGES, STAND_IN = "auto", "sam", "stand-in"
# Where SAM CLI pulls its emulation images from.
SAM_IMAGE_REGISTRY = "https://public.ecr.aws/v2/"
REGISTRY_TIMEOUT_SECONDS = 3.0
FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# Lambda's default when neither the function nor Globals name one.
DEFAULT_ARCHITECTURE = "x86_64"
# What SAM CLI labels each function container with (samcli/local/docker/lambda_container.py).
LAMBDA_LABEL = "sam.cli.container.type=lambda"
# A second SIGINT sooner than this after the first is the same Ctrl-C passed on by uv.
REPEATED_SIGNAL_SECONDS = 1.0
# What SAM CLI says when it could not hand an event to a container (invoke_until_delivered).
NO_RESPONSE = "No response from invoke container"
# What the Runtime Interface Emulator says when an event reached it: after this, no response
# means the function failed or timed out, and invoking again would run the event twice.
EVENT_RECEIVED = "START RequestId:"
INVOKE_ATTEMPTS = 3
# The least Timeout of a function that runs under emulation (qemu), and the copy that has it.
EMULATED_TIMEOUT_SECONDS = 300
EMULATED_TEMPLATE = "template.emulated.json"
# Lambda's default Timeout, when neither the function nor Globals name one.
DEFAULT_TIMEOUT_SECONDS = 3


class SamLocalError(RuntimeError):
    pass


def pinned_sam_cli_version(makefile: Path = REPO_ROOT / "Makefile") -> str:
    """SAM CLI's version as the Makefile pins it (one pin for make and for this module)."""
    match = re.search(r"^SAM_CLI_VERSION := (\S+)$", makefile.read_text(), re.M)
    if match is None:
        raise SamLocalError(f"{makefile} pins no SAM_CLI_VERSION")
    return match.group(1)


@functools.cache
def sam_tool_prefix() -> Path:
    """The pinned SAM CLI's own uv tool environment (as $(SAM) in the Makefile runs it).

    Found once, offline when uv's cache has it: sam then runs straight from there, without
    uv in between, which re-resolves the tool on every call and passes each SIGINT on to a
    child that the terminal already signalled (SAM CLI's second Ctrl-C cuts its cleanup short).
    """
    tool = ["tool", "run", "--quiet", "--from", f"aws-sam-cli=={pinned_sam_cli_version()}"]
    probe = ["python", "-c", "import sys; print(sys.prefix)"]
    for mode in (["--offline"], []):
        found = subprocess.run(
            [str(UV), *tool[:2], *mode, *tool[2:], *probe],
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO_ROOT,
        )
        if found.returncode == 0:
            return Path(found.stdout.strip().splitlines()[-1])
    raise SamLocalError(f"SAM CLI's tool environment is not available:\n{found.stderr}")


def sam_cli() -> list[str]:
    """The pinned SAM CLI's command."""
    return [str(sam_tool_prefix() / "bin" / "sam")]


def sam_python() -> Path:
    """The interpreter of SAM CLI's environment (to read samcli's own files)."""
    return sam_tool_prefix() / "bin" / "python"


def sam_environment(
    endpoint_env: Mapping[str, str],
    environ: Mapping[str, str] = os.environ,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """SAM CLI's environment: ours without any AWS_* (a profile, real credentials), with the
    emulator's region and ``credentials`` (a function's own role, else the emulator's), which
    SAM CLI hands every function container it starts."""
    env = {name: value for name, value in environ.items() if not name.startswith("AWS_")}
    identity = credentials or endpoint_env
    env.update({name: identity[name] for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")})
    if identity.get("AWS_SESSION_TOKEN"):
        env["AWS_SESSION_TOKEN"] = identity["AWS_SESSION_TOKEN"]
    env["AWS_DEFAULT_REGION"] = endpoint_env["AWS_DEFAULT_REGION"]
    env["AWS_REGION"] = endpoint_env.get("AWS_REGION", env["AWS_DEFAULT_REGION"])
    env["SAM_CLI_TELEMETRY"] = "0"
    return env


def _load_template(template: Path) -> dict[str, Any]:
    from cfn_tools import load_yaml

    loaded: dict[str, Any] = load_yaml(template.read_text())
    return loaded


def host_architecture() -> str:
    """This machine's architecture under Lambda's name."""
    return "arm64" if platform.machine().lower() in ("aarch64", "arm64") else "x86_64"


def function_architectures(template: Path) -> dict[str, str]:
    """Each function's architecture (logical id to x86_64 or arm64) in a (built) template."""
    loaded = _load_template(template)
    function_globals = loaded.get("Globals", {}).get("Function", {})
    default = function_globals.get("Architectures", [DEFAULT_ARCHITECTURE])
    return {
        logical_id: str(resource.get("Properties", {}).get("Architectures", default)[0])
        for logical_id, resource in loaded.get("Resources", {}).items()
        if resource.get("Type") in FUNCTION_TYPES
    }


def template_for_emulation(
    template: Path, functions: Sequence[str], timeout: int = EMULATED_TIMEOUT_SECONDS
) -> Path:
    """A copy of the built template beside it (CodeUri stays relative to the build), each of
    ``functions`` given a Timeout of at least ``timeout`` s; nothing else changes."""
    from cfn_tools import dump_json

    loaded = _load_template(template)
    function_globals = loaded.get("Globals", {}).get("Function", {})
    for function in functions:
        properties = loaded["Resources"][function].setdefault("Properties", {})
        current = properties.get(
            "Timeout", function_globals.get("Timeout", DEFAULT_TIMEOUT_SECONDS)
        )
        properties["Timeout"] = max(int(current), timeout)
    copy = template.with_name(EMULATED_TEMPLATE)
    copy.write_text(dump_json(loaded))
    return copy


def registry_reachable(url: str = SAM_IMAGE_REGISTRY) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=REGISTRY_TIMEOUT_SECONDS):  # noqa: S310 (https)
            return True
    except urllib.error.HTTPError:
        return True  # it answered (401 without a token)
    except OSError:
        return False


def stand_in_image(architecture: str) -> str:
    from infra.images.build import ARCHITECTURES

    return ARCHITECTURES[architecture].lambda_runtime


def sam_runtime_emulator(architecture: str) -> Path:
    """SAM CLI's own Runtime Interface Emulator binary for ``architecture``."""
    found = sorted(
        sam_tool_prefix().glob(
            f"lib/python*/site-packages/samcli/local/rapid/aws-lambda-rie-{architecture}"
        )
    )
    if not found:
        raise SamLocalError(f"SAM CLI ({sam_tool_prefix()}) ships no {architecture} emulator")
    return found[-1]


def ensure_stand_in(architecture: str) -> str:
    """The stand-in for ``architecture`` and its invoke image, built first if missing or if
    their recipe changed: SAM CLI then finds the image it would derive and uses it as is."""
    from infra.images.build import ARCHITECTURES, ensure_invoke_image

    arch = ARCHITECTURES[architecture]
    ensure_invoke_image(arch, sam_runtime_emulator(host_architecture()))
    return arch.lambda_runtime


def choose_images(choice: str, architectures: Mapping[str, str]) -> dict[str, str] | None:
    """The invoke image of each function, or None for SAM CLI's own emulation images."""
    if choice == SAM_IMAGES or (choice == AUTO and registry_reachable()):
        return None
    if choice in (AUTO, STAND_IN):
        return {function: stand_in_image(arch) for function, arch in architectures.items()}
    return dict.fromkeys(architectures, choice)


def derived_image(image: str, architecture: str) -> str:
    """The image SAM CLI builds from an invoke image (its RIE added): samcli's lambda_image."""
    return f"{image.split(':')[0].replace('@', '')}:rapid-{architecture}"


@dataclass(frozen=True)
class SamLocal:
    """``sam local`` commands for the built packages, aimed at one local stack."""

    build_dir: Path
    env_vars: Path
    # The built template, or its copy for functions under emulation (template_for_emulation).
    template: Path
    # AWS_ENDPOINT_URL, credentials and region of the emulator (AwsEndpoint.env()).
    endpoint_env: Mapping[str, str]
    # Invoke image per function; None: SAM CLI's own emulation images (pulled).
    images: Mapping[str, str] | None = None
    # The functions whose architecture is not this machine's (run under emulation).
    emulated: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=lambda: {"Stage": "local"})
    # Each function's own role credentials (AWS_ACCESS_KEY_ID, ...), by logical id.
    function_credentials: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def environment(
        self, function: str | None = None, environ: Mapping[str, str] = os.environ
    ) -> dict[str, str]:
        """SAM CLI's environment for commands that run ``function`` (its role's credentials)."""
        credentials = self.function_credentials.get(function) if function else None
        return sam_environment(self.endpoint_env, environ, credentials)

    def _container_options(self) -> list[str]:
        options = ["--template", str(self.template), "--env-vars", str(self.env_vars)]
        options += ["--add-host", ADD_HOST]
        if self.parameters:
            overrides = " ".join(f"{name}={value}" for name, value in self.parameters.items())
            options += ["--parameter-overrides", overrides]
        if self.images is not None:
            for function, image in sorted(self.images.items()):
                options += ["--invoke-image", f"{function}={image}"]
            # Local images: there is nothing to pull, and no registry to pull from.
            options.append("--skip-pull-image")
        return options

    def start_api(
        self,
        port: int = DEFAULT_PORT,
        host: str = "127.0.0.1",
        warm_containers: str = WARM_CONTAINERS,
        watch: bool = False,
        extra: Sequence[str] = (),
    ) -> list[str]:
        argv = [*sam_cli(), "local", "start-api", *self._container_options()]
        argv += ["--host", host, "--port", str(port), "--warm-containers", warm_containers]
        if not watch:
            argv.append("--no-watch")
        return [*argv, *extra]

    def invoke(self, function: str, event: Path, extra: Sequence[str] = ()) -> list[str]:
        argv = [*sam_cli(), "local", "invoke", function, "--event", str(event)]
        return [*argv, *self._container_options(), *extra]


def prepare(
    endpoint_env: Mapping[str, str],
    choice: str = AUTO,
    build_dir: Path = BUILD_DIR,
    env_vars: Path = ENV_VARS_PATH,
    build_stand_ins: bool = True,
    emulated_timeout: int = EMULATED_TIMEOUT_SECONDS,
    function_credentials: Mapping[str, Mapping[str, str]] | None = None,
) -> SamLocal:
    """The commands for ``build_dir``'s packages, their images chosen (and stand-ins built).

    Functions of another architecture than this machine's get at least ``emulated_timeout`` s
    (0: the template's own Timeout).
    """
    template = build_dir / "template.yaml"
    if not template.exists():
        raise SamLocalError(f"{template} does not exist: run `make build` (sam build) first")
    architectures = function_architectures(template)
    emulated = sorted(f for f, arch in architectures.items() if arch != host_architecture())
    if emulated and emulated_timeout > 0:
        template = template_for_emulation(template, emulated, emulated_timeout)
    images = choose_images(choice, architectures)
    if images is not None and choice in (AUTO, STAND_IN) and build_stand_ins:
        for architecture in sorted(set(architectures.values())):
            try:
                ensure_stand_in(architecture)
            except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
                raise SamLocalError(
                    f"the {architecture} runtime stand-in could not be built ({error}): "
                    "`make images` builds it (Linux: debootstrap, qemu-user-static), or "
                    "SAM_INVOKE_IMAGE=sam uses SAM CLI's own images"
                ) from error
    return SamLocal(
        build_dir=build_dir,
        env_vars=env_vars,
        template=template,
        emulated=tuple(emulated),
        endpoint_env=dict(endpoint_env),
        images=images,
        function_credentials=dict(function_credentials or {}),
    )


def lambda_containers() -> set[str]:
    """Ids of every function container SAM CLI made that still exists, running or not."""
    listed = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--no-trunc", "--filter", f"label={LAMBDA_LABEL}"],
        capture_output=True,
        text=True,
        check=False,
    )
    return set(listed.stdout.split())


def inspect_containers(ids: Sequence[str]) -> list[dict[str, Any]]:
    if not ids:
        return []
    inspected = subprocess.run(
        ["docker", "inspect", *ids], capture_output=True, text=True, check=False
    )
    found: list[dict[str, Any]] = json.loads(inspected.stdout or "[]")
    return found


def containers_of(build_dir: Path, ids: set[str]) -> set[str]:
    """Those of ``ids`` that run a package of ``build_dir`` (mounted at /var/task)."""
    root = build_dir.resolve()
    return {
        container["Id"]
        for container in inspect_containers(sorted(ids))
        for mount in container.get("Mounts", [])
        if mount.get("Destination") == "/var/task" and Path(mount["Source"]).is_relative_to(root)
    }


def remove_containers(ids: set[str]) -> None:
    if ids:
        subprocess.run(["docker", "rm", "--force", *sorted(ids)], capture_output=True, check=False)


def run_supervised(argv: Sequence[str], env: Mapping[str, str], build_dir: Path) -> int:
    """Run SAM CLI in a process group of its own and stop it with exactly one SIGINT.

    A terminal's Ctrl-C reaches every process of its foreground group, and `uv run` (make's
    $(RUN)) passes it on once more: SAM CLI stops its warm containers on the first SIGINT and
    abandons them on the second. So SAM CLI gets one, here; another Ctrl-C more than a second
    later ends it at once. Any function container of ``build_dir`` it left is removed.
    """
    before = lambda_containers()
    started: list[subprocess.Popen[bytes]] = []
    first_stop: float | None = None

    def request_stop(signum: int, frame: object) -> None:
        nonlocal first_stop
        now = time.monotonic()
        if first_stop is None:
            first_stop = now
            for process in started:
                process.send_signal(signal.SIGINT)
        elif now - first_stop > REPEATED_SIGNAL_SECONDS:
            for process in started:
                process.kill()

    # Caught before SAM CLI starts, so it starts with SIGINT's default action (which its Python
    # turns into KeyboardInterrupt) even when ours was ignored (a shell's background job).
    previous = {
        signum: signal.signal(signum, request_stop) for signum in (signal.SIGINT, signal.SIGTERM)
    }
    process = subprocess.Popen(list(argv), env=dict(env), start_new_session=True)
    started.append(process)
    if first_stop is not None:
        process.send_signal(signal.SIGINT)
    try:
        code = process.wait()
    finally:
        # Nothing cuts the clean-up short either.
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        if process.poll() is None:
            process.kill()
            process.wait()
        left = containers_of(build_dir, lambda_containers() - before)
        if left:
            print(f"sam_local: removing {len(left)} container(s) SAM CLI left", file=sys.stderr)
            remove_containers(left)
        for signum, handler in previous.items():
            if handler is not None:
                signal.signal(signum, handler)
    # Stopped by Ctrl-C or SIGTERM: done as asked.
    return 0 if first_stop is not None else code


def invoke_until_delivered(
    argv: Sequence[str],
    env: Mapping[str, str],
    build_dir: Path,
    attempts: int = INVOKE_ATTEMPTS,
    timeout: float | None = None,
    echo: bool = False,
) -> "subprocess.CompletedProcess[str]":
    """Run a `sam local invoke`, again when SAM CLI could not hand the event to the container.

    SAM CLI posts the event to the container's runtime interface emulator within about 0.4 s
    of starting it (three tries, 50 to 200 ms apart). Under qemu the emulator may listen later
    than that, Docker's userland proxy (the engine here runs without iptables) accepts the
    connection for it and drops it, and SAM CLI reports "No response
    from invoke container" and then waits out the function's whole Timeout (the timer it
    started is never cancelled on that path). The event reached no function, so SAM CLI is
    stopped there and the invocation made again. ``timeout`` bounds each attempt; ``echo``
    copies SAM CLI's stderr to ours as it comes. Function containers of ``build_dir`` left
    behind are removed.
    """
    for attempt in range(1, attempts + 1):
        done, delivered = _invoke_once(argv, env, build_dir, timeout, echo)
        if delivered or attempt == attempts:
            return done
        print(
            f"sam_local: the event did not reach the container (attempt {attempt} of "
            f"{attempts}): invoking again",
            file=sys.stderr,
        )
    raise ValueError("attempts must be at least 1")


def _invoke_once(
    argv: Sequence[str],
    env: Mapping[str, str],
    build_dir: Path,
    timeout: float | None,
    echo: bool,
) -> "tuple[subprocess.CompletedProcess[str], bool]":
    """One `sam local invoke`, and whether SAM CLI handed its event to the container."""
    before = lambda_containers()
    process = subprocess.Popen(
        list(argv),
        env=dict(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stdout, stderr = process.stdout, process.stderr
    assert stdout is not None
    assert stderr is not None
    answer: list[str] = []
    reader = threading.Thread(target=lambda: answer.append(stdout.read()), daemon=True)
    reader.start()
    watchdog = threading.Timer(timeout, process.kill) if timeout else None
    if watchdog is not None:
        watchdog.start()
    said: list[str] = []
    delivered = True
    received = False
    try:
        for line in stderr:
            said.append(line)
            if echo:
                sys.stderr.write(line)
                sys.stderr.flush()
            received = received or EVENT_RECEIVED in line
            if NO_RESPONSE in line and not received:
                delivered = False
                process.kill()
                break
        process.wait()
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
        reader.join(timeout=5)
        stdout.close()
        stderr.close()
        remove_containers(containers_of(build_dir, lambda_containers() - before))
    done = subprocess.CompletedProcess(
        list(argv), process.returncode, "".join(answer), "".join(said)
    )
    return done, delivered


def check_containers_reach(state: StackState) -> None:
    """On Docker on Linux, the emulator must listen on the bridge: fail early, and say why."""
    port = urlsplit(state.endpoint_url).port
    for address in host_addresses_for_containers():
        url = f"http://{address}:{port}/"
        try:
            with urllib.request.urlopen(url, timeout=3.0):
                continue
        except urllib.error.HTTPError:
            continue  # it answered
        except OSError as error:
            raise SamLocalError(
                f"the emulator does not answer on Docker's bridge ({url}: {error}), so the "
                "functions' containers cannot reach it: `make up` started before Docker did, "
                "or with an emulator of yours that listens on loopback only. Restart `make up`."
            ) from error


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m infra.sam_local", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("start-api", "invoke"):
        command = commands.add_parser(name)
        command.add_argument(
            "--invoke-image",
            default=AUTO,
            help=f"{AUTO} (default), {SAM_IMAGES}, {STAND_IN}, or an image for every function",
        )
        command.add_argument("--build-dir", type=Path, default=BUILD_DIR)
        command.add_argument("--env-vars", type=Path, default=ENV_VARS_PATH)
        command.add_argument("--state", type=Path, default=STATE_PATH, help="make up's state")
        command.add_argument(
            "--emulated-timeout",
            type=int,
            default=EMULATED_TIMEOUT_SECONDS,
            help="least Timeout (s) of a function running under emulation; 0 keeps the template's",
        )
        command.add_argument("sam_args", nargs="*", help="more options for sam (after --)")
    start_api = commands.choices["start-api"]
    start_api.add_argument("--port", type=int, default=DEFAULT_PORT)
    start_api.add_argument("--host", default="127.0.0.1")
    start_api.add_argument(
        "--watch",
        action="store_true",
        help="restart a function's container when its build changes (SAM CLI's file watching)",
    )
    invoke = commands.choices["invoke"]
    invoke.add_argument("function", help="logical id: ApiFunction, SchedulerFunction, ...")
    invoke.add_argument("--event", "-e", type=Path, required=True)
    return parser.parse_args(argv)


def function_credentials(state: StackState) -> dict[str, dict[str, str]]:
    """Each function's role credentials as `make up` took them (the state's components)."""
    names = {
        API_FUNCTION: "api",
        SCHEDULER_FUNCTION: SCHEDULER_FUNCTION,
        LIGHT_FUNCTION: LIGHT_FUNCTION,
    }
    return {
        function: {name: value for name, value in env.items() if name in CREDENTIAL_VARIABLES}
        for function, component in names.items()
        if (env := state.components.get(component, {})).get("AWS_ACCESS_KEY_ID")
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        state = StackState.read(args.state)
        state.check_reachable()
        if not args.env_vars.exists():
            raise SamLocalError(f"{args.env_vars} does not exist: `make up` writes it")
        check_containers_reach(state)
        sam = prepare(
            state.endpoint_env,
            args.invoke_image,
            args.build_dir,
            args.env_vars,
            emulated_timeout=args.emulated_timeout,
            function_credentials=function_credentials(state),
        )
    except (StackNotRunning, SamLocalError) as error:
        print(f"sam_local: {error}", file=sys.stderr)
        return 1
    if args.command == "start-api":
        argv_ = sam.start_api(args.port, args.host, watch=args.watch, extra=args.sam_args)
    else:
        argv_ = sam.invoke(args.function, args.event, extra=args.sam_args)
    images = "SAM CLI's own" if sam.images is None else ", ".join(sorted(set(sam.images.values())))
    print(f"sam_local: {args.command} of {args.build_dir} with {images}", file=sys.stderr)
    if sam.template.name == EMULATED_TEMPLATE:
        print(
            f"sam_local: {', '.join(sam.emulated)} run under emulation on this "
            f"{host_architecture()} machine: Timeout at least {args.emulated_timeout} s "
            f"({sam.template}; the packages are the built ones)",
            file=sys.stderr,
        )
    if args.command == "start-api":
        return run_supervised(argv_, sam.environment(API_FUNCTION), sam.build_dir)
    done = invoke_until_delivered(argv_, sam.environment(args.function), sam.build_dir, echo=True)
    sys.stdout.write(done.stdout)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
