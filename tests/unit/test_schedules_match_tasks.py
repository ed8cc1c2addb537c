"""Every schedule in the template names a task the worker registers, and vice versa."""

import importlib
import json
import sys
from pathlib import Path
from typing import Any

from cfn_tools import load_yaml

from skylane.broker.celery_app import get_celery_app
from skylane.jobs.contracts import TASKS

TEMPLATE = Path(__file__).parents[2] / "template.yaml"


def scheduled_task_names() -> list[str]:
    template = load_yaml(TEMPLATE.read_text())
    events = template["Resources"]["SchedulerFunction"]["Properties"]["Events"]
    return [
        json.loads(event["Properties"]["Input"])["task"]
        for event in events.values()
        if event["Type"] in ("ScheduleV2", "Schedule")
    ]


def test_every_schedule_names_a_task_the_worker_registers(aws: dict[str, Any]) -> None:
    # Imported afresh so the tasks register on this test's Celery app.
    sys.modules.pop("functions.tasks.celery_tasks", None)
    importlib.import_module("functions.tasks.celery_tasks")
    registered = set(get_celery_app().tasks)
    for name in scheduled_task_names():
        assert name in registered, f"{name} is scheduled but no worker task has that name"
        assert TASKS[name].periodic


def test_every_periodic_task_has_exactly_one_schedule() -> None:
    periodic = sorted(name for name, spec in TASKS.items() if spec.periodic)
    assert sorted(scheduled_task_names()) == periodic
