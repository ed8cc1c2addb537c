"""The API's schedule permissions, as the template grants them: its own group, its own role.

moto authorizes Scheduler calls against "*" and never checks iam:PassRole (the README's
security section), so the scoping is held here, on the template itself.
"""

from typing import Any

from infra.template import load_template

GROUP_SCHEDULES = (
    "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:"
    "schedule/${AWS::StackName}-schedules/*"
)


def api_statements() -> list[dict[str, Any]]:
    policies = load_template()["Resources"]["ApiFunction"]["Properties"]["Policies"]
    return [
        statement
        for policy in policies
        if "Statement" in policy
        for statement in policy["Statement"]
    ]


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def test_the_api_writes_schedules_only_in_the_stacks_group() -> None:
    template = load_template()["Resources"]
    group = template["ScheduleGroup"]["Properties"]["Name"]
    assert group == {"Fn::Sub": "${AWS::StackName}-schedules"}
    writes = [s for s in api_statements() if any(a.startswith("scheduler:") for a in actions(s))]
    by_sid = {statement["Sid"]: statement for statement in writes}
    assert set(actions(by_sid["RuntimeSchedules"])) == {
        "scheduler:CreateSchedule",
        "scheduler:GetSchedule",
        "scheduler:UpdateSchedule",
        "scheduler:DeleteSchedule",
    }
    assert by_sid["RuntimeSchedules"]["Resource"] == {"Fn::Sub": GROUP_SCHEDULES}
    # Only these: no group management, no tagging, nothing in another group but reading.
    assert set(by_sid) == {"RuntimeSchedules", "ListRuntimeSchedules", "ReadTemplateSchedules"}
    assert actions(by_sid["ListRuntimeSchedules"]) == ["scheduler:ListSchedules"]
    assert actions(by_sid["ReadTemplateSchedules"]) == ["scheduler:GetSchedule"]


def test_the_api_passes_only_the_schedulers_invoke_role_and_only_to_scheduler() -> None:
    passes = [s for s in api_statements() if "iam:PassRole" in actions(s)]
    assert len(passes) == 1
    assert passes[0]["Resource"] == {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]}
    assert passes[0]["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }


def test_the_invoke_role_may_only_invoke_the_scheduler_function() -> None:
    role = load_template()["Resources"]["SchedulerInvokeRole"]["Properties"]
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "scheduler.amazonaws.com"}]
    statements = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert {(s["Action"], str(s["Resource"])) for s in statements} == {
        ("lambda:InvokeFunction", str({"Fn::GetAtt": ["SchedulerFunction", "Arn"]})),
        ("sqs:SendMessage", str({"Fn::GetAtt": ["ScheduleDeadLetterQueue", "Arn"]})),
    }
