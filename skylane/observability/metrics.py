"""Job metrics as CloudWatch embedded metric format (EMF) lines: no PutMetricData calls.

One JSON line per call on the real stdout, flushed at once (per job on a long-running worker,
never shared by concurrent requests); Lambda and CloudWatch Logs turn them into metrics. The
dimensions are task and queue only: a dozen series, never one per job or user.
"""

import json
import os
import sys
from collections.abc import Mapping
from enum import StrEnum
from typing import TextIO

DEFAULT_NAMESPACE = "skylane"


class Metric(StrEnum):
    JOBS_SUBMITTED = "JobsSubmitted"
    JOBS_SUCCEEDED = "JobsSucceeded"
    JOBS_FAILED = "JobsFailed"
    JOBS_RETRIED = "JobsRetried"
    JOB_DURATION = "JobDuration"
    QUEUE_WAIT_TIME = "QueueWaitTime"


# Counts are Count; times are Milliseconds.
_TIMES = {Metric.JOB_DURATION, Metric.QUEUE_WAIT_TIME}


def emit(
    values: Mapping[Metric, float], *, task: str, queue: str, stream: TextIO | None = None
) -> None:
    """Write one EMF line with `values` under the dimensions task and queue."""
    # Imported here: the API's cold start (/health, status reads) does not pay for it.
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

    metrics = EphemeralMetrics(
        namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_NAMESPACE
    )
    metrics.add_dimension(name="task", value=task)
    metrics.add_dimension(name="queue", value=queue)
    for name, value in values.items():
        unit = MetricUnit.Milliseconds if name in _TIMES else MetricUnit.Count
        metrics.add_metric(name=name.value, unit=unit, value=value)
    line = json.dumps(metrics.serialize_metric_set(), separators=(",", ":"))
    # The real stdout: a Celery worker redirects sys.stdout into its logger, which would wrap
    # the EMF document in a log record that CloudWatch no longer recognises.
    out = stream or sys.__stdout__ or sys.stdout
    out.write(line + "\n")
    out.flush()
