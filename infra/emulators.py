"""The emulators the local stack runs on, and what each one does differently from AWS.

Every difference skylane works around is declared here once, with its reason (README:
*Emulators*). Nothing here changes the template for AWS: ``infra.template_gaps`` applies a
kind's gaps only to the transformed template that emulator sees.
"""

import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Resource = dict[str, Any]
# Who sends a schedule's payload to its function: the emulator's own EventBridge Scheduler, or
# skylane's schedule runner (infra/scheduler_runner.py). Exactly one of them, per emulator.
ScheduleFiring = Literal["emulator", "schedule runner"]
MOTO = "moto"
MINISTACK = "ministack"
LOCALSTACK = "localstack"


@dataclass(frozen=True)
class LeftOut:
    """Resources an emulator cannot create: every one ``matches`` selects, and its dependents."""

    reason: str
    matches: Callable[[Resource], bool]


@dataclass(frozen=True)
class Adaptation:
    """A property of one resource type, rewritten (with the stack's parameters) for the emulator."""

    resource_type: str
    reason: str
    adapt: Callable[[Resource, Mapping[str, str]], None]


@dataclass(frozen=True)
class EmulatorKind:
    name: str
    # The access key (and secret) the emulator signs presigned URLs with and checks them
    # against; a client that signs with another one gets 403 InvalidAccessKeyId there.
    default_credentials: str
    # moto's own API (/moto-api/): IAM enforcement through infra/local_iam.py and AWS's managed
    # policies loaded into its IAM. Only the embedded moto server has it.
    moto_api: bool
    schedule_firing: ScheduleFiring = "schedule runner"
    # The emulator's own Scheduler fires enabled schedules (moto's never does). Where the
    # schedule runner fires, such an emulator's schedules are created disabled.
    own_scheduler_fires: bool = False
    # Behaviour AWS has and not every emulator does; tests of it run where it is there.
    verifies_presigned_urls: bool = False
    expires_ttl_items: bool = False
    # A failed creation rolled back to ROLLBACK_COMPLETE (moto stops half way on an error).
    rolls_back_failed_creation: bool = False
    left_out: tuple[LeftOut, ...] = ()
    adaptations: tuple[Adaptation, ...] = field(default=())


def _of_type(*types: str) -> Callable[[Resource], bool]:
    return lambda resource: resource.get("Type") in types


def _metric_math_alarm(resource: Resource) -> bool:
    return resource.get("Type") == "AWS::CloudWatch::Alarm" and "Metrics" in resource.get(
        "Properties", {}
    )


def _desired_count_as_number(resource: Resource, parameters: Mapping[str, str]) -> None:
    properties = resource.get("Properties", {})
    count = properties.get("DesiredCount")
    if isinstance(count, dict) and set(count) == {"Ref"}:
        count = parameters[count["Ref"]]
    if isinstance(count, str):
        properties["DesiredCount"] = int(count)


def _schedule_disabled(resource: Resource, parameters: Mapping[str, str]) -> None:
    resource.setdefault("Properties", {})["State"] = "DISABLED"


# moto's server, embedded in our process: it never fires schedules and never runs Lambda code.
MOTO_KIND = EmulatorKind(name=MOTO, default_credentials="testing", moto_api=True)

MINISTACK_KIND = EmulatorKind(
    name=MINISTACK,
    default_credentials="test",
    moto_api=False,
    own_scheduler_fires=True,
    verifies_presigned_urls=True,
    expires_ttl_items=True,
    rolls_back_failed_creation=True,
    left_out=(
        LeftOut(
            "MiniStack's CloudFormation has no AWS::ApplicationAutoScaling::* (the worker's "
            "queue-depth scaling)",
            _of_type(
                "AWS::ApplicationAutoScaling::ScalableTarget",
                "AWS::ApplicationAutoScaling::ScalingPolicy",
            ),
        ),
        LeftOut(
            "MiniStack's CloudFormation has no AWS::Logs::QueryDefinition (saved Logs Insights "
            "queries)",
            _of_type("AWS::Logs::QueryDefinition"),
        ),
        LeftOut(
            "MiniStack's PutMetricAlarm refuses metric-math alarms (Metrics instead of MetricName)",
            _metric_math_alarm,
        ),
    ),
    adaptations=(
        Adaptation(
            "AWS::ECS::Service",
            "MiniStack's ECS breaks on a DesiredCount that arrives as a string, as !Ref of a "
            "Number parameter does (AWS converts it)",
            _desired_count_as_number,
        ),
        Adaptation(
            "AWS::Scheduler::Schedule",
            "MiniStack fires schedules itself, into a function that is only a placeholder zip "
            "here, and passes <aws.scheduler.execution-id> through unsubstituted; the schedule "
            "runner fires them instead, so each firing happens once",
            _schedule_disabled,
        ),
    ),
)

# Any other endpoint (LocalStack through LOCALSTACK_HOST, or AWS_ENDPOINT_URL): its gaps are
# not declared here; "test" is LocalStack's own default key.
LOCALSTACK_KIND = EmulatorKind(name=LOCALSTACK, default_credentials="test", moto_api=False)

KINDS: dict[str, EmulatorKind] = {
    kind.name: kind for kind in (MOTO_KIND, MINISTACK_KIND, LOCALSTACK_KIND)
}
# Each kind's own health path, most specific first (MiniStack answers LocalStack's too).
_HEALTH_PATHS = (("/_ministack/health", MINISTACK), ("/moto-api/", MOTO))


def kind_named(name: str) -> EmulatorKind:
    try:
        return KINDS[name.strip().lower()]
    except KeyError:
        known = ", ".join(sorted(KINDS))
        raise ValueError(f"unknown emulator {name!r} (known: {known})") from None


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3.0) as answer:  # noqa: S310 (http:// only)
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def detect_kind(url: str) -> EmulatorKind:
    """Which emulator answers at ``url``, from its own health path (LocalStack's otherwise)."""
    for path, name in _HEALTH_PATHS:
        if _answers(url.rstrip("/") + path):
            return KINDS[name]
    return LOCALSTACK_KIND
