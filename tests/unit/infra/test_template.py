from collections.abc import Iterator

import pytest

from infra import local_setup
from infra.emulator import AwsEndpoint, Emulator, start_moto
from infra.template import (
    DeployedStack,
    DeployError,
    deploy,
    load_template,
    sam_transform,
    with_placeholder_code,
)

CODE_URI = "s3://artifacts/placeholder.zip"
# Nothing listens here: the transform of this template must not need AWS.
UNREACHABLE = AwsEndpoint(url="http://127.0.0.1:9")


def test_every_function_gets_the_placeholder_code() -> None:
    template = load_template()
    rewritten = with_placeholder_code(template, CODE_URI)
    functions = [
        resource
        for resource in rewritten["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
    ]
    assert functions
    assert all(function["Properties"]["CodeUri"] == CODE_URI for function in functions)
    assert template["Resources"]["ApiFunction"]["Properties"]["CodeUri"] == "."


def test_transformed_template_has_plain_cloudformation_with_s3_code() -> None:
    template = with_placeholder_code(load_template(), CODE_URI)
    transformed = sam_transform(template, {"Stage": "local"}, UNREACHABLE)
    resources = transformed["Resources"]
    assert not [r for r in resources.values() if r["Type"].startswith("AWS::Serverless::")]
    assert "Transform" not in transformed
    code = resources["ApiFunction"]["Properties"]["Code"]
    assert code == {"S3Bucket": "artifacts", "S3Key": "placeholder.zip"}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    server = start_moto(port=0)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def stack(emulator: Emulator) -> DeployedStack:
    return deploy(emulator.endpoint, {"Stage": "local", "RetryCountdownSeconds": "1"})


def test_api_env_names_the_stacks_resources(stack: DeployedStack) -> None:
    env = stack.api_env
    assert env["JOBS_TABLE"] == stack.physical_ids["JobsTable"] == "skylane-local-jobs"
    assert env["HIGH_QUEUE_URL"] == stack.physical_ids["HighQueue"]
    assert env["HIGH_QUEUE_URL"].endswith("/skylane-local-high")
    assert env["DEFAULT_QUEUE_URL"].endswith("/skylane-local-default")
    assert env["DEFAULT_DLQ_URL"] == stack.outputs["DefaultDeadLetterQueueUrl"]
    assert env["UPLOADS_BUCKET"] == stack.outputs["UploadsBucketName"]
    assert env["SKYLANE_STAGE"] == "local"


def test_each_function_knows_its_own_log_group_as_on_lambda(stack: DeployedStack) -> None:
    # Lambda sets AWS_LAMBDA_LOG_GROUP_NAME; the API searches it and the groups it is given.
    env = stack.api_env
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == stack.outputs["ApiLogGroupName"]
    assert env["WORKER_LOG_GROUP"] == stack.outputs["WorkerLogGroupName"]
    assert env["SCHEDULER_LOG_GROUP"] == stack.outputs["SchedulerLogGroupName"]
    assert env["LIGHT_LOG_GROUP"] == stack.outputs["LightLogGroupName"]
    scheduler = stack.component_env("SchedulerFunction")
    assert scheduler["AWS_LAMBDA_LOG_GROUP_NAME"] == stack.outputs["SchedulerLogGroupName"]


def test_env_values_are_strings_with_overrides_applied(stack: DeployedStack) -> None:
    assert stack.api_env["RETRY_COUNTDOWN_SECONDS"] == "1"
    assert stack.api_env["JOB_TTL_DAYS"] == "7"
    for env in (stack.api_env, stack.worker_env):
        assert all(isinstance(value, str) for value in env.values())


def test_worker_env_is_the_task_definitions(stack: DeployedStack) -> None:
    env = stack.worker_env
    assert env["JOBS_TABLE"] == stack.api_env["JOBS_TABLE"]
    assert env["DEFAULT_QUEUE_URL"] == stack.api_env["DEFAULT_QUEUE_URL"]
    assert env["EMAIL_SENDER"] == "no-reply@example.com"
    assert env["NOTIFICATIONS_TOPIC_ARN"] == stack.outputs["NotificationsTopicArn"]
    assert stack.component_env("worker") is env
    assert stack.component_env("api") is stack.api_env


def test_queues_exist_on_the_emulator(emulator: Emulator, stack: DeployedStack) -> None:
    sqs = emulator.endpoint.client("sqs")
    url = sqs.get_queue_url(QueueName="skylane-local-high")["QueueUrl"]
    assert url.endswith("/skylane-local-high")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["VisibilityTimeout"])
    assert attributes["Attributes"]["VisibilityTimeout"] == "300"


def test_local_setup_verifies_the_email_sender(emulator: Emulator, stack: DeployedStack) -> None:
    local_setup.prepare(emulator.endpoint, stack)
    ses = emulator.endpoint.client("ses")
    assert "no-reply@example.com" in ses.list_identities()["Identities"]


def test_redeploying_updates_the_stack_and_says_what_moto_lost(emulator: Emulator) -> None:
    first = deploy(emulator.endpoint, {"Stage": "local"}, stack_name="skylane-redeploy")
    with pytest.raises(DeployError, match="moto loses it"):
        deploy(
            emulator.endpoint,
            {"Stage": "local", "RetryCountdownSeconds": "2"},
            stack_name="skylane-redeploy",
        )
    api_env = emulator.endpoint.client("lambda").get_function_configuration(
        FunctionName=first.physical_ids["ApiFunction"]
    )["Environment"]["Variables"]
    assert str(api_env["RETRY_COUNTDOWN_SECONDS"]) == "2"
