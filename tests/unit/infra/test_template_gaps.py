"""An emulator's declared gaps, applied to the real transformed template."""

import pytest

from infra.emulator import AwsEndpoint
from infra.emulators import KINDS, LOCALSTACK_KIND, MINISTACK_KIND, MOTO_KIND, EmulatorKind
from infra.template import Template, load_template, sam_transform, with_placeholder_code
from infra.template_gaps import apply_gaps, references

# Nothing listens here: the transform of this template must not need AWS.
UNREACHABLE = AwsEndpoint(url="http://127.0.0.1:9")
PARAMETERS = {"Stage": "local", "WorkerDesiredCount": "2"}


@pytest.fixture(scope="module")
def transformed() -> Template:
    template = with_placeholder_code(load_template(), "s3://artifacts/placeholder.zip")
    return sam_transform(template, PARAMETERS, UNREACHABLE)


def test_moto_and_localstack_get_the_template_as_aws_does(transformed: Template) -> None:
    for kind in (MOTO_KIND, LOCALSTACK_KIND):
        applied = apply_gaps(transformed, kind, PARAMETERS)
        assert applied.template == transformed
        assert applied.left_out == applied.adapted == {}


def test_ministack_gets_no_resource_type_it_cannot_create(transformed: Template) -> None:
    applied = apply_gaps(transformed, MINISTACK_KIND, PARAMETERS)
    types = {resource["Type"] for resource in applied.template["Resources"].values()}
    assert not {t for t in types if t.startswith("AWS::ApplicationAutoScaling::")}
    assert "AWS::Logs::QueryDefinition" not in types
    alarms = [
        resource["Properties"]
        for resource in applied.template["Resources"].values()
        if resource["Type"] == "AWS::CloudWatch::Alarm"
    ]
    assert alarms, "the plain alarms stay"
    assert all("Metrics" not in alarm for alarm in alarms)
    # Each left-out resource says why, next to it.
    assert "WorkerScalableTarget" in applied.left_out
    assert "ApplicationAutoScaling" in applied.left_out["WorkerScalableTarget"]
    assert "metric-math" in applied.left_out["WorkerBacklogAlarm"]
    # The rest of the stack is all there.
    kept = set(transformed["Resources"]) - set(applied.left_out)
    assert kept == set(applied.template["Resources"])
    assert {"WorkerService", "JobsTable", "HighQueue", "ApiFunction"} <= kept


def test_nothing_left_refers_to_what_was_left_out(transformed: Template) -> None:
    applied = apply_gaps(transformed, MINISTACK_KIND, PARAMETERS)
    sections = [*applied.template["Resources"].values(), *applied.template["Outputs"].values()]
    for section in sections:
        assert not set(references(section)) & set(applied.left_out)
        depends = section.get("DependsOn", [])
        assert not set([depends] if isinstance(depends, str) else depends) & set(applied.left_out)


def test_a_dependent_of_a_left_out_resource_goes_too_with_its_reason() -> None:
    template: Template = {
        "Resources": {
            "Target": {"Type": "AWS::ApplicationAutoScaling::ScalableTarget"},
            "Policy": {
                "Type": "AWS::SNS::Topic",
                "Properties": {"DisplayName": {"Fn::Sub": "for ${Target}"}},
            },
            "Waits": {"Type": "AWS::SQS::Queue", "DependsOn": ["Target"]},
        },
        "Outputs": {"TargetId": {"Value": {"Ref": "Target"}}, "Kept": {"Value": "x"}},
    }
    applied = apply_gaps(template, MINISTACK_KIND, {})
    assert set(applied.left_out) == {"Target", "Policy"}
    assert applied.left_out["Policy"] == "refers to Target, left out"
    # A DependsOn alone only orders creation: the resource stays, without it.
    assert applied.template["Resources"]["Waits"]["DependsOn"] == []
    assert list(applied.template["Outputs"]) == ["Kept"]


def test_ministack_gets_a_numeric_desired_count_and_disabled_schedules(
    transformed: Template,
) -> None:
    applied = apply_gaps(transformed, MINISTACK_KIND, PARAMETERS)
    resources = applied.template["Resources"]
    assert resources["WorkerService"]["Properties"]["DesiredCount"] == 2
    schedules = [r for r in resources.values() if r["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 3
    assert {schedule["Properties"]["State"] for schedule in schedules} == {"DISABLED"}
    assert "fires" in applied.adapted["SchedulerFunctionCleanupTempFiles"]
    # The template for AWS is untouched: its schedules are on and its count a reference.
    original = transformed["Resources"]
    assert original["WorkerService"]["Properties"]["DesiredCount"] == {"Ref": "WorkerDesiredCount"}
    assert "State" not in original["SchedulerFunctionCleanupTempFiles"]["Properties"]


def test_the_desired_count_falls_back_to_the_parameters_default(transformed: Template) -> None:
    applied = apply_gaps(transformed, MINISTACK_KIND, {"Stage": "local"})
    default = int(transformed["Parameters"]["WorkerDesiredCount"]["Default"])
    assert applied.template["Resources"]["WorkerService"]["Properties"]["DesiredCount"] == default


@pytest.mark.parametrize("kind", KINDS.values(), ids=list(KINDS))
def test_each_emulator_has_one_source_of_schedule_firing(
    kind: EmulatorKind, transformed: Template
) -> None:
    schedules = apply_gaps(transformed, kind, PARAMETERS).template["Resources"]
    states = {
        resource["Properties"].get("State", "ENABLED")
        for resource in schedules.values()
        if resource["Type"] == "AWS::Scheduler::Schedule"
    }
    if kind.schedule_firing == "schedule runner" and kind.own_scheduler_fires:
        assert states == {"DISABLED"}, "the emulator would fire them as well"
    elif kind.schedule_firing == "emulator":
        assert states == {"ENABLED"}
