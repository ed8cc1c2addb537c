"""/schedules through the Lambda handler, on moto's in-process Scheduler and DynamoDB."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from functions.api.schedule_schemas import NOT_SCHEDULABLE, TASK_KWARGS
from skylane.jobs.contracts import TASKS
from tests.unit.conftest import REGION
from tests.unit.conftest import SCHEDULE_GROUP as GROUP
from tests.unit.conftest import SCHEDULER_FUNCTION_ARN as FUNCTION_ARN
from tests.unit.conftest import SCHEDULER_INVOKE_ROLE_ARN as ROLE_ARN
from tests.unit.functions.api.conftest import Invoke


@pytest.fixture
def scheduler(aws: dict[str, Any]) -> Any:
    return boto3.client("scheduler", region_name=REGION)


def create(invoke: Invoke, **fields: Any) -> Any:
    body = {"name": "nightly", "task": "skylane.sync_data", "expression": "cron(0 3 * * ? *)"}
    return invoke("POST", "/schedules", {**body, **fields})


def test_every_task_has_its_kwargs_checked() -> None:
    assert set(TASK_KWARGS) | NOT_SCHEDULABLE == set(TASKS)
    assert not set(TASK_KWARGS) & NOT_SCHEDULABLE


def test_a_schedule_is_created_in_the_stacks_group_delivering_the_templates_payload(
    invoke: Invoke, scheduler: Any
) -> None:
    answer = create(invoke, timezone="Europe/Paris", overlap="skip")
    assert answer.status == 201, answer.body
    assert answer.body["state"] == "ENABLED"
    assert answer.body["read_only"] is False
    # 03:00 in Paris is 02:00 UTC in winter.
    assert answer.body["next_runs"][0].endswith("T02:00:00Z")
    stored = scheduler.get_schedule(Name="nightly", GroupName=GROUP)
    assert stored["Target"]["Arn"] == FUNCTION_ARN
    assert stored["Target"]["RoleArn"] == ROLE_ARN
    payload = json.loads(stored["Target"]["Input"])
    assert payload == {
        "task": "skylane.sync_data",
        "kwargs": {},
        "overlap": "skip",
        "execution_id": "<aws.scheduler.execution-id>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "schedule": "<aws.scheduler.schedule-arn>",
    }


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("cron(0 3 * * * *)", "day-of-month and day-of-week must be"),
        ("cron(61 * * * ? *)", "61"),
        ("rate(0 minutes)", "rate"),
        ("every day", "expected rate"),
        ("at(2020-01-01T00:00:00)", "in the past"),
    ],
)
def test_an_expression_eventbridge_refuses_is_a_422_that_says_why(
    invoke: Invoke, scheduler: Any, expression: str, reason: str
) -> None:
    answer = create(invoke, expression=expression)
    assert answer.status == 422, answer.body
    assert reason in json.dumps(answer.body)
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_unknown_tasks_and_bad_kwargs_are_422s(invoke: Invoke, scheduler: Any) -> None:
    unknown = create(invoke, task="skylane.mine_bitcoin")
    assert unknown.status == 422
    assert "unknown task 'skylane.mine_bitcoin'" in json.dumps(unknown.body)
    bad = create(invoke, task="skylane.send_email", kwargs={"email": "nope", "subject": "s"})
    assert bad.status == 422
    fields = {tuple(error["loc"]) for error in bad.body["detail"]}
    assert ("body", "kwargs", "email") in fields
    assert ("body", "kwargs", "body") in fields
    assert scheduler.list_schedules(GroupName=GROUP)["Schedules"] == []


def test_pause_resume_patch_and_delete(invoke: Invoke, scheduler: Any) -> None:
    assert create(invoke).status == 201
    paused = invoke("POST", "/schedules/nightly/pause")
    assert paused.body["state"] == "DISABLED"
    assert paused.body["next_runs"] == []
    assert scheduler.get_schedule(Name="nightly", GroupName=GROUP)["State"] == "DISABLED"
    resumed = invoke("POST", "/schedules/nightly/resume")
    assert resumed.body["state"] == "ENABLED"
    patched = invoke("PATCH", "/schedules/nightly", {"expression": "rate(5 minutes)"})
    assert patched.status == 200, patched.body
    assert patched.body["expression"] == "rate(5 minutes)"
    assert patched.body["task"] == "skylane.sync_data"
    refused = invoke("PATCH", "/schedules/nightly", {"expression": "rate(5 fortnights)"})
    assert refused.status == 422
    assert invoke("DELETE", "/schedules/nightly").status == 204
    assert invoke("GET", "/schedules/nightly").status == 404


def test_an_at_schedule_deletes_itself_after_its_run(invoke: Invoke, scheduler: Any) -> None:
    when = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S")
    answer = create(invoke, name="once", expression=f"at({when})")
    assert answer.status == 201, answer.body
    assert answer.body["one_off"] is True
    stored = scheduler.get_schedule(Name="once", GroupName=GROUP)
    assert stored["ActionAfterCompletion"] == "DELETE"


def test_fire_runs_now_and_skip_drops_a_run_while_the_previous_is_queued(
    invoke: Invoke, scheduler: Any
) -> None:
    assert create(invoke, overlap="skip").status == 201
    first = invoke("POST", "/schedules/nightly/fire")
    assert first.status == 200, first.body
    assert first.body["started"] is True
    # Nothing consumes the queue here: the first run is still queued.
    second = invoke("POST", "/schedules/nightly/fire")
    assert second.body["started"] is False
    assert second.body["skipped_for"] == first.body["job_id"]
    detail = invoke("GET", "/schedules/nightly")
    assert detail.body["run_count"] == 1
    assert [run["job_id"] for run in detail.body["runs"]] == [first.body["job_id"]]
    job = invoke("GET", f"/jobs/{first.body['job_id']}?logs=false")
    assert job.body["schedule"] == "nightly"


def test_allow_lets_runs_overlap(invoke: Invoke, scheduler: Any) -> None:
    assert create(invoke).status == 201
    runs = [invoke("POST", "/schedules/nightly/fire").body for _ in range(2)]
    assert [run["started"] for run in runs] == [True, True]
    assert invoke("GET", "/schedules/nightly").body["run_count"] == 2


def test_buffer_one_holds_a_run_shows_it_and_a_cancel_releases_it(
    invoke: Invoke, scheduler: Any
) -> None:
    assert create(invoke, overlap="buffer_one").status == 201
    first = invoke("POST", "/schedules/nightly/fire").body
    held = invoke("POST", "/schedules/nightly/fire").body
    dropped = invoke("POST", "/schedules/nightly/fire").body
    assert held == {
        "schedule": "nightly",
        "job_id": held["job_id"],
        "started": False,
        "skipped_for": None,
        "held_for": first["job_id"],
    }
    assert (dropped["started"], dropped["skipped_for"]) == (False, first["job_id"])
    shown = invoke("GET", "/schedules/nightly").body
    assert shown["overlap"] == "buffer_one"
    assert shown["held"]["job_id"] == held["job_id"]
    assert shown["held"]["behind"] == first["job_id"]
    assert shown["run_count"] == 1

    # Cancelling the going run is a final state too: the held one starts.
    assert invoke("POST", f"/job/{first['job_id']}/cancel").status == 200
    shown = invoke("GET", "/schedules/nightly").body
    assert shown["held"] is None
    assert [run["job_id"] for run in shown["runs"]] == [held["job_id"], first["job_id"]]
    assert invoke("GET", f"/jobs/{held['job_id']}?logs=false").body["schedule"] == "nightly"


def test_the_templates_schedules_show_their_run_count(invoke: Invoke, scheduler: Any) -> None:
    scheduler.create_schedule(
        Name="skylane-test-SyncData",
        GroupName="default",
        ScheduleExpression="cron(0 * * * ? *)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": FUNCTION_ARN,
            "RoleArn": ROLE_ARN,
            "Input": json.dumps({"task": "skylane.sync_data", "kwargs": {}}),
        },
    )
    fired = invoke("POST", "/schedules/skylane-test-SyncData/fire").body
    assert fired["started"] is True
    listed = {s["name"]: s for s in invoke("GET", "/schedules").body["schedules"]}
    template = listed["skylane-test-SyncData"]
    assert (template["read_only"], template["run_count"]) == (True, 1)
    assert template["last_run_at"] is not None
    shown = invoke("GET", "/schedules/skylane-test-SyncData").body
    assert [run["job_id"] for run in shown["runs"]] == [fired["job_id"]]
