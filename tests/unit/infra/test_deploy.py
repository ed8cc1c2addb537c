"""infra/deploy.py, what `make deploy` runs: samconfig's parameters merged with the image's URI
and the user's overrides, as SAM CLI itself reads them back; the region; the ECR repository
(moto's in-process mock); the image's tag; the sam deploy command. No Docker, no network."""

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from infra import deploy
from infra.deploy import DeployError

REPO = Path(__file__).resolve().parents[3]
REGION = "eu-west-1"
IMAGE = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/skylane-worker:0123456789ab"
DEV = "Stage=dev LogLevel=DEBUG WorkerMinCount=0 WorkerMaxCount=2 LogRetentionDays=14 ApiAuth=IAM"


# ---------------------------------------------------------------- parameters


def test_the_image_is_added_to_samconfigs_parameters() -> None:
    merged = deploy.merge_overrides(DEV, IMAGE)
    assert merged == {
        "Stage": "dev",
        "LogLevel": "DEBUG",
        "WorkerMinCount": "0",
        "WorkerMaxCount": "2",
        "LogRetentionDays": "14",
        "ApiAuth": "IAM",
        "WorkerImageUri": IMAGE,
    }


def test_the_users_overrides_win_over_samconfig_and_the_image() -> None:
    merged = deploy.merge_overrides(
        DEV,
        IMAGE,
        ["LogLevel=INFO CorsAllowedOrigins='https://a.example, https://b.example'", "ApiAuth=JWT"],
    )
    assert merged["LogLevel"] == "INFO"
    assert merged["ApiAuth"] == "JWT"
    assert merged["CorsAllowedOrigins"] == "https://a.example, https://b.example"
    assert merged["Stage"] == "dev"
    assert deploy.merge_overrides(DEV, IMAGE, ["WorkerImageUri=mine:1"])["WorkerImageUri"] == (
        "mine:1"
    )


def test_samconfigs_forms_are_read_as_sam_cli_reads_them() -> None:
    assert deploy.parse_overrides('EmailSender="Ops <ops@example.com>" JobTtlDays=3') == {
        "EmailSender": "Ops <ops@example.com>",
        "JobTtlDays": "3",
    }
    assert deploy.parse_overrides("ParameterKey=LogLevel,ParameterValue=WARNING") == {
        "LogLevel": "WARNING"
    }
    # samconfig.toml may hold a list.
    assert deploy.parse_overrides(["Stage=prod", "AlarmEmail=ops@example.com"]) == {
        "Stage": "prod",
        "AlarmEmail": "ops@example.com",
    }
    assert deploy.parse_overrides('AlarmEmail=""') == {"AlarmEmail": ""}
    with pytest.raises(DeployError, match="not Key=Value"):
        deploy.parse_overrides("Stage")


@pytest.mark.parametrize(
    ("value", "formatted"),
    [
        ("dev", "Stage=dev"),
        ("Skylane Ops <ops@example.com>", 'Stage="Skylane Ops <ops@example.com>"'),
        ("", 'Stage=""'),
        ('say "hi"', 'Stage="say \\"hi\\""'),
    ],
)
def test_values_are_quoted_when_they_need_it(value: str, formatted: str) -> None:
    assert deploy.format_override("Stage", value) == formatted


def test_a_backslash_is_refused_rather_than_mangled() -> None:
    with pytest.raises(DeployError, match="backslash"):
        deploy.format_override("JwtIssuer", "a\\ b")


# What SAM CLI's own --parameter-overrides type makes of the arguments (the Makefile's pinned
# version, in its uv tool environment: make unit installs it; no network).
SAM_PARSER = """
import json, sys
from samcli.cli.types import CfnParameterOverridesType
print(json.dumps(CfnParameterOverridesType().convert(tuple(sys.argv[1:]), None, None)))
"""


def sam_cli_reads(arguments: list[str]) -> dict[str, str]:
    command = [str(deploy.UV), "tool", "run", "--offline", "--quiet"]
    command += ["--from", f"aws-sam-cli=={deploy.pinned_sam_cli_version()}", "python"]
    done = subprocess.run(
        [*command, "-c", SAM_PARSER, *arguments],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "SAM_CLI_TELEMETRY": "0"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"SAM CLI's environment is missing (make unit):\n{done.stderr}"
    parsed: dict[str, str] = json.loads(done.stdout)
    return parsed


def test_sam_cli_reads_back_exactly_the_merged_parameters() -> None:
    merged = deploy.merge_overrides(
        DEV,
        IMAGE,
        [
            'EmailSender="Skylane Ops <ops@example.com>" AlarmEmail=""',
            "CorsAllowedOrigins='https://a.example, https://b.example'",
            "JwtAudience='say \"hi\"'",
        ],
    )
    arguments = [deploy.format_override(key, value) for key, value in merged.items()]
    assert sam_cli_reads(arguments) == merged
    # And samconfig's own strings, which SAM CLI reads itself, the way parse_overrides does.
    for env in ("dev", "prod"):
        samconfig = deploy.read_samconfig(env)["parameter_overrides"]
        assert sam_cli_reads([samconfig]) == deploy.parse_overrides(samconfig)


def test_samconfig_closes_the_api_in_every_environment() -> None:
    for env in ("dev", "prod"):
        parameters = deploy.parse_overrides(deploy.read_samconfig(env)["parameter_overrides"])
        assert parameters["ApiAuth"] == "IAM"
        assert parameters["Stage"] == env
        assert "WorkerImageUri" not in parameters
    with pytest.raises(DeployError, match="environments: dev, prod"):
        deploy.read_samconfig("staging")


# ---------------------------------------------------------------- region


def test_the_region_is_the_users_never_a_default() -> None:
    from_profile = lambda: "ap-southeast-2"  # noqa: E731
    assert deploy.resolve_region("sa-east-1", {"AWS_REGION": REGION}, from_profile).name == (
        "sa-east-1"
    )
    assert deploy.resolve_region(None, {"AWS_REGION": REGION}, from_profile) == deploy.Region(
        REGION, "AWS_REGION"
    )
    assert deploy.resolve_region(None, {"AWS_PROFILE": "ops"}, from_profile) == deploy.Region(
        "ap-southeast-2", "profile ops"
    )
    found = deploy.resolve_region(None, {"AWS_DEFAULT_REGION": "eu-north-1"}, lambda: "eu-north-1")
    assert found.source == "AWS_DEFAULT_REGION"
    with pytest.raises(DeployError, match="no AWS region configured"):
        deploy.resolve_region(None, {}, lambda: None)


def test_boto3_finds_the_profiles_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[profile ops]\nregion = ap-southeast-2\n")
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_PROFILE", "ops")
    assert deploy.resolve_region().name == "ap-southeast-2"


# ---------------------------------------------------------------- ECR and the image


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_REGION", REGION)
    with mock_aws():
        yield boto3.Session(region_name=REGION)


def test_the_repository_is_created_scanned_and_immutable_once(aws: boto3.Session) -> None:
    ecr = aws.client("ecr")
    uri = deploy.ensure_repository(ecr)
    assert uri.endswith(f".dkr.ecr.{REGION}.amazonaws.com/skylane-worker")
    repository = ecr.describe_repositories(repositoryNames=["skylane-worker"])["repositories"][0]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    assert deploy.ensure_repository(ecr) == uri
    assert not deploy.image_tagged(ecr, "skylane-worker", "0123456789ab")


def test_docker_logs_in_with_the_ecr_token(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[list[str], str | None]] = []
    monkeypatch.setattr(deploy, "_run", lambda argv, input=None: calls.append((argv, input)) or "")
    ecr = aws.client("ecr")
    token = ecr.get_authorization_token()["authorizationData"][0]["authorizationToken"]
    user, _, password = base64.b64decode(token).decode().partition(":")
    registry = deploy.docker_login(ecr)
    assert calls == [
        (["docker", "login", "--username", user, "--password-stdin", registry], password)
    ]
    assert "//" not in registry


def git(repo: Path, *arguments: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_the_tag_is_the_commit_and_says_when_the_tree_had_changes(tmp_path: Path) -> None:
    git(tmp_path, "init", "--quiet")
    (tmp_path / "file").write_text("one\n")
    git(tmp_path, "add", "file")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "one")
    commit = git(tmp_path, "rev-parse", "--short=12", "HEAD")
    image_id = "sha256:" + "ab" * 32
    assert deploy.content_tag(image_id, tmp_path) == commit
    (tmp_path / "file").write_text("two\n")
    assert deploy.content_tag(image_id, tmp_path) == f"{commit}-dirty-{'ab' * 6}"


def test_the_image_tools_are_checked_before_anything_is_built() -> None:
    assert deploy.image_build_problem(lambda tool: f"/usr/bin/{tool}") is None
    # make image-tools installs what is missing where apt-get is.
    assert deploy.image_build_problem(lambda tool: "/usr/bin/apt-get" * (tool == "apt-get")) is None
    problem = deploy.image_build_problem(lambda tool: None)
    assert problem is not None
    assert "IMAGE=" in problem


# ---------------------------------------------------------------- the command


def test_sam_deploy_gets_the_env_the_region_and_every_parameter() -> None:
    command = deploy.sam_deploy_command(
        "prod", REGION, {"Stage": "prod", "EmailSender": "a b"}, ["--no-execute-changeset"]
    )
    sam = command.index("sam")
    assert command[sam + 1 :] == [
        "deploy",
        "--config-file",
        str(REPO / "samconfig.toml"),
        "--config-env",
        "prod",
        "--region",
        REGION,
        "--parameter-overrides",
        "Stage=prod",
        'EmailSender="a b"',
        "--no-execute-changeset",
    ]
    assert command[sam - 1] == f"aws-sam-cli=={deploy.pinned_sam_cli_version()}"


def test_a_deploy_runs_sam_with_samconfigs_parameters_and_no_forced_region(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[tuple[list[str], dict[str, str]]] = []

    def fake_run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        ran.append((argv, kwargs["env"]))
        return subprocess.CompletedProcess(argv, 0)

    monkeypatch.setattr(deploy.subprocess, "run", fake_run)
    code = deploy.run(
        ["--env", "prod", "--image-uri", IMAGE, "--parameter-overrides", "LogLevel=DEBUG"]
    )
    assert code == 0
    ((argv, env),) = ran
    at = argv.index("--parameter-overrides")
    prod = deploy.parse_overrides(deploy.read_samconfig("prod")["parameter_overrides"])
    expected = prod | {"WorkerImageUri": IMAGE, "LogLevel": "DEBUG"}
    assert argv[at + 1 :] == [deploy.format_override(k, v) for k, v in expected.items()]
    assert argv[argv.index("--region") + 1] == REGION
    assert "AWS_DEFAULT_REGION" not in env
    assert f"to account 123456789012, region {REGION} (from AWS_REGION)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "arguments",
    [["--image-uri", ""], ["--parameter-overrides", 'WorkerImageUri=""']],
)
def test_a_deploy_without_an_image_is_refused_before_sam_runs(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch, arguments: list[str]
) -> None:
    monkeypatch.setattr(deploy.subprocess, "run", lambda *a, **k: pytest.fail("sam ran"))
    with pytest.raises(DeployError, match="WorkerImageUri is empty"):
        deploy.run(["--env", "dev", *arguments])


def test_no_credentials_is_said_plainly(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(DeployError, match="no AWS credentials"):
        deploy.run(["--env", "dev", "--region", REGION, "--preflight"])


def test_the_module_reports_errors_without_a_traceback(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env |= {"AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true"}
    done = subprocess.run(
        [sys.executable, "-m", "infra.deploy", "--env", "dev", "--preflight"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.startswith("make deploy: no AWS region configured")
    assert "Traceback" not in done.stderr
