"""``python -m infra.deploy --env dev|prod``: the worker image into ECR, then ``sam deploy``.

``make deploy`` runs it twice: ``--preflight`` checks the environment, region, account and image
tools before anything is built; then the ECR repository, the image tagged with its commit, and
``sam deploy`` with samconfig's overrides, the image's URI and the user's merged (user's last).
Arguments after ``--`` go to ``sam deploy`` (README: *Deploying to AWS*).
"""

import argparse
import base64
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMCONFIG = REPO_ROOT / "samconfig.toml"
MAKEFILE = REPO_ROOT / "Makefile"
UV = REPO_ROOT / ".local" / "tools" / "bin" / "uv"
REPOSITORY = "skylane-worker"
# What `make worker-image` builds for Fargate (infra/images/build.py, ARM64.worker).
LOCAL_IMAGE = "skylane-worker:arm64"
IMAGE_ARCHITECTURE = "arm64"
IMAGE_PARAMETER = "WorkerImageUri"
# What `make worker-image` needs (the Makefile's IMAGE_TOOLS); `make image-tools` installs them
# with apt-get where they are missing.
IMAGE_TOOLS = ("dockerd", "debootstrap", "qemu-aarch64-static", "update-binfmts")
# SAM CLI reads an unquoted value up to the next space or quote; anything else is quoted.
PLAIN_VALUE = re.compile(r"[^\s\"'\\]+")
LONG_FORM = re.compile(r"ParameterKey=([^,]+),ParameterValue=(.*)", re.S)


class DeployError(RuntimeError):
    pass


# ---------------------------------------------------------------- samconfig and parameters


def read_samconfig(env: str, path: Path = SAMCONFIG) -> dict[str, Any]:
    """``[<env>.deploy.parameters]`` of samconfig.toml."""
    config = tomllib.loads(path.read_text())
    environments = sorted(
        name
        for name, section in config.items()
        if isinstance(section, dict) and "deploy" in section
    )
    try:
        parameters: dict[str, Any] = config[env]["deploy"]["parameters"]
    except (KeyError, TypeError):
        raise DeployError(
            f"{path.name} has no [{env}.deploy.parameters]; its environments: "
            f"{', '.join(environments) or 'none'}"
        ) from None
    return parameters


def parse_overrides(value: str | Sequence[str]) -> dict[str, str]:
    """``Key=Value`` pairs as SAM CLI reads them (``--parameter-overrides``, samconfig's
    ``parameter_overrides``): separated by spaces, a value with spaces in quotes, or
    ``ParameterKey=K,ParameterValue=V``. A list (samconfig allows one) is read item by item."""
    items = [value] if isinstance(value, str) else list(value)
    parsed: dict[str, str] = {}
    for item in items:
        for token in shlex.split(item):
            long_form = LONG_FORM.fullmatch(token)
            key, separator, found = (
                (long_form.group(1), "=", long_form.group(2)) if long_form else token.partition("=")
            )
            if not separator or not key:
                raise DeployError(f"parameter override {token!r} is not Key=Value")
            parsed[key] = found
    return parsed


def format_override(key: str, value: str) -> str:
    """One ``Key=Value`` that SAM CLI reads back as exactly this key and value."""
    if "\\" in value:
        # SAM CLI unescapes \<space> and \<quote> inside values, so a backslash cannot be
        # passed through reliably; no parameter of this template needs one.
        raise DeployError(f"parameter {key}: SAM CLI cannot take a backslash in a value")
    if PLAIN_VALUE.fullmatch(value):
        return f"{key}={value}"
    escaped = value.replace('"', '\\"')
    return f'{key}="{escaped}"'


def merge_overrides(
    samconfig: str | Sequence[str], image_uri: str | None, user: Sequence[str] = ()
) -> dict[str, str]:
    """samconfig's overrides, then the image's URI, then the user's (the last one wins)."""
    merged = parse_overrides(samconfig)
    if image_uri is not None:
        merged[IMAGE_PARAMETER] = image_uri
    for overrides in user:
        merged.update(parse_overrides(overrides))
    return merged


# ---------------------------------------------------------------- region and account


@dataclass(frozen=True)
class Region:
    name: str
    source: str


def resolve_region(
    explicit: str | None = None,
    environ: Mapping[str, str] = os.environ,
    session_region: Callable[[], str | None] = lambda: boto3.Session().region_name,
) -> Region:
    """``--region``, else AWS_REGION, else boto3's (AWS_DEFAULT_REGION, the profile's region)."""
    if explicit:
        return Region(explicit, "--region")
    if environ.get("AWS_REGION"):
        return Region(environ["AWS_REGION"], "AWS_REGION")
    found = session_region()
    if found:
        source = "AWS_DEFAULT_REGION" if environ.get("AWS_DEFAULT_REGION") == found else "profile"
        profile = environ.get("AWS_PROFILE")
        return Region(found, f"profile {profile}" if source == "profile" and profile else source)
    raise DeployError(
        "no AWS region configured: set one in your profile (aws configure set region <region>), "
        "or AWS_REGION=<region> make deploy ..."
    )


def account_id(session: boto3.Session) -> str:
    try:
        identity = session.client("sts").get_caller_identity()
    except botocore.exceptions.NoCredentialsError:
        raise DeployError(
            "no AWS credentials: run `aws configure` (or `aws sso login`), or set AWS_PROFILE"
        ) from None
    except botocore.exceptions.BotoCoreError as error:
        raise DeployError(f"cannot reach AWS STS in {session.region_name}: {error}") from error
    except botocore.exceptions.ClientError as error:
        raise DeployError(f"AWS refused these credentials: {error}") from error
    account: str = identity["Account"]
    return account


def image_build_problem(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """Why ``make worker-image`` cannot run here, or None."""
    missing = [tool for tool in IMAGE_TOOLS if which(tool) is None]
    if not missing or which("apt-get") is not None:
        return None
    return (
        f"make worker-image needs {', '.join(missing)} (Debian's docker.io, debootstrap and "
        "qemu-user-static), and there is no apt-get here to install them. Build and push the "
        "worker image elsewhere, then: make deploy ENV=... IMAGE=<repository uri>:<tag>"
    )


# ---------------------------------------------------------------- the image in ECR


def ensure_repository(ecr: Any, name: str = REPOSITORY) -> str:
    """The repository's URI; created with scan on push and immutable tags when missing."""
    try:
        created = ecr.create_repository(
            repositoryName=name,
            imageTagMutability="IMMUTABLE",
            imageScanningConfiguration={"scanOnPush": True},
            encryptionConfiguration={"encryptionType": "AES256"},
        )["repository"]
    except ecr.exceptions.RepositoryAlreadyExistsException:
        found = ecr.describe_repositories(repositoryNames=[name])["repositories"][0]
        if found.get("imageTagMutability") != "IMMUTABLE":
            print(f"warning: ECR repository {name} lets tags be overwritten", file=sys.stderr)
        if not found.get("imageScanningConfiguration", {}).get("scanOnPush"):
            print(f"warning: ECR repository {name} does not scan on push", file=sys.stderr)
        uri: str = found["repositoryUri"]
        return uri
    print(f"created ECR repository {created['repositoryUri']} (scan on push, immutable tags)")
    created_uri: str = created["repositoryUri"]
    return created_uri


def image_tagged(ecr: Any, repository: str, tag: str) -> bool:
    try:
        ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])
    except ecr.exceptions.ImageNotFoundException:
        return False
    return True


def _run(argv: Sequence[str], input: str | None = None) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, check=False, input=input)
    if done.returncode != 0:
        raise DeployError(f"{' '.join(argv[:2])} failed: {done.stderr.strip() or done.stdout}")
    return done.stdout.strip()


def content_tag(image_id: str, repo: Path = REPO_ROOT) -> str:
    """The commit the image was built from; ``<commit>-dirty-<image id>`` with changes in the
    tree, so that every different image gets its own tag in an immutable repository."""
    commit = _run(["git", "-C", str(repo), "rev-parse", "--short=12", "HEAD"])
    changes = _run(["git", "-C", str(repo), "status", "--porcelain"])
    if not changes:
        return commit
    return f"{commit}-dirty-{image_id.removeprefix('sha256:')[:12]}"


def local_image(tag: str = LOCAL_IMAGE) -> tuple[str, str]:
    """The built image's id and architecture."""
    inspected = _run(["docker", "image", "inspect", "--format", "{{.Id}} {{.Architecture}}", tag])
    image_id, _, architecture = inspected.partition(" ")
    return image_id, architecture


def docker_login(ecr: Any) -> str:
    """``docker login`` to the account's registry with an ECR token; the registry's host."""
    data = ecr.get_authorization_token()["authorizationData"][0]
    user, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
    registry: str = data["proxyEndpoint"].removeprefix("https://")
    _run(["docker", "login", "--username", user, "--password-stdin", registry], input=password)
    return registry


def publish_worker_image(session: boto3.Session, repository: str = REPOSITORY) -> str:
    """Push ``skylane-worker:arm64`` (make worker-image) to ECR; the URI the stack runs."""
    from infra.images.engine import docker_engine

    ecr = session.client("ecr")
    repository_uri = ensure_repository(ecr, repository)
    with docker_engine():
        image_id, architecture = local_image()
        if architecture != IMAGE_ARCHITECTURE:
            raise DeployError(
                f"{LOCAL_IMAGE} is {architecture}, the task runs {IMAGE_ARCHITECTURE}: "
                "make worker-image rebuilds it"
            )
        tag = content_tag(image_id)
        uri = f"{repository_uri}:{tag}"
        if image_tagged(ecr, repository, tag):
            print(f"{uri} is in ECR already: not pushed again")
            return uri
        docker_login(ecr)
        _run(["docker", "tag", LOCAL_IMAGE, uri])
        print(f"pushing {uri}", flush=True)
        pushed = subprocess.run(["docker", "push", uri], check=False)
        if pushed.returncode != 0:
            raise DeployError(f"docker push {uri} failed")
    return uri


# ---------------------------------------------------------------- sam deploy


def pinned_sam_cli_version(makefile: Path = MAKEFILE) -> str:
    match = re.search(r"^SAM_CLI_VERSION := (\S+)$", makefile.read_text(), re.M)
    if match is None:
        raise DeployError(f"{makefile} pins no SAM_CLI_VERSION")
    return match.group(1)


def sam_deploy_command(
    env: str, region: str, parameters: Mapping[str, str], extra: Sequence[str] = ()
) -> list[str]:
    """``sam deploy`` (the Makefile's pinned SAM CLI, installed by ``make sam-cli``)."""
    sam = [str(UV), "tool", "run", "--offline", "--quiet"]
    sam += ["--from", f"aws-sam-cli=={pinned_sam_cli_version()}", "sam"]
    # The config file by its absolute path: SAM CLI looks for a relative one next to the
    # template, which --template-file may put elsewhere.
    argv = [*sam, "deploy", "--config-file", str(SAMCONFIG), "--config-env", env]
    argv += ["--region", region]
    argv += ["--parameter-overrides", *(format_override(k, v) for k, v in parameters.items())]
    return [*argv, *extra]


def parse_args(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    arguments = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in arguments:
        at = arguments.index("--")
        arguments, extra = arguments[:at], arguments[at + 1 :]
    parser = argparse.ArgumentParser(
        prog="python -m infra.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, help="samconfig.toml environment: dev or prod")
    parser.add_argument("--region", help="AWS region (default: AWS_REGION, then your profile's)")
    parser.add_argument(
        "--image-uri",
        help="deploy this worker image instead of pushing skylane-worker:arm64",
    )
    parser.add_argument(
        "--repository", default=REPOSITORY, help=f"ECR repository (default {REPOSITORY})"
    )
    parser.add_argument(
        "--parameter-overrides",
        action="append",
        default=[],
        metavar="'KEY=VALUE ...'",
        help="parameters over samconfig's (repeatable; a value with spaces in quotes)",
    )
    parser.add_argument(
        "--preflight",
        action="store_true",
        help="check the environment, region, account and image tools, and stop",
    )
    return parser.parse_args(arguments), extra


def run(argv: Sequence[str] | None = None) -> int:
    args, extra = parse_args(argv)
    config = read_samconfig(args.env)
    user = [parse_overrides(overrides) for overrides in args.parameter_overrides]
    image_uri: str | None = args.image_uri
    for overrides in user:
        image_uri = overrides.get(IMAGE_PARAMETER, image_uri)
    if image_uri is not None and not image_uri.strip():
        raise DeployError(
            f"{IMAGE_PARAMETER} is empty: leave it out and make deploy pushes the worker image"
        )
    region = resolve_region(args.region)
    session = boto3.Session(region_name=region.name)
    account = account_id(session)
    stack = config.get("stack_name", "?")
    print(f"deploying {stack} (samconfig.toml [{args.env}]) to account {account}, ", end="")
    print(f"region {region.name} (from {region.source})")
    if image_uri is None:
        problem = image_build_problem()
        if problem:
            raise DeployError(problem)
        registry = f"{account}.dkr.ecr.{region.name}.amazonaws.com"
        print(
            f"worker image: {LOCAL_IMAGE} (make worker-image), pushed to {registry}/{args.repository}"
        )
    else:
        print(f"worker image: {image_uri}")
    if args.preflight:
        return 0

    if image_uri is None:
        image_uri = publish_worker_image(session, args.repository)
    parameters = merge_overrides(
        config.get("parameter_overrides", ""), image_uri, args.parameter_overrides
    )
    if not parameters.get(IMAGE_PARAMETER, "").strip():
        raise DeployError(f"{IMAGE_PARAMETER} is empty: the worker would have no image")
    command = sam_deploy_command(args.env, region.name, parameters, extra)
    print("$ " + shlex.join(command[command.index("sam") :]), flush=True)
    environment = {**os.environ, "SAM_CLI_TELEMETRY": "0"}
    return subprocess.run(command, check=False, env=environment, cwd=REPO_ROOT).returncode


def main() -> None:
    try:
        sys.exit(run())
    except DeployError as error:
        print(f"make deploy: {error}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
