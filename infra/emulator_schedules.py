"""Which of the template's Scheduler schedules the emulator's CloudFormation made itself.

MiniStack's CloudFormation makes them, under SAM's ``<Function><Event>`` resource and a name of
its own; moto's records that resource but makes no schedule. Local setup must not make a second
copy of one that exists, and the local runner must deliver it under the name it exists by.
"""

from collections.abc import Mapping
from typing import Any

from botocore.exceptions import ClientError

from infra.schedules import SCHEDULER_EVENT, ScheduleDefinition


def made_by_the_emulator(
    scheduler: Any, physical_ids: Mapping[str, str], schedule: ScheduleDefinition
) -> str | None:
    """The name of the schedule the emulator's CloudFormation made for ``schedule``, or None."""
    name = physical_ids.get(f"{schedule.function}{schedule.name}")
    if schedule.event_type != SCHEDULER_EVENT or not name:
        return None
    try:
        scheduler.get_schedule(Name=name, GroupName=schedule.group)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise
    return name
