"""``make deploy``'s ``sam deploy`` for real, against moto's server instead of an account.

``python -m infra.deploy`` runs the pinned SAM CLI (its uv tool environment, offline) with
``--no-execute-changeset``: SAM CLI uploads the packages and the template to the emulator's S3
and creates the change set, which is then read back. What it shows: samconfig's parameters
reach CloudFormation together with the worker image's URI and the user's overrides (SAM CLI
alone would drop samconfig's when any are given), in the region from AWS_REGION.

Not shown, because moto does not do it: the Rules assertion (moto accepts an empty
WorkerImageUri), conditions (every resource is listed), the SAM transform, and the stack itself.
The ECR push needs a registry and is not run (--image-uri).
"""

import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from infra import local_iam
from infra.emulator import Emulator, start_moto

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TEMPLATE = REPO / "template.yaml"
SAMCONFIG = REPO / "samconfig.toml"
REGION = "eu-west-1"
BUCKET = "deploy-artifacts"
IMAGE = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/skylane-worker:0123456789ab"
FUNCTIONS = 3  # ApiFunction, SchedulerFunction, LightFunction
CHANGESET_CREATED = re.compile(r"Changeset created successfully\. (arn:\S+)")


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    server = start_moto(port=0)
    # moto's IAM enforcement is one setting for every server in this process, and the session's
    # stack turns it on; this test is about sam deploy, not IAM, and signs as "testing".
    with local_iam.enforcement_paused(server.endpoint):
        yield server
    server.stop()


@pytest.fixture(scope="module")
def endpoint_url(emulator: Emulator) -> str:
    # "localhost", not 127.0.0.1: moto's CreateChangeSet finds the bucket in the path of SAM
    # CLI's TemplateURL only for a localhost (or amazonaws.com) host.
    url = emulator.endpoint.url.replace("127.0.0.1", "localhost")
    s3 = client("s3", url)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return url


@pytest.fixture(scope="module")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """template.yaml with each function's code a small folder: what SAM CLI packages and
    uploads is the same step for it, and make build's 20-40 MB packages are not this test's."""
    built = tmp_path_factory.mktemp("built")
    source = TEMPLATE.read_text()
    assert source.count("CodeUri: .\n") == FUNCTIONS
    for number in range(FUNCTIONS):
        # One folder each, with different content: SAM CLI uploads each package once by hash.
        (built / f"code{number}").mkdir()
        (built / f"code{number}" / "handler.py").write_text(
            f"def handler(e, c):\n    return {number}\n"
        )
        source = source.replace("CodeUri: .\n", f"CodeUri: code{number}\n", 1)
    (built / "template.yaml").write_text(source)
    return built / "template.yaml"


def client(service: str, endpoint_url: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )
    return session.client(service, endpoint_url=endpoint_url)  # type: ignore[call-overload]


def samconfig_overrides(env: str) -> dict[str, str]:
    # samconfig's values have no spaces: read here without infra.deploy's parser.
    value = tomllib.loads(SAMCONFIG.read_text())[env]["deploy"]["parameters"]
    return dict(item.split("=", 1) for item in value["parameter_overrides"].split())


def deploy_changeset(
    endpoint_url: str, template: Path, env: str, *arguments: str
) -> tuple[str, dict[str, Any]]:
    """Run the deploy without executing its change set: the output and the change set."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    environment |= {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        # The region comes from here: neither the Makefile nor infra.deploy has a default.
        "AWS_REGION": REGION,
        # No profile of this machine's user is read.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
    sam_arguments = ["--template-file", str(template), "--no-execute-changeset"]
    sam_arguments += ["--no-fail-on-empty-changeset", "--no-progressbar"]
    # moto's copy of SAM CLI's managed stack (resolve_s3) has no outputs, which SAM CLI refuses.
    sam_arguments += ["--no-resolve-s3", "--s3-bucket", BUCKET]
    done = subprocess.run(
        [sys.executable, "-m", "infra.deploy", "--env", env, *arguments, "--", *sam_arguments],
        cwd=REPO,
        env=environment,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    created = CHANGESET_CREATED.search(output)
    assert created, output
    changeset = client("cloudformation", endpoint_url).describe_change_set(
        ChangeSetName=created.group(1)
    )
    return output, changeset


def parameters_of(changeset: dict[str, Any]) -> dict[str, str]:
    return {item["ParameterKey"]: item["ParameterValue"] for item in changeset["Parameters"]}


def test_dev_gets_samconfigs_parameters_and_the_image(
    endpoint_url: str, built_template: Path
) -> None:
    output, changeset = deploy_changeset(endpoint_url, built_template, "dev", "--image-uri", IMAGE)
    assert changeset["StackName"] == "skylane-dev"
    assert f":cloudformation:{REGION}:" in changeset["ChangeSetId"]
    assert parameters_of(changeset) == samconfig_overrides("dev") | {"WorkerImageUri": IMAGE}
    assert parameters_of(changeset)["ApiAuth"] == "IAM"
    assert "Region                       : eu-west-1" in output
    # SAM CLI packaged the three functions and the template into the emulator's S3.
    keys = [
        item["Key"]
        for item in client("s3", endpoint_url).list_objects_v2(
            Bucket=BUCKET, Prefix="skylane-dev/"
        )["Contents"]
    ]
    assert len([key for key in keys if key.endswith(".template")]) == 1
    assert len([key for key in keys if not key.endswith(".template")]) == FUNCTIONS


def test_prod_keeps_samconfigs_parameters_under_the_users_overrides(
    endpoint_url: str, built_template: Path
) -> None:
    user = 'EmailSender="Skylane Ops <ops@example.com>" LogLevel=DEBUG'
    _, changeset = deploy_changeset(
        endpoint_url,
        built_template,
        "prod",
        "--image-uri",
        IMAGE,
        "--parameter-overrides",
        user,
    )
    assert changeset["StackName"] == "skylane-prod"
    expected = samconfig_overrides("prod") | {
        "WorkerImageUri": IMAGE,
        "EmailSender": "Skylane Ops <ops@example.com>",
        "LogLevel": "DEBUG",
    }
    assert parameters_of(changeset) == expected
    assert (expected["Stage"], expected["ApiAuth"]) == ("prod", "IAM")
