"""template.yaml and the code agree: queue visibility timeouts and environment variables."""

from pathlib import Path
from typing import Any

import pytest
from cfn_tools import load_yaml

from skylane.core.settings import Settings

TEMPLATE = Path(__file__).parents[2] / "template.yaml"


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(TEMPLATE.read_text())
    return loaded


@pytest.mark.parametrize("logical_id", ["HighQueue", "DefaultQueue"])
def test_queues_take_visibility_and_receive_count_from_parameters(
    template: dict[str, Any], logical_id: str
) -> None:
    queue = template["Resources"][logical_id]["Properties"]
    assert queue["VisibilityTimeout"] == {"Ref": "QueueVisibilityTimeoutSeconds"}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == {"Ref": "MaxReceiveCount"}


def test_worker_and_queues_share_one_visibility_timeout(template: dict[str, Any]) -> None:
    # The heartbeat interval is derived from the worker's copy of the queues' timeout.
    definition = template["Resources"]["WorkerTaskDefinition"]["Properties"]
    environment = definition["ContainerDefinitions"][0]["Environment"]
    values = {entry["Name"]: entry["Value"] for entry in environment}
    assert values["QUEUE_VISIBILITY_TIMEOUT_SECONDS"] == {"Ref": "QueueVisibilityTimeoutSeconds"}
    default = int(template["Parameters"]["QueueVisibilityTimeoutSeconds"]["Default"])
    assert default == Settings.model_fields["queue_visibility_timeout_seconds"].default


def api_environment(template: dict[str, Any]) -> set[str]:
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    function = template["Resources"]["ApiFunction"]["Properties"]
    names |= set(function.get("Environment", {}).get("Variables", {}))
    return names


def worker_environment(template: dict[str, Any]) -> set[str]:
    definition = template["Resources"]["WorkerTaskDefinition"]["Properties"]
    return {entry["Name"] for entry in definition["ContainerDefinitions"][0]["Environment"]}


REQUIRED = {name.upper() for name, field in Settings.model_fields.items() if field.is_required()}


def test_api_gets_every_required_setting(template: dict[str, Any]) -> None:
    assert api_environment(template) >= REQUIRED | {"HIGH_DLQ_URL", "DEFAULT_DLQ_URL"}


def test_worker_gets_every_setting_its_tasks_read(template: dict[str, Any]) -> None:
    assert worker_environment(template) >= REQUIRED | {"EMAIL_SENDER", "NOTIFICATIONS_TOPIC_ARN"}


def test_every_environment_name_is_a_setting_or_a_runtime_variable(
    template: dict[str, Any],
) -> None:
    known = {name.upper() for name in Settings.model_fields} | {
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_LOG_LEVEL",
        # Read by Powertools itself (skylane/observability/metrics.py, skylane/observability/tracing.py).
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_TRACE_DISABLED",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
    }
    assert (api_environment(template) | worker_environment(template)) - known == set()


def test_the_light_function_and_the_router_share_one_timeout(template: dict[str, Any]) -> None:
    from skylane.jobs.routing import LIGHT_FUNCTION_TIMEOUT_SECONDS

    function = template["Resources"]["LightFunction"]["Properties"]
    assert function["Timeout"] == LIGHT_FUNCTION_TIMEOUT_SECONDS
    # AWS refuses an SQS event source whose queue hides a record for less than the timeout,
    # and advises six times it.
    visibility = template["Parameters"]["LightQueueVisibilityTimeoutSeconds"]["Default"]
    assert int(visibility) >= 6 * LIGHT_FUNCTION_TIMEOUT_SECONDS
    (event,) = function["Events"].values()
    assert event["Type"] == "SQS"
    assert event["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event["Properties"]["Queue"] == {"Fn::GetAtt": ["LightQueue", "Arn"]}


def test_the_light_function_runs_what_the_light_lane_receives(template: dict[str, Any]) -> None:
    from skylane.jobs.contracts import TASKS
    from skylane.jobs.routing import route

    function = template["Resources"]["LightFunction"]["Properties"]
    names = set(template["Globals"]["Function"]["Environment"]["Variables"])
    names |= set(function["Environment"]["Variables"])
    assert names >= REQUIRED | {"LIGHT_QUEUE_URL", "NOTIFICATIONS_TOPIC_ARN"}
    # Least privilege: the light lane's tasks only publish notifications.
    assert {spec.kind for spec in TASKS.values() if route(spec).light} == {"send_notification"}


NO_VALUE = {"Ref": "AWS::NoValue"}


def evaluate(value: Any, template: dict[str, Any], parameters: dict[str, str]) -> Any:
    """The few intrinsics the API's routes use (Ref, Fn::If, Fn::Equals, Fn::Not, Condition),
    as CloudFormation evaluates them for these parameter values."""
    if not isinstance(value, dict) or len(value) != 1:
        return value
    ((name, argument),) = value.items()
    if name == "Ref" and argument in template["Parameters"]:
        return parameters.get(argument, template["Parameters"][argument].get("Default"))
    if name == "Condition":
        return evaluate(template["Conditions"][argument], template, parameters)
    if name == "Fn::Equals":
        left, right = (evaluate(item, template, parameters) for item in argument)
        return left == right
    if name == "Fn::Not":
        return not evaluate(argument[0], template, parameters)
    if name == "Fn::If":
        condition, if_true, if_false = argument
        chosen = if_true if evaluate({"Condition": condition}, template, parameters) else if_false
        return evaluate(chosen, template, parameters)
    return value


@pytest.mark.parametrize(
    ("api_auth", "authorization"), [("NONE", "NONE"), ("IAM", "AWS_IAM"), ("JWT", "JWT")]
)
def test_api_auth_picks_one_default_route_and_health_stays_open(
    template: dict[str, Any], api_auth: str, authorization: str
) -> None:
    parameters = {"ApiAuth": api_auth}
    routes: dict[str, dict[str, Any]] = {}
    for logical_id, resource in template["Resources"].items():
        condition = resource.get("Condition")
        created = condition is None or evaluate({"Condition": condition}, template, parameters)
        if resource["Type"] == "AWS::ApiGatewayV2::Route" and created:
            evaluated = {
                key: evaluate(value, template, parameters)
                for key, value in resource["Properties"].items()
            }
            properties = {key: value for key, value in evaluated.items() if value != NO_VALUE}
            assert properties["RouteKey"] not in routes, f"two routes {logical_id} for one key"
            routes[properties["RouteKey"]] = properties
    # With JWT the dashboard page and its assets are open too: a browser loads the page before
    # it has a token, and the page then asks for one (tests/integration/api_gateway_stand_in.py).
    open_routes = {"GET /health"}
    if api_auth == "JWT":
        open_routes |= {"GET /dashboard", "GET /dashboard/assets/{name}"}
    assert set(routes) == {"$default", *open_routes}
    assert routes["$default"]["AuthorizationType"] == authorization
    jwt_authorizer = {"Ref": "HttpApiJwtAuthorizer"}
    assert routes["$default"].get("AuthorizerId") == (jwt_authorizer if api_auth == "JWT" else None)
    for key in open_routes:
        assert routes[key]["AuthorizationType"] == "NONE"
        assert "AuthorizerId" not in routes[key]


def test_the_api_is_closed_unless_a_deploy_opens_it(template: dict[str, Any]) -> None:
    assert template["Parameters"]["ApiAuth"]["Default"] == "IAM"


def rules_hold(template: dict[str, Any], parameters: dict[str, str]) -> bool:
    """Whether CloudFormation's Rules accept these parameters (checked before any resource)."""
    return all(
        evaluate(assertion["Assert"], template, parameters)
        for rule in template["Rules"].values()
        for assertion in rule["Assertions"]
    )


@pytest.mark.parametrize(
    ("parameters", "accepted"),
    [
        ({}, False),
        ({"WorkerImageUri": ""}, False),
        (
            {"WorkerImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/skylane-worker:a1"},
            True,
        ),
    ],
)
def test_a_deploy_without_a_worker_image_is_refused_before_anything_is_created(
    template: dict[str, Any], parameters: dict[str, str], accepted: bool
) -> None:
    # No default Fargate could pull: an empty image fails the deploy at once, with a message.
    assert template["Parameters"]["WorkerImageUri"]["Default"] == ""
    assert rules_hold(template, parameters) is accepted
    descriptions = [
        assertion["AssertDescription"]
        for rule in template["Rules"].values()
        for assertion in rule["Assertions"]
    ]
    assert any("make deploy" in description for description in descriptions)


def test_the_local_stage_opens_its_api_and_names_its_image(template: dict[str, Any]) -> None:
    from infra.local_setup import LOCAL_PARAMETERS

    assert LOCAL_PARAMETERS["ApiAuth"] == "NONE"
    assert LOCAL_PARAMETERS["WorkerImageUri"].startswith("skylane-worker:")
    assert rules_hold(template, LOCAL_PARAMETERS)


def test_a_worker_deployment_that_cannot_start_fails_and_rolls_back(
    template: dict[str, Any],
) -> None:
    configuration = template["Resources"]["WorkerService"]["Properties"]["DeploymentConfiguration"]
    assert configuration["DeploymentCircuitBreaker"] == {"Enable": True, "Rollback": True}


@pytest.mark.parametrize(
    ("snap_start", "apply_on"), [("true", "PublishedVersions"), ("false", "None")]
)
def test_snap_start_snapshots_published_versions_and_api_gateway_calls_their_alias(
    template: dict[str, Any], snap_start: str, apply_on: str
) -> None:
    parameters = {"ApiSnapStart": snap_start}
    function = template["Resources"]["ApiFunction"]["Properties"]
    assert function["AutoPublishAlias"] == "live"
    assert evaluate(function["SnapStart"]["ApplyOn"], template, parameters) == apply_on
    resources = template["Resources"]
    uri = evaluate(
        resources["HttpApiIntegration"]["Properties"]["IntegrationUri"], template, parameters
    )
    allowed = evaluate(
        resources["ApiFunctionInvokePermission"]["Properties"]["FunctionName"], template, parameters
    )
    # Only a published version is restored from a snapshot: the alias must be what is called.
    alias = {"Ref": "ApiFunction.Alias"}
    if snap_start == "true":
        assert (uri, allowed) == (alias, alias)
    else:
        assert (uri, allowed) == ({"Fn::GetAtt": ["ApiFunction", "Arn"]}, {"Ref": "ApiFunction"})
