"""moto's in-process CloudWatch Logs for unit tests: log groups made, lines put in them."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import boto3

from skylane.observability.log_search import to_millis

REGION = "us-east-1"
# The one stream each group gets: which stream a line is in matters to none of these tests.
STREAM = "s"


def logs_client() -> Any:
    """A CloudWatch Logs client of moto's mock (call it inside ``mock_aws``, or with the
    ``aws`` fixture); its own test credentials let it work without the fixture's environment."""
    return boto3.client(
        "logs",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def make_log_groups(logs: Any, groups: Iterable[str], stream: str | None = STREAM) -> Any:
    """Create the groups, each with ``stream`` unless it is None; returns the client."""
    for group in groups:
        logs.create_log_group(logGroupName=group)
        if stream is not None:
            logs.create_log_stream(logGroupName=group, logStreamName=stream)
    return logs


def put_lines(logs: Any, group: str, *lines: tuple[datetime, str]) -> None:
    """Put (time, text) lines in the group's stream, as a child's shipped lines would be."""
    logs.put_log_events(
        logGroupName=group,
        logStreamName=STREAM,
        logEvents=[{"timestamp": to_millis(at), "message": text} for at, text in lines],
    )
